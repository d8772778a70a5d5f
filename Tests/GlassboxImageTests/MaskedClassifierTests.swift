import Foundation
import Testing
@testable import GlassboxImage
import GlassboxNN
import GlassboxData

@Suite("Masked classifier and image model files")
struct MaskedClassifierTests {
    /// Each removal against the mutant composed by hand and run through `predict` (or ConvAD).
    @Test(arguments: [Removal.constant(0.5), .channelConstant([-1]), .imageMean, .blur(sigma: 1),
                      .activationDeactivation(.strict), .activationDeactivation(.checkpoint)])
    func mutantsMatchHandComposedImages(removal: Removal) throws {
        let model = try TestNets.convNet()
        var rng = SeededGenerator(seed: 8)
        let image = Tensor.normal([1, 1, 12, 12], using: &rng)
        let masks = TestNets.masks(n: 5, h: 12, w: 12, rng: &rng)
        let classifier = MaskedClassifier(model: model, batchSize: 2)
        let plan = try model.compiledForInference(sampleShape: [1, 12, 12])
        let got = try classifier.logits(image: image, masks: masks, removal: removal)
        if case .activationDeactivation(let variant) = removal {
            let images = Tensor(uncheckedShape: [5, 1, 12, 12], scalars: Array(repeating: image.scalars, count: 5).flatMap { $0 })
            let ad = try ActivationDeactivation(model: model, variant: variant)
            #expect(got.scalars == (try ad.logits(images: images, masks: masks)).scalars)
            ActivationDeactivationPlanTests.expectClose(got, try ad.referenceLogits(images: images, masks: masks), "\(variant)")
            return
        }
        let mean = image.scalars.reduce(0, +) / 144
        let blurred = gaussianBlur(image, sigma: 1)
        for i in 0..<5 {
            var x = image
            for j in 0..<144 where masks.scalars[i * 144 + j] == 0 {
                switch removal {
                case .constant(let v): x.scalars[j] = v
                case .channelConstant(let v): x.scalars[j] = v[0]
                case .imageMean: x.scalars[j] = mean
                default: x.scalars[j] = blurred.scalars[j]
                }
            }
            // Bit for bit what the model's inference plan gives for the hand-composed image, and
            // the training-path forward within float rounding.
            let row = Array(got.scalars[i * 3..<(i + 1) * 3])
            #expect(row == (try plan.predict(x)).scalars)
            let reference = try model.predict(x).scalars
            for j in 0..<3 { #expect(abs(row[j] - reference[j]) <= 1e-5 * max(1, abs(reference[j]))) }
        }
    }

    /// Mutant batches of 1, 3 or 64 give the same logits for every removal (noise included).
    @Test func resultsDoNotDependOnBatchSize() throws {
        let model = try TestNets.residualNet()
        var rng = SeededGenerator(seed: 12)
        let image = Tensor.normal([1, 1, 12, 12], using: &rng)
        let masks = TestNets.masks(n: 11, h: 12, w: 12, rng: &rng)
        for removal in [Removal.constant(0), .uniformNoise, .activationDeactivation(.strict), .activationDeactivation(.checkpoint)] {
            let results = try [1, 3, 64].map {
                try MaskedClassifier(model: model, batchSize: $0).logits(image: image, masks: masks, removal: removal, seed: 5)
            }
            #expect(results[0] == results[1] && results[1] == results[2], "\(removal)")
        }
    }

    @Test func noiseStaysInImageRangeAndIsSeeded() throws {
        let classifier = MaskedClassifier(model: try TestNets.convNet())
        var rng = SeededGenerator(seed: 2)
        let image = Tensor.normal([1, 1, 12, 12], using: &rng)
        let masks = Tensor.zeros([3, 1, 12, 12])
        let a = try classifier.logits(image: image, masks: masks, removal: .uniformNoise, seed: 4)
        #expect(a == (try classifier.logits(image: image, masks: masks, removal: .uniformNoise, seed: 4)))
        #expect(a != (try classifier.logits(image: image, masks: masks, removal: .uniformNoise, seed: 5)))
    }

    @Test func imageModelFileKeepsNormalizerAndClasses() throws {
        let model = try TestNets.residualNet()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gb-image-model-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let normalizer = try JSONDecoder().decode(ChannelNormalizer.self, from: Data(#"{"mean":[0.25],"std":[0.5]}"#.utf8))
        try ImageModelFile.save(model, normalizer: normalizer, classNames: ["a", "b", "c"], to: url)
        let loaded = try ImageModelFile.load(from: url)
        #expect(loaded.normalizer == normalizer && loaded.classNames == ["a", "b", "c"])
        var rng = SeededGenerator(seed: 1)
        let x = Tensor.normal([2, 1, 12, 12], using: &rng)
        #expect(try loaded.model.predict(x) == (try model.predict(x)))
    }
}
