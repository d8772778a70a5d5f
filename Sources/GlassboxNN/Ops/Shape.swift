/// Ops that rearrange elements without arithmetic: reshape, flatten, transpose, permute.
///
/// Backward applies the inverse rearrangement to the gradient. Reshape and flatten share storage
/// with their input (no copy either way); permutations cost one strided copy each way.

/// The same elements in a new shape; one extent may be -1 and is inferred.
public func reshape(_ x: Variable, _ shape: [Int]) throws -> Variable {
    let y = try x.value.reshaped(shape)
    let inShape = x.shape
    return Variable.result(y, inputs: [x]) { g in
        x.accumulate(Tensor(uncheckedShape: inShape, scalars: g.scalars))
    }
}

/// Merges axes `startAxis...endAxis` into one (PyTorch's `flatten(start_dim, end_dim)`); a
/// scalar becomes `[1]`. `[n, c, h, w]` → `[n, c·h·w]` with the defaults.
public func flatten(_ x: Variable, startAxis: Int = 1, endAxis: Int = -1) throws -> Variable {
    let shape = x.shape
    guard !shape.isEmpty else { return try reshape(x, [1]) }
    let s = try normalizeAxis(startAxis, rank: shape.count), e = try normalizeAxis(endAxis, rank: shape.count)
    guard s <= e else {
        throw GlassboxError.invalidArgument("flatten: start axis \(startAxis) comes after end axis \(endAxis) for shape \(shape)")
    }
    return try reshape(x, Array(shape[..<s]) + [Tensor.count(of: Array(shape[s...e]))] + Array(shape[(e + 1)...]))
}

/// Swaps two axes (negative values count from the end).
public func transpose(_ x: Variable, _ axis0: Int, _ axis1: Int) throws -> Variable {
    let rank = x.value.rank
    var axes = Array(0..<rank)
    axes.swapAt(try normalizeAxis(axis0, rank: rank), try normalizeAxis(axis1, rank: rank))
    return try permute(x, axes)
}

/// Reorders the axes: output axis `i` is input axis `axes[i]` (PyTorch's `permute`), copied into
/// contiguous row-major storage. Negative entries count from the end.
///
/// Backward: the gradient permuted by the inverse permutation.
/// Cost: one copy each way. Unit axes are dropped and axes that stay adjacent merged first; then
/// if the innermost axis stays innermost (attention's head split and merge) the copy moves
/// contiguous runs, otherwise it transposes 8×8 tiles.
public func permute(_ x: Variable, _ axes: [Int]) throws -> Variable {
    let shape = x.shape
    let perm = axes.map { $0 < 0 ? $0 + shape.count : $0 }
    guard perm.count == shape.count, perm.sorted() == Array(0..<shape.count) else {
        throw GlassboxError.invalidArgument(
            "permute: \(axes) is not a permutation of the \(shape.count) axes of a tensor of shape \(shape)")
    }
    var inverse = perm
    for (i, p) in perm.enumerated() { inverse[p] = i }
    let y = Permutation.apply(x.value, perm)
    return Variable.result(y, inputs: [x]) { g in x.accumulate(Permutation.apply(g, inverse)) }
}

enum Permutation {
    /// `x` with its axes reordered by `perm` (already validated), in new contiguous storage.
    static func apply(_ x: Tensor, _ perm: [Int]) -> Tensor {
        let outShape = perm.map { x.shape[$0] }
        let (dims, order) = simplify(x.shape, perm)
        if x.count == 0 || order == Array(0..<order.count) {
            return Tensor(uncheckedShape: outShape, scalars: x.scalars)
        }
        var out = [Float](repeating: 0, count: x.count)
        x.scalars.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                if order.last == order.count - 1 {
                    copyRuns(px.baseAddress!, po.baseAddress!, dims, order)
                } else {
                    transposeTiles(px.baseAddress!, po.baseAddress!, dims, order)
                }
            }
        }
        return Tensor(uncheckedShape: outShape, scalars: out)
    }

    /// The smallest equivalent problem: unit axes dropped and runs of input axes that stay
    /// adjacent and in order in the output merged into one. Returns the merged input extents and
    /// the permutation of the merged axes.
    static func simplify(_ shape: [Int], _ perm: [Int]) -> (dims: [Int], order: [Int]) {
        let kept = (0..<shape.count).filter { shape[$0] != 1 }
        var renumber = [Int](repeating: -1, count: shape.count)
        for (i, a) in kept.enumerated() { renumber[a] = i }
        var runs: [[Int]] = []
        for a in perm where renumber[a] >= 0 {
            let r = renumber[a]
            if let last = runs.last?.last, r == last + 1 { runs[runs.count - 1].append(r) } else { runs.append([r]) }
        }
        let inputOrder = runs.indices.sorted { runs[$0][0] < runs[$1][0] }
        let dims = inputOrder.map { runs[$0].reduce(1) { $0 * shape[kept[$1]] } }
        var order = [Int](repeating: 0, count: runs.count)
        for (position, run) in inputOrder.enumerated() { order[run] = position }
        return (dims, order)
    }

    /// The innermost axis stays innermost: the output is a sequence of contiguous runs of the
    /// input, copied in output order.
    static func copyRuns(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ dims: [Int], _ order: [Int]) {
        let inStrides = Tensor.strides(of: dims)
        let outer = Array(order.dropLast())
        let extents = outer.map { dims[$0] }, strides = outer.map { inStrides[$0] }
        let n = dims[order.count - 1], rank = extents.count
        Compute.parallelRanges(Tensor.count(of: extents), costPerItem: n) { range in
            // The source offset of each output run, advanced like an odometer (no offset table:
            // the runs can be as short as an attention head's 8 floats).
            var counter = [Int](repeating: 0, count: rank)
            var rest = range.lowerBound, offset = 0
            for axis in stride(from: rank - 1, through: 0, by: -1) {
                counter[axis] = rest % extents[axis]
                rest /= extents[axis]
                offset += counter[axis] * strides[axis]
            }
            counter.withUnsafeMutableBufferPointer { c in
                extents.withUnsafeBufferPointer { e in
                    strides.withUnsafeBufferPointer { st in
                        for row in range {
                            let (d, s) = (dst + row * n, src + offset)
                            if n >= 64 { d.update(from: s, count: n) } else { for k in 0..<n { d[k] = s[k] } }
                            var axis = rank - 1
                            while axis >= 0 {
                                c[axis] += 1
                                offset += st[axis]
                                if c[axis] < e[axis] { break }
                                offset -= st[axis] * e[axis]
                                c[axis] = 0
                                axis -= 1
                            }
                        }
                    }
                }
            }
        }
    }

    /// The innermost input axis moves: for every position of the other axes, the plane spanned
    /// by input axis `p` (innermost in the output) and the innermost input axis `q` is transposed
    /// in 8×8 tiles, so a tile touches at most 16 pages however far apart its rows lie (larger
    /// tiles thrash the TLB when both strides span pages).
    static func transposeTiles(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ dims: [Int], _ order: [Int]) {
        let rank = dims.count, p = order[rank - 1], q = rank - 1
        let inStrides = Tensor.strides(of: dims), outStrides = Tensor.strides(of: order.map { dims[$0] })
        var outStride = [Int](repeating: 0, count: rank)   // output stride of each input axis
        for (i, axis) in order.enumerated() { outStride[axis] = outStrides[i] }
        let others = (0..<rank).filter { $0 != p && $0 != q }
        let rows = dims[p], cols = dims[q], rowStride = inStrides[p], colStride = outStride[q]
        let tile = 8
        let bands = (rows + tile - 1) / tile
        // Work items: (position of the other axes, band of 32 rows of the plane).
        forEachOffset(others.map { dims[$0] } + [bands], strides: others.map { inStrides[$0] } + [0],
                      also: others.map { outStride[$0] } + [0], costPerItem: tile * cols) { range, inBases, outBases in
            for (item, (inBase, outBase)) in zip(range, zip(inBases, outBases)) {
                let i0 = (item % bands) * tile, i1 = min(i0 + tile, rows)
                var j0 = 0
                while j0 < cols {
                    let j1 = min(j0 + tile, cols)
                    for i in i0..<i1 {
                        let s = src + inBase + i * rowStride, d = dst + outBase + i
                        for j in j0..<j1 { d[j * colStride] = s[j] }
                    }
                    j0 = j1
                }
            }
        }
    }

    /// Walks the row-major index space `extents` in parallel chunks, handing each chunk its range
    /// of flat indices and the matching offsets `Σ index·strides` (and `Σ index·also`).
    static func forEachOffset(_ extents: [Int], strides: [Int], also: [Int]? = nil, costPerItem: Int? = nil,
                              _ body: (Range<Int>, [Int], [Int]) -> Void) {
        let total = Tensor.count(of: extents)
        let second = also ?? [Int](repeating: 0, count: extents.count)
        Compute.parallelRanges(total, costPerItem: costPerItem ?? 1) { range in
            var first = [Int](), other = [Int]()
            first.reserveCapacity(range.count)
            other.reserveCapacity(range.count)
            var counter = [Int](repeating: 0, count: extents.count)
            var rest = range.lowerBound, a = 0, b = 0
            for axis in stride(from: extents.count - 1, through: 0, by: -1) {
                counter[axis] = rest % extents[axis]
                rest /= extents[axis]
                a += counter[axis] * strides[axis]
                b += counter[axis] * second[axis]
            }
            for _ in range {
                first.append(a)
                other.append(b)
                var axis = extents.count - 1
                while axis >= 0 {
                    counter[axis] += 1
                    a += strides[axis]; b += second[axis]
                    if counter[axis] < extents[axis] { break }
                    a -= strides[axis] * extents[axis]; b -= second[axis] * extents[axis]
                    counter[axis] = 0
                    axis -= 1
                }
            }
            body(range, first, other)
        }
    }
}

/// A row-major shape viewed as `[outer, extent, inner]` around one axis: the layout every
/// per-axis op (softmax, concat, slice, gather) loops over. A scalar counts as shape `[1]`.
struct AxisView {
    let axis: Int, outer: Int, extent: Int, inner: Int

    init(_ shape: [Int], axis: Int) throws {
        let s = shape.isEmpty ? [1] : shape
        let a = try normalizeAxis(axis, rank: s.count)
        self.axis = a
        outer = Tensor.count(of: Array(s[..<a]))
        extent = s[a]
        inner = Tensor.count(of: Array(s[(a + 1)...]))
    }

    /// Copies `count` positions along the axis, starting at `from` in `src` (of extent
    /// `srcExtent`) to `to` in `dst` (of extent `dstExtent`), for every outer index.
    static func copy(outer: Int, inner: Int, count: Int,
                     from source: UnsafeBufferPointer<Float>, extent srcExtent: Int, at from: Int,
                     to destination: UnsafeMutableBufferPointer<Float>, extent dstExtent: Int, at to: Int) {
        let length = count * inner
        guard length > 0, outer > 0 else { return }
        let src = source.baseAddress!, dst = destination.baseAddress!
        for o in 0..<outer {
            (dst + (o * dstExtent + to) * inner).update(from: src + (o * srcExtent + from) * inner, count: length)
        }
    }
}
