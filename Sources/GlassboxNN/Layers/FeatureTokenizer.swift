/// The feature tokenizer of FT-Transformer (Gorishniy et al., 2021, "Revisiting Deep Learning
/// Models for Tabular Data"): each numeric feature becomes a token `t_i = x_i·W_i + b_i`, with a
/// weight vector `W_i` and a bias vector `b_i` of size `e` per feature; optionally a learned
/// [CLS] token is put in front, whose final state a classification head reads.
///
/// Shapes: input `[n, d]`; `weight [d, e]`, `bias [d, e]`, `cls_token [e]`; output `[n, d, e]`,
/// or `[n, 1 + d, e]` with the [CLS] token at position 0. Initialisation as the reference
/// implementation (rtdl): every tensor uniform in ±1/√e.
///
/// Built from broadcast ``mul(_:_:)``, ``add(_:_:)`` and ``concat(_:axis:)``, so the backward is
/// theirs. Because `t_i` depends on `x_i` only through `W_i`, `‖W_i‖` is how strongly feature `i`
/// can move its token — the tokenizer's analogue of a column norm of a first linear layer.
/// Cost: about `3·n·d·e` operations each way.
public final class FeatureTokenizer: Layer {
    /// Per-feature embedding vectors and biases `[d, e]`.
    public let weight: Variable, bias: Variable
    /// The [CLS] token, when there is one.
    public let clsToken: Variable?
    /// Input features `d` and token width `e`.
    public let numFeatures: Int, embedDim: Int

    /// Makes the layer, drawing initial values from `rng`.
    public init(numFeatures: Int, embedDim: Int, clsToken: Bool = true, rng: inout SeededGenerator) throws {
        guard numFeatures > 0, embedDim > 0 else {
            throw GlassboxError.invalidArgument(
                "FeatureTokenizer needs positive sizes, got num_features \(numFeatures), embed_dim \(embedDim)")
        }
        self.numFeatures = numFeatures
        self.embedDim = embedDim
        let bound = 1 / Float(embedDim).squareRoot()
        weight = Variable(.uniform([numFeatures, embedDim], -bound, bound, using: &rng), requiresGrad: true)
        bias = Variable(.uniform([numFeatures, embedDim], -bound, bound, using: &rng), requiresGrad: true)
        self.clsToken = clsToken ? Variable(.uniform([embedDim], -bound, bound, using: &rng), requiresGrad: true) : nil
    }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        try self.init(numFeatures: spec.int("num_features"), embedDim: spec.int("embed_dim"),
                      clsToken: spec.bool("cls_token", default: true), rng: &rng)
    }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        guard input.value.rank == 2, input.shape[1] == numFeatures else {
            throw GlassboxError.shapeMismatch(
                "FeatureTokenizer(\(numFeatures) features) expects [batch, \(numFeatures)], got \(input.shape)")
        }
        let n = input.shape[0]
        let tokens = try add(try mul(try reshape(input, [n, numFeatures, 1]), weight), bias)   // [n, d, e]
        guard let clsToken else { return tokens }
        let cls = try add(Variable(.zeros([n, 1, embedDim])), clsToken)                       // [n, 1, e]
        return try concat([cls, tokens], axis: 1)
    }

    public var parameters: [(name: String, variable: Variable)] {
        [("weight", weight), ("bias", bias)] + (clsToken.map { [("cls_token", $0)] } ?? [])
    }

    public var spec: LayerSpec {
        LayerSpec(type: "FeatureTokenizer", attributes: [
            "num_features": .int(numFeatures), "embed_dim": .int(embedDim), "cls_token": .bool(clsToken != nil)])
    }
}
