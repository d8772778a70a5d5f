/// Joining tensors along an axis and cutting them apart again; each is the other's backward.
/// Cost: one copy of the data each way (contiguous runs of `extent·inner` elements).

/// Concatenates tensors along `axis`; all other extents must agree.
///
/// Backward: each input receives its slice of the gradient.
public func concat(_ xs: [Variable], axis: Int) throws -> Variable {
    guard let first = xs.first else { throw GlassboxError.invalidArgument("concat of an empty list of tensors") }
    guard first.value.rank > 0 else {
        throw GlassboxError.invalidArgument("concat of rank-0 tensors; reshape them to [1] first")
    }
    let reference = first.shape
    let view = try AxisView(reference, axis: axis)
    for (i, x) in xs.enumerated() {
        let fits = x.value.rank == reference.count
            && x.shape.indices.allSatisfy { $0 == view.axis || x.shape[$0] == reference[$0] }
        guard fits else {
            throw GlassboxError.shapeMismatch(
                "concat along axis \(axis): input \(i) has shape \(x.shape) but input 0 has \(reference); all extents except axis \(view.axis) must agree")
        }
    }
    let extents = xs.map { $0.shape[view.axis] }
    let total = extents.reduce(0, +)
    var outShape = reference
    outShape[view.axis] = total
    var out = [Float](repeating: 0, count: Tensor.count(of: outShape))
    out.withUnsafeMutableBufferPointer { po in
        var at = 0
        for (x, extent) in zip(xs, extents) {
            x.value.scalars.withUnsafeBufferPointer { px in
                AxisView.copy(outer: view.outer, inner: view.inner, count: extent,
                              from: px, extent: extent, at: 0, to: po, extent: total, at: at)
            }
            at += extent
        }
    }
    let value = Tensor(uncheckedShape: outShape, scalars: out)
    return Variable.result(value, inputs: xs) { g in
        var at = 0
        for (x, extent) in zip(xs, extents) {
            if x.requiresGrad { x.accumulate(cut(g, view.axis, at..<(at + extent))) }
            at += extent
        }
    }
}

/// Positions `range` of `axis` (negative counts from the end), e.g. `slice(x, axis: 1, range: 2..<5)`
/// is PyTorch's `x[:, 2:5]`.
///
/// Backward: the gradient placed into the sliced range of a zero tensor of the input's shape
/// (one pass over the whole input shape).
public func slice(_ x: Variable, axis: Int, range: Range<Int>) throws -> Variable {
    let shape = x.shape
    let view = try AxisView(shape, axis: axis)
    guard !shape.isEmpty, range.lowerBound >= 0, range.upperBound <= view.extent else {
        throw GlassboxError.invalidArgument(
            "slice \(range) is out of range for axis \(axis) of extent \(shape.isEmpty ? 0 : view.extent) (shape \(shape))")
    }
    return Variable.result(cut(x.value, view.axis, range), inputs: [x]) { g in
        var dx = [Float](repeating: 0, count: Tensor.count(of: shape))
        g.scalars.withUnsafeBufferPointer { pg in
            dx.withUnsafeMutableBufferPointer { pd in
                AxisView.copy(outer: view.outer, inner: view.inner, count: range.count,
                              from: pg, extent: range.count, at: 0,
                              to: pd, extent: view.extent, at: range.lowerBound)
            }
        }
        x.accumulate(Tensor(uncheckedShape: shape, scalars: dx))
    }
}

/// Cuts `x` along `axis` into consecutive pieces of the given extents (PyTorch's
/// `torch.split(x, sizes, dim)`), e.g. a fused `[n, 3e]` query-key-value projection into three
/// `[n, e]` parts. The sizes must add up to the axis' extent.
///
/// Backward: through ``slice(_:axis:range:)`` per piece, so each used piece costs one pass over
/// the input's shape.
public func split(_ x: Variable, sizes: [Int], axis: Int) throws -> [Variable] {
    let view = try AxisView(x.shape, axis: axis)
    guard x.value.rank > 0, sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == view.extent else {
        throw GlassboxError.invalidArgument(
            "split sizes \(sizes) must be non-negative and add up to extent \(x.shape.isEmpty ? 0 : view.extent) of axis \(axis) (shape \(x.shape))")
    }
    var at = 0
    return try sizes.map { size in
        defer { at += size }
        return try slice(x, axis: axis, range: at..<(at + size))
    }
}

/// Tensor-level slice along a normalised axis (no checks).
func cut(_ x: Tensor, _ axis: Int, _ range: Range<Int>) -> Tensor {
    let view = try! AxisView(x.shape, axis: axis)
    var shape = x.shape
    shape[axis] = range.count
    var out = [Float](repeating: 0, count: Tensor.count(of: shape))
    x.scalars.withUnsafeBufferPointer { px in
        out.withUnsafeMutableBufferPointer { po in
            AxisView.copy(outer: view.outer, inner: view.inner, count: range.count,
                          from: px, extent: view.extent, at: range.lowerBound,
                          to: po, extent: range.count, at: 0)
        }
    }
    return Tensor(uncheckedShape: shape, scalars: out)
}
