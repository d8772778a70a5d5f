/// Selecting positions along an axis by index (PyTorch's `index_select`), and embedding lookup,
/// its most common use.
///
/// Backward: scatter-add — each selected gradient slab is added back to the position it came
/// from, so an index used twice receives both contributions. It runs serially in index order, so
/// the sums are deterministic.
/// Cost: one copy of the output forward; one pass over the input's shape plus one over the
/// output backward.

/// Positions `indices` of `axis`, in that order and with repetition allowed: the output has the
/// input's shape with the axis extent replaced by `indices.count`.
public func gather(_ x: Variable, indices: [Int], axis: Int) throws -> Variable {
    let view = try AxisView(x.shape, axis: axis)
    guard x.value.rank > 0 else { throw GlassboxError.invalidArgument("gather from a rank-0 tensor") }
    for (position, index) in indices.enumerated() where !(0..<view.extent).contains(index) {
        throw GlassboxError.invalidArgument(
            "gather: index \(index) at position \(position) is out of range for axis \(axis) of extent \(view.extent) (shape \(x.shape))")
    }
    return gatherChecked(x, indices, view)
}

/// Rows `indices` of an embedding table `[vocabulary, dim]`, giving `[indices.count, dim]`.
///
/// Backward: the table's gradient is zero except on the looked-up rows, which accumulate their
/// upstream gradients (a dense `[vocabulary, dim]` tensor, as PyTorch's default `sparse=False`).
public func embeddingLookup(_ table: Variable, indices: [Int]) throws -> Variable {
    guard table.value.rank == 2 else {
        throw GlassboxError.shapeMismatch("embedding table must be [vocabulary, dim], got \(table.shape)")
    }
    let vocabulary = table.shape[0]
    for (position, index) in indices.enumerated() where !(0..<vocabulary).contains(index) {
        throw GlassboxError.invalidArgument(
            "embedding index \(index) at position \(position) is out of range for a table of \(vocabulary) rows")
    }
    return gatherChecked(table, indices, try AxisView(table.shape, axis: 0))
}

/// Gather with indices already validated against `view`.
private func gatherChecked(_ x: Variable, _ indices: [Int], _ view: AxisView) -> Variable {
    let inShape = x.shape
    var outShape = inShape
    outShape[view.axis] = indices.count
    var out = [Float](repeating: 0, count: Tensor.count(of: outShape))
    x.value.scalars.withUnsafeBufferPointer { px in
        out.withUnsafeMutableBufferPointer { po in
            for (k, index) in indices.enumerated() {
                AxisView.copy(outer: view.outer, inner: view.inner, count: 1, from: px, extent: view.extent, at: index,
                              to: po, extent: indices.count, at: k)
            }
        }
    }
    return Variable.result(Tensor(uncheckedShape: outShape, scalars: out), inputs: [x]) { g in
        var dx = [Float](repeating: 0, count: Tensor.count(of: inShape))
        let inner = view.inner, n = indices.count
        g.scalars.withUnsafeBufferPointer { pg in
            dx.withUnsafeMutableBufferPointer { pd in
                for o in 0..<view.outer {
                    for (k, index) in indices.enumerated() {
                        let s = (o * n + k) * inner, d = (o * view.extent + index) * inner
                        for j in 0..<inner { pd[d + j] += pg[s + j] }
                    }
                }
            }
        }
        x.accumulate(Tensor(uncheckedShape: inShape, scalars: dx))
    }
}
