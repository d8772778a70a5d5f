import Foundation

/// The whole supervised flow for a tabular dataset: stratified split, standardisation fitted on
/// the training rows only, an MLP trained with validation and early stopping, test metrics.
///
/// The standardiser, feature names and class names travel with the model into its file, so a
/// saved classifier predicts from raw rows.
public struct TabularClassifier {
    public let model: any Layer
    public let standardizer: Standardizer
    public let featureNames: [String]
    public let classNames: [String]
    public let history: TrainingHistory
    /// Accuracy and mean cross-entropy on the held-out test rows.
    public let testAccuracy: Float, testLoss: Float
    /// Rows in each part of the split.
    public let trainRows: Int, validationRows: Int, testRows: Int

    /// Options of ``train(on:options:observer:)``.
    public struct Options: Sendable {
        public var hidden: [Int] = [64, 32]
        public var dropout: Double = 0
        public var training = TrainingConfig(epochs: 200, batchSize: 32, seed: 42, optimizer: .adam(learningRate: 1e-3),
                                             earlyStoppingPatience: 20)
        public var trainFraction = 0.7, validationFraction = 0.15, testFraction = 0.15
        public init() {}
    }

    /// Splits, scales and trains; the split and all initial weights follow `options.training.seed`.
    public static func train(on data: Dataset, options: Options = Options(),
                             observer: (any TrainingObserver)? = nil) throws -> TabularClassifier {
        let split = try data.stratifiedSplit(train: options.trainFraction, validation: options.validationFraction,
                                             test: options.testFraction, seed: options.training.seed)
        let scaler = try Standardizer.fit(split.train.features)
        let train = try split.train.standardized(with: scaler)
        let validation = try split.validation.standardized(with: scaler)
        let test = try split.test.standardized(with: scaler)
        let spec = Architectures.mlp(inputs: data.featureCount, hidden: options.hidden, outputs: data.numClasses,
                                     dropout: options.dropout)
        let model = try LayerRegistry.build(spec, seed: options.training.seed)
        let history = try Trainer.fit(
            model: model, inputs: train.features, labels: train.labels,
            validation: validation.count > 0 ? (validation.features, validation.labels) : nil,
            config: options.training, observer: observer)
        let (loss, accuracy) = test.count > 0
            ? try Trainer.evaluate(model: model, inputs: test.features, labels: test.labels)
            : (Float.nan, Float.nan)
        return TabularClassifier(model: model, standardizer: scaler, featureNames: data.featureNames,
                                 classNames: data.classNames, history: history, testAccuracy: accuracy, testLoss: loss,
                                 trainRows: train.count, validationRows: validation.count, testRows: test.count)
    }
}
