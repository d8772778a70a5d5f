import CKernels

/// One operation of a compiled ``InferencePlan``, applied to a chunk of samples.
///
/// Steps are immutable once the plan is built (``prepare()`` caches strides that depend on the
/// final layouts), so copies of a plan share them; all mutable memory is in the ``Chunk``'s
/// workspace.
class PlanStep {
    let inputs: [PlanValue]
    let output: PlanValue
    /// Dotted paths of the layers this step evaluates (several when fused).
    let layerPaths: [String]
    /// What the step does, for ``InferencePlan/steps``.
    let summary: String

    init(inputs: [PlanValue], output: PlanValue, layerPaths: [String], summary: String) {
        self.inputs = inputs
        self.output = output
        self.layerPaths = layerPaths
        self.summary = summary
    }

    var input: PlanValue { inputs[0] }
    /// Floats of per-worker scratch the step needs.
    var scratchFloats: Int { 0 }
    /// Rough FLOP per sample, to decide whether a call is worth splitting over threads.
    var flopsPerSample: Int { output.count }
    /// Whether the step must see the whole batch at once (it mixes samples).
    var mixesSamples: Bool { false }

    /// Caches strides that depend on the final paddings.
    func prepare() {}

    func run(_ chunk: Chunk) throws { fatalError("PlanStep.run is abstract") }
}

/// The samples one worker processes in one pass over the steps, and where their values live.
struct Chunk {
    /// Samples in the chunk.
    let count: Int
    let input: UnsafePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let workspace: PlanWorkspace

    /// Storage of `value`'s first sample in this chunk.
    @inline(__always)
    func pointer(_ value: PlanValue) -> UnsafeMutablePointer<Float> {
        let s = value.storage
        if s.isInput { return UnsafeMutablePointer(mutating: input) }
        if s.isOutput { return output }
        return workspace.buffers[s.buffer]
    }

    /// Storage of the value whose ``PlanValue/slot`` is `slot`, at this chunk's first sample.
    @inline(__always)
    func pointer(slot: Int) -> UnsafeMutablePointer<Float> {
        slot == PlanValue.inputSlot ? UnsafeMutablePointer(mutating: input)
            : slot == PlanValue.outputSlot ? output : workspace.buffers[slot]
    }

    var scratch: UnsafeMutablePointer<Float> { workspace.scratch }
}

/// Weights and bias packed once for ``gb_conv_apply`` (64-byte aligned), shared by plan copies.
final class PackedKernel: @unchecked Sendable {
    let weights: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>?
    let taps: Int, cg: Int, og: Int, groups: Int

    /// `matrix` is `[groups·og, taps·cg]`, tap-major within a row; `bias` has `groups·og` entries.
    init(matrix: [Float], bias: [Float]?, taps: Int, cg: Int, og: Int, groups: Int) {
        (self.taps, self.cg, self.og, self.groups) = (taps, cg, og, groups)
        weights = PackedKernel.aligned(gb_conv_packed_size(taps, cg, og, groups))
        gb_conv_pack(matrix, taps, cg, og, groups, weights)
        if let bias {
            let b = PackedKernel.aligned(gb_conv_bias_size(og, groups))
            gb_conv_pack_bias(bias, og, groups, b)
            self.bias = b
        } else {
            self.bias = nil
        }
    }

    static func aligned(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: Swift.max(count, 1) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: Swift.max(count, 1))
    }

    /// The kernel descriptor; `taps` must point at `taps` offsets that outlive its use.
    func descriptor(tapOffsets: UnsafePointer<Int>, activation: PlanActivation) -> gb_conv_desc {
        gb_conv_desc(taps: taps, cg: cg, og: og, groups: groups, tap_offsets: tapOffsets,
                     weights: weights, bias: bias, activation: activation.code, slope: activation.slope)
    }

    deinit {
        UnsafeMutableRawPointer(weights).deallocate()
        bias.map { UnsafeMutableRawPointer($0).deallocate() }
    }
}

/// The activation a convolution or dense step applies in its epilogue.
enum PlanActivation: Equatable {
    case none, relu, leakyRelu(Float)

    var code: Int32 {
        switch self {
        case .none: return Int32(GB_ACT_NONE)
        case .relu: return Int32(GB_ACT_RELU)
        case .leakyRelu: return Int32(GB_ACT_LEAKY_RELU)
        }
    }

    var slope: Float { if case .leakyRelu(let s) = self { return s } else { return 0 } }

    var label: String {
        switch self {
        case .none: return ""
        case .relu: return " + ReLU"
        case .leakyRelu(let s): return " + LeakyReLU(\(s))"
        }
    }
}

/// A 2-D convolution (any stride, padding, dilation, groups) on a channels-last image with bias,
/// folded batch norm and activation in the kernel's epilogue, and optionally a max pool: the
/// convolved image then goes to per-worker scratch (L2-sized) and only the pooled one is stored.
///
/// Cost: `2·O·(C/groups)·kh·kw·Ho·Wo` FLOP per sample, no im2col copy.
final class ConvStep: PlanStep {
    let kernel: PackedKernel
    let window: Window2D
    let activation: PlanActivation
    let pool: Window2D?
    /// Convolution output size (before pooling).
    let ho: Int, wo: Int
    private let tapOffsets: UnsafeMutablePointer<Int>
    private var desc = gb_conv_desc()

    init(input: PlanValue, output: PlanValue, kernel: PackedKernel, window: Window2D, activation: PlanActivation,
         pool: Window2D?, convSize: (Int, Int), layerPaths: [String], summary: String) {
        (self.kernel, self.window, self.activation, self.pool) = (kernel, window, activation, pool)
        (ho, wo) = convSize
        tapOffsets = .allocate(capacity: window.kh * window.kw)
        super.init(inputs: [input], output: output, layerPaths: layerPaths, summary: summary)
    }

    deinit { tapOffsets.deallocate() }

    override var scratchFloats: Int { pool == nil ? 0 : ho * wo * kernel.og * kernel.groups }
    override var flopsPerSample: Int { 2 * kernel.og * kernel.groups * kernel.taps * kernel.cg * ho * wo }

    override func prepare() {
        let g = input.image
        for i in 0..<window.kh {
            for j in 0..<window.kw {
                tapOffsets[i * window.kw + j] = (i * window.dh * g.paddedWidth + j * window.dw) * g.c
            }
        }
        desc = kernel.descriptor(tapOffsets: tapOffsets, activation: activation)
    }

    override func run(_ chunk: Chunk) throws {
        let gi = input.image, go = output.image
        let channels = kernel.og * kernel.groups
        // The window origin of output (0, 0): the interior start moved back by the conv padding
        // (the buffer's border is at least that wide).
        let origin = gi.interior - window.ph * gi.rowStride - window.pw * gi.c
        let src = chunk.pointer(input), dst = chunk.pointer(output)
        withUnsafePointer(to: desc) { d in
            for n in 0..<chunk.count {
                let x = src + n * gi.imageStride + origin
                let y = dst + n * go.imageStride + go.interior
                if let pool {
                    let s = chunk.scratch
                    gb_conv_apply(d, ho, wo, x, window.sh * gi.rowStride, window.sw * gi.c, s, wo * channels, channels)
                    gb_maxpool_nhwc(s, ho, wo, channels, wo * channels, channels, y, go.h, go.w, go.rowStride, channels,
                                    pool.kh, pool.kw, pool.sh, pool.sw, pool.ph, pool.pw, pool.dh, pool.dw)
                } else {
                    gb_conv_apply(d, ho, wo, x, window.sh * gi.rowStride, window.sw * gi.c, y, go.rowStride, channels)
                }
            }
        }
    }
}

/// A dense layer `y = act(x·Wᵀ + b)` (batch norm folded in) over the chunk's rows: the same
/// kernel as ``ConvStep`` on a 1 × count "image" whose pixels are samples. Weight columns are
/// permuted at build time when the input is a flattened channels-last image. A layer with few
/// outputs (a classifier head, `gb_dense_narrow_preferred`) runs on `gb_dense_narrow` instead,
/// which puts input features rather than outputs in the vector lanes.
///
/// Cost: `2·in·out` FLOP per sample.
final class DenseStep: PlanStep {
    let kernel: PackedKernel
    let activation: PlanActivation
    /// The weights packed for `gb_dense_narrow`, when that kernel serves this shape better.
    private let narrow: UnsafeMutablePointer<Float>?
    private let zeroOffset: UnsafeMutablePointer<Int>
    private var desc = gb_conv_desc()
    // Resolved in `prepare()`, so a run reads no reference-counted state.
    private var inputSlot = 0, outputSlot = 0, inputStride = 0, outputStride = 0

    /// `matrix` is the row-major `[out, in]` weight the kernel was packed from.
    init(input: PlanValue, output: PlanValue, kernel: PackedKernel, matrix: [Float], activation: PlanActivation,
         layerPaths: [String], summary: String) {
        (self.kernel, self.activation) = (kernel, activation)
        zeroOffset = .allocate(capacity: 1)
        zeroOffset.initialize(to: 0)
        if kernel.groups == 1, kernel.taps == 1, gb_dense_narrow_preferred(kernel.cg, kernel.og) != 0 {
            let packed = PackedKernel.aligned(gb_dense_narrow_packed_size(kernel.cg, kernel.og))
            gb_dense_narrow_pack(matrix, kernel.cg, kernel.og, packed)
            narrow = packed
        } else {
            narrow = nil
        }
        super.init(inputs: [input], output: output, layerPaths: layerPaths, summary: summary)
    }

    deinit {
        zeroOffset.deallocate()
        narrow.map { UnsafeMutableRawPointer($0).deallocate() }
    }

    override var flopsPerSample: Int { 2 * kernel.cg * kernel.og }

    override func prepare() {
        desc = kernel.descriptor(tapOffsets: zeroOffset, activation: activation)
        (inputSlot, outputSlot) = (input.slot, output.slot)
        (inputStride, outputStride) = (input.stride, output.stride)
    }

    /// `Wᵀ` (`[in, paddedOut]`, row `j` holding input `j`'s weights, zero beyond `out`) and the
    /// bias (`paddedOut` floats, zero when the layer has none), unpacked from the kernel's panels.
    func transposedWeights() -> (weights: [Float], bias: [Float], paddedOutputs: Int) {
        let k = kernel.cg, padded = gb_conv_bias_size(kernel.og, 1)
        var wt = [Float](repeating: 0, count: k * padded)
        // Panels of 32 (the last 16 or 32 wide), each stored k-major: row j of a panel is
        // input j's weights for the panel's outputs.
        var o0 = 0
        while o0 < padded {
            // gb_conv_pack's rule: full panels of 32, the last one 16 wide when at most 16 remain.
            let width = o0 / 32 < kernel.og / 32 || kernel.og % 32 > 16 ? 32 : 16
            let panel = kernel.weights + o0 * k
            for j in 0..<k {
                for t in 0..<width { wt[j * padded + o0 + t] = panel[j * width + t] }
            }
            o0 += width
        }
        let bias = kernel.bias.map { Array(UnsafeBufferPointer(start: $0, count: padded)) } ?? [Float](repeating: 0, count: padded)
        return (wt, bias, padded)
    }

    override func run(_ chunk: Chunk) throws {
        let src = chunk.pointer(slot: inputSlot), dst = chunk.pointer(slot: outputSlot)
        if let narrow {
            gb_dense_narrow(chunk.count, kernel.cg, kernel.og, src, inputStride, narrow, kernel.bias,
                            activation.code, activation.slope, dst, outputStride)
            return
        }
        withUnsafePointer(to: desc) { d in
            gb_conv_apply(d, 1, chunk.count, src, 0, inputStride, dst, 0, outputStride)
        }
    }
}
