import Foundation

/// ONNX's pooling and normalisation: `MaxPool`, `AveragePool` (pads, `auto_pad`, `ceil_mode`,
/// `count_include_pad`, dilations for MaxPool), `GlobalAveragePool`, `BatchNormalization`
/// (inference form) and `ReduceMean`.

/// The 2-D window of a pooling node for an input of spatial extents `spatial`: kernel, strides,
/// dilations, begin pads, and end pads grown so the floor-mode formula yields ONNX's output size
/// (`ceil_mode` rounds up, dropping a last window that would start in the end padding).
struct PoolWindow {
    let kernel: [Int], strides: [Int], dilations: [Int], begin: [Int], end: [Int], declaredEnd: [Int], output: [Int]

    init(node: GraphNode, spatial: [Int], dilated: Bool) throws {
        let r = spatial.count
        guard let kernel = try node.ints("kernel_shape"), kernel.count == r, kernel.allSatisfy({ $0 > 0 && $0 <= graphMaxWindow }) else {
            throw GlassboxError.invalidArgument("kernel_shape must be \(r) positive integers")
        }
        let strides = try graphSpatial(node, "strides", rank: r)
        let dilations = dilated ? try graphSpatial(node, "dilations", rank: r) : [Int](repeating: 1, count: r)
        let (begin, end) = try graphWindowPads(node: node, spatial: spatial, kernel: kernel, strides: strides, dilations: dilations)
        let ceil = try node.int("ceil_mode", default: 0) != 0
        var output: [Int] = [], grownEnd: [Int] = []
        for i in 0..<r {
            let span = (kernel[i] - 1) * dilations[i] + 1
            let room = spatial[i] + begin[i] + end[i] - span
            guard room >= 0 else {
                throw GlassboxError.shapeMismatch("pooling window \(kernel) does not fit the padded input \(spatial)")
            }
            var out = (ceil ? (room + strides[i] - 1) / strides[i] : room / strides[i]) + 1
            if ceil && (out - 1) * strides[i] >= spatial[i] + begin[i] { out -= 1 }
            output.append(out)
            grownEnd.append(Swift.max(end[i], (out - 1) * strides[i] + span - spatial[i] - begin[i]))
        }
        (self.kernel, self.strides, self.dilations, self.begin, self.end, self.declaredEnd, self.output) =
            (kernel, strides, dilations, begin, grownEnd, end, output)
    }

    /// Whether the existing symmetric-padding kernels compute this window directly.
    var symmetric: Bool { begin == end && zip(begin, kernel).allSatisfy { $0 <= $1 / 2 } }
}

/// Runs a pooling window on a 1-D or 2-D input (1-D as a unit height): `body` gets the 4-D
/// input and the window lifted to 2-D (kernel, strides, dilations, begin, end, declared end,
/// output, input extents).
func graphPool2D(_ x: Variable, node: GraphNode, dilated: Bool,
                 _ body: (Variable, PoolWindow2D) throws -> Variable) throws -> Variable {
    switch x.value.rank {
    case 4:
        let p = try PoolWindow(node: node, spatial: Array(x.shape[2...]), dilated: dilated)
        return try body(x, PoolWindow2D(p, spatial: Array(x.shape[2...]), lift: false))
    case 3:
        let p = try PoolWindow(node: node, spatial: [x.shape[2]], dilated: dilated)
        let y = try body(try reshape(x, [x.shape[0], x.shape[1], 1, x.shape[2]]), PoolWindow2D(p, spatial: [x.shape[2]], lift: true))
        return try reshape(y, [y.shape[0], y.shape[1], y.shape[3]])
    default: throw GlassboxError.shapeMismatch("pooling supports [N, C, W] and [N, C, H, W] inputs, got \(x.shape)")
    }
}

/// A ``PoolWindow`` on two spatial axes.
struct PoolWindow2D {
    let kernel: [Int], strides: [Int], dilations: [Int], begin: [Int], end: [Int], declaredEnd: [Int], output: [Int], spatial: [Int]
    let symmetric: Bool
    init(_ p: PoolWindow, spatial: [Int], lift: Bool) {
        func l(_ v: [Int], _ pad: Int) -> [Int] { lift ? [pad] + v : v }
        (kernel, strides, dilations) = (l(p.kernel, 1), l(p.strides, 1), l(p.dilations, 1))
        (begin, end, declaredEnd, output, self.spatial) = (l(p.begin, 0), l(p.end, 0), l(p.declaredEnd, 0), l(p.output, 1), l(spatial, 1))
        symmetric = p.symmetric
    }
    var k: (Int, Int) { (kernel[0], kernel[1]) }
    var s: (Int, Int) { (strides[0], strides[1]) }
    var d: (Int, Int) { (dilations[0], dilations[1]) }
}

/// Max over each window (padding never wins). Cost: `kh·kw` comparisons per output.
public final class MaxPoolOp: GraphOp {
    public static let opType = "MaxPool"
    public let node: GraphNode
    public init(node: GraphNode, opset: Int) throws {
        self.node = node
        guard node.outputs.count == 1 else { throw GlassboxError.invalidArgument("the Indices output is not supported") }
        guard try node.int("storage_order", default: 0) == 0 else { throw GlassboxError.invalidArgument("storage_order 1 is not supported") }
    }
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let y = try graphPool2D(try required(inputs, 0, "X").variable, node: node, dilated: true) { x, p in
            if p.symmetric { return try maxPool2d(x, kernel: p.k, stride: p.s, padding: (p.begin[0], p.begin[1]), dilation: p.d) }
            let padded = try graphPad(x, begin: [0, 0] + p.begin, end: [0, 0] + p.end, value: -.greatestFiniteMagnitude)
            return try maxPool2d(padded, kernel: p.k, stride: p.s, dilation: p.d)
        }
        return [GraphValue(y)]
    }
}

/// Mean over each window. The divisor counts the padded positions inside the declared pads when
/// `count_include_pad`, else only input positions (ceil-mode overhang never counts).
/// Cost: `kh·kw` additions per output.
public final class AveragePoolOp: GraphOp {
    public static let opType = "AveragePool"
    public let node: GraphNode
    let includePad: Bool
    public init(node: GraphNode, opset: Int) throws {
        self.node = node
        includePad = try node.int("count_include_pad", default: 0) != 0
        if let d = try node.ints("dilations"), d.contains(where: { $0 != 1 }) {
            throw GlassboxError.invalidArgument("dilated average pooling is not supported")
        }
    }
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let y = try graphPool2D(try required(inputs, 0, "X").variable, node: node, dilated: false) { x, p in
            if p.symmetric && p.end == p.declaredEnd {
                return try avgPool2d(x, kernel: p.k, stride: p.s, padding: (p.begin[0], p.begin[1]), countIncludePad: includePad)
            }
            let padded = try graphPad(x, begin: [0, 0] + p.begin, end: [0, 0] + p.end)
            let sums = scale(try avgPool2d(padded, kernel: p.k, stride: p.s, countIncludePad: true), Float(p.k.0 * p.k.1))
            var divisor = [Float](repeating: 0, count: p.output[0] * p.output[1])
            func extent(_ o: Int, _ a: Int) -> Int {
                var lo = o * p.strides[a] - p.begin[a], hi = Swift.min(lo + p.kernel[a], p.spatial[a] + p.declaredEnd[a])
                if !includePad { lo = Swift.max(lo, 0); hi = Swift.min(hi, p.spatial[a]) }
                return Swift.max(hi - lo, 1)
            }
            for oh in 0..<p.output[0] {
                for ow in 0..<p.output[1] { divisor[oh * p.output[1] + ow] = Float(extent(oh, 0) * extent(ow, 1)) }
            }
            return try div(sums, Variable(Tensor(uncheckedShape: [1, 1, p.output[0], p.output[1]], scalars: divisor)))
        }
        return [GraphValue(y)]
    }
}

/// The mean of each `(n, c)` plane, shaped `[N, C, 1, 1]`.
public final class GlobalAveragePoolOp: UnaryGraphOp, GraphOp {
    public static let opType = "GlobalAveragePool"
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let x = try required(inputs, 0, "X").variable
        guard x.value.rank >= 3 else { throw GlassboxError.shapeMismatch("GlobalAveragePool needs [N, C, …], got \(x.shape)") }
        if x.value.rank == 4 { return [GraphValue(try globalAvgPool(x, keepDims: true))] }
        return [GraphValue(try mean(x, axes: Array(2..<x.value.rank), keepDims: true))]
    }
}

/// Inference batch normalisation `y = (x − mean)/√(var + ε) · scale + B` per channel (axis 1),
/// as one multiply and one add of per-channel constants. Usually folded into the preceding
/// convolution at import (``GraphSimplifier``).
public final class BatchNormalizationOp: GraphOp {
    public static let opType = "BatchNormalization"
    public let node: GraphNode
    let epsilon: Float
    public init(node: GraphNode, opset: Int) throws {
        self.node = node
        epsilon = Float(try node.float("epsilon", default: 1e-5))
        guard try node.int("training_mode", default: 0) == 0 else { throw GlassboxError.invalidArgument("training_mode is not supported") }
    }

    /// Per-channel `(a, b)` with `y = a·x + b`.
    static func affine(scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor, epsilon: Float) throws -> ([Float], [Float]) {
        let c = scale.count
        guard bias.count == c, mean.count == c, variance.count == c else {
            throw GlassboxError.shapeMismatch("BatchNormalization parameters have \(scale.count), \(bias.count), \(mean.count), \(variance.count) values")
        }
        var a = [Float](repeating: 0, count: c), b = a
        for i in 0..<c {
            a[i] = scale.scalars[i] / (variance.scalars[i] + epsilon).squareRoot()
            b[i] = bias.scalars[i] - mean.scalars[i] * a[i]
        }
        return (a, b)
    }

    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let x = try required(inputs, 0, "X").variable
        let scaleV = try required(inputs, 1, "scale").variable, biasV = try required(inputs, 2, "B").variable
        let meanV = try required(inputs, 3, "mean").variable, varV = try required(inputs, 4, "var").variable
        guard x.value.rank >= 2 else { throw GlassboxError.shapeMismatch("BatchNormalization needs [N, C, …], got \(x.shape)") }
        let c = x.shape[1]
        guard scaleV.value.count == c else { throw GlassboxError.shapeMismatch("BatchNormalization: \(c) channels, scale has \(scaleV.value.count)") }
        let inv = graphElementwise(shift(varV, epsilon), { 1 / $0.squareRoot() }, derivative: { -0.5 / ($0 * $0.squareRoot()) })
        let a = try mul(scaleV, inv)
        let b = try sub(biasV, try mul(meanV, a))
        let shape = [c] + [Int](repeating: 1, count: x.value.rank - 2)
        return [GraphValue(try add(try mul(x, try reshape(a, shape)), try reshape(b, shape)))]
    }
}

/// The mean over `axes` (all axes when none are given, unless `noop_with_empty_axes`); axes are
/// an attribute before opset 18 and an input from 18 on. `keepdims` defaults to 1.
public final class ReduceMeanOp: GraphOp {
    public static let opType = "ReduceMean"
    public let node: GraphNode
    let opset: Int
    public init(node: GraphNode, opset: Int) throws { (self.node, self.opset) = (node, opset) }
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let x = try required(inputs, 0, "data").variable
        let keep = try node.int("keepdims", default: 1) != 0
        var axes = try node.ints("axes") ?? optional(inputs, 1)?.ints
        if axes?.isEmpty ?? true {
            if try node.int("noop_with_empty_axes", default: 0) != 0 { return [GraphValue(x)] }
            axes = Array(0..<x.value.rank)
        }
        let resolved = try axes!.map { try graphAxis($0, rank: x.value.rank) }
        return [GraphValue(try mean(x, axes: Array(Set(resolved)).sorted(), keepDims: keep))]
    }
}
