/// Inverted dropout: in training each element is zeroed with probability `p` and the survivors
/// are scaled by `1/(1 − p)`, so the expected value is unchanged and inference is the identity.
///
/// The mask is drawn from `rng` — element `i` is dropped when a 24-bit uniform integer is below
/// `p·2²⁴`, two elements per 64-bit draw, in row-major order — so the same seed reproduces it.
/// In inference, or with `p = 0`, `x` itself is returned and nothing is drawn.
/// Backward: `dx = g ⊙ mask` (the same zeros and scale).
/// Cost: one 64-bit random draw per two elements and one multiply per element forward, one
/// multiply backward.
public func dropout(_ x: Variable, p: Float, training: Bool, rng: inout SeededGenerator) throws -> Variable {
    guard p >= 0, p < 1 else {
        throw GlassboxError.invalidArgument("dropout probability p must be in [0, 1), got \(p)")
    }
    guard training, p > 0 else { return x }
    let keep = 1 / (1 - p)
    // u < p·2²⁴ for an integer u ⇔ u < ⌈p·2²⁴⌉ (exact in Double).
    let threshold = UInt64((Double(p) * 16_777_216).rounded(.up))
    var scales = [Float](repeating: 0, count: x.value.count)
    scales.withUnsafeMutableBufferPointer { m in
        var i = 0
        while i < m.count {
            let bits = rng.next()
            m[i] = bits >> 40 < threshold ? 0 : keep
            if i + 1 < m.count { m[i + 1] = (bits >> 8) & 0xFF_FFFF < threshold ? 0 : keep }
            i += 2
        }
    }
    let mask = Tensor(uncheckedShape: x.shape, scalars: scales)
    let y = Elementwise.zip(x.value, mask, Multiply())
    return Variable.result(y, inputs: [x]) { g in
        x.accumulate(Elementwise.zip(g, mask, Multiply()))
    }
}
