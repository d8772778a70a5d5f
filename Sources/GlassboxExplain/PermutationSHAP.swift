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
/// Standard errors: the pairs are independent, so each attribution's standard error is the
/// sample standard deviation of its per-pair value `(Δ_π + Δ_reversed π)/2` over `√P` (two pairs
/// at least). Under ``tolerance`` a row draws more pairs, in rounds, until Covert & Lee's
/// criterion `max_i se_i ≤ tolerance · (max_i φ_i − min_i φ_i)` holds for every output or its
/// budget reaches ``budgetLimit``.
///
/// Cost: `2·(p−1)` coalitions per pair × `k` background rows model evaluations per explained
/// row. The budget is in coalitions like Kernel SHAP's (default `2·p + 2048`), giving
/// `max(1, budget / (2·(p−1)))` pairs.
public struct PermutationSHAP: LocalExplainer {
    /// The background rows the game averages over.
    public var background: Background
    /// Players (default: one per feature).
    public var players: Players?
    /// Coalitions per explained row (nil: `2·p + 2048`); under ``tolerance``, the first round's.
    public var budget: Int?
    /// The largest budget accepted (as ``KernelSHAP/maximumBudget``): a block's coalitions are held
    /// in memory, so the budget bounds what an explanation allocates.
    public static let maximumBudget = KernelSHAP.maximumBudget
    /// Seed of the sampled orders.
    public var seed: UInt64
    /// Convergence target (see the type); nil samples the budget once.
    public var tolerance: Double?
    /// The hard cap on a row's coalitions under ``tolerance`` (nil: ``KernelSHAP/defaultBudgetLimit``).
    public var budgetLimit: Int?
    /// `"permutation-shap"`.
    public var method: String { "permutation-shap" }

    /// Makes the explainer.
    public init(background: Background, players: Players? = nil, budget: Int? = nil, seed: UInt64 = 0,
                tolerance: Double? = nil, budgetLimit: Int? = nil) {
        self.background = background
        self.players = players
        self.budget = budget
        self.seed = seed
        self.tolerance = tolerance
        self.budgetLimit = budgetLimit
    }

    /// Estimated Shapley values of every row `[n, features]` (efficiency exact) with their
    /// standard errors (NaN for rows sampled with a single pair).
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
        let limit = min(budgetLimit ?? KernelSHAP.defaultBudgetLimit, PermutationSHAP.maximumBudget)
        if let tolerance {
            guard tolerance > 0, tolerance.isFinite else {
                throw GlassboxError.invalidArgument("permutation SHAP tolerance must be a positive number, got \(tolerance)")
            }
            guard budget >= 2 * walk else {
                throw GlassboxError.invalidArgument("permutation SHAP budget \(budget) gives one pair of permutations for \(p) players; estimating an error needs two (budget ≥ \(2 * walk))")
            }
            guard limit >= budget else {
                throw GlassboxError.invalidArgument("permutation SHAP budget limit \(limit) is below the starting budget \(budget)")
            }
        }
        let fx = try model(rows)
        let base = try game.baseValue()
        var evaluations = n + background.count
        // Per row and output: Σ and Σ² of the per-pair values, and the pairs drawn.
        var sums = [Double](repeating: 0, count: n * o * p), squares = sums
        var pairsDrawn = [Int](repeating: 0, count: n)
        var generators = rows.scalars.withUnsafeBufferPointer { xs in
            (0..<n).map { rowGenerator(seed: seed, row: xs.baseAddress! + $0 * d, features: d) }
        }
        var wanted = [Int](repeating: budget / walk, count: n)
        var errors = [Double](repeating: 0, count: n)
        var active = Array(0..<n)
        let maxPairs = max(1, limit / walk)
        while !active.isEmpty {
            let perBlock = max(1, 32_768 / walk)
            var blockStart = 0
            while blockStart < active.count {
                // Rows whose new pairs together fill about 32,768 coalitions.
                var blockEnd = blockStart, blockPairs = 0
                while blockEnd < active.count && (blockEnd == blockStart || blockPairs + wanted[active[blockEnd]] <= perBlock) {
                    blockPairs += wanted[active[blockEnd]]
                    blockEnd += 1
                }
                let block = Array(active[blockStart..<blockEnd])
                blockStart = blockEnd
                // Orders per row: pairs × (π, reversed π); the game sees the p−1 proper prefixes of each.
                var orders: [[Int]] = []
                var masks: [[UInt8]] = []
                for r in block {
                    var rowMasks: [UInt8] = []
                    var rowOrders: [Int] = []
                    for _ in 0..<wanted[r] {
                        let forward = generators[r].permutation(p)
                        for order in [forward, forward.reversed()] {
                            rowOrders += order
                            var mask = [UInt8](repeating: 0, count: p)
                            for t in 0..<(p - 1) { mask[order[t]] = 1; rowMasks += mask }
                        }
                    }
                    orders.append(rowOrders)
                    masks.append(rowMasks)
                }
                let x = Tensor(uncheckedShape: [block.count, d], scalars: block.flatMap { rows.scalars[($0 * d)..<(($0 + 1) * d)] })
                let (values, used) = p > 1 ? try game.values(of: x, masks: masks) : (masks.map { _ in [] }, 0)
                evaluations += used
                var pairValue = [Double](repeating: 0, count: p)
                for (i, v) in values.enumerated() {
                    let r = block[i]
                    for j in 0..<o {
                        let full = Double(fx.scalars[r * o + j])
                        let cell = (r * o + j) * p
                        for pair in 0..<wanted[r] {
                            for player in 0..<p { pairValue[player] = 0 }
                            for w in (2 * pair)..<(2 * pair + 2) {
                                var previous = base[j]
                                for t in 0..<p {
                                    let current = t < p - 1 ? v[(w * (p - 1) + t) * o + j] : full
                                    pairValue[orders[i][w * p + t]] += (current - previous) / 2
                                    previous = current
                                }
                            }
                            for player in 0..<p {
                                sums[cell + player] += pairValue[player]
                                squares[cell + player] += pairValue[player] * pairValue[player]
                            }
                        }
                    }
                    pairsDrawn[r] += wanted[r]
                }
            }
            guard let tolerance else { break }
            var stillActive: [Int] = []
            for r in active {
                let pairs = Double(pairsDrawn[r])
                let cells = (r * o * p)..<((r + 1) * o * p)
                let phi = cells.map { sums[$0] / pairs }
                let se = cells.map { PermutationSHAP.standardError(sum: sums[$0], squares: squares[$0], pairs: pairs) }
                errors[r] = p > 1 ? KernelSHAP.relativeError(phi: phi, standardErrors: se, outputs: o, players: p) : 0
                guard errors[r] > tolerance, pairsDrawn[r] < maxPairs else { continue }
                // The variance falls as 1/pairs: aim for the tolerance with 20 % to spare,
                // growing at least 2× and at most 16× per round.
                let projected = pairs * (errors[r] / tolerance) * (errors[r] / tolerance) * 1.2
                let target = min(Double(maxPairs), min(16 * pairs, max(2 * pairs, projected)))
                wanted[r] = Int(target) - pairsDrawn[r]
                if wanted[r] > 0 { stillActive.append(r) }
            }
            active = stillActive
        }
        var phi = [Float](repeating: 0, count: n * o * p), se = phi
        for r in 0..<n {
            let pairs = Double(pairsDrawn[r])
            for cell in (r * o * p)..<((r + 1) * o * p) {
                phi[cell] = Float(sums[cell] / pairs)
                se[cell] = p > 1 ? Float(PermutationSHAP.standardError(sum: sums[cell], squares: squares[cell], pairs: pairs)) : 0
            }
        }
        let reference = Tensor(uncheckedShape: [n, o], scalars: (0..<(n * o)).map { Float(base[$0 % o]) })
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var settings = ["budget": String(budget), "permutation_pairs": tolerance == nil ? String(budget / walk) : String(format: "%.1f per row", Double(pairsDrawn.reduce(0, +)) / Double(max(1, n))),
                        "background": background.summary, "output": model.output.rawValue]
        if let tolerance {
            settings["tolerance"] = String(tolerance)
            settings["budget_limit"] = String(limit)
            settings["rows_converged"] = "\(errors.filter { $0 <= tolerance }.count) of \(n)"
            settings["error_reached"] = String(format: "%.4g", errors.max() ?? 0)
        }
        var explanation = Explanation(method: method, values: Tensor(uncheckedShape: [n, o, p], scalars: phi), players: players,
                                      outputs: Array(0..<o), predictions: fx, reference: reference,
                                      audit: Audit(seed: seed, modelEvaluations: evaluations, wallSeconds: seconds, settings: settings))
        explanation.standardErrors = Tensor(uncheckedShape: [n, o, p], scalars: se)
        return explanation
    }

    /// `sd / √pairs` of per-pair values with sum `sum` and sum of squares `squares`; NaN below two pairs.
    static func standardError(sum: Double, squares: Double, pairs: Double) -> Double {
        guard pairs >= 2 else { return .nan }
        let mean = sum / pairs
        return (max(0, squares - pairs * mean * mean) / (pairs - 1) / pairs).squareRoot()
    }
}
