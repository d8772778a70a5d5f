/// NumPy broadcasting for binary elementwise kernels and its adjoint, the reduction of a
/// broadcast gradient back to an operand's shape.
public enum Broadcast {
    /// The broadcast shape of `a` and `b` (axes aligned from the right; extents equal or 1).
    public static func shape(_ a: [Int], _ b: [Int]) throws -> [Int] {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            guard da == db || da == 1 || db == 1 else {
                throw GlassboxError.shapeMismatch("cannot broadcast \(a) with \(b)")
            }
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// Strides of `shape` viewed in `target` (right-aligned), with 0 on broadcast axes.
    static func strides(of shape: [Int], in target: [Int]) -> [Int] {
        let own = Tensor.strides(of: shape)
        let offset = target.count - shape.count
        return (0..<target.count).map { i in
            i < offset || shape[i - offset] == 1 ? 0 : own[i - offset]
        }
    }

    /// Calls `body(outIndex, aOffset, bOffset)` for every element of the broadcast shape, in
    /// row-major order.
    static func forEach(_ out: [Int], _ sa: [Int], _ sb: [Int], _ body: (Int, Int, Int) -> Void) {
        let rank = out.count
        let total = Tensor.count(of: out)
        if total == 0 { return }
        if rank == 0 { body(0, 0, 0); return }
        let inner = out[rank - 1], ia = sa[rank - 1], ib = sb[rank - 1]
        var counter = [Int](repeating: 0, count: rank)
        var oa = 0, ob = 0, o = 0
        while o < total {
            for j in 0..<inner { body(o + j, oa + j * ia, ob + j * ib) }
            o += inner
            // Advance the outer counter (odometer) and the operand offsets with it.
            var axis = rank - 2
            while axis >= 0 {
                counter[axis] += 1
                oa += sa[axis]; ob += sb[axis]
                if counter[axis] < out[axis] { break }
                oa -= sa[axis] * out[axis]; ob -= sb[axis] * out[axis]
                counter[axis] = 0
                axis -= 1
            }
        }
    }

    /// `f(a, b)` elementwise with broadcasting.
    @inline(__always)
    public static func apply(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) throws -> Tensor {
        if a.shape == b.shape { return a.zip(b, f) }
        let outShape = try shape(a.shape, b.shape)
        var out = [Float](repeating: 0, count: Tensor.count(of: outShape))
        if out.isEmpty { return Tensor(uncheckedShape: outShape, scalars: out) }
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    // Raw pointers in the loops: no overflow or bounds checks per element, so the
                    // compiler vectorises them (the bias loop ran one scalar add per cycle).
                    let (o, x, y) = (po.baseAddress!, pa.baseAddress!, pb.baseAddress!)
                    if b.count == 1 {
                        let bv = y[0]
                        for i in 0..<po.count { o[i] = f(x[i], bv) }
                    } else if a.count == 1 {
                        let av = x[0]
                        for i in 0..<po.count { o[i] = f(av, y[i]) }
                    } else if outShape == a.shape, a.shape.suffix(b.rank) == b.shape[...] {
                        // The common bias case: b repeats along a's leading axes.
                        let n = pb.count
                        for base in stride(from: 0, to: po.count, by: n) {
                            let (row, source) = (o + base, x + base)
                            for j in 0..<n { row[j] = f(source[j], y[j]) }
                        }
                    } else {
                        let sa = strides(of: a.shape, in: outShape), sb = strides(of: b.shape, in: outShape)
                        forEach(outShape, sa, sb) { o, ia, ib in po[o] = f(pa[ia], pb[ib]) }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: outShape, scalars: out)
    }

    /// Sums `gradient` (of the broadcast shape) down to `shape`: the backward of broadcasting.
    public static func reduce(_ gradient: Tensor, to shape: [Int]) -> Tensor {
        if gradient.shape == shape { return gradient }
        var out = [Float](repeating: 0, count: Tensor.count(of: shape))
        if !shape.isEmpty, gradient.shape.suffix(shape.count) == shape[...] {
            // The common bias case: sum the leading rows, each a contiguous block of `shape`.
            let n = out.count
            gradient.scalars.withUnsafeBufferPointer { pg in
                out.withUnsafeMutableBufferPointer { po in
                    var base = 0
                    while base < pg.count {
                        for j in 0..<n { po[j] += pg[base + j] }
                        base += n
                    }
                }
            }
            return Tensor(uncheckedShape: shape, scalars: out)
        }
        let so = strides(of: shape, in: gradient.shape)
        let zero = [Int](repeating: 0, count: gradient.rank)
        gradient.scalars.withUnsafeBufferPointer { pg in
            out.withUnsafeMutableBufferPointer { po in
                forEach(gradient.shape, so, zero) { g, o, _ in po[o] += pg[g] }
            }
        }
        return Tensor(uncheckedShape: shape, scalars: out)
    }
}
