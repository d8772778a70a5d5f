// PLACEHOLDER naive GEMM until the packed kernel lands (same API).
import CKernels
public enum GEMM {
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var s: Float = 0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += av * bv
                }
                c[i * ldc + j] = alpha * s + (beta == 0 ? 0 : beta * c[i * ldc + j])
            }
        }
    }
}
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws -> Tensor {
    let m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1]
    let k2 = transposeB ? b.shape[1] : b.shape[0], n = transposeB ? b.shape[0] : b.shape[1]
    guard k == k2 else { throw GlassboxError.shapeMismatch("matmul \(a.shape) \(b.shape)") }
    var out = Tensor.zeros([m, n])
    a.scalars.withUnsafeBufferPointer { pa in b.scalars.withUnsafeBufferPointer { pb in out.scalars.withUnsafeMutableBufferPointer { pc in
        GEMM.sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: 1, a: pa.baseAddress!, lda: a.shape[1], b: pb.baseAddress!, ldb: b.shape[1], beta: 0, c: pc.baseAddress!, ldc: n)
    }}}
    return out
}
