import Foundation
import GlassboxExplain

/// How closely two explainers agree on a model's global feature importance: the statistics of
/// ``Agreement`` applied to every pair of methods (what `glassbox compare` prints).
public struct MethodAgreement: Sendable, Equatable, Codable {
    /// The two methods, in the order they were given.
    public var a: String, b: String
    /// Spearman's ρ of the two importance vectors; nil when either is constant (undefined).
    public var spearman: Double?
    /// Kendall's τ-b; nil when either vector is constant.
    public var kendallTauB: Double?
    /// `|top_k(a) ∩ top_k(b)| / k`.
    public var topKOverlap: Double
    /// The `k` of ``topKOverlap``.
    public var k: Int

    /// Every pair `(i, j)`, `i < j`, of `results` (which must rank the same players).
    /// Cost: O(m²·d²) for m methods and d players (τ-b is quadratic in d; d is small).
    ///
    /// - Throws: `GlassboxError` when two results rank different numbers of players or `k`
    ///   is outside `1...d`.
    public static func pairwise(_ results: [GlobalImportance], k: Int) throws -> [MethodAgreement] {
        var pairs: [MethodAgreement] = []
        for i in results.indices {
            for j in results.indices where j > i {
                let (x, y) = (results[i].scores, results[j].scores)
                let rho = try Agreement.spearman(x, y), tau = try Agreement.kendallTauB(x, y)
                pairs.append(MethodAgreement(a: results[i].method, b: results[j].method, spearman: rho.isNaN ? nil : rho,
                                             kendallTauB: tau.isNaN ? nil : tau,
                                             topKOverlap: try Agreement.topKOverlap(x, y, k: k), k: k))
            }
        }
        return pairs
    }
}
