import Foundation
import Testing
@testable import GlassboxNN
@testable import GlassboxONNX
import GlassboxExplain
import GlassboxImage

/// The graph model itself: backward through every composite op against finite differences, and
/// explainers that take a layer running on imported graphs.
@Suite("Graph model: gradients and explainers")
struct GraphModelTests {
    static func node(_ op: String, _ inputs: [String], _ output: String, _ attributes: [String: GraphAttribute] = [:]) -> GraphNode {
        GraphNode(name: output, op: op, inputs: inputs, outputs: [output], attributes: attributes)
    }

    /// A smooth graph (no kinks, so finite differences are exact to O(h²)) through depthwise and
    /// asymmetric-padded convolutions, a residual add, channel concatenation, ceil-mode average
    /// pooling with excluded padding, edge padding, a strided slice, Gather, HardSwish away from its
    /// knots, Softmax and Gemm.
    static func smoothGraph() throws -> GraphModel {
        var rng = SeededGenerator(seed: 3)
        func w(_ shape: [Int]) -> Tensor { Tensor.uniform(shape, -0.6, 0.6, using: &rng) }
        let tensors: [String: Tensor] = [
            "w1": w([4, 2, 3, 3]), "b1": w([4]), "dw": w([4, 1, 3, 3]), "w2": w([3, 8, 1, 1]),
            "fc": w([5, 12]), "fb": w([5]),
            "pads": Tensor([0, 0, 1, 0, 0, 0, 0, 2]), "starts": Tensor([0]), "ends": Tensor([100]), "axes": Tensor([3]),
            "steps": Tensor([2]), "idx": Tensor([2, 0]),
        ]
        let inits = tensors.map { GraphTensorInfo(name: $0.key, shape: $0.value.shape, integer: !["w1", "b1", "dw", "w2", "fc", "fb"].contains($0.key)) }
        let nodes = [
            node("Conv", ["x", "w1", "b1"], "c1", ["pads": .ints([1, 0, 0, 1])]),
            node("Sigmoid", ["c1"], "s1"),
            node("Conv", ["s1", "dw"], "d1", ["group": .int(4), "pads": .ints([1, 1, 1, 1]), "strides": .ints([1, 1])]),
            node("Add", ["d1", "s1"], "r1"),
            node("Concat", ["r1", "s1"], "cat", ["axis": .int(1)]),
            node("Conv", ["cat", "w2"], "c2"),
            node("Pad", ["c2", "pads"], "p2", ["mode": .string("edge")]),
            node("AveragePool", ["p2"], "a2", ["kernel_shape": .ints([2, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 0, 0, 1]),
                                               "ceil_mode": .int(1), "count_include_pad": .int(0)]),
            node("Slice", ["a2", "starts", "ends", "axes", "steps"], "sl"),
            node("Tanh", ["sl"], "t"),
            node("HardSwish", ["t"], "hs"),
            node("Gather", ["hs", "idx"], "g", ["axis": .int(2)]),
            node("Flatten", ["g"], "f"),
            node("Gemm", ["f", "fc", "fb"], "logits", ["transB": .int(1)]),
            node("Softmax", ["logits"], "y", ["axis": .int(1)]),
        ]
        let description = GraphDescription(inputs: [GraphInput(name: "x", shape: [nil, 2, 5, 6])], outputs: ["y"], nodes: nodes,
                                           initializers: inits.sorted { $0.name < $1.name }, opset: 13)
        return try GraphModel(description: description, tensors: tensors)
    }

    @Test func backwardMatchesFiniteDifferences() throws {
        let model = try Self.smoothGraph()
        var rng = SeededGenerator(seed: 5)
        let x = Tensor.uniform([2, 2, 5, 6], -1, 1, using: &rng)
        #expect(try model.predict(x).shape == [2, 5])
        let bad = try GradientCheck.mismatches(inputs: [x], step: 1e-2, atol: 1e-4, rtol: 1e-2) { v in
            try model.forward(v[0], context: ForwardContext(training: false))
        }
        #expect(bad.isEmpty, "\(bad.prefix(5))")
        // Weights receive gradients too (the graph's initialisers are its parameters).
        let weight = model.parameters.first { $0.name == "dw" }!.variable
        weight.zeroGrad()
        try model.forward(Variable(x), context: ForwardContext(training: false)).backward(Tensor.ones([2, 5]))
        #expect(weight.grad != nil)
    }

    /// Hooks see each node by name, as they see a Sequential's layers by index.
    @Test func hooksSeeEveryNode() throws {
        let model = try Self.smoothGraph()
        let context = ForwardContext(training: false, recordActivations: true)
        _ = try model.forward(Variable(Tensor.zeros([1, 2, 5, 6])), context: context)
        #expect(context.activations.map(\.path) == model.description.nodes.map(\.name))
    }

    /// Gradient explainers and ReX run on an imported CNN: IG's per-pixel attributions add up to
    /// the logit difference from the zero baseline (completeness), saliency is finite and not all
    /// zero, and ReX returns a finite map of the image's size.
    @Test func imageExplainersRunOnImportedGraph() throws {
        let model = try ONNXImport.load(contentsOf: ONNXGoldenTests.fixture("conv.onnx"))
        var rng = SeededGenerator(seed: 9)
        let image = Tensor.uniform([1, 3, 11, 10], -1, 1, using: &rng)
        let ig = try ImageGradients.integratedGradients(model: model, image: image, target: 0, steps: 128)
        let gap = try model.predict(image).scalars[0] - (try model.predict(Tensor.zeros([1, 3, 11, 10]))).scalars[0]
        let sum = ig.map.scalars.reduce(0, +)
        #expect(abs(sum - gap) <= 0.05 * max(0.1, abs(gap)), "IG sum \(sum) vs logit difference \(gap)")
        let saliency = try ImageGradients.saliency(model: model, image: image)
        #expect(saliency.map.isFinite && saliency.map.scalars.contains { $0 > 0 })
        let rex = try CausalResponsibility.explain(MaskedClassifier(model: model), image: image,
                                                   options: .init(iterations: 2, treeDepth: 3, minBoxSize: 2, seed: 1))
        #expect(rex.map.count == 11 * 10 && rex.map.isFinite)
    }

    /// Tabular methods on an imported MLP through a ``PredictionFunction``: IG completeness, and
    /// exact Shapley values summing to f(x) − E f(background).
    @Test func tabularExplainersRunOnImportedMLP() throws {
        let model = try ONNXImport.load(contentsOf: ONNXGoldenTests.fixture("mlp.onnx"))
        let f = try PredictionFunction.logits(of: model, features: 6)
        var rng = SeededGenerator(seed: 4)
        let rows = Tensor.uniform([2, 6], -1, 1, using: &rng)
        let ig = try IntegratedGradients(steps: 200, outputs: [1]).explain(rows, model: f)
        let gaps = try f(rows), base = try f(Tensor.zeros([1, 6]))
        for r in 0..<2 {
            let sum = ig.values.scalars[(r * 6)..<(r * 6 + 6)].reduce(0, +)
            let gap = gaps.scalars[r * 3 + 1] - base.scalars[1]
            #expect(abs(sum - gap) <= 1e-3 + 0.02 * abs(gap), "row \(r): IG sum \(sum) vs \(gap)")
        }
    }

    /// Strict ConvAD on an imported graph with depthwise (dilated, and even-kernel SAME_UPPER)
    /// convolutions, a residual add, channel concatenation, ceil-mode max pooling and a global
    /// pool: the logits are exactly invariant to refills of the occluded pixels; with nothing
    /// occluded they equal the plain forward bit for bit.
    @Test func strictConvADIsInvariantToOccludedPixels() throws {
        let model = try ONNXImport.load(contentsOf: ONNXGoldenTests.fixture("conv.onnx"))
        let ops = Set(model.description.nodes.map(\.op))
        #expect(ops.isSuperset(of: ["Conv", "Add", "Concat", "Clip", "HardSwish", "MaxPool", "GlobalAveragePool"]))
        var rng = SeededGenerator(seed: 12)
        let images = Tensor.uniform([3, 3, 11, 10], -1, 1, using: &rng)
        var masks = Tensor.ones([3, 1, 11, 10])
        for i in 0..<3 { for y in 0..<11 { for x in 0..<10 where (x + y + i) % 7 < 3 || y < 3 * i { masks.scalars[(i * 11 + y) * 10 + x] = 0 } } }
        let strict = try ActivationDeactivation(model: model, variant: .strict)
        #expect(try strict.leakage(images: images, masks: masks, fills: 4, seed: 2) == 0)
        let open = try strict.logits(images: images, masks: Tensor.ones([3, 1, 11, 10]))
        #expect(open == (try model.predict(images)))
        // The checkpoint variant runs too (and leaks: it is not invariant).
        let checkpoint = try ActivationDeactivation(model: model, variant: .checkpoint)
        #expect(try checkpoint.logits(images: images, masks: masks).isFinite)
    }

    /// FEI's selective clipping picks every Relu, Clip and residual Add node of a graph and
    /// records their clean activations.
    @Test func feiClippingSelectsGraphSites() throws {
        let model = try ONNXImport.load(contentsOf: ONNXGoldenTests.fixture("conv.onnx"))
        let sites = SelectiveGradientClipping.sites(of: model, selects: SelectiveGradientClipping.reluAndResidual)
        let expected = model.description.nodes.filter { n in
            n.op == "Relu" || n.op == "Clip" || (n.op == "Add" && n.inputs.allSatisfy { model.constants[$0] == nil })
        }.map(\.name)
        #expect(Set(sites) == Set(expected) && expected.count == 3)
        var rng = SeededGenerator(seed: 1)
        let clipping = try SelectiveGradientClipping(model: model, image: Tensor.uniform([1, 3, 11, 10], -1, 1, using: &rng))
        #expect(Set(clipping.clean.keys) == Set(expected))
    }
}
