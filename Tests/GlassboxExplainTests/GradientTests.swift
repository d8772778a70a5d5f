import Foundation
import GlassboxExplain
import GlassboxNN
import Testing

@Suite struct GradientTests {
    @Test func integratedGradientsIsCompleteOnASmoothModel() throws {
        let model = try randomMLP(features: 6, hidden: [12], outputs: 3, seed: 21, smooth: true)
        let f = try PredictionFunction.probabilities(of: model, features: 6)
        let rows = normalRows(4, 6, seed: 22)
        let coarse = try IntegratedGradients(steps: 4).explain(rows, model: f)
        let fine = try IntegratedGradients(steps: 128).explain(rows, model: f)
        let fineGap = try #require(fine.audit.maxCompletenessGap), coarseGap = try #require(coarse.audit.maxCompletenessGap)
        #expect(fineGap < 1e-4)
        #expect(fineGap < coarseGap / 20, "trapezoid error falls as 1/steps²: \(coarseGap) → \(fineGap)")
        let reference = try #require(fine.reference)
        let atBaseline = try f(Tensor.zeros([1, 6]))
        for r in 0..<4 { for c in 0..<3 { #expect(reference.scalars[r * 3 + c] == atBaseline.scalars[c]) } }
        #expect(fine.predictions == (try f(rows)))
    }

    /// Saliency against central differences in Double-precision inputs, on a smooth model.
    @Test func saliencyMatchesFiniteDifferences() throws {
        let model = try randomMLP(features: 5, hidden: [10, 6], outputs: 2, seed: 23, smooth: true)
        let f = try PredictionFunction.logits(of: model, features: 5)
        let rows = normalRows(3, 5, seed: 24)
        let saliency = try Saliency(outputs: [1]).explain(rows, model: f)
        let h: Float = 1e-2
        for r in 0..<3 {
            for j in 0..<5 {
                var plus = Tensor(uncheckedShape: [1, 5], scalars: Array(rows.scalars[(r * 5)..<(r * 5 + 5)]))
                var minus = plus
                plus.scalars[j] += h
                minus.scalars[j] -= h
                let derivative = (Double(try f(plus).scalars[1]) - Double(try f(minus).scalars[1])) / Double(2 * h)
                #expect(abs(Double(saliency.values.scalars[r * 5 + j]) - abs(derivative)) < 2e-3 * max(1, abs(derivative)))
            }
        }
    }

    @Test func gradientTimesInputOfALinearModel() throws {
        let w: [Float] = [1.5, -2, 0.25]
        let (_, f) = try linearModel(weights: w, bias: 1)
        let rows = normalRows(4, 3, seed: 25)
        let e = try GradientTimesInput().explain(rows, model: f)
        for r in 0..<4 { for j in 0..<3 { #expect(abs(e.values.scalars[r * 3 + j] - w[j] * rows.scalars[r * 3 + j]) < 1e-6) } }
        // Integrated Gradients from the zero baseline agrees for a linear model and is complete.
        let ig = try IntegratedGradients(steps: 3).explain(rows, model: f)
        #expect(maxDifference(ig, e) < 1e-5)
        #expect(try #require(ig.audit.maxCompletenessGap) < 1e-5)
    }

    @Test func smoothGradWithoutNoiseIsTheGradient() throws {
        let model = try randomMLP(features: 4, seed: 26, smooth: true)
        let f = try PredictionFunction.probabilities(of: model, features: 4)
        let rows = normalRows(3, 4, seed: 27)
        let smooth = try SmoothGrad(noise: 0, samples: 3, absolute: true).explain(rows, model: f)
        let saliency = try Saliency().explain(rows, model: f)
        #expect(maxDifference(smooth, saliency) < 1e-6)
        let noisy = try SmoothGrad(noise: 0.5, samples: 20).explain(rows, model: f)
        #expect(noisy.audit.gradientEvaluations == 60)
        #expect(noisy.audit.modelEvaluations == 3)
    }

    @Test func gradientsPoolOverGroups() throws {
        let w: [Float] = [1, 2, 3, 4]
        let (_, f) = try linearModel(weights: w, bias: 0)
        let players = try Players(groups: [[1, 3]], features: 4)
        let rows = normalRows(2, 4, seed: 28)
        let e = try IntegratedGradients(steps: 2, players: players).explain(rows, model: f)
        for r in 0..<2 {
            let x = Array(rows.scalars[(r * 4)..<(r * 4 + 4)])
            #expect(abs(e.values.scalars[r * 3] - (2 * x[1] + 4 * x[3])) < 1e-5)
        }
    }
}
