import Testing
@testable import Glassbox

/// Expected values computed once with SciPy 1.17.1:
/// `scipy.stats.spearmanr(a, b).statistic`, `scipy.stats.kendalltau(a, b).statistic` (τ-b),
/// `scipy.stats.rankdata(a)`.
@Suite("Rank agreement statistics")
struct AgreementTests {
    struct Case: Sendable, CustomStringConvertible {
        let name: String, a: [Double], b: [Double], spearman: Double, kendall: Double, ranksA: [Double]
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "distinct", a: [0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.8, 0.05], b: [0.8, 0.2, 0.3, 0.4, 0.9, 0.1, 0.6, 0.0],
             spearman: 0.880952380952381, kendall: 0.7142857142857142, ranksA: [8, 2, 5, 4, 6, 3, 7, 1]),
        Case(name: "ties", a: [1, 2, 2, 3, 3, 3, 0, 5, 5, 1], b: [2, 2, 1, 3, 4, 4, 0, 5, 6, 1],
             spearman: 0.9375732507716865, kendall: 0.8647908694379514, ranksA: [2.5, 4.5, 4.5, 7, 7, 7, 1, 9.5, 9.5, 2.5]),
        Case(name: "reversed", a: [1, 2, 3, 4, 5], b: [5, 4, 3, 2, 1], spearman: -1, kendall: -1, ranksA: [1, 2, 3, 4, 5]),
        Case(name: "binary truth", a: [1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
             b: [0.3, 0.25, 0.05, 0.2, 0.1, 0.02, 0.01, 0.04, 0.015, 0.005],
             spearman: 0.8703882797784891, kendall: 0.7453559924999299, ranksA: [8, 8, 8, 8, 8, 3, 3, 3, 3, 3]),
    ]

    @Test(arguments: cases)
    func matchesSciPy(_ c: Case) throws {
        #expect(Agreement.averageRanks(c.a) == c.ranksA)
        #expect(abs(try Agreement.spearman(c.a, c.b) - c.spearman) < 1e-12)
        #expect(abs(try Agreement.kendallTauB(c.a, c.b) - c.kendall) < 1e-12)
        // Both statistics are symmetric in their arguments.
        #expect(abs(try Agreement.spearman(c.b, c.a) - c.spearman) < 1e-12)
        #expect(abs(try Agreement.kendallTauB(c.b, c.a) - c.kendall) < 1e-12)
    }

    @Test func topKAndRetrieval() throws {
        let importances: [Double] = [0.1, 0.9, 0.3, 0.3, 0.7, 0.0]
        #expect(Agreement.ranking(importances) == [1, 4, 2, 3, 0, 5])   // the tie 2/3 goes to the lower index
        #expect(Agreement.descendingRanks(importances) == [5, 1, 3.5, 3.5, 2, 6])
        let relevant: Set<Int> = [1, 3, 5]
        #expect(try Agreement.precisionAtK(importances, relevant: relevant, k: 2) == 0.5)
        #expect(try Agreement.recallAtK(importances, relevant: relevant, k: 4) == 2.0 / 3)
        #expect(try Agreement.recallAtK(importances, relevant: relevant, k: 6) == 1)
        #expect(try Agreement.topKOverlap(importances, [0, 1, 0, 0, 2, 0], k: 2) == 1)
        #expect(try Agreement.topKOverlap(importances, [3, 0, 0, 0, 0, 2], k: 2) == 0)
        #expect(try Agreement.spearman([1, 1, 1], [1, 2, 3]).isNaN)
        #expect(try Agreement.kendallTauB([1, 2, 3], [4, 4, 4]).isNaN)
    }

    @Test func badInputsThrow() {
        #expect(throws: GlassboxError.self) { try Agreement.spearman([1, 2], [1, 2, 3]) }
        #expect(throws: GlassboxError.self) { try Agreement.kendallTauB([], []) }
        #expect(throws: GlassboxError.self) { try Agreement.spearman([1, .nan], [1, 2]) }
        #expect(throws: GlassboxError.self) { try Agreement.topKOverlap([1, 2], [1, 2], k: 3) }
        #expect(throws: GlassboxError.self) { try Agreement.recallAtK([1, 2], relevant: [2], k: 1) }
        #expect(throws: GlassboxError.self) { try Agreement.stability([]) }
    }

    @Test func stabilityAcrossRuns() throws {
        let runs: [[Double]] = [[0.5, 0.3, 0.2], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5]]
        let s = try Agreement.stability(runs)
        #expect(s.meanRank == [5.0 / 3, 2, 7.0 / 3])
        // Ranks of feature 0 are 1, 1, 3: mean 5/3, population variance ((2/3)² + (2/3)² + (4/3)²)/3 = 8/9.
        #expect(abs(s.rankSD[0] - (8.0 / 9).squareRoot()) < 1e-12)
        #expect(s.rankSD[1] == 0)
        // Pairs: (1,2) ρ = 1, (1,3) ρ = −1, (2,3) ρ = −1.
        #expect(abs(s.meanPairwiseSpearman! - (-1.0 / 3)) < 1e-12)
        #expect(s.pairs == 3)
    }
}
