/// Per-call state of a forward pass: training or inference, the randomness of stochastic layers,
/// and the observers a caller attached.
///
/// Every layer call made through ``call(_:named:_:)`` gets a dotted path (`"features.3"`), and
/// for it:
/// - `forwardHook(path, output)` may observe or replace the output (ConvAD masks, ablations);
/// - `backwardHook(path, gradient)` is installed on the output so it can rewrite the gradient
///   flowing back through that layer;
/// - `layerBackwardHook(site, gradient)` does the same but also sees the layer and the output's
///   forward value, so a rule can depend on what the layer computed (FEI's selective gradient
///   clipping lets a gradient through only where the activation stays within clean bounds;
///   guided backpropagation zeroes it where the output is not positive);
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
    /// Rewrites the gradient arriving at each layer's output during backward, given the layer,
    /// its path and its forward output (see ``LayerSite``). Runs after ``backwardHook``'s rewrite
    /// when both are set, i.e. it sees the gradient `backwardHook` returned.
    public var layerBackwardHook: ((_ site: LayerSite, _ gradient: Tensor) -> Tensor)?
    /// Whether to keep every layer's output.
    public var recordActivations: Bool
    /// Layer outputs in call order, when recording.
    public private(set) var activations: [(path: String, value: Variable)] = []

    private var path: [String] = []

    /// A context for a training (`training` true) or inference pass; `seed` seeds the dropout
    /// generator, and `recordActivations` keeps every layer output in ``activations``.
    public init(training: Bool, seed: UInt64 = 0, recordActivations: Bool = false) {
        self.training = training
        self.rng = SeededGenerator(seed: seed)
        self.recordActivations = recordActivations
    }

    /// Whether anyone observes individual layer calls (hooks or recording). Containers may fuse
    /// adjacent layers into one op only when nobody does, so that every hook still sees every layer.
    public var observesLayers: Bool {
        forwardHook != nil || backwardHook != nil || layerBackwardHook != nil || recordActivations
    }

    /// The dotted path of the layer currently running ("" at the top).
    public var currentPath: String { path.joined(separator: ".") }

    /// Runs `layer` as the child `name` of the current layer, applying hooks and recording.
    public func call(_ layer: any Layer, named name: String, _ input: Variable) throws -> Variable {
        try call(layer, named: name) { try layer.forward(input, context: self) }
    }

    /// Runs `body` as the call of `layer` named `name` (a graph node with several inputs), with
    /// the same hooks and recording as ``call(_:named:_:)``.
    public func call(_ layer: any Layer, named name: String, computing body: () throws -> Variable) throws -> Variable {
        path.append(name)
        defer { path.removeLast() }
        var output = try body()
        let here = currentPath
        if let forwardHook { output = try forwardHook(here, output) }
        if let backwardHook, output.requiresGrad {
            let previous = output.gradientHook
            output.gradientHook = { g in backwardHook(here, previous?(g) ?? g) }
        }
        if let layerBackwardHook, output.requiresGrad {
            let previous = output.gradientHook
            let site = LayerSite(path: here, layer: layer, output: output.value)
            output.gradientHook = { g in layerBackwardHook(site, previous?(g) ?? g) }
        }
        if recordActivations { activations.append((here, output)) }
        return output
    }

    /// Forgets recorded activations.
    public func clearActivations() { activations.removeAll() }
}

/// One layer call seen by ``ForwardContext/layerBackwardHook``: where it ran, which layer it was
/// and the value it produced in the forward pass (`[n, …]`, the whole batch).
public struct LayerSite {
    /// Dotted path of the call (`"features.3"`, `"2.body.2"`).
    public let path: String
    /// The layer that ran (test its type to pick e.g. every ``ReLU`` or ``Residual``).
    public let layer: any Layer
    /// The layer's forward output.
    public let output: Tensor
}
