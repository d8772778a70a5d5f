import Foundation
import Testing
@testable import GlassboxNN

@Suite("Attention, residual blocks, architectures and model files")
struct CompositeLayerTests {
    @Test(arguments: ["mha_n2_t3_e4_h2", "mha_n1_t5_e6_h3", "mha_n3_t2_e8_h1"])
    func attentionMatchesPyTorch(_ name: String) throws {
        let c = try #require(try Golden.load("attention")[name])
        let x = try c.tensor("x")
        var rng = SeededGenerator(seed: 0)
        let layer = try MultiheadSelfAttention(embedDim: x.shape[2], numHeads: Int(c.attr("heads")!), rng: &rng)
        layer.inProjWeight.value = try c.tensor("in_proj_weight")
        layer.inProjBias.value = try c.tensor("in_proj_bias")
        layer.outProj.weight.value = try c.tensor("out_proj_weight")
        layer.outProj.bias!.value = try c.tensor("out_proj_bias")
        let input = Variable(x, requiresGrad: true)
        let y = try layer.forward(input, context: ForwardContext(training: true))
        Golden.expectClose(y.value, try c.tensor("y"), "output")
        try y.backward(try c.tensor("grad_y"))
        Golden.expectClose(input.grad!, try c.tensor("grad_x"), "grad x")
        Golden.expectClose(layer.inProjWeight.grad!, try c.tensor("grad_in_proj_weight"), "grad in_proj_weight")
        Golden.expectClose(layer.outProj.weight.grad!, try c.tensor("grad_out_proj_weight"), "grad out_proj.weight")
        #expect(layer.namedParameters().map(\.name) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"])
    }

    @Test func attentionGradientCheck() throws {
        var rng = SeededGenerator(seed: 3)
        let layer = try MultiheadSelfAttention(embedDim: 4, numHeads: 2, rng: &rng)
        let bad = try GradientCheck.mismatches(inputs: [randomTensor([2, 3, 4], seed: 4)]) {
            try layer.forward($0[0], context: ForwardContext(training: false))
        }
        #expect(bad.isEmpty, "\(bad.prefix(3))")
        #expect(throws: GlassboxError.self) { try layer.predict(Tensor.zeros([2, 3, 5])) }
        #expect(throws: GlassboxError.self) { try MultiheadSelfAttention(embedDim: 6, numHeads: 4, rng: &rng) }
    }

    @Test func residualBlockGradientAndShortcut() throws {
        var rng = SeededGenerator(seed: 5)
        let block = try Residual.basicBlock(inChannels: 2, outChannels: 3, stride: 2, rng: &rng)
        #expect(block.shortcut != nil)
        let x = randomTensor([2, 2, 6, 6], seed: 6)
        #expect(try block.predict(x).shape == [2, 3, 3, 3])
        let identity = Residual(body: Sequential([try Linear(inFeatures: 3, outFeatures: 3, rng: &rng)]), reluAfter: false)
        let bad = try GradientCheck.mismatches(inputs: [randomTensor([4, 3], seed: 7)]) {
            try identity.forward($0[0], context: ForwardContext(training: false))
        }
        #expect(bad.isEmpty, "\(bad.prefix(3))")
        let names = block.namedTensors().map(\.name)
        #expect(names.contains("body.0.weight") && names.contains("shortcut.1.running_var"))
    }

    @Test func specsRoundTripThroughJSON() throws {
        let specs = [
            Architectures.mlp(inputs: 5, hidden: [8, 4], outputs: 3, dropout: 0.2),
            Architectures.convNet(inputChannels: 1, height: 8, width: 8, channels: [4, 8], hidden: 16, classes: 10),
            Architectures.residualNet(inputChannels: 1, channels: [4, 8], classes: 10),
            LayerSpec(type: "MultiheadSelfAttention", attributes: ["embed_dim": .int(8), "num_heads": .int(2)]),
        ]
        for spec in specs {
            // A built layer states every attribute, defaults included; that form must be a fixed point.
            let canonical = try LayerRegistry.build(spec, seed: 1).spec
            #expect(try LayerRegistry.build(canonical).spec == canonical)
            #expect(try LayerSpec.parse(json: try canonical.jsonString()) == canonical)
            #expect(try LayerSpec.parse(json: try spec.jsonString()) == spec)
        }
        #expect(throws: GlassboxError.self) { try LayerRegistry.build(LayerSpec(type: "Nonexistent")) }
        #expect(throws: GlassboxError.self) { try LayerRegistry.build(LayerSpec(type: "Linear", attributes: ["in_features": .int(3)])) }
        #expect(throws: GlassboxError.self) { try LayerSpec.parse(json: "{\"layers\": []}") }
    }

    @Test func modelFileRoundTripAndErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gb-modelfile-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try LayerRegistry.build(Architectures.residualNet(inputChannels: 1, channels: [4], classes: 3), seed: 9)
        let x = randomTensor([2, 1, 8, 8], seed: 10)
        // One training pass moves the batch-norm statistics away from their initial values.
        _ = try model.forward(Variable(x), context: ForwardContext(training: true))
        let url = dir.appendingPathComponent("m.safetensors")
        try ModelFile.save(model, to: url, metadata: ["note": "hello"])
        let (loaded, metadata) = try ModelFile.load(from: url)
        #expect(metadata["note"] == "hello")
        #expect(try loaded.predict(x) == (try model.predict(x)))

        // A NaN weight is refused and the good file stays.
        model.allParameters[0].value.scalars[0] = .nan
        #expect(throws: GlassboxError.self) { try ModelFile.save(model, to: url) }
        #expect(try ModelFile.load(from: url).model.predict(x) == (try loaded.predict(x)))

        // Weights that do not fit the architecture name the tensor.
        var file = try SafeTensorsFile.read(from: url)
        file.tensors["0.weight"] = Tensor.zeros([1, 1, 1, 1])
        try file.write(to: url)
        do {
            _ = try ModelFile.load(from: url)
            Issue.record("weights of the wrong shape were accepted")
        } catch {
            #expect("\(error)".contains("0.weight") && "\(error)".contains("shape"), "\(error)")
        }
    }

    @Test func hooksSeeEveryLayerAndRewriteGradients() throws {
        let model = try LayerRegistry.build(Architectures.mlp(inputs: 3, hidden: [4], outputs: 2), seed: 2)
        let context = ForwardContext(training: false, recordActivations: true)
        var seen: [String] = []
        context.forwardHook = { path, out in seen.append(path); return out }
        context.backwardHook = { path, g in path == "model.1" ? g.map { _ in 0 } : g }
        let x = Variable(randomTensor([2, 3], seed: 3), requiresGrad: true)
        let y = try context.call(model, named: "model", x)
        #expect(seen == ["model.0", "model.1", "model.2", "model"])
        #expect(context.activations.map(\.path) == seen)
        try sum(y).backward()
        // Zeroing the gradient after the ReLU cuts every path back to the input.
        #expect(x.grad!.scalars.allSatisfy { $0 == 0 })
    }
}
