/// `nn.Dropout(p=0.5)`: inverted dropout while `context.training`, the identity otherwise.
///
/// Masks are drawn from `context.rng`, so a forward pass is reproducible from the context's seed.
/// (This file is not named `Dropout.swift`: SwiftPM rejects two sources of one module with the
/// same file name, and `Ops/Dropout.swift` holds the op.)
public final class Dropout: Layer {
    /// Probability of zeroing an element in training (survivors are scaled by `1/(1−p)`).
    public let p: Double

    /// Makes the layer; `p` must be in [0, 1).
    public init(p: Double = 0.5) throws {
        guard p >= 0, p < 1 else {
            throw GlassboxError.invalidArgument("Dropout: p must be in [0, 1), got \(p)")
        }
        self.p = p
    }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        try self.init(p: spec.double("p", default: 0.5))
    }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        try dropout(input, p: Float(p), training: context.training, rng: &context.rng)
    }

    public var spec: LayerSpec { LayerSpec(type: "Dropout", attributes: ["p": .double(p)]) }
}
