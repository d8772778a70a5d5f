import Foundation

/// A value of a graph node's attribute (ONNX's `AttributeProto`, restricted to what ops read).
public enum GraphAttribute: Codable, Equatable, Sendable {
    case int(Int)
    case float(Double)
    case ints([Int])
    case floats([Double])
    case string(String)
    /// A small constant tensor (`Constant`'s `value`, `ConstantOfShape`'s fill): shape, values,
    /// and whether the values are integers.
    case tensor(shape: [Int], values: [Double], integer: Bool)

    private enum Key: String, CodingKey { case i, f, ints, floats, s, shape, values, integer }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        if let v = try c.decodeIfPresent(Int.self, forKey: .i) { self = .int(v) }
        else if let v = try c.decodeIfPresent(Double.self, forKey: .f) { self = .float(v) }
        else if let v = try c.decodeIfPresent([Int].self, forKey: .ints) { self = .ints(v) }
        else if let v = try c.decodeIfPresent([Double].self, forKey: .floats) { self = .floats(v) }
        else if let v = try c.decodeIfPresent(String.self, forKey: .s) { self = .string(v) }
        else if let shape = try c.decodeIfPresent([Int].self, forKey: .shape) {
            self = .tensor(shape: shape, values: try c.decode([Double].self, forKey: .values),
                           integer: try c.decodeIfPresent(Bool.self, forKey: .integer) ?? false)
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath,
                                                    debugDescription: "an attribute needs one of i, f, ints, floats, s, shape"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .int(let v): try c.encode(v, forKey: .i)
        case .float(let v): try c.encode(v, forKey: .f)
        case .ints(let v): try c.encode(v, forKey: .ints)
        case .floats(let v): try c.encode(v, forKey: .floats)
        case .string(let v): try c.encode(v, forKey: .s)
        case .tensor(let shape, let values, let integer):
            try c.encode(shape, forKey: .shape)
            try c.encode(values, forKey: .values)
            if integer { try c.encode(true, forKey: .integer) }
        }
    }
}

/// One op application: `outputs = op(inputs; attributes)`. Input names may be empty (an
/// omitted optional input, as ONNX writes it).
public struct GraphNode: Codable, Equatable, Sendable {
    /// The node's name (unique in the graph after loading; used as its path in hooks and errors).
    public var name: String
    /// The op type (ONNX's names: `Conv`, `Relu`, `Gemm`…).
    public var op: String
    /// Input tensor names, in the op's order ("" for an omitted optional input).
    public var inputs: [String]
    /// Output tensor names.
    public var outputs: [String]
    /// Attributes by name.
    public var attributes: [String: GraphAttribute]

    public init(name: String, op: String, inputs: [String], outputs: [String], attributes: [String: GraphAttribute] = [:]) {
        (self.name, self.op, self.inputs, self.outputs, self.attributes) = (name, op, inputs, outputs, attributes)
    }
}

/// A graph input: its name and declared shape (`nil` extents are symbolic, such as the batch).
public struct GraphInput: Codable, Equatable, Sendable {
    public var name: String
    public var shape: [Int?]
    public init(name: String, shape: [Int?]) { (self.name, self.shape) = (name, shape) }
}

/// A model as data: a DAG of ops over named tensors. The weights (initialisers) are not in the
/// description but in the model file's tensors, under the names the nodes read; ``initializers``
/// lists their names and shapes, and which hold integers (shapes, indices: stored as exact floats).
///
/// Stored as JSON in a model file's metadata (inside the ``LayerSpec`` of type `Graph`).
public struct GraphDescription: Codable, Equatable, Sendable {
    /// The graph's inputs (the first is the model's input; the others must be initialisers).
    public var inputs: [GraphInput]
    /// Output names (the first is the model's output).
    public var outputs: [String]
    /// The nodes, in any order (they are sorted topologically when the model is built).
    public var nodes: [GraphNode]
    /// The initialisers (weights and constants), in storage order, with their shapes.
    public var initializers: [GraphTensorInfo]
    /// The default-domain opset the ops follow (attribute-vs-input forms differ between opsets).
    public var opset: Int

    public init(inputs: [GraphInput], outputs: [String], nodes: [GraphNode], initializers: [GraphTensorInfo], opset: Int) {
        (self.inputs, self.outputs, self.nodes, self.initializers, self.opset) = (inputs, outputs, nodes, initializers, opset)
    }

    /// The JSON text (sorted keys: stable across runs).
    public func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Parses the JSON text.
    public static func parse(json: String) throws -> GraphDescription {
        do { return try JSONDecoder().decode(GraphDescription.self, from: Data(json.utf8)) } catch let error as DecodingError {
            throw GlassboxError.invalidArgument("graph JSON: \(LayerSpec.describe(error))")
        }
    }
}

/// An initialiser's name, shape and whether it holds integers.
public struct GraphTensorInfo: Codable, Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var integer: Bool
    public init(name: String, shape: [Int], integer: Bool = false) { (self.name, self.shape, self.integer) = (name, shape, integer) }
}
