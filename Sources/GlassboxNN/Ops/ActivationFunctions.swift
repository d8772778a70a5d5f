import CKernels

/// Pointwise activation functions (ReLU is in `ReLU.swift`, GELU in `GELU.swift`).
/// Cost: one vectorised pass forward and one backward; sigmoid and tanh run the C kernels of
/// `gb_pointwise.h` forward (one exponential per element) and reuse the saved output backward.

/// Leaky rectifier: `y = x` for `x > 0`, `slope·x` otherwise (PyTorch's `negative_slope`).
///
/// Backward: `dx = g` where `x > 0`, `slope·g` elsewhere (at 0 the slope side, as PyTorch).
public func leakyRelu(_ x: Variable, slope: Float = 0.01) -> Variable {
    let xv = x.value
    let y = Elementwise.map(xv, LeakyRectifier(slope: slope))
    return Variable.result(y, inputs: [x]) { g in
        x.accumulate(Elementwise.zip(g, xv, LeakyRectifierGradient(slope: slope)))
    }
}

/// Logistic sigmoid `σ(x) = 1 / (1 + e⁻ˣ)`. Backward: `dx = g·y·(1 − y)`.
///
/// Evaluated from `e^{−|x|}` (as `eˣ / (1 + eˣ)` for negative `x`), so no intermediate
/// overflows: the result saturates cleanly to 0 or 1 for large |x| instead of producing NaN.
public func sigmoid(_ x: Variable) -> Variable {
    let y = Elementwise.kernel(x.value, gb_sigmoid)
    return Variable.result(y, inputs: [x]) { g in x.accumulate(Elementwise.zip(g, y, SigmoidGradient())) }
}

/// Hyperbolic tangent (within a few ulp). Backward: `dx = g·(1 − y²)`.
public func tanh(_ x: Variable) -> Variable {
    let y = Elementwise.kernel(x.value, gb_tanh)
    return Variable.result(y, inputs: [x]) { g in x.accumulate(Elementwise.zip(g, y, TanhGradient())) }
}

private struct LeakyRectifier: UnaryFunction {
    let slope: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x > 0 ? x : slope * x }
}
private struct LeakyRectifierGradient: BinaryFunction {
    let slope: Float
    @inline(__always) func callAsFunction(_ g: Float, _ x: Float) -> Float { x > 0 ? g : slope * g }
}

private struct SigmoidGradient: BinaryFunction {
    @inline(__always) func callAsFunction(_ g: Float, _ y: Float) -> Float { g * y * (1 - y) }
}
private struct TanhGradient: BinaryFunction {
    @inline(__always) func callAsFunction(_ g: Float, _ y: Float) -> Float { g * (1 - y * y) }
}
