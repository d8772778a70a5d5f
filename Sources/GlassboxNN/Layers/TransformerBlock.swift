/// A pre-norm transformer encoder block, as PyTorch's
/// `nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
/// batch_first=True, norm_first=True)`:
///
///     x = x + dropout(self_attn(norm1(x)))
///     x = x + dropout(linear2(dropout(act(linear1(norm2(x))))))
///
/// Shapes: `[n, t, e]` → `[n, t, e]`; `linear1` is `e → f`, `linear2` `f → e`, `act` ReLU or
/// GELU. Children carry PyTorch's names (`self_attn.in_proj_weight`, `linear1.weight`,
/// `norm2.bias`…), so a `state_dict` of that PyTorch layer loads here. Pre-norm keeps the residual
/// path an identity, which trains stably without warm-up (the FT-Transformer choice).
/// Cost: the attention's `8·n·t·e² + 4·n·t²·e` plus `4·n·t·e·f` FLOP forward.
public final class TransformerBlock: Layer {
    /// The attention sublayer.
    public let selfAttention: MultiheadSelfAttention
    /// Layer norms before attention and before the feed-forward network (pre-norm).
    public let norm1: LayerNorm, norm2: LayerNorm
    /// The feed-forward network `e → feedforwardDim → e`.
    public let linear1: Linear, linear2: Linear
    /// The feed-forward nonlinearity.
    public let activation: Activation
    /// Dropout probability after attention and feed-forward in training.
    public let dropout: Double

    /// The feed-forward nonlinearity.
    public enum Activation: String, Sendable, CaseIterable {
        case relu, gelu
    }

    /// Makes the block, drawing weights from `rng`.
    public init(embedDim: Int, numHeads: Int, feedforwardDim: Int, activation: Activation = .relu,
                dropout: Double = 0, rng: inout SeededGenerator) throws {
        guard feedforwardDim > 0 else {
            throw GlassboxError.invalidArgument("TransformerBlock: dim_feedforward must be > 0, got \(feedforwardDim)")
        }
        guard dropout >= 0, dropout < 1 else {
            throw GlassboxError.invalidArgument("TransformerBlock: dropout must be in [0, 1), got \(dropout)")
        }
        selfAttention = try MultiheadSelfAttention(embedDim: embedDim, numHeads: numHeads, rng: &rng)
        linear1 = try Linear(inFeatures: embedDim, outFeatures: feedforwardDim, rng: &rng)
        linear2 = try Linear(inFeatures: feedforwardDim, outFeatures: embedDim, rng: &rng)
        norm1 = try LayerNorm(normalizedShape: [embedDim])
        norm2 = try LayerNorm(normalizedShape: [embedDim])
        self.activation = activation
        self.dropout = dropout
    }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        let name = try spec.string("activation", default: "relu")
        guard let activation = Activation(rawValue: name) else {
            throw GlassboxError.invalidArgument("TransformerBlock: activation must be 'relu' or 'gelu', got '\(name)'")
        }
        try self.init(embedDim: spec.int("d_model"), numHeads: spec.int("nhead"),
                      feedforwardDim: spec.int("dim_feedforward"), activation: activation,
                      dropout: spec.double("dropout", default: 0), rng: &rng)
    }

    /// Token width `e`.
    public var embedDim: Int { selfAttention.embedDim }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        guard input.value.rank == 3, input.shape[2] == embedDim else {
            throw GlassboxError.shapeMismatch("TransformerBlock(d_model \(embedDim)) expects [batch, tokens, \(embedDim)], got \(input.shape)")
        }
        let (n, t, e) = (input.shape[0], input.shape[1], embedDim)
        let attended = try context.call(selfAttention, named: "self_attn", try context.call(norm1, named: "norm1", input))
        let x = try add(input, try drop(attended, context))
        let normed = try reshape(try context.call(norm2, named: "norm2", x), [n * t, e])
        let hidden = try context.call(linear1, named: "linear1", normed)
        let activated = activation == .relu ? relu(hidden) : gelu(hidden)
        let ffn = try context.call(linear2, named: "linear2", try drop(activated, context))
        return try add(x, try drop(try reshape(ffn, [n, t, e]), context))
    }

    private func drop(_ x: Variable, _ context: ForwardContext) throws -> Variable {
        dropout == 0 ? x : try GlassboxNN.dropout(x, p: Float(dropout), training: context.training, rng: &context.rng)
    }

    public var children: [(name: String, layer: any Layer)] {
        [("self_attn", selfAttention), ("linear1", linear1), ("linear2", linear2), ("norm1", norm1), ("norm2", norm2)]
    }

    public var spec: LayerSpec {
        LayerSpec(type: "TransformerBlock", attributes: [
            "d_model": .int(embedDim), "nhead": .int(selfAttention.numHeads),
            "dim_feedforward": .int(linear1.outFeatures), "activation": .string(activation.rawValue),
            "dropout": .double(dropout)])
    }
}
