import Testing
@testable import GlassboxImage
import GlassboxNN

@Suite("ConvAD compiled onto an inference plan")
struct ActivationDeactivationPlanTests {
    static let families = ["cnn", "resnet"]

    /// `|a − b| ≤ 1e-5 · max(1, max|b|)` per image (relative to the logits' scale).
    static func expectClose(_ a: Tensor, _ b: Tensor, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.shape == b.shape, "\(what): shapes \(a.shape) vs \(b.shape)", sourceLocation: sourceLocation)
        guard a.shape == b.shape else { return }
        let classes = b.shape[1]
        for i in 0..<b.shape[0] {
            var scale: Float = 1, worst: Float = 0
            for j in i * classes..<(i + 1) * classes {
                scale = max(scale, abs(b.scalars[j]))
                worst = max(worst, abs(a.scalars[j] - b.scalars[j]))
            }
            #expect(worst <= 1e-5 * scale, "\(what): image \(i) differs by \(worst) (scale \(scale))", sourceLocation: sourceLocation)
        }
    }

    /// The compiled pass against the reference walk: random masks (rectangles and scattered
    /// pixels, plus all-hidden and all-visible), both families, both variants.
    @Test(arguments: families, ActivationDeactivation.Variant.allCases)
    func compiledEqualsReferenceWalk(family: String, variant: ActivationDeactivation.Variant) throws {
        let model = try ActivationDeactivationTests.model(family)
        let ad = try ActivationDeactivation(model: model, variant: variant)
        var rng = SeededGenerator(seed: 21)
        for round in 0..<3 {
            let images = Tensor.normal([9, 1, 12, 12], using: &rng)
            var masks = TestNets.masks(n: 9, h: 12, w: 12, rng: &rng)
            for j in 0..<144 { masks.scalars[7 * 144 + j] = 0; masks.scalars[8 * 144 + j] = 1 }
            let compiled = try #require(try ad.compiled(forImage: [1, 12, 12]))
            let got = try compiled.logits(images: images, masks: masks)
            let expected = try ad.referenceLogits(images: images, masks: masks)
            Self.expectClose(got, expected, "\(family) \(variant) round \(round)")
            // The public entry uses the compiled form.
            #expect(try ad.logits(images: images, masks: masks) == got)
        }
    }

    /// With nothing occluded every deactivation is the identity: the plain plan's output, bit for bit.
    @Test(arguments: families, ActivationDeactivation.Variant.allCases)
    func allVisibleIsBitIdenticalToThePlainPlan(family: String, variant: ActivationDeactivation.Variant) throws {
        let model = try ActivationDeactivationTests.model(family)
        var rng = SeededGenerator(seed: 7)
        let images = Tensor.normal([70, 1, 12, 12], using: &rng)
        let compiled = try ActivationDeactivationPlan(model: model, variant: variant, sampleShape: [1, 12, 12])
        let masked = try compiled.logits(images: images, masks: .ones([70, 1, 12, 12]))
        let plain = try model.compiledForInference(sampleShape: [1, 12, 12]).predict(images)
        #expect(masked.scalars == plain.scalars)
    }

    /// Strict: occluded pixels cannot matter, bit for bit, through the compiled pass too (the
    /// pool identity drops deactivations, so this checks it does not open a leak).
    @Test(arguments: families)
    func strictCompiledIgnoresRefills(family: String) throws {
        let model = try ActivationDeactivationTests.model(family)
        let compiled = try ActivationDeactivationPlan(model: model, variant: .strict, sampleShape: [1, 12, 12])
        var rng = SeededGenerator(seed: 13)
        for _ in 0..<3 {
            let images = Tensor.normal([6, 1, 12, 12], using: &rng)
            let masks = TestNets.masks(n: 6, h: 12, w: 12, rng: &rng)
            let reference = try compiled.logits(images: images, masks: masks)
            for trial in 0..<6 {
                let refilled = TestNets.refill(images, masks: masks, scale: trial % 2 == 0 ? 3 : 1e30, rng: &rng)
                #expect(try compiled.logits(images: refilled, masks: masks).scalars == reference.scalars)
            }
        }
    }

    /// Strict on the plain conv net keeps conv + ReLU + max pool fused (the ReLU's deactivation
    /// is made redundant by the one after the pool) and observes only the pools' outputs.
    @Test func strictKeepsConvReluPoolFused() throws {
        let compiled = try ActivationDeactivationPlan(model: try TestNets.convNet(), variant: .strict, sampleShape: [1, 12, 12])
        #expect(compiled.observedPaths == ["2", "5"])
        let fused = compiled.steps.filter { $0.summary.contains("ReLU + max pool") }
        #expect(fused.count == 2, "\(compiled.steps)")
        #expect(compiled.zeroesInput)
        let checkpoint = try ActivationDeactivationPlan(model: try TestNets.convNet(), variant: .checkpoint, sampleShape: [1, 12, 12])
        #expect(!checkpoint.zeroesInput)
    }

    /// Results do not depend on the batch split, and copies evaluate concurrently to the same values.
    @Test func batchSizeAndCopiesDoNotChangeResults() throws {
        let model = try TestNets.residualNet()
        let compiled = try ActivationDeactivationPlan(model: model, variant: .strict, sampleShape: [1, 12, 12])
        var rng = SeededGenerator(seed: 4)
        let images = Tensor.normal([40, 1, 12, 12], using: &rng)
        let masks = TestNets.masks(n: 40, h: 12, w: 12, rng: &rng)
        let whole = try compiled.logits(images: images, masks: masks)
        let classes = whole.shape[1]
        var parts: [Float] = []
        for start in stride(from: 0, to: 40, by: 7) {
            let n = min(7, 40 - start)
            let x = Tensor(uncheckedShape: [n, 1, 12, 12], scalars: Array(images.scalars[start * 144..<(start + n) * 144]))
            let m = Tensor(uncheckedShape: [n, 1, 12, 12], scalars: Array(masks.scalars[start * 144..<(start + n) * 144]))
            parts += try compiled.copy().logits(images: x, masks: m).scalars
        }
        #expect(parts == whole.scalars)
        var results = [[Float]](repeating: [], count: 4)
        let copies = (0..<4).map { _ in compiled.copy() }
        results.withUnsafeMutableBufferPointer { slots in
            Compute.parallelFor(4) { t in slots[t] = (try? copies[t].logits(images: images, masks: masks).scalars) ?? [] }
        }
        for r in results { #expect(r == whole.scalars) }
        #expect(classes == 3)
    }

    /// Separable window counts equal the reference mask resize for odd windows, strides, padding, dilation.
    @Test(arguments: [((3, 3), (1, 1), (1, 1), (1, 1)), ((3, 2), (2, 1), (1, 0), (2, 1)), ((2, 2), (2, 2), (0, 0), (1, 1)),
                      ((1, 1), (2, 2), (0, 0), (1, 1))])
    func separableResizeMatchesReference(window: ((Int, Int), (Int, Int), (Int, Int), (Int, Int))) throws {
        var rng = SeededGenerator(seed: 9)
        let m = TestNets.masks(n: 3, h: 9, w: 10, rng: &rng)
        let w = try Window2D(kernel: window.0, stride: window.1, padding: window.2, dilation: window.3, op: "test")
        for mode in [SpatialMask.Resize.erode, .majority] {
            let expected = try SpatialMask.resize(m, window: w, mode: mode, op: "test")
            let (ho, wo) = (expected.shape[2], expected.shape[3])
            var out = [UInt8](repeating: 9, count: 3 * ho * wo)
            let bytes = m.scalars.map { $0 != 0 ? UInt8(1) : 0 }
            var scratch = [Int32](repeating: 0, count: 9 * wo + 3 * wo)
            for i in 0..<3 {
                bytes.withUnsafeBufferPointer { b in
                    out.withUnsafeMutableBufferPointer { o in
                        scratch.withUnsafeMutableBufferPointer { s in
                            ActivationDeactivationPlan.resize(b.baseAddress! + i * 90, 9, 10, w, mode, o.baseAddress! + i * ho * wo,
                                                              ho, wo, s.baseAddress!)
                        }
                    }
                }
            }
            #expect(out.map(Float.init) == expected.scalars, "\(mode)")
        }
    }
}
