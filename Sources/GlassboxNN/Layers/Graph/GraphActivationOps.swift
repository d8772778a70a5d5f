import Foundation

/// ONNX's activations: `Relu`, `Clip`, `LeakyRelu`, `PRelu`, `Sigmoid`, `HardSigmoid`,
/// `HardSwish`, `Tanh`, `Softmax`, `LogSoftmax`. Each is elementwise (Softmax: along an axis),
/// costs one pass forward and one backward.

/// `y = f(x)` elementwise with derivative `df`, as an autograd op.
func graphElementwise(_ x: Variable, _ f: @escaping (Float) -> Float, derivative df: @escaping (Float) -> Float) -> Variable {
    let xv = x.value
    return Variable.result(xv.map(f), inputs: [x]) { g in x.accumulate(g.zip(xv) { $0 * df($1) }) }
}

/// A one-input op holding its node.
public class UnaryGraphOp {
    public let node: GraphNode
    public required init(node: GraphNode, opset: Int) throws {
        guard !node.inputs.isEmpty, !node.inputs[0].isEmpty else { throw GlassboxError.invalidArgument("needs an input") }
        self.node = node
    }
}

/// `max(x, 0)`.
public final class ReluOp: UnaryGraphOp, GraphOp {
    public static let opType = "Relu"
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        [GraphValue(relu(try required(inputs, 0, "X").variable))]
    }
}

/// `min(max(x, lo), hi)` (ReLU6 is `Clip(0, 6)`). The bounds are attributes before opset 11 and
/// optional inputs from 11 on. Gradient 1 where `lo ≤ x ≤ hi`, else 0.
public final class ClipOp: GraphOp {
    public static let opType = "Clip"
    public let node: GraphNode
    let attributeBounds: (Float, Float)?
    public init(node: GraphNode, opset: Int) throws {
        self.node = node
        attributeBounds = opset < 11
            ? (Float(try node.float("min", default: -Double(Float.greatestFiniteMagnitude))),
               Float(try node.float("max", default: Double(Float.greatestFiniteMagnitude)))) : nil
    }

    /// The bounds this node applies (from attributes or constant inputs).
    public func bounds(_ inputs: [GraphValue?]) throws -> (lo: Float, hi: Float) {
        if let attributeBounds { return attributeBounds }
        func scalar(_ i: Int) throws -> Float? {
            guard let v = optional(inputs, i) else { return nil }
            guard v.variable.value.count == 1 else { throw GlassboxError.invalidArgument("Clip bound \(i) must be a scalar") }
            return v.variable.value.scalars[0]
        }
        return (try scalar(1) ?? -.greatestFiniteMagnitude, try scalar(2) ?? .greatestFiniteMagnitude)
    }

    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let x = try required(inputs, 0, "input")
        let (lo, hi) = try bounds(inputs)
        return [GraphValue(graphElementwise(x.variable, { Swift.min(Swift.max($0, lo), hi) },
                                            derivative: { $0 >= lo && $0 <= hi ? 1 : 0 }), isInteger: x.isInteger)]
    }
}

/// `x ≥ 0 ? x : αx` (α = `alpha`, default 0.01).
public final class LeakyReluOp: UnaryGraphOp, GraphOp {
    public static let opType = "LeakyRelu"
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let alpha = Float(try node.float("alpha", default: 0.01))
        return [GraphValue(graphElementwise(try required(inputs, 0, "X").variable, { $0 >= 0 ? $0 : alpha * $0 },
                                            derivative: { $0 >= 0 ? 1 : alpha }))]
    }
}

/// `x ≥ 0 ? x : slope ⊙ x` with `slope` broadcast (a learned tensor): `relu(x) + slope ⊙ min(x, 0)`.
public final class PReluOp: GraphOp {
    public static let opType = "PRelu"
    public let node: GraphNode
    public init(node: GraphNode, opset: Int) throws { self.node = node }
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let x = try required(inputs, 0, "X").variable, slope = try required(inputs, 1, "slope").variable
        let positive = relu(x)
        return [GraphValue(try add(positive, try mul(slope, try sub(x, positive))))]
    }
}

/// `1 / (1 + e^{−x})`.
public final class SigmoidOp: UnaryGraphOp, GraphOp {
    public static let opType = "Sigmoid"
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        [GraphValue(sigmoid(try required(inputs, 0, "X").variable))]
    }
}

/// `max(0, min(1, αx + β))` (α = 0.2, β = 0.5 by default).
public final class HardSigmoidOp: UnaryGraphOp, GraphOp {
    public static let opType = "HardSigmoid"
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let alpha = Float(try node.float("alpha", default: 0.2)), beta = Float(try node.float("beta", default: 0.5))
        return [GraphValue(graphElementwise(try required(inputs, 0, "X").variable,
                                            { Swift.max(0, Swift.min(1, alpha * $0 + beta)) },
                                            derivative: { let t = alpha * $0 + beta; return t > 0 && t < 1 ? alpha : 0 }))]
    }
}

/// `x · max(0, min(1, x/6 + 1/2))`; derivative 0 below −3, 1 above 3, `x/3 + 1/2` between.
public final class HardSwishOp: UnaryGraphOp, GraphOp {
    public static let opType = "HardSwish"
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        [GraphValue(graphElementwise(try required(inputs, 0, "X").variable,
                                     { $0 * Swift.max(0, Swift.min(1, $0 / 6 + 0.5)) },
                                     derivative: { $0 < -3 ? 0 : ($0 > 3 ? 1 : $0 / 3 + 0.5) }))]
    }
}

/// `tanh(x)`.
public final class TanhOp: UnaryGraphOp, GraphOp {
    public static let opType = "Tanh"
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        [GraphValue(tanh(try required(inputs, 0, "X").variable))]
    }
}

/// Softmax along `axis`: from opset 13 on a single axis (default −1); before, over the input
/// flattened to 2-D at `axis` (default 1), as ONNX defined it then.
func graphSoftmax(_ x: Variable, node: GraphNode, opset: Int, log: Bool) throws -> Variable {
    let rank = x.value.rank
    if opset >= 13 {
        let axis = try graphAxis(try node.int("axis", default: -1), rank: rank)
        return log ? try logSoftmax(x, axis: axis) : try softmax(x, axis: axis)
    }
    let axis = try graphAxis(try node.int("axis", default: 1), rank: rank)
    let rows = x.shape[..<axis].reduce(1, *), columns = x.shape[axis...].reduce(1, *)
    let flat = try reshape(x, [rows, columns])
    return try reshape(log ? try logSoftmax(flat, axis: 1) : try softmax(flat, axis: 1), x.shape)
}

/// `e^{x_i} / Σ_j e^{x_j}` along the axis.
public final class SoftmaxOp: GraphOp {
    public static let opType = "Softmax"
    public let node: GraphNode
    let opset: Int
    public init(node: GraphNode, opset: Int) throws { (self.node, self.opset) = (node, opset) }
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        [GraphValue(try graphSoftmax(try required(inputs, 0, "input").variable, node: node, opset: opset, log: false))]
    }
}

/// `x_i − log Σ_j e^{x_j}` along the axis.
public final class LogSoftmaxOp: GraphOp {
    public static let opType = "LogSoftmax"
    public let node: GraphNode
    let opset: Int
    public init(node: GraphNode, opset: Int) throws { (self.node, self.opset) = (node, opset) }
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        [GraphValue(try graphSoftmax(try required(inputs, 0, "input").variable, node: node, opset: opset, log: true))]
    }
}
