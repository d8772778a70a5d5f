import CKernels

extension InferencePlan {
    /// The first dense layer of a plan whose input goes straight into one — a tabular MLP, with
    /// any per-feature affine steps before it (a ScoresActivation scale, an unfolded batch norm)
    /// folded in: `h = act(W·x + bias)`.
    ///
    /// Why callers want it: a Shapley game evaluates the model on rows that take some columns
    /// from an explained row `x` and the rest from a background row `b`. For such rows
    /// `W·z + bias = (W·b + bias) + Σ_{j from x} (x_j − b_j)·W[:, j]`, so the layer costs one
    /// FMA per output per column that differs from a precomputed row (`gb_masked_dense`) instead
    /// of a full product. The caller computes `h` that way and the plan runs the rest
    /// (``predictAfterLeadingDense(_:batch:fill:into:)``).
    package struct LeadingDense: Sendable {
        /// Input features (`x` columns).
        package let inputs: Int
        /// Outputs of the layer.
        package let width: Int
        /// `width` rounded up to whole 16-float vectors: the row length of the tables below.
        package let paddedWidth: Int
        /// `Wᵀ`, `[inputs, paddedWidth]`: row `j` holds input `j`'s weights (zero beyond `width`).
        package let transposedWeights: [Float]
        /// `[paddedWidth]`, zero beyond `width`.
        package let bias: [Float]
        /// `GB_ACT_*` code and negative slope of the activation fused after the layer.
        package let activation: Int32, slope: Float
        /// Index of the dense step in the plan; the steps after it are the rest of the model.
        let step: Int
    }

    /// The plan's leading dense layer, or nil when the plan does not start with one that the rest
    /// of the model reads only through its output (see ``LeadingDense``). Computed on each call
    /// (it copies the weights): call it once.
    package func leadingDense() -> LeadingDense? {
        guard let program, !program.mixesSamples, sampleShape.count == 1 else { return nil }
        let d = sampleShape[0]
        var scale = [Float](repeating: 1, count: d), shift = [Float](repeating: 0, count: d)
        var current = program.input
        var index = 0
        // Per-feature affine steps on the raw rows compose: x·s₁ + t₁, then ·s₂ + t₂.
        while index < program.steps.count, let affine = program.steps[index] as? ChannelAffineStep,
              affine.input === current, affine.input.shape == [d], affine.scale.count == d {
            for j in 0..<d {
                scale[j] *= affine.scale[j]
                shift[j] = shift[j] * affine.scale[j] + affine.shift[j]
            }
            current = affine.output
            index += 1
        }
        guard index < program.steps.count, let dense = program.steps[index] as? DenseStep, dense.input === current,
              dense.kernel.groups == 1, dense.kernel.taps == 1, dense.kernel.cg == d,
              case .canonical = dense.output.layout else { return nil }
        // The rest may read only the dense output (not the raw input or an affine step's output).
        let skipped = Set([program.input.storage.id] + program.steps[..<index].map { $0.output.storage.id })
        for step in program.steps[(index + 1)...] where step.inputs.contains(where: { skipped.contains($0.storage.id) }) {
            return nil
        }
        let (wt, b, padded) = dense.transposedWeights()
        // W·(s ⊙ x + t) + bias = (W·diag(s))·x + (W·t + bias).
        var weights = wt, bias = b
        for j in 0..<d {
            for o in 0..<padded {
                bias[o] += wt[j * padded + o] * shift[j]
                weights[j * padded + o] *= scale[j]
            }
        }
        return LeadingDense(inputs: d, width: dense.kernel.og, paddedWidth: padded, transposedWeights: weights, bias: bias,
                            activation: dense.activation.code, slope: dense.activation.slope, step: index)
    }

    /// Runs the model after its leading dense layer: `fill(rows, h, stride)` writes the layer's
    /// activated outputs for the samples `rows` (a sub-range of `0..<batch`) at `h`, sample
    /// after sample `stride` floats apart, and the plan runs the remaining steps on them,
    /// writing `batch · outputCount` floats to `output`. Runs on the calling thread in chunks of
    /// at most twice the plan's chunk size; observers of the dense layer and later layers run as in
    /// ``predict(_:batch:into:)``. Throws when `leading` is not this plan's, or an observer
    /// watches a folded step before the dense layer.
    package func predictAfterLeadingDense(_ leading: LeadingDense, batch: Int,
                                          fill: (_ rows: Range<Int>, _ h: UnsafeMutablePointer<Float>, _ stride: Int) throws -> Void,
                                          into output: UnsafeMutablePointer<Float>) throws {
        guard batch > 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        guard let program, leading.step < program.steps.count, let dense = program.steps[leading.step] as? DenseStep,
              dense.kernel.og == leading.width else {
            throw GlassboxError.invalidArgument("InferencePlan: the leading dense layer given is not this plan's")
        }
        if observers[..<leading.step].contains(where: { !$0.isEmpty }) {
            throw GlassboxError.invalidArgument("InferencePlan: an observed step is folded into the leading dense layer; evaluate with predict instead")
        }
        if workspaces.isEmpty { workspaces.append(PlanWorkspace(program)) }
        let workspace = workspaces[0]
        // Twice the plan's usual chunk: without a first-layer product, the per-chunk bookkeeping
        // is a larger share of the work (measured ~2 % faster on Kernel SHAP; 4× no better).
        workspace.reserve(Swift.min(2 * program.chunkLimit, batch))
        let hidden = dense.output.slot, stride = dense.output.stride, outStride = outputCount
        var start = 0
        while start < batch {
            let count = Swift.min(workspace.capacity, batch - start)
            // No later step reads the plan input (checked by `leadingDense()`).
            let chunk = Chunk(count: count, input: UnsafePointer(output), output: output + start * outStride, workspace: workspace)
            try fill(start..<(start + count), chunk.pointer(slot: hidden), stride)
            for i in leading.step..<program.steps.count {
                let step = program.steps[i]
                if i > leading.step { try step.run(chunk) }
                notifyObservers(of: i, step, chunk, samples: start..<(start + count))
            }
            start += count
        }
    }
}
