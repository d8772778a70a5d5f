/// Fully connected layer: `y = x·Wᵀ + b`.
///
/// Shapes: input `[n, in]`, weight `[out, in]` (PyTorch's layout), bias `[out]`, output `[n, out]`.
/// Initialisation as PyTorch's `nn.Linear`: weight and bias uniform in ±1/√in.
/// Cost: `2·n·in·out` FLOP forward, twice that backward.
public final class Linear: Layer {
    /// The weight `[out, in]` (PyTorch's layout): `y = x·Wᵀ + b`.
    public let weight: Variable
    /// The bias `[out]`, if any.
    public let bias: Variable?
    /// Input and output widths.
    public let inFeatures: Int, outFeatures: Int

    /// Makes the layer, drawing weights uniformly in `±1/√in` from `rng` (PyTorch's initialisation).
    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, rng: inout SeededGenerator) throws {
        guard inFeatures > 0, outFeatures > 0 else {
            throw GlassboxError.invalidArgument("Linear needs positive sizes, got in \(inFeatures), out \(outFeatures)")
        }
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Variable(.uniform([outFeatures, inFeatures], -bound, bound, using: &rng), requiresGrad: true)
        self.bias = bias ? Variable(.uniform([outFeatures], -bound, bound, using: &rng), requiresGrad: true) : nil
    }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        try self.init(inFeatures: spec.int("in_features"), outFeatures: spec.int("out_features"),
                      bias: spec.bool("bias", default: true), rng: &rng)
    }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        guard input.value.rank == 2, input.shape[1] == inFeatures else {
            throw GlassboxError.shapeMismatch("Linear(\(inFeatures)→\(outFeatures)) expects [batch, \(inFeatures)], got \(input.shape)")
        }
        let y = try matmul(input, weight, transposeB: true)
        return try bias.map { try add(y, $0) } ?? y
    }

    public var parameters: [(name: String, variable: Variable)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public var spec: LayerSpec {
        LayerSpec(type: "Linear", attributes: ["in_features": .int(inFeatures), "out_features": .int(outFeatures),
                                               "bias": .bool(bias != nil)])
    }
}
