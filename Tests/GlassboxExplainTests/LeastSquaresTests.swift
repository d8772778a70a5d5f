import Foundation
@testable import GlassboxExplain
import GlassboxNN
import Testing

@Suite struct LeastSquaresTests {
    /// A random overdetermined problem: `y = X·β + noise` with only the first three coefficients non-zero.
    func problem(n: Int, m: Int, seed: UInt64) -> (x: [Double], y: [Double]) {
        var rng = SeededGenerator(seed: seed)
        let x = (0..<(n * m)).map { _ in rng.normal() }
        let beta = (0..<m).map { j in j < 3 ? Double(3 - j) : 0 }
        let y = (0..<n).map { i in (0..<m).reduce(0.0) { $0 + x[i * m + $1] * beta[$1] } + 0.1 * rng.normal() }
        return (x, y)
    }

    /// The end of the lasso and LAR paths is the least-squares fit (normal equations by Cholesky).
    @Test(arguments: [false, true])
    func pathEndsAtLeastSquares(lasso: Bool) throws {
        let (n, m) = (60, 7)
        let (x, y) = problem(n: n, m: m, seed: 1)
        var gram = [Double](repeating: 0, count: m * m), moment = [Double](repeating: 0, count: m)
        for i in 0..<n { for j in 0..<m { moment[j] += x[i * m + j] * y[i]; for k in 0..<m { gram[j * m + k] += x[i * m + j] * x[i * m + k] } } }
        let ols = LeastSquares.solveSymmetric(gram, moment, m: m, r: 1).x
        let end = try #require(LeastSquares.lars(x, y, n: n, m: m, lasso: lasso, maxActive: m).last)
        for j in 0..<m { #expect(abs(end.beta[j] - ols[j]) < 1e-9) }
        // LAR adds the strongest variables first.
        #expect(Set(LeastSquares.lars(x, y, n: n, m: m, lasso: false, maxActive: 3).last!.active) == [0, 1, 2])
    }

    /// A singular system gets the minimum-norm solution, as lstsq gives.
    @Test func singularSystemsGetTheMinimumNormSolution() {
        let a: [Double] = [1, 1, 1, 1]   // [[1, 1], [1, 1]]
        let (x, singular) = LeastSquares.solveSymmetric(a, [2, 2], m: 2, r: 1)
        #expect(singular)
        #expect(abs(x[0] - 1) < 1e-12 && abs(x[1] - 1) < 1e-12)
    }

    @Test func informationCriteriaKeepTheStrongVariables() {
        let (x, y) = problem(n: 200, m: 10, seed: 2)
        for factor in [2, log(200.0)] {
            let kept = LeastSquares.informationCriterionSelection(x, y, n: 200, m: 10, factor: factor)
            #expect(Set([0, 1, 2]).isSubset(of: Set(kept)), "\(kept)")
            #expect(kept.count < 10)
        }
    }
}
