import Foundation

/// ScoresActivation's forward pass as one op: `w = softmax(s / τ)` over the `d` scores, then
/// `y[i, j] = x[i, j] · w[j]` for every row `i`.
///
/// Backward, with `g = ∂L/∂y` and `a_j = Σ_i g[i, j] · x[i, j]`:
/// - `∂L/∂x[i, j] = g[i, j] · w[j]` (only when `x` needs a gradient — a model's input usually
///   does not, so training skips this pass);
/// - `∂L/∂s_j = w_j · (a_j − Σ_k w_k a_k) / τ` — the softmax Jacobian applied to `a`; the
///   gradients sum to zero, only relative scores are learned.
///
/// Why one op: the same function built from `scale`, `softmax` and a broadcast `mul` records
/// three graph nodes and reduces `g ⊙ x` over rows through the general broadcast reduction. On a
/// small MLP (a few microseconds per layer) that bookkeeping is a visible share of a training step.
///
/// Shapes: `x` `[n, d]`, `scores` `[d]`, result `[n, d]`. Cost: `n·d` multiplies forward; `n·d`
/// multiply-adds for `a` and `n·d` multiplies for `∂L/∂x` backward; `O(d)` for the softmax.
public func featureWeighting(_ x: Variable, scores: Variable, temperature: Double = 1) throws -> Variable {
    let d = scores.value.count
    guard x.value.rank == 2, x.shape[1] == d, scores.value.rank == 1 else {
        throw GlassboxError.shapeMismatch("featureWeighting: x must be [n, \(d)] for \(d) scores, got \(x.shape) and scores \(scores.shape)")
    }
    guard temperature.isFinite, temperature > 0 else {
        throw GlassboxError.invalidArgument("featureWeighting: temperature must be finite and > 0, got \(temperature)")
    }
    let w = featureWeights(scores.value.scalars, temperature: temperature)
    let n = x.shape[0]
    var y = [Float](repeating: 0, count: n * d)
    x.value.scalars.withUnsafeBufferPointer { px in
        y.withUnsafeMutableBufferPointer { py in
            for i in 0..<n {
                let row = i * d
                for j in 0..<d { py[row + j] = px[row + j] * w[j] }
            }
        }
    }
    let result = Tensor(uncheckedShape: x.shape, scalars: y)
    return Variable.result(result, inputs: [x, scores]) { g in
        if x.requiresGrad {
            var dx = [Float](repeating: 0, count: n * d)
            g.scalars.withUnsafeBufferPointer { pg in
                for i in 0..<n {
                    let row = i * d
                    for j in 0..<d { dx[row + j] = pg[row + j] * w[j] }
                }
            }
            x.accumulate(Tensor(uncheckedShape: x.shape, scalars: dx))
        }
        if scores.requiresGrad {
            var a = [Float](repeating: 0, count: d)
            g.scalars.withUnsafeBufferPointer { pg in
                x.value.scalars.withUnsafeBufferPointer { px in
                    a.withUnsafeMutableBufferPointer { pa in
                        for i in 0..<n {
                            let row = i * d
                            for j in 0..<d { pa[j] += pg[row + j] * px[row + j] }
                        }
                    }
                }
            }
            var weighted: Float = 0
            for j in 0..<d { weighted += w[j] * a[j] }
            let inverseT = Float(1 / temperature)
            let ds = (0..<d).map { w[$0] * (a[$0] - weighted) * inverseT }
            scores.accumulate(Tensor(uncheckedShape: scores.shape, scalars: ds))
        }
    }
}

/// `softmax(s / τ)` of a score vector: `e^{(s_j − max s)/τ} / Σ_k e^{(s_k − max s)/τ}`, so no
/// exponential overflows. Cost: `d` exponentials.
public func featureWeights(_ scores: [Float], temperature: Double = 1) -> [Float] {
    guard let top = scores.max() else { return [] }
    let inverseT = Float(1 / temperature)
    let e = scores.map { Foundation.exp(($0 - top) * inverseT) }
    let total = e.reduce(0, +)
    return e.map { $0 / total }
}
