import ArgumentParser
import Foundation
import Glassbox

/// `glassbox experiment convad`: add `ConvADExperiment.self` to the `experiment` group's subcommands.
struct ConvADExperiment: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convad",
        abstract: "Compare explanations made with masking values and with Activation-Deactivation (ConvAD).",
        discussion: """
            Trains the plain CNN and the residual net on digits and the Fashion-MNIST sample, then for each of
            --images test images computes ReX causal-responsibility explanations with every removal operator
            and reports size, robustness and confidence drop-off (mean ± sd). For the ConvAD rows it also reports the
            leakage: mean |Δ logit| when the occluded pixels of each explanation are refilled with uniform noise
            (0 for the strict variant by construction), absolute and relative to the mean |logit|.
            Example: glassbox experiment convad --images 100 --datasets digits --epochs 30 --json
            """
    )

    @Option(help: "Test images per dataset and model.") var images: Int = 100
    @Option(help: "ReX iterations per explanation.") var iterations: Int = 20
    @Option(help: "Training epochs.") var epochs: Int = 8
    @Option(help: "Datasets (comma-separated): digits, fashion-sample.") var datasets: String = "digits,fashion-sample"
    @Option(help: "Models (comma-separated): cnn, resnet.") var models: String = "cnn,resnet"
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Flag(help: "No progress lines on standard error.") var quiet = false

    struct Summary: Codable {
        var rows: [ActivationDeactivationExperiment.Row]
        var test_accuracy: [String: Float]
        var iterations: Int, seed: UInt64, seconds: Double
    }

    func run() throws {
        try reportingErrors {
            let start = Date()
            let style = ProgressStyle.choose(quiet: quiet, json: json)
            var rows: [ActivationDeactivationExperiment.Row] = []
            var accuracy: [String: Float] = [:]
            for dataset in datasets.split(separator: ",").map(String.init) {
                let (train, test, _) = try loadImageData(dataset: dataset, train: nil, labels: nil, testImages: nil,
                                                         testLabels: nil, seed: seed)
                let count = min(images, test.count)
                let subset = test.subset(Array(0..<count))
                for family in models.split(separator: ",").map(String.init) {
                    let trained = try trainImageModel(family: family, train: train, test: test, epochs: epochs, seed: seed,
                                                      progress: false)
                    accuracy["\(dataset)/\(family)"] = trained.testAccuracy
                    if !json && !quiet {
                        StandardStreams.writeError(String(format: "%@/%@: test accuracy %.2f %%\n", dataset, family,
                                                                   100 * trained.testAccuracy))
                    }
                    let options = CausalResponsibility.Options(iterations: iterations, seed: seed)
                    // One removal at a time, so progress can be shown between them (each removal's
                    // images are explained independently: the rows are the same as in one call).
                    let removals = ActivationDeactivationExperiment.removals(
                        normalizer: trained.normalizer, height: subset.images.shape[2], width: subset.images.shape[3])
                    let progress = StepProgress(total: removals.count, label: "\(dataset)/\(family)", style: style)
                    for removal in removals {
                        progress.begin(removal.description)
                        let result = try ActivationDeactivationExperiment.run(
                            dataset: dataset, modelName: family, model: trained.model, normalizer: trained.normalizer,
                            images: subset.images, removals: [removal], options: options, seed: seed)
                        progress.end(removal.description)
                        rows += result
                        if !json { for row in result { print(Self.format(row)) } }
                    }
                    progress.finish()
                }
            }
            if json {
                try printJSON(Summary(rows: rows, test_accuracy: accuracy, iterations: iterations, seed: seed,
                                      seconds: Date().timeIntervalSince(start)))
            }
        }
    }

    static func format(_ r: ActivationDeactivationExperiment.Row) -> String {
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
        return pad(r.dataset, 15) + pad(r.model, 7) + pad(r.removal, 14) + String(
            format: "n=%d  size %.3f ± %.3f  robustness %.3f ± %.3f  drop-off %.3f ± %.3f  (%d evals, %.1f s)",
               r.images, r.size_mean, r.size_sd, r.robustness_mean, r.robustness_sd,
               r.dropoff_mean, r.dropoff_sd, r.evaluations, r.seconds)
            + (r.leakage_mean.map { String(format: "  leakage %.4f ± %.4f (%.2f %% of mean |logit|)", $0, r.leakage_sd ?? 0,
                                           100 * (r.relative_leakage_mean ?? 0)) } ?? "")
    }
}
