/// Layers applied one after another; children are named "0", "1", … as in PyTorch.
public final class Sequential: Layer {
    public private(set) var layers: [any Layer]

    /// Makes a container applying `layers` in order.
    public init(_ layers: [any Layer]) { self.layers = layers }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        var built: [any Layer] = []
        for child in spec.children { built.append(try LayerRegistry.build(child, rng: &rng)) }
        self.init(built)
    }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        var x = input
        var i = 0
        while i < layers.count {
            if let fused = try scoredLinear(at: i, x, context) {
                x = fused
                i += 2
                continue
            }
            x = try context.call(layers[i], named: String(i), x)
            i += 1
        }
        return x
    }

    /// A ScoresActivation followed by a Linear that reads all its features, run as one linear
    /// layer whose weight has the feature weights folded in (``columnScaledWeight(_:scores:temperature:)``):
    /// the same function and gradients, without the input-gradient GEMM the unfolded pair needs
    /// to reach the scores. Only when nobody observes the layers one by one (no hooks, no
    /// recording); nil otherwise, and for any other pair.
    private func scoredLinear(at i: Int, _ x: Variable, _ context: ForwardContext) throws -> Variable? {
        guard i + 1 < layers.count, let scores = layers[i] as? ScoresActivation, let linear = layers[i + 1] as? Linear,
              linear.inFeatures == scores.numFeatures, x.value.rank == 2, x.shape[1] == scores.numFeatures,
              !context.observesLayers else { return nil }
        let weight = try columnScaledWeight(linear.weight, scores: scores.scores, temperature: scores.temperature)
        let y = try matmul(x, weight, transposeB: true)
        return try linear.bias.map { try add(y, $0) } ?? y
    }

    public var children: [(name: String, layer: any Layer)] {
        layers.enumerated().map { (name: String($0.offset), layer: $0.element) }
    }

    public var spec: LayerSpec { LayerSpec(type: "Sequential", children: layers.map(\.spec)) }
}
