import Foundation
import Testing
import Glassbox

/// `glassbox demo` end to end on a reduced size (``GlassboxDemo/Options/quick``): every stage
/// runs, the results are consistent, the page renders and rebuilds from its JSON.
@Suite struct DemoTests {
    @Test func quickDemoProducesAConsistentReport() throws {
        var options = GlassboxDemo.Options.quick
        options.seed = 3
        let (report, summary) = try GlassboxDemo.run(options, generator: "test")
        try report.validate()
        let tabular = try #require(report.tabular)
        let image = try #require(report.image)
        #expect(tabular.featureNames.count == 30 && summary.features == 30)
        #expect(tabular.model.seeds == [3, 4])
        // Real models on real data, even when trained briefly.
        for accuracy in tabular.model.testAccuracy { #expect(accuracy > 0.85, "tabular test accuracy \(accuracy)") }
        #expect(image.model.testAccuracy[0] > 0.8, "digits test accuracy \(image.model.testAccuracy[0])")
        // ScoresActivation weights are a softmax: positive, summing to 1, per seed and per epoch.
        for run in tabular.ranking!.values { #expect(abs(run.reduce(0, +) - 1) < 1e-5 && run.allSatisfy { $0 > 0 }) }
        let trajectory = try #require(tabular.trajectory)
        #expect(trajectory.values.count == tabular.model.epochs![0])
        #expect(trajectory.values.allSatisfy { abs($0.reduce(0, +) - 1) < 1e-5 })
        // The agreement matrices: one row and column per method, 1 on the diagonal, symmetric.
        let agreement = try #require(tabular.agreement)
        #expect(agreement.methods == tabular.methods.map(\.method))
        #expect(agreement.methods == ["scores-activation", "scores-effective", "kernel-shap", "integrated-gradients", "permutation"])
        for matrix in [agreement.spearman, agreement.kendall, agreement.topK] {
            for i in matrix.indices {
                #expect(matrix[i][i] == 1)
                for j in matrix.indices { #expect(matrix[i][j] == matrix[j][i]) }
            }
        }
        // Kernel SHAP and Integrated Gradients explain the same probabilities of the same model: they
        // rank the features alike (ρ well above chance).
        let shap = agreement.methods.firstIndex(of: "kernel-shap")!, ig = agreement.methods.firstIndex(of: "integrated-gradients")!
        #expect((agreement.spearman[shap][ig] ?? 0) > 0.5, "Spearman(kernel-shap, IG) = \(String(describing: agreement.spearman[shap][ig]))")
        // Per-row attributions for the strip plot: explained rows × features.
        #expect(tabular.attributions!.values.count == options.explainedRows)
        #expect(tabular.attributions!.className == "malignant")
        // Images: of different classes, each with an AD and a masking-value map and curves in [0, 1].
        #expect(image.examples.count == options.images)
        #expect(Set(image.examples.map(\.trueClass)).count == options.images)
        for example in image.examples {
            #expect(example.explanations.map(\.method) == ["responsibility, AD", "responsibility, masking 0"])
            for e in example.explanations {
                #expect(e.map.count == 64 && e.map.contains { $0 > 0 })
                for curve in [e.insertion!, e.deletion!] {
                    #expect(curve.fractions.first == 0 && curve.fractions.last == 1)
                    #expect((0...1).contains(curve.auc))
                }
            }
        }
        #expect(summary.methods.count == tabular.methods.count && summary.imageMethods.count == 2)
        // The page and its JSON round trip.
        let html = try HTMLReport.render(report)
        for id in ["summary", "ranking", "trajectory", "methods", "attributions", "agreement", "images"] {
            #expect(html.contains("<section id=\"\(id)\">"))
        }
        let reloaded = try ReportFile.decode(try ReportFile.encode(report), path: "demo.json")
        #expect(try HTMLReport.render(reloaded) == html)
    }

    @Test func sameSeedGivesTheSameNumbers() throws {
        var options = GlassboxDemo.Options.quick
        (options.seeds, options.images, options.imageEpochs) = (1, 1, 1)
        var a = try GlassboxDemo.run(options).report, b = try GlassboxDemo.run(options).report
        // Wall times differ from run to run; everything else must not.
        for i in a.tabular!.methods.indices { a.tabular!.methods[i].seconds = nil; b.tabular!.methods[i].seconds = nil }
        #expect(a.tabular == b.tabular)
        #expect(a.image?.examples.map { $0.explanations.map(\.map) } == b.image?.examples.map { $0.explanations.map(\.map) })
    }
}
