/// ScoresActivation (Covaci et al., arXiv 2511.13809): one learned score per input feature, turned
/// into a probability distribution over features that rescales every row.
///
/// `w = softmax(s / τ)`, `y = w ⊙ x` for every row — the same `w` for the whole batch, so the
/// scores are one global ranking of the features for the whole model. Composed with a following
/// linear layer the model computes `W · diag(w) · x`.
///
/// Shapes: input `[n, d]`, scores `[d]` (state name `scores`, initialised to 0, so `w` starts
/// uniform at `1/d`), output `[n, d]`. The temperature `τ > 0` (default 1, the paper's plain form)
/// sharpens (`τ < 1`) or flattens the distribution.
///
/// The forward pass is one op, ``featureWeighting(_:scores:temperature:)``, with the exact
/// backward: with `a_j = Σ_rows (∂L/∂y_j)·x_j`, `∂L/∂s_j = w_j·(a_j − Σ_i w_i a_i) / τ` — the
/// gradients sum to zero, only relative scores are learned. Cost: one softmax over `d` values
/// and one pass over the input each way (two backward when the input needs a gradient).
///
/// Caveats (see the readouts in `Glassbox/Scores`): a weight `w_i` can be undone by scaling
/// column `i` of the next layer, so the scores alone may mis-rank; softmax never reaches zero,
/// so there is no true sparsity and redundant features may split their weight arbitrarily.
public final class ScoresActivation: Layer {
    /// The per-feature scores `s`, `[d]`.
    public let scores: Variable
    /// Input features `d`.
    public let numFeatures: Int
    /// The softmax temperature `τ`.
    public let temperature: Double

    /// Makes the layer with scores 0 (uniform weights `1/d`); `temperature` must be positive.
    public init(numFeatures: Int, temperature: Double = 1) throws {
        guard numFeatures > 0 else {
            throw GlassboxError.invalidArgument("ScoresActivation needs num_features > 0, got \(numFeatures)")
        }
        guard temperature.isFinite, temperature > 0 else {
            throw GlassboxError.invalidArgument("ScoresActivation: temperature must be finite and > 0, got \(temperature)")
        }
        self.numFeatures = numFeatures
        self.temperature = temperature
        scores = Variable(.zeros([numFeatures]), requiresGrad: true)
    }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        try self.init(numFeatures: spec.int("num_features"), temperature: spec.double("temperature", default: 1))
    }

    /// `softmax(s / τ)` as a graph node (differentiable in the scores).
    public func weightsVariable() throws -> Variable {
        try softmax(temperature == 1 ? scores : scale(scores, Float(1 / temperature)), axis: 0)
    }

    /// The current feature weights `w = softmax(s / τ)`, `[d]`: positive, summing to 1.
    public var weights: [Float] { get throws { try weightsVariable().value.scalars } }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        guard input.value.rank == 2, input.shape[1] == numFeatures else {
            throw GlassboxError.shapeMismatch(
                "ScoresActivation(\(numFeatures) features) expects [batch, \(numFeatures)], got \(input.shape)")
        }
        return try featureWeighting(input, scores: scores, temperature: temperature)
    }

    /// `strength · H(w)` with `H(w) = −Σ_i w_i log w_i`, the entropy of the feature weights in nats
    /// (between 0 and `log d`): added to the training loss it pushes the weights towards fewer
    /// features. Opt-in; the paper's form has no penalty. Built from ``logSoftmax(_:axis:)`` so
    /// it stays finite however peaked `w` becomes. Cost: two passes over `d` values.
    public func entropyPenalty(strength: Float) throws -> Variable {
        let logits = temperature == 1 ? scores : scale(scores, Float(1 / temperature))
        let logW = try logSoftmax(logits, axis: 0)
        let w = exp(logW)
        return scale(try sum(try mul(w, logW)), -strength)
    }

    public var parameters: [(name: String, variable: Variable)] { [("scores", scores)] }

    public var spec: LayerSpec {
        LayerSpec(type: "ScoresActivation", attributes: [
            "num_features": .int(numFeatures), "temperature": .double(temperature)])
    }
}
