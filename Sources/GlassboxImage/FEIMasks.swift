import Foundation
import GlassboxNN

/// The differentiable pieces of FEI's mask construction: bilinear upsampling of the
/// low-resolution logits, a quantile threshold with its exact gradient, and the soft quantile
/// masks `M_q = sigmoid((z − τ_q)/T)` built from them.
public enum FEIMasks {
    /// The `[out, in]` matrix of 1-D bilinear interpolation from `input` to `output` samples
    /// with half-pixel centres (PyTorch's `interpolate(mode="bilinear", align_corners=False)`):
    /// output `i` reads source position `s = (i + ½)·in/out − ½`, clamped to `[0, in − 1]`, with
    /// weights `1 − frac(s)` and `frac(s)` on its two neighbours. Rows sum to 1.
    public static func interpolationMatrix(from input: Int, to output: Int) -> Tensor {
        var m = [Float](repeating: 0, count: output * input)
        let ratio = Double(input) / Double(output)
        for i in 0..<output {
            let s = min(Double(input - 1), max(0, (Double(i) + 0.5) * ratio - 0.5))
            let i0 = Int(s.rounded(.down)), i1 = min(input - 1, i0 + 1)
            let f = Float(s - Double(i0))
            m[i * input + i0] += 1 - f
            m[i * input + i1] += f
        }
        return Tensor(uncheckedShape: [output, input], scalars: m)
    }

    /// Bilinear upsampling of a `[g_h, g_w]` grid to `[H, W]`: `U_h · a · U_wᵀ`, two matmuls
    /// (differentiable). Cost: `O(H·g_w·(g_h + W))`.
    public static func upsample(_ a: Variable, height: Int, width: Int) throws -> Variable {
        guard a.value.rank == 2 else {
            throw GlassboxError.shapeMismatch("FEI: attribution logits must be a [rows, columns] grid, got \(a.shape)")
        }
        let uh = Variable(interpolationMatrix(from: a.shape[0], to: height))
        let uw = Variable(interpolationMatrix(from: a.shape[1], to: width))
        return try matmul(try matmul(uh, a), uw, transposeB: true)
    }

    /// The quantiles `τ_k` of the entries of `z` at `levels` (each in [0, 1]), as `[K, 1]`:
    /// with `v` the sorted entries and `p = ℓ·(n − 1)`, `τ = (1 − frac p)·v_⌊p⌋ + frac p·v_⌊p⌋₊₁`
    /// (numpy's "linear" quantile). Backward: the sort order is locally constant, so `∂τ/∂z`
    /// puts `1 − frac p` and `frac p` on the two order statistics used — exact wherever the
    /// entries are distinct. Cost: one sort of `n` values.
    public static func quantiles(_ z: Variable, levels: [Double]) throws -> Variable {
        let n = z.value.count
        guard n > 0 else { throw GlassboxError.invalidArgument("FEI: quantile of an empty map") }
        if let bad = levels.first(where: { !($0 >= 0 && $0 <= 1) }) {
            throw GlassboxError.invalidArgument("FEI: quantile level \(bad) is outside [0, 1]")
        }
        let order = z.value.scalars.indices.sorted { (z.value.scalars[$0], $0) < (z.value.scalars[$1], $1) }
        var taus = [Float](repeating: 0, count: levels.count)
        var picks: [(Int, Int, Float)] = []
        for (k, level) in levels.enumerated() {
            let p = level * Double(n - 1)
            let i = min(n - 1, Int(p.rounded(.down))), j = min(n - 1, i + 1)
            let f = Float(p - Double(i))
            taus[k] = (1 - f) * z.value.scalars[order[i]] + f * z.value.scalars[order[j]]
            picks.append((order[i], order[j], f))
        }
        return Variable.result(Tensor(uncheckedShape: [levels.count, 1], scalars: taus), inputs: [z]) { g in
            var dz = Tensor.zeros(z.shape)
            for (k, (i, j, f)) in picks.enumerated() {
                dz.scalars[i] += (1 - f) * g.scalars[k]
                dz.scalars[j] += f * g.scalars[k]
            }
            z.accumulate(dz)
        }
    }

    /// The standardised attribution map `z = (A − mean A)/sd A` of the upsampled logits
    /// `A = upsample(a)`, flattened to `[1, H·W]`. Standardising makes the temperature a
    /// fixed fraction of the map's spread, whatever scale the logits drift to.
    public static func standardizedMap(_ a: Variable, height: Int, width: Int) throws -> Variable {
        let up = try reshape(try upsample(a, height: height, width: width), [1, height * width])
        let centred = try sub(up, try mean(up, axes: [1], keepDims: true))
        let sd = sqrt(shift(try mean(square(centred), axes: [1], keepDims: true), 1e-12))
        return try div(centred, sd)
    }

    /// Soft masks `[K, 1, H, W]`, `M_k = sigmoid((z − τ_k)/T)` with `τ_k` the `(1 − q_k)`
    /// quantile of `z` `[1, H·W]`, so about a fraction `q_k` of the pixels is on (1 = kept).
    public static func softMasks(_ z: Variable, keptFractions: [Double], temperature: Float,
                                 height: Int, width: Int) throws -> Variable {
        guard temperature > 0 else { throw GlassboxError.invalidArgument("FEI: temperature must be positive, got \(temperature)") }
        let tau = try quantiles(z, levels: keptFractions.map { 1 - $0 })
        let m = sigmoid(scale(try sub(z, tau), 1 / temperature))
        return try reshape(m, [keptFractions.count, 1, height, width])
    }
}
