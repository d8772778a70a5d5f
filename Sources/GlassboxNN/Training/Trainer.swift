import Foundation

/// A classification loss: logits `[batch, classes]` and one label per row → the mean loss over
/// the batch (a single-element value). ``crossEntropy(_:labels:)`` is the default.
public typealias LossFunction = (Variable, [Int]) throws -> Variable

/// Mini-batch training and batched evaluation of classifiers.
///
/// A model maps a batch of rows `[n, …]` to logits `[n, classes]`. Training is deterministic:
/// the shuffling permutation of each epoch and the randomness of each batch's forward pass
/// (dropout) derive from `config.seed`, so the same seed and the same `Compute.threads` give
/// bit-identical weights.
public enum Trainer {
    /// Trains `model` in place and returns the per-epoch history.
    ///
    /// Each epoch: shuffle the rows, then per mini-batch (the last may be partial) run the model in
    /// training mode, compute `loss`, back-propagate, optionally clip gradients, step the
    /// optimiser; then evaluate on `validation` in inference mode, apply the learning-rate schedule
    /// and early stopping.
    ///
    /// Failures: inconsistent or non-finite data and invalid settings throw before any training.
    /// A non-finite loss or parameter stops training with ``GlassboxError/numerical(_:)`` naming the
    /// epoch and batch. Whenever training throws, the model holds the weights and buffers of the
    /// last completed epoch (the initial ones if none completed) — never NaN.
    public static func fit(model: any Layer, inputs: Tensor, labels: [Int],
                           validation: (inputs: Tensor, labels: [Int])? = nil,
                           config: TrainingConfig = TrainingConfig(),
                           loss: LossFunction = { try crossEntropy($0, labels: $1) },
                           observer: (any TrainingObserver)? = nil) throws -> TrainingHistory {
        try config.validate()
        let train = try Rows(inputs, labels: labels, "training")
        let valid = try validation.map { try Rows($0.inputs, labels: $0.labels, "validation") }
        if let valid, valid.rowShape != train.rowShape {
            throw GlassboxError.shapeMismatch(
                "validation rows have shape \(valid.rowShape) but training rows have \(train.rowShape)")
        }
        if config.earlyStoppingPatience != nil, config.monitor != .trainingLoss, valid == nil {
            throw GlassboxError.invalidArgument(
                "early stopping monitors \(config.monitor.rawValue) but no validation data was given")
        }
        // A parameter shared by two layers (tied weights) is listed twice but must be stepped once.
        var seen = Set<ObjectIdentifier>()
        let named = model.namedParameters().filter { seen.insert(ObjectIdentifier($0.variable)).inserted }
        guard !named.isEmpty else { throw GlassboxError.invalidArgument("the model has no trainable parameters") }
        let optimizer = try config.optimizer.make(named.map(\.variable))
        let saved = model.namedTensors()

        var lastGood = saved.map(\.variable.value)
        var best: (score: Float, epoch: Int, weights: [Tensor])?
        var epochsWithoutImprovement = 0
        var history = TrainingHistory()
        var shuffler = SeededGenerator(seed: derivedSeed(config.seed, 0, 0))
        let n = train.count
        do {
            for epoch in 0..<config.epochs {
                let started = DispatchTime.now().uptimeNanoseconds
                let learningRate = config.schedule.learningRate(base: config.optimizer.learningRate, epoch: epoch)
                optimizer.learningRate = learningRate
                let (lossSum, correct) = try trainEpoch(
                    epoch, model: model, data: train, order: shuffler.permutation(n), config: config,
                    optimizer: optimizer, parameters: named, loss: loss, observer: observer)
                lastGood = saved.map(\.variable.value)
                let validationResult = try valid.map { try evaluate(model, $0, batchSize: config.batchSize, loss: loss) }
                let record = EpochRecord(
                    epoch: epoch + 1, trainLoss: Float(lossSum / Double(n)), trainAccuracy: Float(correct) / Float(n),
                    validationLoss: validationResult?.loss, validationAccuracy: validationResult?.accuracy,
                    learningRate: learningRate,
                    seconds: Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9)
                history.epochs.append(record)
                observer?.epochEnded(record, epochs: config.epochs)

                guard let patience = config.earlyStoppingPatience else { continue }
                let score = monitoredScore(record, config.monitor)
                if score.isFinite, best == nil || score < best!.score - config.minDelta {
                    best = (score, epoch, lastGood)
                    epochsWithoutImprovement = 0
                } else {
                    epochsWithoutImprovement += 1
                    if epochsWithoutImprovement >= patience {
                        history.stoppedEarly = epoch + 1 < config.epochs
                        break
                    }
                }
            }
        } catch {
            restore(saved, lastGood)
            throw error
        }
        if let best {
            history.bestEpoch = best.epoch + 1
            if config.restoreBestWeights, best.epoch + 1 != history.epochs.count {
                restore(saved, best.weights)
                history.restoredBestWeights = true
            }
        }
        return history
    }

    /// Mean loss and accuracy of `model` on labelled data, in inference mode, `batchSize` rows at a time.
    public static func evaluate(model: any Layer, inputs: Tensor, labels: [Int], batchSize: Int = 256,
                                loss: LossFunction = { try crossEntropy($0, labels: $1) }) throws
        -> (loss: Float, accuracy: Float) {
        try evaluate(model, Rows(inputs, labels: labels, "evaluation"), batchSize: batchSize, loss: loss)
    }

    /// The class with the largest logit for each row (inference mode, batched).
    public static func predictClasses(model: any Layer, inputs: Tensor, batchSize: Int = 256) throws -> [Int] {
        var classes: [Int] = []
        try forEachBatch(model, Rows(inputs, labels: nil, "prediction"), batchSize: batchSize) { _, logits in
            let c = logits.shape[1]
            logits.scalars.withUnsafeBufferPointer { p in
                for r in 0..<logits.shape[0] { classes.append(argmax(p, row: r, width: c)) }
            }
        }
        return classes
    }

    /// Class probabilities `[n, classes]`: the softmax of the model's logits (inference mode, batched).
    public static func predictProbabilities(model: any Layer, inputs: Tensor, batchSize: Int = 256) throws -> Tensor {
        var probabilities: [Float] = []
        var classes = 0
        try forEachBatch(model, Rows(inputs, labels: nil, "prediction"), batchSize: batchSize) { _, logits in
            classes = logits.shape[1]
            let start = probabilities.count
            probabilities += logits.scalars
            probabilities.withUnsafeMutableBufferPointer { p in
                // Softmax per row, shifted by the row maximum so exp cannot overflow.
                var base = start
                while base < p.count {
                    var m = -Float.infinity
                    for j in base..<base + classes { m = max(m, p[j]) }
                    var s: Float = 0
                    for j in base..<base + classes { p[j] = exp(p[j] - m); s += p[j] }
                    for j in base..<base + classes { p[j] /= s }
                    base += classes
                }
            }
        }
        return Tensor(uncheckedShape: [probabilities.count / max(classes, 1), classes], scalars: probabilities)
    }

    // MARK: internals

    /// One pass over the training rows in `order`: returns the loss summed over rows and the
    /// number of rows classified correctly.
    private static func trainEpoch(_ epoch: Int, model: any Layer, data: Rows, order: [Int], config: TrainingConfig,
                                   optimizer: any Optimizer, parameters named: [(name: String, variable: Variable)],
                                   loss: LossFunction, observer: (any TrainingObserver)?) throws
        -> (lossSum: Double, correct: Int) {
        let parameters = named.map(\.variable)
        let n = data.count, batchSize = config.batchSize
        let batches = (n + batchSize - 1) / batchSize
        var lossSum = 0.0, correct = 0
        for batch in 0..<batches {
            let rows = order[batch * batchSize..<min(n, (batch + 1) * batchSize)]
            let (x, y) = data.gather(rows)
            optimizer.zeroGrad()
            let context = ForwardContext(training: true,
                                         seed: derivedSeed(config.seed, UInt64(epoch + 1), UInt64(batch + 1)))
            let step = try forwardBackward(model, x, y, context: context, loss: loss)
            guard step.loss.isFinite else {
                throw divergence(epoch, batch, step.loss.isNaN ? "the loss is NaN" : "the loss is \(step.loss > 0 ? "+" : "−")infinite")
            }
            if let maxNorm = config.clipNorm { try clipGradientNorm(parameters, maxNorm: maxNorm) }
            try optimizer.step()
            if let bad = named.first(where: { !allFinite($0.variable.value) }) {
                throw divergence(epoch, batch, "parameter \(bad.name) is not finite after the optimizer step")
            }
            lossSum += Double(step.loss) * Double(y.count)
            correct += step.correct
            observer?.batchEnded(BatchProgress(
                epoch: epoch + 1, epochs: config.epochs, batch: batch + 1, batches: batches,
                rowsDone: rows.endIndex, rows: n, loss: Float(lossSum / Double(rows.endIndex))))
            if Interruption.isRequested || observer?.stopRequested == true {
                throw GlassboxError.cancelled("training stopped at the end of epoch \(epoch + 1), batch \(batch + 1)")
            }
        }
        return (lossSum, correct)
    }

    /// One training forward and backward pass. The graph is released on return, before the
    /// optimiser writes the parameters (which would otherwise copy every captured weight).
    private static func forwardBackward(_ model: any Layer, _ x: Tensor, _ y: [Int], context: ForwardContext,
                                        loss: LossFunction) throws -> (loss: Float, correct: Int) {
        let logits = try model.forward(Variable(x), context: context)
        try checkLogits(logits.value, rows: y.count)
        let value = try lossValue(loss(logits, y))
        if value.value.isFinite { try value.variable.backward() }
        return (value.value, countCorrect(logits.value, y))
    }

    private static func evaluate(_ model: any Layer, _ data: Rows, batchSize: Int, loss: LossFunction) throws
        -> (loss: Float, accuracy: Float) {
        var lossSum = 0.0, correct = 0
        try forEachBatch(model, data, batchSize: batchSize) { range, logits in
            let y = Array(data.labels[range])
            lossSum += Double(try lossValue(loss(Variable(logits), y)).value) * Double(range.count)
            correct += countCorrect(logits, y)
        }
        return (Float(lossSum / Double(data.count)), Float(correct) / Float(data.count))
    }

    /// Runs the model in inference mode over consecutive batches, passing each row range and its logits.
    private static func forEachBatch(_ model: any Layer, _ data: Rows, batchSize: Int,
                                     _ body: (Range<Int>, Tensor) throws -> Void) throws {
        guard batchSize >= 1 else { throw GlassboxError.invalidArgument("batch size must be ≥ 1, got \(batchSize)") }
        let context = ForwardContext(training: false)
        for lo in stride(from: 0, to: data.count, by: batchSize) {
            let range = lo..<min(data.count, lo + batchSize)
            let logits = try model.forward(Variable(data.slice(range)), context: context).value
            try checkLogits(logits, rows: range.count)
            try body(range, logits)
        }
    }

    private static func lossValue(_ loss: Variable) throws -> (variable: Variable, value: Float) {
        guard loss.value.count == 1 else {
            throw GlassboxError.shapeMismatch("the loss must be a single number, got shape \(loss.shape)")
        }
        return (loss, loss.value.scalars[0])
    }

    private static func checkLogits(_ logits: Tensor, rows: Int) throws {
        guard logits.rank == 2, logits.shape[0] == rows, logits.shape[1] >= 1 else {
            throw GlassboxError.shapeMismatch(
                "the model must output logits [batch, classes]; got \(logits.shape) for a batch of \(rows) rows")
        }
    }

    private static func countCorrect(_ logits: Tensor, _ labels: [Int]) -> Int {
        let c = logits.shape[1]
        return logits.scalars.withUnsafeBufferPointer { p in
            var correct = 0
            for (r, label) in labels.enumerated() where argmax(p, row: r, width: c) == label { correct += 1 }
            return correct
        }
    }

    /// Index of the largest entry of row `row` (first one on ties, as `torch.argmax`).
    private static func argmax(_ p: UnsafeBufferPointer<Float>, row: Int, width: Int) -> Int {
        let base = row * width
        var best = 0
        for j in 1..<max(width, 1) where p[base + j] > p[base + best] { best = j }
        return best
    }

    /// Lower is better.
    private static func monitoredScore(_ record: EpochRecord, _ monitor: TrainingConfig.Monitor) -> Float {
        switch monitor {
        case .validationLoss: return record.validationLoss ?? .nan
        case .validationAccuracy: return -(record.validationAccuracy ?? .nan)
        case .trainingLoss: return record.trainLoss
        }
    }

    private static func divergence(_ epoch: Int, _ batch: Int, _ what: String) -> GlassboxError {
        .numerical("training diverged at epoch \(epoch + 1), batch \(batch + 1): \(what)")
    }

    private static func restore(_ saved: [(name: String, variable: Variable)], _ values: [Tensor]) {
        for (entry, value) in zip(saved, values) {
            entry.variable.value = value
            entry.variable.grad = nil
        }
    }

    /// A seed for one (epoch, batch) stream, decorrelated from the others by SplitMix.
    static func derivedSeed(_ seed: UInt64, _ epoch: UInt64, _ batch: UInt64) -> UInt64 {
        var rng = SeededGenerator(seed: seed ^ (epoch &* 0x9E37_79B9_7F4A_7C15) ^ (batch &* 0xD1B5_4A32_D192_ED03))
        return rng.next()
    }
}

/// Labelled (or unlabelled) rows: the leading axis of a tensor, validated once.
private struct Rows {
    let inputs: Tensor
    let labels: [Int]
    let count: Int, rowShape: [Int], rowSize: Int

    init(_ inputs: Tensor, labels: [Int]?, _ what: String) throws {
        guard inputs.rank >= 1, inputs.shape[0] > 0 else {
            throw GlassboxError.invalidArgument("\(what) data is empty (inputs have shape \(inputs.shape))")
        }
        count = inputs.shape[0]
        rowShape = Array(inputs.shape.dropFirst())
        rowSize = inputs.count / count
        guard rowSize > 0 else {
            throw GlassboxError.invalidArgument("\(what) rows are empty (inputs have shape \(inputs.shape))")
        }
        if let labels {
            guard labels.count == count else {
                throw GlassboxError.shapeMismatch(
                    "\(what) inputs have \(count) rows (shape \(inputs.shape)) but there are \(labels.count) labels")
            }
            if let bad = labels.firstIndex(where: { $0 < 0 }) {
                throw GlassboxError.invalidArgument("\(what) label of row \(bad) is \(labels[bad]); labels must be ≥ 0")
            }
        }
        if !allFinite(inputs), let bad = inputs.scalars.firstIndex(where: { !$0.isFinite }) {
            throw GlassboxError.nonFinite(
                "\(what) inputs: row \(bad / rowSize) has \(inputs.scalars[bad]) at feature \(bad % rowSize)")
        }
        self.inputs = inputs
        self.labels = labels ?? []
    }

    /// The rows at `indices` as a batch `[indices.count, …]`, with their labels.
    func gather(_ indices: ArraySlice<Int>) -> (Tensor, [Int]) {
        let size = rowSize
        let x = [Float](unsafeUninitializedCapacity: indices.count * size) { out, initialized in
            inputs.scalars.withUnsafeBufferPointer { src in
                for (k, row) in indices.enumerated() {
                    (out.baseAddress! + k * size).initialize(from: src.baseAddress! + row * size, count: size)
                }
            }
            initialized = indices.count * size
        }
        return (Tensor(uncheckedShape: [indices.count] + rowShape, scalars: x), indices.map { labels[$0] })
    }

    /// Consecutive rows as a batch.
    func slice(_ range: Range<Int>) -> Tensor {
        Tensor(uncheckedShape: [range.count] + rowShape,
               scalars: Array(inputs.scalars[range.lowerBound * rowSize..<range.upperBound * rowSize]))
    }
}

/// Whether every element is finite, in one branch-free pass: `v·0` is 0 for finite `v` and
/// NaN otherwise, so the lane sums stay 0 exactly when all elements are finite.
private func allFinite(_ t: Tensor) -> Bool {
    t.scalars.withUnsafeBufferPointer { p in
        var lanes = SIMD8<Float>()
        let whole = p.count / 8 * 8
        var i = 0
        while i < whole {
            lanes += UnsafeRawPointer(p.baseAddress! + i).loadUnaligned(as: SIMD8<Float>.self) * 0
            i += 8
        }
        var tail: Float = 0
        while i < p.count { tail += p[i] * 0; i += 1 }
        return lanes == SIMD8() && tail == 0
    }
}
