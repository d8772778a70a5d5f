import CKernels
import Foundation
import GlassboxNN
import Synchronization

/// A model as the explainers see it: a batched function `f: [n, features] → [n, outputs]`.
///
/// Build one from a ``Layer`` for its logits (``logits(of:features:)``) or class probabilities
/// (``probabilities(of:features:)``), or from any closure (``init(features:outputs:concurrent:_:)``).
///
/// Evaluation is batched in chunks of ``batchRows`` rows (memory stays bounded whatever the
/// number of rows) and spread over `Compute.threads` workers. A layer-based function snapshots
/// the model when it is made: every worker owns a replica rebuilt from the model's spec with its
/// weights copied, so no layer state is shared between threads — neither what layers remember
/// (`MultiheadSelfAttention.lastAttention`) nor the parameter gradients that backward passes
/// accumulate. A model the layer registry cannot rebuild is evaluated serially on the model
/// itself. Every layer-based function evaluates through the model compiled for inference
/// (GlassboxNN's ``InferencePlan``, one per worker, compiled from that worker's replica): dense
/// chains run as fused kernels with reused buffers (a call costs about a microsecond plus the
/// arithmetic), and layers without a kernel (attention in a tabular Transformer) run their own
/// `predict` for their step. Outputs equal `Layer.predict` up to float rounding (≤ 1e-5 relative).
public struct PredictionFunction: Sendable {
    /// What the outputs are.
    public enum Output: String, Sendable, Codable {
        /// The model's raw outputs.
        case logit
        /// Softmax of the logits per row (the sigmoid for a model with a single output).
        case probability
        /// Whatever a closure computes.
        case custom
    }

    /// Columns of an input row.
    public let features: Int
    /// Columns of an output row.
    public let outputs: Int
    /// What the outputs are.
    public let output: Output
    /// Rows per model call (at least 1). Each worker holds one batch of inputs and activations
    /// at a time.
    public var batchRows: Int {
        get { rowsPerBatch }
        set { rowsPerBatch = max(1, newValue) }
    }
    private var rowsPerBatch = 512

    let engine: Engine
    let lanePool: LanePool
    /// The compiled model's leading dense layer, when it has one (every lane's plan has the same):
    /// Shapley games then compute that layer incrementally (see ``InterventionalGame``).
    let leadingDense: InferencePlan.LeadingDense?

    /// The lanes (indices into the engine's plans, replicas or closure slots) not in use.
    final class LanePool: @unchecked Sendable {
        private let condition = NSCondition()
        private var free: [Int]
        init(_ count: Int) { free = Array((0..<max(1, count)).reversed()) }

        /// A free lane, waiting for one when all are taken.
        func acquire() -> Int {
            condition.lock()
            defer { condition.unlock() }
            while free.isEmpty { condition.wait() }
            return free.removeLast()
        }

        func release(_ lane: Int) {
            condition.lock()
            free.append(lane)
            condition.unlock()
            condition.signal()
        }
    }

    enum Engine: Sendable {
        /// `plans[lane]` is lane's compiled model (empty when the model does not compile: then
        /// each lane runs its replica's `predict`).
        case layers(replicas: [Replica], plans: [InferencePlan])
        case closure(@Sendable (Tensor) throws -> Tensor, concurrent: Bool)
    }

    /// One copy of the model, used by one thread at a time.
    final class Replica: @unchecked Sendable {
        let layer: any Layer
        private let lock = NSLock()
        init(_ layer: any Layer) { self.layer = layer }
        func with<T>(_ body: (any Layer) throws -> T) rethrows -> T {
            lock.lock()
            defer { lock.unlock() }
            return try body(layer)
        }
    }

    /// The model's logits. Costs one evaluation of a zero row to learn the output width.
    public static func logits(of model: any Layer, features: Int) throws -> PredictionFunction {
        try PredictionFunction(model: model, features: features, output: .logit)
    }

    /// The model's class probabilities: softmax of its logits (sigmoid for a single logit).
    public static func probabilities(of model: any Layer, features: Int) throws -> PredictionFunction {
        try PredictionFunction(model: model, features: features, output: .probability)
    }

    /// Any function of `[n, features]` rows returning `[n, outputs]`. With `concurrent`, chunks
    /// are evaluated from several threads at once, so `evaluate` must be thread-safe. Such a
    /// function has no gradients.
    public init(features: Int, outputs: Int, concurrent: Bool = false,
                _ evaluate: @escaping @Sendable (Tensor) throws -> Tensor) throws {
        guard features > 0, outputs > 0 else {
            throw GlassboxError.invalidArgument("a prediction function needs positive feature and output counts, got \(features) and \(outputs)")
        }
        self.features = features
        self.outputs = outputs
        self.output = .custom
        self.engine = .closure(evaluate, concurrent: concurrent)
        lanePool = LanePool(concurrent ? max(1, Compute.threads) : 1)
        leadingDense = nil
    }

    private init(model: any Layer, features: Int, output: Output) throws {
        guard features > 0 else {
            throw GlassboxError.invalidArgument("a model needs a positive number of input features, got \(features)")
        }
        let probe = try model.predict(Tensor.zeros([1, features]))
        guard probe.rank == 2, probe.shape[0] == 1, probe.shape[1] > 0 else {
            throw GlassboxError.shapeMismatch("explainers need a model mapping [n, \(features)] to [n, outputs]; it maps [1, \(features)] to \(probe.shape)")
        }
        let outputs = probe.shape[1]
        let copies = (0..<max(1, Compute.threads)).compactMap { _ in PredictionFunction.replica(of: model) }
        let replicas = copies.count == max(1, Compute.threads) ? copies.map(Replica.init) : [Replica(model)]
        // One plan per replica, so a layer that runs its own predict inside a plan is never shared
        // between threads; nil when any replica does not compile.
        let plans = replicas.map { r in r.with { try? $0.compiledForInference(sampleShape: [features]) } }
        let compiled = plans.compactMap { $0 }
        self.features = features
        self.outputs = outputs
        self.output = output
        let usable = compiled.count == plans.count && compiled.allSatisfy({ $0.outputShape == [outputs] }) ? compiled : []
        self.engine = .layers(replicas: replicas, plans: usable)
        lanePool = LanePool(replicas.count)
        leadingDense = usable.first?.leadingDense()
    }

    /// A copy of `model` rebuilt from its spec with its tensors, or nil if the registry cannot rebuild it.
    private static func replica(of model: any Layer) -> (any Layer)? {
        guard let copy = try? LayerRegistry.build(model.spec) else { return nil }
        let tensors = Dictionary(model.namedTensors().map { ($0.name, $0.variable.value) }, uniquingKeysWith: { a, _ in a })
        guard (try? ModelFile.assign(tensors, to: copy, path: "model replica")) != nil else { return nil }
        return copy
    }

    /// Whether gradients with respect to the input are available (layer-based functions).
    public var isDifferentiable: Bool {
        if case .layers = engine { return true }
        return false
    }

    /// How many chunks can be evaluated at once.
    var lanes: Int {
        switch engine {
        case .layers(let replicas, let plans): return plans.isEmpty ? replicas.count : plans.count
        case .closure(_, let concurrent): return concurrent ? max(1, Compute.threads) : 1
        }
    }

    /// `f(x)` for `x` of shape `[n, features]`: `[n, outputs]`. Cost: n model evaluations.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try checkInput(x, "input")
        let n = x.shape[0]
        var out = [Float](repeating: 0, count: n * outputs)
        let chunks = (n + batchRows - 1) / batchRows
        try x.scalars.withUnsafeBufferPointer { source in
            try out.withUnsafeMutableBufferPointer { target in
                let (src, dst) = (source.baseAddress!, target.baseAddress!)
                try stream(chunks: chunks, maxRows: batchRows, fill: { chunk, input in
                    let lo = chunk * batchRows, rows = min(batchRows, n - lo)
                    input.update(from: src + lo * features, count: rows * features)
                    return rows
                }, consume: { chunk, output, rows in
                    (dst + chunk * batchRows * outputs).update(from: output, count: rows * outputs)
                })
            }
        }
        return Tensor(uncheckedShape: [n, outputs], scalars: out)
    }

    func checkInput(_ x: Tensor, _ what: String) throws {
        guard x.rank == 2, x.shape[1] == features else {
            throw GlassboxError.shapeMismatch("\(what) must be [n, \(features)] (the model's features), got \(x.shape)")
        }
        try x.checkFinite(what)
    }

    /// Evaluates `chunks` batches: `fill(chunk, input)` writes the rows of batch `chunk` into
    /// `input` (room for `maxRows × features`) and returns how many it wrote; `consume(chunk,
    /// output, rows)` receives their `[rows, outputs]` values. Batches run concurrently on up to
    /// `Compute.threads` workers, so `fill` and `consume` must touch only memory of their chunk.
    /// Non-finite outputs throw, and so does an interruption (Ctrl-C) between batches.
    func stream(chunks: Int, maxRows: Int,
                fill: (_ chunk: Int, _ input: UnsafeMutablePointer<Float>) -> Int,
                consume: (_ chunk: Int, _ output: UnsafePointer<Float>, _ rows: Int) -> Void) throws {
        try forEachChunk(chunks, inputRows: maxRows, outputRows: maxRows, evaluate: { lane, chunk, input, output in
            let rows = fill(chunk, input)
            try evaluate(lane: lane, rows: rows, input: input, output: output)
            return rows
        }, consume: consume)
    }

    /// ``stream(chunks:maxRows:fill:consume:)`` for a model with a ``leadingDense`` layer: chunk
    /// `c` has `rows(c)` samples (at most `maxRows`), and instead of their inputs `fill(c, range,
    /// h, stride)` writes that layer's activated outputs for the samples `range` of the chunk
    /// (see ``InferencePlan/predictAfterLeadingDense(_:batch:fill:into:)``).
    func streamAfterLeadingDense(chunks: Int, maxRows: Int, rows: (_ chunk: Int) -> Int,
                                 fill: (_ chunk: Int, _ samples: Range<Int>, _ h: UnsafeMutablePointer<Float>, _ stride: Int) -> Void,
                                 consume: (_ chunk: Int, _ output: UnsafePointer<Float>, _ rows: Int) -> Void) throws {
        guard let leadingDense, case .layers(_, let plans) = engine, !plans.isEmpty else {
            throw GlassboxError.invalidArgument("this prediction function has no compiled leading dense layer")
        }
        try forEachChunk(chunks, inputRows: 0, outputRows: maxRows, evaluate: { lane, chunk, _, output in
            let count = rows(chunk)
            try plans[lane].predictAfterLeadingDense(leadingDense, batch: count, fill: { fill(chunk, $0, $1, $2) }, into: output)
            try finish(rows: count, output)
            return count
        }, consume: consume)
    }

    /// The worker loop of the streams: chunks claimed dynamically by up to `lanes` workers, each
    /// holding one lane and buffers of `inputRows`/`outputRows` rows; `evaluate(lane, chunk,
    /// input, output)` returns the rows it wrote.
    private func forEachChunk(_ chunks: Int, inputRows: Int, outputRows: Int,
                              evaluate: (_ lane: Int, _ chunk: Int, _ input: UnsafeMutablePointer<Float>,
                                         _ output: UnsafeMutablePointer<Float>) throws -> Int,
                              consume: (_ chunk: Int, _ output: UnsafePointer<Float>, _ rows: Int) -> Void) throws {
        guard chunks > 0 else { return }
        let workers = min(lanes, chunks)
        let next = Atomic<Int>(0)
        let failed = Atomic<Bool>(false)
        var errors = [(any Error)?](repeating: nil, count: workers)
        errors.withUnsafeMutableBufferPointer { errorSlots in
            Compute.parallelFor(workers) { worker in
                // A lane (plan, replica) held for this worker's whole share: when the caller
                // already runs in parallel (one explained row per task), the pool hands each task
                // a different lane and blocks rather than share one.
                let lane = lanePool.acquire()
                defer { lanePool.release(lane) }
                var input = [Float](repeating: 0, count: max(1, inputRows * features))
                var output = [Float](repeating: 0, count: max(1, outputRows * outputs))
                input.withUnsafeMutableBufferPointer { inputBuffer in
                    output.withUnsafeMutableBufferPointer { outputBuffer in
                        while !failed.load(ordering: .relaxed) {
                            let chunk = next.wrappingAdd(1, ordering: .relaxed).oldValue
                            guard chunk < chunks else { break }
                            do {
                                try Interruption.check("after \(chunk) of \(chunks) model batches")
                                let rows = try evaluate(lane, chunk, inputBuffer.baseAddress!, outputBuffer.baseAddress!)
                                consume(chunk, outputBuffer.baseAddress!, rows)
                            } catch {
                                errorSlots[worker] = error
                                failed.store(true, ordering: .relaxed)
                            }
                        }
                    }
                }
            }
        }
        if let error = errors.lazy.compactMap({ $0 }).first { throw error }
    }

    /// Runs the model on the first `rows` rows of `input`, writing `[rows, outputs]` to `output`.
    private func evaluate(lane: Int, rows: Int, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) throws {
        switch engine {
        case .layers(let replicas, let plans):
            if !plans.isEmpty {
                try plans[lane].predict(input, batch: rows, into: output)
            } else {
                let x = Tensor(uncheckedShape: [rows, features], scalars: Array(UnsafeBufferPointer(start: input, count: rows * features)))
                let y = try replicas[lane].with { try $0.predict(x) }
                try copy(y, rows: rows, into: output)
            }
        case .closure(let f, _):
            let x = Tensor(uncheckedShape: [rows, features], scalars: Array(UnsafeBufferPointer(start: input, count: rows * features)))
            try copy(try f(x), rows: rows, into: output)
        }
        try finish(rows: rows, output)
    }

    /// Checks `rows` model outputs are finite and applies the output transform.
    private func finish(rows: Int, _ o: UnsafeMutablePointer<Float>) throws {
        let count = rows * outputs
        if gb_all_finite(o, count) == 0 {
            for i in 0..<count where !o[i].isFinite {
                throw GlassboxError.nonFinite("model output \(o[i]) for a row of the batch (row \(i / outputs), output \(i % outputs))")
            }
        }
        if output == .probability { RowSoftmax.apply(o, rows: rows, width: outputs) }
    }

    /// Softmax of each row of `[n, outputs]` logits (the sigmoid for one output), shifted by the
    /// row maximum so `exp` cannot overflow, with one vectorised `exp` over the whole batch: a
    /// softmax per row costs more than the model for narrow outputs.
    static func probabilities(fromLogits logits: consuming Tensor) -> Tensor {
        let (n, width) = (logits.shape[0], logits.shape[1])
        if width == 1 { return sigmoid(Variable(logits)).value }
        var shifted = logits
        shifted.scalars.withUnsafeMutableBufferPointer { buffer in
            for r in 0..<n {
                let row = buffer.baseAddress! + r * width
                var m = row[0]
                for j in 1..<width { m = max(m, row[j]) }
                for j in 0..<width { row[j] -= m }
            }
        }
        var p = exp(Variable(shifted)).value
        p.scalars.withUnsafeMutableBufferPointer { buffer in
            for r in 0..<n {
                let row = buffer.baseAddress! + r * width
                var sum: Float = 0
                for j in 0..<width { sum += row[j] }
                for j in 0..<width { row[j] /= sum }
            }
        }
        return p
    }

    func copy(_ y: Tensor, rows: Int, into output: UnsafeMutablePointer<Float>) throws {
        guard y.shape == [rows, outputs] else {
            throw GlassboxError.shapeMismatch("the model returned \(y.shape) for [\(rows), \(features)] inputs; expected [\(rows), \(outputs)]")
        }
        y.scalars.withUnsafeBufferPointer { output.update(from: $0.baseAddress!, count: y.count) }
    }
}
