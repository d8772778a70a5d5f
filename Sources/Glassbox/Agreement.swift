import Foundation

/// Agreement between feature-importance vectors: rank correlations, top-k overlap, retrieval of
/// known relevant features, and the stability of a ranking across runs.
///
/// Inputs are plain `[Double]` importances (one per feature, larger = more important), so any
/// explainer's output — ScoresActivation weights, mean |SHAP|, a ground truth — compares with any
/// other. Every statistic here is higher-is-better. Rankings are descending (rank 1 = most
/// important); where an order must be total, ties go to the lower feature index.
/// Errors: vectors of different lengths, empty vectors, non-finite values or `k` outside
/// `1...d` throw `GlassboxError`.
public enum Agreement {
    /// Ranks of `x` in increasing order, 1-based, ties given the mean of the ranks they span
    /// (scipy's `rankdata(x, method="average")`). Cost: O(d log d).
    public static func averageRanks(_ x: [Double]) -> [Double] {
        let order = x.indices.sorted { x[$0] < x[$1] || (x[$0] == x[$1] && $0 < $1) }
        var ranks = [Double](repeating: 0, count: x.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count, x[order[j + 1]] == x[order[i]] { j += 1 }
            let mean = Double(i + j) / 2 + 1
            for k in i...j { ranks[order[k]] = mean }
            i = j + 1
        }
        return ranks
    }

    /// Feature indices from most to least important (a stable sort: ties in index order).
    public static func ranking(_ importances: [Double]) -> [Int] {
        importances.indices.sorted { importances[$0] > importances[$1] || (importances[$0] == importances[$1] && $0 < $1) }
    }

    /// Descending ranks, 1 = most important, ties averaged (as `averageRanks(-x)`).
    public static func descendingRanks(_ importances: [Double]) -> [Double] {
        averageRanks(importances.map { -$0 })
    }

    /// Spearman's ρ: the Pearson correlation of the average ranks (scipy's `spearmanr`), in
    /// [−1, 1]. NaN when either vector is constant (the correlation is undefined). Cost: O(d log d).
    public static func spearman(_ a: [Double], _ b: [Double]) throws -> Double {
        try check(a, b)
        return pearson(averageRanks(a), averageRanks(b))
    }

    /// Kendall's τ-b (scipy's `kendalltau`, variant "b"):
    /// `(P − Q) / √((P + Q + T_a)(P + Q + T_b))` over all pairs, `P`/`Q` concordant/discordant
    /// pairs, `T_a`/`T_b` pairs tied in only `a`/only `b`. NaN when either vector is constant.
    /// Cost: O(d²) — importance vectors are short.
    public static func kendallTauB(_ a: [Double], _ b: [Double]) throws -> Double {
        try check(a, b)
        var concordant = 0, discordant = 0, tiedA = 0, tiedB = 0
        for i in a.indices {
            for j in (i + 1)..<a.count {
                let da = a[i] - a[j], db = b[i] - b[j]
                if da == 0 && db == 0 { continue }
                if da == 0 { tiedA += 1 } else if db == 0 { tiedB += 1 }
                else if (da > 0) == (db > 0) { concordant += 1 } else { discordant += 1 }
            }
        }
        let denominator = (Double(concordant + discordant + tiedA) * Double(concordant + discordant + tiedB)).squareRoot()
        return denominator == 0 ? .nan : Double(concordant - discordant) / denominator
    }

    /// `|top_k(a) ∩ top_k(b)| / k`, in [0, 1].
    public static func topKOverlap(_ a: [Double], _ b: [Double], k: Int) throws -> Double {
        try check(a, b)
        try checkK(k, a.count)
        let common = Set(ranking(a).prefix(k)).intersection(ranking(b).prefix(k))
        return Double(common.count) / Double(k)
    }

    /// Fraction of the top `k` features that are relevant: `|top_k ∩ relevant| / k`.
    public static func precisionAtK(_ importances: [Double], relevant: Set<Int>, k: Int) throws -> Double {
        Double(try hitsAtK(importances, relevant: relevant, k: k)) / Double(k)
    }

    /// Fraction of the relevant features found in the top `k`: `|top_k ∩ relevant| / |relevant|`
    /// (NaN when nothing is relevant).
    public static func recallAtK(_ importances: [Double], relevant: Set<Int>, k: Int) throws -> Double {
        let hits = try hitsAtK(importances, relevant: relevant, k: k)
        return relevant.isEmpty ? .nan : Double(hits) / Double(relevant.count)
    }

    /// How consistently several runs (seeds) rank the same features: per feature the mean and
    /// the standard deviation (population, over runs) of its descending rank, and the mean
    /// Spearman ρ over all pairs of runs (NaN pairs — a constant run — are skipped).
    /// Cost: O(r²·d log d) for r runs.
    public static func stability(_ runs: [[Double]]) throws -> RankStability {
        guard let first = runs.first else { throw GlassboxError.invalidArgument("rank stability needs at least one run") }
        for run in runs { try check(first, run) }
        let ranks = runs.map(descendingRanks)
        let d = first.count, r = Double(runs.count)
        var meanRank = [Double](repeating: 0, count: d), sd = [Double](repeating: 0, count: d)
        for j in 0..<d {
            let column = ranks.map { $0[j] }
            let mean = column.reduce(0, +) / r
            meanRank[j] = mean
            sd[j] = (column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / r).squareRoot()
        }
        var correlations: [Double] = []
        for i in runs.indices {
            for j in (i + 1)..<runs.count {
                let rho = pearson(ranks[i], ranks[j])
                if rho.isFinite { correlations.append(rho) }
            }
        }
        let meanRho = correlations.isEmpty ? nil : correlations.reduce(0, +) / Double(correlations.count)
        return RankStability(runs: runs.count, meanRank: meanRank, rankSD: sd, meanPairwiseSpearman: meanRho,
                             pairs: correlations.count)
    }

    // MARK: internals

    private static func hitsAtK(_ importances: [Double], relevant: Set<Int>, k: Int) throws -> Int {
        try check(importances, importances)
        try checkK(k, importances.count)
        if let bad = relevant.first(where: { !importances.indices.contains($0) }) {
            throw GlassboxError.invalidArgument("relevant feature index \(bad) is outside 0..<\(importances.count)")
        }
        return ranking(importances).prefix(k).filter(relevant.contains).count
    }

    private static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in x.indices {
            let dx = x[i] - mx, dy = y[i] - my
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy
        }
        guard sxx > 0, syy > 0 else { return .nan }
        return max(-1, min(1, sxy / (sxx * syy).squareRoot()))
    }

    private static func check(_ a: [Double], _ b: [Double]) throws {
        guard a.count == b.count else {
            throw GlassboxError.shapeMismatch("importance vectors have \(a.count) and \(b.count) features")
        }
        guard !a.isEmpty else { throw GlassboxError.invalidArgument("importance vectors are empty") }
        for (name, v) in [("first", a), ("second", b)] {
            if let i = v.firstIndex(where: { !$0.isFinite }) {
                throw GlassboxError.nonFinite("\(name) importance vector has \(v[i]) at feature \(i)")
            }
        }
    }

    private static func checkK(_ k: Int, _ d: Int) throws {
        guard (1...d).contains(k) else { throw GlassboxError.invalidArgument("k must be in 1...\(d), got \(k)") }
    }
}

/// The spread of feature ranks over several runs (see ``Agreement/stability(_:)``).
public struct RankStability: Codable, Sendable, Equatable {
    /// Number of runs compared.
    public var runs: Int
    /// Per feature: mean descending rank over runs (1 = most important).
    public var meanRank: [Double]
    /// Per feature: standard deviation of its rank over runs (0 = the same place every time).
    public var rankSD: [Double]
    /// Mean Spearman ρ over pairs of runs (1 = identical rankings; nil if no pair was defined).
    public var meanPairwiseSpearman: Double?
    /// Pairs that entered the mean.
    public var pairs: Int
}
