/// Compares hand-written backward passes with central finite differences.
///
/// For a function `f` of several tensors, it forms the scalar `L = Σ f(x) ⊙ R` with a fixed random
/// `R` (so every output element contributes), back-propagates to get `∂L/∂xᵢ`, and compares
/// each entry with `(L(x + h·eᵢ) − L(x − h·eᵢ)) / 2h`, where `L` is accumulated in Double.
/// Cost: `2·Σ|xᵢ|` extra forward passes — keep inputs small.
public enum GradientCheck {
    /// One input entry whose analytic and numeric gradients disagree.
    public struct Mismatch: CustomStringConvertible, Sendable {
        /// Which input of the checked function and which flat element of it.
        public let input: Int, index: Int
        /// The backpropagated derivative and its central finite-difference estimate.
        public let analytic: Double, numeric: Double
        public var description: String {
            "input \(input)[\(index)]: analytic \(analytic), numeric \(numeric)"
        }
    }

    /// Returns the entries where `|analytic − numeric| > atol + rtol·|numeric|` (empty when all agree).
    public static func mismatches(inputs: [Tensor], step h: Float = 1e-2, atol: Double = 2e-3, rtol: Double = 2e-2,
                                  seed: UInt64 = 7,
                                  _ f: ([Variable]) throws -> Variable) throws -> [Mismatch] {
        let vars = inputs.map { Variable($0, requiresGrad: true) }
        let out = try f(vars)
        var rng = SeededGenerator(seed: seed)
        let r = Tensor.uniform(out.shape, -1, 1, using: &rng)
        try out.backward(r)
        let analytic = vars.map { $0.grad ?? Tensor.zeros($0.shape) }

        func loss(_ xs: [Tensor]) throws -> Double {
            let y = try f(xs.map { Variable($0) }).value
            var s = 0.0
            for i in 0..<y.count { s += Double(y.scalars[i]) * Double(r.scalars[i]) }
            return s
        }
        var bad: [Mismatch] = []
        for (k, x) in inputs.enumerated() {
            for i in 0..<x.count {
                var plus = inputs, minus = inputs
                plus[k].scalars[i] += h
                minus[k].scalars[i] -= h
                // The actual step after Float rounding, so the quotient is exact in the perturbation.
                let width = Double(plus[k].scalars[i]) - Double(minus[k].scalars[i])
                let numeric = (try loss(plus) - loss(minus)) / width
                let a = Double(analytic[k].scalars[i])
                if abs(a - numeric) > atol + rtol * abs(numeric) {
                    bad.append(Mismatch(input: k, index: i, analytic: a, numeric: numeric))
                }
            }
        }
        return bad
    }
}
