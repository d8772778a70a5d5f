import Foundation

/// The reproduction protocol for ScoresActivation (spec: `docs/methods/scores-activation.md`).
///
/// Per setting (synthetic `make_classification`-style data with known informative features) and
/// per seed: train an MLP and a tabular Transformer, each with and without a ScoresActivation
/// layer in front, on the same split; record test accuracy, the training wall time (which is the
/// time to the ranking for the scored models), and for every ranking the recall of the
/// informative features in the top `k` and the Spearman correlation with the ground truth
/// (importance 1 for informative features, 0 for all others; ties averaged). Separately it
/// measures the ranking overhead: training time with versus without the layer for the same
/// epochs on the same data (early stopping off), as the median of interleaved repeats, on the
/// setting with the most features.
///
/// Cost: `settings × seeds × families × 2` trainings plus `2 × overheadRepeats` fixed-length
/// trainings per family.
public enum ScoresExperiment {
    /// One synthetic task.
    public struct Setting: Codable, Sendable, Equatable {
        /// Short identifier of the setting ("a", "b", "a-redundant").
        public var name: String
        /// Column counts by role: informative, redundant (linear combinations of informative ones),
        /// repeated (copies of informative or redundant ones) and pure noise.
        public var informative: Int, redundant: Int, repeated: Int, noise: Int
        /// Rows generated.
        public var samples: Int
        /// Half the distance between cluster centres per informative axis, and the fraction of
        /// labels replaced at random (`class_sep`, `flip_y`).
        public var classSep: Double, flipY: Double

        /// A setting with the given column counts; the other defaults are scikit-learn's apart from
        /// the row count.
        public init(name: String, informative: Int, redundant: Int = 0, repeated: Int = 0, noise: Int,
                    samples: Int = 1000, classSep: Double = 1, flipY: Double = 0.01) {
            (self.name, self.informative, self.redundant, self.repeated, self.noise) = (name, informative, redundant, repeated, noise)
            (self.samples, self.classSep, self.flipY) = (samples, classSep, flipY)
        }

        /// Total number of feature columns.
        public var features: Int { informative + redundant + repeated + noise }

        /// `10 features: 5 informative + 5 noise`.
        public var summary: String {
            let parts = [(informative, "informative"), (redundant, "redundant"), (repeated, "repeated"), (noise, "noise")]
                .filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }
            return "\(features) features: " + parts.joined(separator: " + ")
        }
    }

    /// The paper's two settings: (a) "10 features (5 relevant)" read as 5 informative + 5 pure
    /// noise — redundant or repeated columns would be relevant too; (b) 5 informative + 11 noise.
    /// Two classes, two clusters per class, 1000 rows, `class_sep` 1, `flip_y` 0.01 (the
    /// scikit-learn defaults apart from the row count).
    public static let paperSettings = [
        Setting(name: "a", informative: 5, noise: 5),
        Setting(name: "b", informative: 5, noise: 11),
    ]

    /// scikit-learn's default mix for 10 features with 5 informative (2 redundant, 3 noise): a
    /// supplementary setting where the ground truth is ambiguous (a redundant column carries
    /// the same signal as the informative ones it combines).
    public static let redundantSetting = Setting(name: "a-redundant", informative: 5, redundant: 2, noise: 3)

    /// What to run.
    public struct Configuration: Sendable {
        /// Synthetic tasks to run (default: ``paperSettings``).
        public var settings = ScoresExperiment.paperSettings
        /// Seeds; each one draws its own dataset, split, initial weights and shuffling.
        public var seeds: [UInt64] = Array(1...5)
        /// Model families trained, each with and without the layer.
        public var families: [TabularModel.Family] = [.mlp, .transformer]
        /// Training options shared by all runs (family, scores and seed are set per run).
        public var options = TabularModel.Options()
        /// `k` of the top-`k` recall (the number of informative features in the paper's settings).
        public var topK = 5
        /// Fixed epoch counts of the overhead measurement, and how many interleaved repeats.
        public var overheadEpochs: [TabularModel.Family: Int] = [.mlp: 300, .transformer: 10]
        /// Interleaved repeats of the overhead measurement (the median is reported).
        public var overheadRepeats = 5
        /// Kernel SHAP on every trained model (nil: skip): the post-hoc ranking the layer's is
        /// compared with, and its cost.
        public var kernelShap: KernelShapSettings? = KernelShapSettings()
        /// The paper's protocol with the defaults above.
        public init() {}
    }

    /// How Kernel SHAP explains each trained model: `rows` test rows (all if fewer), a
    /// background of `background` training rows sampled with the run's seed, the default
    /// budget (`2·features + 2048` coalitions) unless `budget` is set, class probabilities.
    /// Its global ranking is mean |φ| over rows and classes. Cost per model:
    /// `rows × budget × background` model rows.
    public struct KernelShapSettings: Codable, Sendable, Equatable {
        /// Test rows explained per model (all when the test split is smaller).
        public var rows = 100
        /// Training rows in the background sample.
        public var background = 100
        /// Coalitions per explained row; nil = Kernel SHAP's default `2·features + 2048`.
        public var budget: Int?
        /// Settings with the given sizes; the defaults explain 100 rows against 100 background rows.
        public init(rows: Int = 100, background: Int = 100, budget: Int? = nil) {
            (self.rows, self.background, self.budget) = (rows, background, budget)
        }
    }

    /// Kernel SHAP's global ranking of the trained models of one cell, over seeds.
    public struct KernelShapColumn: Codable, Sendable, Equatable {
        /// The Kernel SHAP settings the column was computed with.
        public var settings: KernelShapSettings
        /// Rows explained per model (fewer than asked when the test split is smaller).
        public var rows: Int
        /// Wall time from the trained model to the global ranking (background, explanation,
        /// aggregation), per seed. Compare with the cell's `seconds`, the scored model's time to
        /// its ranking (training included).
        public var seconds: Statistic
        /// Model rows evaluated per explanation.
        public var modelEvaluations: Statistic
        /// Recall in the top `k` and Spearman ρ of mean |φ| against the ground truth.
        public var quality: RankingQuality
        /// With the layer: Spearman ρ between mean |φ| and the layer's weights `w`, and between
        /// mean |φ| and the effective importance `w_i·‖W_i‖` (where the model has one).
        public var spearmanWithWeights: Statistic?, spearmanWithEffective: Statistic?
    }

    /// Mean and sample standard deviation (n − 1; 0 for one value) over seeds.
    public struct Statistic: Codable, Sendable, Equatable {
        /// Mean and sample standard deviation of `values`.
        public var mean: Double, sd: Double
        /// The per-seed values, in seed order.
        public var values: [Double]

        /// The statistic of `values` (mean 0, sd 0 for an empty list).
        public init(_ values: [Double]) {
            let n = Double(values.count)
            let mean = values.reduce(0, +) / max(n, 1)
            let ss = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            (self.mean, self.sd, self.values) = (mean, values.count > 1 ? (ss / (n - 1)).squareRoot() : 0, values)
        }
    }

    /// How well one readout recovers the informative features.
    public struct RankingQuality: Codable, Sendable, Equatable {
        /// Fraction of the informative features among the top `k`, per seed.
        public var recall: Statistic
        /// Spearman ρ with the ground truth, per seed.
        public var spearman: Statistic
    }

    /// One (setting, model, with/without layer) cell, aggregated over seeds.
    public struct Row: Codable, Sendable {
        /// Name of the ``Setting``.
        public var setting: String
        /// Model family trained.
        public var family: TabularModel.Family
        /// Whether the model has a ScoresActivation layer in front.
        public var scores: Bool
        /// Test accuracy (fraction in [0, 1]) per seed.
        public var testAccuracy: Statistic
        /// Training wall time (split, scaling, training, evaluation): for a scored model, the
        /// time to its ranking.
        public var seconds: Statistic
        /// Epochs trained per seed (fewer than configured when early stopping ends training).
        public var epochs: Statistic
        /// With the layer: the `w` and `w_i·‖W_i‖` readouts.
        public var weights: RankingQuality?, effective: RankingQuality?
        /// Without the layer, for the MLP: the norm of each input's column of the first linear
        /// layer, a gradient-free baseline (nil where it is not meaningful: a Transformer's
        /// tokenizer norms do not say whether attention uses a token).
        public var weightNorm: RankingQuality?
        /// The largest Spearman ρ any ranking can reach against the tied 0/1 ground truth (every
        /// informative feature above every other): 0.870 for 5 of 10, 0.804 for 5 of 16.
        public var spearmanCeiling: Double
        /// With the layer: the epoch after which the top-`k` set of `w` no longer changed.
        public var stableTopKEpoch: Statistic?
        /// Kernel SHAP's ranking of the same trained models, its time and its agreement with
        /// the layer's readouts (nil when the configuration skips it).
        public var kernelShap: KernelShapColumn?
    }

    /// The scored model trained with every seed on one dataset (the first seed's): how stable its
    /// ranking is, and — for the MLP — test accuracy when a plain MLP is retrained on the top-`k`
    /// features of the mean weights.
    public struct Stability: Codable, Sendable {
        /// Name of the ``Setting``.
        public var setting: String
        /// Model family trained.
        public var family: TabularModel.Family
        /// Column names of the dataset, in column order.
        public var featureNames: [String]
        /// Ground-truth role of each column (informative, redundant, repeated, noise).
        public var roles: [FeatureRole]
        /// Rank spread of the weights readout `w` over the seeds.
        public var weights: RankStability
        /// Rank spread of the effective importance `w_i·‖W_i‖` (nil when the model has none).
        public var effective: RankStability?
        /// Feature indices by decreasing mean weight over the seeds.
        public var meanRanking: [Int]
        /// MLP only: test accuracy of a plain MLP retrained on the top-`k` features of ``meanRanking``
        /// for several `k` (nil for other families).
        public var selection: [FeatureSelection.Point]?
    }

    /// Training time with and without the layer, same epochs and data.
    public struct Overhead: Codable, Sendable {
        /// Model family measured.
        public var family: TabularModel.Family
        /// Name of the ``Setting`` measured (the one with the most features).
        public var setting: String
        /// Fixed epochs per training (early stopping off), interleaved repeats, and batch size.
        public var epochs: Int, repeats: Int, batchSize: Int
        /// Medians of the repeats: wall time, and CPU time of the process (user + system, all
        /// threads), which other processes on a shared machine disturb less.
        public var plainSeconds: Double, scoredSeconds: Double
        /// Medians of the per-training CPU seconds without and with the layer.
        public var plainCPUSeconds: Double, scoredCPUSeconds: Double
        /// `100 · (scored / plain − 1)` of the wall times and of the CPU times.
        public var percent: Double, cpuPercent: Double
    }

    /// Everything one run of ``run(_:data:log:)`` measured, with the configuration it used.
    public struct Result: Codable, Sendable {
        /// The settings run.
        public var settings: [Setting]
        /// The seeds run.
        public var seeds: [UInt64]
        /// `k` of the top-`k` recall.
        public var topK: Int
        /// Training options shared by all runs: maximum epochs, batch size, learning rate,
        /// early-stopping patience (nil: off) and the ScoresActivation softmax temperature `τ`.
        public var epochs: Int, batchSize: Int, learningRate: Float, patience: Int?, temperature: Double
        /// One row per (setting, family, with/without layer) cell.
        public var rows: [Row]
        /// Seed stability of each scored model, per setting and family.
        public var stability: [Stability]
        /// Ranking overhead per family.
        public var overhead: [Overhead]
        /// Total wall time of the run, in seconds.
        public var seconds: Double
    }

    /// Runs the protocol. `data(setting, seed)` makes the dataset and each column's role; `log`
    /// receives one line per training.
    public static func run(_ config: Configuration,
                           data: (Setting, UInt64) throws -> (dataset: Dataset, roles: [FeatureRole]),
                           log: ((String) -> Void)? = nil) throws -> Result {
        let started = DispatchTime.now().uptimeNanoseconds
        guard !config.seeds.isEmpty, !config.settings.isEmpty, !config.families.isEmpty else {
            throw GlassboxError.invalidArgument("the experiment needs at least one setting, seed and model family")
        }
        var rows: [Row] = [], stability: [Stability] = []
        for setting in config.settings {
            let tasks = try config.seeds.map { seed in
                let task = try data(setting, seed)
                guard task.roles.count == task.dataset.featureCount else {
                    throw GlassboxError.shapeMismatch("\(task.roles.count) feature roles for \(task.dataset.featureCount) features")
                }
                return task
            }
            guard tasks.allSatisfy({ $0.dataset.featureCount >= config.topK }) else {
                throw GlassboxError.invalidArgument("top-\(config.topK) recall needs at least \(config.topK) features")
            }
            for family in config.families {
                for scores in [false, true] {
                    rows.append(try cell(setting, family, scores, tasks, config, log))
                }
                stability.append(try measureStability(setting, family, tasks[0], config, log))
            }
        }
        var overhead: [Overhead] = []
        if config.overheadRepeats > 0, let setting = config.settings.max(by: { $0.features < $1.features }) {
            let task = try data(setting, config.seeds[0])
            for family in config.families {
                overhead.append(try measureOverhead(family, setting, task.dataset, config, log))
            }
        }
        let o = config.options
        return Result(settings: config.settings, seeds: config.seeds, topK: config.topK, epochs: o.training.epochs,
                      batchSize: o.training.batchSize, learningRate: o.training.optimizer.learningRate,
                      patience: o.training.earlyStoppingPatience, temperature: o.temperature, rows: rows, stability: stability,
                      overhead: overhead,
                      seconds: Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9)
    }

    private static func cell(_ setting: Setting, _ family: TabularModel.Family, _ scores: Bool,
                             _ tasks: [(dataset: Dataset, roles: [FeatureRole])], _ config: Configuration,
                             _ log: ((String) -> Void)?) throws -> Row {
        var accuracy: [Double] = [], seconds: [Double] = [], epochs: [Double] = [], stable: [Double] = []
        var readouts: [String: [(importances: [Double], roles: [FeatureRole])]] = [:]
        var shap = KernelShapRuns()
        for (seed, task) in zip(config.seeds, tasks) {
            var options = config.options
            (options.family, options.scores, options.training.seed) = (family, scores, seed)
            let (model, report) = try TabularModel.train(on: task.dataset, options: options)
            accuracy.append(Double(report.testAccuracy))
            seconds.append(report.seconds)
            epochs.append(Double(report.history.epochs.count))
            if let s = report.scores {
                readouts["weights", default: []].append((s.weights, task.roles))
                if let e = s.effectiveImportance { readouts["effective", default: []].append((e, task.roles)) }
                stable.append(Double(report.stableEpoch(.weights, topK: config.topK) ?? 0))
            } else if family == .mlp, let norms = FeatureScores.inputWeightNorms(of: model.model, features: task.dataset.featureCount) {
                readouts["norm", default: []].append((norms, task.roles))
            }
            if let settings = config.kernelShap {
                let run = try explainWithKernelSHAP(model, data: task.dataset, options: options, settings: settings)
                shap.rows = run.rows
                shap.seconds.append(run.seconds)
                shap.evaluations.append(Double(run.global.audit.modelEvaluations))
                readouts["shap", default: []].append((run.global.scores, task.roles))
                if let s = report.scores {
                    shap.withWeights.append(try Agreement.spearman(run.global.scores, s.weights))
                    if let e = s.effectiveImportance { shap.withEffective.append(try Agreement.spearman(run.global.scores, e)) }
                }
                log?("  kernel SHAP on \(run.rows) test rows: " + String(format: "%.2f s, %d model rows", run.seconds,
                                                                          run.global.audit.modelEvaluations))
            }
            log?("\(setting.name) \(family.rawValue)\(scores ? "+scores" : "") seed \(seed): test accuracy "
                 + String(format: "%.3f, %d epochs, %.2f s", report.testAccuracy, report.history.epochs.count, report.seconds))
        }
        func quality(_ key: String) throws -> RankingQuality? {
            guard let runs = readouts[key], runs.count == tasks.count else { return nil }
            var recall: [Double] = [], rho: [Double] = []
            for run in runs {
                let truth = run.roles.map { $0 == .informative ? 1.0 : 0 }
                let relevant = Set(truth.indices.filter { truth[$0] == 1 })
                recall.append(try Agreement.recallAtK(run.importances, relevant: relevant, k: config.topK))
                rho.append(try Agreement.spearman(run.importances, truth))
            }
            return RankingQuality(recall: Statistic(recall), spearman: Statistic(rho))
        }
        let truth = tasks[0].roles.map { $0 == .informative ? 1.0 : 0 }
        let separating = truth.indices.map { 2 * truth[$0] + Double($0) / Double(truth.count) }
        var column: KernelShapColumn?
        if let settings = config.kernelShap, let quality = try quality("shap") {
            column = KernelShapColumn(settings: settings, rows: shap.rows, seconds: Statistic(shap.seconds),
                                      modelEvaluations: Statistic(shap.evaluations), quality: quality,
                                      spearmanWithWeights: shap.withWeights.count == tasks.count ? Statistic(shap.withWeights) : nil,
                                      spearmanWithEffective: shap.withEffective.count == tasks.count ? Statistic(shap.withEffective) : nil)
        }
        return Row(setting: setting.name, family: family, scores: scores, testAccuracy: Statistic(accuracy),
                   seconds: Statistic(seconds), epochs: Statistic(epochs), weights: try quality("weights"),
                   effective: try quality("effective"), weightNorm: try quality("norm"),
                   spearmanCeiling: try Agreement.spearman(separating, truth),
                   stableTopKEpoch: stable.isEmpty ? nil : Statistic(stable), kernelShap: column)
    }

    /// Per-seed Kernel SHAP measurements of one cell.
    private struct KernelShapRuns {
        var rows = 0
        var seconds: [Double] = [], evaluations: [Double] = [], withWeights: [Double] = [], withEffective: [Double] = []
    }

    /// Kernel SHAP's global ranking of a model trained by ``TabularModel/train(on:targetName:options:observer:)``
    /// with `options`: the same seeded split is made again, so the background comes from the
    /// model's training rows and the explained rows from its test rows, in its standardised
    /// input space. The clock covers background, explanation and aggregation.
    static func explainWithKernelSHAP(_ model: TabularModel, data: Dataset, options: TabularModel.Options,
                                      settings: KernelShapSettings) throws -> (global: GlobalImportance, rows: Int, seconds: Double) {
        var split = try data.stratifiedSplit(train: options.trainFraction, validation: options.validationFraction,
                                             test: options.testFraction, seed: options.training.seed)
        if let imputer = model.encoding.imputer {
            split.train = try split.train.imputed(with: imputer)
            split.test = try split.test.imputed(with: imputer)
        }
        let train = try split.train.standardized(with: model.standardizer)
        let test = try split.test.standardized(with: model.standardizer)
        guard test.count > 0 else {
            throw GlassboxError.invalidArgument("Kernel SHAP in the experiment needs test rows; the split left none")
        }
        let n = min(settings.rows, test.count), d = data.featureCount
        let rows = Tensor(uncheckedShape: [n, d], scalars: Array(test.features.scalars[0..<n * d]))
        let started = DispatchTime.now().uptimeNanoseconds
        let background = try Background.sample(from: train.features, count: settings.background, seed: options.training.seed)
        let f = try PredictionFunction.probabilities(of: model.model, features: d)
        let explainer = KernelSHAP(background: background, budget: settings.budget, seed: options.training.seed)
        let global = try explainer.explain(rows, model: f).globalImportance()
        return (global, n, Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9)
    }

    private static func measureStability(_ setting: Setting, _ family: TabularModel.Family,
                                         _ task: (dataset: Dataset, roles: [FeatureRole]), _ config: Configuration,
                                         _ log: ((String) -> Void)?) throws -> Stability {
        var options = config.options
        (options.family, options.scores) = (family, true)
        let measured = try ScoresStability.measure(on: task.dataset, options: options, seeds: config.seeds)
        let ranking = Agreement.ranking(measured.meanImportances(.weights)!)
        var selection: [FeatureSelection.Point]?
        if family == .mlp {
            var plain = config.options
            (plain.family, plain.scores, plain.training.seed) = (.mlp, false, config.seeds[0])
            let ks = Array(1...task.dataset.featureCount)
            selection = try FeatureSelection.retrain(on: task.dataset, ranking: ranking, ks: ks, options: plain)
        }
        log?("\(setting.name) \(family.rawValue)+scores stability over \(config.seeds.count) seeds: mean pairwise Spearman "
             + (measured.weights.meanPairwiseSpearman.map { String(format: "%.3f", $0) } ?? "—"))
        return Stability(setting: setting.name, family: family, featureNames: task.dataset.featureNames, roles: task.roles,
                         weights: measured.weights, effective: measured.effective, meanRanking: ranking, selection: selection)
    }

    private static func measureOverhead(_ family: TabularModel.Family, _ setting: Setting, _ data: Dataset,
                                        _ config: Configuration, _ log: ((String) -> Void)?) throws -> Overhead {
        let epochs = config.overheadEpochs[family] ?? config.options.training.epochs
        var times: [Bool: [Double]] = [false: [], true: []], cpu: [Bool: [Double]] = [false: [], true: []]
        for _ in 0..<config.overheadRepeats {
            for scores in [false, true] {
                var options = config.options
                (options.family, options.scores, options.training.seed) = (family, scores, config.seeds[0])
                options.training.epochs = epochs
                options.training.earlyStoppingPatience = nil
                let cpuBefore = processCPUSeconds()
                times[scores]!.append(try TabularModel.train(on: data, options: options).report.seconds)
                cpu[scores]!.append(processCPUSeconds() - cpuBefore)
            }
        }
        func median(_ x: [Double]) -> Double {
            let s = x.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        let plain = median(times[false]!), scored = median(times[true]!)
        let plainCPU = median(cpu[false]!), scoredCPU = median(cpu[true]!)
        log?("overhead \(family.rawValue): \(epochs) epochs, median of \(config.overheadRepeats): "
             + String(format: "%.3f s without, %.3f s with the layer (%+.1f %%); CPU %+.1f %%", plain, scored,
                      100 * (scored / plain - 1), 100 * (scoredCPU / plainCPU - 1)))
        return Overhead(family: family, setting: setting.name, epochs: epochs, repeats: config.overheadRepeats,
                        batchSize: config.options.training.batchSize, plainSeconds: plain, scoredSeconds: scored,
                        plainCPUSeconds: plainCPU, scoredCPUSeconds: scoredCPU, percent: 100 * (scored / plain - 1),
                        cpuPercent: 100 * (scoredCPU / plainCPU - 1))
    }

    /// User plus system CPU time of this process so far.
    private static func processCPUSeconds() -> Double { Double(clock()) / Double(CLOCKS_PER_SEC) }
}
