import Foundation
import Testing
import Glassbox

/// PyTorch interoperability against weights and logits written by PyTorch 1.13
/// (benchmarks/tools/make_torch_interop.py; fixtures in Reference/TorchInterop).
@Suite struct TorchInteropTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Reference/TorchInterop")

    struct Logits: Decodable {
        let input_shape: [Int]
        let inputs: [Float]
        let logits: [[Float]]
    }

    func reference(_ name: String) throws -> Logits {
        try JSONDecoder().decode(Logits.self, from: Data(contentsOf: Self.directory.appendingPathComponent(name + ".logits.json")))
    }

    func spec(_ name: String) throws -> TorchModelSpec {
        try TorchModelSpec.read(from: Self.directory.appendingPathComponent(name + ".spec.json"))
    }

    func weights(_ name: String) -> URL { Self.directory.appendingPathComponent(name + ".safetensors") }

    /// Largest |Glassbox − PyTorch| over all logits.
    func maxError(_ model: any Layer, _ expected: Logits) throws -> Float {
        let output = try model.predict(Tensor(shape: expected.input_shape, scalars: expected.inputs))
        let flat = expected.logits.flatMap { $0 }
        #expect(output.shape == [expected.logits.count, expected.logits[0].count])
        return zip(output.scalars, flat).map { abs($0 - $1) }.max() ?? .infinity
    }

    @Test(arguments: ["mlp", "mlp_f16", "mlp_bf16", "mlp_f64"])
    func mlpLogitsMatchPyTorch(variant: String) throws {
        let spec = try spec("mlp")
        let model = try TorchStateDict.load(spec: spec.architecture, weightsAt: weights(variant))
        #expect(try maxError(model, reference(variant)) <= 1e-5)
    }

    @Test func cnnLogitsMatchPyTorch() throws {
        let spec = try spec("cnn")
        let result = try TorchImport.load(spec: spec, specPath: "cnn.spec.json", weights: weights("cnn"))
        #expect(try maxError(result.model, reference("cnn")) <= 1e-5)
        #expect(result.outputs == 3)
        // Nested Sequentials with named children; parameter-free layers keep their index.
        #expect(result.entries.map(\.torchName) == [
            "features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias", "features.1.running_mean",
            "features.1.running_var", "features.1.num_batches_tracked", "features.4.weight", "features.4.bias",
            "classifier.1.weight", "classifier.1.bias",
        ])
        #expect(result.metadata["normalizer"] != nil && result.metadata["class_names"] == #"["circle","square","cross"]"#)
    }

    /// The imported file loads through the ordinary loaders and gives the same logits.
    @Test func importedFilesLoadEverywhere() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("glassbox-torch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let mlpOut = directory.appendingPathComponent("mlp.safetensors")
        try TorchImport.convert(spec: Self.directory.appendingPathComponent("mlp.spec.json"), weights: weights("mlp"), to: mlpOut)
        let bundle = try ExplainableModel.load(from: mlpOut)
        #expect(bundle.featureNames == ["age", "dose", "weight", "height", "score"])
        #expect(bundle.classNames == ["low", "medium", "high"])
        #expect(try maxError(bundle.model, reference("mlp")) <= 1e-5)

        let cnnOut = directory.appendingPathComponent("cnn.safetensors")
        try TorchImport.convert(spec: Self.directory.appendingPathComponent("cnn.spec.json"), weights: weights("cnn"), to: cnnOut)
        let (net, normalizer, classes) = try ImageModelFile.load(from: cnnOut)
        #expect(normalizer.mean == [0.5] && normalizer.std == [0.25] && classes == ["circle", "square", "cross"])
        #expect(try maxError(net, reference("cnn")) <= 1e-5)
    }

    /// The inverse mapping writes PyTorch's names and shapes; reading them back is lossless.
    @Test func stateDictRoundTrip() throws {
        let spec = try spec("cnn").architecture
        let model = try TorchStateDict.load(spec: spec, weightsAt: weights("cnn"))
        let file = try TorchStateDict.stateDict(of: model, spec: spec)
        let original = try SafeTensorsFile.read(from: weights("cnn"))
        #expect(Set(file.tensors.keys) == Set(original.tensors.keys))
        for (name, tensor) in original.tensors { #expect(file.tensors[name] == tensor, "\(name)") }
        let again = try TorchStateDict.load(spec: spec, data: file.encoded(), path: "again")
        #expect(try maxError(again, reference("cnn")) == maxError(model, reference("cnn")))
    }

    // MARK: errors name the tensor and the file

    func expectError(_ file: SafeTensorsFile, spec: LayerSpec, dtypes: [String: String] = [:], prefix: String = "",
                     containing parts: [String]) throws {
        let model = try LayerRegistry.build(spec)
        do {
            try TorchStateDict.assign(file, dtypes: dtypes, to: model, spec: spec, path: "weights.safetensors", prefix: prefix)
            Issue.record("expected an error containing \(parts)")
        } catch {
            let text = "\(error)"
            for part in parts { #expect(text.contains(part), "\(text)") }
        }
    }

    @Test func missingUnexpectedAndMisshapenTensorsAreReported() throws {
        let spec = try spec("cnn").architecture
        var file = try SafeTensorsFile.read(from: weights("cnn"))
        file.tensors["features.4.bias"] = nil
        file.order.removeAll { $0 == "features.4.bias" }
        file.set("features.2.weight", Tensor(repeating: 1, shape: [4]))
        file.set("classifier.1.weight", Tensor(repeating: 0, shape: [24, 3]))
        try expectError(file, spec: spec, containing: [
            "weights.safetensors", "3 problems",
            "tensor 'features.4.bias': missing from the file (expected shape [6])",
            "tensor 'features.2.weight': not a parameter or buffer",
            "tensor 'classifier.1.weight': shape [24, 3] does not match the architecture's [3, 24]", "transposed",
        ])
    }

    @Test func integerParametersAndNonFiniteValuesAreRefused() throws {
        let spec = try spec("mlp").architecture
        var file = try SafeTensorsFile.read(from: weights("mlp"))
        try expectError(file, spec: spec, dtypes: ["0.weight": "I64"], containing: ["tensor '0.weight': dtype I64 is not a floating-point type"])
        file.set("5.bias", Tensor([1, .infinity, 0]))
        try expectError(file, spec: spec, containing: ["tensor '5.bias': contains NaN or infinite values"])
    }

    @Test func wrapperPrefixIsSuggestedAndStripped() throws {
        let spec = try spec("mlp").architecture
        let plain = try SafeTensorsFile.read(from: weights("mlp"))
        var wrapped = SafeTensorsFile()
        for name in plain.order { wrapped.set("net." + name, plain.tensors[name]!) }
        try expectError(wrapped, spec: spec, containing: ["--prefix net."])
        let model = try TorchStateDict.load(spec: spec, data: wrapped.encoded(), path: "wrapped", prefix: "net.")
        #expect(try maxError(model, reference("mlp")) <= 1e-5)
    }

    @Test func specErrorsNameTheKey() throws {
        func expectSpecError(_ json: String, _ part: String) {
            do {
                let spec = try TorchModelSpec.parse(Data(json.utf8), path: "arch.json")
                _ = try TorchStateDict.entries(of: LayerRegistry.build(spec.architecture), spec: spec.architecture)
                Issue.record("expected an error for \(json)")
            } catch { #expect("\(error)".contains(part), "\(error)") }
        }
        expectSpecError(#"{"architecture": {"type": "Linear", "in_features": 2, "out_features": 1}, "class_name": []}"#,
                        "arch.json: key 'class_name': unknown key")
        expectSpecError(#"{"input_shape": [3]}"#, "missing key 'architecture'")
        expectSpecError(#"{"type": "Sequential", "layers": [{"type": "Conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": 3, "paddding": 1}]}"#,
                        "0 (Conv2d): unknown attribute 'paddding'")
        expectSpecError(#"{"type": "Sequential", "names": ["a"], "layers": [{"type": "ReLU"}, {"type": "ReLU"}]}"#,
                        "\"names\" has 1 entries for 2 layers")
        expectSpecError(#"{"architecture": {"type": "ReLU"}, "input_shape": [0]}"#, "key 'input_shape'")
        // PyTorch's `inplace` cannot change a result: accepted and ignored.
        let relu = try TorchModelSpec.parse(Data(#"{"type": "Sequential", "layers": [{"type": "ReLU", "inplace": true}]}"#.utf8), path: "arch.json")
        #expect(try TorchStateDict.entries(of: LayerRegistry.build(relu.architecture), spec: relu.architecture).isEmpty)
    }

    @Test func forwardCheckReportsArchitectureMismatch() throws {
        var spec = try spec("cnn")
        spec.inputShape = [1, 10, 10]  // the classifier expects 24 = 6·2·2 features, this gives 6·3·3
        do {
            _ = try TorchImport.load(spec: spec, specPath: "cnn.spec.json", weights: weights("cnn"))
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("cnn.spec.json: architecture: a forward pass of one input of shape [1, 10, 10]"), "\(error)")
        }
    }
}
