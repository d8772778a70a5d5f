/// `nn.Flatten(start_dim=1, end_dim=-1)`: merges axes `start_dim...end_dim`, so `[n, c, h, w]`
/// becomes `[n, c·h·w]`. Shares storage with its input (see ``flatten(_:startAxis:endAxis:)``).
public final class Flatten: Layer {
    /// The first and last axis merged (negative counts from the end).
    public let startDim: Int, endDim: Int

    /// Makes the layer with PyTorch's defaults (keep the batch axis).
    public init(startDim: Int = 1, endDim: Int = -1) {
        self.startDim = startDim
        self.endDim = endDim
    }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        self.init(startDim: try spec.int("start_dim", default: 1), endDim: try spec.int("end_dim", default: -1))
    }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        try flatten(input, startAxis: startDim, endAxis: endDim)
    }

    public var spec: LayerSpec {
        LayerSpec(type: "Flatten", attributes: ["start_dim": .int(startDim), "end_dim": .int(endDim)])
    }
}
