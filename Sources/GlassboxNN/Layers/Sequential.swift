/// Layers applied one after another; children are named "0", "1", … as in PyTorch.
public final class Sequential: Layer {
    public private(set) var layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        var built: [any Layer] = []
        for child in spec.children { built.append(try LayerRegistry.build(child, rng: &rng)) }
        self.init(built)
    }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        var x = input
        for (i, layer) in layers.enumerated() { x = try context.call(layer, named: String(i), x) }
        return x
    }

    public var children: [(name: String, layer: any Layer)] {
        layers.enumerated().map { (name: String($0.offset), layer: $0.element) }
    }

    public var spec: LayerSpec { LayerSpec(type: "Sequential", children: layers.map(\.spec)) }
}
