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
    /// The method's name in explanations and audits.
    public var method: String { "kernel-shap" }

    /// An explainer against `background`; see the properties for the parameters.
    public init(background: Background, players: Players? = nil, budget: Int? = nil,
                regularization: Regularization = .none, seed: UInt64 = 0) {
        self.background = background
        self.players = players
        self.budget = budget
        self.regularization = regularization
        self.seed = seed
    }

    /// Kernel SHAP values of every row of `rows` (`[n, model.features]`): an explanation with
    /// values `[n, outputs, players]` and an audit of the seed, evaluations and wall time. Throws
    /// when `rows` does not fit the model, the players or background do not match it, or
    /// `budget` is below the number of players or above ``maximumBudget``. Cost: see the type's
    /// documentation.
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
        let fx = try model(rows)
        let base = try game.baseValue()
        var phi = [Float](repeating: 0, count: n * o * p)
        let d = model.features
        // One task per explained row — its coalitions, their `coalitions × background` model rows
        // streamed in batches on that task's own lane, and its regression — claimed dynamically
        // by the workers: no barrier between rows, and a worker that the machine delays holds up
        // only the row it is on. Each row's result depends on nothing else, so it is the same
        // whatever the order.
        var perRow = [(coalitions: Int, evaluations: Int, singular: Bool)](repeating: (0, 0, false), count: n)
        var errors = [(any Error)?](repeating: nil, count: n)
        rows.scalars.withUnsafeBufferPointer { xs in
            phi.withUnsafeMutableBufferPointer { out in
                perRow.withUnsafeMutableBufferPointer { stats in
                    errors.withUnsafeMutableBufferPointer { errorSlots in
                        Compute.parallelFor(n) { r in
                            do {
                                let xr = xs.baseAddress! + r * d
                                let varying = game.varyingPlayers(xr)
                                var rng = rowGenerator(seed: seed, row: xr, features: d)
                                let design = CoalitionDesign(varying: varying, players: p,
                                                             budget: budget ?? 2 * varying.count + 2048, rng: &rng)
                                let x = Tensor(uncheckedShape: [1, d], scalars: Array(UnsafeBufferPointer(start: xr, count: d)))
                                let (values, used) = try game.values(of: x, masks: [design.gameMasks])
                                let delta = (0..<o).map { Double(fx.scalars[r * o + $0]) - base[$0] }
                                let (solution, wasSingular) = design.solve(values: values[0], base: base, delta: delta,
                                                                           outputs: o, regularization: regularization)
                                for j in 0..<o {
                                    for (t, player) in design.varying.enumerated() {
                                        out[(r * o + j) * p + player] = Float(solution[j * design.varying.count + t])
                                    }
                                }
                                stats[r] = (design.count, used, wasSingular)
                            } catch {
                                errorSlots[r] = error
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
        return Explanation(method: method, values: Tensor(uncheckedShape: [n, o, p], scalars: phi), players: players,
                           outputs: Array(0..<o), predictions: fx, reference: reference,
                           audit: Audit(seed: seed, modelEvaluations: evaluations, wallSeconds: seconds, settings: settings))
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

    /// shap's `KernelExplainer.explain` coalition schedule (see ``KernelSHAP``).
    init(varying: [Int], players: Int, budget: Int, rng: inout SeededGenerator) {
        self.varying = varying
        let m = varying.count
        guard m >= 2 else { (masks, weights, gameMasks) = ([], [], []); return }
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
                guard left > 0 && paired else { continue }
                for i in 0..<m { mask[i] = 1 - mask[i] }
                if isNew {
                    left -= 1
                    add(mask, 1)
                } else {
                    // The complement was added right after its coalition.
                    weights[seen[bits]! + 1] += 1
                }
            }
            let weightLeft = kernel[fullSizes...].reduce(0, +)
            let sampled = weights[fixed...].reduce(0, +)
            for i in fixed..<count { weights[i] *= weightLeft / sampled }
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
    }

    /// φ for the varying players, `[outputs, M]` flattened, from the coalition values
    /// `values` (`[count, outputs]`), `base = E f` and `delta = f(x) − E f` per output.
    func solve(values: [Double], base: [Double], delta: [Double], outputs o: Int,
               regularization: KernelSHAP.Regularization) -> (phi: [Double], singular: Bool) {
        let m = varying.count
        var phi = [Double](repeating: 0, count: o * m)
        if m == 0 { return (phi, false) }
        if m == 1 { return (delta, false) }
        var singular = false
        switch regularization {
        case .none:
            let (solution, flag) = constrainedRegression(Array(0..<m), values: values, base: base, delta: delta, outputs: Array(0..<o), o: o)
            singular = flag
            for j in 0..<o { for t in 0..<m { phi[j * m + t] = solution[j * m + t] } }
        case .topK, .aic, .bic:
            for j in 0..<o {
                let selected = select(regularization, values: values, base: base[j], delta: delta[j], output: j, o: o)
                guard !selected.isEmpty else { continue }
                let (solution, flag) = constrainedRegression(selected, values: values, base: base, delta: delta, outputs: [j], o: o)
                singular = singular || flag
                for (t, v) in selected.enumerated() { phi[j * m + v] = solution[t] }
            }
        }
        return (phi, singular)
    }

    /// Weighted least squares over the variables `selected` (positions in `varying`) for the
    /// given outputs, the last selected variable eliminated by `Σφ = delta`. Returns
    /// `[outputs.count, selected.count]`.
    private func constrainedRegression(_ selected: [Int], values: [Double], base: [Double], delta: [Double],
                                       outputs: [Int], o: Int) -> ([Double], Bool) {
        let m = varying.count, q = selected.count, r = outputs.count
        guard q > 1 else { return (outputs.map { delta[$0] }, false) }
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
        return (phi, singular)
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
