import Foundation
import CKernels
import Testing
@testable import GlassboxNN

/// The row-wise helpers of CKernels/pointwise.c behind batched model outputs: the finiteness
/// check, row softmax and weighted group sums, against plain Swift definitions at every kernel
/// path this CPU runs.
@Suite struct RowKernelTests {
    @Test(arguments: KernelPath.available)
    func allFiniteFindsAnyNonFiniteValue(_ path: KernelPath) {
        let previous = gb_cpu_force_isa(path.code)
        defer { _ = gb_cpu_force_isa(previous) }
        for n in [0, 1, 15, 16, 17, 100] {
            var x = DenseKernelTests.values(n, seed: UInt64(n))
            #expect(gb_all_finite(x, n) == 1, "n = \(n)")
            for position in Set([0, n / 2, n - 1]) where n > 0 {
                for bad in [Float.nan, .infinity, -.infinity] {
                    let saved = x[position]
                    x[position] = bad
                    #expect(gb_all_finite(x, n) == 0, "n = \(n), \(bad) at \(position)")
                    x[position] = saved
                }
            }
        }
        // The largest finite values and subnormals are finite.
        let edge: [Float] = [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude, -0.0]
        #expect(gb_all_finite(edge, edge.count) == 1)
    }

    @Test(arguments: [2, 3, 5, 17], KernelPath.available)
    func softmaxRowsMatchesDefinition(_ width: Int, _ path: KernelPath) {
        let previous = gb_cpu_force_isa(path.code)
        defer { _ = gb_cpu_force_isa(previous) }
        let rows = 37
        var x = DenseKernelTests.values(rows * width, seed: UInt64(width)).map { $0 * 30 }
        let logits = x
        gb_softmax_rows(&x, rows, width)
        for r in 0..<rows {
            let row = logits[(r * width)..<((r + 1) * width)].map(Double.init)
            let m = row.max()!
            let e = row.map { Foundation.exp($0 - m) }
            let sum = e.reduce(0, +)
            var total: Float = 0
            for j in 0..<width {
                #expect(abs(Double(x[r * width + j]) - e[j] / sum) <= 1e-6, "row \(r) column \(j)")
                total += x[r * width + j]
            }
            #expect(abs(total - 1) <= 1e-5)
        }
        if width == 2 {
            // One exp per row (the larger logit's is exactly 1) gives the bits of two.
            for r in 0..<rows {
                let (a, b) = (logits[2 * r], logits[2 * r + 1])
                let m = b >= a ? b : a
                var shifted = [a - m, b - m], e = [Float](repeating: 0, count: 2)
                gb_exp(&shifted, &e, 2)
                #expect(x[2 * r] == e[0] / (e[0] + e[1]) && x[2 * r + 1] == e[1] / (e[0] + e[1]), "row \(r)")
            }
        }
        // RowSoftmax goes through it: the same bits.
        var viaSwift = logits
        viaSwift.withUnsafeMutableBufferPointer { RowSoftmax.apply($0.baseAddress!, rows: rows, width: width) }
        #expect(viaSwift == x)
    }

    @Test(arguments: [(1, 1, 1), (7, 5, 2), (9, 100, 2), (16, 3, 1), (11, 4, 3), (3, 6, 17), (8, 2, 16)], KernelPath.available)
    func weightedGroupSumsEqualTheSerialSum(_ shape: (groups: Int, k: Int, o: Int), _ path: KernelPath) {
        let previous = gb_cpu_force_isa(path.code)
        defer { _ = gb_cpu_force_isa(previous) }
        let (groups, k, o) = shape
        let y = DenseKernelTests.values(groups * k * o, seed: 21)
        let w = DenseKernelTests.values(k, seed: 22).map { Double($0) / 7 }
        var out = [Double](repeating: .nan, count: groups * o)
        gb_weighted_group_sums(y, groups, k, o, w, &out)
        for g in 0..<groups {
            for j in 0..<o {
                // Products rounded, then added in background order: bit-identical.
                var s = 0.0
                for b in 0..<k {
                    let product = w[b] * Double(y[(g * k + b) * o + j])
                    s += product
                }
                #expect(out[g * o + j] == s, "group \(g) output \(j)")
            }
        }
    }
}
