import Testing
@testable import GlassboxNN

/// One convolution configuration for parameterised tests.
struct ConvCase: Sendable, CustomTestStringConvertible {
    var n = 2, c = 2, h = 5, w = 5, o = 3
    var kernel = (3, 3), stride = (1, 1), padding = (0, 0), dilation = (1, 1)
    var groups = 1, bias = true

    var testDescription: String {
        "N\(n) C\(c) \(h)×\(w) O\(o) k\(kernel) s\(stride) p\(padding) d\(dilation) g\(groups)\(bias ? "" : " no bias")"
    }

    func inputs(seed: UInt64) -> [Tensor] {
        [randomTensor([n, c, h, w], seed: seed), randomTensor([o, c / groups, kernel.0, kernel.1], seed: seed + 1)]
            + (bias ? [randomTensor([o], seed: seed + 2)] : [])
    }

    func run(_ v: [Variable]) throws -> Variable {
        try conv2d(v[0], weight: v[1], bias: bias ? v[2] : nil, stride: stride, padding: padding,
                   dilation: dilation, groups: groups)
    }
}

/// Direct loops over the definition: the output and, for an output gradient `dy`, the
/// gradients of `Σ y ⊙ dy` (the reference for the im2col + GEMM path).
func directConv(_ x: Tensor, _ weight: Tensor, _ bias: Tensor, dy: Tensor?, _ k: ConvCase)
    -> (y: Tensor, dx: Tensor, dw: Tensor, db: Tensor) {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, cg, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
    let ho = (h + 2 * k.padding.0 - k.dilation.0 * (kh - 1) - 1) / k.stride.0 + 1
    let wo = (w + 2 * k.padding.1 - k.dilation.1 * (kw - 1) - 1) / k.stride.1 + 1
    let og = o / k.groups
    var y = Tensor.zeros([n, o, ho, wo]), dx = Tensor.zeros(x.shape), dw = Tensor.zeros(weight.shape)
    var db = Tensor.zeros([o])
    for b in 0..<n {
        for oc in 0..<o {
            for oh in 0..<ho {
                for ow in 0..<wo {
                    let out = ((b * o + oc) * ho + oh) * wo + ow
                    let g = dy?.scalars[out] ?? 0
                    var s = Double(bias.scalars[oc])
                    db.scalars[oc] += g
                    for ci in 0..<cg {
                        let ic = oc / og * cg + ci
                        for i in 0..<kh {
                            for j in 0..<kw {
                                let ih = oh * k.stride.0 - k.padding.0 + i * k.dilation.0
                                let iw = ow * k.stride.1 - k.padding.1 + j * k.dilation.1
                                guard ih >= 0, ih < h, iw >= 0, iw < w else { continue }
                                let xi = ((b * c + ic) * h + ih) * w + iw, wi = ((oc * cg + ci) * kh + i) * kw + j
                                s += Double(x.scalars[xi]) * Double(weight.scalars[wi])
                                dx.scalars[xi] += g * weight.scalars[wi]
                                dw.scalars[wi] += g * x.scalars[xi]
                            }
                        }
                    }
                    y.scalars[out] = Float(s)
                }
            }
        }
    }
    return (y, dx, dw, db)
}

@Suite("conv2d")
struct ConvTests {
    static let cases: [ConvCase] = [
        ConvCase(),
        ConvCase(h: 6, o: 2, kernel: (2, 3), stride: (2, 1), padding: (1, 2)),
        ConvCase(n: 1, h: 7, w: 7, o: 2, padding: (2, 2), dilation: (2, 2)),
        ConvCase(c: 4, o: 4, stride: (2, 2), padding: (1, 1), groups: 2),
        ConvCase(n: 1, c: 3, h: 4, w: 4, padding: (1, 1), groups: 3, bias: false),
        ConvCase(c: 3, h: 3, w: 4, o: 2, kernel: (1, 1)),
        ConvCase(n: 1, o: 2, kernel: (1, 1), stride: (2, 2)),
        ConvCase(n: 1, c: 1, h: 4, w: 4, o: 1, kernel: (4, 4)),
    ]

    @Test(arguments: cases)
    func gradients(_ k: ConvCase) throws {
        let bad = try GradientCheck.mismatches(inputs: k.inputs(seed: 10)) { try k.run($0) }
        #expect(bad.count == 0, "\(bad.prefix(3))")
    }

    /// Batches large enough to be split over workers (weight and bias gradients then come from
    /// per-worker partial sums), against the direct definition.
    @Test(arguments: [
        ConvCase(n: 16, c: 4, h: 9, w: 9, o: 8, padding: (1, 1)),
        ConvCase(n: 12, c: 6, h: 8, w: 10, o: 6, kernel: (3, 2), stride: (2, 1), padding: (1, 1), dilation: (1, 2), groups: 3),
        ConvCase(n: 16, c: 8, h: 8, w: 8, o: 8, kernel: (1, 1)),
    ])
    func largeBatchMatchesDirectLoops(_ k: ConvCase) throws {
        let t = k.inputs(seed: 20)
        let v = t.map { Variable($0, requiresGrad: true) }
        let y = try k.run(v)
        let dy = randomTensor(y.shape, seed: 21)
        try y.backward(dy)
        let expected = directConv(t[0], t[1], t[2], dy: dy, k)
        Golden.expectClose(y.value, expected.y, atol: 1e-4, "y")
        Golden.expectClose(v[0].grad!, expected.dx, atol: 1e-4, "dx")
        Golden.expectClose(v[1].grad!, expected.dw, atol: 1e-3, "dw")
        Golden.expectClose(v[2].grad!, expected.db, atol: 1e-3, "db")
    }

    @Test(arguments: ["conv_basic", "conv_stride_pad", "conv_dilation", "conv_groups", "conv_depthwise",
                      "conv_pointwise", "conv_strided_1x1"])
    func matchesPyTorch(_ name: String) throws {
        let g = try #require(try Golden.load("conv")[name])
        func pair(_ a: String, _ b: String) -> (Int, Int) { (Int(g.attr(a)!), Int(g.attr(b)!)) }
        let x = Variable(try g.tensor("x"), requiresGrad: true)
        let weight = Variable(try g.tensor("weight"), requiresGrad: true)
        let bias = g.tensors["bias"] == nil ? nil : Variable(try g.tensor("bias"), requiresGrad: true)
        let y = try conv2d(x, weight: weight, bias: bias, stride: pair("sh", "sw"), padding: pair("ph", "pw"),
                           dilation: pair("dh", "dw"), groups: Int(g.attr("groups")!))
        Golden.expectClose(y.value, try g.tensor("y"), "\(name) y")
        try y.backward(try g.tensor("grad_y"))
        Golden.expectClose(x.grad!, try g.tensor("grad_x"), "\(name) grad_x")
        Golden.expectClose(weight.grad!, try g.tensor("grad_weight"), "\(name) grad_weight")
        if let bias { Golden.expectClose(bias.grad!, try g.tensor("grad_bias"), "\(name) grad_bias") }
    }

    @Test func untrackedInputsBuildNoGraphAndSkipTheirGradients() throws {
        let t = ConvCase().inputs(seed: 30)
        #expect(!(try conv2d(Variable(t[0]), weight: Variable(t[1]))).requiresGrad)
        // Only the weight needs a gradient (a first layer): dx is never formed.
        let weight = Variable(t[1], requiresGrad: true), x = Variable(t[0])
        try sum(try conv2d(x, weight: weight)).backward()
        #expect(weight.grad != nil && x.grad == nil)
    }

    @Test func errorsNameTheShapes() throws {
        let x = Variable(Tensor.zeros([2, 3, 5, 5])), w = Variable(Tensor.zeros([4, 3, 3, 3]))
        func message(_ body: () throws -> Variable) -> String {
            do { _ = try body(); return "" } catch { return "\(error)" }
        }
        let channels = message { try conv2d(x, weight: Variable(Tensor.zeros([4, 2, 3, 3]))) }
        #expect(channels.contains("[2, 3, 5, 5]") && channels.contains("[4, 2, 3, 3]"), "\(channels)")
        let big = message { try conv2d(x, weight: Variable(Tensor.zeros([4, 3, 6, 6]))) }
        #expect(big.contains("larger than the padded input") && big.contains("[2, 3, 5, 5]"), "\(big)")
        #expect(message { try conv2d(x, weight: w, stride: (0, 1)) }.contains("stride must be positive"))
        #expect(message { try conv2d(Variable(Tensor.zeros([0, 3, 5, 5])), weight: w) }.contains("empty batch"))
        #expect(message { try conv2d(x, weight: Variable(Tensor.zeros([4, 1, 3, 3])), groups: 3) }.contains("groups 3"))
        #expect(message { try conv2d(x, weight: w, bias: Variable(Tensor.zeros([3]))) }.contains("bias [3]"))
        #expect(message { try conv2d(Variable(Tensor.zeros([3, 5, 5])), weight: w) }.contains("[N, C, H, W]"))
        #expect(message { try conv2d(x, weight: w, padding: (-1, 0)) }.contains("padding"))
        #expect(message { try conv2d(x, weight: w, dilation: (1, 0)) }.contains("dilation"))
    }
}
