/// Vectorised loops over one contiguous run of floats: the inner loops of bias gradients,
/// pooling and normalisation.
///
/// Why: the compiler leaves plain pointer loops scalar (it cannot rule out aliasing, and may not
/// reorder a Float sum, which is one serial dependency chain). These process 16 lanes at a time
/// in SIMD registers, then the remainder one by one. Sums keep sixteen partial sums combined at
/// the end; the order depends only on `count`, so results are deterministic.
enum Runs {
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD16<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    /// Calls `block(i)` for `i = 0, 16, 32, …` while 16 elements remain, then `element(i)` for each
    /// remaining index. The two closures must do the same thing to 16 elements and to one.
    @inline(__always)
    static func apply(_ count: Int, _ block: (Int) -> Void, _ element: (Int) -> Void) {
        var i = 0
        while i + 16 <= count {
            block(i)
            i += 16
        }
        while i < count {
            element(i)
            i += 1
        }
    }

    /// `Σ x[i]`.
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        reduce(count, { load(x, $0) }, { x[$0] })
    }

    /// `Σ (x[i] − mean)²`.
    @inline(__always)
    static func squaredDeviations(_ x: UnsafePointer<Float>, _ count: Int, mean: Float) -> Float {
        reduce(count, { let d = load(x, $0) - mean; return d * d }, { let d = x[$0] - mean; return d * d })
    }

    /// `Σ g[i] · (x[i] − mean)`.
    @inline(__always)
    static func productDeviations(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int,
                                  mean: Float) -> Float {
        reduce(count, { load(g, $0) * (load(x, $0) - mean) }, { g[$0] * (x[$0] - mean) })
    }

    /// `Σ a[i] · b[i]`.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        reduce(count, { load(a, $0) * load(b, $0) }, { a[$0] * b[$0] })
    }

    /// `Σ a[i] · b[i] · c[i]`.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>,
                    _ count: Int) -> Float {
        reduce(count, { load(a, $0) * load(b, $0) * load(c, $0) }, { a[$0] * b[$0] * c[$0] })
    }

    @inline(__always)
    private static func reduce(_ count: Int, _ block: (Int) -> SIMD16<Float>, _ element: (Int) -> Float) -> Float {
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= count {
            acc += block(i)
            i += 16
        }
        var s = acc.sum()
        while i < count {
            s += element(i)
            i += 1
        }
        return s
    }
}
