import Foundation

/// A tensor flowing through a ``GraphModel``: its value (with the autograd node behind it) and
/// whether it holds integers (shapes, indices, axes: the arithmetic of shape sub-graphs, which
/// ONNX carries in `int64` tensors and Glassbox in exact floats that gradients never touch).
public struct GraphValue {
    public var variable: Variable
    public var isInteger: Bool
    public init(_ variable: Variable, isInteger: Bool = false) { (self.variable, self.isInteger) = (variable, isInteger) }

    /// The values as integers (exact: integer tensors hold integers below 2^24 in magnitude;
    /// larger magnitudes, such as `INT64_MAX` in a Slice end, saturate).
    public var ints: [Int] { variable.value.scalars.map(GraphValue.saturatingInt) }

    static func saturatingInt(_ x: Float) -> Int {
        guard x.isFinite else { return x > 0 ? Int.max : Int.min }
        if x >= 9.2e18 { return Int.max }
        if x <= -9.2e18 { return Int.min }
        return Int(x.rounded(.towardZero))
    }

    /// A constant integer tensor.
    public static func integers(_ values: [Int], shape: [Int]? = nil) -> GraphValue {
        GraphValue(Variable(Tensor(uncheckedShape: shape ?? [values.count], scalars: values.map { Float($0) })), isInteger: true)
    }
}

/// One op type of a ``GraphModel`` (ONNX semantics): it parses its node's attributes once, then
/// computes its outputs from its inputs with the autograd ops, so backward, gradient checks and
/// every gradient explainer need nothing more from it.
///
/// Ops are ``Layer``s with no parameters of their own (the graph owns the weights), so hooks,
/// activation recording and ``LayerSite`` see each node by its name.
public protocol GraphOp: Layer {
    /// The ONNX op type this class implements (`Conv`).
    static var opType: String { get }
    /// Parses `node`'s attributes for default-domain opset `opset`; throws naming the problem.
    init(node: GraphNode, opset: Int) throws
    /// The node this op runs.
    var node: GraphNode { get }
    /// Computes the node's outputs. `inputs[i]` is nil for an omitted optional input.
    func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue]
}

extension GraphOp {
    public var spec: LayerSpec { LayerSpec(type: node.op) }

    /// Applies a one-input op to a float tensor (as a plain ``Layer``).
    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        try apply([GraphValue(input)], context: context)[0].variable
    }

    /// Input `i`, or an error naming the op when it is missing.
    func required(_ inputs: [GraphValue?], _ i: Int, _ what: String) throws -> GraphValue {
        guard i < inputs.count, let v = inputs[i] else {
            throw GlassboxError.invalidArgument("input \(i) (\(what)) is required")
        }
        return v
    }

    /// Input `i` if present.
    func optional(_ inputs: [GraphValue?], _ i: Int) -> GraphValue? { i < inputs.count ? inputs[i] : nil }
}

extension GraphNode {
    /// Integer attribute `key`, or `value` when absent.
    public func int(_ key: String, default value: Int) throws -> Int {
        switch attributes[key] {
        case nil: return value
        case .int(let v)?: return v
        default: throw GlassboxError.invalidArgument("attribute '\(key)' must be an integer")
        }
    }

    /// Float attribute `key`, or `value` when absent.
    public func float(_ key: String, default value: Double) throws -> Double {
        switch attributes[key] {
        case nil: return value
        case .float(let v)?: return v
        case .int(let v)?: return Double(v)
        default: throw GlassboxError.invalidArgument("attribute '\(key)' must be a number")
        }
    }

    /// Integer-list attribute `key`, or nil when absent.
    public func ints(_ key: String) throws -> [Int]? {
        switch attributes[key] {
        case nil: return nil
        case .ints(let v)?: return v
        case .int(let v)?: return [v]
        default: throw GlassboxError.invalidArgument("attribute '\(key)' must be a list of integers")
        }
    }

    /// String attribute `key`, or `value` when absent.
    public func string(_ key: String, default value: String) throws -> String {
        switch attributes[key] {
        case nil: return value
        case .string(let v)?: return v
        default: throw GlassboxError.invalidArgument("attribute '\(key)' must be a string")
        }
    }
}

/// Resolves a possibly negative axis against `rank`.
func graphAxis(_ axis: Int, rank: Int) throws -> Int {
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0, a < Swift.max(rank, 1) else {
        throw GlassboxError.invalidArgument("axis \(axis) is out of range for rank \(rank)")
    }
    return a
}

/// A float constant shaped `shape`.
func graphConstant(_ value: Float, shape: [Int]) -> Variable { Variable(Tensor(repeating: value, shape: shape)) }

/// The most values one tensor a graph op creates may hold (2^28, 1 GiB of floats): a bound for
/// shapes that come from the file (ConstantOfShape, Pad) rather than from an input.
let graphMaxValues = 1 << 28

/// Refuses negative extents and shapes of more than ``graphMaxValues`` values.
func graphCheckSize(_ shape: [Int]) throws {
    var total = 1
    for extent in shape {
        guard extent >= 0 else { throw GlassboxError.invalidArgument("negative extent in shape \(shape)") }
        let (product, overflow) = total.multipliedReportingOverflow(by: extent)
        guard !overflow, product <= graphMaxValues else {
            throw GlassboxError.invalidArgument("shape \(shape) holds more than \(graphMaxValues) values")
        }
        total = product
    }
}
