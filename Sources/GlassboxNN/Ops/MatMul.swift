/// Matrix product `op(A) · op(B)` where `op` optionally transposes.
///
/// Shapes: rank 2, `op(A)` is `[m, k]`, `op(B)` is `[k, n]`, result `[m, n]`; or rank 3 with a
/// shared leading batch extent (`[b, m, k] · [b, k, n]`, as attention uses).
///
/// Backward (for `C = A·B`): `dA = dC·Bᵀ`, `dB = Aᵀ·dC`; the transposed variants follow by
/// transposing those identities, so every gradient is itself one GEMM with no explicit transpose.
/// Cost: `2·m·n·k` FLOP forward, twice that backward.
public func matmul(_ a: Variable, _ b: Variable, transposeA: Bool = false, transposeB: Bool = false) throws -> Variable {
    let av = a.value, bv = b.value
    let value = try batchedMatmul(av, bv, transposeA: transposeA, transposeB: transposeB)
    return Variable.result(value, inputs: [a, b]) { g in
        if a.requiresGrad {
            // A·B: dA = g·Bᵀ; Aᵀ·B: dA = B·gᵀ; A·Bᵀ: dA = g·B; Aᵀ·Bᵀ: dA = Bᵀ·gᵀ
            let da = transposeA
                ? try! batchedMatmul(bv, g, transposeA: transposeB, transposeB: true)
                : try! batchedMatmul(g, bv, transposeA: false, transposeB: !transposeB)
            a.accumulate(da)
        }
        if b.requiresGrad {
            // A·B: dB = Aᵀ·g; Aᵀ·B: dB = A·g; A·Bᵀ: dB = gᵀ·A; Aᵀ·Bᵀ: dB = gᵀ·Aᵀ
            let db = transposeB
                ? try! batchedMatmul(g, av, transposeA: true, transposeB: transposeA)
                : try! batchedMatmul(av, g, transposeA: !transposeA, transposeB: false)
            b.accumulate(db)
        }
    }
}

/// Tensor-level product for rank 2 or batched rank 3 operands (see ``matmul(_:_:transposeA:transposeB:)-(Variable,Variable,_,_)``).
public func batchedMatmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws -> Tensor {
    if a.rank == 2 && b.rank == 2 {
        return try matmul(a, b, transposeA: transposeA, transposeB: transposeB)
    }
    guard a.rank == 3, b.rank == 3, a.shape[0] == b.shape[0] else {
        throw GlassboxError.shapeMismatch("matmul needs two rank-2 or two rank-3 tensors with equal batch, got \(a.shape) and \(b.shape)")
    }
    let batch = a.shape[0]
    let m = transposeA ? a.shape[2] : a.shape[1], k = transposeA ? a.shape[1] : a.shape[2]
    let kb = transposeB ? b.shape[2] : b.shape[1], n = transposeB ? b.shape[1] : b.shape[2]
    guard k == kb else {
        throw GlassboxError.shapeMismatch("matmul inner extents differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
    }
    var out = [Float](repeating: 0, count: batch * m * n)
    let sa = a.shape[1] * a.shape[2], sb = b.shape[1] * b.shape[2]
    a.scalars.withUnsafeBufferPointer { pa in
        b.scalars.withUnsafeBufferPointer { pb in
            out.withUnsafeMutableBufferPointer { pc in
                for i in 0..<batch where m > 0 && n > 0 {
                    GEMM.sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: 1,
                               a: pa.baseAddress! + i * sa, lda: a.shape[2],
                               b: pb.baseAddress! + i * sb, ldb: b.shape[2],
                               beta: 0, c: pc.baseAddress! + i * m * n, ldc: n)
                }
            }
        }
    }
    return Tensor(uncheckedShape: [batch, m, n], scalars: out)
}
