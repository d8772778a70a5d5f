/// Padding of an N-d tensor, the shared helper of `Pad`, asymmetric `Conv` padding and pooling.
///
/// `begin[i]`/`end[i]` elements are added before/after axis `i` (negative values crop). Constant
/// mode concatenates constant blocks (their gradient is dropped); `edge` and `reflect` gather
/// the source positions, so backward adds each output gradient to the element it copied.
/// Cost: one copy of the output per padded axis.
func graphPad(_ x: Variable, begin: [Int], end: [Int], mode: String = "constant", value: Float = 0) throws -> Variable {
    guard begin.count == x.value.rank, end.count == x.value.rank else {
        throw GlassboxError.invalidArgument("padding \(begin), \(end) does not match rank \(x.value.rank)")
    }
    guard (begin + end).allSatisfy({ $0 >= -(1 << 31) && $0 <= 1 << 31 }) else {
        throw GlassboxError.invalidArgument("padding \(begin), \(end) is out of range")
    }
    var outShape = x.shape
    for axis in 0..<x.value.rank {
        let (sum, o1) = outShape[axis].addingReportingOverflow(begin[axis])
        let (total, o2) = sum.addingReportingOverflow(end[axis])
        guard !o1, !o2 else { throw GlassboxError.invalidArgument("padding \(begin), \(end) is out of range") }
        outShape[axis] = Swift.max(0, total)
    }
    try graphCheckSize(outShape)
    var y = x
    for axis in 0..<x.value.rank {
        var (b, e) = (begin[axis], end[axis])
        if b == 0 && e == 0 { continue }
        let extent = y.shape[axis]
        if b < 0 || e < 0 {  // crop first
            let lo = Swift.max(0, -b), hi = extent - Swift.max(0, -e)
            guard lo <= hi else { throw GlassboxError.invalidArgument("padding crops more than axis \(axis) holds (\(extent))") }
            y = try slice(y, axis: axis, range: lo..<hi)
            b = Swift.max(0, b); e = Swift.max(0, e)
            if b == 0 && e == 0 { continue }
        }
        let n = y.shape[axis]
        switch mode {
        case "constant":
            var parts: [Variable] = []
            var shape = y.shape
            if b > 0 { shape[axis] = b; parts.append(graphConstant(value, shape: shape)) }
            parts.append(y)
            if e > 0 { shape[axis] = e; parts.append(graphConstant(value, shape: shape)) }
            y = try concat(parts, axis: axis)
        case "edge", "reflect":
            guard n > 0 else { throw GlassboxError.invalidArgument("\(mode) padding of an empty axis \(axis)") }
            if mode == "reflect" {
                guard b < n, e < n else {
                    throw GlassboxError.invalidArgument("reflect padding \(b), \(e) needs fewer elements than axis \(axis) holds (\(n))")
                }
            }
            let indices = (-b..<(n + e)).map { i -> Int in
                if (0..<n).contains(i) { return i }
                if mode == "edge" { return i < 0 ? 0 : n - 1 }
                return i < 0 ? -i : 2 * (n - 1) - i
            }
            y = try gather(y, indices: indices, axis: axis)
        default:
            throw GlassboxError.invalidArgument("pad mode '\(mode)' is not supported (constant, edge, reflect)")
        }
    }
    return y
}
