/// A building block of a model: a function of one input with explicitly listed parameters.
///
/// Layers are final classes (their parameters are shared, mutable state updated by optimisers).
/// Names follow PyTorch's `state_dict` conventions: a layer's own tensors are `weight`, `bias`,
/// `running_mean`…; children are addressed by name (`"0"`, `"1"` in a ``Sequential``), so a full
/// parameter name reads `features.0.weight` exactly as PyTorch writes it.
public protocol Layer: AnyObject {
    /// Applies the layer. Containers call children through ``ForwardContext/call(_:named:_:)`` so
    /// hooks and activation recording see every layer.
    func forward(_ input: Variable, context: ForwardContext) throws -> Variable

    /// This layer's own trainable tensors (not its children's), in PyTorch order.
    var parameters: [(name: String, variable: Variable)] { get }
    /// This layer's own non-trainable state saved with the model (e.g. batch-norm statistics).
    var buffers: [(name: String, variable: Variable)] { get }
    /// Child layers, in order.
    var children: [(name: String, layer: any Layer)] { get }
    /// The architecture description that rebuilds this layer (see ``LayerSpec``).
    var spec: LayerSpec { get }
}

extension Layer {
    public var parameters: [(name: String, variable: Variable)] { [] }
    public var buffers: [(name: String, variable: Variable)] { [] }
    public var children: [(name: String, layer: any Layer)] { [] }

    /// All trainable tensors of this layer and its descendants with full dotted names.
    public func namedParameters(prefix: String = "") -> [(name: String, variable: Variable)] {
        var out = parameters.map { (name: prefix + $0.name, variable: $0.variable) }
        for child in children {
            out += child.layer.namedParameters(prefix: prefix + child.name + ".")
        }
        return out
    }

    /// All saved tensors (parameters then buffers, depth first) with full dotted names:
    /// what a model file stores.
    public func namedTensors(prefix: String = "") -> [(name: String, variable: Variable)] {
        var out = parameters.map { (name: prefix + $0.name, variable: $0.variable) }
        out += buffers.map { (name: prefix + $0.name, variable: $0.variable) }
        for child in children {
            out += child.layer.namedTensors(prefix: prefix + child.name + ".")
        }
        return out
    }

    /// Trainable tensors, for an optimiser.
    public var allParameters: [Variable] { namedParameters().map(\.variable) }

    /// Number of trainable scalars.
    public var parameterCount: Int { allParameters.reduce(0) { $0 + $1.value.count } }

    /// Inference on a tensor: no graph is recorded, training-only behaviour (dropout, batch
    /// statistics) is off.
    public func predict(_ input: Tensor) throws -> Tensor {
        try forward(Variable(input), context: ForwardContext(training: false)).value
    }

    /// Applies the layer with a fresh context.
    public func callAsFunction(_ input: Variable, training: Bool = false) throws -> Variable {
        try forward(input, context: ForwardContext(training: training))
    }
}
