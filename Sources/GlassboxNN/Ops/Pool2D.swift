/// 2-D max and average pooling over the spatial axes of `[N, C, H, W]`, and global average pooling.
///
/// Windows follow ``Window2D`` (PyTorch's floor-mode output size); padding is at most half the
/// kernel, so every window holds at least one input element. Each `(n, c)` plane is pooled
/// independently, and planes are split over `Compute.threads` workers.

/// Max pooling: `y[n, c, oh, ow] = max over the window of x` (padding counts as −∞).
///
/// `stride` defaults to the kernel size. Backward sends each output gradient to the position of
/// its window's first maximum in row-major order (PyTorch's tie rule; a NaN counts as the maximum).
/// Cost: `kh·kw` comparisons per output forward; one scattered addition per output backward.
public func maxPool2d(_ x: Variable, kernel: (Int, Int), stride: (Int, Int)? = nil,
                      padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1)) throws -> Variable {
    let geo = try PoolGeometry(input: x.shape, kernel: kernel, stride: stride ?? kernel, padding: padding,
                               dilation: dilation, op: "maxPool2d")
    // Inference skips the argmax bookkeeping (about half the forward cost).
    let (y, argmax) = geo.maxForward(x.value, withIndices: x.requiresGrad)
    return Variable.result(y, inputs: [x]) { g in
        x.accumulate(geo.maxBackward(g, argmax: argmax))
    }
}

/// Average pooling: `y[n, c, oh, ow] = (Σ over the window's in-bounds x) / divisor`, where the
/// divisor is `kh·kw` when `countIncludePad` (padding counts as zeros, PyTorch's default) and
/// the number of in-bounds elements otherwise.
///
/// `stride` defaults to the kernel size. Backward spreads `dy / divisor` over the window.
/// Cost: `kh·kw` additions per output each way.
public func avgPool2d(_ x: Variable, kernel: (Int, Int), stride: (Int, Int)? = nil,
                      padding: (Int, Int) = (0, 0), countIncludePad: Bool = true) throws -> Variable {
    let geo = try PoolGeometry(input: x.shape, kernel: kernel, stride: stride ?? kernel, padding: padding,
                               dilation: (1, 1), op: "avgPool2d")
    let y = geo.averageForward(x.value, countIncludePad: countIncludePad)
    return Variable.result(y, inputs: [x]) { g in
        x.accumulate(geo.averageBackward(g, countIncludePad: countIncludePad))
    }
}

/// Global average pooling: the mean of each `(n, c)` plane, shaped `[N, C]` (or `[N, C, 1, 1]`
/// with `keepDims`). Backward spreads `dy / (H·W)` over the plane. Cost: one pass each way.
public func globalAvgPool(_ x: Variable, keepDims: Bool = false) throws -> Variable {
    guard x.value.rank == 4 else {
        throw GlassboxError.shapeMismatch("globalAvgPool expects input [N, C, H, W], got \(x.shape)")
    }
    let (n, c, plane) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
    guard n > 0 else { throw GlassboxError.invalidArgument("globalAvgPool: empty batch (input \(x.shape))") }
    guard plane > 0 else { throw GlassboxError.invalidArgument("globalAvgPool: empty planes (input \(x.shape))") }
    let inShape = x.shape
    let outShape = keepDims ? [n, c, 1, 1] : [n, c]
    var means = [Float](repeating: 0, count: n * c)
    x.value.scalars.withUnsafeBufferPointer { px in
        for p in 0..<n * c { means[p] = Runs.sum(px.baseAddress! + p * plane, plane) / Float(plane) }
    }
    return Variable.result(Tensor(uncheckedShape: outShape, scalars: means), inputs: [x]) { g in
        let dx = [Float](unsafeUninitializedCapacity: n * c * plane) { out, initialized in
            for p in 0..<n * c {
                (out.baseAddress! + p * plane).initialize(repeating: g.scalars[p] / Float(plane), count: plane)
            }
            initialized = n * c * plane
        }
        x.accumulate(Tensor(uncheckedShape: inShape, scalars: dx))
    }
}

/// Validated sizes of one pooling op and its kernels.
struct PoolGeometry {
    let n: Int, c: Int, h: Int, w: Int
    let window: Window2D
    let ho: Int, wo: Int
    /// For each output row (column): the kernel offsets `lo..<hi` that land inside the input, and
    /// the input coordinate of offset 0 (`start`, possibly negative in the padding).
    let rowSpans: [(lo: Int, hi: Int, start: Int)]
    let colSpans: [(lo: Int, hi: Int, start: Int)]

    var planes: Int { n * c }
    var plane: Int { h * w }
    var outPlane: Int { ho * wo }

    init(input: [Int], kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int),
         op: String) throws {
        guard input.count == 4 else {
            throw GlassboxError.shapeMismatch("\(op) expects input [N, C, H, W], got \(input)")
        }
        guard input[0] > 0 else { throw GlassboxError.invalidArgument("\(op): empty batch (input \(input))") }
        window = try Window2D(kernel: kernel, stride: stride, padding: padding, dilation: dilation, op: op)
        try window.checkPoolingPadding(op: op)
        (n, c, h, w) = (input[0], input[1], input[2], input[3])
        (ho, wo) = try window.outputSize(height: h, width: w, inputShape: input, op: op)
        // Kernels index within a (padded) plane with Int32.
        guard (h + 2 * window.ph) * (w + 2 * window.pw) < Int(Int32.max) else {
            throw GlassboxError.invalidArgument("\(op): planes of \(h)×\(w) are too large (input \(input))")
        }
        func spans(_ out: Int, _ s: Int, _ p: Int, _ d: Int, _ k: Int, _ extent: Int) -> [(lo: Int, hi: Int, start: Int)] {
            (0..<out).map { o in
                let start = o * s - p
                let lo = start >= 0 ? 0 : (-start + d - 1) / d
                let hi = Swift.min(k, (extent - 1 - start) / d + 1)
                return (lo, hi, start)
            }
        }
        rowSpans = spans(ho, window.sh, window.ph, window.dh, window.kh, h)
        colSpans = spans(wo, window.sw, window.pw, window.dw, window.kw, w)
    }

    /// Runs `body(planeRange)` over the planes, in parallel when the work repays it.
    private func forPlanes(_ body: (Range<Int>) -> Void) {
        Compute.parallelRanges(planes, costPerItem: outPlane * window.kh * window.kw, body)
    }

    /// The pooled maxima and (when `withIndices`) each maximum's flat index within its input
    /// plane (see ``MaxPoolKernel``).
    func maxForward(_ x: Tensor, withIndices: Bool) -> (Tensor, [Int32]) {
        let count = planes * outPlane, indexCount = withIndices ? count : 0
        let kernel = MaxPoolKernel(self)
        // Every output (and index) is written by the kernel, so both start uninitialised.
        var argmax = [Int32](unsafeUninitializedCapacity: indexCount) { _, initialized in
            initialized = indexCount
        }
        let y = [Float](unsafeUninitializedCapacity: count) { py, initialized in
            x.scalars.withUnsafeBufferPointer { px in
                argmax.withUnsafeMutableBufferPointer { pa in
                    forPlanes { range in
                        let scratch = MaxPoolKernel.Scratch(kernel, paddedHeight: h + 2 * window.ph)
                        for p in range {
                            kernel.run(px.baseAddress! + p * plane, scratch: scratch, out: py.baseAddress! + p * outPlane,
                                       at: withIndices ? pa.baseAddress! + p * outPlane : nil)
                        }
                    }
                }
            }
            initialized = count
        }
        return (Tensor(uncheckedShape: [n, c, ho, wo], scalars: y), argmax)
    }

    /// `dx[argmax] += dy`, plane by plane.
    func maxBackward(_ g: Tensor, argmax: [Int32]) -> Tensor {
        var dx = [Float](repeating: 0, count: planes * plane)
        g.scalars.withUnsafeBufferPointer { pg in
            argmax.withUnsafeBufferPointer { pa in
                dx.withUnsafeMutableBufferPointer { pdx in
                    forPlanes { range in
                        for p in range {
                            let dst = pdx.baseAddress! + p * plane
                            for o in p * outPlane..<(p + 1) * outPlane { dst[Int(pa[o])] += pg[o] }
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: [n, c, h, w], scalars: dx)
    }

    private func divisor(_ rs: (lo: Int, hi: Int, start: Int), _ cs: (lo: Int, hi: Int, start: Int),
                         countIncludePad: Bool) -> Float {
        Float(countIncludePad ? window.kh * window.kw : (rs.hi - rs.lo) * (cs.hi - cs.lo))
    }

    func averageForward(_ x: Tensor, countIncludePad: Bool) -> Tensor {
        var y = [Float](repeating: 0, count: planes * outPlane)
        x.scalars.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                forPlanes { range in
                    for p in range {
                        let src = px.baseAddress! + p * plane
                        var o = p * outPlane
                        for rs in rowSpans {
                            for cs in colSpans {
                                var s: Float = 0
                                for i in rs.lo..<rs.hi {
                                    let row = src + (rs.start + i) * w + cs.start
                                    for j in cs.lo..<cs.hi { s += row[j] }
                                }
                                py[o] = s / divisor(rs, cs, countIncludePad: countIncludePad)
                                o += 1
                            }
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: [n, c, ho, wo], scalars: y)
    }

    func averageBackward(_ g: Tensor, countIncludePad: Bool) -> Tensor {
        var dx = [Float](repeating: 0, count: planes * plane)
        g.scalars.withUnsafeBufferPointer { pg in
            dx.withUnsafeMutableBufferPointer { pdx in
                forPlanes { range in
                    for p in range {
                        let dst = pdx.baseAddress! + p * plane
                        var o = p * outPlane
                        for rs in rowSpans {
                            for cs in colSpans {
                                let v = pg[o] / divisor(rs, cs, countIncludePad: countIncludePad)
                                for i in rs.lo..<rs.hi {
                                    let row = dst + (rs.start + i) * w + cs.start
                                    for j in cs.lo..<cs.hi { row[j] += v }
                                }
                                o += 1
                            }
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: [n, c, h, w], scalars: dx)
    }
}
