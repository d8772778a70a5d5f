import Foundation
import GlassboxNN

/// Shapley values of the interventional game, exact when enumerating is affordable and
/// estimated otherwise: ``ExactShapley`` when its model evaluations (`Σ_rows Σ_b 2^|D_b|`, see
/// there) are at most ``exactCostMultiple`` times what ``KernelSHAP`` would spend (`budget × k`
/// per row, the budget capped at the `2^M − 2` coalitions there are), and Kernel SHAP with its
/// standard errors (and ``tolerance``, if set) otherwise. The audit records the choice and the
/// two costs (`shapley_choice`, `shapley_reason`); exact values carry zero standard errors.
///
/// Cost: the chosen method's, plus one pass over `rows × background` comparing columns.
public struct AutomaticShapley: LocalExplainer {
    /// The background rows the game averages over.
    public var background: Background
    /// Players (default: one per feature).
    public var players: Players?
    /// Kernel SHAP's budget per row (nil: `2·M + 2048`), also the sampled side of the comparison.
    public var budget: Int?
    /// Kernel SHAP's seed.
    public var seed: UInt64
    /// Kernel SHAP's convergence target (see ``KernelSHAP/tolerance``).
    public var tolerance: Double?
    /// Kernel SHAP's cap under `tolerance`.
    public var budgetLimit: Int?
    /// Exact is chosen when it costs at most this many times the sampled estimate's model
    /// evaluations: 32, so 16 players (65,536 coalitions against Kernel SHAP's default 2,080,
    /// 31.5×) are enumerated and 17 (63×) are sampled. A model row costs about the same on both
    /// sides (the layers after the first dominate), so the time ratio follows the evaluation
    /// ratio: docs/shapley-accuracy.md measures 28–40× at 16 features.
    public static let exactCostMultiple = 32.0
    /// `"shapley"`; the explanation names the method chosen.
    public var method: String { "shapley" }

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

    /// Exact or Kernel SHAP values of `rows` (`[n, features]`), as chosen (see the type).
    public func explain(_ rows: Tensor, model: PredictionFunction) throws -> Explanation {
        try model.checkInput(rows, "rows to explain")
        let players = try self.players ?? Players(features: model.features)
        let game = try InterventionalGame(model: model, background: background, players: players)
        let (n, d, k) = (rows.shape[0], model.features, background.count)
        var sampledCost = 0.0
        rows.scalars.withUnsafeBufferPointer { xs in
            for r in 0..<n {
                let m = game.varyingPlayers(xs.baseAddress! + r * d).count
                let coalitions = m < 2 ? 0 : min(Double(budget ?? 2 * m + 2048), pow(2, Double(m)) - 2)
                sampledCost += coalitions * Double(k)
            }
        }
        let exact = ExactShapley(background: background, players: players)
        let reason: String
        var useExact = false
        if players.count > ExactShapley.maxPlayers {
            reason = "\(players.count) players: more than the \(ExactShapley.maxPlayers) exact enumeration allows"
        } else {
            let exactCost = Double(try exact.cost(of: rows, model: model))
            useExact = exactCost <= AutomaticShapley.exactCostMultiple * sampledCost
            let ratio = sampledCost > 0 ? String(format: "%.1f×", exactCost / sampledCost) : "—"
            reason = "enumeration costs \(Int(exactCost)) model evaluations, \(ratio) Kernel SHAP's \(Int(sampledCost)) "
                + (useExact ? "(at most" : "(more than") + " \(Int(AutomaticShapley.exactCostMultiple))×)"
        }
        var explanation: Explanation
        if useExact {
            explanation = try exact.explain(rows, model: model)
            explanation.standardErrors = Tensor(uncheckedShape: explanation.values.shape,
                                                scalars: [Float](repeating: 0, count: explanation.values.scalars.count))
        } else {
            explanation = try KernelSHAP(background: background, players: players, budget: budget, seed: seed,
                                         tolerance: tolerance, budgetLimit: budgetLimit).explain(rows, model: model)
        }
        explanation.audit.settings["shapley_choice"] = useExact ? "exact" : "kernel-shap"
        explanation.audit.settings["shapley_reason"] = reason
        return explanation
    }
}
