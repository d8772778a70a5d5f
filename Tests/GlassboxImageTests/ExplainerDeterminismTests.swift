import Foundation
import Testing
import Glassbox

/// Same seed and inputs ⇒ the same bits, for every image explainer and for the ScoresActivation
/// ranking of both tabular model families; another seed ⇒ another result where the method samples.
/// Public API only (the explainers' internals may change for speed without touching these tests).
@Suite struct ExplainerDeterminismTests {
    static func setup() throws -> (MaskedClassifier, Tensor) {
        let model = try LayerRegistry.build(Architectures.residualNet(inputChannels: 1, channels: [4, 8], classes: 3), seed: 21)
        var rng = SeededGenerator(seed: 22)
        return (MaskedClassifier(model: model), Tensor.normal([1, 1, 12, 12], using: &rng))
    }

    /// One explainer run; `seed` is the only thing varied.
    struct Method: CustomTestStringConvertible, Sendable {
        var name: String
        /// Whether another seed must change the result (false where the method draws nothing at
        /// random with these settings, e.g. occlusion by a constant).
        var seeded: Bool
        var testDescription: String { name }
    }

    static let methods = [
        Method(name: "responsibility, activation-deactivation", seeded: true),
        Method(name: "responsibility, masking value 0.5", seeded: true),
        Method(name: "occlusion, masking value 0", seeded: false),
        Method(name: "occlusion, uniform noise", seeded: true),
        Method(name: "RISE", seeded: true),
        Method(name: "sufficient explanation, uniform noise", seeded: false),
    ]

    static func run(_ method: Method, seed: UInt64) throws -> [Float] {
        let (classifier, image) = try setup()
        switch method.name {
        case "responsibility, activation-deactivation":
            return try CausalResponsibility.explain(classifier, image: image, options: .init(
                iterations: 3, removal: .activationDeactivation(.strict), seed: seed)).map.scalars
        case "responsibility, masking value 0.5":
            return try CausalResponsibility.explain(classifier, image: image, options: .init(
                iterations: 3, removal: .constant(0.5), seed: seed)).map.scalars
        case "occlusion, masking value 0":
            return try Occlusion.explain(classifier, image: image, target: 1, window: 4, stride: 2, removal: .constant(0), seed: seed).map.scalars
        case "occlusion, uniform noise":
            return try Occlusion.explain(classifier, image: image, target: 1, window: 4, stride: 2, removal: .uniformNoise, seed: seed).map.scalars
        case "RISE":
            return try RISE.explain(classifier, image: image, target: 1, masks: 40, cells: 4, seed: seed).map.scalars
        default:
            // Extraction from a fixed ranking; the noise filling removed pixels follows the seed,
            // so the confidence of each prefix (and hence the evaluations made) may differ.
            let ranking = Tensor(uncheckedShape: [12, 12], scalars: (0..<144).map { Float(($0 * 53) % 144) })
            let e = try SufficientExplanation.extract(classifier, image: image, attribution: ranking, target: 1,
                                                      removal: .uniformNoise, seed: seed)
            return e.mask.scalars + [Float(e.pixelCount), Float(e.evaluations)]
        }
    }

    @Test(arguments: methods)
    func sameSeedSameBits(_ method: Method) throws {
        let a = try Self.run(method, seed: 7)
        let b = try Self.run(method, seed: 7)
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        #expect(a.allSatisfy { $0.isFinite })
        if method.seeded {
            #expect(a.contains { $0 != 0 }, "an all-zero map cannot show the seed's effect")
            #expect(try Self.run(method, seed: 8) != a, "another seed should give another result")
        }
    }

    /// The noise under removed pixels follows the seed: the classifier's confidence for the same
    /// masked image differs between seeds (the extraction itself may still choose the same prefix).
    @Test func noiseRemovalFollowsTheSeed() throws {
        let (classifier, image) = try Self.setup()
        var mask = [Float](repeating: 0, count: 144)
        for i in stride(from: 0, to: 144, by: 3) { mask[i] = 1 }
        let m = Tensor(uncheckedShape: [12, 12], scalars: mask)
        func drop(_ seed: UInt64) throws -> Double {
            try ExplanationMetrics.confidenceDropOff(classifier, image: image, mask: m, target: 1, removal: .uniformNoise, seed: seed)
        }
        #expect(try drop(3) == (try drop(3)))
        #expect(try drop(3) != (try drop(4)))
    }

    /// The ScoresActivation ranking of the tabular Transformer (the MLP's is covered in
    /// ScoresTests): same seed, same scores and ranking bit for bit; another seed, other scores.
    @Test func transformerScoresAreReproducible() throws {
        var rng = SeededGenerator(seed: 5)
        let n = 200, d = 5
        let x = Tensor.normal([n, d], using: &rng)
        let labels = (0..<n).map { x.scalars[$0 * d] + 0.5 * x.scalars[$0 * d + 2] > 0 ? 1 : 0 }
        let data = try Dataset(features: x, labels: labels, featureNames: (0..<d).map { "f\($0)" }, classNames: ["0", "1"])
        var options = TabularModel.Options()
        options.family = .transformer
        options.scores = true
        (options.embed, options.heads, options.blocks, options.ffn) = (8, 2, 1, 16)
        options.training.epochs = 3
        options.training.seed = 11
        let first = try TabularModel.train(on: data, options: options).report.scores!
        let second = try TabularModel.train(on: data, options: options).report.scores!
        #expect(first.scores.map(\.bitPattern) == second.scores.map(\.bitPattern))
        #expect(first.ranking == second.ranking)
        #expect(first.effectiveImportance == second.effectiveImportance)
        options.training.seed = 12
        #expect(try TabularModel.train(on: data, options: options).report.scores!.scores != first.scores)
    }
}
