import GlassboxNN

/// The reference distribution that stands in for "feature unknown" in Shapley explanations:
/// rows `[k, features]` with weights summing to one.
///
/// The interventional value of a coalition `S` for a row `x` is `v(S) = Σ_b w_b f(x_S, b_S̄)`:
/// players in `S` take `x`'s values, the others each background row's. Every evaluation of `v`
/// costs `k` model rows, so a small background (tens to a hundred rows, or a k-means summary)
/// keeps Shapley methods affordable.
public struct Background: Sendable, Equatable {
    /// `[k, features]`.
    public let rows: Tensor
    /// `[k]`, positive, summing to one.
    public let weights: [Double]
    /// How the background was made, for audits ("100 sampled rows of 569, seed 0").
    public let summary: String

    /// The given rows, weighted equally unless `weights` (positive, any scale) are given.
    public init(_ rows: Tensor, weights: [Double]? = nil, summary: String? = nil) throws {
        guard rows.rank == 2, rows.shape[0] > 0, rows.shape[1] > 0 else {
            throw GlassboxError.invalidArgument("a background needs at least one row of [k, features] data, got shape \(rows.shape)")
        }
        try rows.checkFinite("background")
        let k = rows.shape[0]
        let raw = weights ?? [Double](repeating: 1, count: k)
        guard raw.count == k else {
            throw GlassboxError.shapeMismatch("background has \(k) rows but \(raw.count) weights")
        }
        if let bad = raw.firstIndex(where: { !($0 > 0 && $0.isFinite) }) {
            throw GlassboxError.invalidArgument("background weight \(bad) is \(raw[bad]); weights must be positive and finite")
        }
        let total = raw.reduce(0, +)
        self.rows = rows
        self.weights = raw.map { $0 / total }
        self.summary = summary ?? "\(k) given rows"
    }

    /// Number of rows.
    public var count: Int { rows.shape[0] }
    /// Columns of a row.
    public var features: Int { rows.shape[1] }

    /// `count` rows of `data` drawn without replacement (all rows if `count ≥ n`), equally weighted.
    public static func sample(from data: Tensor, count: Int, seed: UInt64 = 0) throws -> Background {
        guard data.rank == 2, data.shape[0] > 0 else {
            throw GlassboxError.invalidArgument("cannot sample a background from data of shape \(data.shape): need at least one row")
        }
        guard count > 0 else { throw GlassboxError.invalidArgument("background size must be positive, got \(count)") }
        let n = data.shape[0]
        if count >= n { return try Background(data, summary: "all \(n) rows") }
        var rng = SeededGenerator(seed: seed)
        let picked = Array(rng.permutation(n).prefix(count)).sorted()
        return try Background(gatherRows(data, picked), summary: "\(count) sampled rows of \(n), seed \(seed)")
    }

    /// A k-means summary of `data`: `clusters` centres weighted by the number of rows each
    /// represents, as `shap.kmeans` makes it. With `roundValues`, each coordinate of a centre is
    /// replaced by the nearest value that column takes in the data, so a binary or one-hot
    /// column stays valid.
    ///
    /// k-means++ seeding from `seed`, then Lloyd iterations until no assignment changes (at most
    /// `iterations`); an emptied cluster is re-seeded with the row farthest from its centre.
    /// Cost: `O(iterations · n · clusters · features)`.
    public static func kMeans(_ data: Tensor, clusters: Int, seed: UInt64 = 0, iterations: Int = 100,
                              roundValues: Bool = true) throws -> Background {
        guard data.rank == 2, data.shape[0] > 0 else {
            throw GlassboxError.invalidArgument("cannot summarise data of shape \(data.shape) by k-means: need at least one row")
        }
        guard clusters > 0 else { throw GlassboxError.invalidArgument("k-means needs a positive number of clusters, got \(clusters)") }
        try data.checkFinite("data to summarise")
        let (n, d) = (data.shape[0], data.shape[1])
        if clusters >= n { return try Background(data, summary: "all \(n) rows (k-means with k ≥ n)") }
        let x = data.scalars.map(Double.init)
        func distance(_ row: Int, _ centre: [Double], _ c: Int) -> Double {
            var s = 0.0
            for j in 0..<d { let t = x[row * d + j] - centre[c * d + j]; s += t * t }
            return s
        }
        var rng = SeededGenerator(seed: seed)
        var centres = [Double](repeating: 0, count: clusters * d)
        var nearest = [Double](repeating: .infinity, count: n)
        var chosen = rng.int(below: n)
        for c in 0..<clusters {
            for j in 0..<d { centres[c * d + j] = x[chosen * d + j] }
            var total = 0.0
            for i in 0..<n { nearest[i] = min(nearest[i], distance(i, centres, c)); total += nearest[i] }
            guard c + 1 < clusters else { break }
            if total == 0 { chosen = rng.int(below: n); continue }
            var target = rng.uniformDouble() * total
            chosen = n - 1
            for i in 0..<n { target -= nearest[i]; if target < 0 { chosen = i; break } }
        }
        var assignment = [Int](repeating: -1, count: n)
        for _ in 0..<max(1, iterations) {
            var changed = false
            for i in 0..<n {
                var best = 0, bestDistance = Double.infinity
                for c in 0..<clusters {
                    let dist = distance(i, centres, c)
                    if dist < bestDistance { (best, bestDistance) = (c, dist) }
                }
                if assignment[i] != best { assignment[i] = best; changed = true }
            }
            var sums = [Double](repeating: 0, count: clusters * d), sizes = [Int](repeating: 0, count: clusters)
            for i in 0..<n {
                sizes[assignment[i]] += 1
                for j in 0..<d { sums[assignment[i] * d + j] += x[i * d + j] }
            }
            for c in 0..<clusters {
                if sizes[c] == 0 {
                    let far = (0..<n).max { distance($0, centres, assignment[$0]) < distance($1, centres, assignment[$1]) }!
                    for j in 0..<d { centres[c * d + j] = x[far * d + j] }
                    assignment[far] = c
                    changed = true
                } else {
                    for j in 0..<d { centres[c * d + j] = sums[c * d + j] / Double(sizes[c]) }
                }
            }
            if !changed { break }
        }
        var sizes = [Double](repeating: 0, count: clusters)
        for i in 0..<n { sizes[assignment[i]] += 1 }
        if roundValues {
            for c in 0..<clusters {
                for j in 0..<d {
                    var best = x[j], bestGap = Double.infinity
                    for i in 0..<n where abs(x[i * d + j] - centres[c * d + j]) < bestGap {
                        (best, bestGap) = (x[i * d + j], abs(x[i * d + j] - centres[c * d + j]))
                    }
                    centres[c * d + j] = best
                }
            }
        }
        let kept = (0..<clusters).filter { sizes[$0] > 0 }
        let rows = kept.flatMap { c in (0..<d).map { Float(centres[c * d + $0]) } }
        return try Background(Tensor(uncheckedShape: [kept.count, d], scalars: rows), weights: kept.map { sizes[$0] },
                              summary: "k-means summary of \(n) rows: \(kept.count) weighted centres, seed \(seed)")
    }
}

/// Rows `rows` of a `[n, d]` tensor, in that order.
func gatherRows(_ t: Tensor, _ rows: [Int]) -> Tensor {
    let d = t.shape[1]
    var out = [Float]()
    out.reserveCapacity(rows.count * d)
    t.scalars.withUnsafeBufferPointer { p in
        for r in rows { out.append(contentsOf: p[(r * d)..<((r + 1) * d)]) }
    }
    return Tensor(uncheckedShape: [rows.count, d], scalars: out)
}
