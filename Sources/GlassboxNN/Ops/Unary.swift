import CKernels
import Foundation

/// Elementwise mathematical functions of one tensor.
///
/// Each backward is `dx = g ⊙ f′(x)`, written in terms of the saved output where that is cheaper.
/// Outside a function's domain the result follows IEEE arithmetic, as PyTorch's does: no error is
/// thrown, and a non-finite value can be caught with ``Tensor/checkFinite(_:)``.
/// Cost: one vectorised pass forward and one backward (`log` and `pow` call libm per element).

/// `eˣ`, within 2 ulp (the C kernel `gb_exp`): 0 below −87.34 (where the result would be
/// subnormal), +∞ above 88.72. Backward: `dx = g·y`.
public func exp(_ x: Variable) -> Variable {
    let y = Elementwise.kernel(x.value, gb_exp)
    return Variable.result(y, inputs: [x]) { g in x.accumulate(Elementwise.zip(g, y, Multiply())) }
}

/// Natural logarithm. Backward: `dx = g / x`.
///
/// `log(0) = −∞` (gradient +∞·g) and `log(x < 0) = NaN`, as in IEEE and PyTorch.
public func log(_ x: Variable) -> Variable {
    let xv = x.value
    let y = Elementwise.map(xv, cost: 5, Log())
    return Variable.result(y, inputs: [x]) { g in x.accumulate(Elementwise.zip(g, xv, Divide())) }
}

/// `√x`. Backward: `dx = g / (2y)` (+∞·g at x = 0; NaN for x < 0).
public func sqrt(_ x: Variable) -> Variable {
    let y = Elementwise.map(x.value, cost: 2, SquareRoot())
    return Variable.result(y, inputs: [x]) { g in x.accumulate(Elementwise.zip(g, y, SquareRootGradient())) }
}

/// `x²`. Backward: `dx = 2x·g`.
public func square(_ x: Variable) -> Variable {
    let xv = x.value
    let y = Elementwise.map(xv, Square())
    return Variable.result(y, inputs: [x]) { g in x.accumulate(Elementwise.zip(g, xv, SquareGradient())) }
}

/// `xᵖ` for a constant exponent `p`. Backward: `dx = p·xᵖ⁻¹·g` (0 for `p = 0`).
///
/// Negative `x` with a non-integer `p` gives NaN; `0` with `p < 0` gives +∞ (IEEE `powf`).
public func pow(_ x: Variable, _ p: Float) -> Variable {
    let xv = x.value
    let y = Elementwise.map(xv, cost: 20, Power(p: p))
    return Variable.result(y, inputs: [x]) { g in
        guard p != 0 else { return x.accumulate(Tensor.zeros(xv.shape)) }
        x.accumulate(Elementwise.zip(g, xv, cost: 20, PowerGradient(p: p)))
    }
}

private struct Log: UnaryFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.log(x) }
}
private struct Divide: BinaryFunction {
    @inline(__always) func callAsFunction(_ g: Float, _ x: Float) -> Float { g / x }
}
private struct SquareRoot: UnaryFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x.squareRoot() }
}
private struct SquareRootGradient: BinaryFunction {
    @inline(__always) func callAsFunction(_ g: Float, _ y: Float) -> Float { g / (2 * y) }
}
private struct Square: UnaryFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x * x }
}
private struct SquareGradient: BinaryFunction {
    @inline(__always) func callAsFunction(_ g: Float, _ x: Float) -> Float { 2 * g * x }
}
private struct Power: UnaryFunction {
    let p: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.pow(x, p) }
}
private struct PowerGradient: BinaryFunction {
    let p: Float
    @inline(__always) func callAsFunction(_ g: Float, _ x: Float) -> Float { g * p * Foundation.pow(x, p - 1) }
}
