/// ONNX's binary arithmetic with NumPy broadcasting: `Add`, `Sub`, `Mul`, `Div`.
///
/// Float operands go through the autograd ops (backward sums the gradient over broadcast axes).
/// When both operands hold integers (shape arithmetic) the result is an integer tensor, and
/// `Div` truncates toward zero as ONNX's integer division does.
/// Cost: one pass over the broadcast shape.
public class BinaryGraphOp {
    public let node: GraphNode
    /// Whether both operands are computed activations rather than weights or constants (a
    /// residual join when the op is `Add`); set by ``GraphModel``.
    public internal(set) var joinsActivations = false
    public required init(node: GraphNode, opset: Int) throws {
        guard node.inputs.count == 2 else { throw GlassboxError.invalidArgument("needs 2 inputs, has \(node.inputs.count)") }
        self.node = node
    }
}

extension GraphOp where Self: BinaryGraphOp {
    func binary(_ inputs: [GraphValue?], _ f: (Variable, Variable) throws -> Variable) throws -> [GraphValue] {
        let a = try required(inputs, 0, "A"), b = try required(inputs, 1, "B")
        return [GraphValue(try f(a.variable, b.variable), isInteger: a.isInteger && b.isInteger)]
    }
}

/// `A + B` (broadcasting).
public final class AddOp: BinaryGraphOp, GraphOp {
    public static let opType = "Add"
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] { try binary(inputs, add) }
}

/// `A − B` (broadcasting).
public final class SubOp: BinaryGraphOp, GraphOp {
    public static let opType = "Sub"
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] { try binary(inputs, sub) }
}

/// `A ⊙ B` (broadcasting).
public final class MulOp: BinaryGraphOp, GraphOp {
    public static let opType = "Mul"
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] { try binary(inputs, mul) }
}

/// `A ⊘ B` (broadcasting); integer operands divide with truncation toward zero.
public final class DivOp: BinaryGraphOp, GraphOp {
    public static let opType = "Div"
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let a = try required(inputs, 0, "A"), b = try required(inputs, 1, "B")
        if a.isInteger && b.isInteger {
            guard !b.variable.value.scalars.contains(0) else { throw GlassboxError.invalidArgument("integer division by zero") }
            let q = try Broadcast.apply(a.variable.value, b.variable.value) { ($0 / $1).rounded(.towardZero) }
            return [GraphValue(Variable(q), isInteger: true)]
        }
        return try binary(inputs, div)
    }
}
