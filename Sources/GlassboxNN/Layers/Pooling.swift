/// Pooling layers (no parameters) wrapping ``maxPool2d(_:kernel:stride:padding:dilation:)``,
/// ``avgPool2d(_:kernel:stride:padding:countIncludePad:)`` and ``globalAvgPool(_:keepDims:)``.
/// Window arguments are validated when the layer is made; `stride` defaults to the kernel size,
/// as in PyTorch.

/// PyTorch's `nn.MaxPool2d` (floor mode, no returned indices).
public final class MaxPool2d: Layer {
    /// Window size, stride, padding and dilation as (height, width).
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)

    /// Makes the layer; the stride defaults to the kernel size, as in PyTorch.
    public init(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                dilation: (Int, Int) = (1, 1)) throws {
        (self.kernelSize, self.stride, self.padding, self.dilation) = (kernelSize, stride ?? kernelSize, padding, dilation)
        try Window2D(kernel: kernelSize, stride: self.stride, padding: padding, dilation: dilation, op: "MaxPool2d")
            .checkPoolingPadding(op: "MaxPool2d")
    }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        let kernel = try spec.pair("kernel_size")
        try self.init(kernelSize: kernel, stride: spec.pair("stride", default: kernel),
                      padding: spec.pair("padding", default: (0, 0)), dilation: spec.pair("dilation", default: (1, 1)))
    }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        try maxPool2d(input, kernel: kernelSize, stride: stride, padding: padding, dilation: dilation)
    }

    public var spec: LayerSpec {
        LayerSpec(type: "MaxPool2d", attributes: [
            "kernel_size": .ints([kernelSize.0, kernelSize.1]), "stride": .ints([stride.0, stride.1]),
            "padding": .ints([padding.0, padding.1]), "dilation": .ints([dilation.0, dilation.1]),
        ])
    }
}

/// PyTorch's `nn.AvgPool2d` (floor mode, no divisor override).
public final class AvgPool2d: Layer {
    /// Window size, stride and padding as (height, width).
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    /// Whether padded zeros count in the average's denominator (PyTorch's default: true).
    public let countIncludePad: Bool

    /// Makes the layer; the stride defaults to the kernel size, as in PyTorch.
    public init(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                countIncludePad: Bool = true) throws {
        (self.kernelSize, self.stride, self.padding) = (kernelSize, stride ?? kernelSize, padding)
        self.countIncludePad = countIncludePad
        try Window2D(kernel: kernelSize, stride: self.stride, padding: padding, dilation: (1, 1), op: "AvgPool2d")
            .checkPoolingPadding(op: "AvgPool2d")
    }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        let kernel = try spec.pair("kernel_size")
        try self.init(kernelSize: kernel, stride: spec.pair("stride", default: kernel),
                      padding: spec.pair("padding", default: (0, 0)),
                      countIncludePad: spec.bool("count_include_pad", default: true))
    }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        try avgPool2d(input, kernel: kernelSize, stride: stride, padding: padding, countIncludePad: countIncludePad)
    }

    public var spec: LayerSpec {
        LayerSpec(type: "AvgPool2d", attributes: [
            "kernel_size": .ints([kernelSize.0, kernelSize.1]), "stride": .ints([stride.0, stride.1]),
            "padding": .ints([padding.0, padding.1]), "count_include_pad": .bool(countIncludePad),
        ])
    }
}

/// Mean over each channel's plane: `[N, C, H, W] → [N, C]` (PyTorch's
/// `nn.AdaptiveAvgPool2d(1)` followed by `flatten(1)`).
public final class GlobalAvgPool: Layer {
    /// Makes the layer (it has no parameters).
    public init() {}

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        try globalAvgPool(input)
    }

    public var spec: LayerSpec { LayerSpec(type: "GlobalAvgPool") }
}
