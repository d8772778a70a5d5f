import Foundation

/// A classifier for tabular rows together with everything needed to use and explain it: how the
/// table's columns became features (`TabularEncoding`: one-hot groups, imputation fills,
/// classes), the standardiser fitted on its training rows, feature names, the target column and
/// the model family. It saves to and loads from one safetensors `ModelFile`.
///
/// ``train(on:targetName:options:observer:)`` is the flow behind `glassbox train`: stratified
/// split → imputation refitted on the training part (when the data had missing cells) →
/// standardisation fitted on the training part → MLP or tabular Transformer (optionally behind a
/// `ScoresActivation`) → `Trainer` with validation and early stopping → test metrics.
public struct TabularModel {
    /// The network family.
    public enum Family: String, Codable, Sendable, CaseIterable {
        /// `Architectures/mlp(inputs:hidden:outputs:dropout:)`.
        case mlp
        /// `Architectures/tabularTransformer(features:classes:embed:heads:blocks:ffn:activation:dropout:scores:temperature:)`.
        case transformer
    }

    /// The trained network (inputs standardised by ``standardizer``).
    public let model: any Layer
    /// MLP or transformer.
    public let family: Family
    /// Applied to raw rows before the model (fitted on the training rows).
    public let standardizer: Standardizer
    /// Input feature names (after one-hot encoding), in order.
    public let featureNames: [String]
    /// Class names, in output order.
    public let classNames: [String]
    /// The CSV column the classes came from, when known.
    public var targetName: String?
    /// How the table's columns became the features: pass it as `CSVDatasetOptions/encoding` to
    /// load new rows the same way. Its groups map features back to original columns.
    public var encoding: TabularEncoding

    /// Wraps a trained network with its preprocessing and names.
    public init(model: any Layer, family: Family, standardizer: Standardizer, featureNames: [String],
                classNames: [String], targetName: String? = nil, encoding: TabularEncoding? = nil) throws {
        guard standardizer.mean.count == featureNames.count else {
            throw GlassboxError.shapeMismatch("standardizer for \(standardizer.mean.count) features but \(featureNames.count) feature names")
        }
        let encoding = encoding ?? TabularEncoding(featureGroups: FeatureGroup.singletons(featureNames), classNames: classNames)
        let covered = encoding.featureGroups.reduce(0) { $0 + $1.features.count }
        guard covered == featureNames.count else {
            throw GlassboxError.shapeMismatch("the encoding's groups cover \(covered) features but the model has \(featureNames.count)")
        }
        (self.model, self.family, self.standardizer) = (model, family, standardizer)
        (self.featureNames, self.classNames, self.targetName, self.encoding) = (featureNames, classNames, targetName, encoding)
    }

    /// The features of each original column (one-hot groups), in column order.
    public var groups: [[Int]] { encoding.featureGroups.map(\.features) }
    /// The original columns' names.
    public var groupNames: [String] { encoding.featureGroups.map(\.name) }

    /// Options of ``train(on:targetName:options:observer:)``. Defaults were tuned on synthetic
    /// `make_classification` data (seeds disjoint from the experiment's).
    public struct Options: Sendable {
        /// The network family.
        public var family: Family = .mlp
        /// Put a `ScoresActivation` in front of the network.
        public var scores = false
        /// Softmax temperature of the ScoresActivation layer.
        public var temperature: Double = 1
        /// With `scores`: adds `strength · H(w)` (entropy of the feature weights) to the loss —
        /// training and validation loss alike. 0 (off) is the paper's form.
        public var entropyPenalty: Float = 0
        /// MLP hidden widths.
        public var hidden: [Int] = [64, 32]
        /// Dropout probability in the network.
        public var dropout: Double = 0
        /// Transformer size: token width, heads, blocks, feed-forward width.
        public var embed = 32, heads = 4, blocks = 2, ffn = 64
        /// Epochs, batch size, seed, optimiser and early stopping.
        public var training = TrainingConfig(epochs: 100, batchSize: 32, seed: 42, optimizer: .adam(learningRate: 1e-3),
                                             earlyStoppingPatience: 20)
        /// Stratified split fractions.
        public var trainFraction = 0.7, validationFraction = 0.15, testFraction = 0.15
        /// Default options.
        public init() {}

        /// The architecture these options describe for `features` inputs and `classes` outputs.
        public func spec(features: Int, classes: Int) -> LayerSpec {
            switch family {
            case .mlp:
                return scores
                    ? Architectures.scoredMLP(inputs: features, hidden: hidden, outputs: classes, dropout: dropout,
                                              temperature: temperature)
                    : Architectures.mlp(inputs: features, hidden: hidden, outputs: classes, dropout: dropout)
            case .transformer:
                return Architectures.tabularTransformer(features: features, classes: classes, embed: embed, heads: heads,
                                                        blocks: blocks, ffn: ffn, dropout: dropout, scores: scores,
                                                        temperature: temperature)
            }
        }
    }

    /// What a training run measured.
    public struct Report: Sendable {
        /// Per-epoch losses and accuracies.
        public var history: TrainingHistory
        /// Accuracy and mean cross-entropy on the held-out test rows (NaN without test rows).
        public var testAccuracy: Float, testLoss: Float
        /// Rows in each part of the split.
        public var trainRows: Int, validationRows: Int, testRows: Int
        /// Wall time of the whole flow (split, scaling, training, evaluation).
        public var seconds: Double
        /// The final ScoresActivation readout, with `scores`.
        public var scores: FeatureScores?
        /// The readout after each epoch, with `scores`.
        public var scoreSnapshots: [FeatureScores]
        /// The epoch whose weights the model ends with.
        public var finalEpoch: Int {
            history.restoredBestWeights ? (history.bestEpoch ?? history.epochs.count) : history.epochs.count
        }
        /// The epoch after which the ranking of `readout` (or its top-`k` set) no longer changed
        /// up to ``finalEpoch`` (see ``ScoresHistory/stableEpoch(_:topK:last:)``).
        public func stableEpoch(_ readout: ScoresReadout = .weights, topK: Int? = nil) -> Int? {
            ScoresHistory.stableEpoch(scoreSnapshots, readout, topK: topK, last: finalEpoch)
        }
    }

    /// Splits (seeded, stratified), imputes and standardises with statistics of the training
    /// rows, builds and trains the model; the split and all initial weights follow
    /// `options.training.seed`, so the same seed gives the same model. The data's feature groups
    /// (one-hot columns) and imputation strategy travel with the model.
    /// Refuses data too small for the split `options` asks for: no training row, or no
    /// validation row while early stopping needs one. Cost: one stratified split of the indices.
    ///
    /// - Throws: ``GlassboxError/invalidArgument(_:)`` saying how many rows there are and why
    ///   they do not suffice.
    public static func checkSplit(of data: Dataset, options: Options) throws {
        let split = try data.stratifiedSplit(train: options.trainFraction, validation: options.validationFraction,
                                             test: options.testFraction, seed: options.training.seed)
        guard split.train.count > 0 else {
            throw GlassboxError.invalidArgument("\(data.count) data rows are too few: none is left for training")
        }
        if options.training.earlyStoppingPatience != nil, split.validation.count == 0 {
            throw GlassboxError.invalidArgument(
                "\(data.count) data rows are too few: the stratified split leaves no validation row for early stopping "
                    + "(give more rows, or turn early stopping off with --patience 0)")
        }
    }

    public static func train(on data: Dataset, targetName: String? = nil,
                             options: Options = Options(), observer: (any TrainingObserver)? = nil) throws
        -> (model: TabularModel, report: Report) {
        let started = DispatchTime.now().uptimeNanoseconds
        if options.entropyPenalty != 0 && !options.scores {
            throw GlassboxError.invalidArgument("an entropy penalty needs the ScoresActivation layer (scores)")
        }
        try checkSplit(of: data, options: options)
        var split = try data.stratifiedSplit(train: options.trainFraction, validation: options.validationFraction,
                                             test: options.testFraction, seed: options.training.seed)
        // The loader's fills come from every row; refit them on the training rows so validation
        // and test rows do not leak into what the model is trained on.
        let imputer = try data.imputer.map { try Imputer.fit(data, strategy: $0.strategy, rows: split.indices.train) }
        if let imputer {
            split.train = try split.train.imputed(with: imputer)
            split.validation = try split.validation.imputed(with: imputer)
            split.test = try split.test.imputed(with: imputer)
        }
        let scaler = try Standardizer.fit(split.train.features)
        let train = try split.train.standardized(with: scaler)
        let validation = try split.validation.standardized(with: scaler)
        let test = try split.test.standardized(with: scaler)
        let model = try LayerRegistry.build(options.spec(features: data.featureCount, classes: data.numClasses),
                                            seed: options.training.seed)
        let history = options.scores ? ScoresHistory(model: model, featureNames: data.featureNames) : nil
        var loss: LossFunction = { try crossEntropy($0, labels: $1) }
        if options.entropyPenalty != 0, let layer = FeatureScores.layers(of: model).lazy.compactMap({ $0.layer as? ScoresActivation }).first {
            let strength = options.entropyPenalty
            loss = { try add(try crossEntropy($0, labels: $1), try layer.entropyPenalty(strength: strength)) }
        }
        let observers = ObserverList([observer, history].compactMap { $0 })
        let trained = try Trainer.fit(
            model: model, inputs: train.features, labels: train.labels,
            validation: validation.count > 0 ? (validation.features, validation.labels) : nil,
            config: options.training, loss: loss, observer: observers)
        let (testLoss, testAccuracy) = test.count > 0
            ? try Trainer.evaluate(model: model, inputs: test.features, labels: test.labels)
            : (Float.nan, Float.nan)
        let result = try TabularModel(model: model, family: options.family, standardizer: scaler,
                                      featureNames: data.featureNames, classNames: data.classNames, targetName: targetName,
                                      encoding: TabularEncoding(featureGroups: data.featureGroups, imputer: imputer,
                                                                classNames: data.classNames))
        let report = Report(history: trained, testAccuracy: testAccuracy, testLoss: testLoss, trainRows: train.count,
                            validationRows: validation.count, testRows: test.count,
                            seconds: Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9,
                            scores: options.scores ? try FeatureScores.read(from: model, featureNames: data.featureNames) : nil,
                            scoreSnapshots: history?.snapshots ?? [])
        return (result, report)
    }

    /// The ScoresActivation readout of this model (throws if it has none).
    public func featureScores() throws -> FeatureScores {
        try FeatureScores.read(from: model, featureNames: featureNames)
    }

    /// Class probabilities `[n, classes]` for encoded, unstandardised rows `[n, d]` (as loaded
    /// with ``encoding``).
    public func predictProbabilities(_ rows: Tensor) throws -> Tensor {
        try Trainer.predictProbabilities(model: model, inputs: standardizer.transform(rows))
    }

    // MARK: model file

    /// Metadata keys of a saved tabular model (values are JSON text or plain strings).
    public enum MetadataKey {
        /// JSON array of feature names.
        public static let featureNames = "glassbox.feature_names"      // JSON array of strings
        /// JSON array of class names.
        public static let classNames = "glassbox.class_names"          // JSON array of strings
        /// JSON `{"mean": [...], "std": [...]}` of the `Standardizer`.
        public static let standardizer = "glassbox.standardizer"       // {"mean": [...], "std": [...]}
        /// The target column's name.
        public static let target = "glassbox.target"                   // string
        /// JSON of the `TabularEncoding` (one-hot columns).
        public static let encoding = "glassbox.encoding"               // TabularEncoding JSON
        /// `"mlp"` or `"transformer"`.
        public static let family = "glassbox.model_family"             // "mlp" | "transformer"
    }

    /// Saves the network with its preprocessing and names (atomically, see `ModelFile`).
    public func save(to url: URL) throws {
        var metadata = [
            MetadataKey.featureNames: try json(featureNames),
            MetadataKey.classNames: try json(classNames),
            MetadataKey.standardizer: try json(standardizer),
            MetadataKey.family: family.rawValue,
            MetadataKey.encoding: try json(encoding),
        ]
        if let targetName { metadata[MetadataKey.target] = targetName }
        try ModelFile.save(model, to: url, metadata: metadata)
    }

    /// Loads a model saved by ``save(to:)``; errors name the file and the metadata entry.
    public static func load(from url: URL) throws -> TabularModel {
        let (model, metadata) = try ModelFile.load(from: url)
        func decode<T: Decodable>(_ type: T.Type, _ key: String) throws -> T {
            guard let text = metadata[key] else {
                throw GlassboxError.badFile(path: url.path, location: "metadata",
                                            problem: "no '\(key)' entry: not a tabular model saved by glassbox train")
            }
            do { return try JSONDecoder().decode(T.self, from: Data(text.utf8)) } catch {
                throw GlassboxError.badFile(path: url.path, location: "metadata '\(key)'", problem: ErrorText.describe(error))
            }
        }
        let featureNames = try decode([String].self, MetadataKey.featureNames)
        let familyName = metadata[MetadataKey.family] ?? ""
        guard let family = Family(rawValue: familyName) else {
            throw GlassboxError.badFile(path: url.path, location: "metadata '\(MetadataKey.family)'",
                                        problem: "unknown model family '\(familyName)' (known: mlp, transformer)")
        }
        do {
            return try TabularModel(model: model, family: family,
                                    standardizer: decode(Standardizer.self, MetadataKey.standardizer),
                                    featureNames: featureNames, classNames: decode([String].self, MetadataKey.classNames),
                                    targetName: metadata[MetadataKey.target],
                                    encoding: decode(TabularEncoding.self, MetadataKey.encoding))
        } catch let error as GlassboxError {
            if case .badFile = error { throw error }
            throw GlassboxError.badFile(path: url.path, location: "metadata", problem: error.description)
        }
    }

    private func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// Forwards training progress to several observers in order.
final class ObserverList: TrainingObserver {
    let observers: [any TrainingObserver]
    init(_ observers: [any TrainingObserver]) { self.observers = observers }
    func batchEnded(_ progress: BatchProgress) { for o in observers { o.batchEnded(progress) } }
    func epochEnded(_ record: EpochRecord, epochs: Int) { for o in observers { o.epochEnded(record, epochs: epochs) } }
    var stopRequested: Bool { observers.contains { $0.stopRequested } }
}
