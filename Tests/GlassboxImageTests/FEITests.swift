import Testing
@testable import GlassboxImage
import GlassboxNN
import GlassboxData
import Foundation

/// Small models for FEI's tests.
enum FEINets {
    /// Conv(1→2, 3×3, pad 1)-ReLU-Flatten-Linear(2·6·6→3) on 6×6 images: smooth enough away from
    /// ReLU kinks for finite differences.
    static func tiny(seed: UInt64 = 3) throws -> any Layer {
        var rng = SeededGenerator(seed: seed)
        return Sequential([
            try Conv2d(inChannels: 1, outChannels: 2, kernelSize: (3, 3), padding: (1, 1), rng: &rng), ReLU(), Flatten(),
            try Linear(inFeatures: 72, outFeatures: 3, rng: &rng),
        ])
    }

    /// A plain CNN trained briefly on the bundled 8×8 digits (about a second in release).
    static func trainedDigits() throws -> (model: any Layer, images: Tensor) {
        let data = try BundledData.digits()
        let split = try data.stratifiedSplit(train: 0.85, validation: 0, test: 0.15, seed: 1)
        let normalizer = try ChannelNormalizer.fit(split.train.images)
        let model = try LayerRegistry.build(Architectures.convNet(inputChannels: 1, height: 8, width: 8, channels: [8, 16],
                                                                  hidden: 32, classes: 10), seed: 1)
        _ = try Trainer.fit(model: model, inputs: try normalizer.transform(split.train.images), labels: split.train.labels,
                            validation: nil, config: TrainingConfig(epochs: 4, batchSize: 32, seed: 1,
                                                                    optimizer: .adam(learningRate: 3e-3)))
        return (model, try normalizer.transform(split.test.subset(Array(0..<6)).images))
    }
}

@Suite("FEI")
struct FEITests {
    @Test func bilinearMatrixMatchesHandValues() {
        // PyTorch interpolate(2 → 4, bilinear, align_corners=False): sources −¼ (clamped), ¼, ¾, 1¼ (clamped).
        let m = FEIMasks.interpolationMatrix(from: 2, to: 4)
        #expect(m.shape == [4, 2])
        #expect(m.scalars == [1, 0, 0.75, 0.25, 0.25, 0.75, 0, 1])
        // Same size: the identity.
        #expect(FEIMasks.interpolationMatrix(from: 3, to: 3).scalars == [1, 0, 0, 0, 1, 0, 0, 0, 1])
    }

    @Test func quantilesMatchNumpyLinearAndDifferentiate() throws {
        // numpy.quantile([3, 1, 4, 1.5, 5], [0, 0.3, 0.5, 1]) = [1, 1.8, 3, 5].
        let z = Variable(Tensor([3, 1, 4, 1.5, 5]), requiresGrad: true)
        let tau = try FEIMasks.quantiles(z, levels: [0, 0.3, 0.5, 1])
        #expect(zip(tau.value.scalars, [1, 1.8, 3, 5] as [Float]).allSatisfy { abs($0 - $1) < 1e-6 })
        let x = Tensor([0.3, -1.2, 0.8, 2.0, -0.4, 1.1, 0.05])
        #expect(try GradientCheck.mismatches(inputs: [x], step: 1e-3) { try FEIMasks.quantiles($0[0], levels: [0.1, 0.45, 0.9]) }.isEmpty)
    }

    @Test func lossGradientMatchesFiniteDifferences() throws {
        let model = try FEINets.tiny()
        var rng = SeededGenerator(seed: 12)
        let x = Tensor.normal([1, 1, 6, 6], using: &rng)
        let blurred = Variable(gaussianBlur(x, sigma: 1))
        let a = Tensor.normal([3, 3], using: &rng)
        let bad = try GradientCheck.mismatches(inputs: [a], step: 1e-3, atol: 1e-3, rtol: 2e-2) { v in
            try FEI.loss(v[0], model: model, image: Variable(x), blurred: blurred, target: 1, keptFractions: [0.2, 0.5, 0.8],
                         temperature: 0.5, context: ForwardContext(training: false))
        }
        #expect(bad.isEmpty, "\(bad.prefix(3))")
    }

    @Test func clippingLetsGradientThroughOnlyWithinCleanBounds() throws {
        // h = relu(x) (identity weights), y = 3·h₀ + 5·h₁ + 7·h₂. Clean x = (1, 1, 0) ⇒ h = (1, 1, 0).
        var rng = SeededGenerator(seed: 0)
        let first = try Linear(inFeatures: 3, outFeatures: 3, bias: false, rng: &rng)
        first.weight.value = Tensor(uncheckedShape: [3, 3], scalars: [1, 0, 0, 0, 1, 0, 0, 0, 1])
        let second = try Linear(inFeatures: 3, outFeatures: 1, bias: false, rng: &rng)
        second.weight.value = Tensor(uncheckedShape: [1, 3], scalars: [3, 5, 7])
        let model = Sequential([first, ReLU(), second])
        let clipping = try SelectiveGradientClipping(model: model, image: Tensor(uncheckedShape: [1, 3], scalars: [1, 1, 0]))
        #expect(clipping.clean.keys.sorted() == ["1"])
        // Row 0: h̃ = (2, 0.5, 0): unit 0 exceeds its clean value ⇒ blocked; unit 1 stays within.
        // Row 1: h̃ = (0.5, 1, 0.25): unit 2 is an activation the clean image lacks ⇒ blocked.
        let perturbed = Tensor(uncheckedShape: [2, 3], scalars: [2, 0.5, -1, 0.5, 1, 0.25])
        func inputGradient(_ clip: Bool) throws -> [Float] {
            try gradient(at: perturbed) { v in
                let context = ForwardContext(training: false)
                if clip { clipping.install(on: context) }
                return try sum(try model.forward(v, context: context))
            }.gradient.scalars
        }
        #expect(try inputGradient(false) == [3, 5, 0, 3, 5, 7])
        #expect(try inputGradient(true) == [0, 5, 0, 3, 5, 0])
        #expect(clipping.seen == 6 && clipping.passed == 4)
        // Restricted to row 1, row 0 passes unchanged.
        clipping.rows = 1..<2
        #expect(try inputGradient(true) == [3, 5, 0, 3, 5, 0])
        #expect(clipping.seen == 9 && clipping.passed == 6)
    }

    @Test func clippingCoversEveryReLUAndResidualOutput() throws {
        let model = try TestNets.residualNet()
        let sites = SelectiveGradientClipping.sites(of: model, selects: SelectiveGradientClipping.reluAndResidual)
        #expect(sites == ["2", "3.body.2", "3", "4.body.2", "4"])
        let clipping = try SelectiveGradientClipping(model: model, image: Tensor.ones([1, 1, 12, 12]))
        #expect(Set(clipping.clean.keys) == Set(sites))
    }

    @Test func sameSeedGivesBitIdenticalAttribution() throws {
        let model = try TestNets.residualNet()
        var rng = SeededGenerator(seed: 5)
        let image = Tensor.normal([1, 1, 12, 12], using: &rng)
        let config = FEI.Configuration(iterations: 8, fractions: 4, seed: 77)
        let a = try FEI.explain(model: model, image: image, configuration: config)
        let b = try FEI.explain(model: model, image: image, configuration: config)
        #expect(a.attribution.map.scalars == b.attribution.map.scalars && a.loss == b.loss)
        #expect(a.attribution.map.shape == [12, 12] && a.attribution.evaluations == 8 * 8 + 1)
        #expect(a.gradientPassFraction > 0 && a.gradientPassFraction <= 1)
        var other = config
        other.seed = 78
        #expect(try FEI.explain(model: model, image: image, configuration: other).attribution.map.scalars != a.attribution.map.scalars)
    }

    @Test func invalidConfigurationsAreRefused() throws {
        let model = try FEINets.tiny()
        for config in [FEI.Configuration(iterations: 0), FEI.Configuration(fractions: 0), FEI.Configuration(learningRate: -1),
                       FEI.Configuration(finalTemperature: 0), FEI.Configuration(gridSize: 0)] {
            do {
                _ = try FEI.explain(model: model, image: Tensor.zeros([1, 1, 6, 6]), configuration: config)
                Issue.record("accepted \(config)")
            } catch {
                #expect("\(error)".contains("FEI"))
            }
        }
    }

    @Test func aucOfAHandComputedDeletionCurve() throws {
        // 2×2 image of ones, logit₁ = Σ_j w_j x_j, logit₀ = 0, so p₁ = σ(Σ w_j x_j). The ranking
        // (3, 1, 0, 2) is deleted 3 pixels at a time: fractions 0, ¾, 1 (the last step is short).
        var rng = SeededGenerator(seed: 0)
        let linear = try Linear(inFeatures: 4, outFeatures: 2, bias: false, rng: &rng)
        linear.weight.value = Tensor(uncheckedShape: [2, 4], scalars: [0, 0, 0, 0, 1, 2, -1, 3])
        let model = Sequential([Flatten(), linear])
        let curve = try ExplanationMetrics.curve(.deletion, model: model, image: Tensor.ones([1, 1, 2, 2]),
                                                 attribution: Tensor(uncheckedShape: [2, 2], scalars: [0.5, 0.7, 0.1, 0.9]),
                                                 target: 1, step: 3)
        func s(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }
        // Full image: σ(5); pixels 3, 1, 0 deleted: σ(−1); all deleted: σ(0).
        let p = [s(5), s(-1), s(0)]
        #expect(curve.fractions == [0, 0.75, 1])
        #expect(zip(curve.probabilities, p).allSatisfy { abs($0 - $1) < 1e-6 })
        let auc = 0.75 * (p[0] + p[1]) / 2 + 0.25 * (p[1] + p[2]) / 2
        #expect(abs(curve.auc - auc) < 1e-6)
    }

    @Test func activationDeviationOnHandValues() throws {
        let clean: [(path: String, value: Tensor)] = [
            ("a", Tensor(uncheckedShape: [1, 4], scalars: [1, 2, 0, 2])),
            ("dead", Tensor(uncheckedShape: [1, 2], scalars: [0, 0])),
            ("b", Tensor(uncheckedShape: [1, 2], scalars: [3, 4])),
        ]
        let perturbed: [(path: String, value: Tensor)] = [
            ("a", Tensor(uncheckedShape: [2, 4], scalars: [1, 2, 0, 2, 2, 2, 1, 0])),
            ("dead", Tensor(uncheckedShape: [2, 2], scalars: [1, 1, 0, 0])),
            ("b", Tensor(uncheckedShape: [2, 2], scalars: [0, 0, 6, 8])),
        ]
        let d = try ActivationDeviation.measure(clean: clean, perturbed: perturbed)
        // a: row 0 equal; row 1 differs by (1, 0, 1, −2): ‖·‖ = √6 over ‖h‖ = 3, excess (1 + 1)/5.
        // b: rows differ by (−3, −4) and (3, 4): relative 1 each; excess 0 and 7/7 = 1.
        // The all-zero layer is skipped.
        #expect(d.layers.map(\.path) == ["a", "b"])
        #expect(abs(d.layers[0].relativeNorm - 6.0.squareRoot() / 6) < 1e-12 && abs(d.layers[0].excess - 0.2) < 1e-12)
        #expect(abs(d.layers[1].relativeNorm - 1) < 1e-12 && abs(d.layers[1].excess - 0.5) < 1e-12)
        #expect(abs(d.relativeNorm - (6.0.squareRoot() / 6 + 1) / 2) < 1e-12 && abs(d.excess - 0.35) < 1e-12)
    }

    @Test func insertionPathMatchesTheInsertionCurve() throws {
        // The deviation is measured on exactly the images the insertion curve scores.
        let model = try TestNets.convNet()
        var rng = SeededGenerator(seed: 4)
        let image = Tensor.normal([1, 1, 12, 12], using: &rng)
        let attribution = Tensor.normal([12, 12], using: &rng)
        let path = try ActivationDeviation.insertionPath(image: image, attribution: attribution, step: 7, blurSigma: 1)
        let curve = try ExplanationMetrics.curve(.insertion, model: model, image: image, attribution: attribution, target: 0,
                                                 step: 7, blurSigma: 1)
        let p = softmaxRows(try model.predict(path))
        #expect(path.shape[0] == curve.probabilities.count)
        #expect(zip(curve.probabilities, (0..<path.shape[0]).map { Double(p.scalars[$0 * 3]) }).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(path.scalars.suffix(144).elementsEqual(image.scalars))
    }

    @Test(arguments: [false, true])
    func softADEqualsConvADOnBinaryMasks(residual: Bool) throws {
        let model = residual ? try TestNets.residualNet() : try TestNets.convNet()
        var rng = SeededGenerator(seed: 21)
        let images = Tensor.normal([4, 1, 12, 12], using: &rng)
        let masks = TestNets.masks(n: 4, h: 12, w: 12, rng: &rng)
        let expected = try ActivationDeactivation(model: model, variant: .strict).logits(images: images, masks: masks)
        let soft = try FEISoftActivationDeactivation(model: model)
            .forward(images: Variable(images), keep: Variable(masks), context: ForwardContext(training: false)).value
        #expect(soft.shape == expected.shape)
        #expect(soft.maxAbsDifference(expected) < 1e-4)
        // The deletion branch is differentiable in the mask.
        let (_, dm) = try gradient(at: masks.map { $0 * 0.8 + 0.1 }) { m in
            try sum(try FEISoftActivationDeactivation(model: model).forward(images: Variable(images), keep: m,
                                                                            context: ForwardContext(training: false)))
        }
        #expect(dm.scalars.contains { $0 != 0 } && dm.isFinite)
    }

    @Test func feiWithSoftADRunsAndIsSeeded() throws {
        let model = try TestNets.convNet()
        var rng = SeededGenerator(seed: 8)
        let image = Tensor.normal([1, 1, 12, 12], using: &rng)
        let config = FEI.Configuration(iterations: 4, fractions: 3, deletion: .activationDeactivation, seed: 2)
        let a = try FEI.explain(model: model, image: image, configuration: config)
        let b = try FEI.explain(model: model, image: image, configuration: config)
        #expect(a.attribution.map.scalars == b.attribution.map.scalars && a.attribution.map.isFinite)
    }

    @Test func imageGradientsAgreeWithTheirDefinitions() throws {
        // A linear model: saliency is |w|, integrated gradients from 0 is x ⊙ w exactly (complete).
        var rng = SeededGenerator(seed: 1)
        let linear = try Linear(inFeatures: 9, outFeatures: 2, rng: &rng)
        let model = Sequential([Flatten(), linear])
        let x = Tensor.normal([1, 1, 3, 3], using: &rng)
        let w = Array(linear.weight.value.scalars[9..<18])
        let s = try ImageGradients.saliency(model: model, image: x, target: 1)
        #expect(zip(s.map.scalars, w).allSatisfy { abs($0 - abs($1)) < 1e-6 })
        let ig = try ImageGradients.integratedGradients(model: model, image: x, target: 1, steps: 4)
        #expect(zip(ig.map.scalars, zip(x.scalars, w).map { $0 * $1 }).allSatisfy { abs($0 - $1) < 1e-5 })
        // On a ReLU net, completeness holds approximately with enough steps.
        let net = try TestNets.convNet()
        let image = Tensor.normal([1, 1, 12, 12], using: &rng)
        let ig2 = try ImageGradients.integratedGradients(model: net, image: image, target: 0, steps: 64)
        let gap = try net.predict(image).scalars[0] - net.predict(Tensor.zeros(image.shape)).scalars[0]
        #expect(abs(ig2.map.scalars.reduce(0, +) - gap) < 0.05 * max(1, abs(gap)))
    }

    @Test func feiBeatsRandomAttributionOnATrainedModel() throws {
        let (model, images) = try FEINets.trainedDigits()
        var fei = 0.0, random = 0.0
        let n = images.shape[0]
        for i in 0..<n {
            let image = Tensor(uncheckedShape: [1, 1, 8, 8], scalars: Array(images.scalars[i * 64..<(i + 1) * 64]))
            let target = topClass(try model.predict(image).scalars)
            let map = try FEI.explain(model: model, image: image, target: target,
                                      configuration: .init(iterations: 30, seed: UInt64(i))).attribution.map
            var rng = SeededGenerator(seed: UInt64(100 + i))
            let noise = Tensor.uniform([8, 8], 0, 1, using: &rng)
            func gap(_ m: Tensor) throws -> Double {
                try ExplanationMetrics.curve(.insertion, model: model, image: image, attribution: m, target: target, step: 1,
                                             blurSigma: 1).auc
                    - ExplanationMetrics.curve(.deletion, model: model, image: image, attribution: m, target: target, step: 1).auc
            }
            fei += try gap(map) / Double(n)
            random += try gap(noise) / Double(n)
        }
        #expect(fei > random + 0.1, "FEI gap \(fei), random \(random)")
    }
}
