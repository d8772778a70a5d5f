import Foundation

/// What one epoch of training measured.
public struct EpochRecord: Codable, Sendable, Equatable {
    /// 1-based epoch number.
    public var epoch: Int
    /// Mean training loss over the epoch's rows (training mode: dropout active).
    public var trainLoss: Float
    /// Fraction of training rows whose largest logit was the label, during the epoch's forward passes.
    public var trainAccuracy: Float
    /// Loss on the validation data after the epoch (inference mode), if validation data was given.
    public var validationLoss: Float?
    /// Accuracy on the validation data after the epoch, if validation data was given.
    public var validationAccuracy: Float?
    /// Learning rate used during the epoch.
    public var learningRate: Float
    /// Wall-clock duration of the epoch, validation included.
    public var seconds: Double

    /// Makes a record of one epoch.
    public init(epoch: Int, trainLoss: Float, trainAccuracy: Float, validationLoss: Float?,
                validationAccuracy: Float?, learningRate: Float, seconds: Double) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.validationLoss = validationLoss
        self.validationAccuracy = validationAccuracy
        self.learningRate = learningRate
        self.seconds = seconds
    }

    /// One human-readable line: `epoch 3/20: loss 0.4312, accuracy 91.20%, validation loss …`.
    public func summary(epochs: Int) -> String {
        var parts = ["loss \(fixed(trainLoss, 4))", "accuracy \(fixed(trainAccuracy * 100, 2))%"]
        if let validationLoss { parts.append("validation loss \(fixed(validationLoss, 4))") }
        if let validationAccuracy { parts.append("validation accuracy \(fixed(validationAccuracy * 100, 2))%") }
        parts.append("lr \(String(format: "%.3g", Double(learningRate)))")
        parts.append("\(fixed(Float(seconds), 2)) s")
        return "epoch \(epoch)/\(epochs): " + parts.joined(separator: ", ")
    }
}

/// The per-epoch record of a training run and how it ended.
public struct TrainingHistory: Codable, Sendable, Equatable {
    /// One record per completed epoch, in order.
    public var epochs: [EpochRecord]
    /// With early stopping: the 1-based epoch whose monitored value was best.
    public var bestEpoch: Int?
    /// Whether early stopping ended the run before the configured number of epochs.
    public var stoppedEarly: Bool
    /// Whether the model ends with the best epoch's weights rather than the last epoch's.
    public var restoredBestWeights: Bool

    /// Makes a history.
    public init(epochs: [EpochRecord] = [], bestEpoch: Int? = nil, stoppedEarly: Bool = false,
                restoredBestWeights: Bool = false) {
        self.epochs = epochs
        self.bestEpoch = bestEpoch
        self.stoppedEarly = stoppedEarly
        self.restoredBestWeights = restoredBestWeights
    }
}

private func fixed(_ value: Float, _ digits: Int) -> String {
    String(format: "%.\(digits)f", Double(value))
}
