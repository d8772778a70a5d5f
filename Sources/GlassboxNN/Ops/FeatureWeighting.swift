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

/// The weight of a linear layer that reads ScoresActivation's output, with the feature weights
/// folded in: `W'[k, j] = W[k, j] · w_j`, `w = softmax(s / τ)`, so that
/// `(x ⊙ w)·Wᵀ = x·W'ᵀ`.
///
/// Backward, with `G = ∂L/∂W'`: `∂L/∂W[k, j] = G[k, j] · w_j`, and with
/// `a_j = Σ_k G[k, j] · W[k, j]` (which equals `Σ_rows (∂L/∂y_j)·x_j` of the unfolded layer),
/// `∂L/∂s_j = w_j · (a_j − Σ_i w_i a_i) / τ`.
///
/// Why: training a ScoresActivation + Linear pair unfolded needs `∂L/∂(x ⊙ w)`, a GEMM the plain
/// model never computes (its input needs no gradient) — on a small MLP about a tenth of a training
/// step. Folded, the extra cost is `O(out·d)` each way instead of `O(n·out·d)`.
///
/// Shapes: `weight` `[out, d]`, `scores` `[d]`, result `[out, d]`. Cost: `out·d` multiplies
/// forward, `2·out·d` backward, plus the softmax.
public func columnScaledWeight(_ weight: Variable, scores: Variable, temperature: Double = 1) throws -> Variable {
    let d = scores.value.count
    guard weight.value.rank == 2, weight.shape[1] == d, scores.value.rank == 1 else {
        throw GlassboxError.shapeMismatch("columnScaledWeight: weight must be [out, \(d)] for \(d) scores, got \(weight.shape)")
    }
    let w = featureWeights(scores.value.scalars, temperature: temperature)
    let out = weight.shape[0]
    // Unsafe buffers in the loops: this op runs once per training step of small models, where
    // per-element bounds checks on a 64×16 weight are a measurable share of the step.
    let scaled = scaleColumns(weight.value.scalars, rows: out, by: w)
    return Variable.result(Tensor(uncheckedShape: weight.shape, scalars: scaled), inputs: [weight, scores]) { g in
        if weight.requiresGrad {
            weight.accumulate(Tensor(uncheckedShape: weight.shape, scalars: scaleColumns(g.scalars, rows: out, by: w)))
        }
        if scores.requiresGrad {
            var a = [Float](repeating: 0, count: d)
            g.scalars.withUnsafeBufferPointer { pg in
                weight.value.scalars.withUnsafeBufferPointer { pw in
                    a.withUnsafeMutableBufferPointer { pa in
                        let (g, w, a) = (pg.baseAddress!, pw.baseAddress!, pa.baseAddress!)
                        for k in 0..<out {
                            let row = k * d
                            for j in 0..<d { a[j] += g[row + j] * w[row + j] }
                        }
                    }
                }
            }
            var weighted: Float = 0
            for j in 0..<d { weighted += w[j] * a[j] }
            let inverseT = Float(1 / temperature)
            scores.accumulate(Tensor(uncheckedShape: scores.shape, scalars: (0..<d).map { w[$0] * (a[$0] - weighted) * inverseT }))
        }
    }
}

/// `m[k, j] · c[j]` for a row-major `[rows, c.count]` matrix `m`. Cost: one multiply per element.
func scaleColumns(_ m: [Float], rows: Int, by c: [Float]) -> [Float] {
    let d = c.count
    return [Float](unsafeUninitializedCapacity: rows * d) { out, initialized in
        m.withUnsafeBufferPointer { pm in
            c.withUnsafeBufferPointer { pc in
                let (src, scale, dst) = (pm.baseAddress!, pc.baseAddress!, out.baseAddress!)
                for k in 0..<rows {
                    let row = k * d
                    for j in 0..<d { dst[row + j] = src[row + j] * scale[j] }
                }
            }
        }
        initialized = rows * d
    }
}
