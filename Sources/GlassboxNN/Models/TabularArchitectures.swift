/// Tabular architectures with an optional ``ScoresActivation`` in front of the inputs.
extension Architectures {
    /// `Sequential[ScoresActivation(inputs, τ), mlp(inputs, hidden, outputs)…]`: the MLP of
    /// ``mlp(inputs:hidden:outputs:dropout:)`` behind a learned feature weighting, so the first
    /// `Linear` sees `w ⊙ x`. Parameter names shift by one (`0.scores`, `1.weight`, …).
    public static func scoredMLP(inputs: Int, hidden: [Int], outputs: Int, dropout: Double = 0,
                                 temperature: Double = 1) -> LayerSpec {
        var spec = mlp(inputs: inputs, hidden: hidden, outputs: outputs, dropout: dropout)
        spec.children.insert(scoresActivation(inputs, temperature: temperature), at: 0)
        return spec
    }

    /// An FT-Transformer-style classifier for `features` numeric inputs:
    ///
    ///     [ScoresActivation] → FeatureTokenizer(+[CLS]) → TransformerBlock × blocks
    ///       → SelectToken(0) → LayerNorm → ReLU → Linear(embed → classes)
    ///
    /// Each feature is a token `x_i·W_i + b_i` of size `embed`; `blocks` pre-norm blocks with
    /// `heads` heads and a feed-forward width `ffn`; the head reads the final [CLS] state (the head
    /// of the reference implementation, rtdl). With `scores` the tokenizer sees `w ⊙ x`.
    /// Cost per row: about `blocks·(8·t·e² + 4·t²·e + 4·t·e·f)` FLOP forward with `t = features + 1`.
    public static func tabularTransformer(features: Int, classes: Int, embed: Int = 32, heads: Int = 4,
                                          blocks: Int = 2, ffn: Int = 64, activation: TransformerBlock.Activation = .relu,
                                          dropout: Double = 0, scores: Bool, temperature: Double = 1) -> LayerSpec {
        var layers: [LayerSpec] = scores ? [scoresActivation(features, temperature: temperature)] : []
        layers.append(LayerSpec(type: "FeatureTokenizer", attributes: [
            "num_features": .int(features), "embed_dim": .int(embed), "cls_token": .bool(true)]))
        for _ in 0..<blocks {
            layers.append(LayerSpec(type: "TransformerBlock", attributes: [
                "d_model": .int(embed), "nhead": .int(heads), "dim_feedforward": .int(ffn),
                "activation": .string(activation.rawValue), "dropout": .double(dropout)]))
        }
        layers.append(LayerSpec(type: "SelectToken", attributes: ["index": .int(0)]))
        layers.append(LayerSpec(type: "LayerNorm", attributes: ["normalized_shape": .ints([embed])]))
        layers.append(LayerSpec(type: "ReLU"))
        layers.append(linear(embed, classes))
        return LayerSpec(type: "Sequential", children: layers)
    }

    static func scoresActivation(_ features: Int, temperature: Double) -> LayerSpec {
        LayerSpec(type: "ScoresActivation", attributes: ["num_features": .int(features), "temperature": .double(temperature)])
    }
}
