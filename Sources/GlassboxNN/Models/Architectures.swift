/// Ready-made architectures, as ``LayerSpec``s so they save, load and print like any other model.
public enum Architectures {
    /// A multilayer perceptron `inputs → hidden… → outputs` with ReLU between linear layers
    /// (and optional dropout after each hidden activation).
    public static func mlp(inputs: Int, hidden: [Int], outputs: Int, dropout: Double = 0) -> LayerSpec {
        var layers: [LayerSpec] = []
        var width = inputs
        for h in hidden {
            layers.append(linear(width, h))
            layers.append(LayerSpec(type: "ReLU"))
            if dropout > 0 { layers.append(LayerSpec(type: "Dropout", attributes: ["p": .double(dropout)])) }
            width = h
        }
        layers.append(linear(width, outputs))
        return LayerSpec(type: "Sequential", children: layers)
    }

    /// A plain conv net: per block `Conv(3×3, pad 1)-ReLU-MaxPool(2)`, then flatten,
    /// `Linear(hidden)-ReLU-Linear(classes)`.
    ///
    /// With `channels: [32, 64]`, 1×28×28 inputs and `hidden: 128` this is the benchmark CNN of
    /// docs/benchmarks.md (Conv(1→32)-ReLU-Pool-Conv(32→64)-ReLU-Pool-Linear(3136→128)-ReLU-Linear(128→10)),
    /// about 8.5 MFLOP per image forward.
    public static func convNet(inputChannels: Int, height: Int, width: Int, channels: [Int] = [32, 64],
                               hidden: Int = 128, classes: Int) -> LayerSpec {
        var layers: [LayerSpec] = []
        var c = inputChannels, h = height, w = width
        for out in channels {
            layers.append(LayerSpec(type: "Conv2d", attributes: [
                "in_channels": .int(c), "out_channels": .int(out), "kernel_size": .int(3), "padding": .int(1)]))
            layers.append(LayerSpec(type: "ReLU"))
            layers.append(LayerSpec(type: "MaxPool2d", attributes: ["kernel_size": .int(2)]))
            c = out; h /= 2; w /= 2
        }
        layers.append(LayerSpec(type: "Flatten"))
        layers.append(linear(c * h * w, hidden))
        layers.append(LayerSpec(type: "ReLU"))
        layers.append(linear(hidden, classes))
        return LayerSpec(type: "Sequential", children: layers)
    }

    /// A small residual net: a 3×3 conv-BN-ReLU stem, one basic block per entry of `channels`
    /// (stride 2 whenever the width grows), global average pooling and a linear head.
    public static func residualNet(inputChannels: Int, channels: [Int] = [16, 32], classes: Int) -> LayerSpec {
        let stemWidth = channels.first ?? 16
        var layers: [LayerSpec] = [
            LayerSpec(type: "Conv2d", attributes: [
                "in_channels": .int(inputChannels), "out_channels": .int(stemWidth), "kernel_size": .int(3),
                "padding": .int(1), "bias": .bool(false)]),
            LayerSpec(type: "BatchNorm2d", attributes: ["num_features": .int(stemWidth)]),
            LayerSpec(type: "ReLU"),
        ]
        var c = stemWidth
        for out in channels {
            layers.append(basicBlock(c, out, stride: out == c ? 1 : 2))
            c = out
        }
        layers.append(LayerSpec(type: "GlobalAvgPool"))
        layers.append(linear(c, classes))
        return LayerSpec(type: "Sequential", children: layers)
    }

    static func linear(_ i: Int, _ o: Int) -> LayerSpec {
        LayerSpec(type: "Linear", attributes: ["in_features": .int(i), "out_features": .int(o)])
    }

    static func conv(_ i: Int, _ o: Int, kernel: Int, stride: Int) -> LayerSpec {
        LayerSpec(type: "Conv2d", attributes: [
            "in_channels": .int(i), "out_channels": .int(o), "kernel_size": .int(kernel), "stride": .int(stride),
            "padding": .int(kernel / 2), "bias": .bool(false)])
    }

    /// The spec of ``Residual/basicBlock(inChannels:outChannels:stride:rng:)``.
    static func basicBlock(_ i: Int, _ o: Int, stride: Int) -> LayerSpec {
        let bn = LayerSpec(type: "BatchNorm2d", attributes: ["num_features": .int(o)])
        let body = LayerSpec(type: "Sequential", children: [
            conv(i, o, kernel: 3, stride: stride), bn, LayerSpec(type: "ReLU"), conv(o, o, kernel: 3, stride: 1), bn])
        var children = [body], names = ["body"]
        if stride != 1 || i != o {
            children.append(LayerSpec(type: "Sequential", children: [conv(i, o, kernel: 1, stride: stride), bn]))
            names.append("shortcut")
        }
        return LayerSpec(type: "Residual", attributes: ["relu": .bool(true)], children: children, childNames: names)
    }
}
