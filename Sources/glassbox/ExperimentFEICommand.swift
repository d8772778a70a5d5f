import ArgumentParser
import Foundation
import Glassbox

/// `glassbox experiment fei`: FEI against the gradient and perturbation baselines.
struct FEIExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fei",
        abstract: "Compare FEI attributions with saliency, integrated gradients, occlusion, RISE and causal responsibility.",
        discussion: """
            Trains (or loads from --model-dir) the plain CNN and the residual net on each dataset, explains the
            model's top-1 class on the first --images test images with every method, and reports insertion AUC
            (higher is better), deletion AUC (lower is better), their gap and the activation deviation along
            the insertion path (relative norm and excess activation, lower is better), as mean ± sd.
            Methods: fei, fei-no-clipping, fei-insertion-clipping (clipping on the insertion images only),
            fei-ad (deletion through soft ConvAD), saliency, integrated-gradients, occlusion, rise,
            responsibility, random.
            Example: glassbox experiment fei --datasets fashion-sample --images 100 --model-dir models --json
            """
    )

    @Option(help: "Test images per dataset and model.") var images: Int = 100
    @Option(help: "Training epochs (when a model is trained).") var epochs: Int = 8
    @Option(help: "Datasets (comma-separated): digits, fashion-sample, fashion.") var datasets: String = "digits,fashion-sample"
    @Option(help: "Models (comma-separated): cnn, resnet.") var models: String = "cnn,resnet"
    @Option(help: "Methods (comma-separated); default all but fei-ad and fei-insertion-clipping.") var methods: String?
    @Option(help: "FEI Adam steps.") var iterations: Int = FEI.Configuration().iterations
    @Option(help: "FEI kept fractions per step (the batch is twice this).") var fractions: Int = FEI.Configuration().fractions
    @Option(help: "FEI logit grid side (default min(S, max(S/2, 8)), S = min(H, W)).") var grid: Int?
    @Option(help: "FEI Adam learning rate.") var learningRate: Float = FEI.Configuration().learningRate
    @Option(help: "RISE masks per image.") var riseMasks: Int = 500
    @Option(help: "Causal-responsibility iterations per image.") var responsibilityIterations: Int = 20
    @Option(help: "Directory caching trained models (<dataset>-<model>-e<epochs>-s<seed>.safetensors).") var modelDir: String?
    @Option(help: "Seed (training, splits and every method).") var seed: UInt64 = 1
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Flag(help: "No progress output.") var quiet = false

    struct Summary: Codable {
        var rows: [FEIExperiment.Row]
        var test_accuracy: [String: Float]
        var fei: FEI.Configuration
        var images: Int, seed: UInt64, seconds: Double
    }

    func run() throws {
        try reportingErrors {
            let start = Date()
            var options = FEIExperiment.Options()
            if let methods {
                options.methods = try methods.split(separator: ",").map { name in
                    guard let m = FEIExperiment.Method(rawValue: String(name)) else {
                        throw GlassboxError.invalidArgument("unknown method '\(name)'; use "
                            + FEIExperiment.Method.allCases.map(\.rawValue).joined(separator: ", "))
                    }
                    return m
                }
            }
            guard images > 0 else { throw GlassboxError.invalidArgument("--images must be positive, got \(images)") }
            options.fei.iterations = iterations
            options.fei.fractions = fractions
            options.fei.gridSize = grid
            options.fei.learningRate = learningRate
            options.riseMasks = riseMasks
            options.responsibilityIterations = responsibilityIterations
            options.seed = seed
            let talk = !quiet && !json
            var rows: [FEIExperiment.Row] = []
            var accuracy: [String: Float] = [:]
            for dataset in datasets.split(separator: ",").map(String.init) {
                let (train, test, _) = try loadImageData(dataset: dataset, train: nil, labels: nil, testImages: nil,
                                                         testLabels: nil, seed: seed)
                let subset = test.subset(Array(0..<min(images, test.count)))
                for family in models.split(separator: ",").map(String.init) {
                    let (model, normalizer, acc) = try cachedImageModel(family: family, dataset: dataset, train: train, test: test)
                    accuracy["\(dataset)/\(family)"] = acc
                    if talk {
                        StandardStreams.writeError(String(format: "%@/%@: test accuracy %.2f %%\n", dataset, family,
                                                                   100 * acc))
                    }
                    let bar = ProgressBar(total: subset.count * options.methods.count, label: "\(dataset)/\(family)",
                                          unit: "maps", enabled: quiet || json ? false : nil)
                    let result = try FEIExperiment.run(dataset: dataset, modelName: family, model: model, normalizer: normalizer,
                                                       images: subset.images, options: options) { done, _ in bar.update(done) }
                    rows += result
                    if !json { for row in result { print(Self.format(row)) } }
                }
            }
            if json {
                try printJSON(Summary(rows: rows, test_accuracy: accuracy, fei: options.fei, images: images, seed: seed,
                                      seconds: Date().timeIntervalSince(start)))
            }
        }
    }

    /// The trained model of `family` on `dataset`: loaded from `--model-dir` when cached there,
    /// else trained as `experiment convad` trains it (and saved when `--model-dir` is given).
    private func cachedImageModel(family: String, dataset: String, train: ImageDataset,
                                  test: ImageDataset) throws -> (any Layer, ChannelNormalizer, Float) {
        let file = modelDir.map { URL(fileURLWithPath: $0).appendingPathComponent("\(dataset)-\(family)-e\(epochs)-s\(seed).safetensors") }
        if let file, FileManager.default.fileExists(atPath: file.path) {
            let (model, normalizer, _) = try ImageModelFile.load(from: file)
            let (_, acc) = try Trainer.evaluate(model: model, inputs: try normalizer.transform(test.images), labels: test.labels)
            return (model, normalizer, acc)
        }
        let trained = try trainImageModel(family: family, train: train, test: test, epochs: epochs, seed: seed,
                                          progress: !quiet && !json && ProgressBar.standardErrorIsTerminal)
        if let file {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try ImageModelFile.save(trained.model, normalizer: trained.normalizer, classNames: trained.classNames, to: file)
        }
        return (trained.model, trained.normalizer, trained.testAccuracy)
    }

    static func format(_ r: FEIExperiment.Row) -> String {
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
        return pad(r.dataset, 15) + pad(r.model, 7) + pad(r.method, 22) + String(
            format: "n=%d  ins %.3f ± %.3f  del %.3f ± %.3f  gap %.3f ± %.3f  dev %.3f ± %.3f  excess %.3f ± %.3f  (%.3f s/map)",
            r.images, r.insertion_mean, r.insertion_sd, r.deletion_mean, r.deletion_sd, r.gap_mean, r.gap_sd,
            r.deviation_mean, r.deviation_sd, r.excess_mean, r.excess_sd, r.seconds_per_image)
    }
}
