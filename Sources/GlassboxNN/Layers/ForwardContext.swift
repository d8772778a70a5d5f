/// Per-call state of a forward pass: training or inference, the randomness of stochastic layers,
/// and the observers a caller attached.
///
/// Every layer call made through ``call(_:named:_:)`` gets a dotted path (`"features.3"`), and
/// for it:
/// - `forwardHook(path, output)` may observe or replace the output (ConvAD masks, ablations);
/// - `backwardHook(path, gradient)` is installed on the output so it can rewrite the gradient
///   flowing back through that layer (FEI's selective clipping);
/// - when `recordActivations` is on, the output is kept in ``activations`` in call order.
public final class ForwardContext {
    /// Training mode (dropout active, batch norm uses and updates batch statistics).
    public var training: Bool
    /// Randomness for stochastic layers (dropout).
    public var rng: SeededGenerator
    /// Observes or replaces each layer's output.
    public var forwardHook: ((_ path: String, _ output: Variable) throws -> Variable)?
    /// Rewrites the gradient arriving at each layer's output during backward.
    public var backwardHook: ((_ path: String, _ gradient: Tensor) -> Tensor)?
    /// Whether to keep every layer's output.
    public var recordActivations: Bool
    /// Layer outputs in call order, when recording.
    public private(set) var activations: [(path: String, value: Variable)] = []

    private var path: [String] = []

    public init(training: Bool, seed: UInt64 = 0, recordActivations: Bool = false) {
        self.training = training
        self.rng = SeededGenerator(seed: seed)
        self.recordActivations = recordActivations
    }

    /// The dotted path of the layer currently running ("" at the top).
    public var currentPath: String { path.joined(separator: ".") }

    /// Runs `layer` as the child `name` of the current layer, applying hooks and recording.
    public func call(_ layer: any Layer, named name: String, _ input: Variable) throws -> Variable {
        path.append(name)
        defer { path.removeLast() }
        var output = try layer.forward(input, context: self)
        let here = currentPath
        if let forwardHook { output = try forwardHook(here, output) }
        if let backwardHook, output.requiresGrad {
            let previous = output.gradientHook
            output.gradientHook = { g in backwardHook(here, previous?(g) ?? g) }
        }
        if recordActivations { activations.append((here, output)) }
        return output
    }

    /// Forgets recorded activations.
    public func clearActivations() { activations.removeAll() }
}
