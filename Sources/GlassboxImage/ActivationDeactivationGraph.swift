import Foundation
import GlassboxNN

/// ConvAD on a ``GraphModel`` (an imported ONNX network): the reference walk over the graph's
/// nodes in topological order, each tensor carrying its ``ActivationDeactivation/State`` (value,
/// spatial keep-mask, dirtiness). The rules are the layer rules of ``ActivationDeactivation``,
/// one per op kind:
///
/// | op | ``ActivationDeactivation/Variant/strict`` | ``ActivationDeactivation/Variant/checkpoint`` |
/// |---|---|---|
/// | Conv (groups, depthwise, dilations, asymmetric pads) | deactivate if dirty, then mask eroded over the window (padding counts as visible) | mask resized by majority |
/// | MaxPool, AveragePool | erosion, then `a ⊙ m'` | resize, then `a ⊙ m'` |
/// | Relu, Clip, LeakyRelu, PRelu, Sigmoid, HardSigmoid, HardSwish, Tanh | `a ⊙ m` after the nonlinearity | unchanged |
/// | Add/Sub/Mul/Div of two spatial tensors (residual join) | AND of the masks, then `a ⊙ m` | same |
/// | Add/Sub/Mul/Div with a constant, BatchNormalization | mask unchanged, activation dirty | unchanged |
/// | Concat along channels | AND of the masks, then `a ⊙ m` | same |
/// | Pad | mask padded (constant: visible; edge/reflect: copied) | same |
/// | GlobalAveragePool, ReduceMean over H, W | masked mean `Σ(a⊙m)/Σm` | same |
/// | Flatten, Reshape, Transpose… of a spatial tensor | `a ⊙ m` first, then plain | same |
/// | Identity, Dropout; Gemm, MatMul, Softmax on non-spatial tensors; integer shape arithmetic | plain | plain |
///
/// A strict walk keeps every kept unit's receptive field inside the visible region, so the
/// logits do not depend on occluded pixel values. Ops outside the table are refused by name.
/// Cost: the graph's forward plus `O(n·H·W·k²)` mask work per window op.
extension ActivationDeactivation {
    /// Op types the graph walk has a rule for.
    static let graphOpsWithRules: Set<String> = [
        "Conv", "MaxPool", "AveragePool", "Relu", "Clip", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
        "Add", "Sub", "Mul", "Div", "BatchNormalization", "Concat", "Pad", "GlobalAveragePool", "ReduceMean", "Flatten",
        "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Identity", "Dropout", "Gemm", "MatMul", "Softmax", "LogSoftmax",
        "Shape", "Gather", "Slice", "Cast", "Constant", "ConstantOfShape",
    ]

    static func checkGraph(_ graph: GraphModel, path: String) throws {
        let missing = graph.description.nodes.filter { !graphOpsWithRules.contains($0.op) }
        guard missing.isEmpty else {
            throw GlassboxError.invalidArgument("ConvAD has no rule for \(missing.map { "node '\($0.name)' (\($0.op))" }.joined(separator: ", ")) in '\(path)'")
        }
    }

    func runGraph(_ graph: GraphModel, _ input: State, path: String, context: ForwardContext) throws -> State {
        let strict = variant == .strict
        let mode: SpatialMask.Resize = strict ? .erode : .majority
        var states: [String: State] = [:]
        var integers: [String: GraphValue] = graph.constants
        states[graph.description.inputs[0].name] = input
        func value(_ name: String) -> GraphValue? {
            if name.isEmpty { return nil }
            if let s = states[name] { return GraphValue(Variable(s.a)) }
            return integers[name]
        }
        for op in graph.ops {
            let node = op.node
            let where_ = "\(path).\(node.name) (\(node.op))"
            let spatialInputs = node.inputs.enumerated().filter { !$0.element.isEmpty && states[$0.element]?.mask != nil }
            // Ops on constants and shape arithmetic only: plain.
            if node.inputs.allSatisfy({ $0.isEmpty || states[$0] == nil }) {
                let outs = try op.apply(node.inputs.map(value), context: context)
                for (name, out) in zip(node.outputs, outs) { integers[name] = out }
                continue
            }
            var args = node.inputs.map(value)
            func run() throws -> Tensor { try op.apply(args, context: context)[0].variable.value }
            var s: State
            switch node.op {
            case "Shape":
                integers[node.outputs[0]] = try op.apply(args, context: context)[0]
                continue
            case "Conv", "MaxPool", "AveragePool":
                guard var x = states[node.inputs[0]], let mask = x.mask, x.a.rank == 4 else {
                    throw GlassboxError.shapeMismatch("ConvAD: window op \(where_) on a non-spatial activation")
                }
                if strict && x.dirty { x.deactivate() }
                args[0] = GraphValue(Variable(x.a))
                let y = try run()
                let kernel = node.op == "Conv" ? Array(args[1]?.variable.shape.dropFirst(2) ?? []) : (try node.ints("kernel_shape") ?? [])
                let newMask = try Self.windowMask(mask, node: node, kernel: kernel, outputShape: y.shape, mode: mode, where: where_)
                s = State(a: y, mask: newMask, dirty: true)
                if node.op != "Conv" { s.deactivate() }
            case "Relu", "Clip", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh":
                s = states[node.inputs[0]]!
                s.a = try run()
                if strict && s.mask != nil { s.deactivate() }
            case "Add", "Sub", "Mul", "Div", "Concat":
                let joined = node.inputs.compactMap { states[$0] }
                if spatialInputs.count >= 2 || (node.op == "Concat" && !spatialInputs.isEmpty) {
                    var masks: [Tensor] = []
                    for (i, name) in node.inputs.enumerated() where states[name] != nil {
                        var x = states[name]!
                        guard let m = x.mask else { throw GlassboxError.shapeMismatch("ConvAD: \(where_) joins spatial and flat activations") }
                        if strict && x.dirty { x.deactivate() }
                        args[i] = GraphValue(Variable(x.a))
                        masks.append(m)
                    }
                    guard masks.allSatisfy({ $0.shape == masks[0].shape }) else {
                        throw GlassboxError.shapeMismatch("ConvAD: \(where_) joins activations on different spatial grids")
                    }
                    if node.op == "Concat", let axis = try? node.int("axis", default: 0), axis != 1 && axis != -3 {
                        throw GlassboxError.invalidArgument("ConvAD: \(where_) concatenates along axis \(axis); only channels (axis 1) keep the spatial mask")
                    }
                    s = State(a: try run(), mask: masks.dropFirst().reduce(masks[0], SpatialMask.and), dirty: true)
                    s.deactivate()
                } else {
                    // With a constant (bias, scale): positions are not mixed; zeros stop being zeros.
                    s = joined[0]
                    s.a = try run()
                    if strict && s.mask != nil { s.dirty = true }
                }
            case "BatchNormalization":
                s = states[node.inputs[0]]!
                s.a = try run()
                if strict { s.dirty = true }
            case "Identity", "Dropout":
                s = states[node.inputs[0]]!
            case "Pad":
                var x = states[node.inputs[0]]!
                if let mask = x.mask {
                    let y = try run()
                    let modeName = try node.string("mode", default: "constant")
                    let h = mask.shape[2], w = mask.shape[3]
                    let (dh, dw) = (y.shape[2] - h, y.shape[3] - w)
                    guard y.rank == 4, y.shape[0] == x.a.shape[0], dh >= 0, dw >= 0 else {
                        throw GlassboxError.invalidArgument("ConvAD: \(where_) pads the batch or crops; only spatial padding keeps the mask")
                    }
                    let rawPads = graph.description.opset < 11 ? (try node.ints("pads") ?? []) : (args.count > 1 ? args[1]?.ints ?? [] : [])
                    var axes = [0, 1, 2, 3]
                    if args.count > 3, let a = args[3] { axes = a.ints.map { $0 < 0 ? $0 + 4 : $0 } }
                    guard rawPads.count == 2 * axes.count else { throw GlassboxError.invalidArgument("ConvAD: \(where_) has malformed pads") }
                    var begin = [0, 0, 0, 0]
                    for (i, a) in axes.enumerated() where (0..<4).contains(a) { begin[a] = rawPads[i] }
                    guard begin[0] == 0, begin[1] == 0, begin[2] >= 0, begin[3] >= 0 else {
                        throw GlassboxError.invalidArgument("ConvAD: \(where_) pads the batch or channels, or crops")
                    }
                    let (top, left) = (begin[2], begin[3])
                    var padded = [Float](repeating: 1, count: mask.shape[0] * y.shape[2] * y.shape[3])
                    for i in 0..<mask.shape[0] {
                        for yy in 0..<y.shape[2] {
                            for xx in 0..<y.shape[3] {
                                let sy = yy - top, sx = xx - left
                                if (0..<h).contains(sy) && (0..<w).contains(sx) {
                                    padded[(i * y.shape[2] + yy) * y.shape[3] + xx] = mask.scalars[(i * h + sy) * w + sx]
                                } else if modeName != "constant" {
                                    // Copies of border pixels: occluded where any border pixel is (conservative).
                                    padded[(i * y.shape[2] + yy) * y.shape[3] + xx] =
                                        mask.scalars[(i * h + min(max(sy, 0), h - 1)) * w + min(max(sx, 0), w - 1)] == 0 ? 0 : 1
                                }
                            }
                        }
                    }
                    if modeName == "reflect" { throw GlassboxError.invalidArgument("ConvAD: reflect padding at \(where_) is not supported") }
                    x.a = y
                    x.mask = Tensor(uncheckedShape: [mask.shape[0], 1, y.shape[2], y.shape[3]], scalars: padded)
                    if modeName == "constant" && strict { x.dirty = true }
                    s = x
                } else {
                    x.a = try run(); s = x
                }
            case "GlobalAveragePool", "ReduceMean":
                var x = states[node.inputs[0]]!
                if let mask = x.mask {
                    if node.op == "ReduceMean" {
                        let axes = (try node.ints("axes") ?? value(node.inputs.count > 1 ? node.inputs[1] : "")?.ints ?? [])
                            .map { $0 < 0 ? $0 + 4 : $0 }.sorted()
                        guard axes == [2, 3] else { throw GlassboxError.invalidArgument("ConvAD: \(where_) must average over H and W") }
                    }
                    x.deactivate()
                    var pooled = try op.apply([GraphValue(Variable(x.a))] + args.dropFirst(), context: context)[0].variable.value
                    let plane = mask.shape[2] * mask.shape[3], channels = x.a.shape[1]
                    for (i, kept) in SpatialMask.keptCounts(mask).enumerated() where kept < plane {
                        let factor: Float = kept == 0 ? 0 : Float(plane) / Float(kept)
                        for c in 0..<channels { pooled.scalars[i * channels + c] *= factor }
                    }
                    s = State(a: pooled, mask: nil, dirty: false)
                } else {
                    x.a = try run(); s = x
                }
            case "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Gemm", "MatMul", "Softmax", "LogSoftmax", "Gather", "Slice", "Cast":
                var x = states[node.inputs[0]] ?? State(a: Tensor(0), mask: nil, dirty: false)
                if x.mask != nil {
                    x.deactivate()
                    args[0] = GraphValue(Variable(x.a))
                }
                s = State(a: try run(), mask: nil, dirty: false)
            default:
                throw GlassboxError.invalidArgument("ConvAD has no rule for \(where_)")
            }
            states[node.outputs[0]] = s
        }
        guard let out = states[graph.description.outputs[0]] else {
            throw GlassboxError.invalidArgument("ConvAD: the graph's output does not depend on the image")
        }
        return out
    }

    /// The output mask of a window op: the op's begin/end pads become visible borders of the
    /// mask, then the window (kernel, strides, dilations) erodes or resizes it.
    static func windowMask(_ mask: Tensor, node: GraphNode, kernel: [Int], outputShape: [Int], mode: SpatialMask.Resize,
                           where location: String) throws -> Tensor {
        let h = mask.shape[2], w = mask.shape[3]
        guard kernel.count == 2 else { throw GlassboxError.invalidArgument("ConvAD: \(location) is not a 2-D window") }
        let strides = try node.ints("strides") ?? [1, 1]
        let dilations = try node.ints("dilations") ?? [1, 1]
        let (ho, wo) = (outputShape[2], outputShape[3])
        // The begin pads from the node (auto_pad resolved as the op does); the end is whatever
        // makes the output size (ceil mode included).
        let spatial = [h, w]
        var begin = [0, 0]
        switch try node.string("auto_pad", default: "NOTSET") {
        case "NOTSET": begin = Array((try node.ints("pads") ?? [0, 0, 0, 0]).prefix(2))
        case "VALID": begin = [0, 0]
        default:
            for i in 0..<2 {
                let out = (spatial[i] + strides[i] - 1) / strides[i]
                let total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - spatial[i])
                begin[i] = try node.string("auto_pad", default: "") == "SAME_UPPER" ? total / 2 : total - total / 2
            }
        }
        let paddedH = max(h + begin[0], (ho - 1) * strides[0] + (kernel[0] - 1) * dilations[0] + 1)
        let paddedW = max(w + begin[1], (wo - 1) * strides[1] + (kernel[1] - 1) * dilations[1] + 1)
        var padded = [Float](repeating: 1, count: mask.shape[0] * paddedH * paddedW)
        for i in 0..<mask.shape[0] {
            for y in 0..<h { for x in 0..<w { padded[(i * paddedH + y + begin[0]) * paddedW + x + begin[1]] = mask.scalars[(i * h + y) * w + x] } }
        }
        let window = try Window2D(kernel: (kernel[0], kernel[1]), stride: (strides[0], strides[1]), padding: (0, 0),
                                  dilation: (dilations[0], dilations[1]), op: "ConvAD \(location)")
        let resized = try SpatialMask.resize(Tensor(uncheckedShape: [mask.shape[0], 1, paddedH, paddedW], scalars: padded),
                                             window: window, mode: mode, op: "ConvAD \(location)")
        guard resized.shape[2] == ho, resized.shape[3] == wo else {
            throw GlassboxError.shapeMismatch("ConvAD: \(location): mask grid \(resized.shape) differs from the output \(outputShape)")
        }
        return resized
    }
}
