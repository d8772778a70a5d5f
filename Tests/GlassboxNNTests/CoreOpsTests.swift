import Testing
@testable import GlassboxNN

/// Small random tensors for gradient checks.
func randomTensor(_ shape: [Int], seed: UInt64, lo: Float = -1, hi: Float = 1) -> Tensor {
    var rng = SeededGenerator(seed: seed)
    return Tensor.uniform(shape, lo, hi, using: &rng)
}

@Suite("Elementwise, matmul and reductions")
struct CoreOpsTests {
    @Test(arguments: [
        ([3, 4], [3, 4]), ([3, 4], [4]), ([2, 3, 4], [3, 1]), ([1], [2, 3]), ([2, 1, 3], [4, 1]),
    ])
    func broadcastingGradients(_ shapes: ([Int], [Int])) throws {
        let a = randomTensor(shapes.0, seed: 1), b = randomTensor(shapes.1, seed: 2, lo: 0.5, hi: 2)
        for op in [add, sub, mul, div] as [(Variable, Variable) throws -> Variable] {
            let bad = try GradientCheck.mismatches(inputs: [a, b]) { try op($0[0], $0[1]) }
            #expect(bad.isEmpty, "\(bad.prefix(3))")
        }
    }

    @Test func broadcastValues() throws {
        let a = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = try Tensor(shape: [2, 1], scalars: [10, 20])
        #expect(try Broadcast.apply(a, b, +).scalars == [11, 12, 13, 24, 25, 26])
        #expect(Broadcast.reduce(try Broadcast.apply(a, b, +), to: [3]).scalars == [35, 37, 39])
        #expect(throws: GlassboxError.self) { try Broadcast.apply(a, Tensor.zeros([4]), +) }
    }

    /// Every broadcasting branch (same shape, scalar either side, bias rows, general strides) and
    /// the elementwise maps against a per-element oracle, including empty tensors.
    @Test func elementwiseBranchesMatchAnOracle() throws {
        let cases: [([Int], [Int])] = [([5, 7], [5, 7]), ([5, 7], [1]), ([1], [5, 7]), ([4, 3, 33], [33]), ([4, 3, 33], [3, 33]),
                                       ([2, 3, 4], [3, 1]), ([0, 3], [3]), ([0, 3], [0, 3]), ([0], [1])]
        for (sa, sb) in cases {
            let a = randomTensor(sa, seed: 11), b = randomTensor(sb, seed: 12)
            let out = try Broadcast.shape(sa, sb)
            let got = try Broadcast.apply(a, b) { $0 * 2 - $1 }
            #expect(got.shape == out)
            // Oracle: the output index split into coordinates, each operand read at its own.
            let count = out.reduce(1, *)
            for flat in 0..<count {
                var rest = flat, ia = 0, ib = 0, strideA = 1, strideB = 1
                for axis in (0..<out.count).reversed() {
                    let coordinate = rest % out[axis]
                    rest /= out[axis]
                    let axisA = axis - (out.count - sa.count), axisB = axis - (out.count - sb.count)
                    if axisA >= 0 {
                        if sa[axisA] > 1 { ia += coordinate * strideA }
                        strideA *= sa[axisA]
                    }
                    if axisB >= 0 {
                        if sb[axisB] > 1 { ib += coordinate * strideB }
                        strideB *= sb[axisB]
                    }
                }
                #expect(got.scalars[flat] == a.scalars[ia] * 2 - b.scalars[ib])
            }
            #expect(a.map { $0 * 3 + 1 }.scalars == a.scalars.map { $0 * 3 + 1 })
            #expect(a.zip(a) { $0 * $1 - 1 }.scalars == a.scalars.map { $0 * $0 - 1 })
        }
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmulGradients(_ t: (Bool, Bool)) throws {
        let a = randomTensor(t.0 ? [4, 3] : [3, 4], seed: 3)
        let b = randomTensor(t.1 ? [5, 4] : [4, 5], seed: 4)
        let bad = try GradientCheck.mismatches(inputs: [a, b]) {
            try matmul($0[0], $0[1], transposeA: t.0, transposeB: t.1)
        }
        #expect(bad.isEmpty, "\(bad.prefix(3))")
        let batched = try GradientCheck.mismatches(inputs: [randomTensor([2, 3, 4], seed: 5), randomTensor([2, 4, 2], seed: 6)]) {
            try matmul($0[0], $0[1])
        }
        #expect(batched.isEmpty)
    }

    @Test func matmulValuesAndErrors() throws {
        let a = try Tensor(rows: [[1, 2], [3, 4]]), b = try Tensor(rows: [[5, 6], [7, 8]])
        #expect(try matmul(a, b).scalars == [19, 22, 43, 50])
        #expect(try matmul(a, b, transposeA: true).scalars == [26, 30, 38, 44])
        #expect(throws: GlassboxError.self) { try matmul(Variable(a), Variable(Tensor.zeros([3, 2]))) }
    }

    @Test func reductionGradients() throws {
        let x = randomTensor([2, 3, 4], seed: 8)
        for axes in [nil, [0], [1], [2], [0, 2], [-1]] as [[Int]?] {
            for keep in [false, true] {
                #expect(try GradientCheck.mismatches(inputs: [x]) { try sum($0[0], axes: axes, keepDims: keep) }.isEmpty)
                #expect(try GradientCheck.mismatches(inputs: [x]) { try mean($0[0], axes: axes, keepDims: keep) }.isEmpty)
            }
        }
        let s = try sum(Variable(try Tensor(rows: [[1, 2, 3], [4, 5, 6]])), axes: [1])
        #expect(s.value.scalars == [6, 15] && s.shape == [2])
        #expect(throws: GlassboxError.self) { try sum(Variable(x), axes: [3]) }
    }

    @Test func reluGradient() throws {
        // Keep entries away from the kink at 0, where finite differences are meaningless.
        let x = randomTensor([20], seed: 9).map { $0 >= 0 ? $0 + 0.1 : $0 - 0.1 }
        #expect(try GradientCheck.mismatches(inputs: [x]) { relu($0[0]) }.isEmpty)
    }

    @Test func sharedInputAccumulates() throws {
        // y = x·x + x → dy/dx = 2x + 1: the same node used twice must accumulate, not overwrite.
        let x = Variable(Tensor([1, 2, 3]), requiresGrad: true)
        let y = try sum(try add(try mul(x, x), x))
        try y.backward()
        #expect(x.grad?.scalars == [3, 5, 7])
    }

    @Test func gradientHookRewritesFlow() throws {
        let x = Variable(Tensor([1, -2, 3]), requiresGrad: true)
        let h = scale(x, 2)
        h.gradientHook = { g in g.map { $0 * 10 } }
        try sum(h).backward()
        #expect(x.grad?.scalars == [20, 20, 20])
    }
}
