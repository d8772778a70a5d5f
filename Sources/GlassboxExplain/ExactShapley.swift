import Foundation
import GlassboxNN

/// Exact Shapley values of the interventional game (the one Kernel SHAP estimates), by
/// enumerating every coalition — the oracle the estimators are tested against:
///
///     φ_i = Σ_{S ⊆ P∖{i}} |S|!·(p−|S|−1)!/p! · (v(S ∪ {i}) − v(S))
///
/// Cost: `2^p` coalitions × `k` background rows model evaluations per explained row, so it is
/// limited to ``maxPlayers`` players (16 players and 100 background rows: 6.6 million model
/// rows per explained row).
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
        let coalitions = 1 << p
        var masks = [UInt8](repeating: 0, count: coalitions * p)
        for s in 0..<coalitions { for i in 0..<p where s & (1 << i) != 0 { masks[s * p + i] = 1 } }
        var factorial = [1.0]
        for i in 1...p { factorial.append(factorial[i - 1] * Double(i)) }
        let weight = (0..<p).map { s in factorial[s] * factorial[p - s - 1] / factorial[p] }
        let size = (0..<coalitions).map { $0.nonzeroBitCount }

        let fx = try model(rows)
        let base = try game.baseValue()
        var evaluations = n + background.count
        var phi = [Float](repeating: 0, count: n * o * p)
        let d = model.features
        let blockRows = max(1, (1 << 16) >> p)
        for blockStart in stride(from: 0, to: n, by: blockRows) {
            let block = blockStart..<min(n, blockStart + blockRows)
            let x = Tensor(uncheckedShape: [block.count, d], scalars: Array(rows.scalars[(block.lowerBound * d)..<(block.upperBound * d)]))
            let (values, used) = try game.values(of: x, masks: [[UInt8]](repeating: masks, count: block.count))
            evaluations += used
            for (i, v) in values.enumerated() {
                let r = block.lowerBound + i
                for j in 0..<o {
                    for player in 0..<p {
                        let bit = 1 << player
                        var sum = 0.0
                        for s in 0..<coalitions where s & bit == 0 {
                            sum += weight[size[s]] * (v[(s | bit) * o + j] - v[s * o + j])
                        }
                        phi[(r * o + j) * p + player] = Float(sum)
                    }
                }
            }
        }
        let reference = Tensor(uncheckedShape: [n, o], scalars: (0..<(n * o)).map { Float(base[$0 % o]) })
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Explanation(method: method, values: Tensor(uncheckedShape: [n, o, p], scalars: phi), players: players,
                           outputs: Array(0..<o), predictions: fx, reference: reference,
                           audit: Audit(modelEvaluations: evaluations, wallSeconds: seconds,
                                        settings: ["background": background.summary, "coalitions_per_row": String(coalitions),
                                                   "output": model.output.rawValue]))
    }
}
