import Foundation
import GlassboxNN

/// What an explainer did, so a result can be judged on its own: how it was seeded, how much
/// model work it took, how long, and — for additive methods — how far the attributions are from
/// summing to the change they explain.
public struct Audit: Sendable, Codable, Equatable {
    /// Seed of the explainer's randomness (nil for deterministic methods).
    public var seed: UInt64?
    /// Rows passed forward through the model.
    public var modelEvaluations: Int
    /// Rows passed forward and backward (gradient methods).
    public var gradientEvaluations: Int
    /// Wall-clock time of the whole call.
    public var wallSeconds: Double
    /// Largest |Σφ − (f(x) − reference)| over rows and outputs (additive methods only).
    public var maxCompletenessGap: Double?
    /// The settings that shaped the result (budget, background, regularisation, steps…).
    public var settings: [String: String]

    /// Makes an audit.
    public init(seed: UInt64? = nil, modelEvaluations: Int = 0, gradientEvaluations: Int = 0, wallSeconds: Double = 0,
                maxCompletenessGap: Double? = nil, settings: [String: String] = [:]) {
        self.seed = seed
        self.modelEvaluations = modelEvaluations
        self.gradientEvaluations = gradientEvaluations
        self.wallSeconds = wallSeconds
        self.maxCompletenessGap = maxCompletenessGap
        self.settings = settings
    }
}

/// Local attributions: one value per explained row, model output and player.
public struct Explanation: Sendable {
    /// The method, as the field names it ("kernel-shap", "integrated-gradients"…).
    public let method: String
    /// Attributions `[rows, outputs.count, players]`, in the units of the model's output and
    /// for the model's inputs (standardised features when the model was trained on them).
    public let values: Tensor
    /// Who the last axis is about.
    public let players: Players
    /// The model output (class) index of each slice of the second axis.
    public let outputs: [Int]
    /// `f(x)` for those outputs, `[rows, outputs.count]`.
    public let predictions: Tensor
    /// What additive attributions are measured from, `[rows, outputs.count]`: `E f(background)`
    /// for Shapley methods, `f(baseline)` for Integrated Gradients; nil for methods that do not
    /// decompose the output (saliency, SmoothGrad, gradient × input).
    public let reference: Tensor?
    /// How the result was obtained.
    public internal(set) var audit: Audit
    /// Standard error of each attribution of a sampled estimator, `[rows, outputs.count, players]`
    /// like ``values``: zero where the value is exact (every coalition enumerated, a player that
    /// never varies), NaN where the samples are too few to estimate one; nil for methods that
    /// do not sample coalitions. An estimate's error is about normal for the budgets used, so
    /// `φ ± 2·se` covers the exact Shapley value about 95 % of the time.
    public internal(set) var standardErrors: Tensor?

    /// Number of explained rows.
    public var rows: Int { values.shape[0] }

    init(method: String, values: Tensor, players: Players, outputs: [Int], predictions: Tensor, reference: Tensor?, audit: Audit) {
        self.method = method
        self.values = values
        self.players = players
        self.outputs = outputs
        self.predictions = predictions
        self.reference = reference
        self.audit = audit
        self.audit.maxCompletenessGap = completenessGap.map { gap in gap.scalars.reduce(0) { max($0, abs(Double($1))) } }
    }

    /// `Σ_i φ_i − (f(x) − reference)` per row and output, `[rows, outputs.count]`; nil when the
    /// method is not additive. Zero up to rounding for exact methods and for Kernel SHAP, whose
    /// regression imposes it.
    public var completenessGap: Tensor? {
        guard let reference else { return nil }
        let (n, o, p) = (values.shape[0], values.shape[1], values.shape[2])
        var gap = [Float](repeating: 0, count: n * o)
        for s in 0..<(n * o) {
            var sum = 0.0
            for i in 0..<p { sum += Double(values.scalars[s * p + i]) }
            gap[s] = Float(sum - (Double(predictions.scalars[s]) - Double(reference.scalars[s])))
        }
        return Tensor(uncheckedShape: [n, o], scalars: gap)
    }

    /// The attributions of row `row` for the output in slice `slice` of the second axis.
    public func attributions(row: Int, slice: Int = 0) -> [Float] {
        let p = players.count
        let base = (row * outputs.count + slice) * p
        return Array(values.scalars[base..<(base + p)])
    }

    /// The standard errors of ``attributions(row:slice:)`` (nil without ``standardErrors``).
    public func standardErrors(row: Int, slice: Int = 0) -> [Float]? {
        guard let standardErrors else { return nil }
        let p = players.count
        let base = (row * outputs.count + slice) * p
        return Array(standardErrors.scalars[base..<(base + p)])
    }

    /// Global importance: mean |φ| per player over the explained rows and the given output
    /// slices (all by default).
    public func globalImportance(slices: [Int]? = nil) -> GlobalImportance {
        let chosen = slices ?? Array(0..<outputs.count)
        let (n, o, p) = (values.shape[0], values.shape[1], players.count)
        var scores = [Double](repeating: 0, count: p)
        for r in 0..<n {
            for s in chosen {
                for i in 0..<p { scores[i] += abs(Double(values.scalars[(r * o + s) * p + i])) }
            }
        }
        let count = Double(max(1, n * chosen.count))
        return GlobalImportance(method: method, names: players.names, scores: scores.map { $0 / count }, spread: nil,
                                audit: audit)
    }
}

/// One importance score per player for the model as a whole (higher is more important).
public struct GlobalImportance: Sendable, Equatable {
    /// The method the scores come from.
    public let method: String
    /// Player names.
    public let names: [String]
    /// Importance per player: mean |φ| for local methods, the metric's degradation for
    /// permutation importance.
    public let scores: [Double]
    /// Standard deviation of each score over repeats, where the method repeats.
    public let spread: [Double]?
    /// How the scores were obtained.
    public let audit: Audit

    /// Makes a global importance; `scores`, `names` and `spread` have one entry per player.
    public init(method: String, names: [String], scores: [Double], spread: [Double]? = nil, audit: Audit = Audit()) {
        self.method = method
        self.names = names
        self.scores = scores
        self.spread = spread
        self.audit = audit
    }

    /// Player indices from most to least important (ties keep index order).
    public var ranking: [Int] {
        scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
    }
}

/// A method that attributes a model's outputs for given rows to their players.
public protocol LocalExplainer: Sendable {
    /// The method's name as the field writes it ("kernel-shap").
    var method: String { get }
    /// Attributions for `rows` (`[n, model.features]`).
    func explain(_ rows: Tensor, model: PredictionFunction) throws -> Explanation
}

/// The generator for one explained row `x` (`features` values) of an explanation seeded with
/// `seed`: derived from the seed and the row's bits, so a row's attributions depend only on the
/// row, the model and the settings — not on which other rows are explained with it or where.
func rowGenerator(seed: UInt64, row x: UnsafePointer<Float>, features: Int) -> SeededGenerator {
    var h = seed ^ 0xCBF2_9CE4_8422_2325
    for j in 0..<features {
        h = (h ^ UInt64(x[j].bitPattern)) &* 0x0000_0100_0000_01B3
        h ^= h >> 29
    }
    return SeededGenerator(seed: h)
}
