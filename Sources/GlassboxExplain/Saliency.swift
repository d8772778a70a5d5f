import Foundation
import GlassboxNN

/// Saliency (Simonyan et al., 2014): `|∂f_c/∂x_j|`, how sensitive output `c` is to each input
/// at the row itself. A player's value is the sum over its columns. Not additive: it does not
/// decompose `f(x)`. Cost: one gradient evaluation per row (a forward pass and one backward
/// pass per explained output).
public struct Saliency: LocalExplainer {
    /// Outputs to explain (nil: all).
    public var outputs: [Int]?
    /// Players (default: one per feature).
    public var players: Players?
    /// `"saliency"`.
    public var method: String { "saliency" }

    /// Makes the explainer.
    public init(outputs: [Int]? = nil, players: Players? = nil) {
        self.outputs = outputs
        self.players = players
    }

    /// Attributions of every row `[n, features]`.
    public func explain(_ rows: Tensor, model: PredictionFunction) throws -> Explanation {
        try gradientExplanation(method: method, rows: rows, model: model, outputs: outputs, players: players) { x, g in abs(g) }
    }
}

/// Gradient × input (Shrikumar et al., 2016): `x_j · ∂f_c/∂x_j`, the first-order Taylor
/// contribution of each input relative to an all-zero input (the feature means, for
/// standardised features). Exactly additive only for linear models. Cost: one gradient
/// evaluation per row.
public struct GradientTimesInput: LocalExplainer {
    /// Outputs to explain (nil: all).
    public var outputs: [Int]?
    /// Players (default: one per feature).
    public var players: Players?
    /// `"gradient-input"`.
    public var method: String { "gradient-input" }

    /// Makes the explainer.
    public init(outputs: [Int]? = nil, players: Players? = nil) {
        self.outputs = outputs
        self.players = players
    }

    /// Attributions of every row `[n, features]`.
    public func explain(_ rows: Tensor, model: PredictionFunction) throws -> Explanation {
        try gradientExplanation(method: method, rows: rows, model: model, outputs: outputs, players: players) { x, g in x * g }
    }
}

/// Attributions `attribution(x_j, ∂f_c/∂x_j)` per column, summed per player.
func gradientExplanation(method: String, rows: Tensor, model: PredictionFunction, outputs: [Int]?, players: Players?,
                         _ attribution: @escaping (Float, Float) -> Float) throws -> Explanation {
    let start = DispatchTime.now().uptimeNanoseconds
    try model.checkInput(rows, "rows to explain")
    let sweep = try GradientSweep(model: model, outputs: outputs)
    let players = try players ?? Players(features: model.features)
    let (n, d, s) = (rows.shape[0], model.features, sweep.selected.count)
    var columns = [Float](repeating: 0, count: n * s * d)
    var predictions = [Float](repeating: 0, count: n * s)
    let evaluations = try columns.withUnsafeMutableBufferPointer { c in
        try predictions.withUnsafeMutableBufferPointer { f in
            let (cp, fp) = (c.baseAddress!, f.baseAddress!)
            return try rows.scalars.withUnsafeBufferPointer { xs in
                try sweep.run(rows, pointsPerRow: 1, point: { _, _, x, input in
                    input.update(from: x, count: d)
                }, reduce: { r, _, values, gradients in
                    for (t, output) in sweep.selected.enumerated() {
                        fp[r * s + t] = values[output]
                        for j in 0..<d { cp[(r * s + t) * d + j] = attribution(xs[r * d + j], gradients[t * d + j]) }
                    }
                })
            }
        }
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    return Explanation(method: method, values: Tensor(uncheckedShape: [n, s, players.count], scalars: players.pool(columns, slices: n * s)),
                       players: players, outputs: sweep.selected, predictions: Tensor(uncheckedShape: [n, s], scalars: predictions),
                       reference: nil, audit: Audit(gradientEvaluations: evaluations, wallSeconds: seconds,
                                                    settings: ["output": model.output.rawValue]))
}
