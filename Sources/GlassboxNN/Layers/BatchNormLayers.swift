/// Batch normalisation layers (PyTorch's `nn.BatchNorm1d` / `nn.BatchNorm2d`), applying
/// ``batchNorm(_:gamma:beta:runningMean:runningVar:training:momentum:eps:)`` per channel (axis 1).
///
/// The layer owns its running statistics as buffers, saved with the model under PyTorch's names
/// (`running_mean`, `running_var`, `num_batches_tracked`). In training mode (``ForwardContext``)
/// it normalises with batch statistics and updates the running ones; in inference (`predict`)
/// it uses the running statistics. With `trackRunningStats == false` it always uses batch
/// statistics and has no buffers. Parameters `weight` (γ, ones) and `bias` (β, zeros) exist
/// when `affine`.
/// Cost: a few passes over the input each way (see the op).
public class BatchNorm: Layer {
    /// Scale γ and shift β `[C]` (nil without `affine`).
    public let weight: Variable?, bias: Variable?
    /// Running mean and (unbiased) variance `[C]` used in inference (nil without `trackRunningStats`).
    public let runningMean: Variable?, runningVar: Variable?
    /// Training steps seen (a scalar, stored as Float as every tensor is).
    public let numBatchesTracked: Variable?
    /// Channels `C`.
    public let numFeatures: Int
    /// `ε` added to the variance; `momentum` of the running statistics' update `r ← (1−m)·r + m·batch`.
    public let eps: Float, momentum: Float

    /// Type name and accepted input ranks; overridden by each concrete class.
    class var typeName: String { "BatchNorm" }
    class var inputRanks: [Int] { [] }
    class var expectedShape: String { "" }

    /// Makes the layer with PyTorch's defaults; γ = 1, β = 0, running mean 0 and variance 1.
    public init(numFeatures: Int, eps: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true,
                trackRunningStats: Bool = true) throws {
        let name = Self.typeName
        guard numFeatures > 0 else { throw GlassboxError.invalidArgument("\(name) needs positive num_features, got \(numFeatures)") }
        guard eps >= 0 else { throw GlassboxError.invalidArgument("\(name): eps must be non-negative, got \(eps)") }
        (self.numFeatures, self.eps, self.momentum) = (numFeatures, eps, momentum)
        weight = affine ? Variable(.ones([numFeatures]), requiresGrad: true) : nil
        bias = affine ? Variable(.zeros([numFeatures]), requiresGrad: true) : nil
        runningMean = trackRunningStats ? Variable(.zeros([numFeatures])) : nil
        runningVar = trackRunningStats ? Variable(.ones([numFeatures])) : nil
        numBatchesTracked = trackRunningStats ? Variable(Tensor(0)) : nil
    }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        try self.init(numFeatures: spec.int("num_features"), eps: Float(spec.double("eps", default: 1e-5)),
                      momentum: Float(spec.double("momentum", default: 0.1)), affine: spec.bool("affine", default: true),
                      trackRunningStats: spec.bool("track_running_stats", default: true))
    }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        guard Self.inputRanks.contains(input.value.rank), input.shape[1] == numFeatures else {
            throw GlassboxError.shapeMismatch(
                "\(Self.typeName)(\(numFeatures)) expects \(Self.expectedShape.replacingOccurrences(of: "C", with: String(numFeatures))), got \(input.shape)")
        }
        let y = try batchNorm(input, gamma: weight, beta: bias, runningMean: runningMean, runningVar: runningVar,
                              training: context.training || runningMean == nil, momentum: momentum, eps: eps)
        if context.training, let numBatchesTracked { numBatchesTracked.value.scalars[0] += 1 }
        return y
    }

    public var parameters: [(name: String, variable: Variable)] {
        [("weight", weight), ("bias", bias)].compactMap { name, v in v.map { (name, $0) } }
    }

    public var buffers: [(name: String, variable: Variable)] {
        [("running_mean", runningMean), ("running_var", runningVar), ("num_batches_tracked", numBatchesTracked)]
            .compactMap { name, v in v.map { (name, $0) } }
    }

    public var spec: LayerSpec {
        LayerSpec(type: Self.typeName, attributes: [
            "num_features": .int(numFeatures), "eps": .double(Double(eps)), "momentum": .double(Double(momentum)),
            "affine": .bool(weight != nil), "track_running_stats": .bool(runningMean != nil),
        ])
    }
}

/// Batch normalisation of `[N, C]` or `[N, C, L]` (PyTorch's `nn.BatchNorm1d`).
public final class BatchNorm1d: BatchNorm {
    override class var typeName: String { "BatchNorm1d" }
    override class var inputRanks: [Int] { [2, 3] }
    override class var expectedShape: String { "[N, C] or [N, C, L]" }
}

/// Batch normalisation of `[N, C, H, W]` (PyTorch's `nn.BatchNorm2d`).
public final class BatchNorm2d: BatchNorm {
    override class var typeName: String { "BatchNorm2d" }
    override class var inputRanks: [Int] { [4] }
    override class var expectedShape: String { "[N, C, H, W]" }
}
