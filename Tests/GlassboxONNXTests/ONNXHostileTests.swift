import Foundation
import Testing
@testable import GlassboxNN
@testable import GlassboxONNX

/// Hostile and unsupported files give one clear error each, naming the file, the place and the
/// problem, without trapping or allocating what the file claims.
@Suite("ONNX import: hostile and unsupported files")
struct ONNXHostileTests {
    /// A model `x [N, 2] → nodes → y` built with the generated protobuf types.
    static func model(nodes: [(op: String, inputs: [String], outputs: [String])], initializers: [Onnx_TensorProto] = [],
                      inputShape: [Int64] = [-1, 2], opset: Int64 = 13, output: String = "y") -> Data {
        var m = Onnx_ModelProto()
        m.irVersion = 8
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.domain = ""
        opsetID.version = opset
        m.opsetImport = [opsetID]
        var g = Onnx_GraphProto()
        g.name = "g"
        var input = Onnx_ValueInfoProto()
        input.name = "x"
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = 1
        tensorType.shape.dim = inputShape.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if d >= 0 { dim.dimValue = d } else { dim.dimParam = "N" }
            return dim
        }
        input.type.tensorType = tensorType
        g.input = [input]
        var out = Onnx_ValueInfoProto()
        out.name = output
        g.output = [out]
        g.node = nodes.enumerated().map { i, n in
            var node = Onnx_NodeProto()
            node.name = "n\(i)"
            node.opType = n.op
            node.input = n.inputs
            node.output = n.outputs
            return node
        }
        g.initializer = initializers
        m.graph = g
        return try! m.serializedData()
    }

    static func floatTensor(_ name: String, dims: [Int64], raw: Data) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dataType = 1
        t.dims = dims
        t.rawData = raw
        return t
    }

    static func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    static func decode(_ data: Data) throws -> GraphModel { try ONNXImport.decode(data, path: "m.onnx", directory: nil) }

    @Test func validSmallModelLoads() throws {
        let data = Self.model(nodes: [("Relu", ["x"], ["h"]), ("Sigmoid", ["h"], ["y"])])
        let y = try Self.decode(data).predict(try Tensor(shape: [1, 2], scalars: [-1, 2]))
        #expect(y.scalars == [0.5, 1 / (1 + Foundation.exp(-2))])
    }

    @Test func cycleIsNamed() {
        let data = Self.model(nodes: [("Relu", ["x"], ["a"]), ("Add", ["a", "c"], ["b"]), ("Relu", ["b"], ["c"]), ("Identity", ["b"], ["y"])])
        let text = Self.message { _ = try Self.decode(data) }
        #expect(text.contains("m.onnx") && text.contains("cycle") && text.contains("'n1'"), "\(text)")
    }

    @Test func danglingInputIsNamed() {
        let data = Self.model(nodes: [("Add", ["x", "ghost"], ["y"])])
        let text = Self.message { _ = try Self.decode(data) }
        #expect(text.contains("node 'n0' (Add) reads tensor 'ghost'"), "\(text)")
    }

    @Test func everyUnsupportedOpIsListedAtOnce() {
        let data = Self.model(nodes: [("Erf", ["x"], ["a"]), ("Relu", ["a"], ["b"]), ("Einsum", ["b"], ["c"]), ("Identity", ["c"], ["y"])], opset: 17)
        let text = Self.message { _ = try Self.decode(data) }
        #expect(text.contains("2 nodes use unsupported ops") && text.contains("'n0' (Erf, opset 17)") && text.contains("'n2' (Einsum, opset 17)"), "\(text)")
    }

    @Test func sizeLieIsRefused() {
        // dims say 1000 floats, the raw data holds 8 bytes.
        let w = Self.floatTensor("w", dims: [1000], raw: Data(count: 8))
        let data = Self.model(nodes: [("Add", ["x", "w"], ["y"])], initializers: [w])
        let text = Self.message { _ = try Self.decode(data) }
        #expect(text.contains("initializer 'w'") && text.contains("need 4000 bytes, the data holds 8"), "\(text)")
    }

    @Test func hugeDimIsRefusedBeforeAllocating() {
        let w = Self.floatTensor("w", dims: [1_000_000_000_000], raw: Data(count: 4))
        let text = Self.message { _ = try Self.decode(Self.model(nodes: [("Add", ["x", "w"], ["y"])], initializers: [w])) }
        #expect(text.contains("initializer 'w'") && text.contains("dims [1000000000000] are too large"), "\(text)")
        let wide = Self.message { _ = try Self.decode(Self.model(nodes: [("Relu", ["x"], ["y"])], inputShape: [1, 1_000_000_000_000])) }
        #expect(wide.contains("graph input 'x'") && wide.contains("out of range"), "\(wide)")
    }

    @Test func millionNodeGraphIsRefused() {
        var m = Onnx_ModelProto()
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.version = 13
        m.opsetImport = [opsetID]
        var node = Onnx_NodeProto()
        node.opType = "Relu"
        node.input = ["x"]
        node.output = ["y"]
        m.graph.node = [Onnx_NodeProto](repeating: node, count: 1_000_000)
        let text = Self.message { _ = try Self.decode(try! m.serializedData()) }
        #expect(text.contains("1000000 nodes; at most 200000"), "\(text)")
    }

    @Test func externalDataIsBoundedOrRefused() throws {
        var w = Onnx_TensorProto()
        w.name = "w"
        w.dataType = 1
        w.dims = [2]
        w.dataLocation = .external
        var location = Onnx_StringStringEntryProto()
        location.key = "location"
        location.value = "weights.bin"
        w.externalData = [location]
        let data = Self.model(nodes: [("Add", ["x", "w"], ["y"])], initializers: [w])
        // From bytes alone: refused, naming the file it would need.
        #expect(Self.message { _ = try Self.decode(data) }.contains("external data ('weights.bin') cannot be read"))
        // Beside the model: read; too short: refused.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glassbox-onnx-ext-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try data.write(to: dir.appendingPathComponent("m.onnx"))
        var bytes = Data()
        for v: Float in [1.5, -2] { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        try bytes.write(to: dir.appendingPathComponent("weights.bin"))
        let model = try ONNXImport.load(contentsOf: dir.appendingPathComponent("m.onnx"))
        #expect(try model.predict(try Tensor(shape: [1, 2], scalars: [1, 1])).scalars == [2.5, -1])
        try bytes.prefix(6).write(to: dir.appendingPathComponent("weights.bin"))
        let short = Self.message { _ = try ONNXImport.load(contentsOf: dir.appendingPathComponent("m.onnx")) }
        #expect(short.contains("holds 6 bytes; the tensor needs 8"), "\(short)")
        // Escaping the directory is refused.
        location.value = "../weights.bin"
        w.externalData = [location]
        let escaping = Self.message { _ = try Self.decode(Self.model(nodes: [("Add", ["x", "w"], ["y"])], initializers: [w])) }
        #expect(escaping.contains("must be a path inside the model's directory") || escaping.contains("cannot be read"), "\(escaping)")
    }

    @Test func garbageAndTruncatedFilesAreRefused() {
        #expect(Self.message { _ = try Self.decode(Data("not a model".utf8)) }.contains("m.onnx"))
        let good = Self.model(nodes: [("Relu", ["x"], ["y"])])
        for cut in stride(from: 1, to: good.count, by: 7) {
            _ = try? Self.decode(good.prefix(cut))  // must not trap
        }
    }

    @Test func unsupportedOpset() {
        let text = Self.message { _ = try Self.decode(Self.model(nodes: [("Relu", ["x"], ["y"])], opset: 99)) }
        #expect(text.contains("opset 99 is not supported"), "\(text)")
    }

    /// Shapes, pads and steps taken from the file are bounded before anything is allocated or
    /// any index arithmetic can overflow.
    @Test func hostileShapeArithmeticIsRefused() throws {
        func run(_ op: String, _ extra: [String: Tensor], inputs: [String], attributes: [String: GraphAttribute] = [:]) -> String {
            let description = GraphDescription(
                inputs: [GraphInput(name: "x", shape: [nil, 2])], outputs: ["y"],
                nodes: [GraphNode(name: "n", op: op, inputs: inputs, outputs: ["y"], attributes: attributes)],
                initializers: extra.map { GraphTensorInfo(name: $0.key, shape: $0.value.shape, integer: true) }, opset: 13)
            return Self.message {
                let model = try GraphModel(description: description, tensors: extra)
                _ = try model.predict(Tensor.zeros([1, 2]))
            }
        }
        let huge = Float(1e12)
        #expect(run("ConstantOfShape", ["s": Tensor([huge, huge])], inputs: ["s"]).contains("more than 268435456 values"))
        #expect(run("Pad", ["p": Tensor([0, -9.3e18, 0, 0])], inputs: ["x", "p"]).contains("out of range"))
        #expect(run("Pad", ["p": Tensor([0, 0, 0, 1e9])], inputs: ["x", "p"]).contains("more than 268435456 values"))
        #expect(run("Reshape", ["s": Tensor([huge, huge, huge])], inputs: ["x", "s"]).contains("node 'n' (Reshape)"))
        let step = run("Slice", ["a": Tensor([0]), "b": Tensor([2]), "c": Tensor([1]), "d": Tensor([9.2e18])], inputs: ["x", "a", "b", "c", "d"])
        #expect(step == "no error", "\(step)")
    }
}
