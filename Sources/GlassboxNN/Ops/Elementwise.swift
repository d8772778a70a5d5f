import CKernels

/// A scalar function of one element. Elementwise ops pass these as types rather than closures:
/// the loops below are then specialised for each function and inline it, so the compiler can
/// vectorise them (a closure handed through `Compute.parallelRanges` stays an opaque call per
/// element, several times slower). Transcendental functions instead run as C kernels
/// (`gb_pointwise.h`) through ``Elementwise/kernel(_:cost:_:)``, which reach AVX-512.
protocol UnaryFunction { func callAsFunction(_ x: Float) -> Float }
/// A scalar function of two elements (see ``UnaryFunction``).
protocol BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float }
/// A scalar function of three elements (see ``UnaryFunction``).
protocol TernaryFunction { func callAsFunction(_ a: Float, _ b: Float, _ c: Float) -> Float }

/// The loops behind every elementwise op: one pass over contiguous storage, split over
/// `Compute.threads` when the work repays a dispatch. Each output element is written by exactly one
/// worker, so results do not depend on the thread count.
///
/// `cost` is the rough price of one element in nanoseconds (≈ 1 for arithmetic and the C
/// kernels, more for libm calls); it only decides whether to parallelise.
enum Elementwise {
    /// `f(x)` for every element.
    static func map<F: UnaryFunction>(_ x: Tensor, cost: Int = 1, _ f: F) -> Tensor {
        let n = x.count
        let out = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            let po = buffer
            x.scalars.withUnsafeBufferPointer { px in
                Compute.parallelRanges(n, costPerItem: cost, minimumCost: minimumCost) { range in
                    for i in range { po[i] = f(px[i]) }
                }
            }
            initialized = n
        }
        return Tensor(uncheckedShape: x.shape, scalars: out)
    }

    /// `f(a, b)` for every pair of elements of two tensors of the same shape.
    static func zip<F: BinaryFunction>(_ a: Tensor, _ b: Tensor, cost: Int = 1, _ f: F) -> Tensor {
        precondition(a.shape == b.shape, "elementwise \(a.shape) and \(b.shape)")
        let n = a.count
        let out = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            let po = buffer
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    Compute.parallelRanges(n, costPerItem: cost, minimumCost: minimumCost) { range in
                        for i in range { po[i] = f(pa[i], pb[i]) }
                    }
                }
            }
            initialized = n
        }
        return Tensor(uncheckedShape: a.shape, scalars: out)
    }

    /// `f(a, b, c)` for every triple of elements of three tensors of the same shape.
    static func zip3<F: TernaryFunction>(_ a: Tensor, _ b: Tensor, _ c: Tensor, cost: Int = 1, _ f: F) -> Tensor {
        precondition(a.shape == b.shape && a.shape == c.shape, "elementwise \(a.shape), \(b.shape) and \(c.shape)")
        let n = a.count
        let out = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            let po = buffer
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    c.scalars.withUnsafeBufferPointer { pc in
                        Compute.parallelRanges(n, costPerItem: cost, minimumCost: minimumCost) { range in
                            for i in range { po[i] = f(pa[i], pb[i], pc[i]) }
                        }
                    }
                }
            }
            initialized = n
        }
        return Tensor(uncheckedShape: a.shape, scalars: out)
    }

    /// `kernel(x, y, n)` — a C loop over `n` contiguous elements — applied to all of `x`.
    static func kernel(_ x: Tensor, cost: Int = 1,
                       _ kernel: (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void) -> Tensor {
        let n = x.count
        let out = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            let po = buffer.baseAddress
            x.scalars.withUnsafeBufferPointer { px in
                Compute.parallelRanges(n, costPerItem: cost, minimumCost: minimumCost) { r in
                    kernel(px.baseAddress! + r.lowerBound, po! + r.lowerBound, r.count)
                }
            }
            initialized = n
        }
        return Tensor(uncheckedShape: x.shape, scalars: out)
    }

    /// `kernel(a, b, y, n)` — a C loop over `n` contiguous pairs — applied to two tensors of the
    /// same shape.
    static func kernel(_ a: Tensor, _ b: Tensor, cost: Int = 1,
                       _ kernel: (UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void) -> Tensor {
        precondition(a.shape == b.shape, "elementwise \(a.shape) and \(b.shape)")
        let n = a.count
        let out = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            let po = buffer.baseAddress
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    Compute.parallelRanges(n, costPerItem: cost, minimumCost: minimumCost) { r in
                        kernel(pa.baseAddress! + r.lowerBound, pb.baseAddress! + r.lowerBound, po! + r.lowerBound, r.count)
                    }
                }
            }
            initialized = n
        }
        return Tensor(uncheckedShape: a.shape, scalars: out)
    }

    /// Work (≈ ns) below which a second thread costs more to wake than it saves.
    static let minimumCost = 100_000
}

/// `a·b`: the backward of every op whose derivative is a saved tensor (exp, dropout).
struct Multiply: BinaryFunction {
    @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a * b }
}
