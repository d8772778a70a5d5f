/// Layer normalisation (PyTorch's `nn.LayerNorm`): ``layerNorm(_:normalizedShape:gamma:beta:eps:)``
/// over the trailing axes `normalizedShape`, with elementwise `weight` (ones) and `bias` (zeros)
/// of that shape when `elementwiseAffine`.
/// Cost: a few passes over the input each way.
public final class LayerNorm: Layer {
    /// Elementwise scale and shift of `normalizedShape` (nil without `elementwiseAffine`).
    public let weight: Variable?, bias: Variable?
    /// The trailing axes normalised together.
    public let normalizedShape: [Int]
    /// `ε` added to the variance.
    public let eps: Float

    /// Makes the layer with weight 1 and bias 0.
    public init(normalizedShape: [Int], eps: Float = 1e-5, elementwiseAffine: Bool = true) throws {
        guard !normalizedShape.isEmpty, normalizedShape.allSatisfy({ $0 > 0 }) else {
            throw GlassboxError.invalidArgument("LayerNorm needs a non-empty normalized_shape of positive extents, got \(normalizedShape)")
        }
        guard eps >= 0 else { throw GlassboxError.invalidArgument("LayerNorm: eps must be non-negative, got \(eps)") }
        (self.normalizedShape, self.eps) = (normalizedShape, eps)
        weight = elementwiseAffine ? Variable(.ones(normalizedShape), requiresGrad: true) : nil
        bias = elementwiseAffine ? Variable(.zeros(normalizedShape), requiresGrad: true) : nil
    }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        let shape: [Int]
        switch spec.attributes["normalized_shape"] {
        case .int(let d)?: shape = [d]
        case .ints(let dims)?: shape = dims
        case nil: throw GlassboxError.invalidArgument("LayerNorm: missing attribute 'normalized_shape'")
        default: throw GlassboxError.invalidArgument("LayerNorm: attribute 'normalized_shape' must be an integer or a list of integers")
        }
        try self.init(normalizedShape: shape, eps: Float(spec.double("eps", default: 1e-5)),
                      elementwiseAffine: spec.bool("elementwise_affine", default: true))
    }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        try layerNorm(input, normalizedShape: normalizedShape, gamma: weight, beta: bias, eps: eps)
    }

    public var parameters: [(name: String, variable: Variable)] {
        [("weight", weight), ("bias", bias)].compactMap { name, v in v.map { (name, $0) } }
    }

    public var spec: LayerSpec {
        LayerSpec(type: "LayerNorm", attributes: [
            "normalized_shape": .ints(normalizedShape), "eps": .double(Double(eps)),
            "elementwise_affine": .bool(weight != nil),
        ])
    }
}
