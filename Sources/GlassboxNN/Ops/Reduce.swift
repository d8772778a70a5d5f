/// Sums and means over axes.
///
/// Backward: the gradient is broadcast back over the reduced axes (divided by the count for a
/// mean). Cost: one pass over the input each way.

/// Sum over `axes` (all axes when nil). `keepDims` keeps reduced axes with extent 1.
public func sum(_ x: Variable, axes: [Int]? = nil, keepDims: Bool = false) throws -> Variable {
    let (value, kept) = try reduceSum(x.value, axes: axes, keepDims: keepDims)
    let inShape = x.shape
    return Variable.result(value, inputs: [x]) { g in
        let gk = Tensor(uncheckedShape: kept, scalars: g.scalars)
        x.accumulate(try! Broadcast.apply(Tensor.zeros(inShape), gk, +))
    }
}

/// Mean over `axes` (all axes when nil).
public func mean(_ x: Variable, axes: [Int]? = nil, keepDims: Bool = false) throws -> Variable {
    let s = try sum(x, axes: axes, keepDims: keepDims)
    let n = x.value.count / max(1, s.value.count)
    guard n > 0 else { throw GlassboxError.invalidArgument("mean over an empty axis of shape \(x.shape)") }
    return scale(s, 1 / Float(n))
}

/// Tensor-level sum; returns the result and its shape with kept (extent-1) axes.
public func reduceSum(_ x: Tensor, axes: [Int]?, keepDims: Bool) throws -> (Tensor, [Int]) {
    let rank = x.rank
    let axisSet = try Set((axes ?? Array(0..<rank)).map { try normalizeAxis($0, rank: rank) })
    var kept = x.shape
    for a in axisSet { kept[a] = 1 }
    var out = [Float](repeating: 0, count: Tensor.count(of: kept))
    let so = Broadcast.strides(of: kept, in: x.shape)
    let zero = [Int](repeating: 0, count: rank)
    x.scalars.withUnsafeBufferPointer { px in
        out.withUnsafeMutableBufferPointer { po in
            Broadcast.forEach(x.shape, so, zero) { i, o, _ in po[o] += px[i] }
        }
    }
    let finalShape = keepDims ? kept : x.shape.enumerated().filter { !axisSet.contains($0.offset) }.map(\.element)
    return (Tensor(uncheckedShape: finalShape, scalars: out), kept)
}

/// Maps a possibly negative axis into `0..<rank`, or throws.
public func normalizeAxis(_ axis: Int, rank: Int) throws -> Int {
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0, a < max(rank, 1) else {
        throw GlassboxError.invalidArgument("axis \(axis) is out of range for rank \(rank)")
    }
    return a
}
