import Foundation
import GlassboxNN

/// Shapley values estimated by sampling permutations (Štrumbelj & Kononenko, 2014), with
/// antithetic pairs: each sampled order `π` is walked forwards and backwards, and every player
/// is credited with the change of `v` (see ``InterventionalGame``) when it joins the players
/// before it:
///
///     φ_i ≈ 1/(2P) · Σ_{π} [v(pre_π(i) ∪ {i}) − v(pre_π(i))]   (P orders and their reverses)
///
/// Each walk telescopes from `v(∅) = E f` to `v(all) = f(x)`, so efficiency holds exactly for
/// any number of permutations; reversing an order pairs a player's early and late arrivals,
/// which cancels much of the variance of plain sampling.
///
/// Cost: `2·(p−1)` coalitions per pair × `k` background rows model evaluations per explained
/// row. The budget is in coalitions like Kernel SHAP's (default `2·p + 2048`), giving
/// `max(1, budget / (2·(p−1)))` pairs.
public struct PermutationSHAP: LocalExplainer {
    /// The background rows the game averages over.
    public var background: Background
    /// Players (default: one per feature).
    public var players: Players?
    /// Coalitions per explained row (nil: `2·p + 2048`).
    public var budget: Int?
    /// The largest budget accepted (as ``KernelSHAP/maximumBudget``): a block's coalitions are held
    /// in memory, so the budget bounds what an explanation allocates.
    public static let maximumBudget = KernelSHAP.maximumBudget
    /// Seed of the sampled orders.
    public var seed: UInt64
    /// `"permutation-shap"`.
    public var method: String { "permutation-shap" }

    /// Makes the explainer.
    public init(background: Background, players: Players? = nil, budget: Int? = nil, seed: UInt64 = 0) {
        self.background = background
        self.players = players
        self.budget = budget
        self.seed = seed
    }

    /// Estimated Shapley values of every row `[n, features]` (efficiency exact).
    public func explain(_ rows: Tensor, model: PredictionFunction) throws -> Explanation {
        let start = DispatchTime.now().uptimeNanoseconds
        try model.checkInput(rows, "rows to explain")
        let players = try self.players ?? Players(features: model.features)
        let game = try InterventionalGame(model: model, background: background, players: players)
        let (n, p, o, d) = (rows.shape[0], players.count, model.outputs, model.features)
        let budget = self.budget ?? 2 * p + 2048
        let walk = 2 * max(1, p - 1)
        guard budget >= walk else {
            throw GlassboxError.invalidArgument("permutation SHAP budget \(budget) is below the \(walk) coalitions of one antithetic pair of permutations for \(p) players")
        }
        guard budget <= PermutationSHAP.maximumBudget else {
            throw GlassboxError.invalidArgument("permutation SHAP budget \(budget) is above the limit of \(PermutationSHAP.maximumBudget) coalitions per row")
        }
        let pairs = budget / walk
        let fx = try model(rows)
        let base = try game.baseValue()
        var evaluations = n + background.count
        var phi = [Float](repeating: 0, count: n * o * p)
        let blockRows = max(1, 32_768 / (pairs * walk))
        for blockStart in stride(from: 0, to: n, by: blockRows) {
            let block = blockStart..<min(n, blockStart + blockRows)
            // Orders per row: pairs × (π, reversed π); the game sees the p−1 proper prefixes of each.
            var orders: [[Int]] = []
            var masks: [[UInt8]] = []
            for r in block {
                var rng = rows.scalars.withUnsafeBufferPointer { rowGenerator(seed: seed, row: $0.baseAddress! + r * d, features: d) }
                var rowMasks: [UInt8] = []
                var rowOrders: [Int] = []
                for _ in 0..<pairs {
                    let forward = rng.permutation(p)
                    for order in [forward, forward.reversed()] {
                        rowOrders += order
                        var mask = [UInt8](repeating: 0, count: p)
                        for t in 0..<(p - 1) { mask[order[t]] = 1; rowMasks += mask }
                    }
                }
                orders.append(rowOrders)
                masks.append(rowMasks)
            }
            let x = Tensor(uncheckedShape: [block.count, d], scalars: Array(rows.scalars[(block.lowerBound * d)..<(block.upperBound * d)]))
            let (values, used) = p > 1 ? try game.values(of: x, masks: masks) : (masks.map { _ in [] }, 0)
            evaluations += used
            for (i, v) in values.enumerated() {
                let r = block.lowerBound + i
                for j in 0..<o {
                    var sums = [Double](repeating: 0, count: p)
                    let full = Double(fx.scalars[r * o + j])
                    for w in 0..<(2 * pairs) {
                        var previous = base[j]
                        for t in 0..<p {
                            let current = t < p - 1 ? v[(w * (p - 1) + t) * o + j] : full
                            sums[orders[i][w * p + t]] += current - previous
                            previous = current
                        }
                    }
                    for player in 0..<p { phi[(r * o + j) * p + player] = Float(sums[player] / Double(2 * pairs)) }
                }
            }
        }
        let reference = Tensor(uncheckedShape: [n, o], scalars: (0..<(n * o)).map { Float(base[$0 % o]) })
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Explanation(method: method, values: Tensor(uncheckedShape: [n, o, p], scalars: phi), players: players,
                           outputs: Array(0..<o), predictions: fx, reference: reference,
                           audit: Audit(seed: seed, modelEvaluations: evaluations, wallSeconds: seconds,
                                        settings: ["budget": String(budget), "permutation_pairs": String(pairs),
                                                   "background": background.summary, "output": model.output.rawValue]))
    }
}
