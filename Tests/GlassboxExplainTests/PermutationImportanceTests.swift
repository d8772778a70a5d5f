import Foundation
import GlassboxExplain
import GlassboxNN
import Testing

@Suite struct PermutationImportanceTests {
    /// Labels depend on feature 2 only and so does the model: every other feature scores exactly zero.
    @Test(arguments: [PermutationImportance.Metric.accuracy, .logLoss])
    func findsTheOnlyInformativeFeature(metric: PermutationImportance.Metric) throws {
        var rng = SeededGenerator(seed: 29)
        let (w, _) = try linearModel(weights: [0, 0, 4, 0, 0], bias: 0)
        let f = try PredictionFunction.logits(of: w, features: 5)
        let data = Tensor.normal([300, 5], using: &rng)
        let labels = (0..<300).map { data.scalars[$0 * 5 + 2] > 0 ? 1 : 0 }
        let importance = try PermutationImportance(metric: metric, repeats: 3, seed: 4).importance(of: f, data: data, labels: labels)
        #expect(importance.ranking.first == 2)
        #expect(importance.scores[2] > 0.3)
        for i in [0, 1, 3, 4] { #expect(importance.scores[i] == 0) }
        #expect(importance.audit.modelEvaluations == 300 * (1 + 5 * 3))
        #expect(try #require(importance.spread).count == 5)
    }
}
