import ArgumentParser
import Foundation
import Glassbox

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a classifier on a CSV file and save it (optionally with a ScoresActivation feature ranking).",
        discussion: """
            Splits the rows (stratified: 70 % train, 15 % validation, 15 % test), standardises the \
            features with statistics of the training rows, trains with Adam and early stopping on the \
            validation loss, reports test accuracy and saves the model with its standardiser, feature \
            and class names. With --scores a ScoresActivation layer in front of the network learns one \
            global weight per feature; the ranking is printed and stored in the model (see glassbox rank).

            Example: glassbox train --data data.csv --target label --scores --out model.safetensors
            """
    )

    @Option(help: "CSV file with a header row; non-numeric columns are one-hot encoded.") var data: String
    @Option(help: "The column holding the classes.") var target: String
    @Option(help: "Network: mlp or transformer (FT-Transformer style).") var model: TabularModel.Family = .mlp
    @Flag(help: "Put a ScoresActivation layer in front of the network and print its feature ranking.") var scores = false
    @Option(help: "Softmax temperature of the ScoresActivation layer.") var temperature: Double = 1
    @Option(help: "With --scores: add λ·H(w), the entropy of the feature weights, to the loss (0: off, the paper's form).")
    var entropyPenalty: Float = 0
    @Option(help: "Maximum number of epochs.") var epochs: Int = 100
    @Option(help: "Seed for the split, the initial weights and the shuffling.") var seed: UInt64 = 42
    @Option(help: "MLP hidden widths, comma separated.") var hidden: String = "64,32"
    @Option(help: "Rows per mini-batch.") var batchSize: Int = 32
    @Option(help: "Adam learning rate.") var lr: Float = 1e-3
    @Option(help: "Stop after this many epochs without a better validation loss (0: never).") var patience: Int = 20
    @Option(help: "Fill missing cells: none (missing cells are an error), mean, median or most_frequent (fitted on the training rows).")
    var impute: String = "none"
    @Option(help: "Where to write the model (safetensors).") var out: String
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Flag(help: "No progress output (by default: a bar per epoch on a terminal, one line per epoch otherwise, on standard error).") var quiet = false

    struct Output: Codable {
        var data: String, target: String, out: String
        var rows: Int, features: Int, classes: [String]
        var model: String, scores: Bool, temperature: Double?, entropy_penalty: Float?, hidden: [Int]?
        var seed: UInt64, epochs: Int, batch_size: Int, learning_rate: Float, patience: Int?
        var train_rows: Int, validation_rows: Int, test_rows: Int
        var epochs_run: Int, best_epoch: Int?, final_epoch: Int
        var test_accuracy: Float?, test_loss: Float?
        var seconds: Double
        var ranking: [RankEntry]?
        var groups: [GroupEntry]?
        var ranking_stable_epoch: Int?, effective_ranking_stable_epoch: Int?
        var top_k: Int?, top_k_stable_epoch: Int?
    }

    func validate() throws {
        _ = try hiddenWidths()
        guard epochs >= 1 else { throw ValidationError("--epochs must be ≥ 1, got \(epochs)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be ≥ 1, got \(batchSize)") }
        guard lr.isFinite, lr > 0 else { throw ValidationError("--lr must be a positive number, got \(lr)") }
        guard patience >= 0 else { throw ValidationError("--patience must be ≥ 0, got \(patience)") }
        guard temperature.isFinite, temperature > 0 else { throw ValidationError("--temperature must be > 0, got \(temperature)") }
        guard entropyPenalty.isFinite, entropyPenalty >= 0, entropyPenalty == 0 || scores else {
            throw ValidationError("--entropy-penalty must be ≥ 0 and needs --scores, got \(entropyPenalty)")
        }
        guard ImputationStrategy(rawValue: impute) != nil else {
            throw ValidationError("--impute must be none, mean, median or most_frequent, got '\(impute)'")
        }
    }

    func hiddenWidths() throws -> [Int] {
        let parts = hidden.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let widths = parts.compactMap { Int($0) }
        guard widths.count == parts.count, widths.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--hidden must be positive integers separated by commas, like 64,32; got '\(hidden)'")
        }
        return widths
    }

    func run() throws {
        try reportingErrors {
            try OutputGuard.check(output: out, inputs: [("--data", data)])
            let widths = try hiddenWidths()
            for width in widths { try Limits.checkCount(width, option: "--hidden width", maximum: Limits.maximumWidth) }
            for (a, b) in zip(widths, widths.dropFirst()) { try Limits.checkValues([a, b], "--hidden: the weights between widths \(a) and \(b)") }
            try Limits.checkCount(batchSize, option: "--batch-size", maximum: Limits.maximumRepetitions)
            var csvOptions = CSVDatasetOptions()
            csvOptions.imputation = ImputationStrategy(rawValue: impute) ?? .none
            let dataset = try Dataset.loadCSV(URL(fileURLWithPath: data), target: target, options: csvOptions)
            var options = TabularModel.Options()
            options.family = model
            options.scores = scores
            options.temperature = temperature
            options.entropyPenalty = entropyPenalty
            options.hidden = try hiddenWidths()
            options.training = TrainingConfig(epochs: epochs, batchSize: batchSize, seed: seed,
                                              optimizer: .adam(learningRate: lr),
                                              earlyStoppingPatience: patience == 0 ? nil : patience)
            do { try TabularModel.checkSplit(of: dataset, options: options) } catch {
                throw GlassboxError.badFile(path: data, location: "data rows", problem: ErrorText.problem(error))
            }
            let observer = ProgressStyle.choose(quiet: quiet, json: json).trainingObserver
            let (trained, report) = try TabularModel.train(on: dataset, targetName: target, options: options, observer: observer)
            try trained.save(to: URL(fileURLWithPath: out))

            // The top-k set of all features never changes: watch at most d − 1.
            let topK = max(1, min(5, dataset.featureCount - 1))
            let output = Output(
                data: data, target: target, out: out, rows: dataset.count, features: dataset.featureCount,
                classes: dataset.classNames, model: model.rawValue, scores: scores, temperature: scores ? temperature : nil,
                entropy_penalty: scores ? entropyPenalty : nil,
                hidden: model == .mlp ? options.hidden : nil, seed: seed, epochs: epochs, batch_size: batchSize,
                learning_rate: lr, patience: patience == 0 ? nil : patience, train_rows: report.trainRows,
                validation_rows: report.validationRows, test_rows: report.testRows, epochs_run: report.history.epochs.count,
                best_epoch: report.history.bestEpoch, final_epoch: report.finalEpoch,
                test_accuracy: report.testAccuracy.isFinite ? report.testAccuracy : nil,
                test_loss: report.testLoss.isFinite ? report.testLoss : nil, seconds: report.seconds,
                ranking: report.scores.map(rankEntries), groups: try report.scores.flatMap { try groupEntries($0, trained) },
                ranking_stable_epoch: report.stableEpoch(.weights),
                effective_ranking_stable_epoch: report.stableEpoch(.effective),
                top_k: scores ? topK : nil, top_k_stable_epoch: report.stableEpoch(.weights, topK: topK))
            if json {
                try printJSON(output)
                return
            }
            let shape = model == .mlp
                ? "MLP \(([dataset.featureCount] + options.hidden + [dataset.numClasses]).map(String.init).joined(separator: "→"))"
                : "Transformer (\(options.blocks) blocks, \(options.heads) heads, tokens of \(options.embed))"
            print("\(data): \(dataset.count) rows, \(dataset.featureCount) features, target '\(target)' (classes \(dataset.classNames.joined(separator: "/")))")
            print("\(shape)\(scores ? " behind a ScoresActivation layer" : ""), Adam lr \(lr), batch \(batchSize)"
                  + (patience == 0 ? "" : ", early stopping after \(patience) epochs without improvement"))
            print("split: \(report.trainRows) train / \(report.validationRows) validation / \(report.testRows) test (stratified, seed \(seed))")
            print("trained \(output.epochs_run) epochs (kept epoch \(output.final_epoch)) in \(String(format: "%.1f", report.seconds)) s")
            if let accuracy = output.test_accuracy, let loss = output.test_loss {
                print(String(format: "test accuracy: %.2f %%   test loss: %.4f", 100 * accuracy, loss))
            }
            print("saved \(out)")
            if let ranking = output.ranking {
                print("global feature ranking (ScoresActivation weight w; effective importance w_i·‖W_i‖):")
                printRanking(ranking)
                if let all = output.ranking_stable_epoch, let top = output.top_k_stable_epoch {
                    print("ranking by w unchanged since epoch \(all) (its top \(topK) set since epoch \(top)) of \(output.final_epoch)")
                }
                if let groups = output.groups { printGroups(groups) }
            }
        }
    }
}

extension TabularModel.Family: ExpressibleByArgument {}
