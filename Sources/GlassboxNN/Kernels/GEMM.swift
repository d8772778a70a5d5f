import CKernels

/// Single-precision general matrix multiply, the kernel under every dense layer and convolution.
///
/// The work is done by a packed, cache-blocked C kernel (`CKernels/gemm.c`, Goto/BLIS style) that
/// picks an AVX-512 (12×32 register tile), AVX2+FMA (6×16) or portable (4×8) micro-kernel at run
/// time, and by a small spinning thread pool (`CKernels/threadpool.c`) that splits C into one
/// region per thread.
///
/// Blocking, and why: op(B) is packed in k blocks of KC = 256 rows and up to NC = 4096 columns
/// so that each KC×32 micro-panel (32 KiB) stays in L1 while 12-row strips of A stream past it;
/// an MC = 240-row block of A (240 KiB) stays in L2 and is read in place — a broadcast operand
/// needs no packing — unless its row stride would make the rows collide in L1, in which case it
/// is copied. Threads get disjoint column ranges (row ranges for outputs too narrow to share), so
/// no packed data is duplicated or shared and no thread waits on another.
///
/// Determinism: each element of C is computed by exactly one thread, always by the same
/// micro-kernel arithmetic with a summation order that depends only on `k`, so results are
/// bit-identical from run to run and for any thread count (on a given CPU).
public enum GEMM {
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, row-major; op(X) = X or Xᵀ.
    ///
    /// Shapes as stored: A is m×k (k×m when `transA`), B is k×n (n×k when `transB`), C is m×n.
    /// lda/ldb/ldc are row strides (in elements) of the matrices as stored, so they must be at
    /// least the stored row width; they may be larger to address sub-matrices.
    /// beta == 0 overwrites C without reading it (C may hold garbage/NaN); alpha == 0 or k == 0
    /// only scales C by beta.
    ///
    /// Cost: 2·m·n·k FLOP plus one copy of op(B) (k·n floats). About 350 GFLOP/s on two
    /// AVX-512 cores for n ≥ 256. Products under ~3 MFLOP run on the calling thread with no
    /// allocation after the first call, so tiny ones (64×16·16×64) take about a microsecond;
    /// larger ones are split over up to `Compute.threads` threads.
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
              b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: Compute.threads)
    }

    /// ``sgemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` with an explicit upper
    /// bound on the worker count instead of `Compute.threads`.
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative size m=\(m) n=\(n) k=\(k)")
        precondition(lda >= Swift.max(1, transA ? m : k), "sgemm: lda=\(lda) below row width \(transA ? m : k)")
        precondition(ldb >= Swift.max(1, transB ? k : n), "sgemm: ldb=\(ldb) below row width \(transB ? k : n)")
        precondition(ldc >= Swift.max(1, n), "sgemm: ldc=\(ldc) below row width \(n)")
        guard m > 0, n > 0 else { return }
        gb_sgemm_threaded(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                          Swift.max(1, threads))
    }

    /// Instruction set the kernel dispatched to on this CPU ("avx512f", "avx2+fma", "generic").
    public static var isa: String { String(cString: gb_sgemm_isa()) }

    /// Kernel families `sgemmVariant` can force: portable C, AVX2+FMA, AVX-512F.
    static let variantNames = ["generic", "avx2+fma", "avx512f"]

    /// Runs the whole product single-threaded with kernel family `isa` (an index into
    /// `variantNames`) and optionally smaller cache blocks (0 keeps the default), so tests can
    /// check the fallbacks and every blocking loop with small matrices. Returns false, leaving C
    /// untouched, when this CPU cannot run that family.
    static func sgemmVariant(isa: Int, blocks: (mc: Int, kc: Int, nc: Int) = (0, 0, 0),
                             transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) -> Bool {
        gb_sgemm_variant(Int32(isa), blocks.mc, blocks.kc, blocks.nc, transA ? 1 : 0, transB ? 1 : 0,
                         m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) != 0
    }

    /// The regions (rows, columns) of an m×n C that `sgemm` hands to separate threads, in task order.
    static func split(m: Int, n: Int, k: Int, threads: Int) -> [(rows: Range<Int>, cols: Range<Int>)] {
        let tasks = gb_sgemm_split(m, n, k, threads, -1, nil)
        return (0..<tasks).map { task in
            var r = [Int](repeating: 0, count: 4)
            _ = gb_sgemm_split(m, n, k, threads, task, &r)
            return (r[0]..<r[1], r[2]..<r[3])
        }
    }
}

/// Matrix product of two rank-2 tensors: op(a) · op(b) with op(x) = x or xᵀ.
///
/// Shapes: op(a) is [m, k], op(b) is [k, n], the result is [m, n]. Cost 2·m·n·k FLOP (see
/// ``GEMM/sgemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``).
/// Throws ``GlassboxError/shapeMismatch(_:)`` naming both shapes if either tensor is not rank 2
/// or the inner extents differ.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws -> Tensor {
    let marks = (transposeA ? "ᵀ" : "", transposeB ? "ᵀ" : "")
    guard a.rank == 2, b.rank == 2 else {
        throw GlassboxError.shapeMismatch(
            "matmul needs rank-2 tensors, got \(a.shape)\(marks.0) · \(b.shape)\(marks.1)")
    }
    let m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1]
    let kb = transposeB ? b.shape[1] : b.shape[0], n = transposeB ? b.shape[0] : b.shape[1]
    guard k == kb else {
        throw GlassboxError.shapeMismatch(
            "matmul inner extents differ: \(a.shape)\(marks.0) · \(b.shape)\(marks.1) (\(k) vs \(kb))")
    }
    if k == 0 { return Tensor.zeros([m, n]) }
    // beta == 0 never reads C, so the output can start uninitialised.
    let scalars = [Float](unsafeUninitializedCapacity: m * n) { out, count in
        if m > 0 && n > 0 {
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    GEMM.sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: 1,
                               a: pa.baseAddress!, lda: Swift.max(1, a.shape[1]),
                               b: pb.baseAddress!, ldb: Swift.max(1, b.shape[1]),
                               beta: 0, c: out.baseAddress!, ldc: n)
                }
            }
        }
        count = m * n
    }
    return Tensor(uncheckedShape: [m, n], scalars: scalars)
}
