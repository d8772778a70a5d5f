import Foundation
import Testing
@testable import GlassboxNN
@testable import GlassboxONNX

/// The committed graphs of `Fixtures/` (written by benchmarks/tools/make_onnx_fixtures.py, which
/// also ran onnxruntime on a fixed input) give onnxruntime's outputs here.
@Suite("ONNX import against onnxruntime")
struct ONNXGoldenTests {
    struct Golden: Decodable {
        var input_shape: [Int], input: [Float], output_shape: [Int], output: [Float]
    }
    struct Goldens: Decodable { var graphs: [String: Golden] }

    static func fixture(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!
    }

    static let goldens: Goldens = {
        let data = try! Data(contentsOf: fixture("goldens.json"))
        return try! JSONDecoder().decode(Goldens.self, from: data)
    }()

    static let names = ["conv.onnx", "activations.onnx", "pool.onnx", "shape.onnx", "opset11.onnx", "opset10.onnx",
                        "opset21.onnx", "mlp.onnx", "dtypes.onnx"]

    /// max |y − y_ort| / max |y_ort|.
    static func relativeError(_ y: Tensor, _ expected: [Float]) -> Float {
        let scale = max(expected.map(abs).max() ?? 1, 1e-6)
        return zip(y.scalars, expected).map { abs($0 - $1) }.max()! / scale
    }

    /// Each graph, imported and run on the golden input, matches onnxruntime within 1e-4
    /// relative (shape and values).
    @Test(arguments: names)
    func matchesOnnxruntime(_ name: String) throws {
        let golden = try #require(Self.goldens.graphs[name])
        let model = try ONNXImport.load(contentsOf: Self.fixture(name))
        let x = try Tensor(shape: golden.input_shape, scalars: golden.input)
        let y = try model.predict(x)
        #expect(y.shape == golden.output_shape)
        #expect(Self.relativeError(y, golden.output) <= 1e-4, "\(name): relative error \(Self.relativeError(y, golden.output))")
    }

    /// The same graphs survive a round trip through a Glassbox model file (graph JSON in the
    /// metadata, weights as safetensors) with bit-identical outputs.
    @Test(arguments: names)
    func modelFileRoundTrip(_ name: String) throws {
        let golden = try #require(Self.goldens.graphs[name])
        let model = try ONNXImport.load(contentsOf: Self.fixture(name))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("glassbox-onnx-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try ModelFile.save(model, to: url)
        let (loaded, _) = try ModelFile.load(from: url)
        let x = try Tensor(shape: golden.input_shape, scalars: golden.input)
        #expect(try loaded.predict(x) == (try model.predict(x)))
        #expect(loaded is GraphModel)
    }

    /// Batch rows are independent: running each row alone gives the rows of the batched run
    /// (the dynamic batch extent flows through the shape sub-graphs).
    @Test(arguments: ["conv.onnx", "shape.onnx", "mlp.onnx"])
    func rowsAreIndependent(_ name: String) throws {
        let golden = try #require(Self.goldens.graphs[name])
        let model = try ONNXImport.load(contentsOf: Self.fixture(name))
        let x = try Tensor(shape: golden.input_shape, scalars: golden.input)
        let y = try model.predict(x)
        let rows = golden.input_shape[0], inPer = x.count / rows, outPer = y.count / rows
        for r in 0..<rows {
            let xr = try Tensor(shape: [1] + golden.input_shape.dropFirst(), scalars: Array(x.scalars[r * inPer..<(r + 1) * inPer]))
            let yr = try model.predict(xr)
            #expect(yr.scalars.count == outPer)
            #expect(zip(yr.scalars, y.scalars[r * outPer..<(r + 1) * outPer]).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        }
    }

    /// Import folds what it can: BatchNormalization disappears into the preceding Conv, the
    /// Cast of float16 weights and constant shape chains become initialisers.
    @Test func foldsBatchNormAndConstants() throws {
        let conv = try ONNXImport.load(contentsOf: Self.fixture("conv.onnx"))
        #expect(!conv.description.nodes.contains { $0.op == "BatchNormalization" })
        let dtypes = try ONNXImport.load(contentsOf: Self.fixture("dtypes.onnx"))
        #expect(!dtypes.description.nodes.contains { $0.op == "Cast" || $0.op == "Unsqueeze" })
        #expect(dtypes.description.nodes.map(\.op) == ["Conv", "Add", "Mul", "Reshape", "Relu"])
    }
}
