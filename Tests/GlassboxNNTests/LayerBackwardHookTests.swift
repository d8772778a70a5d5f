import Testing
import GlassboxNN

/// The per-layer backward hooks of ``ForwardContext``: they must be transparent when they return
/// the gradient unchanged, cut the flow when they zero it, and see the layer and its output.
@Suite("Layer backward hooks")
struct LayerBackwardHookTests {
    /// A small residual net with non-trivial batch-norm statistics (so every path carries signal).
    static func net() throws -> any Layer {
        let model = try LayerRegistry.build(Architectures.residualNet(inputChannels: 1, channels: [3, 4], classes: 3), seed: 5)
        var rng = SeededGenerator(seed: 6)
        for (name, v) in model.namedTensors() {
            if name.hasSuffix("running_mean") || name.hasSuffix(".bias") { v.value = .uniform(v.shape, -0.5, 0.5, using: &rng) }
            if name.hasSuffix("running_var") { v.value = .uniform(v.shape, 0.5, 2, using: &rng) }
        }
        return model
    }

    /// Input and parameter gradients of `Σ logits ⊙ R` with `configure` applied to the context.
    static func gradients(_ model: any Layer, _ x: Tensor, configure: (ForwardContext) -> Void) throws -> [Tensor] {
        for p in model.allParameters { p.zeroGrad() }
        let input = Variable(x, requiresGrad: true)
        let context = ForwardContext(training: false)
        configure(context)
        let out = try model.forward(input, context: context)
        try out.backward(randomTensor(out.shape, seed: 11))
        return [input.grad!] + model.allParameters.map { $0.grad ?? Tensor.zeros($0.shape) }
    }

    @Test func identityHookLeavesGradientsUnchanged() throws {
        let model = try Self.net()
        let x = randomTensor([2, 1, 8, 8], seed: 3)
        let plain = try Self.gradients(model, x) { _ in }
        var calls = 0
        let hooked = try Self.gradients(model, x) { context in
            context.layerBackwardHook = { _, g in calls += 1; return g }
        }
        #expect(calls > 10)
        #expect(plain.count == hooked.count)
        for (a, b) in zip(plain, hooked) { #expect(a.scalars == b.scalars) }
    }

    @Test func zeroingHookCutsEverythingUpstream() throws {
        let model = try Self.net()
        let x = randomTensor([2, 1, 8, 8], seed: 4)
        // Path "2" is the stem's ReLU: zeroing its gradient leaves nothing for the stem and the input,
        // while the layers after it still get their gradients.
        let grads = try Self.gradients(model, x) { context in
            context.layerBackwardHook = { site, g in site.path == "2" ? Tensor.zeros(g.shape) : g }
        }
        #expect(grads[0].scalars.allSatisfy { $0 == 0 })
        let names = model.namedParameters().map(\.name)
        for (name, g) in zip(names, grads.dropFirst()) {
            if name.hasPrefix("0.") || name.hasPrefix("1.") {
                #expect(g.scalars.allSatisfy { $0 == 0 }, "\(name)")
            } else if name.hasPrefix("6.") {
                #expect(g.scalars.contains { $0 != 0 }, "\(name)")
            }
        }
    }

    @Test func hookSeesTheLayerAndItsForwardOutput() throws {
        let model = try Self.net()
        let x = randomTensor([2, 1, 8, 8], seed: 5)
        let context = ForwardContext(training: false, recordActivations: true)
        var sites: [LayerSite] = []
        context.layerBackwardHook = { site, g in
            sites.append(site)
            #expect(site.output.shape == g.shape)
            return g
        }
        let out = try model.forward(Variable(x, requiresGrad: true), context: context)
        try sum(out).backward()
        let recorded = Dictionary(context.activations.map { ($0.path, $0.value.value) }, uniquingKeysWith: { a, _ in a })
        #expect(sites.count == context.activations.count)
        for site in sites { #expect(recorded[site.path]?.scalars == site.output.scalars, "\(site.path)") }
        #expect(sites.contains { $0.path == "3" && $0.layer is Residual })
        #expect(sites.contains { $0.path == "3.body.2" && $0.layer is ReLU })
    }

    @Test func hooksChainAndRewriteExactly() throws {
        let model = try Self.net()
        let x = randomTensor([1, 1, 8, 8], seed: 6)
        let plain = try Self.gradients(model, x) { _ in }
        // Doubling at the logits (path "6") doubles every gradient; the plain hook runs first, then the layer hook.
        var order: [String] = []
        let doubled = try Self.gradients(model, x) { context in
            context.backwardHook = { path, g in if path == "6" { order.append("plain") }; return g }
            context.layerBackwardHook = { site, g in
                guard site.path == "6" else { return g }
                order.append("layer")
                return g.map { $0 * 2 }
            }
        }
        #expect(order == ["plain", "layer"])
        for (a, b) in zip(plain, doubled) { #expect(a.scalars.map { $0 * 2 } == b.scalars) }
    }

    @Test func finiteDifferencesStillAgreeThroughHookedLayers() throws {
        let model = try Self.net()
        let x = randomTensor([1, 1, 6, 6], seed: 8)
        let bad = try GradientCheck.mismatches(inputs: [x], step: 1e-3) { v in
            let context = ForwardContext(training: false)
            context.layerBackwardHook = { _, g in g }
            context.backwardHook = { _, g in g }
            return try model.forward(v[0], context: context)
        }
        #expect(bad.isEmpty, "\(bad.prefix(3))")
    }
}
