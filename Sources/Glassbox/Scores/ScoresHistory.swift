/// A training observer that snapshots a model's ``FeatureScores`` at the end of every epoch, to
/// see when the ranking settled.
///
/// Cost: one ``FeatureScores/read(from:featureNames:)`` per epoch (O(d·out)), negligible next to
/// an epoch of training.
public final class ScoresHistory: TrainingObserver {
    /// The model being trained, which must contain a ScoresActivation layer.
    public let model: any Layer
    /// Feature names of each snapshot (nil: `x0`, `x1`, …).
    public let featureNames: [String]?
    /// One readout per completed epoch; `snapshots[e - 1]` is the state after epoch `e`.
    public private(set) var snapshots: [FeatureScores] = []
    /// The first error reading the scores raised (the model has no ScoresActivation), if any.
    public private(set) var error: (any Error)?

    /// An observer of `model`'s training; pass it to the training call.
    public init(model: any Layer, featureNames: [String]? = nil) {
        self.model = model
        self.featureNames = featureNames
    }

    /// Appends a readout of the scores after each epoch; after the first failure it records the
    /// error in ``error`` and stops reading.
    public func epochEnded(_ record: EpochRecord, epochs: Int) {
        guard error == nil else { return }
        do { snapshots.append(try FeatureScores.read(from: model, featureNames: featureNames)) } catch { self.error = error }
    }

    /// The first epoch (1-based) from which on, up to epoch `last` (default: the last recorded),
    /// the ranking of `readout` — restricted to the top-`k` *set* when `topK` is given — stayed
    /// what it is at epoch `last`. 1 means it never changed; nil when nothing was recorded.
    /// Pass the best epoch as `last` when training restored the best epoch's weights.
    public func stableEpoch(_ readout: ScoresReadout = .weights, topK: Int? = nil, last: Int? = nil) -> Int? {
        Self.stableEpoch(snapshots, readout, topK: topK, last: last)
    }

    /// ``stableEpoch(_:topK:last:)`` of per-epoch readouts.
    public static func stableEpoch(_ snapshots: [FeatureScores], _ readout: ScoresReadout = .weights, topK: Int? = nil,
                                   last: Int? = nil) -> Int? {
        let end = min(last ?? snapshots.count, snapshots.count)
        guard end >= 1 else { return nil }
        func key(_ s: FeatureScores) -> [Int]? {
            guard let importances = s.importances(readout) else { return nil }
            let order = Agreement.ranking(importances)
            return topK.map { Array(order.prefix($0)).sorted() } ?? order
        }
        let final = key(snapshots[end - 1])
        var epoch = end
        while epoch > 1, key(snapshots[epoch - 2]) == final { epoch -= 1 }
        return epoch
    }
}
