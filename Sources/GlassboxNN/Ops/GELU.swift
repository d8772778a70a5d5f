import CKernels

/// Which formula ``gelu(_:approximate:)`` evaluates (PyTorch's `approximate` argument).
public enum GELUApproximation: String, Sendable, CaseIterable {
    /// The exact `x·Φ(x)` with the error function (PyTorch's default).
    case none
    /// `½x·(1 + tanh(√(2/π)·(x + 0.044715x³)))` (BERT/GPT-2's form).
    case tanh
}

/// Gaussian error linear unit `y = x·Φ(x)`, `Φ` the standard normal CDF.
///
/// - `.none`: `y = ½x·(1 + erf(x/√2))`; backward `dx = g·(Φ(x) + x·φ(x))`, `φ(x) = e^{−x²/2}/√(2π)`.
/// - `.tanh`: with `u = √(2/π)·(x + 0.044715x³)`, `t = tanh(u)`: `y = ½x(1 + t)`;
///   backward `dx = g·(½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²))`.
///
/// Both run as the vectorised C kernels `gb_gelu`/`gb_gelu_backward` (erf within 5e-7 absolute).
/// Cost: one pass forward, one backward (recomputing the transcendental from the saved input).
public func gelu(_ x: Variable, approximate: GELUApproximation = .none) -> Variable {
    let xv = x.value
    let form: Int32 = approximate == .tanh ? 1 : 0
    let y = Elementwise.kernel(xv, cost: 2) { gb_gelu($0, $1, $2, form) }
    return Variable.result(y, inputs: [x]) { g in
        x.accumulate(Elementwise.kernel(g, xv, cost: 3) { gb_gelu_backward($0, $1, $2, $3, form) })
    }
}
