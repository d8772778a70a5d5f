/// How an intermediate value of an ``InferencePlan`` is laid out in memory, per sample.
///
/// Spatial activations stay channels-last between the convolution kernels, because the direct
/// convolution broadcasts one input value against a vector of output channels and the pools
/// and per-channel loops then run over contiguous channels. Everything else is canonical
/// (PyTorch's row-major order), and conversions are inserted where a consumer needs it.
public enum ActivationLayout: Equatable, Sendable {
    /// Row-major in the logical per-sample shape (`[C, H, W]` is NCHW).
    case canonical
    /// A `[C, H, W]` image stored as `(H + 2·padding.0) × (W + 2·padding.1) × C`: channels
    /// innermost, with a zero border of `padding` pixels that the next convolution reads as its
    /// padding. Only the interior is ever written.
    case channelsLast(padding: Padding)
    /// A `[C·H·W]` vector holding a flattened channels-last image in `H × W × C` order: what
    /// `Flatten` of a channels-last image produces; the next `Linear` has its weight columns
    /// permuted to match, so no transpose is paid.
    case channelsLastFlat(channels: Int, height: Int, width: Int)

    /// Zero border of a channels-last image, in pixels.
    public struct Padding: Equatable, Sendable {
        /// Border width in pixels: `height` rows above and below, `width` columns left and right.
        public var height: Int, width: Int
        /// A border of `height` rows and `width` columns.
        public init(height: Int, width: Int) { (self.height, self.width) = (height, width) }
        static let zero = Padding(height: 0, width: 0)
    }
}

/// One intermediate value of a plan: the output of a step (or the plan's input), with its
/// per-sample logical shape, layout, and the layer paths whose output it is.
final class PlanValue {
    let id: Int
    /// Per-sample shape in PyTorch's order (`[C, H, W]`, `[F]`, …).
    let shape: [Int]
    let layout: ActivationLayout.Kind
    /// Channels-last only: the zero border, the largest any consuming convolution needs.
    var padding = ActivationLayout.Padding.zero
    /// Dotted layer paths (as ``ForwardContext`` names them) whose output this value is.
    var paths: [String] = []
    /// The plan's input (caller memory, read only) or output (caller memory).
    var isInput = false, isOutput = false
    /// A reshaped view of another canonical value's storage (Flatten of a canonical tensor).
    var aliasOf: PlanValue?
    /// A canonical or channels-last copy made for consumers that need the other layout.
    var canonicalTwin: PlanValue?, channelsLastTwin: PlanValue?
    /// Physical buffer index in a workspace, assigned by the plan after building.
    var buffer = -1

    init(id: Int, shape: [Int], layout: ActivationLayout.Kind) {
        self.id = id
        self.shape = shape
        self.layout = layout
    }

    /// The value whose storage this one uses.
    var storage: PlanValue { aliasOf?.storage ?? self }

    /// Where the storage lives, resolved once buffers are assigned (see ``Chunk/pointer(slot:)``):
    /// ``inputSlot``, ``outputSlot`` or a workspace buffer index.
    var slot: Int {
        let s = storage
        return s.isInput ? PlanValue.inputSlot : s.isOutput ? PlanValue.outputSlot : s.buffer
    }
    static let inputSlot = -1, outputSlot = -2

    /// The public description of the layout.
    var publicLayout: ActivationLayout {
        switch layout {
        case .canonical: return .canonical
        case .channelsLast: return .channelsLast(padding: padding)
        case .channelsLastFlat(let c, let h, let w): return .channelsLastFlat(channels: c, height: h, width: w)
        }
    }

    /// Logical elements per sample.
    var count: Int { shape.reduce(1, *) }

    /// Floats per sample in storage (the padded size for channels-last).
    var stride: Int {
        switch layout {
        case .canonical, .channelsLastFlat: return count
        case .channelsLast: return image.imageStride
        }
    }

    /// Geometry of a channels-last image (shape `[C, H, W]`).
    var image: ImageGeometry {
        ImageGeometry(c: shape[0], h: shape[1], w: shape[2], ph: padding.height, pw: padding.width)
    }
}

extension ActivationLayout {
    /// The layout family, without the padding that is only settled once the plan is built.
    enum Kind: Equatable {
        case canonical
        case channelsLast
        case channelsLastFlat(c: Int, h: Int, w: Int)
    }
}

/// Strides of one channels-last image with a zero border.
struct ImageGeometry {
    let c: Int, h: Int, w: Int, ph: Int, pw: Int

    var paddedWidth: Int { w + 2 * pw }
    /// Floats from one pixel row to the next.
    var rowStride: Int { paddedWidth * c }
    var imageStride: Int { (h + 2 * ph) * rowStride }
    /// Offset of pixel (0, 0) from the image's first float.
    var interior: Int { ph * rowStride + pw * c }
}
