import Foundation
import GlassboxExplain
import GlassboxNN
import Testing

/// A layer the registry does not know: it cannot be replicated, so evaluation stays serial.
final class Doubling: Layer {
    func forward(_ input: Variable, context: ForwardContext) throws -> Variable { scale(input, 2) }
    var spec: LayerSpec { LayerSpec(type: "Doubling") }
}

@Suite struct PredictionFunctionTests {
    /// `|a − b| ≤ 1e-5 · max(1, max|b|)`: the inference plan's float rounding against `Layer.predict`.
    static func expectClose(_ a: Tensor, _ b: Tensor, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.shape == b.shape, sourceLocation: sourceLocation)
        let scale = max(1, b.scalars.map { abs($0) }.max() ?? 0)
        #expect(a.maxAbsDifference(b) <= 1e-5 * scale, "difference \(a.maxAbsDifference(b)), scale \(scale)",
                sourceLocation: sourceLocation)
    }

    /// The compiled MLP computes what the layers compute, up to float rounding.
    @Test func planEqualsPredict() throws {
        var rng = SeededGenerator(seed: 35)
        let model = Sequential([try Linear(inFeatures: 7, outFeatures: 33, rng: &rng), ReLU(), try Dropout(p: 0.3),
                                try Linear(inFeatures: 33, outFeatures: 9, rng: &rng), try LeakyReLU(negativeSlope: 0.1),
                                try Linear(inFeatures: 9, outFeatures: 3, rng: &rng)])
        let x = normalRows(1500, 7, seed: 36)
        Self.expectClose(try PredictionFunction.logits(of: model, features: 7)(x), try model.predict(x))
        let p = try PredictionFunction.probabilities(of: model, features: 7)(x)
        #expect(p.maxAbsDifference(try Trainer.predictProbabilities(model: model, inputs: x)) < 1e-6)
    }

    /// Layers outside the plan's kernels (a smooth activation, a layer the registry cannot rebuild)
    /// give the same values; the explainers' completeness holds through them.
    @Test func layerPathsAgree() throws {
        let smooth = try randomMLP(features: 5, seed: 37, smooth: true)
        let x = normalRows(1200, 5, seed: 38)
        Self.expectClose(try PredictionFunction.logits(of: smooth, features: 5)(x), try smooth.predict(x))
        let custom = Sequential([try randomMLP(features: 5, seed: 39), Doubling()])
        Self.expectClose(try PredictionFunction.logits(of: custom, features: 5)(x), try custom.predict(x))
        let background = try Background(normalRows(4, 5, seed: 40))
        let f = try PredictionFunction.logits(of: custom, features: 5)
        let e = try KernelSHAP(background: background, budget: 30).explain(normalRows(2, 5, seed: 41), model: f)
        #expect(try #require(e.audit.maxCompletenessGap) < 1e-5)
    }

    /// ScoresActivation in front of an MLP (a per-feature scale in the plan) and a tabular
    /// Transformer (attention runs its own predict inside the plan) against `Layer.predict`.
    @Test func scoredMLPAndTransformerMatchPredict() throws {
        let scored = try LayerRegistry.build(Architectures.scoredMLP(inputs: 6, hidden: [16, 8], outputs: 3), seed: 42)
        var rng = SeededGenerator(seed: 43)
        for (name, v) in scored.namedTensors() where name.hasSuffix("scores") { v.value = .normal(v.shape, using: &rng) }
        let x = normalRows(700, 6, seed: 44)
        Self.expectClose(try PredictionFunction.logits(of: scored, features: 6)(x), try scored.predict(x))
        let transformer = try LayerRegistry.build(Architectures.tabularTransformer(features: 6, classes: 2, embed: 8, heads: 2,
                                                                                  blocks: 1, ffn: 16, scores: true), seed: 45)
        let rows = normalRows(300, 6, seed: 46)
        Self.expectClose(try PredictionFunction.logits(of: transformer, features: 6)(rows), try transformer.predict(rows))
    }

    @Test func singleOutputProbabilityIsTheSigmoid() throws {
        let (layer, _) = try linearModel(weights: [1, -1], bias: 0.5)
        let f = try PredictionFunction.probabilities(of: layer, features: 2)
        let y = try f(Tensor(rows: [[0, 0], [30, 0], [0, 30]]))
        #expect(abs(y.scalars[0] - 1 / (1 + exp(-0.5))) < 1e-7)
        #expect(y.scalars[1] == 1 && y.scalars[2] < 1e-12)
    }
}

@Suite struct BackgroundTests {
    @Test func kMeansSummaryIsWeightedAndRounded() throws {
        var rows: [[Float]] = []
        for i in 0..<30 { rows.append([Float(i % 3) * 10 + Float(i % 5) * 0.1, i % 2 == 0 ? 1 : 0]) }
        let data = try Tensor(rows: rows)
        let summary = try Background.kMeans(data, clusters: 3, seed: 1)
        #expect(summary.count == 3)
        #expect(abs(summary.weights.reduce(0, +) - 1) < 1e-12)
        #expect(Set(summary.weights.map { Int(($0 * 30).rounded()) }) == [10])
        for r in 0..<3 { for j in 0..<2 { #expect(data.scalars.enumerated().contains { $0.offset % 2 == j && $0.element == summary.rows.scalars[r * 2 + j] }) } }
        #expect(try Background.kMeans(data, clusters: 3, seed: 1) == summary)
    }

    @Test func sampleDrawsDistinctRows() throws {
        let data = normalRows(50, 3, seed: 42)
        let b = try Background.sample(from: data, count: 10, seed: 3)
        #expect(b.count == 10 && b.weights.allSatisfy { $0 == 0.1 })
        #expect(try Background.sample(from: data, count: 10, seed: 3) == b)
        #expect(try Background.sample(from: data, count: 80).count == 50)
    }
}
