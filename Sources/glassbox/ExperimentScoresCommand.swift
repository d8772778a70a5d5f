import ArgumentParser
import Foundation
import Glassbox

/// `glassbox experiment scores`: add `ScoresExperimentCommand.self` to the `experiment` group's subcommands.
struct ScoresExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scores",
        abstract: "ScoresActivation: ranking quality, accuracy and cost on synthetic data with known informative features.",
        discussion: """
            Settings (make_classification-style, 1000 rows, 2 classes): (a) 10 features = 5 informative + 5 noise, \
            (b) 16 features = 5 informative + 11 noise; --with-redundant adds 5 informative + 2 redundant + 3 noise. \
            For every seed s (data and training both drawn from s): an MLP and a tabular Transformer, each with and \
            without a ScoresActivation layer. Reports test accuracy (mean ± sd over seeds), recall of the informative \
            features in the top 5 and Spearman correlation with the ground truth (1 informative, 0 other) for the \
            weights w and for the effective importance w_i·‖W_i‖, training time (= time to the ranking), rank \
            stability over seeds on one dataset, test accuracy of a plain MLP retrained on the top-k features, and \
            the training-time overhead of the layer (same epochs, same data). Every trained model is also explained by \
            Kernel SHAP (--shap-rows test rows, a --shap-background-row sample of its training rows, class \
            probabilities, default budget): the time from the trained model to its global ranking (mean |φ|), that \
            ranking's recall and Spearman ρ against the truth, and its Spearman ρ with the layer's w.

            Progress goes to standard error. Example: glassbox experiment scores --seeds 5 --json
            """
    )

    @Option(help: "Number of seeds (1…N).") var seeds: Int = 5
    @Option(help: "Maximum epochs per training (early stopping on validation loss).") var epochs: Int = 100
    @Option(help: "Rows per mini-batch.") var batchSize: Int = 32
    @Option(help: "Adam learning rate.") var lr: Float = 1e-3
    @Option(help: "Early-stopping patience in epochs.") var patience: Int = 20
    @Option(help: "Softmax temperature of the ScoresActivation layer.") var temperature: Double = 1
    @Option(help: "Only these model families (mlp, transformer), comma separated.") var models: String = "mlp,transformer"
    @Flag(help: "Add the setting with redundant features (5 informative + 2 redundant + 3 noise).") var withRedundant = false
    @Option(help: "Interleaved repeats of the overhead measurement (0: skip it).") var overheadRepeats: Int = 5
    @Option(help: "Test rows Kernel SHAP explains per trained model (0: skip Kernel SHAP).") var shapRows: Int = 100
    @Option(help: "Training rows sampled as Kernel SHAP's background.") var shapBackground: Int = 100
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Flag(help: "No progress lines on standard error.") var quiet = false

    func validate() throws {
        guard seeds >= 1 else { throw ValidationError("--seeds must be ≥ 1, got \(seeds)") }
        guard shapRows >= 0, shapBackground >= 1 else {
            throw ValidationError("--shap-rows must be ≥ 0 and --shap-background ≥ 1")
        }
        guard epochs >= 1, batchSize >= 1, patience >= 0, overheadRepeats >= 0 else {
            throw ValidationError("--epochs and --batch-size must be ≥ 1, --patience and --overhead-repeats ≥ 0")
        }
        guard lr.isFinite, lr > 0, temperature.isFinite, temperature > 0 else {
            throw ValidationError("--lr and --temperature must be positive numbers")
        }
        _ = try families()
    }

    func families() throws -> [TabularModel.Family] {
        try models.split(separator: ",").map {
            guard let family = TabularModel.Family(rawValue: $0.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--models lists mlp and/or transformer, got '\(models)'")
            }
            return family
        }
    }

    func run() throws {
        try reportingErrors {
            var config = ScoresExperiment.Configuration()
            config.seeds = Array(1...UInt64(seeds))
            config.families = try families()
            if withRedundant { config.settings.append(ScoresExperiment.redundantSetting) }
            config.options.training = TrainingConfig(epochs: epochs, batchSize: batchSize, seed: 1,
                                                     optimizer: .adam(learningRate: lr),
                                                     earlyStoppingPatience: patience == 0 ? nil : patience)
            config.options.temperature = temperature
            config.overheadRepeats = overheadRepeats
            config.kernelShap = shapRows == 0 ? nil : ScoresExperiment.KernelShapSettings(rows: shapRows, background: shapBackground)
            let log: ((String) -> Void)? = quiet ? nil : { StandardStreams.writeError($0 + "\n") }
            let result = try ScoresExperiment.run(config, data: ScoresExperiment.syntheticData, log: log)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                encoder.keyEncodingStrategy = .convertToSnakeCase
                encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                printReport(result)
            }
        }
    }

    private func printReport(_ r: ScoresExperiment.Result) {
        print("ScoresActivation reproduction — seeds \(r.seeds.map(String.init).joined(separator: ", ")); up to \(r.epochs) epochs, "
              + "batch \(r.batchSize), Adam lr \(r.learningRate), patience \(r.patience.map(String.init) ?? "none"), temperature \(r.temperature)")
        for s in r.settings { print("  setting \(s.name): \(s.summary), \(s.samples) rows") }
        print("")
        print("| setting | model | layer | test accuracy | top-\(r.topK) recall w | top-\(r.topK) recall w·‖W‖ | Spearman w | Spearman w·‖W‖ | time to ranking (s) "
              + "| Kernel SHAP time (s) | Kernel SHAP top-\(r.topK) recall | Kernel SHAP Spearman | ρ(SHAP, w) |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for row in r.rows {
            let effective = row.effective ?? row.weightNorm
            let mark = row.scores ? "" : " ¹"
            let recallW: String = row.weights.map { pm($0.recall, 2) } ?? "—"
            let recallE: String = effective.map { pm($0.recall, 2) + mark } ?? "—"
            let rhoW: String = row.weights.map { pm($0.spearman, 2) } ?? "—"
            let rhoE: String = effective.map { pm($0.spearman, 2) + mark } ?? "—"
            let time: String = row.scores ? pm(row.seconds, 2) : "— (trains in " + pm(row.seconds, 2) + ")"
            let cells: [String] = [row.setting, row.family.rawValue, row.scores ? "yes" : "no", pm(row.testAccuracy, 3),
                                   recallW, recallE, rhoW, rhoE, time,
                                   row.kernelShap.map { pm($0.seconds, 2) } ?? "—",
                                   row.kernelShap.map { pm($0.quality.recall, 2) } ?? "—",
                                   row.kernelShap.map { pm($0.quality.spearman, 2) } ?? "—",
                                   row.kernelShap?.spearmanWithWeights.map { pm($0, 2) } ?? "—"]
            print("| " + cells.joined(separator: " | ") + " |")
        }
        if let shap = r.rows.compactMap(\.kernelShap).first {
            print("Kernel SHAP: \(shap.rows) test rows per model, background \(shap.settings.background) training rows, "
                  + "budget \(shap.settings.budget.map(String.init) ?? "default"), class probabilities; ranking by mean |φ|.")
        }
        print("¹ without the layer: ‖W[:, i]‖ of the MLP's first linear layer (the effective importance with uniform w).")
        for setting in r.settings {
            if let row = r.rows.first(where: { $0.setting == setting.name }) {
                print("Spearman against the 0/1 truth of setting \(setting.name) is at most " + String(format: "%.3f", row.spearmanCeiling)
                      + " (every informative feature ranked above every other).")
            }
        }
        print("")
        for setting in r.settings {
            for family in Set(r.rows.map(\.family)).sorted(by: { $0.rawValue < $1.rawValue }) {
                guard let plain = r.rows.first(where: { $0.setting == setting.name && $0.family == family && !$0.scores }),
                      let scored = r.rows.first(where: { $0.setting == setting.name && $0.family == family && $0.scores }) else { continue }
                let gain = scored.testAccuracy.mean - plain.testAccuracy.mean
                print("setting \(setting.name), \(family.rawValue): accuracy with the layer "
                      + String(format: "%+.2f points (%+.2f %% relative)", 100 * gain, 100 * gain / plain.testAccuracy.mean))
            }
        }
        print("paper: +11.24 % (10 features, 5 relevant), +29.33 % (16 features, 5 relevant)")
        print("")
        for s in r.stability {
            let informative = s.roles.indices.filter { s.roles[$0] == .informative }
            let meanRank = informative.map { s.weights.meanRank[$0] }.reduce(0, +) / Double(max(informative.count, 1))
            print("stability, setting \(s.setting) \(s.family.rawValue) over \(s.weights.runs) seeds on one dataset: mean pairwise Spearman "
                  + "w \(opt(s.weights.meanPairwiseSpearman)), w·‖W‖ \(opt(s.effective?.meanPairwiseSpearman)); "
                  + String(format: "informative features' mean rank %.2f (ideal %.1f), largest rank sd %.2f", meanRank,
                           Double(informative.count + 1) / 2, s.weights.rankSD.max() ?? 0))
            if let selection = s.selection {
                print("  plain MLP on the top k by mean w: " + selection.map { "k=\($0.k) " + String(format: "%.3f", $0.testAccuracy) }
                    .joined(separator: ", "))
            }
        }
        print("")
        for o in r.overhead {
            print("overhead, \(o.family.rawValue) on setting \(o.setting): \(o.epochs) epochs, batch \(o.batchSize), median of \(o.repeats): "
                  + String(format: "%.3f s without, %.3f s with the layer: %+.1f %% wall time, %+.1f %% CPU time",
                           o.plainSeconds, o.scoredSeconds, o.percent, o.cpuPercent))
        }
        print(String(format: "total %.0f s", r.seconds))
    }

    private func pm(_ s: ScoresExperiment.Statistic, _ digits: Int) -> String {
        String(format: "%.\(digits)f ± %.\(digits)f", s.mean, s.sd)
    }

    private func opt(_ x: Double?) -> String { x.map { String(format: "%.3f", $0) } ?? "—" }
}
