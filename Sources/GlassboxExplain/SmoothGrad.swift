import Foundation
import GlassboxNN

/// SmoothGrad (Smilkov et al., 2017): the gradient averaged over noisy copies of the row,
///
///     φ_j = 1/N · Σ_{t=1..N} ∂f_c/∂x_j (x + ε_t),   ε_t ~ N(0, σ² I),
///
/// which removes the high-frequency jitter of raw gradients. With `absolute`, the average of
/// `|∂f_c/∂x_j|` (smoothed saliency) instead. `σ` is in the model's input units: for
/// standardised features, 0.15 is 15 % of a standard deviation. A player's value is the sum
/// over its columns. Cost: `samples` gradient evaluations per row plus one forward pass for
/// `f(x)`. Noise is drawn per row from `seed`.
public struct SmoothGrad: LocalExplainer {
    /// Noise standard deviation σ, in input units.
    public var noise: Float
    /// Noisy copies per row.
    public var samples: Int
    /// Average |gradient| instead of the gradient.
    public var absolute: Bool
    /// Seed of the noise.
    public var seed: UInt64
    /// Outputs to explain (nil: all).
    public var outputs: [Int]?
    /// Players (default: one per feature).
    public var players: Players?
    /// `"smoothgrad"`.
    public var method: String { "smoothgrad" }

    /// Makes the explainer.
    public init(noise: Float = 0.15, samples: Int = 50, absolute: Bool = false, seed: UInt64 = 0,
                outputs: [Int]? = nil, players: Players? = nil) {
        self.noise = noise
        self.samples = samples
        self.absolute = absolute
        self.seed = seed
        self.outputs = outputs
        self.players = players
    }

    /// Attributions of every row `[n, features]`.
    public func explain(_ rows: Tensor, model: PredictionFunction) throws -> Explanation {
        let start = DispatchTime.now().uptimeNanoseconds
        try model.checkInput(rows, "rows to explain")
        guard samples >= 1 else { throw GlassboxError.invalidArgument("SmoothGrad needs at least 1 sample, got \(samples)") }
        guard noise >= 0, noise.isFinite else { throw GlassboxError.invalidArgument("SmoothGrad noise σ must be finite and ≥ 0, got \(noise)") }
        let sweep = try GradientSweep(model: model, outputs: outputs)
        let players = try self.players ?? Players(features: model.features)
        let (n, d, s, samples) = (rows.shape[0], model.features, sweep.selected.count, self.samples)
        // Noise per row from the row's own generator, drawn up front so any thread can build any point.
        var noiseValues = [Float](repeating: 0, count: n * samples * d)
        for r in 0..<n {
            var rng = rows.scalars.withUnsafeBufferPointer { rowGenerator(seed: seed, row: $0.baseAddress! + r * d, features: d) }
            for q in 0..<(samples * d) { noiseValues[r * samples * d + q] = noise * Float(rng.normal()) }
        }
        var sums = [Double](repeating: 0, count: n * s * d)
        let absolute = self.absolute
        let evaluations = try sums.withUnsafeMutableBufferPointer { total in
            try noiseValues.withUnsafeBufferPointer { eps in
                let (tp, ep) = (total.baseAddress!, eps.baseAddress!)
                return try sweep.run(rows, pointsPerRow: samples, point: { r, k, x, input in
                    let e = ep + (r * samples + k) * d
                    for j in 0..<d { input[j] = x[j] + e[j] }
                }, reduce: { r, _, _, gradients in
                    for t in 0..<s {
                        for j in 0..<d {
                            let g = Double(gradients[t * d + j])
                            tp[(r * s + t) * d + j] += absolute ? abs(g) : g
                        }
                    }
                })
            }
        }
        let f = try model(rows)
        let o = model.outputs
        let predictions = (0..<n).flatMap { r in sweep.selected.map { f.scalars[r * o + $0] } }
        let columns = sums.map { Float($0 / Double(samples)) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Explanation(method: method, values: Tensor(uncheckedShape: [n, s, players.count], scalars: players.pool(columns, slices: n * s)),
                           players: players, outputs: sweep.selected, predictions: Tensor(uncheckedShape: [n, s], scalars: predictions),
                           reference: nil,
                           audit: Audit(seed: seed, modelEvaluations: n, gradientEvaluations: evaluations, wallSeconds: seconds,
                                        settings: ["noise": String(noise), "samples": String(samples), "absolute": String(absolute),
                                                   "output": model.output.rawValue]))
    }
}
