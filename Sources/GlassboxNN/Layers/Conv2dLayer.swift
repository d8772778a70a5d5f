/// 2-D convolution layer (PyTorch's `nn.Conv2d`): ``conv2d(_:weight:bias:stride:padding:dilation:groups:)``
/// with its own weight `[out, in/groups, kh, kw]` and optional bias `[out]`.
///
/// Shapes: input `[N, in, H, W]`, output `[N, out, Ho, Wo]`.
/// Initialisation as PyTorch: Kaiming-uniform with `a = √5`, which for both weight and bias is
/// uniform in `±1/√fan_in` with `fan_in = in/groups · kh · kw`.
/// Cost: `2·N·out·(in/groups)·kh·kw·Ho·Wo` FLOP forward, twice that backward.
public final class Conv2d: Layer {
    /// The kernel `[out, in/groups, kh, kw]` (PyTorch's OIHW).
    public let weight: Variable
    /// The bias `[out]`, if any.
    public let bias: Variable?
    /// Input and output channels.
    public let inChannels: Int, outChannels: Int
    /// Kernel size, stride, zero padding and dilation as (height, width).
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)
    /// Channel groups (1: dense; `inChannels`: depthwise).
    public let groups: Int

    /// Makes the layer, drawing weights as PyTorch does from `rng`.
    public init(inChannels: Int, outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true,
                rng: inout SeededGenerator) throws {
        guard inChannels > 0, outChannels > 0 else {
            throw GlassboxError.invalidArgument("Conv2d needs positive channel counts, got in \(inChannels), out \(outChannels)")
        }
        guard groups > 0, inChannels % groups == 0, outChannels % groups == 0 else {
            throw GlassboxError.invalidArgument(
                "Conv2d: groups \(groups) must be positive and divide in_channels \(inChannels) and out_channels \(outChannels)")
        }
        _ = try Window2D(kernel: kernelSize, stride: stride, padding: padding, dilation: dilation, op: "Conv2d")
        (self.inChannels, self.outChannels, self.groups) = (inChannels, outChannels, groups)
        (self.kernelSize, self.stride, self.padding, self.dilation) = (kernelSize, stride, padding, dilation)
        let fanIn = inChannels / groups * kernelSize.0 * kernelSize.1
        let bound = 1 / Float(fanIn).squareRoot()
        weight = Variable(.uniform([outChannels, inChannels / groups, kernelSize.0, kernelSize.1], -bound, bound, using: &rng),
                          requiresGrad: true)
        self.bias = bias ? Variable(.uniform([outChannels], -bound, bound, using: &rng), requiresGrad: true) : nil
    }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        try self.init(inChannels: spec.int("in_channels"), outChannels: spec.int("out_channels"),
                      kernelSize: spec.pair("kernel_size"), stride: spec.pair("stride", default: (1, 1)),
                      padding: spec.pair("padding", default: (0, 0)), dilation: spec.pair("dilation", default: (1, 1)),
                      groups: spec.int("groups", default: 1), bias: spec.bool("bias", default: true), rng: &rng)
    }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        guard input.value.rank == 4, input.shape[1] == inChannels else {
            throw GlassboxError.shapeMismatch("Conv2d(\(inChannels)→\(outChannels)) expects [N, \(inChannels), H, W], got \(input.shape)")
        }
        return try conv2d(input, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }

    public var parameters: [(name: String, variable: Variable)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public var spec: LayerSpec {
        LayerSpec(type: "Conv2d", attributes: [
            "in_channels": .int(inChannels), "out_channels": .int(outChannels),
            "kernel_size": .ints([kernelSize.0, kernelSize.1]), "stride": .ints([stride.0, stride.1]),
            "padding": .ints([padding.0, padding.1]), "dilation": .ints([dilation.0, dilation.1]),
            "groups": .int(groups), "bias": .bool(bias != nil),
        ])
    }
}
