import Testing
@testable import GlassboxImage
import GlassboxNN

/// Small untrained CNNs of both families; the residual net gets non-trivial batch-norm
/// statistics so that BN(0) ≠ 0 and a deactivation placed before a BN would show.
enum TestNets {
    static func convNet(seed: UInt64 = 1) throws -> any Layer {
        try LayerRegistry.build(Architectures.convNet(inputChannels: 1, height: 12, width: 12, channels: [4, 8],
                                                      hidden: 16, classes: 3), seed: seed)
    }

    static func residualNet(seed: UInt64 = 2) throws -> any Layer {
        let model = try LayerRegistry.build(Architectures.residualNet(inputChannels: 1, channels: [4, 8], classes: 3),
                                            seed: seed)
        var rng = SeededGenerator(seed: seed + 100)
        for (name, v) in model.namedTensors() {
            if name.hasSuffix("running_mean") || name.hasSuffix(".bias") { v.value = .uniform(v.shape, -0.5, 0.5, using: &rng) }
            if name.hasSuffix("running_var") { v.value = .uniform(v.shape, 0.5, 2, using: &rng) }
        }
        return model
    }

    /// Random keep-masks `[n, 1, h, w]`: a mix of rectangles and scattered pixels.
    static func masks(n: Int, h: Int, w: Int, rng: inout SeededGenerator) -> Tensor {
        var m = [Float](repeating: 0, count: n * h * w)
        for i in 0..<n {
            if i % 2 == 0 {
                let y0 = rng.int(below: h / 2), x0 = rng.int(below: w / 2)
                let y1 = y0 + 3 + rng.int(below: h - y0 - 2), x1 = x0 + 3 + rng.int(below: w - x0 - 2)
                for y in y0..<min(y1, h) { for x in x0..<min(x1, w) { m[i * h * w + y * w + x] = 1 } }
            } else {
                for j in 0..<h * w where rng.uniformFloat() < 0.85 { m[i * h * w + j] = 1 }
            }
        }
        return Tensor(uncheckedShape: [n, 1, h, w], scalars: m)
    }

    /// `images` with every occluded pixel replaced by a fresh value in ±`scale`.
    static func refill(_ images: Tensor, masks: Tensor, scale: Float, rng: inout SeededGenerator) -> Tensor {
        var out = images
        let c = images.shape[1], plane = images.shape[2] * images.shape[3]
        for i in 0..<images.shape[0] {
            for ch in 0..<c {
                for j in 0..<plane where masks.scalars[i * plane + j] == 0 {
                    out.scalars[(i * c + ch) * plane + j] = rng.uniform(-scale, scale)
                }
            }
        }
        return out
    }
}

@Suite("ConvAD mask-aware forward")
struct ActivationDeactivationTests {
    static let families = ["cnn", "resnet"]
    static func model(_ family: String) throws -> any Layer {
        family == "cnn" ? try TestNets.convNet() : try TestNets.residualNet()
    }

    /// The reference walk with nothing occluded is `model.predict`, bit for bit.
    @Test(arguments: families, ActivationDeactivation.Variant.allCases)
    func allVisibleMaskIsBitIdenticalToPredict(family: String, variant: ActivationDeactivation.Variant) throws {
        let model = try Self.model(family)
        var rng = SeededGenerator(seed: 7)
        let images = Tensor.normal([5, 1, 12, 12], using: &rng)
        let ad = try ActivationDeactivation(model: model, variant: variant)
        let masked = try ad.referenceLogits(images: images, masks: .ones([5, 1, 12, 12]))
        let plain = try model.predict(images)
        #expect(masked.shape == plain.shape)
        #expect(masked.scalars == plain.scalars)
    }

    /// The strict variant's defining property: logits are exactly independent of occluded pixels.
    @Test(arguments: families)
    func strictOutputIgnoresOccludedPixels(family: String) throws {
        let model = try Self.model(family)
        let ad = try ActivationDeactivation(model: model, variant: .strict)
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<4 {
            let images = Tensor.normal([6, 1, 12, 12], using: &rng)
            let masks = TestNets.masks(n: 6, h: 12, w: 12, rng: &rng)
            let reference = try ad.logits(images: images, masks: masks)
            for trial in 0..<8 {
                let refilled = TestNets.refill(images, masks: masks, scale: trial % 2 == 0 ? 3 : 1000, rng: &rng)
                #expect(try ad.logits(images: refilled, masks: masks).scalars == reference.scalars)
            }
        }
    }

    /// The checkpoint variant does leak (else it would be the strict one); the amount is
    /// measured by ``ActivationDeactivation/leakage(images:masks:fills:seed:)``.
    @Test(arguments: families)
    func checkpointVariantLeaksButStrictDoesNot(family: String) throws {
        let model = try Self.model(family)
        var rng = SeededGenerator(seed: 5)
        let images = Tensor.normal([6, 1, 12, 12], using: &rng)
        let masks = TestNets.masks(n: 6, h: 12, w: 12, rng: &rng)
        let strict = try ActivationDeactivation(model: model, variant: .strict)
        let checkpoint = try ActivationDeactivation(model: model, variant: .checkpoint)
        #expect(try strict.leakage(images: images, masks: masks, fills: 4, seed: 3) == 0)
        let leak = try checkpoint.leakage(images: images, masks: masks, fills: 4, seed: 3)
        #expect(leak > 0 && leak.isFinite)
    }

    /// Erosion oracle: `1 − maxPool2d(1 − m)` with the engine's own max-pool, whose padding is
    /// −∞ and so never wins — exactly "padding counts as kept".
    @Test(arguments: [((3, 3), (1, 1), (1, 1), (1, 1)), ((3, 2), (2, 1), (1, 0), (2, 1)), ((2, 2), (2, 2), (0, 0), (1, 1))])
    func erosionMatchesMaxPoolOracle(window: ((Int, Int), (Int, Int), (Int, Int), (Int, Int))) throws {
        var rng = SeededGenerator(seed: 3)
        let m = TestNets.masks(n: 4, h: 9, w: 10, rng: &rng)
        let w = try Window2D(kernel: window.0, stride: window.1, padding: window.2, dilation: window.3, op: "test")
        let eroded = try SpatialMask.resize(m, window: w, mode: .erode, op: "test")
        let oracle = try maxPool2d(Variable(m.map { 1 - $0 }), kernel: window.0, stride: window.1, padding: window.2,
                                   dilation: window.3).value.map { 1 - $0 }
        #expect(eroded == oracle)
    }

    @Test func fullyOccludedResidualNetGivesHeadBias() throws {
        let model = try TestNets.residualNet()
        let ad = try ActivationDeactivation(model: model, variant: .strict)
        var rng = SeededGenerator(seed: 1)
        let logits = try ad.logits(images: .normal([2, 1, 12, 12], using: &rng), masks: .zeros([2, 1, 12, 12]))
        let bias = model.namedTensors().last { $0.name.hasSuffix("bias") }!.variable.value.scalars
        #expect(logits.scalars == bias + bias)
    }

    @Test func unsupportedLayerIsNamed() throws {
        var rng = SeededGenerator(seed: 1)
        let model = Sequential([try Conv2d(inChannels: 1, outChannels: 2, kernelSize: (3, 3), rng: &rng),
                                try LayerNorm(normalizedShape: [2])])
        do {
            _ = try ActivationDeactivation(model: model)
            Issue.record("a LayerNorm model was accepted")
        } catch {
            #expect("\(error)".contains("model.1") && "\(error)".contains("LayerNorm"), "\(error)")
        }
    }

    @Test func maskShapeIsChecked() throws {
        let ad = try ActivationDeactivation(model: try TestNets.convNet())
        #expect(throws: GlassboxError.self) {
            _ = try ad.logits(images: .zeros([2, 1, 12, 12]), masks: .ones([2, 1, 12, 11]))
        }
    }
}
