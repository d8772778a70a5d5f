import Foundation
import GlassboxNN

/// Integrated Gradients (Sundararajan et al., 2017): the path integral of the gradient along
/// the straight line from a baseline `x'` to `x`,
///
///     φ_j = (x_j − x'_j) · ∫₀¹ ∂f_c/∂x_j (x' + α(x − x')) dα,
///
/// by the trapezoid rule on `steps` equal intervals (`steps + 1` points, endpoints weighted ½).
/// Completeness, `Σ_j φ_j = f(x) − f(x')`, holds up to the quadrature error, which the audit
/// reports as the completeness gap; it shrinks as `O(1/steps²)` for smooth models. The default
/// baseline is all zeros — the feature means, for standardised features. Cost: `steps + 1`
/// gradient evaluations per row; `f(x)` and `f(x')` come from the endpoints at no extra cost.
public struct IntegratedGradients: LocalExplainer {
    /// The baseline `[features]` (nil: zeros).
    public var baseline: [Float]?
    /// Trapezoid intervals along the path.
    public var steps: Int
    /// Outputs to explain (nil: all).
    public var outputs: [Int]?
    /// Players (default: one per feature); a player's value is the sum over its columns.
    public var players: Players?
    /// `"integrated-gradients"`.
    public var method: String { "integrated-gradients" }

    /// Makes the explainer.
    public init(baseline: [Float]? = nil, steps: Int = 50, outputs: [Int]? = nil, players: Players? = nil) {
        self.baseline = baseline
        self.steps = steps
        self.outputs = outputs
        self.players = players
    }

    /// Attributions of every row, with the completeness gap per row and output.
    public func explain(_ rows: Tensor, model: PredictionFunction) throws -> Explanation {
        let start = DispatchTime.now().uptimeNanoseconds
        try model.checkInput(rows, "rows to explain")
        guard steps >= 1 else { throw GlassboxError.invalidArgument("Integrated Gradients needs at least 1 step, got \(steps)") }
        let d = model.features
        let baseline = self.baseline ?? [Float](repeating: 0, count: d)
        guard baseline.count == d else {
            throw GlassboxError.shapeMismatch("Integrated Gradients baseline has \(baseline.count) values; the model takes \(d) features")
        }
        guard baseline.allSatisfy(\.isFinite) else { throw GlassboxError.nonFinite("Integrated Gradients baseline has a non-finite value") }
        let sweep = try GradientSweep(model: model, outputs: outputs)
        let players = try self.players ?? Players(features: d)
        let (n, s, steps) = (rows.shape[0], sweep.selected.count, self.steps)
        var integral = [Double](repeating: 0, count: n * s * d)
        var predictions = [Float](repeating: 0, count: n * s), reference = [Float](repeating: 0, count: n * s)
        let evaluations = try integral.withUnsafeMutableBufferPointer { sums in
            try predictions.withUnsafeMutableBufferPointer { f in
                try reference.withUnsafeMutableBufferPointer { f0 in
                    let (sp, fp, f0p) = (sums.baseAddress!, f.baseAddress!, f0.baseAddress!)
                    return try sweep.run(rows, pointsPerRow: steps + 1, point: { _, k, x, input in
                        let alpha = Float(k) / Float(steps)
                        for j in 0..<d { input[j] = baseline[j] + alpha * (x[j] - baseline[j]) }
                    }, reduce: { r, k, values, gradients in
                        let weight = (k == 0 || k == steps ? 0.5 : 1) / Double(steps)
                        for (t, output) in sweep.selected.enumerated() {
                            if k == 0 { f0p[r * s + t] = values[output] }
                            if k == steps { fp[r * s + t] = values[output] }
                            for j in 0..<d { sp[(r * s + t) * d + j] += weight * Double(gradients[t * d + j]) }
                        }
                    })
                }
            }
        }
        var columns = [Float](repeating: 0, count: n * s * d)
        for r in 0..<n {
            for t in 0..<s {
                for j in 0..<d {
                    let q = (r * s + t) * d + j
                    columns[q] = Float(Double(rows.scalars[r * d + j] - baseline[j]) * integral[q])
                }
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Explanation(method: method, values: Tensor(uncheckedShape: [n, s, players.count], scalars: players.pool(columns, slices: n * s)),
                           players: players, outputs: sweep.selected, predictions: Tensor(uncheckedShape: [n, s], scalars: predictions),
                           reference: Tensor(uncheckedShape: [n, s], scalars: reference),
                           audit: Audit(gradientEvaluations: evaluations, wallSeconds: seconds,
                                        settings: ["steps": String(steps), "rule": "trapezoid", "output": model.output.rawValue,
                                                   "baseline": self.baseline == nil ? "zeros" : "given"]))
    }
}
