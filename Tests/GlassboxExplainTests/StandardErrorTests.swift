import Foundation
import GlassboxExplain
import GlassboxNN
import Testing

/// Standard errors of the sampled Shapley estimators, checked against exact enumeration, and
/// the `tolerance` stopping rule.
@Suite struct StandardErrorTests {
    /// Coverage of `|φ̂ − φ| ≤ z·se` over every attribution that has sampling error, and the
    /// number of such attributions.
    static func coverage(_ estimate: Explanation, _ exact: Explanation, z: Float) throws -> (fraction: Double, count: Int) {
        let se = try #require(estimate.standardErrors)
        #expect(se.shape == estimate.values.shape)
        var inside = 0, count = 0
        for i in 0..<se.scalars.count where se.scalars[i] > 0 {
            #expect(!se.scalars[i].isNaN)
            count += 1
            if abs(estimate.values.scalars[i] - exact.values.scalars[i]) <= z * se.scalars[i] { inside += 1 }
        }
        return (Double(inside) / Double(max(1, count)), count)
    }

    /// The models with exact values the calibration runs on: a smooth MLP's class probabilities
    /// (10 features, 2 outputs) and a function with pairwise and three-way interactions (11 features).
    static func calibrationCases() throws -> [(PredictionFunction, Background, Tensor)] {
        let mlp = try PredictionFunction.probabilities(of: try randomMLP(features: 10, seed: 31, smooth: true), features: 10)
        let interactions = try interactionModel(features: 11)
        return [(mlp, try Background(normalRows(6, 10, seed: 32)), normalRows(30, 10, seed: 33)),
                (interactions, try Background(normalRows(6, 11, seed: 34)), normalRows(40, 11, seed: 35))]
    }

    /// 90–98 % of attributions lie within two reported standard errors of the exact value (a
    /// normal error would give 95.4 %), and an error bar a third as wide covers far fewer — so
    /// both too-wide and too-narrow bars fail.
    @Test(arguments: ["kernel-shap", "permutation-shap"])
    func standardErrorsAreCalibrated(method: String) throws {
        var inside = 0.0, total = 0, narrow = 0.0
        for (f, background, rows) in try StandardErrorTests.calibrationCases() {
            let exact = try ExactShapley(background: background).explain(rows, model: f)
            for seed in 0..<3 as Range<UInt64> {
                let explainer: any LocalExplainer = method == "kernel-shap"
                    ? KernelSHAP(background: background, budget: 160, seed: seed)
                    : PermutationSHAP(background: background, budget: 160, seed: seed)
                let estimate = try explainer.explain(rows, model: f)
                let (fraction, count) = try StandardErrorTests.coverage(estimate, exact, z: 2)
                inside += fraction * Double(count)
                total += count
                narrow += try StandardErrorTests.coverage(estimate, exact, z: 2.0 / 3).fraction * Double(count)
            }
        }
        #expect(total > 1000)
        let rate = inside / Double(total)
        #expect(rate >= 0.90 && rate <= 0.98, "\(method): \(rate) of \(total) attributions within 2 se")
        #expect(narrow / Double(total) < 0.75, "\(method): \(narrow / Double(total)) within 2/3 se")
    }

    /// Enumerating every coalition leaves no sampling error: zero standard errors, as for players
    /// that never vary.
    @Test func exactDesignsHaveZeroStandardErrors() throws {
        let f = try interactionModel(features: 7)
        let background = try Background(normalRows(5, 7, seed: 36))
        let rows = normalRows(3, 7, seed: 37)
        let e = try KernelSHAP(background: background, budget: 126).explain(rows, model: f)
        #expect(try #require(e.standardErrors).scalars.allSatisfy { $0 == 0 })
        let sampled = try KernelSHAP(background: background, budget: 40).explain(rows, model: f)
        #expect(try #require(sampled.standardErrors).scalars.contains { $0 > 0 })
    }

    /// Under a tolerance each row is sampled until Covert & Lee's criterion holds; the audit
    /// records the error reached, and the estimate is closer to the exact values than the first
    /// round's.
    @Test(arguments: ["kernel-shap", "permutation-shap"])
    func toleranceSamplesUntilConverged(method: String) throws {
        let f = try interactionModel(features: 12)
        let background = try Background(normalRows(5, 12, seed: 38))
        let rows = normalRows(4, 12, seed: 39)
        let exact = try ExactShapley(background: background).explain(rows, model: f)
        func make(_ tolerance: Double?) -> any LocalExplainer {
            method == "kernel-shap"
                ? KernelSHAP(background: background, budget: 200, seed: 3, tolerance: tolerance, budgetLimit: 4000)
                : PermutationSHAP(background: background, budget: 200, seed: 3, tolerance: tolerance, budgetLimit: 40_000)
        }
        let first = try make(nil).explain(rows, model: f)
        let converged = try make(0.01).explain(rows, model: f)
        #expect(converged.audit.settings["rows_converged"] == "4 of 4", "\(converged.audit.settings)")
        let reached = try #require(Double(converged.audit.settings["error_reached"] ?? ""))
        #expect(reached <= 0.01)
        #expect(converged.audit.modelEvaluations > 2 * first.audit.modelEvaluations)
        // The criterion as the audit states it, recomputed from the explanation; and the
        // actual errors within four of those standard errors.
        let se = try #require(converged.standardErrors)
        var firstWithin = true
        for r in 0..<4 {
            let values = converged.attributions(row: r), truth = exact.attributions(row: r)
            let spread = values.max()! - values.min()!
            #expect(se.scalars[(r * 12)..<((r + 1) * 12)].max()! <= Float(0.01) * spread * 1.0001)
            let worst = zip(values, truth).map { abs($0 - $1) }.max()!
            #expect(worst <= 4 * 0.01 * spread, "row \(r): error \(worst), spread \(spread)")
            let firstWorst = zip(first.attributions(row: r), truth).map { abs($0 - $1) }.max()!
            firstWithin = firstWithin && firstWorst <= 4 * 0.01 * spread
        }
        #expect(!firstWithin, "the first round alone already met the bound: the test would not see sampling continue")
        // A cap too small to converge is honoured and reported.
        let capped = try (method == "kernel-shap"
            ? KernelSHAP(background: background, budget: 200, seed: 3, tolerance: 0.0001, budgetLimit: 400) as any LocalExplainer
            : PermutationSHAP(background: background, budget: 200, seed: 3, tolerance: 0.0001, budgetLimit: 400)).explain(rows, model: f)
        #expect(capped.audit.settings["rows_converged"] == "0 of 4")
        #expect(capped.audit.modelEvaluations <= 4 + 5 + 4 * 400 * 5)
    }

    @Test(arguments: [0.0, -0.5, Double.nan, Double.infinity])
    func badTolerancesAreRefused(tolerance: Double) throws {
        let f = try interactionModel(features: 6)
        let background = try Background(normalRows(3, 6, seed: 40))
        let rows = normalRows(1, 6, seed: 41)
        #expect(throws: GlassboxError.self) { try KernelSHAP(background: background, tolerance: tolerance).explain(rows, model: f) }
        #expect(throws: GlassboxError.self) { try PermutationSHAP(background: background, tolerance: tolerance).explain(rows, model: f) }
    }

    /// A first round with too few sampled coalitions to estimate an error is refused, not run.
    @Test func budgetTooSmallToEstimateAnError() throws {
        let f = try interactionModel(features: 10)
        let background = try Background(normalRows(3, 10, seed: 42))
        let rows = normalRows(1, 10, seed: 43)
        // 12 coalitions: six paired draws, fewer than the ten players' regression has unknowns.
        #expect(throws: GlassboxError.self) { try KernelSHAP(background: background, budget: 12, tolerance: 0.01).explain(rows, model: f) }
        let few = try KernelSHAP(background: background, budget: 12).explain(rows, model: f)
        #expect(try #require(few.standardErrors).scalars.allSatisfy(\.isNaN))
        // One antithetic pair of permutations (18 coalitions) has no sample variance.
        #expect(throws: GlassboxError.self) { try PermutationSHAP(background: background, budget: 30, tolerance: 0.01).explain(rows, model: f) }
        let single = try PermutationSHAP(background: background, budget: 30).explain(rows, model: f)
        #expect(try #require(single.standardErrors).scalars.allSatisfy(\.isNaN))
    }
}
