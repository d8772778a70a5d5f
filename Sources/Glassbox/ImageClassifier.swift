import Foundation

/// The supervised flow for images: per-channel normalisation fitted on the training images, a
/// CNN trained with validation and early stopping, test metrics.
public struct ImageClassifier {
    /// The trained network (inputs normalised by ``normalizer``).
    public let model: any Layer
    /// Per-channel scaling fitted on the training images.
    public let normalizer: ChannelNormalizer
    /// Class names, in output order.
    public let classNames: [String]
    /// Per-epoch losses and accuracies.
    public let history: TrainingHistory
    /// Accuracy and mean cross-entropy on the test images.
    public let testAccuracy: Float, testLoss: Float

    /// Trains `spec` on `train`, early-stopping on `validation` when given, and scores `test`.
    public static func train(spec: LayerSpec, train: ImageDataset, validation: ImageDataset?, test: ImageDataset,
                             config: TrainingConfig, observer: (any TrainingObserver)? = nil) throws -> ImageClassifier {
        let normalizer = try ChannelNormalizer.fit(train.images)
        let model = try LayerRegistry.build(spec, seed: config.seed)
        let validationData = try validation.map { (try normalizer.transform($0.images), $0.labels) }
        let history = try Trainer.fit(model: model, inputs: try normalizer.transform(train.images), labels: train.labels,
                                      validation: validationData, config: config, observer: observer)
        let (loss, accuracy) = try Trainer.evaluate(model: model, inputs: try normalizer.transform(test.images),
                                                    labels: test.labels)
        return ImageClassifier(model: model, normalizer: normalizer, classNames: train.classNames, history: history,
                               testAccuracy: accuracy, testLoss: loss)
    }
}
