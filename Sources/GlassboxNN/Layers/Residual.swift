/// A residual connection: `y = act(body(x) + shortcut(x))`, with the identity as the default
/// shortcut and ReLU (or nothing) after the sum.
///
/// Children are named `body` and `shortcut`, so parameters read `body.0.weight`,
/// `shortcut.1.running_mean`. Backward needs nothing special: the input's gradient is the sum of
/// both paths' gradients because every op accumulates.
/// Cost: the body's plus the shortcut's, plus one add.
public final class Residual: Layer {
    /// The residual branch `F`.
    public let body: any Layer
    /// The projection on the skip path (nil: identity).
    public let shortcut: (any Layer)?
    /// Whether ReLU follows the sum (as in a ResNet basic block).
    public let reluAfter: Bool

    /// Makes `y = F(x) + shortcut(x)`, followed by a ReLU when `reluAfter`.
    public init(body: any Layer, shortcut: (any Layer)? = nil, reluAfter: Bool = true) {
        self.body = body
        self.shortcut = shortcut
        self.reluAfter = reluAfter
    }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        let names = spec.childNames ?? ["body", "shortcut"].prefix(spec.children.count).map { $0 }
        guard (1...2).contains(spec.children.count), names.count == spec.children.count, names[0] == "body",
              names.count == 1 || names[1] == "shortcut" else {
            throw GlassboxError.invalidArgument("Residual needs children named 'body' and optionally 'shortcut', got \(names)")
        }
        let body = try LayerRegistry.build(spec.children[0], rng: &rng)
        let shortcut = spec.children.count == 2 ? try LayerRegistry.build(spec.children[1], rng: &rng) : nil
        self.init(body: body, shortcut: shortcut, reluAfter: try spec.bool("relu", default: true))
    }

    /// The ResNet basic block: conv3×3(stride)-BN-ReLU-conv3×3-BN plus a 1×1 conv-BN projection
    /// when the stride or channel count changes, then ReLU.
    public static func basicBlock(inChannels: Int, outChannels: Int, stride: Int = 1,
                                  rng: inout SeededGenerator) throws -> Residual {
        let spec = Architectures.basicBlock(inChannels, outChannels, stride: stride)
        return try Residual(spec: spec, rng: &rng)
    }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        let main = try context.call(body, named: "body", input)
        let skip = try shortcut.map { try context.call($0, named: "shortcut", input) } ?? input
        guard main.shape == skip.shape else {
            throw GlassboxError.shapeMismatch("Residual: body output \(main.shape) and shortcut output \(skip.shape) differ")
        }
        let sum = try add(main, skip)
        return reluAfter ? relu(sum) : sum
    }

    public var children: [(name: String, layer: any Layer)] {
        [(name: "body", layer: body)] + (shortcut.map { [(name: "shortcut", layer: $0)] } ?? [])
    }

    public var spec: LayerSpec {
        LayerSpec(type: "Residual", attributes: ["relu": .bool(reluAfter)],
                  children: children.map(\.layer.spec), childNames: children.map(\.name))
    }
}
