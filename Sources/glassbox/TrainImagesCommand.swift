import ArgumentParser
import Foundation
import Glassbox

struct TrainImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-images",
        abstract: "Train a CNN (plain or residual) on images and save it with its normaliser.",
        discussion: """
            Images: IDX (.idx3/.gz) or NPY [n, H, W] / [n, C, H, W] in 0…1; labels IDX or NPY.
            Or --dataset digits | fashion-sample | fashion (bundled / installed data).
            Progress: a bar per epoch on a terminal, one line per epoch otherwise (standard error); --quiet for none.
            Example: glassbox train-images --dataset fashion-sample --model cnn --epochs 5 --out cnn.safetensors
            Example: glassbox train-images --train imgs.npy --labels labels.npy --model resnet --out resnet.safetensors --json
            """
    )

    @Option(help: "Training images (IDX or NPY).") var train: String?
    @Option(help: "Training labels (IDX or NPY).") var labels: String?
    @Option(name: .customLong("test-images"), help: "Test images.") var testImages: String?
    @Option(name: .customLong("test-labels"), help: "Test labels.") var testLabels: String?
    @Option(help: "Bundled data instead of files: digits, fashion-sample or fashion.") var dataset: String?
    @Option(help: "cnn or resnet.") var model: String = "cnn"
    @Option(help: "Training epochs (early stopping on a validation split).") var epochs: Int = 10
    @Option(help: "Seed for split, initial weights and shuffling.") var seed: UInt64 = 1
    @Option(help: "Where to save the model (.safetensors).") var out: String
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Flag(help: "No progress output (by default: a bar per epoch on a terminal, one line per epoch otherwise, on standard error).")
    var quiet = false

    struct Summary: Codable {
        var model: String, dataset: String
        var train_images: Int, test_images: Int, shape: [Int], classes: [String]
        var epochs_run: Int, test_accuracy: Float, test_loss: Float, seconds: Double, out: String
    }

    func run() throws {
        try reportingErrors {
            try OutputGuard.check(output: out, inputs: [("--train", train), ("--labels", labels), ("--test-images", testImages),
                                                        ("--test-labels", testLabels)])
            let start = Date()
            let (trainSet, testSet, name) = try loadImageData(dataset: dataset, train: train, labels: labels,
                                                              testImages: testImages, testLabels: testLabels, seed: seed)
            if model == "cnn", trainSet.height < 4 || trainSet.width < 4 {
                throw GlassboxError.badFile(path: name, location: "images [\(trainSet.channels), \(trainSet.height), \(trainSet.width)]",
                                            problem: "too small for the cnn model: its two 2×2 poolings need at least 4×4 pixels (or use --model resnet)")
            }
            let result = try trainImageModel(family: model, train: trainSet, test: testSet, epochs: epochs, seed: seed,
                                             progress: ProgressStyle.choose(quiet: quiet, json: json) != .none)
            try ImageModelFile.save(result.model, normalizer: result.normalizer, classNames: result.classNames,
                                    to: URL(fileURLWithPath: out))
            let summary = Summary(model: model, dataset: name, train_images: trainSet.count, test_images: testSet.count,
                                  shape: Array(trainSet.images.shape.dropFirst()), classes: trainSet.classNames,
                                  epochs_run: result.history.epochs.count, test_accuracy: result.testAccuracy,
                                  test_loss: result.testLoss, seconds: Date().timeIntervalSince(start), out: out)
            if json { try printJSON(summary); return }
            print("\(model) on \(name): \(trainSet.count) train / \(testSet.count) test images \(summary.shape)")
            print(String(format: "trained %d epochs; test accuracy %.2f %%, test loss %.4f (%.1f s); saved %@",
                         summary.epochs_run, 100 * summary.test_accuracy, summary.test_loss, summary.seconds, out))
        }
    }
}

/// Train/test image sets from files or a named dataset; without test files, a stratified 85/15
/// split of the training set.
func loadImageData(dataset: String?, train: String?, labels: String?, testImages: String?, testLabels: String?,
                   seed: UInt64) throws -> (ImageDataset, ImageDataset, String) {
    switch dataset {
    case "digits"?:
        let split = try BundledData.digits().stratifiedSplit(train: 0.85, validation: 0, test: 0.15, seed: seed)
        return (split.train, split.test, "digits")
    case "fashion-sample"?:
        let (a, b) = try BundledData.fashionMNISTSample()
        return (a, b, "fashion-sample")
    case "fashion"?:
        let (a, b) = try BundledData.fashionMNIST()
        return (a, b, "fashion")
    case let other?:
        throw GlassboxError.invalidArgument("unknown dataset '\(other)'; use digits, fashion-sample or fashion")
    case nil:
        guard let train, let labels else {
            throw GlassboxError.invalidArgument("give --train and --labels, or --dataset")
        }
        let full = try readImageSet(train, labels, classNames: nil)
        if let testImages, let testLabels {
            return (full, try readImageSet(testImages, testLabels, classNames: full.classNames), train)
        }
        let split = try full.stratifiedSplit(train: 0.85, validation: 0, test: 0.15, seed: seed)
        return (split.train, split.test, train)
    }
}

private func readImageSet(_ imagesPath: String, _ labelsPath: String, classNames: [String]?) throws -> ImageDataset {
    let imagesURL = URL(fileURLWithPath: imagesPath), labelsURL = URL(fileURLWithPath: labelsPath)
    var images = imagesPath.hasSuffix(".npy") ? try NPY.readImages(from: imagesURL) : try IDX.readImages(from: imagesURL)
    if images.rank == 3 { images = try images.reshaped([images.shape[0], 1, images.shape[1], images.shape[2]]) }
    guard images.rank == 4 else {
        throw GlassboxError.badFile(path: imagesPath, location: "", problem: "expected images [n, H, W] or [n, C, H, W], found \(images.shape)")
    }
    let labels = labelsPath.hasSuffix(".npy") ? try NPY.readLabels(from: labelsURL) : try IDX.readLabels(from: labelsURL)
    let classes = classNames ?? (0...(labels.max() ?? 0)).map(String.init)
    return try ImageDataset(images: images, labels: labels, classNames: classes)
}

/// Trains the plain (`cnn`) or residual (`resnet`) net with Adam and early stopping on a 10 %
/// stratified validation split of `train`.
func trainImageModel(family: String, train: ImageDataset, test: ImageDataset, epochs: Int, seed: UInt64,
                     progress: Bool) throws -> ImageClassifier {
    let spec: LayerSpec
    switch family {
    case "cnn":
        let small = train.height < 16
        spec = Architectures.convNet(inputChannels: train.channels, height: train.height, width: train.width,
                                     channels: small ? [16, 32] : [32, 64], hidden: small ? 64 : 128, classes: train.numClasses)
    case "resnet":
        spec = Architectures.residualNet(inputChannels: train.channels, channels: [16, 32], classes: train.numClasses)
    default:
        throw GlassboxError.invalidArgument("unknown model '\(family)'; use cnn or resnet")
    }
    let split = try train.stratifiedSplit(train: 0.9, validation: 0.1, test: 0, seed: seed)
    let config = TrainingConfig(epochs: epochs, batchSize: 32, seed: seed, optimizer: .adam(learningRate: 2e-3),
                                earlyStoppingPatience: 5)
    return try ImageClassifier.train(spec: spec, train: split.train, validation: split.validation, test: test,
                                     config: config,
                                     observer: progress ? ProgressStyle.choose(quiet: false, json: false).trainingObserver : nil)
}
