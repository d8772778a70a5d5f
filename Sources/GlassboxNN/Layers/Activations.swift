/// Parameter-free activation layers wrapping the ops of the same name, with PyTorch's class and
/// attribute names. Non-integer attributes are kept as the `Double` the spec holds, so a spec
/// round-trips exactly (`0.01`, not `0.009999999776`).

/// `nn.ReLU`: `max(0, x)` elementwise. No parameters. Cost: one pass each way.
public final class ReLU: Layer {
    /// Makes the layer (it has no parameters).
    public init() {}
    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable { relu(input) }
    public var spec: LayerSpec { LayerSpec(type: "ReLU") }
}

/// `nn.LeakyReLU(negative_slope=0.01)`.
public final class LeakyReLU: Layer {
    /// The slope `a` of `x < 0`: `y = a·x` there.
    public let negativeSlope: Double

    /// Makes the layer; `negativeSlope` must be finite.
    public init(negativeSlope: Double = 0.01) throws {
        guard negativeSlope.isFinite else {
            throw GlassboxError.invalidArgument("LeakyReLU: negative_slope must be finite, got \(negativeSlope)")
        }
        self.negativeSlope = negativeSlope
    }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        try self.init(negativeSlope: spec.double("negative_slope", default: 0.01))
    }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        leakyRelu(input, slope: Float(negativeSlope))
    }

    public var spec: LayerSpec { LayerSpec(type: "LeakyReLU", attributes: ["negative_slope": .double(negativeSlope)]) }
}

/// `nn.Sigmoid()`.
public final class Sigmoid: Layer {
    /// Makes the layer (it has no parameters).
    public init() {}
    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws { self.init() }
    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable { sigmoid(input) }
    public var spec: LayerSpec { LayerSpec(type: "Sigmoid") }
}

/// `nn.Tanh()`.
public final class Tanh: Layer {
    /// Makes the layer (it has no parameters).
    public init() {}
    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws { self.init() }
    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable { tanh(input) }
    public var spec: LayerSpec { LayerSpec(type: "Tanh") }
}

/// `nn.GELU(approximate="none" | "tanh")`.
public final class GELU: Layer {
    /// Exact erf form (`.none`) or PyTorch's tanh approximation.
    public let approximate: GELUApproximation

    /// Makes the layer with the given approximation (PyTorch's default: exact).
    public init(approximate: GELUApproximation = .none) { self.approximate = approximate }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        let name = try spec.string("approximate", default: "none")
        guard let approximate = GELUApproximation(rawValue: name) else {
            throw GlassboxError.invalidArgument("GELU: approximate must be 'none' or 'tanh', got '\(name)'")
        }
        self.init(approximate: approximate)
    }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        gelu(input, approximate: approximate)
    }

    public var spec: LayerSpec { LayerSpec(type: "GELU", attributes: ["approximate": .string(approximate.rawValue)]) }
}

/// `nn.Softmax(dim)`: normalises along `dim` (negative counts from the end).
public final class Softmax: Layer {
    /// The axis normalised (negative counts from the end).
    public let dim: Int

    /// Makes the layer normalising along axis `dim`.
    public init(dim: Int) { self.dim = dim }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws { self.init(dim: try spec.int("dim")) }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable { try softmax(input, axis: dim) }

    public var spec: LayerSpec { LayerSpec(type: "Softmax", attributes: ["dim": .int(dim)]) }
}
