import CKernels
import Testing
@testable import GlassboxNN

/// `gb_dense_narrow` and `gb_masked_dense` (CKernels/dense_small.c) against double-precision
/// loops over their definitions at every kernel path this CPU runs, the paths that fuse
/// multiply-adds compared bit for bit.
@Suite struct DenseKernelTests {
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float(rng.uniformDouble() * 2 - 1) }
    }

    static func activate(_ v: Double, _ act: Int32, _ slope: Float) -> Double {
        if act == Int32(GB_ACT_RELU) { return max(v, 0) }
        if act == Int32(GB_ACT_LEAKY_RELU) { return v > 0 ? v : Double(slope) * v }
        return v
    }

    @Test(arguments: [(1, 1, 1), (5, 2, 2), (16, 32, 2), (17, 31, 3), (40, 33, 1), (3, 100, 7), (33, 16, 15), (20, 5, 4),
                      (9, 40, 8), (27, 64, 2)])
    func narrowMatchesDefinition(_ shape: (rows: Int, k: Int, og: Int)) throws {
        // Strided rows on both sides, then densely stored outputs (the packed path for 1, 2, 4, 8 outputs).
        try DenseKernelTests.checkNarrow(rows: shape.rows, k: shape.k, og: shape.og, yRowStride: shape.og + 2)
        try DenseKernelTests.checkNarrow(rows: shape.rows, k: shape.k, og: shape.og, yRowStride: shape.og)
    }

    static func checkNarrow(rows: Int, k: Int, og: Int, yRowStride: Int) throws {
        let xRowStride = k + 3
        let x = DenseKernelTests.values(rows * xRowStride, seed: 1), w = DenseKernelTests.values(og * k, seed: 2)
        let bias = DenseKernelTests.values(og, seed: 3)
        var packed = [Float](repeating: .nan, count: gb_dense_narrow_packed_size(k, og))
        gb_dense_narrow_pack(w, k, og, &packed)
        for (act, slope) in [(Int32(GB_ACT_NONE), Float(0)), (Int32(GB_ACT_RELU), 0), (Int32(GB_ACT_LEAKY_RELU), 0.2)] {
            var results: [[Float]] = []
            for path in KernelPath.available {
                let isa = path.code
                var y = [Float](repeating: 99, count: rows * yRowStride)
                guard gb_dense_narrow_variant(isa, rows, k, og, x, xRowStride, packed, bias, act, slope, &y, yRowStride) != 0 else { continue }
                for r in 0..<rows {
                    for o in 0..<og {
                        var s = Double(bias[o])
                        for c in 0..<k { s += Double(x[r * xRowStride + c]) * Double(w[o * k + c]) }
                        let expected = DenseKernelTests.activate(s, act, slope)
                        #expect(abs(Double(y[r * yRowStride + o]) - expected) <= 1e-5 * max(1, abs(expected)), "isa \(isa) row \(r) output \(o)")
                    }
                    // Padding between rows is never written.
                    for o in og..<yRowStride { #expect(y[r * yRowStride + o] == 99) }
                }
                if path.fusesMultiplyAdd { results.append(y) }
            }
            #expect(!results.isEmpty)
            for r in results.dropFirst() { #expect(r == results[0], "kernel paths differ bitwise") }
        }
    }

    @Test(arguments: KernelPath.available)
    func narrowRowsDoNotDependOnTheBatch(_ path: KernelPath) throws {
        try #require(KernelPath.forced(path) { try Self.narrowRowsDoNotDependOnTheBatch() } != nil)
    }

    static func narrowRowsDoNotDependOnTheBatch() throws {
        let (k, og) = (40, 2)
        let x = DenseKernelTests.values(37 * k, seed: 4), w = DenseKernelTests.values(og * k, seed: 5)
        var packed = [Float](repeating: 0, count: gb_dense_narrow_packed_size(k, og))
        gb_dense_narrow_pack(w, k, og, &packed)
        var all = [Float](repeating: 0, count: 37 * og)
        gb_dense_narrow(37, k, og, x, k, packed, nil, Int32(GB_ACT_NONE), 0, &all, og)
        for start in [0, 5, 20, 36] {
            var one = [Float](repeating: 0, count: og)
            x.withUnsafeBufferPointer { gb_dense_narrow(1, k, og, $0.baseAddress! + start * k, k, packed, nil, Int32(GB_ACT_NONE), 0, &one, og) }
            #expect(one == Array(all[(start * og)..<((start + 1) * og)]))
        }
    }

    @Test(arguments: [(1, 1, 1), (14, 16, 3), (15, 32, 5), (29, 48, 12), (3, 17, 0), (40, 64, 9), (13, 100, 4), (7, 200, 2)])
    func maskedMatchesDefinition(_ shape: (rows: Int, width: Int, n: Int)) throws {
        let (rows, width, n) = shape
        let d = 13, wtRowStride = width + 5, outRowStride = width + 3
        let delta = DenseKernelTests.values(rows * d, seed: 7)
        let wt = DenseKernelTests.values(d * wtRowStride, seed: 8), base = DenseKernelTests.values(rows * width, seed: 9)
        let cols = Array([11, 2, 7, 0, 12, 5, 9, 1, 3, 4, 6, 8, 10].prefix(n))
        for (shared, sign) in [(false, Float(1)), (true, Float(-1))] {
            for (act, slope) in [(Int32(GB_ACT_NONE), Float(0)), (Int32(GB_ACT_RELU), 0), (Int32(GB_ACT_LEAKY_RELU), 0.1)] {
                var results: [[Float]] = []
                for path in KernelPath.available {
                    let isa = path.code
                    var out = [Float](repeating: 99, count: rows * outRowStride)
                    guard gb_masked_dense_variant(isa, rows, width, base, shared ? 0 : width, sign, delta, d, cols, n, wt, wtRowStride,
                                                  act, slope, &out, outRowStride) != 0 else { continue }
                    for r in 0..<rows {
                        for h in 0..<width {
                            var s = Double(base[(shared ? 0 : r * width) + h])
                            for c in cols { s += Double(sign) * Double(delta[r * d + c]) * Double(wt[c * wtRowStride + h]) }
                            let expected = DenseKernelTests.activate(s, act, slope)
                            #expect(abs(Double(out[r * outRowStride + h]) - expected) <= 1e-5 * max(1, abs(expected)),
                                    "isa \(isa) row \(r) output \(h)")
                        }
                        for h in width..<outRowStride { #expect(out[r * outRowStride + h] == 99) }
                    }
                    if path.fusesMultiplyAdd { results.append(out) }
                }
                #expect(!results.isEmpty)
                for r in results.dropFirst() { #expect(r == results[0], "kernel paths differ bitwise") }
            }
        }
    }

    @Test(arguments: KernelPath.available)
    func maskedCoalitionsEqualOneCallPerCoalition(_ path: KernelPath) throws {
        try #require(KernelPath.forced(path) { try Self.maskedCoalitionsEqualOneCallPerCoalition() } != nil)
    }

    static func maskedCoalitionsEqualOneCallPerCoalition() throws {
        // Coalitions of k = 7 rows with lists of 0–5 columns, alternately present and absent
        // sides; row ranges that start and end inside a coalition.
        let (d, width, k, coalitions) = (9, 40, 7, 6)
        let hp = 48
        let wt = DenseKernelTests.values(d * hp, seed: 10), u = DenseKernelTests.values(k * hp, seed: 11)
        let v = DenseKernelTests.values(hp, seed: 12), delta = DenseKernelTests.values(k * d, seed: 13)
        var starts = [0], cols: [Int] = [], absent: [UInt8] = []
        for c in 0..<coalitions {
            let list = Array([4, 0, 8, 2, 6, 1].prefix(c % 6))
            cols += list
            starts.append(cols.count)
            absent.append(UInt8(c % 2))
        }
        for (first, rows) in [(0, k * coalitions), (3, 20), (9, 1), (13, 29)] {
            var out = [Float](repeating: 99, count: rows * hp)
            gb_masked_dense_coalitions(first, rows, k, starts, absent, cols, width, u, v, hp, delta, d, wt, hp,
                                       Int32(GB_ACT_RELU), 0, &out, hp)
            for s in first..<(first + rows) {
                let (i, b) = (s / k, s % k)
                var one = [Float](repeating: 99, count: hp)
                cols.withUnsafeBufferPointer { list in
                    if absent[i] != 0 {
                        gb_masked_dense(1, width, v, 0, -1, Array(delta[(b * d)...]), d, list.baseAddress! + starts[i],
                                        starts[i + 1] - starts[i], wt, hp, Int32(GB_ACT_RELU), 0, &one, hp)
                    } else {
                        gb_masked_dense(1, width, Array(u[(b * hp)...]), hp, 1, Array(delta[(b * d)...]), d, list.baseAddress! + starts[i],
                                        starts[i + 1] - starts[i], wt, hp, Int32(GB_ACT_RELU), 0, &one, hp)
                    }
                }
                #expect(Array(out[((s - first) * hp)..<((s - first) * hp + width)]) == Array(one[0..<width]), "row \(s)")
                #expect(out[(s - first) * hp + width] == 99, "padding of row \(s) written")
            }
        }
    }
}
