import Foundation
import GlassboxNN

/// Kernel SHAP (Lundberg & Lee, 2017), computed as the reference `shap` package's
/// `KernelExplainer` computes it.
///
/// For a row `x` with `M` varying players (players whose columns equal every background row's
/// get zero and cost nothing), Shapley values are the solution of a weighted least-squares fit
/// of the coalition values `v(S)` (see ``InterventionalGame``) by `φ₀ + Σ_{i∈S} φ_i`, with the
/// Shapley kernel `π(S) = (M−1) / (C(M,|S|)·|S|·(M−|S|))`, `φ₀ = E f(background)` and
/// efficiency `Σ φ_i = f(x) − E f` imposed exactly by eliminating the last player.
///
/// Coalitions, as in `shap`: the budget is spread over coalition sizes in proportion to the
/// kernel's mass per size, `(M−1)/(s(M−s))`, sizes `s` and `M−s` counted together. Working
/// outwards from the smallest and largest sizes, every size pair whose share of the remaining
/// budget covers all its coalitions is enumerated exactly (weight `π` per coalition); the rest of
/// the budget samples coalitions of the remaining sizes, each with its complement (paired
/// sampling), repeats adding weight instead of evaluations, and the sampled weights are scaled
/// to the kernel mass of the sizes they stand for. With a budget of `2^M − 2` every coalition
/// is enumerated and the result is the exact Shapley value of the game.
///
/// Cost: `f(x)` for each row, `k` rows for `E f`, then per row at most `budget` coalitions ×
/// `k` background rows model evaluations, batched and spread over the workers; the regression
/// is `O(coalitions · M²)`. Default budget `2·M + 2048` per row (shap's "auto"). An MLP's first
/// layer is computed incrementally per coalition (see `InterventionalGame`), which leaves the
/// evaluation count as it is and cuts its cost.
///
/// Each attribution carries a standard error (the sandwich variance of the regression over the
/// sampled draws; zero for enumerated designs), and ``tolerance`` re-samples a row until Covert &
/// Lee's criterion holds.
///
/// `shap` selects features with an L1 path by default (`l1_reg="num_features(10)"`); here the
/// default is the plain constrained regression, and selection (``Regularization``) is opt-in and
/// recorded in the audit.
public struct KernelSHAP: LocalExplainer {
    /// Optional feature selection before the constrained regression.
    public enum Regularization: Sendable, Equatable, CustomStringConvertible {
        /// The plain constrained weighted least squares.
        case none
        /// Keep the `k` players that enter the least-angle regression path first (shap's
        /// `l1_reg="num_features(k)"`); the others get zero.
        case topK(Int)
        /// Keep the players of the Lasso fit chosen by the Akaike information criterion along
        /// the lasso path (shap's `l1_reg="aic"`, its old "auto").
        case aic
        /// The same with the Bayesian information criterion (shap's `l1_reg="bic"`).
        case bic

        public var description: String {
            switch self {
            case .none: return "none"
            case .topK(let k): return "top-\(k) (LARS)"
            case .aic: return "aic (lasso path)"
            case .bic: return "bic (lasso path)"
            }
        }
    }

    /// Background rows defining the absent-player values and `φ₀ = E f(background)`.
    public var background: Background
    /// Players (default: one per feature).
    public var players: Players?
    /// Coalitions per explained row (nil: `2·M + 2048` for a row with `M` varying players);
    /// capped at `2^M − 2`, and at most ``maximumBudget``.
    public var budget: Int?
    /// The largest budget accepted: every coalition of 20 players. A row's schedule, values and
    /// regression are held in memory, so the budget bounds what an explanation allocates.
    public static let maximumBudget = 1 << 20
    /// Feature selection before the regression (default ``Regularization/none``).
    public var regularization: Regularization
    /// Seed of the coalition sampling; each row's generator is derived from it and the row, so
    /// the attributions are reproducible.
    public var seed: UInt64
    /// Convergence target (Covert & Lee, 2021): when set, each row is re-sampled with larger
    /// budgets until `max_i se(φ_i) ≤ tolerance · (max_i φ_i − min_i φ_i)` for every output, or
    /// the budget reaches ``budgetLimit``. Needs the plain regression (``Regularization/none``).
    public var tolerance: Double?
    /// The hard cap under ``tolerance``: the most coalitions a row evaluates, all rounds
    /// together (nil: ``defaultBudgetLimit``; never above ``maximumBudget``).
    public var budgetLimit: Int?
    /// Default cap of a row's coalitions under ``tolerance``: 65,536.
    public static let defaultBudgetLimit = 1 << 16
    /// The method's name in explanations and audits.
    public var method: String { "kernel-shap" }

    /// An explainer against `background`; see the properties for the parameters.
    public init(background: Background, players: Players? = nil, budget: Int? = nil,
                regularization: Regularization = .none, seed: UInt64 = 0, tolerance: Double? = nil, budgetLimit: Int? = nil) {
        self.background = background
        self.players = players
        self.budget = budget
        self.regularization = regularization
        self.seed = seed
        self.tolerance = tolerance
        self.budgetLimit = budgetLimit
    }

    /// Kernel SHAP values of every row of `rows` (`[n, model.features]`): an explanation with
    /// values `[n, outputs, players]`, their standard errors (see ``CoalitionDesign/solve``; nil
    /// with feature selection) and an audit of the seed, evaluations and wall time. Throws
    /// when `rows` does not fit the model, the players or background do not match it,
    /// `budget` is below the number of players or above ``maximumBudget``, or ``tolerance`` is
    /// not a positive number or its first round samples too few coalitions to estimate an
    /// error. Cost: see the type's documentation; under ``tolerance`` a row costs at most
    /// ``budgetLimit`` coalitions × `k` evaluations (coalitions seen in an earlier round are not
    /// evaluated again).
    public func explain(_ rows: Tensor, model: PredictionFunction) throws -> Explanation {
        let start = DispatchTime.now().uptimeNanoseconds
        try model.checkInput(rows, "rows to explain")
        let players = try self.players ?? Players(features: model.features)
        let game = try InterventionalGame(model: model, background: background, players: players)
        let (n, p, o) = (rows.shape[0], players.count, model.outputs)
        if let budget, budget < p {
            throw GlassboxError.invalidArgument("Kernel SHAP budget \(budget) is below the \(p) players: the regression needs at least one coalition per player")
        }
        if let budget, budget > KernelSHAP.maximumBudget {
            throw GlassboxError.invalidArgument("Kernel SHAP budget \(budget) is above the limit of \(KernelSHAP.maximumBudget) coalitions per row (every coalition of 20 players)")
        }
        if case .topK(let k) = regularization, k < 1 {
            throw GlassboxError.invalidArgument("Kernel SHAP top-k regularisation needs k ≥ 1, got \(k)")
        }
        let limit = min(budgetLimit ?? KernelSHAP.defaultBudgetLimit, KernelSHAP.maximumBudget)
        if let tolerance {
            guard tolerance > 0, tolerance.isFinite else {
                throw GlassboxError.invalidArgument("Kernel SHAP tolerance must be a positive number, got \(tolerance)")
            }
            guard regularization == .none else {
                throw GlassboxError.invalidArgument("Kernel SHAP tolerance needs the plain regression; regularisation \(regularization) has no standard errors")
            }
            if let budgetLimit, budgetLimit < (budget ?? p) {
                throw GlassboxError.invalidArgument("Kernel SHAP budget limit \(budgetLimit) is below the starting budget \(budget ?? p)")
            }
        }
        let fx = try model(rows)
        let base = try game.baseValue()
        var phi = [Float](repeating: 0, count: n * o * p)
        var se = [Float](repeating: 0, count: n * o * p)
        let d = model.features
        // One task per explained row — its coalitions, their `coalitions × background` model rows
        // streamed in batches on that task's own lane, and its regression — claimed dynamically
        // by the workers: no barrier between rows, and a worker that the machine delays holds up
        // only the row it is on. Each row's result depends on nothing else, so it is the same
        // whatever the order.
        var perRow = [RowStats](repeating: RowStats(), count: n)
        var errors = [(any Error)?](repeating: nil, count: n)
        rows.scalars.withUnsafeBufferPointer { xs in
            phi.withUnsafeMutableBufferPointer { out in
                se.withUnsafeMutableBufferPointer { seOut in
                    perRow.withUnsafeMutableBufferPointer { stats in
                        errors.withUnsafeMutableBufferPointer { errorSlots in
                            Compute.parallelFor(n) { r in
                                do {
                                    let xr = xs.baseAddress! + r * d
                                    let delta = (0..<o).map { Double(fx.scalars[r * o + $0]) - base[$0] }
                                    let row = try explainRow(xr, features: d, game: game, players: p, outputs: o, base: base,
                                                             delta: delta, limit: limit)
                                    let m = row.varying.count
                                    for j in 0..<o {
                                        for (t, player) in row.varying.enumerated() {
                                            out[(r * o + j) * p + player] = Float(row.phi[j * m + t])
                                            seOut[(r * o + j) * p + player] = Float(row.standardErrors[j * m + t])
                                        }
                                    }
                                    stats[r] = row.stats
                                } catch {
                                    errorSlots[r] = error
                                }
                            }
                        }
                    }
                }
            }
        }
        if let error = errors.lazy.compactMap({ $0 }).first { throw error }
        let evaluations = n + background.count + perRow.reduce(0) { $0 + $1.evaluations }
        let coalitions = perRow.reduce(0) { $0 + $1.coalitions }
        let singular = perRow.filter(\.singular).count
        let reference = Tensor(uncheckedShape: [n, o], scalars: (0..<(n * o)).map { Float(base[$0 % o]) })
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var settings = [
            "budget": budget.map(String.init) ?? "auto (2·M + 2048)", "background": background.summary, "regularization": regularization.description,
            "output": model.output.rawValue,
            "coalitions_per_row": String(format: "%.1f", n > 0 ? Double(coalitions) / Double(n) : 0),
        ]
        if singular > 0 { settings["singular_regressions"] = String(singular) }
        if let tolerance {
            settings["tolerance"] = String(tolerance)
            settings["budget_limit"] = String(limit)
            settings["rows_converged"] = "\(perRow.filter(\.converged).count) of \(n)"
            settings["error_reached"] = String(format: "%.4g", perRow.map(\.error).max() ?? 0)
            settings["final_budget_per_row_max"] = String(perRow.map(\.budget).max() ?? 0)
        }
        var explanation = Explanation(method: method, values: Tensor(uncheckedShape: [n, o, p], scalars: phi), players: players,
                                      outputs: Array(0..<o), predictions: fx, reference: reference,
                                      audit: Audit(seed: seed, modelEvaluations: evaluations, wallSeconds: seconds, settings: settings))
        if regularization == .none { explanation.standardErrors = Tensor(uncheckedShape: [n, o, p], scalars: se) }
        return explanation
    }

    /// What one row's estimate cost and how close it got.
    struct RowStats {
        var coalitions = 0, evaluations = 0, singular = false
        /// Covert–Lee relative error `max se / (max φ − min φ)` (0 when exact; NaN when not estimated).
        var error = 0.0
        var converged = true
        var budget = 0
    }

    /// One row: its design, values and regression — repeated with larger budgets under
    /// ``tolerance``, each round's coalitions looked up among the earlier rounds' first.
    private func explainRow(_ xr: UnsafePointer<Float>, features d: Int, game: InterventionalGame, players p: Int, outputs o: Int,
                            base: [Double], delta: [Double], limit: Int) throws
        -> (varying: [Int], phi: [Double], standardErrors: [Double], stats: RowStats) {
        let varying = game.varyingPlayers(xr)
        let m = varying.count
        var rng = rowGenerator(seed: seed, row: xr, features: d)
        let x = Tensor(uncheckedShape: [1, d], scalars: Array(UnsafeBufferPointer(start: xr, count: d)))
        var currentBudget = budget ?? 2 * m + 2048
        var stats = RowStats()
        var cache: [CoalitionKey: [Double]] = [:]
        var round = 0
        while true {
            round += 1
            let design = CoalitionDesign(varying: varying, players: p, budget: currentBudget, rng: &rng)
            var values: [Double]
            if tolerance == nil {
                let (result, used) = try game.values(of: x, masks: [design.gameMasks])
                values = result[0]
                stats.evaluations += used
            } else {
                // Coalitions of earlier rounds are not evaluated again.
                var keys: [CoalitionKey] = []
                var missing: [UInt8] = []
                keys.reserveCapacity(design.count)
                for i in 0..<design.count {
                    let key = CoalitionKey(Array(design.masks[(i * m)..<((i + 1) * m)]), count: m)
                    keys.append(key)
                    if cache[key] == nil {
                        cache[key] = []
                        missing += design.gameMasks[(i * p)..<((i + 1) * p)]
                    }
                }
                if !missing.isEmpty {
                    let (result, used) = try game.values(of: x, masks: [missing])
                    stats.evaluations += used
                    var next = 0
                    for key in keys where cache[key]!.isEmpty {
                        cache[key] = Array(result[0][(next * o)..<((next + 1) * o)])
                        next += 1
                    }
                }
                values = []
                values.reserveCapacity(design.count * o)
                for key in keys { values += cache[key]! }
            }
            let solution = design.solve(values: values, base: base, delta: delta, outputs: o, regularization: regularization)
            stats.coalitions = design.count
            stats.singular = stats.singular || solution.singular
            stats.budget = currentBudget
            guard let tolerance else {
                return (varying, solution.phi, solution.standardErrors ?? [Double](repeating: .nan, count: o * m), stats)
            }
            let standardErrors = solution.standardErrors ?? [Double](repeating: .nan, count: o * m)
            let error = design.isComplete ? 0 : KernelSHAP.relativeError(phi: solution.phi, standardErrors: standardErrors, outputs: o, players: m)
            stats.error = error
            if round == 1 && error.isNaN {
                throw GlassboxError.invalidArgument("Kernel SHAP budget \(currentBudget) samples \(Int(design.drawCounts.reduce(0, +))) draws of coalitions, fewer than the \(m) varying players: too few to estimate an error; raise --budget")
            }
            let converged = error <= tolerance
            // The next round may evaluate at most what is left under the limit, all of it new.
            let room = limit - cache.count
            if converged || design.isComplete || room <= currentBudget {
                stats.converged = converged || design.isComplete
                return (varying, solution.phi, standardErrors, stats)
            }
            // The sampled part's variance falls as 1/budget: aim for the tolerance with 20 % to
            // spare, growing at least 2× and at most 16× per round.
            let projected = Double(currentBudget) * (error / tolerance) * (error / tolerance) * 1.2
            currentBudget = min(room, Int(min(16 * Double(currentBudget), max(2 * Double(currentBudget), projected))))
        }
    }

    /// Covert & Lee's convergence measure: the largest standard error over the spread of the
    /// values, `max_i se_i / (max_i φ_i − min_i φ_i)`, the largest over outputs (`phi` and
    /// `standardErrors` are `[outputs, players]`). NaN when a standard error is NaN.
    static func relativeError(phi: [Double], standardErrors: [Double], outputs o: Int, players m: Int) -> Double {
        guard m > 0 else { return 0 }
        var worst = 0.0
        for j in 0..<o {
            let values = phi[(j * m)..<((j + 1) * m)], errors = standardErrors[(j * m)..<((j + 1) * m)]
            if errors.contains(where: \.isNaN) { return .nan }
            let largest = errors.max()!
            let spread = values.max()! - values.min()!
            worst = max(worst, largest == 0 ? 0 : spread > 0 ? largest / spread : .infinity)
        }
        return worst
    }
}

/// The coalitions Kernel SHAP evaluates for one row and their kernel weights.
struct CoalitionDesign {
    /// Varying players, in player order; the regression's variables.
    let varying: [Int]
    /// `[count, varying.count]` membership bytes.
    let masks: [UInt8]
    /// Kernel weight of each coalition.
    let weights: [Double]
    /// `[count, players]` membership bytes for the game.
    let gameMasks: [UInt8]
    var count: Int { weights.count }
    /// Coalitions `0..<exactCoalitions` are whole sizes enumerated (no sampling error); the rest are
    /// sampled.
    let exactCoalitions: Int
    /// The sampled coalitions as draws: draw group `g` is coalitions `drawStarts[g]..<drawStarts[g + 1]`
    /// (a coalition, with its complement for paired sizes), drawn `drawCounts[g]` times.
    let drawStarts: [Int]
    let drawCounts: [Double]
    /// Kernel mass of the sampled sizes, spread over the draws: each coalition's weight is its
    /// draw count × `sampledMass / Σ (draw count × coalitions in the draw)`.
    let sampledMass: Double
    /// Whether every coalition of the varying players is in the design (the regression is exact).
    var isComplete: Bool { varying.count < 2 || (drawCounts.isEmpty && count == maxCoalitions) }
    /// `2^M − 2`, the coalitions there are (capped at 2^30).
    var maxCoalitions: Int { varying.count <= 30 ? (1 << varying.count) - 2 : 1 << 30 }

    /// shap's `KernelExplainer.explain` coalition schedule (see ``KernelSHAP``).
    init(varying: [Int], players: Int, budget: Int, rng: inout SeededGenerator) {
        self.varying = varying
        let m = varying.count
        guard m >= 2 else {
            (masks, weights, gameMasks, exactCoalitions, drawStarts, drawCounts, sampledMass) = ([], [], [], 0, [0], [], 0)
            return
        }
        let maxSamples = m <= 30 ? (1 << m) - 2 : 1 << 30
        let samples = min(budget, maxSamples)
        // Written in place (at most `samples` coalitions), trimmed at the end.
        var masks = [UInt8](repeating: 0, count: samples * m), weights: [Double] = []
        weights.reserveCapacity(samples)
        func add(_ mask: [UInt8], _ weight: Double) {
            let start = weights.count * m
            masks.withUnsafeMutableBufferPointer { target in
                mask.withUnsafeBufferPointer { source in
                    (target.baseAddress! + start).update(from: source.baseAddress!, count: m)
                }
            }
            weights.append(weight)
        }
        var count: Int { weights.count }
        let sizes = m / 2                 // ceil((M−1)/2)
        let pairedSizes = (m - 1) / 2     // floor((M−1)/2)
        var kernel = (1...sizes).map { s in Double(m - 1) / Double(s * (m - s)) }
        for s in 0..<pairedSizes { kernel[s] *= 2 }
        let kernelTotal = kernel.reduce(0, +)
        kernel = kernel.map { $0 / kernelTotal }

        var fullSizes = 0
        var samplesLeft = Double(samples)
        var remaining = kernel
        var mask = [UInt8](repeating: 0, count: m)
        for size in 1...sizes {
            let paired = size <= pairedSizes
            let subsets = binomial(m, size) * (paired ? 2 : 1)
            guard samplesLeft * remaining[size - 1] / subsets >= 1 - 1e-8 else { break }
            fullSizes += 1
            samplesLeft -= subsets
            if remaining[size - 1] < 1 {
                let scale = 1 - remaining[size - 1]
                remaining = remaining.map { $0 / scale }
            }
            let w = kernel[size - 1] / binomial(m, size) / (paired ? 2 : 1)
            // Every `size`-subset in lexicographic order (itertools.combinations), then its complement.
            var members = Array(0..<size)
            while true {
                for i in 0..<m { mask[i] = 0 }
                for i in members { mask[i] = 1 }
                add(mask, w)
                if paired {
                    for i in 0..<m { mask[i] = 1 - mask[i] }
                    add(mask, w)
                }
                var i = size - 1
                while i >= 0 && members[i] == m - size + i { i -= 1 }
                if i < 0 { break }
                members[i] += 1
                for j in (i + 1)..<size { members[j] = members[j - 1] + 1 }
            }
        }

        let fixed = count
        var left = samples - fixed
        var drawStarts = [fixed], drawCounts: [Double] = [], sampledMass = 0.0
        if fullSizes != sizes && left > 0 {
            var draw = Array(kernel[fullSizes...])
            for s in fullSizes..<pairedSizes { draw[s - fullSizes] /= 2 }   // each draw adds two coalitions
            let drawTotal = draw.reduce(0, +)
            var cumulative: [Double] = []
            var acc = 0.0
            for w in draw { acc += w / drawTotal; cumulative.append(acc) }
            // Coalitions seen so far, keyed by their membership bits.
            var seen: [CoalitionKey: Int] = [:]
            seen.reserveCapacity(left)
            var order = Array(0..<m)
            var draws = 4 * left
            while left > 0 && draws > 0 {
                draws -= 1
                let u = rng.uniformDouble()
                let index = cumulative.firstIndex { u < $0 } ?? cumulative.count - 1
                let size = index + fullSizes + 1
                for i in 0..<m { mask[i] = 0 }
                for t in 0..<size {
                    order.swapAt(t, t + rng.int(below: m - t))
                    mask[order[t]] = 1
                }
                let paired = size <= pairedSizes
                var isNew = false
                let bits = CoalitionKey(mask, count: m)
                if let earlier = seen[bits] {
                    weights[earlier] += 1
                } else {
                    isNew = true
                    seen[bits] = count
                    left -= 1
                    add(mask, 1)
                }
                if isNew && !(left > 0 && paired) { drawStarts.append(count) }
                guard left > 0 && paired else { continue }
                for i in 0..<m { mask[i] = 1 - mask[i] }
                if isNew {
                    left -= 1
                    add(mask, 1)
                    drawStarts.append(count)
                } else {
                    // The complement was added right after its coalition.
                    weights[seen[bits]! + 1] += 1
                }
            }
            let weightLeft = kernel[fullSizes...].reduce(0, +)
            let sampled = weights[fixed...].reduce(0, +)
            drawCounts = drawStarts.dropLast().map { weights[$0] }
            for i in fixed..<count { weights[i] *= weightLeft / sampled }
            sampledMass = weightLeft
        }

        masks.removeLast(masks.count - count * m)
        var game = [UInt8](repeating: 0, count: count * players)
        if m == players {
            game = masks  // every player varies: the same bytes
        } else {
            for i in 0..<count {
                for (t, player) in varying.enumerated() { game[i * players + player] = masks[i * m + t] }
            }
        }
        (self.masks, self.weights, self.gameMasks) = (masks, weights, game)
        (self.exactCoalitions, self.drawStarts, self.drawCounts, self.sampledMass) = (fixed, drawStarts, drawCounts, sampledMass)
    }

    /// φ for the varying players, `[outputs, M]` flattened, from the coalition values
    /// `values` (`[count, outputs]`), `base = E f` and `delta = f(x) − E f` per output, with
    /// their standard errors (`[outputs, M]`; nil with feature selection).
    ///
    /// Standard errors: the estimate solves `(A_e + (W/S)·Σ_d a_d) β = b_e + (W/S)·Σ_d b_d`, the
    /// enumerated sizes' exact normal equations plus the sampled draws' (`d` runs over draws, each
    /// a coalition and for paired sizes its complement, with unit weights; `W` the sampled sizes'
    /// kernel mass, `S = Σ_d n_d` the coalitions drawn). Linearising this ratio estimator (the
    /// sandwich estimator of Covert & Lee, 2021, for this schedule) gives the influence of draw
    /// `d` as `ψ_d = A⁻¹ u_d` with `u_d = r_d − (n_d/n̄)·r̄`, `r_d = Σ_{S∈d} x_S (y_S − x_Sᵀβ)`, so
    ///
    ///     Cov(β) ≈ (W/S)² · N/(N−1) · A⁻¹ (Σ_d u_d u_dᵀ) A⁻¹,     N draws,
    ///
    /// and the eliminated player's variance is `1ᵀ Cov 1`. Zero when every coalition is in the
    /// design; NaN with fewer draws than players (too few to estimate the covariance). Cost:
    /// `O(draws · M²)` per output, about the regression's own.
    func solve(values: [Double], base: [Double], delta: [Double], outputs o: Int,
               regularization: KernelSHAP.Regularization) -> (phi: [Double], standardErrors: [Double]?, singular: Bool) {
        let m = varying.count
        var phi = [Double](repeating: 0, count: o * m)
        if m == 0 { return (phi, [], false) }
        if m == 1 { return (delta, [Double](repeating: 0, count: o), false) }
        var singular = false
        var errors: [Double]? = nil
        switch regularization {
        case .none:
            let (solution, normal, flag) = constrainedRegression(Array(0..<m), values: values, base: base, delta: delta, outputs: Array(0..<o), o: o)
            singular = flag
            for j in 0..<o { for t in 0..<m { phi[j * m + t] = solution[j * m + t] } }
            errors = standardErrors(phi: phi, normal: normal, values: values, base: base, delta: delta, outputs: o)
        case .topK, .aic, .bic:
            for j in 0..<o {
                let selected = select(regularization, values: values, base: base[j], delta: delta[j], output: j, o: o)
                guard !selected.isEmpty else { continue }
                let (solution, _, flag) = constrainedRegression(selected, values: values, base: base, delta: delta, outputs: [j], o: o)
                singular = singular || flag
                for (t, v) in selected.enumerated() { phi[j * m + v] = solution[t] }
            }
        }
        return (phi, errors, singular)
    }

    /// The standard errors of the plain regression's `phi` (`[outputs, M]`) given its normal
    /// matrix `normal` (`[M−1, M−1]`); see ``solve(values:base:delta:outputs:regularization:)``.
    private func standardErrors(phi: [Double], normal a: [Double], values: [Double], base: [Double], delta: [Double],
                                outputs o: Int) -> [Double] {
        let m = varying.count, free = m - 1
        let draws = drawCounts.count
        let n = drawCounts.reduce(0, +)
        if isComplete { return [Double](repeating: 0, count: o * m) }
        // Fewer draws than players: the draws' covariance has too few degrees of freedom to say anything.
        guard draws > 0, n >= Double(max(2, m)) else { return [Double](repeating: .nan, count: o * m) }
        var coalitionsDrawn = 0.0
        for g in 0..<draws { coalitionsDrawn += drawCounts[g] * Double(drawStarts[g + 1] - drawStarts[g]) }
        let meanSize = coalitionsDrawn / n
        let scale = sampledMass / coalitionsDrawn
        var result = [Double](repeating: 0, count: o * m)
        var r = [Double](repeating: 0, count: draws * free)
        var x = [Double](repeating: 0, count: free)
        for j in 0..<o {
            let beta = Array(phi[(j * m)..<(j * m + free)])
            let betaSum = beta.reduce(0, +)
            for i in 0..<(draws * free) { r[i] = 0 }
            var mean = [Double](repeating: 0, count: free)
            for g in 0..<draws {
                for i in drawStarts[g]..<drawStarts[g + 1] {
                    let row = i * m
                    let last = Double(masks[row + free])
                    var fit = -last * betaSum
                    for t in 0..<free {
                        x[t] = Double(masks[row + t]) - last
                        fit += Double(masks[row + t]) * beta[t]
                    }
                    let residual = values[i * o + j] - base[j] - last * delta[j] - fit
                    for t in 0..<free { r[g * free + t] += x[t] * residual }
                }
                for t in 0..<free { mean[t] += drawCounts[g] * r[g * free + t] }
            }
            for t in 0..<free { mean[t] /= n }
            // Σ_d u_d u_dᵀ, each draw group counted as often as it was drawn.
            var outer = [Double](repeating: 0, count: free * free)
            var u = [Double](repeating: 0, count: free)
            for g in 0..<draws {
                let size = Double(drawStarts[g + 1] - drawStarts[g]) / meanSize
                for t in 0..<free { u[t] = r[g * free + t] - size * mean[t] }
                let c = drawCounts[g]
                for t in 0..<free {
                    let cu = c * u[t]
                    for v in t..<free { outer[t * free + v] += cu * u[v] }
                }
            }
            for t in 0..<free { for v in 0..<t { outer[t * free + v] = outer[v * free + t] } }
            // A⁻¹ · outer · A⁻¹ by two symmetric solves.
            let left = LeastSquares.solveSymmetric(a, outer, m: free, r: free).x
            var transposed = left
            for t in 0..<free { for v in 0..<free { transposed[t * free + v] = left[v * free + t] } }
            let covariance = LeastSquares.solveSymmetric(a, transposed, m: free, r: free).x
            let factor = scale * scale * n / (n - 1)
            var total = 0.0
            for t in 0..<free {
                result[j * m + t] = (max(0, covariance[t * free + t]) * factor).squareRoot()
                for v in 0..<free { total += covariance[t * free + v] }
            }
            result[j * m + free] = (max(0, total) * factor).squareRoot()
        }
        return result
    }

    /// Weighted least squares over the variables `selected` (positions in `varying`) for the
    /// given outputs, the last selected variable eliminated by `Σφ = delta`. Returns
    /// `[outputs.count, selected.count]` and the normal matrix of the free variables.
    private func constrainedRegression(_ selected: [Int], values: [Double], base: [Double], delta: [Double],
                                       outputs: [Int], o: Int) -> (phi: [Double], normal: [Double], singular: Bool) {
        let m = varying.count, q = selected.count, r = outputs.count
        guard q > 1 else { return (outputs.map { delta[$0] }, [], false) }
        let free = q - 1
        // With z the 0/1 memberships of the selected variables (the eliminated one, l, last) and
        // y the adjusted values, the normal equations of x = z_free − z_l are
        //   XᵀWX[t][u] = G[t][u] − G[t][l] − G[l][u] + G[l][l],  XᵀWY[t] = H[t] − H[l],
        // with G = Σ w z zᵀ and H = Σ w z yᵀ. Each coalition adds to G and H over its smaller side:
        // its members, or — through z = 1 − z̄ — its non-members (then G gains w(11ᵀ − 1z̄ᵀ − z̄1ᵀ
        // + z̄z̄ᵀ) and H gains w(1 − z̄)yᵀ, the all-ones terms summed once at the end). Cost per
        // coalition: (smaller side)² instead of q².
        var g = [Double](repeating: 0, count: q * q), h = [Double](repeating: 0, count: q * r)
        var gc = [Double](repeating: 0, count: q * q), hc = [Double](repeating: 0, count: q * r)
        var rc = [Double](repeating: 0, count: q), yc = [Double](repeating: 0, count: r)
        var wc = 0.0
        var y = [Double](repeating: 0, count: r), side = [Int](repeating: 0, count: q)
        let outputIndex = outputs
        masks.withUnsafeBufferPointer { maskBuffer in
            selected.withUnsafeBufferPointer { selectedBuffer in
                let (z, sel) = (maskBuffer.baseAddress!, selectedBuffer.baseAddress!)
                for i in 0..<count {
                    let w = weights[i], row = z + i * m
                    let lastIn = Double(row[sel[free]])
                    for c in 0..<r { y[c] = values[i * o + outputIndex[c]] - base[outputIndex[c]] - lastIn * delta[outputIndex[c]] }
                    var members = 0
                    for t in 0..<q { members += Int(row[sel[t]] != 0 ? 1 : 0) }
                    let complement = members > q - members
                    // Branch-free: memberships are random, so a branch per variable mispredicts.
                    var n = 0
                    let flip: UInt8 = complement ? 1 : 0
                    for t in 0..<q {
                        side[n] = t
                        n += Int((row[sel[t]] != 0 ? 1 : 0) ^ flip)
                    }
                    if complement {
                        wc += w
                        for c in 0..<r { yc[c] += w * y[c] }
                        for e in 0..<n {
                            let t = side[e]
                            rc[t] += w
                            for f in e..<n { gc[t * q + side[f]] += w }
                            for c in 0..<r { hc[t * r + c] += w * y[c] }
                        }
                    } else {
                        for e in 0..<n {
                            let t = side[e]
                            for f in e..<n { g[t * q + side[f]] += w }
                            for c in 0..<r { h[t * r + c] += w * y[c] }
                        }
                    }
                }
            }
        }
        // Upper triangles to full matrices, then the complement terms.
        for t in 0..<q {
            for u in 0..<t { (g[t * q + u], gc[t * q + u]) = (g[u * q + t], gc[u * q + t]) }
        }
        for t in 0..<q {
            for u in 0..<q { g[t * q + u] += wc - rc[t] - rc[u] + gc[t * q + u] }
            for c in 0..<r { h[t * r + c] += yc[c] - hc[t * r + c] }
        }
        let l = free
        var a = [Double](repeating: 0, count: free * free)
        var b = [Double](repeating: 0, count: free * r)
        for t in 0..<free {
            for u in 0..<free { a[t * free + u] = g[t * q + u] - g[t * q + l] - g[l * q + u] + g[l * q + l] }
            for c in 0..<r { b[t * r + c] = h[t * r + c] - h[l * r + c] }
        }
        let (solution, singular) = LeastSquares.solveSymmetric(a, b, m: free, r: r)
        var phi = [Double](repeating: 0, count: r * q)
        for c in 0..<r {
            var sum = 0.0
            for t in 0..<free { phi[c * q + t] = solution[t * r + c]; sum += solution[t * r + c] }
            phi[c * q + free] = delta[outputs[c]] - sum
        }
        return (phi, a, singular)
    }

    /// shap's feature selection on the efficiency-augmented problem: each coalition appears
    /// once as is (weight `π·(M−|S|)`) and once shifted by the full change (weight `π·|S|`).
    /// Returns the kept positions in increasing order.
    private func select(_ regularization: KernelSHAP.Regularization, values: [Double], base: Double, delta: Double,
                        output j: Int, o: Int) -> [Int] {
        let m = varying.count, n = count
        if case .topK(let k) = regularization, k >= m { return Array(0..<m) }
        var x = [Double](repeating: 0, count: 2 * n * m)
        var y = [Double](repeating: 0, count: 2 * n)
        for i in 0..<n {
            var size = 0.0
            for t in 0..<m { size += Double(masks[i * m + t]) }
            let (w1, w2) = ((weights[i] * (Double(m) - size)).squareRoot(), (weights[i] * size).squareRoot())
            let adjusted = values[i * o + j] - base
            y[i] = w1 * adjusted
            y[n + i] = w2 * (adjusted - delta)
            for t in 0..<m {
                let z = Double(masks[i * m + t])
                x[i * m + t] = w1 * z
                x[(n + i) * m + t] = w2 * (z - 1)
            }
        }
        switch regularization {
        case .topK(let k):
            return (LeastSquares.lars(x, y, n: 2 * n, m: m, lasso: false, maxActive: k).last?.active ?? []).sorted()
        case .aic: return LeastSquares.informationCriterionSelection(x, y, n: 2 * n, m: m, factor: 2)
        case .bic: return LeastSquares.informationCriterionSelection(x, y, n: 2 * n, m: m, factor: log(Double(2 * n)))
        case .none: return Array(0..<m)
        }
    }
}

/// A coalition's membership bits, for finding repeated draws: the first 64 players inline, the
/// rest (rarely any) in an array.
struct CoalitionKey: Hashable {
    let low: UInt64
    let high: [UInt64]

    /// The members of `mask` (`count` membership bytes, non-zero for a member).
    init(_ mask: [UInt8], count m: Int) {
        var low: UInt64 = 0
        for i in 0..<min(m, 64) where mask[i] != 0 { low |= 1 << UInt64(i) }
        var high: [UInt64] = []
        if m > 64 {
            high = [UInt64](repeating: 0, count: (m - 1) / 64)
            for i in 64..<m where mask[i] != 0 { high[(i >> 6) - 1] |= 1 << UInt64(i & 63) }
        }
        (self.low, self.high) = (low, high)
    }
}

/// `C(n, k)` as a Double (exact for the sizes used here).
func binomial(_ n: Int, _ k: Int) -> Double {
    guard k >= 0, k <= n else { return 0 }
    var result = 1.0
    for i in 0..<min(k, n - k) { result = result * Double(n - i) / Double(i + 1) }
    return result.rounded()
}
