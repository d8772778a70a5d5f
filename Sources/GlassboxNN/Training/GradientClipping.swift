/// Rescales the gradients of `parameters` so that their joint L2 norm is at most `maxNorm`
/// (`torch.nn.utils.clip_grad_norm_`).
///
/// The total norm is `‖(g₁, …, gₖ)‖₂` over every element of every gradient (parameters with no
/// gradient are ignored). When it exceeds `maxNorm`, every gradient is multiplied in place by
/// `maxNorm / (norm + 1e-6)`. A non-finite norm is returned without rescaling, so the caller can
/// see the divergence rather than have NaN spread into every gradient.
///
/// Returns the norm before clipping. Cost: two passes over the gradients (one when not clipping).
@discardableResult
public func clipGradientNorm(_ parameters: [Variable], maxNorm: Float) throws -> Float {
    guard maxNorm.isFinite, maxNorm > 0 else {
        throw GlassboxError.invalidArgument("gradient clipping needs a finite maxNorm > 0, got \(maxNorm)")
    }
    var squares = 0.0
    for p in parameters {
        guard let g = p.grad else { continue }
        squares += g.scalars.withUnsafeBufferPointer(sumOfSquares)
    }
    let norm = Float(squares.squareRoot())
    guard norm.isFinite, norm > maxNorm else { return norm }
    let factor = maxNorm / (norm + 1e-6)
    for p in parameters where p.grad != nil {
        p.grad!.scalars.withUnsafeMutableBufferPointer { gp in
            for j in 0..<gp.count { gp[j] *= factor }
        }
    }
    return norm
}

/// `Σ vᵢ²` with eight independent Float lanes (so it vectorises), combined in Double.
private func sumOfSquares(_ v: UnsafeBufferPointer<Float>) -> Double {
    var lanes = SIMD8<Float>()
    let whole = v.count / 8 * 8
    var i = 0
    while i < whole {
        let x = UnsafeRawPointer(v.baseAddress! + i).loadUnaligned(as: SIMD8<Float>.self)
        lanes += x * x
        i += 8
    }
    var total = 0.0
    for lane in 0..<8 { total += Double(lanes[lane]) }
    while i < v.count { total += Double(v[i] * v[i]); i += 1 }
    return total
}
