/// Keeps one token of a sequence: `[n, t, e]` → `[n, e]` (PyTorch's `x[:, index]`), e.g. the
/// [CLS] token a transformer classifier reads out. Negative indices count from the end.
///
/// Backward: the gradient goes to that token only. Cost: one copy of `n·e` values each way.
public final class SelectToken: Layer {
    /// The token kept (0: the CLS token).
    public let index: Int

    /// Makes the layer keeping token `index` of `[n, tokens, e]`.
    public init(index: Int = 0) { self.index = index }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        self.init(index: try spec.int("index", default: 0))
    }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        guard input.value.rank == 3, (-input.shape[1]..<input.shape[1]).contains(index) else {
            throw GlassboxError.shapeMismatch("SelectToken(\(index)) expects [batch, tokens, embed] with token \(index) present, got \(input.shape)")
        }
        let t = index < 0 ? index + input.shape[1] : index
        return try reshape(try slice(input, axis: 1, range: t..<(t + 1)), [input.shape[0], input.shape[2]])
    }

    public var spec: LayerSpec { LayerSpec(type: "SelectToken", attributes: ["index": .int(index)]) }
}
