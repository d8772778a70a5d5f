import ArgumentParser
import Foundation
import Glassbox

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train on the bundled breast-cancer data and report test accuracy.",
        discussion: "Example: glassbox demo --seed 7"
    )

    @Option(help: "Seed for the split, the initial weights and the shuffling.") var seed: UInt64 = 42
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Flag(help: "No progress output.") var quiet = false

    struct Summary: Codable {
        var dataset: String
        var rows: Int, features: Int, classes: [String]
        var train_rows: Int, validation_rows: Int, test_rows: Int
        var epochs_run: Int, best_epoch: Int?
        var test_accuracy: Float, test_loss: Float
        var seconds: Double
    }

    func run() throws {
        try reportingErrors {
            let start = Date()
            let data = try BundledData.breastCancer()
            var options = TabularClassifier.Options()
            options.training.seed = seed
            let observer: (any TrainingObserver)? = quiet || json ? nil : TerminalProgress()
            let result = try TabularClassifier.train(on: data, options: options, observer: observer)
            let summary = Summary(
                dataset: "breast cancer Wisconsin (diagnostic)", rows: data.count, features: data.featureCount,
                classes: data.classNames, train_rows: result.trainRows, validation_rows: result.validationRows,
                test_rows: result.testRows, epochs_run: result.history.epochs.count, best_epoch: result.history.bestEpoch,
                test_accuracy: result.testAccuracy, test_loss: result.testLoss, seconds: Date().timeIntervalSince(start))
            if json {
                try printJSON(summary)
            } else {
                print("Glassbox demo — \(summary.dataset): \(data.count) rows, \(data.featureCount) features, classes \(data.classNames.joined(separator: "/"))")
                print("MLP \(data.featureCount)→\(options.hidden.map(String.init).joined(separator: "→"))→\(data.numClasses), Adam, early stopping on validation loss")
                print("split: \(result.trainRows) train / \(result.validationRows) validation / \(result.testRows) test (stratified, seed \(seed))")
                print("trained \(summary.epochs_run) epochs (best \(summary.best_epoch.map(String.init) ?? "-")) in \(String(format: "%.2f", summary.seconds)) s")
                print(String(format: "test accuracy: %.2f %%   test loss: %.4f", 100 * summary.test_accuracy, summary.test_loss))
            }
        }
    }
}
