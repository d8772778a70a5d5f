import CKernels
import Foundation

/// How a loss combines its per-element terms (PyTorch's `reduction`).
public enum LossReduction: String, Sendable, CaseIterable {
    /// The (weighted) mean: a scalar.
    case mean
    /// The sum: a scalar.
    case sum
    /// No reduction: one term per sample (cross-entropy) or per element.
    case none
}

/// Cross-entropy of class logits against integer labels: log-softmax and negative log-likelihood
/// fused, as PyTorch's `F.cross_entropy(logits, labels, weight, reduction)`.
///
/// Shapes: `logits [n, c]`, `labels` n values in `0..<c`, optional class `weights [c]`.
/// Per row `ℓᵢ = wᵧ·(log Σⱼ e^{zᵢⱼ} − zᵢᵧ)` (`y = labels[i]`, `w ≡ 1` without weights), computed
/// with the row maximum subtracted so large logits cannot overflow. `.mean` divides by `Σᵢ wᵧᵢ`
/// (= n unweighted, NaN if the selected weights sum to 0, as in PyTorch); `.none` returns `[n]`.
///
/// Backward: `dz = g·wᵧ·(softmax(z) − onehot(y)) / W`, with `W = Σ wᵧᵢ` for `.mean`, 1 otherwise.
/// Cost: one `exp` per logit forward (the softmax is saved), one pass backward.
public func crossEntropy(_ logits: Variable, labels: [Int], reduction: LossReduction = .mean,
                         weights: Tensor? = nil) throws -> Variable {
    guard logits.value.rank == 2 else {
        throw GlassboxError.shapeMismatch("crossEntropy expects logits [batch, classes], got \(logits.shape)")
    }
    let n = logits.shape[0], c = logits.shape[1]
    guard n > 0, c > 0 else {
        throw GlassboxError.invalidArgument("crossEntropy of an empty batch or class set (logits shape \(logits.shape))")
    }
    guard labels.count == n else {
        throw GlassboxError.shapeMismatch("crossEntropy: \(labels.count) labels for logits of shape \(logits.shape)")
    }
    for (row, label) in labels.enumerated() where !(0..<c).contains(label) {
        throw GlassboxError.invalidArgument("crossEntropy: label \(label) in row \(row) is out of range for \(c) classes")
    }
    if let weights, weights.shape != [c] {
        throw GlassboxError.shapeMismatch("crossEntropy: class weights have shape \(weights.shape), expected [\(c)]")
    }
    let rowWeight = labels.map { weights?.scalars[$0] ?? 1 }

    var probabilities = [Float](repeating: 0, count: n * c)
    var terms = [Float](repeating: 0, count: n)
    logits.value.scalars.withUnsafeBufferPointer { pz in
        probabilities.withUnsafeMutableBufferPointer { pp in
            terms.withUnsafeMutableBufferPointer { pt in
                Compute.parallelRanges(n, costPerItem: c + 20, minimumCost: Elementwise.minimumCost) { rows in
                    for i in rows {
                        let z = pz.baseAddress! + i * c, p = pp.baseAddress! + i * c
                        let m = gb_max(z, c)
                        let s = gb_exp_shifted_sum(z, m, p, c)
                        let r = 1 / s
                        for j in 0..<c { p[j] *= r }
                        pt[i] = rowWeight[i] * (m + log(s) - z[labels[i]])
                    }
                }
            }
        }
    }
    let divisor: Float = reduction == .mean ? Float(rowWeight.reduce(0.0) { $0 + Double($1) }) : 1
    let value: Tensor
    switch reduction {
    case .none: value = Tensor(uncheckedShape: [n], scalars: terms)
    case .sum, .mean: value = Tensor(Float(terms.reduce(0.0) { $0 + Double($1) }) / divisor)
    }
    let softmaxRows = probabilities
    return Variable.result(value, inputs: [logits]) { g in
        var dz = softmaxRows
        dz.withUnsafeMutableBufferPointer { pd in
            for i in 0..<n {
                let scale = (reduction == .none ? g.scalars[i] : g.scalars[0]) * rowWeight[i] / divisor
                let row = pd.baseAddress! + i * c
                row[labels[i]] -= 1
                for j in 0..<c { row[j] *= scale }
            }
        }
        logits.accumulate(Tensor(uncheckedShape: [n, c], scalars: dz))
    }
}

/// Binary cross-entropy on logits, as PyTorch's `F.binary_cross_entropy_with_logits`:
/// `ℓ = max(z, 0) − z·t + log(1 + e^{−|z|})` per element, which equals
/// `−t·log σ(z) − (1 − t)·log(1 − σ(z))` but never overflows or takes `log 0`.
///
/// Shapes: `logits` and `targets` identical (targets usually in [0, 1]). `.mean` averages over
/// all elements; `.none` keeps the shape.
/// Backward: `dz = g·(σ(z) − t)`, `dt = −g·z` (divided by the element count for `.mean`).
/// Cost: one `exp` and one `log1p` per element forward (libm: accurate, not vectorised), one
/// vectorised sigmoid backward.
public func binaryCrossEntropyWithLogits(_ logits: Variable, _ targets: Variable,
                                         reduction: LossReduction = .mean) throws -> Variable {
    try checkPointwiseLoss("binaryCrossEntropyWithLogits", logits, targets)
    let z = logits.value, t = targets.value
    let terms = Elementwise.zip(z, t, cost: 10, BCETerm())
    return reducedLoss(terms, reduction, inputs: [logits, targets]) { g in
        if logits.requiresGrad {
            logits.accumulate(Elementwise.zip3(g, Elementwise.kernel(z, gb_sigmoid), t, BCELogitGradient()))
        }
        if targets.requiresGrad { targets.accumulate(Elementwise.zip(g, z, NegatedProduct())) }
    }
}

/// Mean squared error, as PyTorch's `F.mse_loss`: `ℓ = (p − t)²` per element.
///
/// Shapes: `prediction` and `target` identical. Backward: `dp = 2g·(p − t)`, `dt = −dp`
/// (divided by the element count for `.mean`). Cost: one pass forward, one backward.
public func mseLoss(_ prediction: Variable, _ target: Variable, reduction: LossReduction = .mean) throws -> Variable {
    try checkPointwiseLoss("mseLoss", prediction, target)
    let p = prediction.value, t = target.value
    let terms = Elementwise.zip(p, t, SquaredDifference())
    return reducedLoss(terms, reduction, inputs: [prediction, target]) { g in
        let dp = Elementwise.zip3(g, p, t, MSEGradient())
        if prediction.requiresGrad { prediction.accumulate(dp) }
        if target.requiresGrad { target.accumulate(Elementwise.map(dp, Negate())) }
    }
}

private func checkPointwiseLoss(_ name: String, _ a: Variable, _ b: Variable) throws {
    guard a.shape == b.shape else {
        throw GlassboxError.shapeMismatch("\(name): input shape \(a.shape) differs from target shape \(b.shape)")
    }
    guard a.value.count > 0 else {
        throw GlassboxError.invalidArgument("\(name) of an empty batch (shape \(a.shape))")
    }
}

/// Reduces per-element loss `terms` and wraps `backward`, which receives the gradient of each
/// term (the upstream gradient broadcast to the terms' shape and divided by the count for a mean).
private func reducedLoss(_ terms: Tensor, _ reduction: LossReduction, inputs: [Variable],
                         backward: @escaping (Tensor) -> Void) -> Variable {
    let shape = terms.shape, count = terms.count
    let value: Tensor
    switch reduction {
    case .none: value = terms
    case .sum: value = Tensor(Float(terms.sumAll()))
    case .mean: value = Tensor(Float(terms.sumAll() / Double(count)))
    }
    return Variable.result(value, inputs: inputs) { g in
        switch reduction {
        case .none: backward(g)
        case .sum: backward(Tensor(repeating: g.scalars[0], shape: shape))
        case .mean: backward(Tensor(repeating: g.scalars[0] / Float(count), shape: shape))
        }
    }
}

private struct BCETerm: BinaryFunction {
    @inline(__always) func callAsFunction(_ z: Float, _ t: Float) -> Float {
        max(z, 0) - z * t + log1p(exp(-abs(z)))
    }
}
private struct BCELogitGradient: TernaryFunction {
    @inline(__always) func callAsFunction(_ g: Float, _ s: Float, _ t: Float) -> Float { g * (s - t) }
}
private struct NegatedProduct: BinaryFunction {
    @inline(__always) func callAsFunction(_ g: Float, _ z: Float) -> Float { -g * z }
}
private struct SquaredDifference: BinaryFunction {
    @inline(__always) func callAsFunction(_ p: Float, _ t: Float) -> Float { (p - t) * (p - t) }
}
private struct MSEGradient: TernaryFunction {
    @inline(__always) func callAsFunction(_ g: Float, _ p: Float, _ t: Float) -> Float { 2 * g * (p - t) }
}
private struct Negate: UnaryFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { -x }
}
