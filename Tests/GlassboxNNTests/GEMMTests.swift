import CKernels
import Testing
@testable import GlassboxNN

/// Deterministic pseudo-random numbers in [-1, 1) (SplitMix64), so failures reproduce.
private struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func float() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func floats(_ count: Int) -> [Float] { (0..<count).map { _ in float() } }
}

/// One GEMM problem with stored (possibly padded) operands.
private struct Problem: CustomTestStringConvertible {
    var transA: Bool, transB: Bool
    var m: Int, n: Int, k: Int
    var lda: Int, ldb: Int, ldc: Int
    var alpha: Float, beta: Float
    var a: [Float], b: [Float], c: [Float]

    init(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, pad: Int = 0, lda: Int? = nil,
         alpha: Float = 1, beta: Float = 0, nanC: Bool = false, seed: UInt64) {
        var rng = TestRandom(seed: seed)
        self.transA = transA; self.transB = transB
        self.m = m; self.n = n; self.k = k
        self.alpha = alpha; self.beta = beta
        let aRows = transA ? k : m, aCols = transA ? m : k
        let bRows = transB ? n : k, bCols = transB ? k : n
        self.lda = lda ?? Swift.max(1, aCols + pad); ldb = Swift.max(1, bCols + pad); ldc = Swift.max(1, n + pad)
        a = rng.floats(Swift.max(1, aRows * self.lda))
        b = rng.floats(Swift.max(1, bRows * ldb))
        c = nanC ? [Float](repeating: .nan, count: Swift.max(1, m * ldc)) : rng.floats(Swift.max(1, m * ldc))
    }

    var testDescription: String {
        "\(m)×\(n)×\(k) tA=\(transA) tB=\(transB) ld=(\(lda),\(ldb),\(ldc)) α=\(alpha) β=\(beta)"
    }

    /// Naive reference accumulated in Double; padding columns of C are left untouched.
    func reference() -> [Double] {
        var out = c.map(Double.init)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(av) * Double(bv)
                }
                let old = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                out[i * ldc + j] = Double(alpha) * s + old
            }
        }
        return out
    }

    /// Runs with a forced kernel family; nil when this CPU cannot run it.
    func run(isa: Int, blocks: (mc: Int, kc: Int, nc: Int) = (0, 0, 0)) -> [Float]? {
        var out = c
        let ran = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { pc in
                    GEMM.sgemmVariant(isa: isa, blocks: blocks, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                      a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                                      beta: beta, c: pc.baseAddress!, ldc: ldc)
                }
            }
        }
        return ran ? out : nil
    }

    func run(threads: Int = Compute.threads) -> [Float] {
        var out = c
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { pc in
                    GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                               a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                               beta: beta, c: pc.baseAddress!, ldc: ldc, threads: threads)
                }
            }
        }
        return out
    }

    /// Largest error relative to the magnitude scale of the exact terms; padding must be intact.
    func check(_ got: [Float]) -> (ok: Bool, detail: String) {
        let want = reference()
        let scale = Double(Swift.max(1, k)) * Double(Swift.max(abs(alpha), 1)) + Double(abs(beta))
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<ldc where i * ldc + j < got.count {
                let idx = i * ldc + j
                if j >= n {
                    // Outside the logical width: must be bit-for-bit untouched (NaN stays NaN).
                    if got[idx].bitPattern != c[idx].bitPattern { return (false, "padding changed at (\(i), \(j))") }
                    continue
                }
                guard got[idx].isFinite else { return (false, "non-finite \(got[idx]) at (\(i), \(j))") }
                worst = Swift.max(worst, abs(Double(got[idx]) - want[idx]) / scale)
            }
        }
        return (worst <= 1e-5, "max scaled error \(worst)")
    }
}

private func transposeCombos() -> [(Bool, Bool)] { [(false, false), (false, true), (true, false), (true, true)] }

@Suite("GEMM")
struct GEMMTests {
    @Test("fixed awkward sizes, all transpose combinations", arguments: [
        (1, 1, 1), (37, 53, 29), (12, 32, 7), (13, 33, 300), (11, 31, 1), (64, 16, 64),
        (25, 65, 257), (200, 3, 5), (2, 190, 129), (49, 97, 520),
    ])
    func awkwardSizes(size: (Int, Int, Int)) {
        for (tA, tB) in transposeCombos() {
            let p = Problem(transA: tA, transB: tB, m: size.0, n: size.1, k: size.2,
                            seed: UInt64(size.0 * 1_000_003 + size.1 * 1009 + size.2))
            let r = p.check(p.run())
            #expect(r.ok, "\(p.testDescription): \(r.detail)")
        }
    }

    @Test("random sizes with padded strides, alpha and beta")
    func randomPadded() {
        var rng = TestRandom(seed: 42)
        for trial in 0..<24 {
            let (tA, tB) = transposeCombos()[trial % 4]
            let m = rng.int(1...120), n = rng.int(1...120), k = rng.int(1...150)
            let alpha: Float = [1, -0.5, 2.25][trial % 3], beta: Float = [0, 1, 0.75, -1.5][trial % 4]
            let p = Problem(transA: tA, transB: tB, m: m, n: n, k: k, pad: rng.int(1...9),
                            alpha: alpha, beta: beta, seed: UInt64(trial) &* 7919)
            let r = p.check(p.run())
            #expect(r.ok, "\(p.testDescription): \(r.detail)")
        }
    }

    @Test("beta = 0 overwrites a NaN-filled C without reading it")
    func betaZeroIgnoresNaN() {
        for (tA, tB) in transposeCombos() {
            for (m, n, k) in [(5, 7, 3), (37, 70, 41), (130, 45, 260)] {
                let p = Problem(transA: tA, transB: tB, m: m, n: n, k: k, pad: 3, alpha: 1.5,
                                beta: 0, nanC: true, seed: UInt64(m * n * k))
                let r = p.check(p.run())
                #expect(r.ok, "\(p.testDescription): \(r.detail)")
            }
        }
    }

    @Test("k = 0 and alpha = 0 only scale C by beta")
    func degenerate() {
        for beta: Float in [0, 1, -2] {
            var p = Problem(transA: false, transB: false, m: 9, n: 35, k: 0, pad: 2, beta: beta, seed: 7)
            if beta == 0 { p.c = p.c.map { _ in .nan } }
            let got = p.run()
            for i in 0..<p.m {
                for j in 0..<p.n {
                    let want = beta == 0 ? 0 : beta * p.c[i * p.ldc + j]
                    #expect(got[i * p.ldc + j] == want)
                }
            }
            // alpha = 0 must not touch A or B: NaN in them must not leak into C.
            var q = Problem(transA: true, transB: false, m: 6, n: 40, k: 17, beta: beta, seed: 8)
            q.alpha = 0
            q.a = q.a.map { _ in .nan }
            let got2 = q.run()
            for i in 0..<q.m {
                for j in 0..<q.n {
                    let want = beta == 0 ? 0 : beta * q.c[i * q.ldc + j]
                    #expect(got2[i * q.ldc + j] == want)
                }
            }
        }
    }

    @Test("results are bit-identical across runs and thread counts")
    func determinism() {
        // Big enough (≈ 9 MFLOP) that the multi-threaded split is really used.
        for (tA, tB) in transposeCombos() {
            for (m, n, k) in [(190, 200, 120), (200, 40, 600)] {
                let p = Problem(transA: tA, transB: tB, m: m, n: n, k: k, pad: 1, alpha: 0.5,
                                beta: 0.25, seed: 99)
                let one = p.run(threads: 1), two = p.run(threads: 2), again = p.run(threads: 2)
                let three = p.run(threads: 3)
                #expect(one.map(\.bitPattern) == two.map(\.bitPattern), "\(p.testDescription): 1 vs 2 threads")
                #expect(two.map(\.bitPattern) == again.map(\.bitPattern), "\(p.testDescription): repeat")
                #expect(one.map(\.bitPattern) == three.map(\.bitPattern), "\(p.testDescription): 1 vs 3 threads")
                let r = p.check(two)
                #expect(r.ok, "\(p.testDescription): \(r.detail)")
            }
        }
    }

    @Test("every kernel family this CPU supports (fallbacks included) is correct",
          arguments: GEMM.variantNames.indices)
    func kernelFamilies(isa: Int) {
        var rng = TestRandom(seed: UInt64(1000 + isa))
        for trial in 0..<16 {
            let (tA, tB) = transposeCombos()[trial % 4]
            // Widths around the tile sizes (8, 16, 32 and their halves) plus random ones.
            let n = [1, 7, 8, 15, 16, 17, 31, 33, 48, 70][trial % 10]
            let m = [1, 5, 6, 11, 12, 13, 25, 40][trial % 8], k = rng.int(1...300)
            let p = Problem(transA: tA, transB: tB, m: m, n: n, k: k, pad: trial % 3, alpha: 1.25,
                            beta: trial % 2 == 0 ? 0 : -0.5, nanC: trial % 4 == 0, seed: UInt64(trial + 50 * isa))
            guard let got = p.run(isa: isa) else { return }  // not available on this CPU
            let r = p.check(got)
            #expect(r.ok, "\(GEMM.variantNames[isa]) \(p.testDescription): \(r.detail)")
        }
    }

    @Test("small cache blocks exercise every blocking loop and the A copy", arguments: GEMM.variantNames.indices)
    func blockingLoops(isa: Int) {
        for trial in 0..<8 {
            let (tA, tB) = transposeCombos()[trial % 4]
            // lda = 256 or 512 puts plain-A rows in the same L1 sets, which switches on the copy.
            let lda: Int? = tA ? nil : [256, 512, nil, nil][trial / 2 % 4]
            let p = Problem(transA: tA, transB: tB, m: 61 + trial, n: 83 + 3 * trial, k: 97 + 11 * trial,
                            pad: 1, lda: lda, alpha: -0.75, beta: trial % 3 == 0 ? 0 : 2, nanC: trial % 3 == 0,
                            seed: UInt64(300 + trial))
            guard let got = p.run(isa: isa, blocks: (mc: 24, kc: 40, nc: 48)) else { return }
            let r = p.check(got)
            #expect(r.ok, "\(GEMM.variantNames[isa]) \(p.testDescription): \(r.detail)")
            // The default blocking sums in a different order but must agree within rounding.
            let r2 = p.check(p.run(isa: isa)!)
            #expect(r2.ok, "\(GEMM.variantNames[isa]) default blocks \(p.testDescription): \(r2.detail)")
        }
    }

    @Test("work split covers C exactly once")
    func planCoversC() {
        for (m, n) in [(1, 1), (784, 32), (64, 128), (1024, 1024), (37, 1000), (13, 33)] {
            for threads in 1...5 {
                let regions = GEMM.split(m: m, n: n, k: 4096, threads: threads)
                #expect(regions.count >= 1 && regions.count <= threads)
                var hits = [Int](repeating: 0, count: m * n)
                for (rows, cols) in regions {
                    for i in rows { for j in cols { hits[i * n + j] += 1 } }
                }
                #expect(hits.allSatisfy { $0 == 1 }, "m=\(m) n=\(n) threads=\(threads)")
            }
        }
    }

    @Test("the kernel thread pool runs every task exactly once, also past one job's 65535 tasks")
    func poolRunsEveryTask() {
        for (tasks, threads) in [(1, 2), (5, 2), (3, 8), (70_000, 2), (1000, 1)] {
            var hits = [Int32](repeating: 0, count: tasks)
            hits.withUnsafeMutableBufferPointer { buffer in
                gb_parallel_for(tasks, threads, { ctx, task in
                    ctx!.assumingMemoryBound(to: Int32.self)[task] += 1
                }, buffer.baseAddress!)
            }
            #expect(hits.allSatisfy { $0 == 1 }, "tasks=\(tasks) threads=\(threads)")
        }
    }

    @Test("matmul on tensors, with transposes, and shape errors")
    func tensorMatmul() throws {
        let a = try Tensor(rows: [[1, 2, 3], [4, 5, 6]])          // 2×3
        let b = try Tensor(rows: [[7, 8], [9, 10], [11, 12]])      // 3×2
        let ab = try matmul(a, b)
        #expect(ab.shape == [2, 2])
        #expect(ab.scalars == [58, 64, 139, 154])
        let atb = try matmul(a, a, transposeA: true)                // 3×3 = aᵀ·a
        #expect(atb.shape == [3, 3])
        #expect(atb.scalars == [17, 22, 27, 22, 29, 36, 27, 36, 45])
        let abt = try matmul(a, a, transposeB: true)                // 2×2 = a·aᵀ
        #expect(abt.scalars == [14, 32, 32, 77])
        let empty = try matmul(Tensor.zeros([2, 0]), Tensor.zeros([0, 4]))
        #expect(empty.shape == [2, 4] && empty.scalars.allSatisfy { $0 == 0 })

        #expect(throws: GlassboxError.self) { try matmul(a, a) }
        do {
            _ = try matmul(a, a)
        } catch let error as GlassboxError {
            #expect(error.description.contains("[2, 3]"), "\(error)")
        }
        #expect(throws: GlassboxError.self) { try matmul(Tensor([1, 2, 3]), b) }
    }
}
