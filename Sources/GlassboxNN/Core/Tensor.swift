/// A dense, row-major (C order) array of `Float` with a shape.
///
/// `Tensor` is a value type: copies share storage until one of them is mutated (copy on write,
/// inherited from `Array`). It carries no gradient bookkeeping — differentiable computation is
/// built from ``Variable`` nodes whose values are tensors.
///
/// Shapes follow PyTorch's conventions: images are NCHW, linear weights are `[out, in]`,
/// convolution weights are OIHW.
public struct Tensor: Sendable, Equatable, CustomStringConvertible {
    /// Extent of each axis, outermost first. A scalar has shape `[]`.
    public internal(set) var shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.product`.
    public var scalars: [Float]

    /// Creates a tensor, checking that `scalars` fills `shape` exactly.
    public init(shape: [Int], scalars: [Float]) throws {
        try Tensor.validate(shape: shape)
        guard Tensor.count(of: shape) == scalars.count else {
            throw GlassboxError.shapeMismatch(
                "shape \(shape) holds \(Tensor.count(of: shape)) elements but \(scalars.count) were given")
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// Internal initialiser for callers that have already established `scalars.count == product(shape)`.
    public init(uncheckedShape shape: [Int], scalars: [Float]) {
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of the given shape filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
        self.shape = shape
        self.scalars = [Float](repeating: value, count: Tensor.count(of: shape))
    }

    /// All zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    /// All ones.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

    /// A scalar (rank-0) tensor.
    public init(_ value: Float) {
        self.shape = []
        self.scalars = [value]
    }

    /// A rank-1 tensor holding `values`.
    public init(_ values: [Float]) {
        self.shape = [values.count]
        self.scalars = values
    }

    /// A rank-2 tensor from rows of equal length.
    public init(rows: [[Float]]) throws {
        let width = rows.first?.count ?? 0
        for (i, row) in rows.enumerated() where row.count != width {
            throw GlassboxError.shapeMismatch("row \(i) has \(row.count) values, row 0 has \(width)")
        }
        self.shape = [rows.count, width]
        self.scalars = rows.flatMap { $0 }
    }

    /// Number of elements.
    @inlinable public var count: Int { scalars.count }
    /// Number of axes.
    @inlinable public var rank: Int { shape.count }

    /// The single element of a tensor with one element.
    public var scalar: Float {
        precondition(scalars.count == 1, "scalar of a tensor with shape \(shape)")
        return scalars[0]
    }

    /// Same elements, new shape (one extent may be -1 and is inferred).
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        let resolved = try Tensor.resolve(newShape, count: count, from: shape)
        return Tensor(uncheckedShape: resolved, scalars: scalars)
    }

    /// Row-major strides of `shape`.
    public static func strides(of shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = acc
            acc *= shape[axis]
        }
        return strides
    }

    /// Product of the extents (1 for a scalar).
    @inlinable
    public static func count(of shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Rejects negative extents and shapes whose element count overflows.
    public static func validate(shape: [Int]) throws {
        var total = 1
        for extent in shape {
            guard extent >= 0 else { throw GlassboxError.invalidArgument("negative extent in shape \(shape)") }
            let (product, overflow) = total.multipliedReportingOverflow(by: extent)
            guard !overflow, product <= Int(Int32.max) * 64 else {
                throw GlassboxError.invalidArgument("shape \(shape) is too large")
            }
            total = product
        }
    }

    /// Resolves a shape with at most one `-1` against an element count.
    static func resolve(_ newShape: [Int], count: Int, from old: [Int]) throws -> [Int] {
        var shape = newShape
        let unknown = shape.indices.filter { shape[$0] == -1 }
        guard unknown.count <= 1, shape.allSatisfy({ $0 >= -1 }) else {
            throw GlassboxError.shapeMismatch("cannot reshape \(old) to \(newShape)")
        }
        let known = shape.filter { $0 != -1 }.reduce(1, *)
        if let axis = unknown.first {
            guard known > 0, count % known == 0 else {
                throw GlassboxError.shapeMismatch("cannot reshape \(old) (\(count) elements) to \(newShape)")
            }
            shape[axis] = count / known
        }
        guard Tensor.count(of: shape) == count else {
            throw GlassboxError.shapeMismatch("cannot reshape \(old) (\(count) elements) to \(newShape)")
        }
        return shape
    }

    /// Whether every element is finite (no NaN, no ±Inf).
    public var isFinite: Bool {
        scalars.withUnsafeBufferPointer { buffer in
            for v in buffer where !v.isFinite { return false }
            return true
        }
    }

    /// Throws ``GlassboxError/nonFinite(_:)`` naming `what` and the first bad index if any element is NaN or infinite.
    public func checkFinite(_ what: String) throws {
        if let index = scalars.firstIndex(where: { !$0.isFinite }) {
            throw GlassboxError.nonFinite("\(what) has \(scalars[index]) at flat index \(index) (shape \(shape))")
        }
    }

    public var description: String {
        let preview = scalars.prefix(8).map { String(format: "%.4g", Double($0)) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(preview)\(count > 8 ? ", …" : "")])"
    }
}

extension Tensor {
    /// Elementwise map into a new tensor of the same shape.
    @inlinable
    public func map(_ f: (Float) -> Float) -> Tensor {
        // One pass over raw pointers into uninitialised storage: no per-element append or bounds
        // check, no zero fill, and the loop vectorises.
        let out = [Float](unsafeUninitializedCapacity: count) { o, initialized in
            scalars.withUnsafeBufferPointer { a in
                for i in 0..<a.count { (o.baseAddress! + i).initialize(to: f(a[i])) }
            }
            initialized = count
        }
        return Tensor(uncheckedShape: shape, scalars: out)
    }

    /// Elementwise combination of two tensors of identical shape.
    @inlinable
    public func zip(_ other: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        precondition(shape == other.shape, "zip of \(shape) and \(other.shape)")
        let out = [Float](unsafeUninitializedCapacity: count) { o, initialized in
            scalars.withUnsafeBufferPointer { a in
                other.scalars.withUnsafeBufferPointer { b in
                    for i in 0..<a.count { (o.baseAddress! + i).initialize(to: f(a[i], b[i])) }
                }
            }
            initialized = count
        }
        return Tensor(uncheckedShape: shape, scalars: out)
    }

    /// Adds `other` (same shape) into `self` in place: the accumulate step of every backward pass.
    @inlinable
    public mutating func add(_ other: Tensor) {
        precondition(shape == other.shape, "accumulating \(other.shape) into \(shape)")
        let n = count
        scalars.withUnsafeMutableBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in
                for i in 0..<n { a[i] += b[i] }
            }
        }
    }

    /// Sum of all elements, accumulated in Double for accuracy.
    public func sumAll() -> Double {
        scalars.withUnsafeBufferPointer { b in
            var s = 0.0
            for v in b { s += Double(v) }
            return s
        }
    }

    /// Largest absolute elementwise difference to `other` (same shape).
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "comparing \(shape) and \(other.shape)")
        var m: Float = 0
        for i in 0..<count { m = Swift.max(m, abs(scalars[i] - other.scalars[i])) }
        return m
    }
}
