import Foundation
import Testing
@testable import GlassboxNN

@Suite("Convolution, pooling and normalisation layers")
struct ConvLayerTests {
    static let specs: [LayerSpec] = [
        LayerSpec(type: "Conv2d", attributes: ["in_channels": .int(4), "out_channels": .int(6), "kernel_size": .ints([3, 2]),
                                               "stride": .int(2), "padding": .ints([1, 0]), "dilation": .int(1),
                                               "groups": .int(2), "bias": .bool(false)]),
        LayerSpec(type: "MaxPool2d", attributes: ["kernel_size": .int(3), "stride": .int(2), "padding": .int(1)]),
        LayerSpec(type: "AvgPool2d", attributes: ["kernel_size": .int(2), "count_include_pad": .bool(false)]),
        LayerSpec(type: "GlobalAvgPool"),
        LayerSpec(type: "BatchNorm1d", attributes: ["num_features": .int(5), "momentum": .double(0.2)]),
        LayerSpec(type: "BatchNorm2d", attributes: ["num_features": .int(3), "affine": .bool(false)]),
        LayerSpec(type: "LayerNorm", attributes: ["normalized_shape": .int(8), "eps": .double(1e-3)]),
    ]

    /// Building from a spec and writing the spec back gives a spec that rebuilds the same layer.
    @Test(arguments: specs)
    func specRoundTrips(_ spec: LayerSpec) throws {
        let layer = try LayerRegistry.build(spec, seed: 1)
        let written = layer.spec
        #expect(written.type == spec.type)
        let reparsed = try LayerSpec.parse(json: try written.jsonString())
        let rebuilt = try LayerRegistry.build(reparsed, seed: 1)
        #expect(rebuilt.spec == written)
        #expect(rebuilt.namedTensors().map(\.variable.value) == layer.namedTensors().map(\.variable.value))
    }

    @Test func conv2dParametersFollowPyTorch() throws {
        var rng = SeededGenerator(seed: 2)
        let conv = try Conv2d(inChannels: 4, outChannels: 8, kernelSize: (3, 3), groups: 2, rng: &rng)
        #expect(conv.namedParameters().map(\.name) == ["weight", "bias"])
        #expect(conv.weight.shape == [8, 2, 3, 3] && conv.bias?.shape == [8])
        // Kaiming-uniform with a = √5: U(±1/√fan_in), fan_in = 2·3·3 = 18, for weight and bias.
        let bound = 1 / Float(18).squareRoot()
        for v in conv.weight.value.scalars + conv.bias!.value.scalars { #expect(abs(v) <= bound) }
        #expect(conv.weight.value.scalars.map(abs).max()! > 0.9 * bound)
        let y = try conv(Variable(randomTensor([2, 4, 5, 5], seed: 3)))
        #expect(y.shape == [2, 8, 3, 3])
    }

    @Test func layerErrorsNameTheLayer() throws {
        var rng = SeededGenerator(seed: 4)
        #expect(throws: GlassboxError.self) { try Conv2d(inChannels: 3, outChannels: 4, kernelSize: (3, 3), groups: 2, rng: &rng) }
        #expect(throws: GlassboxError.self) { try Conv2d(inChannels: 3, outChannels: 4, kernelSize: (0, 3), rng: &rng) }
        #expect(throws: GlassboxError.self) { try MaxPool2d(kernelSize: (2, 2), padding: (2, 2)) }
        #expect(throws: GlassboxError.self) { try LayerRegistry.build(LayerSpec(type: "Conv2d", attributes: ["in_channels": .int(1)])) }
        let conv = try Conv2d(inChannels: 3, outChannels: 4, kernelSize: (3, 3), rng: &rng)
        do {
            _ = try conv(Variable(Tensor.zeros([1, 2, 5, 5])))
            Issue.record("expected a shape error")
        } catch {
            #expect("\(error)".contains("Conv2d(3→4)") && "\(error)".contains("[1, 2, 5, 5]"))
        }
    }

    /// A small CNN built from a spec trains: the loss falls over a few plain SGD steps.
    @Test func smallNetworkTrains() throws {
        let spec = LayerSpec(type: "Sequential", children: [
            LayerSpec(type: "Conv2d", attributes: ["in_channels": .int(1), "out_channels": .int(4), "kernel_size": .int(3), "padding": .int(1)]),
            LayerSpec(type: "BatchNorm2d", attributes: ["num_features": .int(4)]),
            LayerSpec(type: "ReLU"),
            LayerSpec(type: "MaxPool2d", attributes: ["kernel_size": .int(2)]),
            LayerSpec(type: "Conv2d", attributes: ["in_channels": .int(4), "out_channels": .int(3), "kernel_size": .int(3)]),
            LayerSpec(type: "GlobalAvgPool"),
            LayerSpec(type: "LayerNorm", attributes: ["normalized_shape": .int(3)]),
        ])
        let model = try LayerRegistry.build(spec, seed: 5)
        #expect(model.namedTensors().map(\.name).contains("1.running_var"))
        let x = randomTensor([8, 1, 8, 8], seed: 6)
        let target = Variable(randomTensor([8, 3], seed: 7))
        var losses: [Float] = []
        for _ in 0..<5 {
            for p in model.allParameters { p.zeroGrad() }
            let y = try model.forward(Variable(x), context: ForwardContext(training: true))
            let diff = try sub(y, target)
            let loss = try mean(try mul(diff, diff))
            try loss.backward()
            losses.append(loss.value.scalar)
            for p in model.allParameters { p.value.add(p.grad!.map { -0.1 * $0 }) }
        }
        #expect(losses.last! < losses.first!, "\(losses)")
        #expect(try model.predict(x).shape == [8, 3])

        // Running statistics are buffers: they save and load with the model.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("convlayer-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try ModelFile.save(model, to: url)
        let loaded = try ModelFile.load(from: url).model
        #expect(try loaded.predict(x) == (try model.predict(x)))
        let stats = try #require(loaded.namedTensors().first { $0.name == "1.num_batches_tracked" })
        #expect(stats.variable.value.scalar == 5)
    }
}
