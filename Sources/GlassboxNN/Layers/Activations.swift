/// Parameter-free activation layers wrapping the ops of the same name.
public final class ReLU: Layer {
    public init() {}
    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable { relu(input) }
    public var spec: LayerSpec { LayerSpec(type: "ReLU") }
}
