import Foundation

/// A model compiled for fast inference on samples of one shape: the forward pass of
/// ``Layer/predict(_:)`` without a graph, as a flat list of kernels over preallocated buffers.
///
/// What compilation does (see ``steps`` for the result):
/// - every `Conv2d` runs as a direct channels-last convolution with weights packed once
///   (`CKernels/conv_direct.c`: no im2col copy), and every `Linear` on the same kernel;
/// - a following `BatchNorm` (running statistics) is folded into their weights and bias, a
///   following `ReLU`/`LeakyReLU` runs in their epilogue, and a `MaxPool2d` after a convolution
///   pools the convolved image while it is still in cache; `Dropout` disappears;
/// - `Flatten` of a channels-last image keeps that order and permutes the next `Linear`'s
///   columns instead of transposing;
/// - layers without a kernel here (attention, embeddings, anything added later) run their own
///   `predict` for that step, so any valid model compiles.
///
/// Execution: a call's batch is split into contiguous shares, one per worker of `Compute.threads`
/// when it has at least ~1 MFLOP per worker (else it runs on the calling thread alone), and each
/// worker runs every step over chunks of its share with buffers of its own — so no step waits for
/// another worker. Once a plan has run a batch size, calls of that size or smaller allocate
/// nothing (except in fallback steps). Results do not depend on the batch size, the split or the
/// thread count: every sample goes through the same arithmetic wherever it lands.
///
/// The plan snapshots the weights: compile again after training the model further.
///
/// Observation (the hook point for per-layer masks such as ConvAD's): ``observe(_:_:)`` runs a
/// closure on a layer's output right after the step that produces it, before any later step
/// reads it, and the closure may rewrite it in place (see ``InferenceActivation``). Paths are
/// the dotted paths of ``ForwardContext`` (`"3"`, `"body.0"`). Fusion hides the outputs of
/// intermediate layers, so pass the paths you will observe as `observing` when compiling; the
/// plan then ends fused groups at those layers.
///
/// Thread safety: a plan owns mutable buffers. Calls on one plan are serialised by a lock, so
/// sharing a plan between threads is safe but not concurrent; for concurrent evaluation give
/// each thread its own ``copy()``, which shares the packed weights and owns its buffers.
public final class InferencePlan: @unchecked Sendable {
    /// Shape of one input sample (the input is `[N] + sampleShape`).
    public let sampleShape: [Int]
    /// Shape of one output sample (the output is `[N] + outputShape`).
    public let outputShape: [Int]

    /// A closure observing (and possibly rewriting) one layer's output for a chunk of samples.
    public typealias Observer = @Sendable (InferenceActivation) -> Void

    let model: any Layer
    /// nil when the model's batch axis is not a sample axis: then every call is `model.predict`.
    let program: PlanProgram?
    var workspaces: [PlanWorkspace] = []
    var observers: [[(path: String, body: Observer)]]
    let lock = NSLock()

    /// Below this much work per worker a call runs on the calling thread (handing a chunk to
    /// another core costs about a microsecond; 1 MFLOP is ≳ 10 µs of kernel time).
    static let minimumFlopsPerWorker = 1_000_000
    /// Largest chunk of image samples a worker pushes through the steps at once: large enough to
    /// amortise reading each dense layer's weights, small enough to keep activations in cache
    /// (narrow models take larger chunks, see `PlanProgram.chunkLimit`).
    static let maximumChunk = 64

    /// Compiles `model` for samples of `sampleShape`, keeping the outputs of the `observing`
    /// layer paths materialised. Throws what `model.predict` throws for a batch of such samples
    /// (the model is run once on two zero samples to check the shapes; two, so that a batch norm
    /// without running statistics has a batch to normalise).
    public init(model: any Layer, sampleShape: [Int], observing: [String] = []) throws {
        guard !sampleShape.isEmpty, sampleShape.allSatisfy({ $0 > 0 }) else {
            throw GlassboxError.invalidArgument("InferencePlan: sample shape must have positive extents, got \(sampleShape)")
        }
        let reference: Tensor
        do {
            reference = try model.predict(Tensor.zeros([2] + sampleShape))
        } catch let error as GlassboxError {
            let context = "InferencePlan for samples \(sampleShape), checked on a batch of two: "
            switch error {
            case .shapeMismatch(let m): throw GlassboxError.shapeMismatch(context + m)
            case .invalidArgument(let m): throw GlassboxError.invalidArgument(context + m)
            default: throw error
            }
        }
        self.model = model
        self.sampleShape = sampleShape
        let builder = PlanBuilder(observed: Set(observing))
        do {
            let (input, output) = try builder.build(model: model, sampleShape: sampleShape)
            let program = PlanProgram(steps: builder.steps, values: builder.values, input: input, output: output)
            guard [2] + program.output.shape == reference.shape else {
                throw GlassboxError.shapeMismatch(
                    "InferencePlan: compiled output \(program.output.shape) per sample, but the model returns \(reference.shape) for two")
            }
            self.program = program
            outputShape = program.output.shape
            observers = Array(repeating: [], count: program.steps.count)
        } catch is PlanBuilder.WholeBatch {
            program = nil
            outputShape = Array(reference.shape.dropFirst())
            observers = []
        }
    }

    /// A plan sharing this one's compiled steps and packed weights, with buffers of its own and
    /// the same observers: one per thread for concurrent evaluation.
    public func copy() -> InferencePlan { InferencePlan(sharing: self) }

    private init(sharing other: InferencePlan) {
        (model, program, sampleShape, outputShape) = (other.model, other.program, other.sampleShape, other.outputShape)
        observers = other.lock.withLock { other.observers }
    }

    /// Floats per input sample and per output sample.
    public var sampleCount: Int { sampleShape.reduce(1, *) }
    /// Floats per output sample (the product of `outputShape`).
    public var outputCount: Int { outputShape.reduce(1, *) }

    // MARK: evaluation

    /// The model's output `[N] + outputShape` for a batch `[N] + sampleShape`: equal to
    /// `model.predict(x)` up to float rounding (summation order, folded batch norm).
    public func predict(_ x: Tensor) throws -> Tensor {
        guard x.rank == sampleShape.count + 1, Array(x.shape.dropFirst()) == sampleShape else {
            throw GlassboxError.shapeMismatch(
                "InferencePlan was compiled for samples \(sampleShape) (input [N] + \(sampleShape)), got \(x.shape)")
        }
        if program == nil {
            // Not per-sample (see `init`): the model's own forward pass, whatever shape it returns.
            return try lock.withLock { try model.predict(x) }
        }
        let n = x.shape[0], count = n * outputCount
        guard count > 0 else { return Tensor(uncheckedShape: [n] + outputShape, scalars: []) }
        var failure: (any Error)?
        let scalars = [Float](unsafeUninitializedCapacity: count) { out, initialized in
            x.scalars.withUnsafeBufferPointer { px in
                do {
                    try predict(px.baseAddress!, batch: n, into: out.baseAddress!)
                } catch {
                    failure = error
                }
            }
            initialized = count
        }
        if let failure { throw failure }
        return Tensor(uncheckedShape: [n] + outputShape, scalars: scalars)
    }

    /// Evaluates `batch` samples read from `input` (`batch · sampleCount` floats, row-major
    /// `[batch] + sampleShape`) into `output` (`batch · outputCount` floats). Allocates nothing
    /// once the plan has run a batch this large.
    public func predict(_ input: UnsafePointer<Float>, batch: Int, into output: UnsafeMutablePointer<Float>) throws {
        guard batch >= 0 else { throw GlassboxError.invalidArgument("InferencePlan: negative batch size \(batch)") }
        guard batch > 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        guard let program else {
            let x = Tensor(uncheckedShape: [batch] + sampleShape,
                           scalars: Array(UnsafeBufferPointer(start: input, count: batch * sampleCount)))
            let y = try model.predict(x)
            guard y.count == batch * outputCount else {
                throw GlassboxError.shapeMismatch("InferencePlan: the model returned \(y.shape) for \(x.shape), not [\(batch)] + \(outputShape)")
            }
            y.scalars.withUnsafeBufferPointer { output.update(from: $0.baseAddress!, count: y.count) }
            return
        }
        let workers = program.mixesSamples ? 1
            : Swift.min(Compute.threads, batch, Swift.max(1, batch * program.flopsPerSample / InferencePlan.minimumFlopsPerWorker))
        let capacity = program.mixesSamples ? batch
            : Swift.min(program.chunkLimit, (batch + workers - 1) / workers)
        while workspaces.count < workers { workspaces.append(PlanWorkspace(program)) }
        for w in 0..<workers { workspaces[w].reserve(capacity) }
        if workers == 1 {
            try run(program, input, output, 0..<batch, workspaces[0])
            return
        }
        Compute.parallelFor(workers) { w in
            let workspace = workspaces[w]
            do {
                try run(program, input, output, (batch * w / workers)..<(batch * (w + 1) / workers), workspace)
            } catch {
                workspace.error = error
            }
        }
        for w in 0..<workers {
            if let error = workspaces[w].error {
                for v in workspaces { v.error = nil }
                throw error
            }
        }
    }

    /// One worker's share: chunks of at most the workspace's capacity through every step.
    private func run(_ program: PlanProgram, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                     _ samples: Range<Int>, _ workspace: PlanWorkspace) throws {
        let inStride = sampleCount, outStride = outputCount
        var start = samples.lowerBound
        while start < samples.upperBound {
            let count = Swift.min(workspace.capacity, samples.upperBound - start)
            let chunk = Chunk(count: count, input: input + start * inStride,
                              output: output + start * outStride, workspace: workspace)
            for (i, step) in program.steps.enumerated() {
                try step.run(chunk)
                notifyObservers(of: i, step, chunk, samples: start..<(start + count))
            }
            start += count
        }
    }

    /// Hands step `i`'s output for `samples` (computed in `chunk`) to the closures observing it.
    func notifyObservers(of i: Int, _ step: PlanStep, _ chunk: Chunk, samples: Range<Int>) {
        guard !observers[i].isEmpty else { return }
        let v = step.output
        for o in observers[i] {
            o.body(InferenceActivation(path: o.path, samples: samples, shape: v.shape, layout: v.publicLayout,
                                       storage: chunk.pointer(v), sampleStride: v.stride))
        }
    }

    // MARK: observation

    /// Runs `body` on the output of the layer at `path` (a ``ForwardContext`` path) in every
    /// later call, right after the step producing it and before anything reads it; `body` may
    /// rewrite the values in place. It is called once per chunk, possibly from several threads
    /// at once for disjoint samples (``InferenceActivation/samples``).
    ///
    /// Throws when the plan does not materialise that output: compile with the path in
    /// `observing` to stop fusion there.
    public func observe(_ path: String, _ body: @escaping Observer) throws {
        guard let program else {
            throw GlassboxError.invalidArgument("InferencePlan: this model runs as a whole (its batch axis is not a sample axis); layer outputs cannot be observed")
        }
        guard let value = program.steps.map(\.output).first(where: { $0.paths.contains(path) }),
              let step = program.producer[value.id] else {
            let available = program.steps.flatMap(\.output.paths)
            throw GlassboxError.invalidArgument(
                "InferencePlan: the output of layer '\(path)' is not materialised (fused or unknown); compile with "
                + "observing: [\"\(path)\"]. Observable paths: \(available)")
        }
        lock.withLock { observers[step].append((path, body)) }
    }

    /// Removes every observer.
    public func removeObservers() {
        lock.withLock { observers = observers.map { _ in [] } }
    }

    // MARK: description

    /// One compiled step: what it computes and which layers it covers.
    public struct Step: Sendable, CustomStringConvertible {
        /// E.g. "conv 3×3 32→64 + ReLU + max pool 2×2 → [64, 7, 7]".
        public let summary: String
        /// Paths of the layers the step evaluates (several when fused; none for layout changes).
        public let layerPaths: [String]
        /// Paths whose output is this step's output (observable with ``InferencePlan/observe(_:_:)``).
        public let outputPaths: [String]
        /// Per-sample output shape and its layout in memory.
        public let outputShape: [Int]
        /// How the output is stored in memory.
        public let outputLayout: ActivationLayout

        public var description: String { summary + (outputPaths.isEmpty ? "" : "  [\(outputPaths.joined(separator: ", "))]") }
    }

    /// The compiled steps in execution order (empty when the model runs as a whole).
    public var steps: [Step] {
        program?.steps.map {
            Step(summary: $0.summary, layerPaths: $0.layerPaths, outputPaths: $0.output.paths, outputShape: $0.output.shape,
                 outputLayout: $0.output.publicLayout)
        } ?? []
    }
}

extension Layer {
    /// This model compiled for fast inference on samples of `sampleShape` (see ``InferencePlan``).
    public func compiledForInference(sampleShape: [Int], observing: [String] = []) throws -> InferencePlan {
        try InferencePlan(model: self, sampleShape: sampleShape, observing: observing)
    }
}
