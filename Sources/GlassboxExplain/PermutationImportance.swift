import Foundation
import GlassboxNN

/// Permutation feature importance (Breiman, 2001; Fisher et al., 2019): how much a model's
/// score on labelled data degrades when one player's columns are shuffled across the rows,
/// breaking their link to the label while keeping their distribution.
///
///     importance_i = mean over repeats of (score(original) − score(player i permuted))
///
/// for accuracy (a drop), or of the increase in mean log-loss. Higher is more important; a
/// feature the model ignores scores exactly zero. A player's columns are permuted jointly.
/// Global, not per row. Cost: `(1 + players · repeats) · n` model evaluations, all permuted
/// copies streamed through the workers in batches (never materialised).
public struct PermutationImportance: Sendable {
    /// What is degraded.
    public enum Metric: String, Sendable, Codable {
        /// Fraction of rows whose largest output is the label; importance is the drop.
        case accuracy
        /// Mean negative log-likelihood of the label; importance is the increase.
        case logLoss = "log-loss"
    }

    /// The score degraded by shuffling.
    public var metric: Metric
    /// Shuffles per player (the spread is their standard deviation).
    public var repeats: Int
    /// Players (default: one per feature).
    public var players: Players?
    /// Seed of the shuffles.
    public var seed: UInt64
    /// `"permutation-importance"`.
    public var method: String { "permutation-importance" }

    /// Makes the explainer.
    public init(metric: Metric = .accuracy, repeats: Int = 5, players: Players? = nil, seed: UInt64 = 0) {
        self.metric = metric
        self.repeats = repeats
        self.players = players
        self.seed = seed
    }

    /// Importance of each player for `model` on `data` (`[n, features]`) with class `labels`.
    public func importance(of model: PredictionFunction, data: Tensor, labels: [Int]) throws -> GlobalImportance {
        let start = DispatchTime.now().uptimeNanoseconds
        try model.checkInput(data, "data")
        let (n, d, o) = (data.shape[0], model.features, model.outputs)
        guard n >= 2 else { throw GlassboxError.invalidArgument("permutation importance needs at least 2 rows to permute, got \(n)") }
        guard labels.count == n else { throw GlassboxError.shapeMismatch("\(labels.count) labels for \(n) rows") }
        let classes = max(2, o)
        if let bad = labels.firstIndex(where: { !(0..<classes).contains($0) }) {
            throw GlassboxError.invalidArgument("label \(labels[bad]) of row \(bad) is outside the model's classes 0..<\(classes)")
        }
        guard repeats >= 1 else { throw GlassboxError.invalidArgument("permutation importance needs at least 1 repeat, got \(repeats)") }
        if metric == .logLoss && model.output == .custom {
            throw GlassboxError.invalidArgument("log-loss needs a model giving logits or probabilities; use accuracy for a custom function")
        }
        let players = try self.players ?? Players(features: d)
        let p = players.count
        // Task 0 is the unpermuted data; task 1 + i·repeats + r permutes player i in repeat r.
        let tasks = 1 + p * repeats
        var permutations = [[Int]](repeating: [], count: tasks)
        for i in 0..<p {
            for r in 0..<repeats {
                var rng = SeededGenerator(seed: seed ^ (UInt64(i * repeats + r) &+ 1) &* 0x9E37_79B9_7F4A_7C15)
                permutations[1 + i * repeats + r] = rng.permutation(n)
            }
        }
        let rowsPerChunk = model.batchRows
        let chunksPerTask = (n + rowsPerChunk - 1) / rowsPerChunk
        var partial = [Double](repeating: 0, count: tasks * chunksPerTask)
        let metric = self.metric, output = model.output
        try data.scalars.withUnsafeBufferPointer { xs in
            try partial.withUnsafeMutableBufferPointer { sums in
                let (x, sp) = (xs.baseAddress!, sums.baseAddress!)
                try model.stream(chunks: tasks * chunksPerTask, maxRows: rowsPerChunk, fill: { c, input in
                    let (task, lo) = (c / chunksPerTask, (c % chunksPerTask) * rowsPerChunk)
                    let hi = min(n, lo + rowsPerChunk)
                    input.update(from: x + lo * d, count: (hi - lo) * d)
                    if task > 0 {
                        let permutation = permutations[task]
                        for column in players.groups[(task - 1) / repeats] {
                            for row in lo..<hi { input[(row - lo) * d + column] = x[permutation[row] * d + column] }
                        }
                    }
                    return hi - lo
                }, consume: { c, y, rows in
                    let lo = (c % chunksPerTask) * rowsPerChunk
                    var sum = 0.0
                    for q in 0..<rows { sum += PermutationImportance.score(metric, output: output, y + q * o, width: o, label: labels[lo + q]) }
                    sp[c] = sum
                })
            }
        }
        let taskScore = (0..<tasks).map { t in partial[(t * chunksPerTask)..<((t + 1) * chunksPerTask)].reduce(0, +) / Double(n) }
        let sign = metric == .accuracy ? 1.0 : -1.0
        var means = [Double](repeating: 0, count: p), spreads = [Double](repeating: 0, count: p)
        for i in 0..<p {
            let drops = (0..<repeats).map { r in sign * (taskScore[0] - taskScore[1 + i * repeats + r]) }
            let mean = drops.reduce(0, +) / Double(repeats)
            means[i] = mean
            spreads[i] = repeats > 1 ? (drops.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(repeats - 1)).squareRoot() : 0
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return GlobalImportance(method: method, names: players.names, scores: means, spread: spreads,
                                audit: Audit(seed: seed, modelEvaluations: tasks * n, wallSeconds: seconds,
                                             settings: ["metric": metric.rawValue, "repeats": String(repeats), "rows": String(n),
                                                        "baseline_score": String(format: "%.6g", taskScore[0]),
                                                        "output": model.output.rawValue]))
    }

    /// One row's contribution: 1/0 for a correct/incorrect argmax, or the label's negative log-likelihood.
    static func score(_ metric: Metric, output: PredictionFunction.Output, _ y: UnsafePointer<Float>, width: Int, label: Int) -> Double {
        if width == 1 {
            // A single output is the positive class's logit or probability.
            let z = Double(y[0])
            let positive = output == .logit ? z > 0 : z > 0.5
            switch metric {
            case .accuracy: return positive == (label == 1) ? 1 : 0
            case .logLoss:
                let p1 = output == .logit ? 1 / (1 + exp(-z)) : z
                return -log(max(label == 1 ? p1 : 1 - p1, 1e-15))
            }
        }
        switch metric {
        case .accuracy:
            var best = 0
            for j in 1..<width where y[j] > y[best] { best = j }
            return best == label ? 1 : 0
        case .logLoss:
            if output == .probability { return -log(max(Double(y[label]), 1e-15)) }
            var m = -Double.infinity
            for j in 0..<width { m = max(m, Double(y[j])) }
            var sum = 0.0
            for j in 0..<width { sum += exp(Double(y[j]) - m) }
            return -(Double(y[label]) - m - log(sum))
        }
    }
}
