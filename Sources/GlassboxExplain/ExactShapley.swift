import Foundation
import GlassboxNN

/// Exact Shapley values of the interventional game (the one Kernel SHAP estimates), by
/// enumerating every coalition — the oracle the estimators are tested against:
///
///     φ_i = Σ_{S ⊆ P∖{i}} |S|!·(p−|S|−1)!/p! · (v(S ∪ {i}) − v(S))
///
/// The game is a weighted sum over background rows, `v = Σ_b w_b v_b` with
/// `v_b(S) = f(x_S, b_S̄)`, and Shapley values are linear in the game, so `φ = Σ_b w_b φ(v_b)`.
/// A player whose columns in `b` equal `x`'s is a null player of `v_b`: each background row's
/// game is enumerated over only the players `D_b` where it differs from `x` (`2^|D_b|`
/// coalitions), and rows with the same `D_b` are summed before the Shapley weighting.
///
/// For a model whose compiled plan starts with a dense layer (an MLP), each `v_b` is walked in
/// Gray-code order — consecutive coalitions differ by one player — so that layer's
/// pre-activation changes by that player's columns, `±(x_j − b_j)·W[:, j]`: one column per step
/// instead of the `p/2` on average of the coalition-by-coalition path (restarted from scratch
/// every few hundred steps, which bounds float drift). The rest of the model runs on its plan.
/// Other models are evaluated coalition by coalition through ``InterventionalGame``.
///
/// Cost: `Σ_b 2^|D_b|` model evaluations per explained row (`k·2^p` with continuous features;
/// 16 players and 100 background rows: 6.6 million model rows per row), so it is limited to
/// ``maxPlayers`` players; the Shapley sums add `O(p·2^p)` per distinct `D_b`.
public struct ExactShapley: LocalExplainer {
    /// The background rows the game averages over.
    public var background: Background
    /// Players (default: one per feature).
    public var players: Players?
    /// `"exact-shapley"`.
    public var method: String { "exact-shapley" }
    /// The largest number of players enumerated.
    public static let maxPlayers = 20

    /// Makes the explainer.
    public init(background: Background, players: Players? = nil) {
        self.background = background
        self.players = players
    }

    /// Model evaluations the enumeration of `rows` costs: `Σ_rows Σ_b 2^|D_b|`.
    public func cost(of rows: Tensor, model: PredictionFunction) throws -> Int {
        try model.checkInput(rows, "rows to explain")
        let players = try self.players ?? Players(features: model.features)
        guard players.features == model.features, background.features == model.features else {
            throw GlassboxError.shapeMismatch("background rows have \(background.features) features but the model takes \(model.features)")
        }
        var total = 0
        for r in 0..<rows.shape[0] {
            for group in differingPlayers(row: r, of: rows, players: players) { total += group.rows.count << group.players.count }
        }
        return total
    }

    /// Exact Shapley values of every row `[n, features]`; throws beyond ``maxPlayers`` players.
    public func explain(_ rows: Tensor, model: PredictionFunction) throws -> Explanation {
        let start = DispatchTime.now().uptimeNanoseconds
        try model.checkInput(rows, "rows to explain")
        let players = try self.players ?? Players(features: model.features)
        let game = try InterventionalGame(model: model, background: background, players: players)
        let (n, p, o) = (rows.shape[0], players.count, model.outputs)
        guard p <= ExactShapley.maxPlayers else {
            throw GlassboxError.invalidArgument("exact Shapley enumerates 2^p coalitions; \(p) players is more than the \(ExactShapley.maxPlayers) it allows (use Kernel SHAP)")
        }
        let fx = try model(rows)
        let base = try game.baseValue()
        var evaluations = n + background.count
        var phi = [Double](repeating: 0, count: n * o * p)
        let d = model.features
        let leading = model.leadingDense.flatMap {
            background.count * $0.paddedWidth <= InterventionalGame.maximumTableFloats ? $0 : nil
        }
        let table = leading.map { InterventionalGame.preactivations(of: background.rows.scalars, count: background.count, $0) }
        for r in 0..<n {
            let x = Tensor(uncheckedShape: [1, d], scalars: Array(rows.scalars[(r * d)..<((r + 1) * d)]))
            for group in differingPlayers(row: r, of: rows, players: players) where !group.players.isEmpty {
                let q = group.players.count
                // v over the group's players: Σ_{b in group} w_b f(x_S, b), indexed by the bits of S.
                let values: [Double]
                if let leading, let table {
                    values = try grayCodeValues(x: x, group: group, players: players, leading: leading, table: table, model: model)
                } else {
                    values = try coalitionValues(x: x, group: group, players: players, model: model)
                }
                evaluations += group.rows.count << q
                addShapleyValues(values, players: group.players, outputs: o, into: &phi, at: r * o * p, stride: p)
            }
        }
        let reference = Tensor(uncheckedShape: [n, o], scalars: (0..<(n * o)).map { Float(base[$0 % o]) })
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Explanation(method: method, values: Tensor(uncheckedShape: [n, o, p], scalars: phi.map(Float.init)), players: players,
                           outputs: Array(0..<o), predictions: fx, reference: reference,
                           audit: Audit(modelEvaluations: evaluations, wallSeconds: seconds,
                                        settings: ["background": background.summary, "coalitions_per_row": String(1 << p),
                                                   "enumeration": leading == nil ? "coalition by coalition" : "Gray code, first layer incremental",
                                                   "output": model.output.rawValue]))
    }

    /// Background rows of row `r` grouped by the players where they differ from it, players
    /// and rows in increasing order.
    private func differingPlayers(row r: Int, of rows: Tensor, players: Players) -> [(players: [Int], rows: [Int])] {
        let d = background.features
        var groups: [[Int]: [Int]] = [:]
        var order: [[Int]] = []
        rows.scalars.withUnsafeBufferPointer { xs in
            background.rows.scalars.withUnsafeBufferPointer { bs in
                let x = xs.baseAddress! + r * d
                for b in 0..<background.count {
                    let row = bs.baseAddress! + b * d
                    let differing = players.groups.indices.filter { players.groups[$0].contains { row[$0] != x[$0] } }
                    if groups[differing] == nil { order.append(differing) }
                    groups[differing, default: []].append(b)
                }
            }
        }
        return order.map { ($0, groups[$0]!) }
    }

    /// `φ_i += Σ_{S ∌ i} |S|!(q−|S|−1)!/q! · (v(S ∪ {i}) − v(S))` for the group's `q` players,
    /// `values` being `[2^q, outputs]` by coalition bits; `φ` of output `j` and player `i` at
    /// `phi[offset + j·stride + i]`.
    private func addShapleyValues(_ values: [Double], players group: [Int], outputs o: Int, into phi: inout [Double],
                                  at offset: Int, stride: Int) {
        let q = group.count
        var factorial = [1.0]
        for i in 1...q { factorial.append(factorial[i - 1] * Double(i)) }
        let weight = (0..<q).map { s in factorial[s] * factorial[q - s - 1] / factorial[q] }
        for (bit, player) in group.enumerated() {
            let mask = 1 << bit
            for j in 0..<o {
                var sum = 0.0
                for s in 0..<(1 << q) where s & mask == 0 {
                    sum += weight[s.nonzeroBitCount] * (values[(s | mask) * o + j] - values[s * o + j])
                }
                phi[offset + j * stride + player] += sum
            }
        }
    }

    /// The group's coalition values through ``InterventionalGame`` (models without a leading
    /// dense layer): every coalition of the group's players, over the group's background rows.
    private func coalitionValues(x: Tensor, group: (players: [Int], rows: [Int]), players: Players,
                                 model: PredictionFunction) throws -> [Double] {
        let (q, p, d) = (group.players.count, players.count, model.features)
        let subset = try Background(Tensor(uncheckedShape: [group.rows.count, d],
                                           scalars: group.rows.flatMap { background.rows.scalars[($0 * d)..<(($0 + 1) * d)] }),
                                    weights: group.rows.map { background.weights[$0] })
        let share = group.rows.reduce(0.0) { $0 + background.weights[$1] }
        let game = try InterventionalGame(model: model, background: subset, players: players)
        var masks = [UInt8](repeating: 0, count: (1 << q) * p)
        for s in 0..<(1 << q) {
            // Players outside the group take x's values: they equal these rows' anyway.
            for i in 0..<p { masks[s * p + i] = 1 }
            for (bit, player) in group.players.enumerated() where s & (1 << bit) == 0 { masks[s * p + player] = 0 }
        }
        let (values, _) = try game.values(of: x, masks: [masks])
        return values[0].map { $0 * share }
    }

    /// The group's coalition values by Gray-code walks (see the type): chunks of consecutive
    /// Gray indices, each evaluated for every background row of the group (row-major, so each
    /// row's walk is contiguous) and reduced over the rows into the chunk's own coalitions.
    private func grayCodeValues(x: Tensor, group: (players: [Int], rows: [Int]), players: Players,
                                leading: InferencePlan.LeadingDense, table: [Float], model: PredictionFunction) throws -> [Double] {
        let (q, o, d, hp, width) = (group.players.count, model.outputs, model.features, leading.paddedWidth, leading.width)
        let coalitions = 1 << q, k = group.rows.count
        let steps = min(coalitions, 512)
        let chunks = coalitions / steps
        let explained = InterventionalGame.preactivations(of: x.scalars, count: 1, leading)
        // x − b per group row, and each player's columns.
        var differences = [Float](repeating: 0, count: k * d)
        for (i, b) in group.rows.enumerated() {
            for j in 0..<d { differences[i * d + j] = x.scalars[j] - background.rows.scalars[b * d + j] }
        }
        // Each group player's columns as one flat table, so the walk touches no nested arrays.
        let columnStart = group.players.reduce(into: [0]) { $0.append($0.last! + players.groups[$1].count) }
        let columnList = group.players.flatMap { players.groups[$0] }
        let weights = group.rows.map { background.weights[$0] }
        let backgroundRows = group.rows
        let (activation, slope) = (leading.activation, leading.slope)
        var values = [Double](repeating: 0, count: coalitions * o)
        try values.withUnsafeMutableBufferPointer { out in
            try differences.withUnsafeBufferPointer { differenceTable in
                try table.withUnsafeBufferPointer { u in
                    try explained.withUnsafeBufferPointer { v in
                        try leading.transposedWeights.withUnsafeBufferPointer { w in
                          try columnStart.withUnsafeBufferPointer { startBuffer in
                           try columnList.withUnsafeBufferPointer { listBuffer in
                            try weights.withUnsafeBufferPointer { weightBuffer in
                             try backgroundRows.withUnsafeBufferPointer { rowBuffer in
                            let (target, diff, wt) = (out.baseAddress!, differenceTable.baseAddress!, w.baseAddress!)
                            let (starts, list, rowWeights, rowIndex) = (startBuffer.baseAddress!, listBuffer.baseAddress!,
                                                                         weightBuffer.baseAddress!, rowBuffer.baseAddress!)
                            try model.streamAfterLeadingDense(chunks: chunks, maxRows: steps * k, rows: { _ in steps * k },
                                                              fill: { c, samples, h, stride in
                                var pre = [Float](repeating: 0, count: hp)
                                pre.withUnsafeMutableBufferPointer { preBuffer in
                                    let state = preBuffer.baseAddress!
                                    var s = samples.lowerBound
                                    while s < samples.upperBound {
                                        let (row, first) = (s / steps, s % steps)
                                        let count = min(steps - first, samples.upperBound - s)
                                        let delta = diff + row * d
                                        for step in 0..<count {
                                            let t = c * steps + first + step
                                            let gray = t ^ (t >> 1)
                                            if step == 0 {
                                                // From scratch: the coalition's smaller side added to U_b or taken from V.
                                                let members = gray.nonzeroBitCount
                                                let fromX = members > q - members
                                                let start = fromX ? v.baseAddress! : u.baseAddress! + rowIndex[row] * hp
                                                state.update(from: start, count: hp)
                                                for bit in 0..<q where ((gray >> bit) & 1 == 1) != fromX {
                                                    for c in starts[bit]..<starts[bit + 1] {
                                                        let j = list[c]
                                                        ExactShapley.axpy(fromX ? -delta[j] : delta[j], wt + j * hp, state, hp)
                                                    }
                                                }
                                            } else {
                                                // Gray index t flips bit ctz(t): that player joins or leaves.
                                                let bit = t.trailingZeroBitCount
                                                let joins = (gray >> bit) & 1 == 1
                                                for c in starts[bit]..<starts[bit + 1] {
                                                    let j = list[c]
                                                    ExactShapley.axpy(joins ? delta[j] : -delta[j], wt + j * hp, state, hp)
                                                }
                                            }
                                            ExactShapley.activate(state, into: h + (s - samples.lowerBound + step) * stride, width,
                                                                  activation: activation, slope: slope)
                                        }
                                        s += count
                                    }
                                }
                            }, consume: { c, y, _ in
                                for i in 0..<steps {
                                    let t = c * steps + i
                                    let gray = t ^ (t >> 1)
                                    for j in 0..<o {
                                        var sum = 0.0
                                        for row in 0..<k { sum += rowWeights[row] * Double(y[(row * steps + i) * o + j]) }
                                        target[gray * o + j] = sum
                                    }
                                }
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
        return values
    }

    /// `y += a·x` over `n` floats.
    @inline(__always)
    static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n {
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: yv.addingProduct(a, xv), as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            y[i] = y[i].addingProduct(a, x[i])
            i += 1
        }
    }

    /// The leading layer's activation (`GB_ACT_*`: none, ReLU, leaky ReLU) of `n` pre-activations.
    @inline(__always)
    static func activate(_ pre: UnsafePointer<Float>, into h: UnsafeMutablePointer<Float>, _ n: Int, activation: Int32, slope: Float) {
        switch activation {
        case 1:
            var i = 0
            while i + 8 <= n {
                let x = UnsafeRawPointer(pre + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(h + i).storeBytes(of: pointwiseMax(x, .zero), as: SIMD8<Float>.self)
                i += 8
            }
            while i < n {
                h[i] = max(pre[i], 0)
                i += 1
            }
        case 2: for i in 0..<n { h[i] = pre[i] > 0 ? pre[i] : slope * pre[i] }
        default: h.update(from: pre, count: n)
        }
    }
}
