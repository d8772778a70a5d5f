import CKernels
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
///
/// When the compiled model starts with a dense layer of at least 16 outputs (an MLP), that layer
/// is not evaluated as a product: with `U_b = W·b + bias` per background row (computed once) and
/// `V = W·x + bias` per explained row, a coalition's pre-activation is `U_b + Σ_{j∈S} (x_j −
/// b_j)·W[:, j]`, or `V − Σ_{j∉S} (x_j − b_j)·W[:, j]` when fewer columns are absent — one FMA
/// per output per column on the smaller side instead of one per input column
/// (`gb_masked_dense`). The rest of the model runs on its plan. Same values up to float rounding.
struct InterventionalGame: Sendable {
    let model: PredictionFunction
    let background: Background
    let players: Players
    /// `U = W·b + bias` for every background row, `[k, paddedWidth]`, when the fast path applies.
    private let backgroundPreactivations: [Float]?

    /// Whether coalition values go through the model's leading dense layer (see the type).
    var usesLeadingDense: Bool { backgroundPreactivations != nil }

    /// The leading dense layer must be at least this wide for the incremental path: a narrower
    /// one (a linear model's single output) is cheaper as a product.
    static let minimumLeadingWidth = 16
    /// Largest table (floats) the fast path builds — the `U` table, or one call's `x − b`
    /// differences — 64 MiB; beyond it the game builds rows as usual.
    static let maximumTableFloats = 16 << 20

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
        if let leading = model.leadingDense, leading.width >= InterventionalGame.minimumLeadingWidth,
           background.count * leading.paddedWidth <= InterventionalGame.maximumTableFloats {
            backgroundPreactivations = InterventionalGame.preactivations(of: background.rows.scalars, count: background.count, leading)
        } else {
            backgroundPreactivations = nil
        }
    }

    /// `W·r + bias` for `count` rows `r` (`[count, paddedWidth]`), accumulated column by column
    /// in input order.
    static func preactivations(of rows: [Float], count: Int, _ leading: InferencePlan.LeadingDense) -> [Float] {
        let (d, hp) = (leading.inputs, leading.paddedWidth)
        var out = [Float](repeating: 0, count: count * hp)
        rows.withUnsafeBufferPointer { r in
            leading.transposedWeights.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { o in
                    for i in 0..<count {
                        let target = o.baseAddress! + i * hp
                        for h in 0..<hp { target[h] = leading.bias[h] }
                        for j in 0..<d {
                            let v = r[i * d + j], column = w.baseAddress! + j * hp
                            for h in 0..<hp { target[h] = target[h].addingProduct(v, column[h]) }
                        }
                    }
                }
            }
        }
        return out
    }

    /// `v(S)` for coalitions of several rows. `masks[r]` holds row `r`'s coalitions, `players.count`
    /// bytes each (1: the player takes `x`'s values); the result for row `r` is `[coalitions, outputs]`.
    /// Also returns the number of model rows evaluated.
    func values(of rows: Tensor, masks: [[UInt8]]) throws -> (values: [[Double]], evaluations: Int) {
        let (d, p, k, o) = (model.features, players.count, background.count, model.outputs)
        let counts = masks.map { $0.count / p }
        let fast = backgroundPreactivations != nil && model.leadingDense != nil && rows.shape[0] * k * d <= InterventionalGame.maximumTableFloats
        // The incremental path holds no input rows, only outputs, so it takes 8× larger chunks:
        // fewer calls into the plan (each costs about a microsecond of bookkeeping).
        let perChunk = max(1, (fast ? 8 : 1) * model.batchRows / k)
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
        if fast, let table = backgroundPreactivations, let leading = model.leadingDense {
            try leadingDenseValues(of: rows, masks: masks, chunks: chunks, perChunk: perChunk, table: table, leading: leading,
                                   columnStart: columnStart, columnTable: columnTable, offsets: offsets, into: &flat)
            let values = counts.indices.map { Array(flat[offsets[$0]..<offsets[$0 + 1]]) }
            return (values, counts.reduce(0, +) * k)
        }
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
                        InterventionalGame.average(y, coalitions: hi - lo, weights: weights, outputs: o, into: v + offsets[r] + lo * o)
                    })
                }
            }
        }
        let values = counts.indices.map { Array(flat[offsets[$0]..<offsets[$0 + 1]]) }
        return (values, counts.reduce(0, +) * k)
    }

    /// ``values(of:masks:)`` through the model's leading dense layer (see the type's
    /// documentation): the same chunks, each coalition's first-layer outputs computed from the
    /// `U` table or from `V = W·x + bias`, whichever side has fewer columns.
    private func leadingDenseValues(of rows: Tensor, masks: [[UInt8]], chunks: [(row: Int, lo: Int, hi: Int)], perChunk: Int,
                                    table: [Float], leading: InferencePlan.LeadingDense, columnStart: [Int], columnTable: [Int],
                                    offsets: [Int], into flat: inout [Double]) throws {
        let (d, p, k, o, hp) = (model.features, players.count, background.count, model.outputs, leading.paddedWidth)
        let n = rows.shape[0]
        let explained = InterventionalGame.preactivations(of: rows.scalars, count: n, leading)
        // x − b for every explained row and background row, `[n, k, d]`: the kernel broadcasts
        // these straight from memory.
        var differences = [Float](repeating: 0, count: n * k * d)
        for r in 0..<n {
            for row in 0..<k {
                for j in 0..<d { differences[(r * k + row) * d + j] = rows.scalars[r * d + j] - background.rows.scalars[row * d + j] }
            }
        }
        // Each coalition's smaller side, once: its columns (`sides[starts[c]..<starts[c + 1]]` for
        // coalition c of all rows in order) and whether they are the absent ones.
        let total = masks.reduce(0) { $0 + $1.count / max(p, 1) }
        var sides = [Int](repeating: 0, count: max(1, total * ((d + 1) / 2))), starts = [Int](repeating: 0, count: total + 1)
        var absent = [UInt8](repeating: 0, count: max(1, total))
        var coalitionStart = [0]
        var coalition = 0
        // Each player's columns as a bit mask (when the columns fit in one word).
        let playerColumns: [UInt64] = d <= 64 ? (0..<p).map { player in
            columnTable[columnStart[player]..<columnStart[player + 1]].reduce(0) { $0 | 1 << UInt64($1) }
        } : []
        // Wider rows: one membership byte per column, reused by every coalition.
        var membership = [UInt8](repeating: 0, count: d <= 64 ? 0 : d)
        for r in 0..<n {
            let count = masks[r].count / max(p, 1)
            masks[r].withUnsafeBufferPointer { m in
                for i in 0..<count {
                    let end = InterventionalGame.smallerSide(m.baseAddress! + i * p, players: p, columnStart: columnStart,
                                                             columnTable: columnTable, playerColumns: playerColumns, features: d,
                                                             scratch: &membership, into: &sides, at: starts[coalition],
                                                             absent: &absent[coalition])
                    starts[coalition + 1] = end
                    coalition += 1
                }
            }
            coalitionStart.append(coalitionStart[r] + count)
        }
        let weights = background.weights
        try differences.withUnsafeBufferPointer { ds in
            try table.withUnsafeBufferPointer { us in
                try explained.withUnsafeBufferPointer { vs in
                    try leading.transposedWeights.withUnsafeBufferPointer { ws in
                        try sides.withUnsafeBufferPointer { columns in
                            try starts.withUnsafeBufferPointer { startTable in
                                try absent.withUnsafeBufferPointer { absentTable in
                                    try flat.withUnsafeMutableBufferPointer { out in
                                        let (differencesOf, u, v, wt, target) = (ds.baseAddress!, us.baseAddress!, vs.baseAddress!,
                                                                                 ws.baseAddress!, out.baseAddress!)
                                        try model.streamAfterLeadingDense(chunks: chunks.count, maxRows: perChunk * k,
                                                                          rows: { (chunks[$0].hi - chunks[$0].lo) * k },
                                                                          fill: { c, samples, h, stride in
                                            let (r, lo, _) = chunks[c]
                                            let firstCoalition = coalitionStart[r] + lo
                                            gb_masked_dense_coalitions(samples.lowerBound, samples.count, k,
                                                                       startTable.baseAddress! + firstCoalition,
                                                                       absentTable.baseAddress! + firstCoalition,
                                                                       columns.baseAddress!, leading.width, u, v + r * hp, hp,
                                                                       differencesOf + r * k * d, d, wt, hp,
                                                                       leading.activation, leading.slope, h, stride)
                                        }, consume: { c, y, _ in
                                            let (r, lo, hi) = chunks[c]
                                            InterventionalGame.average(y, coalitions: hi - lo, weights: weights, outputs: o,
                                                                       into: target + offsets[r] + lo * o)
                                        })
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Writes the columns of one coalition's smaller side — those taken from `x` when at most half
    /// are, else those taken from the background row — at `sides[at...]` in increasing order, sets
    /// `absent` to 1 for the second case, and returns the end of what it wrote. `mask` holds the
    /// coalition's `players` membership bytes; `scratch` (`d` bytes) is working space for rows of
    /// more than 64 columns.
    private static func smallerSide(_ mask: UnsafePointer<UInt8>, players p: Int, columnStart: [Int], columnTable: [Int],
                                    playerColumns: [UInt64], features d: Int, scratch inCoalition: inout [UInt8],
                                    into sides: inout [Int], at start: Int, absent: inout UInt8) -> Int {
        var end = start
        if d <= 64 {
            // Column sets as bit masks: one OR per player (branch-free: memberships are random and
            // a branch per player mispredicts), one popcount, one pass over the set bits.
            var present: UInt64 = 0
            for player in 0..<p { present |= playerColumns[player] & (0 &- UInt64(mask[player] != 0 ? 1 : 0)) }
            let all: UInt64 = d == 64 ? ~0 : (1 << UInt64(d)) - 1
            let members = present.nonzeroBitCount
            var side = members <= d - members ? present : all & ~present
            absent = members <= d - members ? 0 : 1
            while side != 0 {
                sides[end] = side.trailingZeroBitCount
                end += 1
                side &= side - 1
            }
            return end
        }
        for j in 0..<d { inCoalition[j] = 0 }
        var members = 0
        for player in 0..<p where mask[player] != 0 {
            for t in columnStart[player]..<columnStart[player + 1] { inCoalition[columnTable[t]] = 1 }
            members += columnStart[player + 1] - columnStart[player]
        }
        let wanted: UInt8 = members <= d - members ? 1 : 0
        absent = 1 - wanted
        for j in 0..<d where inCoalition[j] == wanted {
            sides[end] = j
            end += 1
        }
        return end
    }

    /// `v(S) = Σ_b w_b f(x_S, b)` for `coalitions` consecutive coalitions whose model outputs
    /// (`k = weights.count` rows each, `[outputs]` per row) start at `y`: `[coalitions, outputs]`
    /// to `values`, summed in double precision in background order.
    static func average(_ y: UnsafePointer<Float>, coalitions: Int, weights: [Double], outputs o: Int,
                        into values: UnsafeMutablePointer<Double>) {
        weights.withUnsafeBufferPointer { w in
            gb_weighted_group_sums(y, coalitions, weights.count, o, w.baseAddress!, values)
        }
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
