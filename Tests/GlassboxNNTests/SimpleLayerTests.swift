import Foundation
import Testing
@testable import GlassboxNN

@Suite("Activation, flatten, dropout and embedding layers")
struct SimpleLayerTests {
    static let specs: [String] = [
        #"{"type": "LeakyReLU", "negative_slope": 0.2}"#, #"{"type": "LeakyReLU"}"#, #"{"type": "Sigmoid"}"#,
        #"{"type": "Tanh"}"#, #"{"type": "GELU"}"#, #"{"type": "GELU", "approximate": "tanh"}"#,
        #"{"type": "Softmax", "dim": -1}"#, #"{"type": "Flatten"}"#, #"{"type": "Flatten", "start_dim": 0, "end_dim": 2}"#,
        #"{"type": "Dropout", "p": 0.25}"#, #"{"type": "Dropout"}"#, #"{"type": "Embedding", "num_embeddings": 10, "embedding_dim": 4}"#,
    ]

    @Test(arguments: specs)
    func specRoundTrips(_ json: String) throws {
        let layer = try LayerRegistry.build(LayerSpec.parse(json: json))
        #expect(try LayerRegistry.build(layer.spec).spec == layer.spec)
        #expect(try LayerRegistry.build(LayerSpec.parse(json: layer.spec.jsonString())).spec == layer.spec)
    }

    @Test func badSpecsAreRejectedWithTheValue() {
        expectError(mentioning: ["approximate", "'fast'"]) {
            try LayerRegistry.build(LayerSpec.parse(json: #"{"type": "GELU", "approximate": "fast"}"#))
        }
        expectError(mentioning: ["p", "1.0"]) { try LayerRegistry.build(LayerSpec.parse(json: #"{"type": "Dropout", "p": 1.0}"#)) }
        expectError(mentioning: ["dim"]) { try LayerRegistry.build(LayerSpec.parse(json: #"{"type": "Softmax"}"#)) }
        expectError(mentioning: ["num_embeddings 0"]) {
            try LayerRegistry.build(LayerSpec.parse(json: #"{"type": "Embedding", "num_embeddings": 0, "embedding_dim": 4}"#))
        }
    }

    @Test func layersApplyTheirOps() throws {
        let x = Variable(randomTensor([2, 3, 2], seed: 51, lo: -3, hi: 3))
        #expect(try LeakyReLU(negativeSlope: 0.2).predict(x.value) == leakyRelu(x, slope: 0.2).value)
        #expect(try Sigmoid().predict(x.value) == sigmoid(x).value)
        #expect(try Tanh().predict(x.value) == tanh(x).value)
        #expect(try GELU(approximate: .tanh).predict(x.value) == gelu(x, approximate: .tanh).value)
        #expect(try Softmax(dim: 1).predict(x.value) == softmax(x, axis: 1).value)
        #expect(try Flatten().predict(x.value).shape == [2, 6])
    }

    @Test func dropoutIsReproducibleFromTheSeed() throws {
        let x = Variable(randomTensor([64], seed: 52), requiresGrad: true)
        func run(_ seed: UInt64) throws -> Tensor {
            var rng = SeededGenerator(seed: seed)
            return try dropout(x, p: 0.5, training: true, rng: &rng).value
        }
        #expect(try run(1) == run(1))
        #expect(try run(1) != run(2))
        let layer = try Dropout(p: 0.5)
        let a = try layer.forward(x, context: ForwardContext(training: true, seed: 9))
        let b = try layer.forward(x, context: ForwardContext(training: true, seed: 9))
        #expect(a.value == b.value)
    }

    @Test func dropoutIsTheIdentityInInference() throws {
        let x = Variable(randomTensor([4, 5], seed: 53), requiresGrad: true)
        var rng = SeededGenerator(seed: 1)
        #expect(try dropout(x, p: 0.5, training: false, rng: &rng) === x)
        #expect(try dropout(x, p: 0, training: true, rng: &rng) === x)
        #expect(try Dropout(p: 0.9).predict(x.value) == x.value)
    }

    @Test func dropoutPreservesTheMeanAndMasksTheGradient() throws {
        let n = 20_000, p: Float = 0.3
        var rng = SeededGenerator(seed: 54)
        let x = Variable(.ones([n]), requiresGrad: true)
        let y = try dropout(x, p: p, training: true, rng: &rng)
        let zeros = y.value.scalars.filter { $0 == 0 }.count
        #expect(abs(Float(zeros) / Float(n) - p) < 0.02)
        #expect(abs(Float(y.value.sumAll()) / Float(n) - 1) < 0.03)
        #expect(y.value.scalars.allSatisfy { $0 == 0 || abs($0 - 1 / (1 - p)) < 1e-6 })
        try y.backward(.ones([n]))
        #expect(x.grad == y.value)
        let bad = try GradientCheck.mismatches(inputs: [randomTensor([3, 4], seed: 55)]) {
            var rng = SeededGenerator(seed: 56)
            return try dropout($0[0], p: 0.4, training: true, rng: &rng)
        }
        #expect(bad.isEmpty)
    }

    @Test(arguments: [Float(1), -0.1, .nan, 1.5])
    func dropoutRejectsBadProbabilities(_ p: Float) {
        var rng = SeededGenerator(seed: 0)
        expectError(mentioning: ["\(p)"]) { try dropout(Variable(.ones([2])), p: p, training: true, rng: &rng) }
        expectError(mentioning: ["\(p)"]) { try dropout(Variable(.ones([2])), p: p, training: false, rng: &rng) }
    }

    @Test func embeddingLooksUpRowsAndAccumulatesTheirGradients() throws {
        var rng = SeededGenerator(seed: 57)
        let layer = try Embedding(numEmbeddings: 6, embeddingDim: 3, rng: &rng)
        #expect(layer.namedParameters().map(\.name) == ["weight"] && layer.weight.shape == [6, 3])
        let ids = Variable(try Tensor(rows: [[1, 5], [5, 0]]))
        let y = try layer.forward(ids, context: ForwardContext(training: true))
        #expect(y.shape == [2, 2, 3])
        let w = layer.weight.value.scalars
        #expect(Array(y.value.scalars[3..<6]) == Array(w[15..<18]) && Array(y.value.scalars[9..<12]) == Array(w[0..<3]))
        try y.backward(.ones([2, 2, 3]))
        #expect(layer.weight.grad?.scalars == [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2])
    }

    @Test func embeddingRejectsNonIndexInputs() throws {
        var rng = SeededGenerator(seed: 0)
        let layer = try Embedding(numEmbeddings: 4, embeddingDim: 2, rng: &rng)
        for (bad, position) in [(Float(2.5), 1), (-1, 0), (4, 2), (.nan, 1)] {
            var ids: [Float] = [0, 1, 2]
            ids[position] = bad
            expectError(mentioning: ["\(bad)", "flat index \(position)"]) { try layer.predict(Tensor(ids)) }
        }
    }

    @Test func embeddingInitialisationIsStandardNormal() throws {
        var rng = SeededGenerator(seed: 58)
        let w = try Embedding(numEmbeddings: 200, embeddingDim: 50, rng: &rng).weight.value
        let mean = w.sumAll() / Double(w.count)
        let variance = w.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(w.count) - mean * mean
        #expect(abs(mean) < 0.05 && abs(variance - 1) < 0.05)
    }
}
