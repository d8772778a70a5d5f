import Foundation

/// One input's classification: the logits, their softmax, and the `k` most probable classes.
///
/// probabilities_i = exp(z_i − max z) / Σ_j exp(z_j − max z), computed in Double. Ties in the
/// ranking go to the lower class index. Cost: O(K log K) for K classes.
public struct ClassPrediction: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var `class`: Int
        public var name: String?
        public var probability: Double
    }

    public var logits: [Float]
    public var probabilities: [Double]
    public var top: [Entry]

    /// Ranks `logits` (one row); `classNames` may be empty or shorter (missing names are nil).
    public init(logits: [Float], classNames: [String], top k: Int) {
        self.logits = logits
        let peak = Double(logits.max() ?? 0)
        let e = logits.map { exp(Double($0) - peak) }
        let total = e.reduce(0, +)
        let p = e.map { total > 0 && total.isFinite ? $0 / total : .nan }
        probabilities = p
        let order = p.indices.sorted { (p[$0], -$0) > (p[$1], -$1) }
        top = order.prefix(max(0, k)).map { Entry(class: $0, name: classNames.indices.contains($0) ? classNames[$0] : nil, probability: p[$0]) }
    }
}
