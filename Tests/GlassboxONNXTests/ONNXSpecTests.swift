import Foundation
import Testing
import Glassbox
@testable import GlassboxONNX

/// The optional spec of an imported model: what ONNX lacks (names, preprocessing) reaches the
/// model file's metadata.
@Suite("ONNX import: spec extras")
struct ONNXSpecTests {
    @Test func preprocessingIsKeptAndGivesTheNormaliser() throws {
        let json = """
            {"class_names": ["a", "b", "c", "d", "e"],
             "preprocessing": {"resize": 256, "crop": 224, "interpolation": "bilinear", "scale": 255,
                               "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "channels": "RGB"}}
            """
        let spec = try TorchModelSpec.parse(Data(json.utf8), path: "extra.json", architectureRequired: false)
        #expect(spec.classNames?.count == 5)
        #expect(spec.normalizer?.mean == [0.485, 0.456, 0.406])
        let model = try ONNXImport.load(contentsOf: ONNXGoldenTests.fixture("conv.onnx"))
        var withShape = spec
        withShape.inputShape = [3, 11, 10]
        let metadata = try TorchImport.metadata(withShape, model: model, specPath: "extra.json")
        let stored = try #require(metadata["preprocessing"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stored.utf8)) as? [String: Any])
        #expect(object["crop"] as? Int == 224 && object["channels"] as? String == "RGB")
        #expect(metadata["normalizer"]?.contains("0.485") == true)
        #expect(metadata["class_names"] == #"["a","b","c","d","e"]"#)
    }

    @Test func architectureIsRefusedForGraphs() {
        let json = #"{"architecture": {"type": "Sequential"}}"#
        #expect(throws: GlassboxError.self) { try TorchModelSpec.parse(Data(json.utf8), path: "extra.json", architectureRequired: false) }
        #expect(throws: GlassboxError.self) {
            try TorchModelSpec.parse(Data(#"{"preprocessing": 3}"#.utf8), path: "extra.json", architectureRequired: false)
        }
    }
}
