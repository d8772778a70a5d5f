import Foundation
import Testing
@testable import GlassboxNN

@Suite("ScoresActivation, feature tokenizer, transformer block")
struct ScoresActivationTests {
    /// A layer with scores `s` set (the default is all zeros, where every weight is equal).
    func layer(_ s: [Float], temperature: Double = 1) throws -> ScoresActivation {
        let layer = try ScoresActivation(numFeatures: s.count, temperature: temperature)
        layer.scores.value = Tensor(s)
        return layer
    }

    @Test func forwardIsSoftmaxWeightedInput() throws {
        let fresh = try ScoresActivation(numFeatures: 4)
        #expect(fresh.scores.value.scalars == [0, 0, 0, 0])
        #expect(try fresh.weights == [0.25, 0.25, 0.25, 0.25])
        let l = try layer([1, -0.5, 2], temperature: 0.5)
        let z = [2.0, -1.0, 4.0].map { Foundation.exp($0) }
        let w = z.map { $0 / z.reduce(0, +) }
        let x = try Tensor(rows: [[1, 2, 3], [-4, 0.5, 6]])
        let y = try l.predict(x)
        for i in 0..<6 { #expect(abs(Double(y.scalars[i]) - Double(x.scalars[i]) * w[i % 3]) < 1e-6) }
        #expect(abs(try l.weights.reduce(0, +) - 1) < 1e-6)
        expectError(mentioning: ["ScoresActivation(3 features)", "[2, 4]"]) { try l.predict(Tensor.zeros([2, 4])) }
        expectError(mentioning: ["temperature", "0.0"]) { try ScoresActivation(numFeatures: 3, temperature: 0) }
        expectError(mentioning: ["num_features", "0"]) { try ScoresActivation(numFeatures: 0) }
    }

    /// The spec's closed form, `∂L/∂s_j = w_j (a_j − Σ_i w_i a_i) / τ` with
    /// `a_j = Σ_rows (∂L/∂y_j)·x_j`, evaluated in Double, against the layer's backward.
    @Test(arguments: [1.0, 0.5, 3.0])
    func gradientMatchesClosedForm(temperature: Double) throws {
        let l = try layer([0.3, -1.2, 0.8, 0, 2.1], temperature: temperature)
        let x = randomTensor([6, 5], seed: 21, lo: -2, hi: 2), upstream = randomTensor([6, 5], seed: 22)
        let y = try l.forward(Variable(x), context: ForwardContext(training: true))
        try y.backward(upstream)
        let analytic = try #require(l.scores.grad).scalars.map(Double.init)

        let s = l.scores.value.scalars.map { Double($0) / temperature }
        let z = s.map { Foundation.exp($0 - s.max()!) }
        let w = z.map { $0 / z.reduce(0, +) }
        let a = (0..<5).map { j in (0..<6).reduce(0.0) { $0 + Double(upstream.scalars[$1 * 5 + j]) * Double(x.scalars[$1 * 5 + j]) } }
        let mean = zip(w, a).reduce(0.0) { $0 + $1.0 * $1.1 }
        for j in 0..<5 {
            let expected = w[j] * (a[j] - mean) / temperature
            #expect(abs(analytic[j] - expected) <= 1e-5 + 1e-4 * abs(expected), "feature \(j): \(analytic[j]) vs \(expected)")
        }
        #expect(abs(analytic.reduce(0, +)) < 1e-5, "score gradients must sum to zero: \(analytic)")
    }

    @Test func gradientMatchesFiniteDifferences() throws {
        let l = try layer([0.4, -0.7, 1.1, 0.2], temperature: 0.7)
        let x = randomTensor([3, 4], seed: 31, lo: -2, hi: 2)
        let bad = try GradientCheck.mismatches(inputs: [x]) { try l.forward($0[0], context: ForwardContext(training: false)) }
        #expect(bad.isEmpty, "input gradient: \(bad.prefix(3))")
        // The scores are a parameter: perturb them in place, L = Σ y ⊙ R accumulated in Double.
        let r = randomTensor([3, 4], seed: 32)
        func loss() throws -> Double {
            let y = try l.predict(x)
            return (0..<y.count).reduce(0.0) { $0 + Double(y.scalars[$1]) * Double(r.scalars[$1]) }
        }
        l.scores.zeroGrad()   // the check above back-propagated into the scores too
        try l.forward(Variable(x), context: ForwardContext(training: true)).backward(r)
        let analytic = try #require(l.scores.grad)
        let h: Float = 1e-2
        for j in 0..<4 {
            let saved = l.scores.value
            l.scores.value.scalars[j] = saved.scalars[j] + h
            let plus = try loss()
            l.scores.value.scalars[j] = saved.scalars[j] - h
            let minus = try loss()
            l.scores.value = saved
            let numeric = (plus - minus) / Double(2 * h)
            #expect(abs(Double(analytic.scalars[j]) - numeric) <= 2e-3 + 2e-2 * abs(numeric), "score \(j)")
        }
    }

    /// `Sequential[ScoresActivation, Linear, …]` runs the pair folded (one linear layer with
    /// `W·diag(w)`) unless someone observes the layers; both paths must give the same outputs and
    /// the same gradients for the scores, the weights, the bias and the input.
    @Test(arguments: [1.0, 0.6])
    func foldedScoresLinearMatchesTheLayerByLayerPass(temperature: Double) throws {
        var rng = SeededGenerator(seed: 5)
        let scores = try layer([0.5, -0.3, 1.2, 0.1, -0.9], temperature: temperature)
        let first = try Linear(inFeatures: 5, outFeatures: 7, rng: &rng), last = try Linear(inFeatures: 7, outFeatures: 3, rng: &rng)
        let model = Sequential([scores, first, Tanh(), last])
        let x = randomTensor([6, 5], seed: 41, lo: -2, hi: 2), r = randomTensor([6, 3], seed: 42)
        func pass(recording: Bool) throws -> (y: Tensor, grads: [Tensor]) {
            for p in model.namedParameters() { p.variable.zeroGrad() }
            let input = Variable(x, requiresGrad: true)
            let context = ForwardContext(training: true, recordActivations: recording)
            let y = try model.forward(input, context: context)
            try y.backward(r)
            #expect(context.activations.count == (recording ? 4 : 0))
            return (y.value, try model.namedParameters().map { try #require($0.variable.grad) } + [try #require(input.grad)])
        }
        let folded = try pass(recording: false), layered = try pass(recording: true)
        for (a, b) in zip(folded.y.scalars, layered.y.scalars) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b))) }
        #expect(folded.grads.count == layered.grads.count)
        for (index, (ga, gb)) in zip(folded.grads, layered.grads).enumerated() {
            #expect(ga.shape == gb.shape)
            for (a, b) in zip(ga.scalars, gb.scalars) {
                #expect(abs(a - b) <= 1e-5 + 1e-4 * abs(b), "gradient \(index): \(a) vs \(b)")
            }
        }
        // And the folded scores gradient against finite differences of the whole model.
        let bad = try GradientCheck.mismatches(inputs: [x]) { try model.forward($0[0], context: ForwardContext(training: false)) }
        #expect(bad.isEmpty, "input gradient through the folded pair: \(bad.prefix(3))")
        let h: Float = 1e-2
        for j in 0..<5 {
            func loss() throws -> Double {
                let y = try model.predict(x)
                return (0..<y.count).reduce(0.0) { $0 + Double(y.scalars[$1]) * Double(r.scalars[$1]) }
            }
            let saved = scores.scores.value
            scores.scores.value.scalars[j] = saved.scalars[j] + h
            let plus = try loss()
            scores.scores.value.scalars[j] = saved.scalars[j] - h
            let minus = try loss()
            scores.scores.value = saved
            let numeric = (plus - minus) / Double(2 * h)
            #expect(abs(Double(folded.grads[0].scalars[j]) - numeric) <= 2e-3 + 2e-2 * abs(numeric), "score \(j)")
        }
    }

    @Test func entropyPenaltyValueAndGradient() throws {
        let uniform = try ScoresActivation(numFeatures: 8)
        #expect(abs(Double(try uniform.entropyPenalty(strength: 2).value.scalar) - 2 * Foundation.log(8.0)) < 1e-5)
        let l = try layer([3, -2, 0.5, 1], temperature: 0.5)
        let penalty = try l.entropyPenalty(strength: 0.3)
        let w = try l.weights.map(Double.init)
        let h = -w.reduce(0.0) { $0 + $1 * Foundation.log($1) }
        #expect(abs(Double(penalty.value.scalar) - 0.3 * h) < 1e-6)
        try penalty.backward()
        // ∂H/∂s_j = −w_j (log w_j + H) / τ.
        for j in 0..<4 {
            let expected = -0.3 * w[j] * (Foundation.log(w[j]) + h) / 0.5
            #expect(abs(Double(l.scores.grad!.scalars[j]) - expected) < 1e-5, "score \(j)")
        }
    }

    @Test func featureTokenizerForwardAndGradients() throws {
        var rng = SeededGenerator(seed: 41)
        let tokenizer = try FeatureTokenizer(numFeatures: 3, embedDim: 4, clsToken: true, rng: &rng)
        let x = randomTensor([2, 3], seed: 42)
        let y = try tokenizer.predict(x)
        #expect(y.shape == [2, 4, 4])
        let w = tokenizer.weight.value.scalars, b = tokenizer.bias.value.scalars, cls = tokenizer.clsToken!.value.scalars
        for r in 0..<2 {
            #expect(Array(y.scalars[(r * 16)..<(r * 16 + 4)]) == cls)
            for i in 0..<3 {
                for k in 0..<4 {
                    let expected = x.scalars[r * 3 + i] * w[i * 4 + k] + b[i * 4 + k]
                    #expect(abs(y.scalars[r * 16 + (1 + i) * 4 + k] - expected) < 1e-6)
                }
            }
        }
        #expect(tokenizer.namedParameters().map(\.name) == ["weight", "bias", "cls_token"])
        let bad = try GradientCheck.mismatches(inputs: [x]) { try tokenizer.forward($0[0], context: ForwardContext(training: false)) }
        #expect(bad.isEmpty, "\(bad.prefix(3))")
        // Parameter gradients: ∂/∂W_ik = Σ_rows g_(1+i)k · x_i, ∂/∂cls_k = Σ_rows g_0k.
        let g = randomTensor([2, 4, 4], seed: 43)
        for p in tokenizer.allParameters { p.zeroGrad() }
        try tokenizer.forward(Variable(x), context: ForwardContext(training: true)).backward(g)
        for i in 0..<3 {
            for k in 0..<4 {
                let expected = (0..<2).reduce(Float(0)) { $0 + g.scalars[$1 * 16 + (1 + i) * 4 + k] * x.scalars[$1 * 3 + i] }
                #expect(abs(tokenizer.weight.grad!.scalars[i * 4 + k] - expected) < 1e-5)
            }
        }
        for k in 0..<4 { #expect(abs(tokenizer.clsToken!.grad!.scalars[k] - (g.scalars[k] + g.scalars[16 + k])) < 1e-6) }
        let plain = try FeatureTokenizer(numFeatures: 3, embedDim: 4, clsToken: false, rng: &rng)
        #expect(try plain.predict(x).shape == [2, 3, 4])
        expectError(mentioning: ["FeatureTokenizer(3 features)", "[2, 5]"]) { try plain.predict(Tensor.zeros([2, 5])) }
    }

    @Test(arguments: ["block_n2_t3_e4_h2_f8_relu", "block_n3_t5_e8_h4_f16_gelu", "block_n1_t4_e6_h1_f5_relu"])
    func transformerBlockMatchesPyTorch(_ name: String) throws {
        let c = try #require(try Golden.load("transformer_block")[name])
        let x = try c.tensor("x")
        var rng = SeededGenerator(seed: 0)
        let block = try TransformerBlock(embedDim: x.shape[2], numHeads: Int(c.attr("heads")!),
                                         feedforwardDim: Int(c.attr("ffn")!), activation: c.attr("gelu") == 1 ? .gelu : .relu,
                                         rng: &rng)
        let names = block.namedParameters().map(\.name)
        var state: [String: Tensor] = [:]
        for n in names { state[n] = try c.tensor("param:" + n) }
        try ModelFile.assign(state, to: block, path: "golden \(name)")
        let input = Variable(x, requiresGrad: true)
        let y = try block.forward(input, context: ForwardContext(training: true))
        Golden.expectClose(y.value, try c.tensor("y"), "output")
        try y.backward(try c.tensor("grad_y"))
        Golden.expectClose(input.grad!, try c.tensor("grad_x"), "grad x")
        for (n, v) in block.namedParameters() { Golden.expectClose(v.grad!, try c.tensor("grad:" + n), atol: 2e-5, "grad \(n)") }
    }

    @Test func selectToken() throws {
        let x = randomTensor([2, 3, 4], seed: 51)
        let first = try SelectToken(index: 0).predict(x), last = try SelectToken(index: -1).predict(x)
        #expect(first.shape == [2, 4])
        #expect(Array(first.scalars[4..<8]) == Array(x.scalars[12..<16]))
        #expect(Array(last.scalars[0..<4]) == Array(x.scalars[8..<12]))
        expectError(mentioning: ["SelectToken(3)", "[2, 3, 4]"]) { try SelectToken(index: 3).predict(x) }
    }

    @Test func architecturesRoundTripThroughSpecsAndModelFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gb-scores-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let specs = [
            Architectures.scoredMLP(inputs: 6, hidden: [8, 4], outputs: 3, temperature: 0.5),
            Architectures.tabularTransformer(features: 6, classes: 3, embed: 8, heads: 2, blocks: 2, ffn: 12, scores: true),
            Architectures.tabularTransformer(features: 6, classes: 3, embed: 8, heads: 2, blocks: 1, ffn: 12,
                                             activation: .gelu, dropout: 0.1, scores: false),
        ]
        let x = randomTensor([5, 6], seed: 61)
        for (k, spec) in specs.enumerated() {
            let model = try LayerRegistry.build(spec, seed: 7)
            // A built layer states every attribute, defaults included; that form must be a fixed point.
            let canonical = model.spec
            #expect(try LayerRegistry.build(canonical).spec == canonical)
            #expect(try LayerRegistry.build(LayerSpec.parse(json: try canonical.jsonString())).spec == canonical)
            // Move the scores off zero so the file must carry them.
            for (name, v) in model.namedParameters() where name.hasSuffix("scores") {
                v.value = Tensor((0..<6).map { Float($0) * 0.3 - 0.7 })
            }
            let url = dir.appendingPathComponent("m\(k).safetensors")
            try ModelFile.save(model, to: url)
            let (loaded, _) = try ModelFile.load(from: url)
            #expect(loaded.spec == canonical)
            #expect(try loaded.predict(x) == (try model.predict(x)))
            #expect(try model.predict(x).shape == [5, 3])
        }
        let names = try LayerRegistry.build(specs[1], seed: 1).namedParameters().map(\.name)
        #expect(names.prefix(4) == ["0.scores", "1.weight", "1.bias", "1.cls_token"])
        #expect(names.contains("2.self_attn.in_proj_weight") && names.contains("3.linear2.bias"))
    }

    @Test func transformerGradientCheck() throws {
        let model = try LayerRegistry.build(
            Architectures.tabularTransformer(features: 3, classes: 2, embed: 4, heads: 2, blocks: 1, ffn: 6, scores: true), seed: 3)
        let bad = try GradientCheck.mismatches(inputs: [randomTensor([2, 3], seed: 71)]) {
            try model.forward($0[0], context: ForwardContext(training: false))
        }
        #expect(bad.isEmpty, "\(bad.prefix(3))")
    }
}
