import Foundation
import Testing
@testable import GlassboxNN

/// Two Gaussian blobs in the plane, centred at (−1.5, −1.5) (class 0) and (1.5, 1.5) (class 1).
private func blobs(_ n: Int, seed: UInt64, std: Float = 0.7) -> (inputs: Tensor, labels: [Int]) {
    var rng = SeededGenerator(seed: seed)
    var x: [Float] = [], y: [Int] = []
    for i in 0..<n {
        let label = i % 2, centre: Float = label == 0 ? -1.5 : 1.5
        x += [centre + std * Float(rng.normal()), centre + std * Float(rng.normal())]
        y.append(label)
    }
    return (Tensor(uncheckedShape: [n, 2], scalars: x), y)
}

private func smallMLP(seed: UInt64 = 1, dropout: Double? = nil) throws -> Sequential {
    var rng = SeededGenerator(seed: seed)
    let hidden: [any Layer] = [try Linear(inFeatures: 2, outFeatures: 16, rng: &rng), ReLU()]
    return Sequential(hidden + (try dropout.map { [try Dropout(p: $0)] } ?? [])
                      + [try Linear(inFeatures: 16, outFeatures: 2, rng: &rng)])
}

private func weights(_ model: any Layer) -> [Tensor] { model.namedTensors().map(\.variable.value) }

/// Counts the observer calls.
private final class RecordingObserver: TrainingObserver {
    var batches: [BatchProgress] = [], epochs: [EpochRecord] = []
    func batchEnded(_ progress: BatchProgress) { batches.append(progress) }
    func epochEnded(_ record: EpochRecord, epochs: Int) { self.epochs.append(record) }
}

@Suite("Trainer")
struct TrainerTests {
    @Test func learnsSeparableBlobs() throws {
        let train = blobs(200, seed: 1), test = blobs(100, seed: 2)
        let model = try smallMLP()
        let observer = RecordingObserver()
        let config = TrainingConfig(epochs: 15, batchSize: 16, seed: 3, optimizer: .adam(learningRate: 0.01),
                                    schedule: .cosine(tMax: 15), clipNorm: 5)
        let history = try Trainer.fit(model: model, inputs: train.inputs, labels: train.labels,
                                      validation: test, config: config, observer: observer)
        #expect(history.epochs.count == 15 && !history.stoppedEarly)
        #expect(history.epochs.last!.trainLoss < history.epochs.first!.trainLoss)
        #expect(history.epochs.last!.validationAccuracy! >= 0.95)
        #expect(observer.batches.count == 15 * 13 && observer.epochs == history.epochs)
        #expect(observer.batches[12].rowsDone == 200 && observer.batches[12].batch == 13)
        #expect(history.epochs[1].learningRate == LearningRateSchedule.cosine(tMax: 15).learningRate(base: 0.01, epoch: 1))

        let (loss, accuracy) = try Trainer.evaluate(model: model, inputs: test.inputs, labels: test.labels, batchSize: 16)
        #expect(accuracy >= 0.95 && loss == history.epochs.last!.validationLoss!)
        let classes = try Trainer.predictClasses(model: model, inputs: test.inputs, batchSize: 7)
        #expect(Float(zip(classes, test.labels).filter { $0 == $1 }.count) / 100 == accuracy)
        let probabilities = try Trainer.predictProbabilities(model: model, inputs: test.inputs, batchSize: 64)
        #expect(probabilities.shape == [100, 2])
        for r in 0..<100 {
            let (p0, p1) = (probabilities.scalars[2 * r], probabilities.scalars[2 * r + 1])
            #expect(abs(p0 + p1 - 1) < 1e-6 && (p1 > p0 ? 1 : 0) == classes[r])
        }
    }

    @Test func trainingIsDeterministic() throws {
        let data = blobs(60, seed: 4)
        let config = TrainingConfig(epochs: 3, batchSize: 8, seed: 11, optimizer: .sgd(learningRate: 0.05, momentum: 0.9))
        var runs: [[Tensor]] = []
        for seed in [11, 11, 12] as [UInt64] {
            // Dropout too: its masks come from the per-batch seeds.
            let model = try smallMLP(dropout: 0.3)
            var c = config
            c.seed = seed
            _ = try Trainer.fit(model: model, inputs: data.inputs, labels: data.labels, config: c)
            runs.append(weights(model))
        }
        #expect(runs[0] == runs[1], "same seed, same threads: bit-identical weights")
        #expect(runs[0] != runs[2], "another seed shuffles differently")
    }

    /// Validation labels are the training labels flipped, so validation loss rises as training
    /// succeeds: the best epoch is the first, and its weights must come back.
    @Test func earlyStoppingRestoresBestWeights() throws {
        let data = blobs(64, seed: 5)
        let flipped = (inputs: data.inputs, labels: data.labels.map { 1 - $0 })
        var config = TrainingConfig(epochs: 20, batchSize: 16, seed: 6, optimizer: .adam(learningRate: 0.02),
                                    earlyStoppingPatience: 2)
        let model = try smallMLP()
        let history = try Trainer.fit(model: model, inputs: data.inputs, labels: data.labels, validation: flipped,
                                      config: config)
        #expect(history.stoppedEarly && history.restoredBestWeights)
        #expect(history.bestEpoch == 1 && history.epochs.count == 3)
        #expect(history.epochs[2].validationLoss! > history.epochs[0].validationLoss!)

        config.epochs = 1
        config.earlyStoppingPatience = nil
        let reference = try smallMLP()
        _ = try Trainer.fit(model: reference, inputs: data.inputs, labels: data.labels, config: config)
        #expect(weights(model) == weights(reference))
    }

    /// A learning rate that explodes in epoch `badEpoch` (from the start, or through a step
    /// schedule) must stop training there and leave the weights of the epoch before.
    @Test(arguments: [1, 3])
    func divergenceRestoresLastGoodEpoch(_ badEpoch: Int) throws {
        let data = blobs(64, seed: 7)
        var config = badEpoch == 1
            ? TrainingConfig(epochs: 5, batchSize: 16, optimizer: .sgd(learningRate: 1e30))
            : TrainingConfig(epochs: 5, batchSize: 16, optimizer: .sgd(learningRate: 0.05),
                             schedule: .step(stepSize: badEpoch - 1, gamma: 1e31))
        let model = try smallMLP()
        do {
            _ = try Trainer.fit(model: model, inputs: data.inputs, labels: data.labels, config: config)
            Issue.record("training did not diverge")
        } catch let GlassboxError.numerical(message) {
            #expect(message.hasPrefix("training diverged at epoch \(badEpoch), batch "), "\(message)")
            // Said in words, not as a printed float ("loss = -nan").
            #expect(!message.contains("nan"), "\(message)")
        }
        let reference = try smallMLP()
        if badEpoch > 1 {
            config.epochs = badEpoch - 1
            _ = try Trainer.fit(model: reference, inputs: data.inputs, labels: data.labels, config: config)
        }
        #expect(weights(model) == weights(reference))
        #expect(weights(model).allSatisfy { $0.isFinite })
    }

    /// Stops in the middle of epoch 3, as Ctrl-C does.
    private final class StopMidway: TrainingObserver {
        var stopRequested = false
        func batchEnded(_ progress: BatchProgress) { stopRequested = progress.epoch == 3 && progress.batch == 2 }
    }

    @Test func stopRequestKeepsLastCompletedEpoch() throws {
        let data = blobs(64, seed: 7)
        let config = TrainingConfig(epochs: 5, batchSize: 16, optimizer: .sgd(learningRate: 0.05))
        let model = try smallMLP()
        do {
            _ = try Trainer.fit(model: model, inputs: data.inputs, labels: data.labels, config: config,
                                observer: StopMidway())
            Issue.record("training was not stopped")
        } catch let GlassboxError.cancelled(message) {
            #expect(message.contains("stopped at the end of epoch 3, batch 2"), "\(message)")
        }
        var twoEpochs = config
        twoEpochs.epochs = 2
        let reference = try smallMLP()
        _ = try Trainer.fit(model: reference, inputs: data.inputs, labels: data.labels, config: twoEpochs)
        #expect(weights(model) == weights(reference))
    }

    @Test func badInputsThrowBeforeTraining() throws {
        let data = blobs(10, seed: 8)
        let model = try smallMLP()
        let initial = weights(model)
        var nan = data.inputs
        nan.scalars[7] = .nan
        func fit(_ x: Tensor, _ y: [Int], validation: (inputs: Tensor, labels: [Int])? = nil,
                 config: TrainingConfig = TrainingConfig(epochs: 1)) throws {
            _ = try Trainer.fit(model: model, inputs: x, labels: y, validation: validation, config: config)
        }
        #expect(throws: GlassboxError.nonFinite("training inputs: row 3 has nan at feature 1")) {
            try fit(nan, data.labels)
        }
        #expect(throws: GlassboxError.self) { try fit(Tensor.zeros([0, 2]), []) }
        #expect(throws: GlassboxError.self) { try fit(data.inputs, Array(data.labels.dropLast())) }
        #expect(throws: GlassboxError.self) { try fit(data.inputs, data.labels.map { $0 - 1 }) }
        #expect(throws: GlassboxError.self) { try fit(data.inputs, data.labels, validation: (Tensor.zeros([4, 3]), [0, 1, 0, 1])) }
        #expect(throws: GlassboxError.self) { try fit(data.inputs, data.labels, validation: (nan, data.labels)) }
        #expect(throws: GlassboxError.self) { try fit(data.inputs, data.labels, config: TrainingConfig(batchSize: 0)) }
        #expect(throws: GlassboxError.self) {
            try fit(data.inputs, data.labels, config: TrainingConfig(earlyStoppingPatience: 3))
        }
        #expect(throws: GlassboxError.self) { try fit(data.inputs, data.labels.map { $0 * 5 }) }
        #expect(weights(model) == initial)
    }

    @Test func tiedWeightsAreSteppedOnce() throws {
        var rng = SeededGenerator(seed: 2)
        let shared = try Linear(inFeatures: 2, outFeatures: 2, rng: &rng)
        let model = Sequential([shared, ReLU(), shared])
        #expect(model.namedParameters().count == 4)
        let data = blobs(32, seed: 9)
        // The optimisers reject a parameter listed twice, so this only succeeds if fit dedupes.
        _ = try Trainer.fit(model: model, inputs: data.inputs, labels: data.labels, config: TrainingConfig(epochs: 1))
    }

    @Test func configJSONUsesDefaultsForMissingKeys() throws {
        let json = #"{"epochs": 4, "optimizer": {"type": "sgd", "learningRate": 0.1, "momentum": 0.9}}"#
        let config = try JSONDecoder().decode(TrainingConfig.self, from: Data(json.utf8))
        #expect(config == TrainingConfig(epochs: 4, optimizer: .sgd(learningRate: 0.1, momentum: 0.9)))
        let full = TrainingConfig(epochs: 2, batchSize: 5, seed: 9, optimizer: .adamW(weightDecay: 0.1),
                                  schedule: .step(stepSize: 2, gamma: 0.5), clipNorm: 1, earlyStoppingPatience: 3,
                                  minDelta: 0.01, monitor: .validationAccuracy, restoreBestWeights: false)
        #expect(try JSONDecoder().decode(TrainingConfig.self, from: JSONEncoder().encode(full)) == full)
        let history = TrainingHistory(epochs: [EpochRecord(epoch: 1, trainLoss: 0.5, trainAccuracy: 0.75,
                                                           validationLoss: nil, validationAccuracy: nil,
                                                           learningRate: 0.001, seconds: 0.25)])
        #expect(try JSONDecoder().decode(TrainingHistory.self, from: JSONEncoder().encode(history)) == history)
    }

    @Test func progressText() throws {
        var lines: [String] = []
        let logger = LineLogger { lines.append($0) }
        let record = EpochRecord(epoch: 3, trainLoss: 0.43125, trainAccuracy: 0.912, validationLoss: 0.5,
                                 validationAccuracy: 0.875, learningRate: 0.001, seconds: 1.234)
        logger.epochEnded(record, epochs: 20)
        #expect(lines == ["epoch 3/20: loss 0.4313, accuracy 91.20%, validation loss 0.5000, validation accuracy 87.50%, lr 0.001, 1.23 s"])
        let bar = ProgressBar(total: 3750, label: "epoch 3/20", unit: "rows", enabled: false)
        #expect(bar.line(completed: 1875, rate: 3750, detail: "loss 0.4312")
            == "epoch 3/20 [██████████··········] 1875/3750 rows  3.8k rows/s  ETA 0:01  loss 0.4312")
        #expect(ProgressBar.compact(245_300) == "245k" && ProgressBar.duration(3723) == "1:02:03")
    }
}
