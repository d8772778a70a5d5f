import Foundation
import GlassboxExplain
import GlassboxNN
import Testing

@Suite struct DeterminismTests {
    static let background = try! Background(normalRows(12, 6, seed: 30))
    static let explainers: [any LocalExplainer] = [
        KernelSHAP(background: background, budget: 40, seed: 5),
        KernelSHAP(background: background, budget: 40, regularization: .topK(3), seed: 5),
        KernelSHAP(background: background, budget: 40, regularization: .aic, seed: 5),
        ExactShapley(background: background),
        PermutationSHAP(background: background, budget: 50, seed: 5),
        KernelSHAP(background: background, budget: 30, seed: 5, tolerance: 0.05, budgetLimit: 60),
        PermutationSHAP(background: background, budget: 50, seed: 5, tolerance: 0.05, budgetLimit: 2000),
        AutomaticShapley(background: background),
        Saliency(), GradientTimesInput(), IntegratedGradients(steps: 16), SmoothGrad(noise: 0.3, samples: 8, seed: 5),
    ]

    /// Same inputs and seed, same bits — with the work spread over threads in whatever order.
    @Test(arguments: explainers.indices)
    func runningTwiceIsBitIdentical(index: Int) throws {
        let explainer = DeterminismTests.explainers[index]
        let model = try randomMLP(features: 6, seed: 31)
        let f = try PredictionFunction.probabilities(of: model, features: 6)
        let rows = normalRows(40, 6, seed: 32)
        let a = try explainer.explain(rows, model: f)
        let b = try explainer.explain(rows, model: f)
        #expect(a.values == b.values)
        #expect(a.predictions == b.predictions)
        #expect(a.audit.modelEvaluations == b.audit.modelEvaluations)
        // A row's attributions do not depend on the other rows explained with it.
        let single = try explainer.explain(Tensor(uncheckedShape: [1, 6], scalars: Array(rows.scalars[(7 * 6)..<(8 * 6)])), model: f)
        #expect(single.values.scalars == Array(a.values.scalars[(7 * a.values.shape[1] * 6)..<(8 * a.values.shape[1] * 6)]))
    }

    @Test func permutationImportanceIsReproducible() throws {
        let model = try randomMLP(features: 6, seed: 33)
        let f = try PredictionFunction.logits(of: model, features: 6)
        let data = normalRows(100, 6, seed: 34)
        let labels = (0..<100).map { $0 % 2 }
        let a = try PermutationImportance(metric: .logLoss, seed: 9).importance(of: f, data: data, labels: labels)
        let b = try PermutationImportance(metric: .logLoss, seed: 9).importance(of: f, data: data, labels: labels)
        #expect(a.scores == b.scores && a.spread == b.spread)
    }

    /// The seed is not decoration: where an explainer samples (coalitions, permutations, noise,
    /// shuffles), another seed gives other bits. The seedless ones (exact Shapley, saliency,
    /// gradient×input, integrated gradients) are covered by the bit-identity test above.
    @Test(arguments: ["kernel-shap", "permutation-shap", "smoothgrad"])
    func anotherSeedGivesAnotherSample(_ name: String) throws {
        func explainer(seed: UInt64) -> any LocalExplainer {
            switch name {
            case "kernel-shap": return KernelSHAP(background: DeterminismTests.background, budget: 40, seed: seed)
            case "permutation-shap": return PermutationSHAP(background: DeterminismTests.background, budget: 50, seed: seed)
            default: return SmoothGrad(noise: 0.3, samples: 8, seed: seed)
            }
        }
        let model = try randomMLP(features: 6, seed: 31)
        let f = try PredictionFunction.probabilities(of: model, features: 6)
        let rows = normalRows(10, 6, seed: 32)
        let a = try explainer(seed: 5).explain(rows, model: f)
        let again = try explainer(seed: 5).explain(rows, model: f)
        let b = try explainer(seed: 6).explain(rows, model: f)
        #expect(a.values == again.values)
        #expect(a.values.scalars != b.values.scalars)
        #expect(a.predictions == b.predictions)  // the model's outputs do not depend on the seed
    }

    @Test func permutationImportanceSeedMatters() throws {
        let model = try randomMLP(features: 6, seed: 33)
        let f = try PredictionFunction.logits(of: model, features: 6)
        let data = normalRows(100, 6, seed: 34)
        let labels = (0..<100).map { $0 % 2 }
        let a = try PermutationImportance(metric: .logLoss, seed: 9).importance(of: f, data: data, labels: labels)
        let b = try PermutationImportance(metric: .logLoss, seed: 10).importance(of: f, data: data, labels: labels)
        #expect(a.scores != b.scores)
    }
}
