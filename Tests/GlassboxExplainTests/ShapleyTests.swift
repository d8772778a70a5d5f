import Foundation
import GlassboxExplain
import GlassboxNN
import Testing

@Suite struct ShapleyTests {
    /// With a budget covering all `2^M − 2` coalitions, the Kernel SHAP regression is the Shapley value.
    @Test(arguments: [(5, PredictionFunction.Output.probability), (8, .logit), (11, .probability), (12, .logit)])
    func kernelSHAPWithFullBudgetIsExact(features: Int, output: PredictionFunction.Output) throws {
        let model = try randomMLP(features: features, seed: UInt64(features))
        let f = output == .logit ? try PredictionFunction.logits(of: model, features: features)
                                 : try PredictionFunction.probabilities(of: model, features: features)
        let background = try Background(normalRows(6, features, seed: 1))
        let rows = normalRows(3, features, seed: 2)
        let exact = try ExactShapley(background: background).explain(rows, model: f)
        let kernel = try KernelSHAP(background: background, budget: 1 << features).explain(rows, model: f)
        #expect(maxDifference(kernel, exact) < 1e-5)
        #expect(kernel.audit.settings["coalitions_per_row"] == String(format: "%.1f", Double((1 << features) - 2)))
    }

    @Test func kernelSHAPIsExactOnAModelWithInteractions() throws {
        let f = try interactionModel(features: 7)
        let background = try Background(normalRows(5, 7, seed: 3))
        let rows = normalRows(4, 7, seed: 4)
        let exact = try ExactShapley(background: background).explain(rows, model: f)
        let kernel = try KernelSHAP(background: background, budget: 126).explain(rows, model: f)
        #expect(maxDifference(kernel, exact) < 1e-5)
        // Interactions make the attributions differ from the additive part alone.
        #expect(abs(exact.values.scalars[0]) > 1e-3)
    }

    /// The sampled estimate approaches the exact value as the budget grows.
    @Test func kernelSHAPErrorShrinksWithBudget() throws {
        let f = try interactionModel(features: 10)
        let background = try Background(normalRows(8, 10, seed: 5))
        let rows = normalRows(6, 10, seed: 6)
        let exact = try ExactShapley(background: background).explain(rows, model: f)
        func meanError(_ budget: Int) throws -> Double {
            var total = 0.0
            for seed in 0..<3 as Range<UInt64> {
                let estimate = try KernelSHAP(background: background, budget: budget, seed: seed).explain(rows, model: f)
                total += zip(estimate.values.scalars, exact.values.scalars).reduce(0) { $0 + Double(abs($1.0 - $1.1)) }
            }
            return total
        }
        let errors = try [30, 120, 500].map(meanError)
        #expect(errors[0] > errors[1] && errors[1] > errors[2], "errors \(errors)")
        #expect(errors[2] < errors[0] / 3)
    }

    @Test func efficiencyHoldsExactlyForSampledBudgets() throws {
        let model = try randomMLP(features: 14, seed: 7)
        let f = try PredictionFunction.probabilities(of: model, features: 14)
        let background = try Background(normalRows(10, 14, seed: 8))
        let rows = normalRows(5, 14, seed: 9)
        for explainer in [KernelSHAP(background: background, budget: 60, seed: 1) as any LocalExplainer,
                          PermutationSHAP(background: background, budget: 60, seed: 1)] {
            let e = try explainer.explain(rows, model: f)
            #expect(try #require(e.audit.maxCompletenessGap) < 2e-6, "\(e.method)")
        }
    }

    /// For `f(x) = w·x + b` the interventional Shapley value is `w_i (x_i − E x_i)`, E under the background weights.
    @Test func exactShapleyOfALinearModel() throws {
        let w: [Float] = [0.5, -1.25, 2, 0, 0.75]
        let (_, f) = try linearModel(weights: w, bias: 0.3)
        let data = normalRows(7, 5, seed: 10)
        let weights: [Double] = [1, 2, 3, 1, 1, 4, 0.5]
        let background = try Background(data, weights: weights)
        let rows = normalRows(3, 5, seed: 11)
        let e = try ExactShapley(background: background).explain(rows, model: f)
        for r in 0..<3 {
            for i in 0..<5 {
                let mean = (0..<7).reduce(0.0) { $0 + background.weights[$1] * Double(data.scalars[$1 * 5 + i]) }
                let expected = Double(w[i]) * (Double(rows.scalars[r * 5 + i]) - mean)
                #expect(abs(Double(e.values.scalars[r * 5 + i]) - expected) < 1e-5)
            }
        }
    }

    /// Grouped columns act as one player: the estimators agree with exact Shapley over the
    /// groups, and for a linear model a group's value is the sum of its columns' values.
    @Test func groupedPlayers() throws {
        let w: [Float] = [1, -2, 0.5, 3, -1, 0.25, 2]
        let (_, f) = try linearModel(weights: w, bias: 0)
        let players = try Players(groups: [[0, 1], [3, 4, 5]], features: 7)
        #expect(players.count == 4)
        #expect(players.groups == [[0, 1], [3, 4, 5], [2], [6]])
        let background = try Background(normalRows(6, 7, seed: 12))
        let rows = normalRows(2, 7, seed: 13)
        let exact = try ExactShapley(background: background, players: players).explain(rows, model: f)
        let kernel = try KernelSHAP(background: background, players: players, budget: 14).explain(rows, model: f)
        #expect(maxDifference(kernel, exact) < 1e-5)
        let perColumn = try ExactShapley(background: background).explain(rows, model: f)
        for r in 0..<2 {
            for (g, group) in players.groups.enumerated() {
                let sum = group.reduce(Float(0)) { $0 + perColumn.values.scalars[r * 7 + $1] }
                #expect(abs(exact.values.scalars[r * 4 + g] - sum) < 1e-5)
            }
        }
        let nonlinear = try interactionModel(features: 7)
        let a = try ExactShapley(background: background, players: players).explain(rows, model: nonlinear)
        let b = try KernelSHAP(background: background, players: players, budget: 14).explain(rows, model: nonlinear)
        #expect(maxDifference(a, b) < 1e-5)
    }

    @Test func permutationSHAPConvergesToExact() throws {
        let f = try interactionModel(features: 6)
        let background = try Background(normalRows(5, 6, seed: 14))
        let rows = normalRows(3, 6, seed: 15)
        let exact = try ExactShapley(background: background).explain(rows, model: f)
        let rough = try PermutationSHAP(background: background, budget: 20, seed: 2).explain(rows, model: f)
        let fine = try PermutationSHAP(background: background, budget: 4000, seed: 2).explain(rows, model: f)
        #expect(maxDifference(fine, exact) < maxDifference(rough, exact))
        #expect(maxDifference(fine, exact) < 0.05)
    }

    /// A player whose columns equal every background row's cannot change the game: zero, at no cost.
    @Test func constantPlayerGetsZero() throws {
        let model = try randomMLP(features: 4, seed: 16)
        let f = try PredictionFunction.logits(of: model, features: 4)
        var data = normalRows(5, 4, seed: 17)
        var rows = normalRows(2, 4, seed: 18)
        for r in 0..<5 { data.scalars[r * 4 + 2] = 1.5 }
        for r in 0..<2 { rows.scalars[r * 4 + 2] = 1.5 }
        let background = try Background(data)
        let kernel = try KernelSHAP(background: background, budget: 100).explain(rows, model: f)
        let exact = try ExactShapley(background: background).explain(rows, model: f)
        #expect(kernel.values.scalars.enumerated().allSatisfy { $0.offset % 4 != 2 || $0.element == 0 })
        #expect(maxDifference(kernel, exact) < 1e-5)
        #expect(kernel.audit.settings["coalitions_per_row"] == "6.0")
    }

    @Test func topKRegularisationKeepsKPlayers() throws {
        let w: [Float] = [3, 0.01, -2, 0.02, 0.01, 1, 0, 0.03]
        let (_, f) = try linearModel(weights: w, bias: 0)
        let background = try Background(normalRows(8, 8, seed: 19))
        let rows = normalRows(2, 8, seed: 20)
        let e = try KernelSHAP(background: background, budget: 60, regularization: .topK(3)).explain(rows, model: f)
        for r in 0..<2 {
            let nonzero = (0..<8).filter { e.values.scalars[r * 8 + $0] != 0 }
            #expect(Set(nonzero) == [0, 2, 5])
        }
        #expect(e.audit.settings["regularization"] == "top-3 (LARS)")
        #expect(try #require(e.audit.maxCompletenessGap) < 1e-5)
        for criterion in [KernelSHAP.Regularization.aic, .bic] {
            let selected = try KernelSHAP(background: background, budget: 200, regularization: criterion).explain(rows, model: f)
            for r in 0..<2 { for i in [0, 2, 5] { #expect(selected.values.scalars[r * 8 + i] != 0) } }
            #expect(try #require(selected.audit.maxCompletenessGap) < 1e-5)
        }
    }
}
