import Testing
@testable import GlassboxNN

/// One pooling window for parameterised tests.
struct PoolCase: Sendable, CustomTestStringConvertible {
    var shape = [2, 2, 6, 6]
    var kernel = (2, 2), stride = (2, 2), padding = (0, 0), dilation = (1, 1)
    var testDescription: String { "\(shape) k\(kernel) s\(stride) p\(padding) d\(dilation)" }
}

/// Distinct values 0.05 apart in random order: no ties, and a finite-difference step of 0.01
/// never changes which element is a window's maximum.
func distinctTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = SeededGenerator(seed: seed)
    let count = shape.reduce(1, *)
    return Tensor(uncheckedShape: shape, scalars: rng.permutation(count).map { Float($0) * 0.05 - 1 })
}

@Suite("Pooling")
struct PoolTests {
    static let cases: [PoolCase] = [
        PoolCase(),
        PoolCase(shape: [1, 2, 7, 7], kernel: (3, 3), stride: (2, 2), padding: (1, 1)),
        PoolCase(shape: [1, 2, 8, 7], kernel: (2, 3), stride: (1, 2), padding: (1, 1), dilation: (2, 1)),
        PoolCase(shape: [2, 1, 5, 4], kernel: (3, 2), stride: (1, 1)),
    ]

    @Test(arguments: cases)
    func maxPoolGradients(_ k: PoolCase) throws {
        let bad = try GradientCheck.mismatches(inputs: [distinctTensor(k.shape, seed: 3)]) {
            try maxPool2d($0[0], kernel: k.kernel, stride: k.stride, padding: k.padding, dilation: k.dilation)
        }
        #expect(bad.count == 0, "\(bad.prefix(3))")
    }

    @Test(arguments: cases.filter { $0.dilation == (1, 1) }, [true, false])
    func avgPoolGradients(_ k: PoolCase, includePad: Bool) throws {
        let bad = try GradientCheck.mismatches(inputs: [randomTensor(k.shape, seed: 4)]) {
            try avgPool2d($0[0], kernel: k.kernel, stride: k.stride, padding: k.padding, countIncludePad: includePad)
        }
        #expect(bad.count == 0, "\(bad.prefix(3))")
    }

    @Test(arguments: [false, true])
    func globalAvgPoolValuesAndGradient(_ keepDims: Bool) throws {
        let x = try Tensor(shape: [1, 2, 2, 2], scalars: [1, 2, 3, 4, 10, 20, 30, 40])
        let y = try globalAvgPool(Variable(x), keepDims: keepDims)
        #expect(y.shape == (keepDims ? [1, 2, 1, 1] : [1, 2]) && y.value.scalars == [2.5, 25])
        let bad = try GradientCheck.mismatches(inputs: [randomTensor([2, 3, 3, 2], seed: 5)]) {
            try globalAvgPool($0[0], keepDims: keepDims)
        }
        #expect(bad.count == 0)
    }

    @Test(arguments: ["max_k2s2", "max_k3s2p1", "max_dilated", "avg_k2s2", "avg_k3s2p1_include",
                      "avg_k3s2p1_exclude", "avg_k3x2_s1x2_p1"])
    func matchesPyTorch(_ name: String) throws {
        let g = try #require(try Golden.load("conv")[name])
        func pair(_ a: String, _ b: String) -> (Int, Int) { (Int(g.attr(a)!), Int(g.attr(b)!)) }
        let x = Variable(try g.tensor("x"), requiresGrad: true)
        let y = name.hasPrefix("max")
            ? try maxPool2d(x, kernel: pair("kh", "kw"), stride: pair("sh", "sw"), padding: pair("ph", "pw"),
                            dilation: pair("dh", "dw"))
            : try avgPool2d(x, kernel: pair("kh", "kw"), stride: pair("sh", "sw"), padding: pair("ph", "pw"),
                            countIncludePad: g.attr("count_include_pad") == 1)
        Golden.expectClose(y.value, try g.tensor("y"), "\(name) y")
        if name.hasPrefix("max") {
            // Inference (no gradient tracked) skips the argmax bookkeeping: same values.
            let inference = try maxPool2d(Variable(x.value), kernel: pair("kh", "kw"), stride: pair("sh", "sw"),
                                          padding: pair("ph", "pw"), dilation: pair("dh", "dw"))
            #expect(inference.value == y.value)
        }
        try y.backward(try g.tensor("grad_y"))
        Golden.expectClose(x.grad!, try g.tensor("grad_x"), "\(name) grad_x")
    }

    @Test func tiesSendTheGradientToTheFirstMaximum() throws {
        // Window [[5, 5], [5, 1]] (row-major): PyTorch routes the gradient to the first 5.
        let x = Variable(try Tensor(shape: [1, 1, 2, 2], scalars: [5, 5, 5, 1]), requiresGrad: true)
        try sum(try maxPool2d(x, kernel: (2, 2))).backward()
        #expect(x.grad?.scalars == [1, 0, 0, 0])
        // Overlapping windows each pick their own first maximum; a NaN wins its window.
        let z = Variable(try Tensor(shape: [1, 1, 1, 4], scalars: [3, 3, .nan, 0]), requiresGrad: true)
        let y = try maxPool2d(z, kernel: (1, 2), stride: (1, 1))
        #expect(y.value.scalars[0] == 3 && y.value.scalars[1].isNaN && y.value.scalars[2].isNaN)
        try sum(y).backward()
        #expect(z.grad?.scalars == [1, 0, 2, 0])
        // A window of only −∞ (and padding) points at its first in-bounds element (PyTorch).
        let m = Variable(Tensor(repeating: -.infinity, shape: [1, 1, 2, 3]), requiresGrad: true)
        try sum(try maxPool2d(m, kernel: (3, 3), stride: (1, 1), padding: (1, 1))).backward()
        #expect(m.grad?.scalars == [4, 2, 0, 0, 0, 0])
    }

    @Test func errorsNameTheProblem() throws {
        let x = Variable(Tensor.zeros([1, 1, 4, 4]))
        func message(_ body: () throws -> Variable) -> String {
            do { _ = try body(); return "" } catch { return "\(error)" }
        }
        #expect(message { try maxPool2d(x, kernel: (5, 5)) }.contains("larger than the padded input"))
        #expect(message { try maxPool2d(x, kernel: (2, 2), padding: (2, 0)) }.contains("at most half the kernel"))
        #expect(message { try avgPool2d(x, kernel: (2, 2), stride: (0, 2)) }.contains("stride must be positive"))
        #expect(message { try maxPool2d(Variable(Tensor.zeros([0, 1, 4, 4])), kernel: (2, 2)) }.contains("empty batch"))
        #expect(message { try avgPool2d(Variable(Tensor.zeros([4, 4])), kernel: (2, 2)) }.contains("[4, 4]"))
        #expect(message { try globalAvgPool(Variable(Tensor.zeros([2, 3]))) }.contains("[2, 3]"))
    }
}
