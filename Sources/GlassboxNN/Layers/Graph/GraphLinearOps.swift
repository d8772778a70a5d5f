/// ONNX's linear ops: `Conv` (1-D and 2-D, groups, strides, dilations, explicit and asymmetric
/// pads, `auto_pad`), `Gemm` and `MatMul`.

/// Begin and end padding per spatial axis for `auto_pad` (`SAME_UPPER` puts the odd element at
/// the end, `SAME_LOWER` at the beginning; `VALID` pads nothing), else the `pads` attribute.
func graphWindowPads(node: GraphNode, spatial: [Int], kernel: [Int], strides: [Int], dilations: [Int]) throws -> (begin: [Int], end: [Int]) {
    let r = spatial.count
    guard kernel.allSatisfy({ $0 > 0 && $0 <= graphMaxWindow }) else {
        throw GlassboxError.invalidArgument("kernel \(kernel) must be positive and at most \(graphMaxWindow)")
    }
    let autoPad = try node.string("auto_pad", default: "NOTSET")
    switch autoPad {
    case "NOTSET":
        let pads = try node.ints("pads") ?? [Int](repeating: 0, count: 2 * r)
        guard pads.count == 2 * r, pads.allSatisfy({ $0 >= 0 && $0 <= graphMaxWindow }) else {
            throw GlassboxError.invalidArgument("pads \(pads) must be \(2 * r) non-negative integers")
        }
        return (Array(pads[..<r]), Array(pads[r...]))
    case "VALID":
        return ([Int](repeating: 0, count: r), [Int](repeating: 0, count: r))
    case "SAME_UPPER", "SAME_LOWER":
        var begin: [Int] = [], end: [Int] = []
        for i in 0..<r {
            let out = (spatial[i] + strides[i] - 1) / strides[i]
            let total = Swift.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - spatial[i])
            let small = total / 2
            begin.append(autoPad == "SAME_UPPER" ? small : total - small)
            end.append(total - begin[i])
        }
        return (begin, end)
    default:
        throw GlassboxError.invalidArgument("auto_pad '\(autoPad)' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER")
    }
}

/// The largest kernel extent, stride, dilation or pad a window op accepts (a bound for hostile
/// attributes; real models use single digits).
let graphMaxWindow = 1 << 20

/// Reads a per-spatial-axis attribute (`strides`, `dilations`), default 1 each.
func graphSpatial(_ node: GraphNode, _ key: String, rank: Int) throws -> [Int] {
    let v = try node.ints(key) ?? [Int](repeating: 1, count: rank)
    guard v.count == rank, v.allSatisfy({ $0 > 0 && $0 <= graphMaxWindow }) else {
        throw GlassboxError.invalidArgument("\(key) \(v) must be \(rank) positive integers")
    }
    return v
}

/// Convolution `Y = conv(X, W) + B` with `X [N, C, (H,) W]`, `W [M, C/group, (kh,) kw]`.
/// 1-D convolutions run as 2-D with a unit height. Symmetric padding goes to the convolution;
/// asymmetric padding is added explicitly first. Cost: as ``conv2d(_:weight:bias:stride:padding:dilation:groups:)``.
public final class ConvOp: GraphOp {
    public static let opType = "Conv"
    public let node: GraphNode
    public let group: Int
    public init(node: GraphNode, opset: Int) throws {
        self.node = node
        group = try node.int("group", default: 1)
        guard group > 0 else { throw GlassboxError.invalidArgument("group must be positive") }
    }

    /// Strides, dilations and begin/end pads for an input of spatial extents `spatial`.
    public func geometry(spatial: [Int], kernel: [Int]) throws -> (strides: [Int], dilations: [Int], begin: [Int], end: [Int]) {
        let r = spatial.count
        let strides = try graphSpatial(node, "strides", rank: r), dilations = try graphSpatial(node, "dilations", rank: r)
        if let declared = try node.ints("kernel_shape"), declared != kernel {
            throw GlassboxError.invalidArgument("kernel_shape \(declared) differs from the weight's \(kernel)")
        }
        let (begin, end) = try graphWindowPads(node: node, spatial: spatial, kernel: kernel, strides: strides, dilations: dilations)
        return (strides, dilations, begin, end)
    }

    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        var x = try required(inputs, 0, "X").variable
        var w = try required(inputs, 1, "W").variable
        let b = optional(inputs, 2)?.variable
        let rank = x.value.rank
        guard rank == 3 || rank == 4, w.value.rank == rank else {
            throw GlassboxError.shapeMismatch("Conv supports 1-D and 2-D inputs [N, C, (H,) W] with a weight of the same rank; got X \(x.shape), W \(w.shape)")
        }
        let spatial = Array(x.shape[2...]), kernel = Array(w.shape[2...])
        var (strides, dilations, begin, end) = try geometry(spatial: spatial, kernel: kernel)
        if rank == 3 {
            x = try reshape(x, [x.shape[0], x.shape[1], 1, x.shape[2]])
            w = try reshape(w, [w.shape[0], w.shape[1], 1, w.shape[2]])
            (strides, dilations, begin, end) = ([1] + strides, [1] + dilations, [0] + begin, [0] + end)
        }
        var padding = (0, 0)
        if begin == end { padding = (begin[0], begin[1]) } else {
            x = try graphPad(x, begin: [0, 0] + begin, end: [0, 0] + end)
        }
        var y = try conv2d(x, weight: w, bias: b, stride: (strides[0], strides[1]), padding: padding,
                           dilation: (dilations[0], dilations[1]), groups: group)
        if rank == 3 { y = try reshape(y, [y.shape[0], y.shape[1], y.shape[3]]) }
        return [GraphValue(y)]
    }
}

/// `Y = α·op(A)·op(B) + β·C` with `op` transposing when `transA`/`transB`, `C` broadcast
/// (optional). Cost: `2·M·N·K` FLOP.
public final class GemmOp: GraphOp {
    public static let opType = "Gemm"
    public let node: GraphNode
    let alpha: Float, beta: Float, transA: Bool, transB: Bool
    public init(node: GraphNode, opset: Int) throws {
        self.node = node
        alpha = Float(try node.float("alpha", default: 1)); beta = Float(try node.float("beta", default: 1))
        transA = try node.int("transA", default: 0) != 0; transB = try node.int("transB", default: 0) != 0
    }
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let a = try required(inputs, 0, "A").variable, b = try required(inputs, 1, "B").variable
        guard a.value.rank == 2, b.value.rank == 2 else {
            throw GlassboxError.shapeMismatch("Gemm needs 2-D A and B, got \(a.shape) and \(b.shape)")
        }
        var y = try matmul(a, b, transposeA: transA, transposeB: transB)
        if alpha != 1 { y = scale(y, alpha) }
        if let c = optional(inputs, 2)?.variable { y = try add(y, beta == 1 ? c : scale(c, beta)) }
        return [GraphValue(y)]
    }
}

/// NumPy's `matmul`: `[…, M, K] · [K, N]` (leading axes of A folded into rows), `[B, M, K] ·
/// [B, K, N]`, and 1-D operands promoted and squeezed. Cost: `2·M·N·K` FLOP per batch.
public final class MatMulOp: GraphOp {
    public static let opType = "MatMul"
    public let node: GraphNode
    public init(node: GraphNode, opset: Int) throws { self.node = node }
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        var a = try required(inputs, 0, "A").variable, b = try required(inputs, 1, "B").variable
        let aVector = a.value.rank == 1, bVector = b.value.rank == 1
        if aVector { a = try reshape(a, [1, a.shape[0]]) }
        if bVector { b = try reshape(b, [b.shape[0], 1]) }
        var y: Variable
        var outShape: [Int]
        if b.value.rank == 2 {
            let k = a.shape[a.value.rank - 1]
            guard k == b.shape[0] else { throw GlassboxError.shapeMismatch("MatMul: \(a.shape) · \(b.shape)") }
            outShape = Array(a.shape.dropLast()) + [b.shape[1]]
            y = try matmul(try reshape(a, [a.value.count / Swift.max(k, 1), k]), b)
        } else if a.value.rank == 3, b.value.rank == 3, a.shape[0] == b.shape[0] {
            y = try matmul(a, b)
            outShape = y.shape
        } else {
            throw GlassboxError.shapeMismatch("MatMul of \(a.shape) and \(b.shape) is not supported (B must be 2-D, or both 3-D with one batch)")
        }
        if aVector { outShape.remove(at: outShape.count - 2) }
        if bVector { outShape.removeLast() }
        y = try reshape(y, outShape)
        return [GraphValue(y)]
    }
}
