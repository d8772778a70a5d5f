import Testing
@testable import GlassboxImage
import GlassboxNN
import Foundation

/// A model whose decision hangs on one pixel `p` of a 12×12 image of ones: logit₁ = 20·x_p − 10,
/// logit₀ = 0. With removal by 0, class 1 wins exactly when `p` is visible.
enum OnePixelModel {
    static let (h, w, p) = (12, 12, 5 * 12 + 7)
    static func make() throws -> any Layer {
        var rng = SeededGenerator(seed: 0)
        let linear = try Linear(inFeatures: h * w, outFeatures: 2, rng: &rng)
        var weight = [Float](repeating: 0, count: 2 * h * w)
        weight[h * w + p] = 20
        linear.weight.value = Tensor(uncheckedShape: [2, h * w], scalars: weight)
        linear.bias!.value = Tensor([0, -10])
        return Sequential([Flatten(), linear])
    }
    static let image = Tensor.ones([1, 1, h, w])
}

@Suite("Causal responsibility, baselines and extraction")
struct ExplainerTests {
    @Test func responsibilityPeaksAtTheDecisivePixel() throws {
        let classifier = MaskedClassifier(model: try OnePixelModel.make())
        // Boxes down to 2 pixels (rex-xai's default area 10 cannot isolate one pixel of 144).
        let result = try CausalResponsibility.explain(classifier, image: OnePixelModel.image,
                                                      options: .init(iterations: 8, minBoxSize: 2, seed: 3))
        #expect(result.target == 1)
        let peak = result.map.scalars[OnePixelModel.p]
        #expect(result.map.scalars.enumerated().allSatisfy { $0.offset == OnePixelModel.p || $0.element < peak })
        #expect(peak == 1, "multiplicative maps are renormalised to a maximum of 1")
        // 14 per split box; the first job has one box, later ones at most three.
        #expect(result.evaluations > 0 && result.evaluations % 14 == 0 && result.evaluations <= 14 * 8 * (1 + 3 * 10))
    }

    @Test(arguments: [Removal.constant(0), .uniformNoise, .activationDeactivation(.strict), .activationDeactivation(.checkpoint)])
    func responsibilityIsSeededAndBitIdentical(removal: Removal) throws {
        let classifier = MaskedClassifier(model: try TestNets.residualNet())
        var rng = SeededGenerator(seed: 9)
        let image = Tensor.normal([1, 1, 12, 12], using: &rng)
        let options = CausalResponsibility.Options(iterations: 4, removal: removal, seed: 42)
        let a = try CausalResponsibility.explain(classifier, image: image, options: options)
        let b = try CausalResponsibility.explain(classifier, image: image, options: options)
        #expect(a.map.scalars == b.map.scalars && a.evaluations == b.evaluations)
        #expect(a.map.scalars.allSatisfy { $0 >= 0 && $0.isFinite })
    }

    @Test func extractionStopsAtTheFirstPassingPrefix() throws {
        let classifier = MaskedClassifier(model: try OnePixelModel.make())
        var first = [Float](repeating: 0, count: 144); first[OnePixelModel.p] = 1
        var last = [Float](repeating: 1, count: 144); last[OnePixelModel.p] = 0
        let good = try SufficientExplanation.extract(classifier, image: OnePixelModel.image,
                                                     attribution: Tensor(uncheckedShape: [12, 12], scalars: first),
                                                     target: 1, removal: .constant(0), chunk: 1)
        #expect(good.pixelCount == 1 && good.mask.scalars == first)
        // By default pixels come rex-xai's 10 at a time: the decisive pixel, then the first nine
        // of the tied rest in row-major order.
        let chunked = try SufficientExplanation.extract(classifier, image: OnePixelModel.image,
                                                        attribution: Tensor(uncheckedShape: [12, 12], scalars: first),
                                                        target: 1, removal: .constant(0))
        // All ⌈144/10⌉ = 15 prefixes fit one batch of the classifier (64), so 15 evaluations.
        #expect(chunked.pixelCount == SufficientExplanation.reXChunkSize && chunked.evaluations == 15)
        #expect(chunked.mask.scalars.indices.filter { chunked.mask.scalars[$0] == 1 } == Array(0..<9) + [OnePixelModel.p])
        let bad = try SufficientExplanation.extract(classifier, image: OnePixelModel.image,
                                                    attribution: Tensor(uncheckedShape: [12, 12], scalars: last),
                                                    target: 1, removal: .constant(0), chunk: 10)
        #expect(bad.pixelCount == 144)
    }

    @Test func occlusionAndRISEPeakAtTheDecisivePixel() throws {
        let classifier = MaskedClassifier(model: try OnePixelModel.make())
        let occlusion = try Occlusion.explain(classifier, image: OnePixelModel.image, window: 3, stride: 1)
        let rise = try RISE.explain(classifier, image: OnePixelModel.image, masks: 300, cells: 4, seed: 5)
        for map in [occlusion.map, rise.map] {
            let peak = map.scalars[OnePixelModel.p]
            #expect(map.scalars.allSatisfy { $0 <= peak })
        }
        #expect(occlusion.evaluations == 100 && rise.evaluations == 300)
        let again = try RISE.explain(classifier, image: OnePixelModel.image, masks: 300, cells: 4, seed: 5)
        #expect(again.map.scalars == rise.map.scalars)
    }
}

@Suite("Explanation metrics")
struct MetricsTests {
    @Test func sizeRobustnessAndDropOff() throws {
        let classifier = MaskedClassifier(model: try OnePixelModel.make())
        var with = [Float](repeating: 0, count: 144); with[OnePixelModel.p] = 1
        var without = [Float](repeating: 1, count: 144); without[OnePixelModel.p] = 0
        let withMask = Tensor(uncheckedShape: [1, 1, 12, 12], scalars: with)
        #expect(ExplanationMetrics.size(withMask) == 1.0 / 144)
        let contexts: [Removal] = [.constant(0), .constant(-3), .imageMean, .blur(sigma: 1), .uniformNoise]
        #expect(try ExplanationMetrics.robustness(classifier, image: OnePixelModel.image, mask: withMask, target: 1,
                                                  contexts: contexts, noiseFills: 5, seed: 1) == 1)
        #expect(try ExplanationMetrics.robustness(classifier, image: OnePixelModel.image,
                                                  mask: Tensor(uncheckedShape: [1, 1, 12, 12], scalars: without), target: 1,
                                                  contexts: [.constant(0), .constant(-3)]) == 0)
        #expect(try ExplanationMetrics.confidenceDropOff(classifier, image: OnePixelModel.image, mask: .ones([1, 1, 12, 12]),
                                                         target: 1, removal: .constant(0)) == 0)
        // Dropping the decisive pixel: p₁ goes from σ(10) to σ(−10).
        let drop = try ExplanationMetrics.confidenceDropOff(classifier, image: OnePixelModel.image,
                                                            mask: Tensor(uncheckedShape: [1, 1, 12, 12], scalars: without),
                                                            target: 1, removal: .constant(0))
        let high: Double = 1 / (1 + Foundation.exp(-10.0)), low: Double = 1 / (1 + Foundation.exp(10.0))
        #expect(abs(drop - (high - low)) < 1e-5)
    }

    /// Against a naive one-image-at-a-time implementation of the same definition.
    @Test(arguments: [ExplanationMetrics.Path.insertion, .deletion], [1, 7, 50])
    func curvesMatchNaiveImplementation(path: ExplanationMetrics.Path, step: Int) throws {
        let model = try TestNets.convNet()
        var rng = SeededGenerator(seed: 4)
        let image = Tensor.normal([1, 1, 12, 12], using: &rng)
        let attribution = Tensor.normal([12, 12], using: &rng)
        let curve = try ExplanationMetrics.curve(path, model: model, image: image, attribution: attribution, target: 2,
                                                 step: step, blurSigma: 1, batchSize: 5)
        let order = attribution.scalars.indices.sorted { attribution.scalars[$0] > attribution.scalars[$1] }
        var current = path == .deletion ? image : gaussianBlur(image, sigma: 1)
        let finish = path == .deletion ? Tensor.zeros(image.shape) : image
        var ps: [Double] = [], fs: [Double] = []
        var k = 0
        while true {
            let logits = try model.predict(current).scalars
            let top = Double(logits.max()!)
            let e: [Double] = logits.map { Foundation.exp(Double($0) - top) }
            ps.append(e[2] / e.reduce(0, +)); fs.append(Double(k) / 144)
            if k == 144 { break }
            for j in order[k..<min(144, k + step)] { current.scalars[j] = finish.scalars[j] }
            k = min(144, k + step)
        }
        #expect(curve.fractions == fs)
        #expect(zip(curve.probabilities, ps).allSatisfy { abs($0 - $1) < 1e-6 })
        var auc = 0.0
        for i in 1..<fs.count { auc += (fs[i] - fs[i - 1]) * (ps[i] + ps[i - 1]) / 2 }
        #expect(abs(curve.auc - auc) < 1e-6 && curve.auc >= 0 && curve.auc <= 1)
    }
}
