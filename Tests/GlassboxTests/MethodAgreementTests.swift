import Testing
import Glassbox

/// `glassbox compare`'s pairwise agreement against scipy 1.17.1 (`spearmanr`, `kendalltau`).
@Suite struct MethodAgreementTests {
    func importance(_ method: String, _ scores: [Double]) -> GlobalImportance {
        GlobalImportance(method: method, names: scores.indices.map { "x\($0)" }, scores: scores)
    }

    @Test func pairsMatchScipy() throws {
        let results = [importance("a", [0.5, 0.1, 0.3, 0.3, 0.9, 0.05]), importance("b", [0.4, 0.2, 0.1, 0.35, 0.8, 0.0]),
                       importance("c", [0.1, 0.9, 0.2, 0.2, 0.05, 0.6])]
        let pairs = try MethodAgreement.pairwise(results, k: 3)
        #expect(pairs.map { "\($0.a)-\($0.b)" } == ["a-b", "a-c", "b-c"])
        let expected: [(Double, Double, Double)] = [(0.898645105261295, 0.8280786712108251, 2.0 / 3),
                                                    (-0.9411764705882354, -0.8571428571428572, 1.0 / 3),
                                                    (-0.7826908981308054, -0.6900655593423543, 0)]
        for (pair, (rho, tau, overlap)) in zip(pairs, expected) {
            #expect(abs(pair.spearman! - rho) < 1e-12)
            #expect(abs(pair.kendallTauB! - tau) < 1e-12)
            #expect(abs(pair.topKOverlap - overlap) < 1e-12)
        }
    }

    @Test func constantRankingHasNoCorrelation() throws {
        let pairs = try MethodAgreement.pairwise([importance("flat", [1, 1, 1]), importance("b", [3, 2, 1])], k: 1)
        #expect(pairs.count == 1 && pairs[0].spearman == nil && pairs[0].kendallTauB == nil)
    }

    @Test func mismatchedLengthsThrow() {
        do {
            _ = try MethodAgreement.pairwise([importance("a", [1, 2]), importance("b", [1, 2, 3])], k: 1)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("2 and 3 features"), "\(error)")
        }
    }
}
