import Foundation

/// The flow behind `glassbox demo`: everything Glassbox does, end to end on bundled data, as
/// one ``ReportData``.
///
/// 1. **Tabular** (breast cancer Wisconsin, 569 × 30): an MLP behind a ``ScoresActivation``
///    layer trained once per seed (split, initial weights and shuffling all from the seed); the
///    feature ranking as mean ± sd of the weights `w = softmax(s)` over seeds and the rank
///    stability (mean pairwise Spearman ρ); the weights after every epoch of the first seed.
/// 2. **Explainers** on the first seed's model, in its (standardised) input space: Kernel SHAP
///    of the class probabilities for `explainedRows` test rows against a background sampled from
///    the training rows, Integrated Gradients on the same rows, permutation importance (accuracy
///    drop) on all test rows; each ranked by mean |φ| (or accuracy drop), plus the
///    ScoresActivation readouts `w` and `w·‖W_i‖`.
/// 3. **Agreement** between every pair of those rankings: Spearman ρ, Kendall τ-b, top-k overlap.
/// 4. **Images** (8×8 digits): a small CNN; for `images` test images of different classes, ReX
///    causal-responsibility maps with Activation-Deactivation (strict ConvAD) and with the masking
///    value 0 (the training mean), each with its insertion and deletion curves.
///
/// Every random choice follows ``Options/seed`` (seed `s`, `s+1`, … for the extra ScoresActivation
/// runs), so the same options give bit-identical results on the same thread count.
/// Cost with the defaults: 5 ScoresActivation trainings, 100 × 2,108 × 100 model rows for
/// Kernel SHAP, one CNN training and 12 ReX maps of ≤ 7,000 mutants each — about 15 s on 2 cores.
public enum GlassboxDemo {
    /// Sizes of the demo; ``quick`` is a reduced run for tests.
    public struct Options: Sendable {
        /// The first seed; ScoresActivation runs use `seed, seed+1, …`.
        public var seed: UInt64 = 42
        /// ScoresActivation trainings (the spread across seeds).
        public var seeds = 5
        /// Maximum epochs per tabular training (early stopping, patience 20).
        public var epochs = 100
        /// Test rows explained by Kernel SHAP and Integrated Gradients.
        public var explainedRows = 100
        /// Background rows for Kernel SHAP, sampled from the training rows.
        public var backgroundRows = 100
        /// Kernel SHAP coalitions per row (nil: 2·features + 2048).
        public var shapBudget: Int?
        /// Permutation importance repeats.
        public var permutationRepeats = 5
        /// Top-k of the agreement overlap.
        public var topK = 5
        /// CNN training epochs (early stopping, patience 5).
        public var imageEpochs = 30
        /// Test images explained (of different classes where possible).
        public var images = 6
        /// ReX iterations per map.
        public var rexIterations = 50
        /// Pixels moved per step of the insertion/deletion curves.
        public var curveStep = 1
        /// Memberwise initialiser; see the properties.
        public init() {}

        /// A reduced run (seconds in a release build): 2 seeds of at most 30 epochs, 10 explained
        /// rows against 20 background rows with a 400-coalition budget, 4 CNN epochs, 2 images, 5
        /// ReX iterations.
        public static var quick: Options {
            var o = Options()
            (o.seeds, o.epochs, o.explainedRows, o.backgroundRows, o.shapBudget) = (2, 30, 10, 20, 400)
            (o.permutationRepeats, o.imageEpochs, o.images, o.rexIterations, o.curveStep) = (2, 4, 2, 5, 4)
            return o
        }
    }

    /// What the demo measured, in short (printed by the CLI, and its `--json`).
    public struct Summary: Codable, Sendable {
        /// One explainer's line of the summary.
        public struct Method: Codable, Sendable {
            /// Method name.
            public var method: String
            /// Wall time in seconds.
            public var seconds: Double
            /// Most important features first (five).
            public var top: [String]
            /// Spearman ρ with the ScoresActivation weights (nil if undefined).
            public var spearmanWithScores: Double?
        }
        /// One image explainer's line of the summary.
        public struct Image: Codable, Sendable {
            /// Method name.
            public var method: String
            /// Mean insertion AUC (↑) and deletion AUC (↓) over the explained images.
            public var insertionAUC: Double, deletionAUC: Double
            /// Wall time in seconds.
            public var seconds: Double
        }
        /// The tabular dataset, its size and the seeds used.
        public var dataset: String
        /// Rows and features of the tabular data.
        public var rows: Int, features: Int
        /// The ScoresActivation seeds.
        public var seeds: [UInt64]
        /// Test accuracy per seed.
        public var testAccuracy: [Double]
        /// The five features with the largest mean weight.
        public var topFeatures: [String]
        /// Mean pairwise Spearman ρ of the seeds' rankings.
        public var rankStabilitySpearman: Double?
        /// Every explainer, in the report's order.
        public var methods: [Method]
        /// The image study: dataset, CNN test accuracy, images explained and the curves' mean AUCs per removal.
        public var imageDataset: String
        /// The CNN's test accuracy.
        public var imageTestAccuracy: Double
        /// Images explained.
        public var images: Int
        /// Mean insertion/deletion AUC per removal.
        public var imageMethods: [Image]
        /// Wall time in seconds.
        public var seconds: Double
    }

    /// Runs the demo; `progress` receives a short line before each stage.
    public static func run(_ options: Options = Options(), generator: String? = nil,
                           progress: ((String) -> Void)? = nil) throws -> (report: ReportData, summary: Summary) {
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed(since t: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t) * 1e-9 }
        guard options.seeds >= 1, options.explainedRows >= 1, options.backgroundRows >= 1, options.images >= 1 else {
            throw GlassboxError.invalidArgument("the demo needs at least one seed, explained row, background row and image")
        }

        // 1. ScoresActivation across seeds.
        let data = try BundledData.breastCancer()
        let seeds = (0..<options.seeds).map { options.seed &+ UInt64($0) }
        var tabularOptions = TabularModel.Options()
        tabularOptions.scores = true
        tabularOptions.training.epochs = options.epochs
        var runs: [(model: TabularModel, report: TabularModel.Report)] = []
        for seed in seeds {
            progress?("training ScoresActivation MLP on breast cancer, seed \(seed)")
            var o = tabularOptions
            o.training.seed = seed
            runs.append(try TabularModel.train(on: data, options: o))
        }
        let readouts = try runs.map { run -> FeatureScores in
            guard let s = run.report.scores else { throw GlassboxError.invalidArgument("the demo model has no ScoresActivation layer") }
            return s
        }
        let stability = try Agreement.stability(readouts.map(\.weights))
        let d = data.featureCount
        let names = data.featureNames
        let (first, firstReport) = runs[0]

        // 2. Explainers on the first seed's model, on its own split (same seed ⇒ same split).
        let split = try data.stratifiedSplit(train: tabularOptions.trainFraction, validation: tabularOptions.validationFraction,
                                             test: tabularOptions.testFraction, seed: seeds[0])
        let train = try split.train.standardized(with: first.standardizer)
        let test = try split.test.standardized(with: first.standardizer)
        let n = min(options.explainedRows, test.count)
        let rows = Tensor(uncheckedShape: [n, d], scalars: Array(test.features.scalars[0..<(n * d)]))
        let f = try PredictionFunction.probabilities(of: first.model, features: d)
        let background = try Background.sample(from: train.features, count: min(options.backgroundRows, train.count), seed: seeds[0])

        var methods: [MethodImportance] = []
        let meanWeights = readouts.map(\.weights).reduce([Double](repeating: 0, count: d)) { zip($0, $1).map(+) }
            .map { $0 / Double(readouts.count) }
        methods.append(MethodImportance(method: "scores-activation", importance: meanWeights,
                                        spread: FeatureRanking(method: "", seeds: seeds, values: readouts.map(\.weights)).standardDeviation,
                                        seconds: runs.reduce(0) { $0 + $1.report.seconds },
                                        note: "w = softmax(s), mean ± sd over \(seeds.count) seeds (time: all trainings)"))
        if let effective = readouts[0].effectiveImportance {
            methods.append(MethodImportance(method: "scores-effective", importance: effective, seconds: 0,
                                            note: "w_i·‖W_i‖₂ of seed \(seeds[0])"))
        }
        progress?("Kernel SHAP on \(n) test rows (background \(background.count) rows)")
        let shap = try KernelSHAP(background: background, budget: options.shapBudget, seed: seeds[0]).explain(rows, model: f)
        let shapGlobal = shap.globalImportance()
        methods.append(MethodImportance(method: "kernel-shap", importance: shapGlobal.scores, seconds: shap.audit.wallSeconds,
                                        note: "mean |φ| over \(n) rows and both classes"))
        progress?("Integrated Gradients on \(n) test rows")
        let ig = try IntegratedGradients().explain(rows, model: f)
        methods.append(MethodImportance(method: "integrated-gradients", importance: ig.globalImportance().scores,
                                        seconds: ig.audit.wallSeconds, note: "mean |φ|, baseline = feature means, 50 steps"))
        progress?("permutation importance on \(test.count) test rows")
        let permutation = try PermutationImportance(repeats: options.permutationRepeats, seed: seeds[0])
            .importance(of: f, data: test.features, labels: test.labels)
        methods.append(MethodImportance(method: "permutation", importance: permutation.scores, spread: permutation.spread,
                                        seconds: permutation.audit.wallSeconds,
                                        note: "accuracy drop when a feature is shuffled, \(options.permutationRepeats) repeats"))

        // 3. Agreement of every pair of rankings.
        let k = min(options.topK, d)
        func matrix(_ statistic: ([Double], [Double]) throws -> Double) throws -> [[Double?]] {
            try methods.map { a in try methods.map { b in
                let v = try statistic(a.importance, b.importance)
                return v.isFinite ? v : nil
            } }
        }
        let agreement = AgreementMatrix(methods: methods.map(\.method), k: k, spearman: try matrix(Agreement.spearman),
                                        kendall: try matrix(Agreement.kendallTauB),
                                        topK: try matrix { try Agreement.topKOverlap($0, $1, k: k) })

        // The strip plot: Kernel SHAP attributions to the "malignant" (last) class.
        let slice = shap.outputs.count - 1
        let attributions = RowAttributions(
            method: "kernel-shap", className: data.classNames[shap.outputs[slice]],
            values: (0..<n).map { r in shap.attributions(row: r, slice: slice).map(Double.init) },
            featureValues: (0..<n).map { r in (0..<d).map { Double(rows.scalars[r * d + $0]) } })

        let tabular = TabularReport(
            data: DataSummary(name: "Breast cancer Wisconsin (diagnostic)", source: "UCI, via scikit-learn (BSD-3-Clause); bundled",
                              rows: data.count, shape: "\(d) numeric features, standardised", classNames: data.classNames,
                              classCounts: data.classCounts, trainRows: firstReport.trainRows,
                              validationRows: firstReport.validationRows, testRows: firstReport.testRows),
            model: ModelSummary(architecture: "ScoresActivation(\(d)) → MLP \(d)→\(tabularOptions.hidden.map(String.init).joined(separator: "→"))→\(data.numClasses)",
                                parameters: first.model.parameterCount,
                                training: "Adam 0.001, batch \(tabularOptions.training.batchSize), ≤ \(options.epochs) epochs, early stopping (patience 20) on validation loss",
                                seeds: seeds, testAccuracy: runs.map { Double($0.report.testAccuracy) },
                                epochs: runs.map { $0.report.history.epochs.count }),
            featureNames: names,
            ranking: FeatureRanking(method: "ScoresActivation weight w = softmax(s)", seeds: seeds, values: readouts.map(\.weights),
                                    meanPairwiseSpearman: stability.meanPairwiseSpearman),
            trajectory: ScoreTrajectory(seed: seeds[0], values: firstReport.scoreSnapshots.map(\.weights),
                                        bestEpoch: firstReport.history.restoredBestWeights ? firstReport.history.bestEpoch : nil,
                                        stableEpoch: firstReport.stableEpoch()),
            methods: methods, attributions: attributions, agreement: agreement)

        // 4. Images.
        let (image, imageSummary) = try imageStudy(options, progress: progress)

        let seconds = elapsed(since: start)
        let formatter = ISO8601DateFormatter()
        let report = ReportData(
            title: "Glassbox demo", generator: generator, createdAt: formatter.string(from: Date()), seconds: seconds,
            notes: ["Tabular attributions are in the model's input space (standardised features). "
                    + "Every random choice follows seed \(options.seed)."],
            tabular: tabular, image: image)
        let spearmanColumn = agreement.spearman.map { $0[0] }
        let summary = Summary(
            dataset: tabular.data.name, rows: data.count, features: d, seeds: seeds,
            testAccuracy: tabular.model.testAccuracy,
            topFeatures: Agreement.ranking(meanWeights).prefix(5).map { names[$0] },
            rankStabilitySpearman: stability.meanPairwiseSpearman,
            methods: methods.enumerated().map { i, m in
                Summary.Method(method: m.method, seconds: m.seconds ?? 0, top: Agreement.ranking(m.importance).prefix(5).map { names[$0] },
                               spearmanWithScores: spearmanColumn[i])
            },
            imageDataset: image.data.name, imageTestAccuracy: image.model.testAccuracy.first ?? .nan,
            images: image.examples.count, imageMethods: imageSummary, seconds: seconds)
        return (report, summary)
    }

    /// The CNN on digits and its explained images.
    static func imageStudy(_ options: Options, progress: ((String) -> Void)?) throws -> (ImageReport, [Summary.Image]) {
        let digits = try BundledData.digits()
        let outer = try digits.stratifiedSplit(train: 0.85, validation: 0, test: 0.15, seed: options.seed)
        let inner = try outer.train.stratifiedSplit(train: 0.9, validation: 0.1, test: 0, seed: options.seed)
        let spec = Architectures.convNet(inputChannels: 1, height: 8, width: 8, channels: [16, 32], hidden: 64,
                                         classes: digits.numClasses)
        let config = TrainingConfig(epochs: options.imageEpochs, batchSize: 32, seed: options.seed,
                                    optimizer: .adam(learningRate: 2e-3), earlyStoppingPatience: 5)
        progress?("training a CNN on 8×8 digits")
        let cnn = try ImageClassifier.train(spec: spec, train: inner.train, validation: inner.validation, test: outer.test,
                                            config: config)
        let test = outer.test
        // Test images of different classes first, in test order.
        var chosen: [Int] = [], seen = Set<Int>()
        for i in 0..<test.count where chosen.count < options.images && !seen.contains(test.labels[i]) {
            chosen.append(i); seen.insert(test.labels[i])
        }
        for i in 0..<test.count where chosen.count < options.images && !chosen.contains(i) { chosen.append(i) }
        let subset = test.subset(chosen)
        let x = try cnn.normalizer.transform(subset.images)
        let probabilities = try Trainer.predictProbabilities(model: cnn.model, inputs: x)
        let classifier = MaskedClassifier(model: cnn.model)
        let removals: [(name: String, removal: Removal)] = [("responsibility, AD", .activationDeactivation(.strict)),
                                                           ("responsibility, masking 0", .constant(0))]
        let (c, h, w) = (subset.channels, subset.height, subset.width)
        let plane = c * h * w
        var examples: [ImageExample] = []
        var totals = [(insertion: Double, deletion: Double, seconds: Double)](repeating: (0, 0, 0), count: removals.count)
        for (k, index) in chosen.enumerated() {
            progress?("explaining test image \(index) (\(k + 1) of \(chosen.count))")
            let image = Tensor(uncheckedShape: [c, h, w], scalars: Array(x.scalars[(k * plane)..<((k + 1) * plane)]))
            let p = Array(probabilities.scalars[(k * digits.numClasses)..<((k + 1) * digits.numClasses)])
            let predicted = p.indices.max { p[$0] < p[$1] }!
            var explanations: [ImageExplanation] = []
            for (r, (name, removal)) in removals.enumerated() {
                let map = try CausalResponsibility.explain(
                    classifier, image: image, target: predicted,
                    options: CausalResponsibility.Options(iterations: options.rexIterations, removal: removal, seed: options.seed))
                let insertion = try ExplanationMetrics.curve(.insertion, model: cnn.model, image: image, attribution: map.map,
                                                             target: predicted, step: options.curveStep)
                let deletion = try ExplanationMetrics.curve(.deletion, model: cnn.model, image: image, attribution: map.map,
                                                            target: predicted, step: options.curveStep)
                totals[r].insertion += insertion.auc
                totals[r].deletion += deletion.auc
                totals[r].seconds += map.seconds
                explanations.append(ImageExplanation(
                    method: name, map: map.map.scalars.map(Double.init),
                    insertion: CurveData(fractions: insertion.fractions, probabilities: insertion.probabilities, auc: insertion.auc),
                    deletion: CurveData(fractions: deletion.fractions, probabilities: deletion.probabilities, auc: deletion.auc),
                    evaluations: map.evaluations, seconds: map.seconds))
            }
            examples.append(ImageExample(
                name: "test image \(index)", trueClass: digits.classNames[subset.labels[k]],
                predictedClass: digits.classNames[predicted], confidence: Double(p[predicted]), channels: c, height: h, width: w,
                pixels: Array(subset.images.scalars[(k * plane)..<((k + 1) * plane)]).map(Double.init),
                explanations: explanations))
        }
        let report = ImageReport(
            data: DataSummary(name: "Handwritten digits (8×8)", source: "UCI, via scikit-learn (BSD-3-Clause); bundled",
                              rows: digits.count, shape: "1×8×8 pixels", classNames: digits.classNames,
                              classCounts: digits.classCounts, trainRows: inner.train.count,
                              validationRows: inner.validation.count, testRows: test.count),
            model: ModelSummary(architecture: "CNN Conv(1→16)-Pool-Conv(16→32)-Pool-Linear(→64)-Linear(→10)",
                                parameters: cnn.model.parameterCount,
                                training: "Adam 0.002, batch 32, ≤ \(options.imageEpochs) epochs, early stopping (patience 5)",
                                seeds: [options.seed], testAccuracy: [Double(cnn.testAccuracy)], epochs: [cnn.history.epochs.count]),
            explainer: "ReX causal responsibility (\(options.rexIterations) iterations, seed \(options.seed)) for the predicted class: "
                + "occluded pixels removed by Activation-Deactivation (strict ConvAD: switched off inside the network) "
                + "or replaced by the masking value 0 (the training mean). Curves move \(options.curveStep) pixels per step.",
            examples: examples)
        let count = Double(examples.count)
        let summary = removals.indices.map { r in
            Summary.Image(method: removals[r].name, insertionAUC: totals[r].insertion / count,
                          deletionAUC: totals[r].deletion / count, seconds: totals[r].seconds)
        }
        return (report, summary)
    }
}
