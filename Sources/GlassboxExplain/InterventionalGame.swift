import GlassboxNN

/// The cooperative game behind the Shapley explainers (Kernel SHAP, exact Shapley,
/// permutation SHAP): for an explained row `x`, the value of a coalition `S` of players is
///
///     v(S) = Σ_b w_b · f(x_S, b_S̄)
///
/// — players in `S` take `x`'s values, the others those of background row `b` — for every model
/// output at once (the interventional, or "marginal", value function that `shap`'s
/// KernelExplainer uses). `v(∅) = E f(background)` and `v(all) = f(x)`.
///
/// Evaluation streams: coalitions of several explained rows are cut into model batches of about
/// `model.batchRows` rows (whole coalitions, each `k = background.count` rows) that the workers
/// build, evaluate and reduce on their own, so the `coalitions × background` matrix is never
/// materialised. Cost: `k` model evaluations per coalition.
struct InterventionalGame: Sendable {
    let model: PredictionFunction
    let background: Background
    let players: Players

    init(model: PredictionFunction, background: Background, players: Players) throws {
        guard background.features == model.features else {
            throw GlassboxError.shapeMismatch("background rows have \(background.features) features but the model takes \(model.features)")
        }
        guard players.features == model.features else {
            throw GlassboxError.shapeMismatch("players cover \(players.features) features but the model takes \(model.features)")
        }
        self.model = model
        self.background = background
        self.players = players
    }

    /// `v(S)` for coalitions of several rows. `masks[r]` holds row `r`'s coalitions, `players.count`
    /// bytes each (1: the player takes `x`'s values); the result for row `r` is `[coalitions, outputs]`.
    /// Also returns the number of model rows evaluated.
    func values(of rows: Tensor, masks: [[UInt8]]) throws -> (values: [[Double]], evaluations: Int) {
        let (d, p, k, o) = (model.features, players.count, background.count, model.outputs)
        let counts = masks.map { $0.count / p }
        let perChunk = max(1, model.batchRows / k)
        var chunks: [(row: Int, lo: Int, hi: Int)] = []
        for (r, count) in counts.enumerated() {
            for lo in stride(from: 0, to: count, by: perChunk) { chunks.append((r, lo, min(count, lo + perChunk))) }
        }
        var offsets = [0]
        for count in counts { offsets.append(offsets.last! + count * o) }
        var flat = [Double](repeating: 0, count: offsets.last!)
        let weights = background.weights
        // Players' columns as one flat table: no per-coalition array traffic in the hot loop.
        let columnStart = players.groups.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        let columnTable = players.groups.flatMap { $0 }
        try rows.scalars.withUnsafeBufferPointer { xs in
            try background.rows.scalars.withUnsafeBufferPointer { bs in
                try flat.withUnsafeMutableBufferPointer { out in
                    let (x, b, v) = (xs.baseAddress!, bs.baseAddress!, out.baseAddress!)
                    try model.stream(chunks: chunks.count, maxRows: perChunk * k, fill: { c, input in
                        let (r, lo, hi) = chunks[c]
                        let xr = x + r * d
                        // 1 where the coalition takes x's column: each row is then one vector
                        // select between x and the background row (16 columns per instruction),
                        // instead of a copy of the background followed by scattered writes.
                        var take = [Float](repeating: 0, count: d)
                        masks[r].withUnsafeBufferPointer { m in
                            columnTable.withUnsafeBufferPointer { table in
                                take.withUnsafeMutableBufferPointer { takeBuffer in
                                    let t = takeBuffer.baseAddress!
                                    for i in lo..<hi {
                                        t.update(repeating: 0, count: d)
                                        for player in 0..<p where m[i * p + player] != 0 {
                                            for c in columnStart[player]..<columnStart[player + 1] { t[table[c]] = 1 }
                                        }
                                        let block = input + (i - lo) * k * d
                                        for row in 0..<k {
                                            InterventionalGame.select(t, xr, b + row * d, into: block + row * d, d)
                                        }
                                    }
                                }
                            }
                        }
                        return (hi - lo) * k
                    }, consume: { c, y, _ in
                        let (r, lo, hi) = chunks[c]
                        for i in lo..<hi {
                            let target = v + offsets[r] + i * o
                            let block = y + (i - lo) * k * o
                            for j in 0..<o {
                                var sum = 0.0
                                for row in 0..<k { sum += weights[row] * Double(block[row * o + j]) }
                                target[j] = sum
                            }
                        }
                    })
                }
            }
        }
        let values = counts.indices.map { Array(flat[offsets[$0]..<offsets[$0 + 1]]) }
        return (values, counts.reduce(0, +) * k)
    }

    /// `z[j] = take[j] != 0 ? x[j] : background[j]` for `d` columns, 16 at a time.
    @inline(__always)
    static func select(_ take: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ background: UnsafePointer<Float>,
                       into z: UnsafeMutablePointer<Float>, _ d: Int) {
        var j = 0
        while j + 16 <= d {
            let t = UnsafeRawPointer(take + j).loadUnaligned(as: SIMD16<Float>.self)
            let xv = UnsafeRawPointer(x + j).loadUnaligned(as: SIMD16<Float>.self)
            let bv = UnsafeRawPointer(background + j).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(z + j).storeBytes(of: bv.replacing(with: xv, where: t .!= 0), as: SIMD16<Float>.self)
            j += 16
        }
        while j < d {
            z[j] = take[j] != 0 ? x[j] : background[j]
            j += 1
        }
    }

    /// `E f(background) = Σ_b w_b f(b)`, `[outputs]`. Cost: `k` evaluations.
    func baseValue() throws -> [Double] {
        let y = try model(background.rows)
        let o = model.outputs
        return (0..<o).map { j in (0..<background.count).reduce(0.0) { $0 + background.weights[$1] * Double(y.scalars[$1 * o + j]) } }
    }

    /// Players whose columns in `x` differ from some background row: only they can change `v`
    /// (for the others `f(x_S, b_S̄)` does not depend on membership), so `shap` gives the rest a
    /// zero attribution without spending evaluations on them. Exact comparison (shap allows a
    /// tolerance).
    func varyingPlayers(_ x: UnsafePointer<Float>) -> [Int] {
        let (d, k) = (model.features, background.count)
        return background.rows.scalars.withUnsafeBufferPointer { b in
            players.groups.indices.filter { player in
                players.groups[player].contains { column in (0..<k).contains { b[$0 * d + column] != x[column] } }
            }
        }
    }
}
