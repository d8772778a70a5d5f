import Foundation

/// Turns a `Layer` tree into the flat step list of an ``InferencePlan``.
///
/// Walks the tree as ``ForwardContext`` would (same dotted paths), and within each `Sequential`
/// fuses what the kernels can take in one pass:
/// - `Conv2d` [→ `BatchNorm2d`] [→ `ReLU`/`LeakyReLU`] [→ `MaxPool2d`]: batch norm (running
///   statistics) is folded into the weights and bias, the activation runs in the kernel's
///   epilogue, and the pool reads the convolved image from per-worker scratch;
/// - `Linear` [→ `BatchNorm1d`] [→ `ReLU`/`LeakyReLU`] the same way;
/// - `Dropout` is the identity anywhere.
/// Fusion never hides the output of an observed path: a group ends at the first layer whose
/// output a caller asked to observe. Layers without a kernel here run their own `predict`.
final class PlanBuilder {
    private(set) var values: [PlanValue] = []
    private(set) var steps: [PlanStep] = []
    let observed: Set<String>

    /// Thrown for models whose batch axis is not a sample axis (e.g. `Flatten(start_dim: 0)`).
    struct WholeBatch: Error {}

    init(observed: Set<String>) { self.observed = observed }

    func makeValue(_ shape: [Int], _ layout: ActivationLayout.Kind) -> PlanValue {
        let v = PlanValue(id: values.count, shape: shape, layout: layout)
        values.append(v)
        return v
    }

    /// Compiles `model` for samples of `sampleShape`; returns the input and output values.
    func build(model: any Layer, sampleShape: [Int]) throws -> (PlanValue, PlanValue) {
        let input = makeValue(sampleShape, .canonical)
        input.isInput = true
        var out = try canonical(try compile(model, path: "", input))
        if out.isInput || out.aliasOf != nil {
            out = copy(out, path: nil)
        }
        out.isOutput = true
        return (input, out)
    }

    // MARK: tree walk

    static func join(_ prefix: String, _ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }

    /// Compiles one layer (and its subtree) called at `path`.
    func compile(_ layer: any Layer, path: String, _ x: PlanValue) throws -> PlanValue {
        let mark = values.count
        var y: PlanValue
        switch layer {
        case let s as Sequential:
            y = try compileSequence(s.children.map { (PlanBuilder.join(path, $0.name), $0.layer) }, x)
        case let r as Residual:
            y = try compileResidual(r, path: path, x)
        case is Conv2d, is Linear:
            y = try compileFusedGroup([(path, layer)], at: 0, x).0
        default:
            y = try compileLeaf(layer, path: path, x)
        }
        // An observer may rewrite this output in place; if it is (a view of) a value that existed
        // before this layer ran — an identity layer's input — other consumers must not see that.
        if !path.isEmpty, observed.contains(path), y.storage.id < mark {
            y = copy(y, path: path)
        }
        if !path.isEmpty, !y.paths.contains(path) { y.paths.append(path) }
        return y
    }

    private func compileSequence(_ items: [(String, any Layer)], _ input: PlanValue) throws -> PlanValue {
        var x = input
        var i = 0
        while i < items.count {
            let (path, layer) = items[i]
            if layer is Conv2d || layer is Linear {
                let consumed: Int
                (x, consumed) = try compileFusedGroup(items, at: i, x)
                i += consumed
            } else {
                x = try compile(layer, path: path, x)
                i += 1
            }
        }
        return x
    }

    private func compileResidual(_ r: Residual, path: String, _ x: PlanValue) throws -> PlanValue {
        var body = try compile(r.body, path: PlanBuilder.join(path, "body"), x)
        var skip = try r.shortcut.map { try compile($0, path: PlanBuilder.join(path, "shortcut"), x) } ?? x
        if case .channelsLast = body.layout, skip.shape.count == 3 {
            skip = try channelsLast(skip)
        } else if case .channelsLast = skip.layout, body.shape.count == 3 {
            body = try channelsLast(body)
        } else {
            (body, skip) = (try canonical(body), try canonical(skip))
        }
        let out = makeValue(body.shape, body.layout)
        steps.append(AddStep(a: body, b: skip, output: out, relu: r.reluAfter, layerPaths: [path],
                             summary: "residual add\(r.reluAfter ? " + ReLU" : "") \(body.shape)"))
        return out
    }

    /// A `Conv2d` or `Linear` at `items[start]` and what follows it that can be fused.
    /// Returns the output and the number of items consumed.
    private func compileFusedGroup(_ items: [(String, any Layer)], at start: Int, _ x: PlanValue) throws -> (PlanValue, Int) {
        let (firstPath, first) = items[start]
        let isConv = first is Conv2d
        var norm: BatchNorm?
        var activation = PlanActivation.none
        var pool: MaxPool2d?
        var fused = [firstPath], labels = [firstPath]
        var stage = 0  // 0: after the layer, 1: after batch norm, 2: after activation, 3: after pool
        var j = start + 1
        while j < items.count, !observed.contains(labels.last!) {
            let (path, layer) = items[j]
            if layer is Dropout {
                labels.append(path)
                j += 1
                continue
            }
            if stage == 0, let bn = layer as? BatchNorm, bn.runningMean != nil,
               isConv ? bn is BatchNorm2d : bn is BatchNorm1d {
                norm = bn
                stage = 1
            } else if stage < 2, layer is ReLU {
                activation = .relu
                stage = 2
            } else if stage < 2, let leaky = layer as? LeakyReLU {
                activation = .leakyRelu(Float(leaky.negativeSlope))
                stage = 2
            } else if isConv, stage < 3, let mp = layer as? MaxPool2d {
                pool = mp
                stage = 3
            } else {
                break
            }
            fused.append(path)
            labels = [path]
            j += 1
        }
        let y = isConv
            ? try compileConv(first as! Conv2d, norm: norm, activation: activation, pool: pool, paths: fused, x)
            : try compileDense(first as! Linear, norm: norm, activation: activation, paths: fused, x)
        y.paths += labels.filter { !$0.isEmpty }
        return (y, j - start)
    }

    // MARK: kernels

    /// Batch norm in inference as `x·scale + shift` per channel (the op's formula).
    static func affine(_ bn: BatchNorm) -> (scale: [Float], shift: [Float]) {
        let mean = bn.runningMean!.value.scalars, variance = bn.runningVar!.value.scalars
        let g = bn.weight?.value.scalars ?? [Float](repeating: 1, count: bn.numFeatures)
        let b = bn.bias?.value.scalars ?? [Float](repeating: 0, count: bn.numFeatures)
        let scale = (0..<bn.numFeatures).map { g[$0] * (1 / (variance[$0] + bn.eps).squareRoot()) }
        let shift = (0..<bn.numFeatures).map { b[$0] - mean[$0] * scale[$0] }
        return (scale, shift)
    }

    /// Weight rows scaled and bias shifted by a folded batch norm.
    private func fold(_ weight: [Float], rows: Int, bias: [Float]?, _ norm: BatchNorm?) -> ([Float], [Float]?) {
        guard let norm else { return (weight, bias) }
        let (scale, shift) = PlanBuilder.affine(norm)
        let k = weight.count / rows
        var w = weight
        for o in 0..<rows {
            for i in 0..<k { w[o * k + i] *= scale[o] }
        }
        let b = (0..<rows).map { (bias?[$0] ?? 0) * scale[$0] + shift[$0] }
        return (w, b)
    }

    private func compileConv(_ conv: Conv2d, norm: BatchNorm?, activation: PlanActivation, pool: MaxPool2d?,
                             paths: [String], _ value: PlanValue) throws -> PlanValue {
        let x = try channelsLast(value)
        let window = try Window2D(kernel: conv.kernelSize, stride: conv.stride, padding: conv.padding,
                                  dilation: conv.dilation, op: "Conv2d")
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let (ho, wo) = try window.outputSize(height: h, width: w, inputShape: [1] + x.shape, op: "Conv2d")
        x.padding = ActivationLayout.Padding(height: max(x.padding.height, window.ph), width: max(x.padding.width, window.pw))
        // OIHW [O, Cg, kh, kw] → rows of (tap, channel), tap-major.
        let o = conv.outChannels, cg = c / conv.groups, taps = window.kh * window.kw
        let source = conv.weight.value.scalars
        var matrix = [Float](repeating: 0, count: o * taps * cg)
        for oc in 0..<o {
            for ch in 0..<cg {
                for t in 0..<taps { matrix[oc * taps * cg + t * cg + ch] = source[(oc * cg + ch) * taps + t] }
            }
        }
        let (weights, bias) = fold(matrix, rows: o, bias: conv.bias?.value.scalars, norm)
        let kernel = PackedKernel(matrix: weights, bias: bias, taps: taps, cg: cg, og: o / conv.groups, groups: conv.groups)
        var poolWindow: Window2D?
        var (oh, ow) = (ho, wo)
        if let pool {
            let pw = try Window2D(kernel: pool.kernelSize, stride: pool.stride, padding: pool.padding,
                                  dilation: pool.dilation, op: "MaxPool2d")
            (oh, ow) = try pw.outputSize(height: ho, width: wo, inputShape: [1, o, ho, wo], op: "MaxPool2d")
            poolWindow = pw
        }
        let y = makeValue([o, oh, ow], .channelsLast)
        var summary = "conv \(window.kh)×\(window.kw) \(c)→\(o)"
        if window.sh != 1 || window.sw != 1 { summary += " stride \(window.sh)×\(window.sw)" }
        if window.dh != 1 || window.dw != 1 { summary += " dilation \(window.dh)×\(window.dw)" }
        if conv.groups != 1 { summary += " groups \(conv.groups)" }
        if norm != nil { summary += " + batch norm (folded)" }
        summary += activation.label
        if let p = poolWindow { summary += " + max pool \(p.kh)×\(p.kw)" }
        steps.append(ConvStep(input: x, output: y, kernel: kernel, window: window, activation: activation,
                              pool: poolWindow, convSize: (ho, wo), layerPaths: paths, summary: summary + " → \(y.shape)"))
        return y
    }

    private func compileDense(_ linear: Linear, norm: BatchNorm?, activation: PlanActivation, paths: [String],
                              _ value: PlanValue) throws -> PlanValue {
        let x = value.shape.count == 1 ? value : try canonical(value)
        guard x.shape == [linear.inFeatures] else {
            throw GlassboxError.shapeMismatch(
                "Linear(\(linear.inFeatures)→\(linear.outFeatures)) at '\(paths[0])' expects samples [\(linear.inFeatures)], got \(x.shape)")
        }
        var matrix = linear.weight.value.scalars
        if case .channelsLastFlat(let c, let h, let w) = x.layout {
            // Input feature (y·w + x)·c + ch holds PyTorch's feature ch·h·w + y·w + x.
            let k = linear.inFeatures, plane = h * w
            let source = matrix
            for o in 0..<linear.outFeatures {
                for p in 0..<plane {
                    for ch in 0..<c { matrix[o * k + p * c + ch] = source[o * k + ch * plane + p] }
                }
            }
        }
        let (weights, bias) = fold(matrix, rows: linear.outFeatures, bias: linear.bias?.value.scalars, norm)
        let kernel = PackedKernel(matrix: weights, bias: bias, taps: 1, cg: linear.inFeatures, og: linear.outFeatures,
                                  groups: 1)
        let y = makeValue([linear.outFeatures], .canonical)
        let summary = "dense \(linear.inFeatures)→\(linear.outFeatures)\(norm == nil ? "" : " + batch norm (folded)")\(activation.label)"
        steps.append(DenseStep(input: x, output: y, kernel: kernel, matrix: weights, activation: activation, layerPaths: paths,
                               summary: summary))
        return y
    }

    // MARK: other layers

    private func compileLeaf(_ layer: any Layer, path: String, _ x: PlanValue) throws -> PlanValue {
        let paths = [path]
        switch layer {
        case is Dropout:
            return x
        case let mp as MaxPool2d:
            let window = try Window2D(kernel: mp.kernelSize, stride: mp.stride, padding: mp.padding,
                                      dilation: mp.dilation, op: "MaxPool2d")
            return try pool(x, window, countIncludePad: nil, paths: paths, name: "max pool")
        case let ap as AvgPool2d:
            let window = try Window2D(kernel: ap.kernelSize, stride: ap.stride, padding: ap.padding,
                                      dilation: (1, 1), op: "AvgPool2d")
            return try pool(x, window, countIncludePad: ap.countIncludePad, paths: paths, name: "average pool")
        case is GlobalAvgPool where x.shape.count == 3:
            let xi = try channelsLast(x)
            let y = makeValue([x.shape[0]], .canonical)
            steps.append(GlobalAvgPoolStep(inputs: [xi], output: y, layerPaths: paths, summary: "global average pool"))
            return y
        case let bn as BatchNorm where bn.runningMean != nil && (bn is BatchNorm2d ? x.shape.count == 3 : x.shape.count <= 2):
            let (scale, shift) = PlanBuilder.affine(bn)
            let xi = bn is BatchNorm2d ? try channelsLast(x) : try canonical(x)
            let y = makeValue(xi.shape, xi.layout)
            steps.append(ChannelAffineStep(input: xi, output: y, scale: scale, shift: shift, layerPaths: paths,
                                           summary: "\(bn.spec.type) (running statistics)"))
            return y
        case let sa as ScoresActivation where x.shape == [sa.numFeatures]:
            // y = w ⊙ x with the weights of the moment the plan is built: a per-feature scale.
            let w = try sa.weights
            let xi = try canonical(x)
            let y = makeValue(xi.shape, .canonical)
            steps.append(ChannelAffineStep(input: xi, output: y, scale: w, shift: [Float](repeating: 0, count: w.count),
                                           layerPaths: paths, summary: "feature scores (w ⊙ x)"))
            return y
        case is BatchNorm:
            // Batch statistics (no running ones): the result depends on the whole batch.
            return try fallback(layer, path: path, x, mixesSamples: true)
        case is ReLU:
            return activation(x, .relu, paths, "ReLU")
        case let l as LeakyReLU:
            return activation(x, .leakyRelu(Float(l.negativeSlope)), paths, "LeakyReLU")
        case is Sigmoid:
            return activation(x, .sigmoid, paths, "sigmoid")
        case is Tanh:
            return activation(x, .tanh, paths, "tanh")
        case let g as GELU:
            return activation(x, .gelu(tanhForm: g.approximate == .tanh), paths, "GELU")
        case let s as Softmax:
            let rank = x.shape.count + 1
            let axis = s.dim < 0 ? s.dim + rank : s.dim
            if axis == rank - 1, axis > 0 {
                let xi = try canonical(x)
                let y = makeValue(xi.shape, .canonical)
                steps.append(SoftmaxStep(input: xi, output: y, extent: xi.shape.last!, layerPaths: paths,
                                         summary: "softmax over the last axis"))
                return y
            }
            return try fallback(layer, path: path, x, mixesSamples: axis == 0)
        case let ln as LayerNorm where x.shape.count >= ln.normalizedShape.count
            && Array(x.shape.suffix(ln.normalizedShape.count)) == ln.normalizedShape:
            let xi = try canonical(x)
            let d = ln.normalizedShape.reduce(1, *)
            let y = makeValue(xi.shape, .canonical)
            steps.append(LayerNormStep(input: xi, output: y, d: d, eps: ln.eps,
                                       gamma: ln.weight?.value.scalars ?? [Float](repeating: 1, count: d),
                                       beta: ln.bias?.value.scalars ?? [Float](repeating: 0, count: d),
                                       layerPaths: paths, summary: "layer norm over \(ln.normalizedShape)"))
            return y
        case let f as Flatten:
            return try flatten(f, path: path, x)
        default:
            return try fallback(layer, path: path, x, mixesSamples: false)
        }
    }

    private func activation(_ x: PlanValue, _ f: ActivationStep.Function, _ paths: [String], _ name: String) -> PlanValue {
        let y = makeValue(x.shape, x.layout)
        steps.append(ActivationStep(input: x, output: y, function: f, layerPaths: paths, summary: name))
        return y
    }

    private func pool(_ x: PlanValue, _ window: Window2D, countIncludePad: Bool?, paths: [String], name: String) throws -> PlanValue {
        let xi = try channelsLast(x)
        let (ho, wo) = try window.outputSize(height: xi.shape[1], width: xi.shape[2], inputShape: [1] + xi.shape, op: name)
        let y = makeValue([xi.shape[0], ho, wo], .channelsLast)
        steps.append(PoolStep(input: xi, output: y, window: window, countIncludePad: countIncludePad, layerPaths: paths,
                              summary: "\(name) \(window.kh)×\(window.kw) → \(y.shape)"))
        return y
    }

    private func flatten(_ f: Flatten, path: String, _ x: PlanValue) throws -> PlanValue {
        let rank = x.shape.count + 1
        let s = f.startDim < 0 ? f.startDim + rank : f.startDim, e = f.endDim < 0 ? f.endDim + rank : f.endDim
        guard s >= 1 else { throw WholeBatch() }
        guard s <= e, e < rank else {
            throw GlassboxError.invalidArgument("Flatten at '\(path)': start_dim \(f.startDim) and end_dim \(f.endDim) do not fit samples \(x.shape)")
        }
        let shape = Array(x.shape[..<(s - 1)]) + [x.shape[(s - 1)...(e - 1)].reduce(1, *)] + Array(x.shape[e...])
        if shape == x.shape { return x }
        if case .channelsLast = x.layout, s == 1, e == 3 {
            let y = makeValue(shape, .channelsLastFlat(c: x.shape[0], h: x.shape[1], w: x.shape[2]))
            steps.append(FlattenChannelsLastStep(inputs: [x], output: y, layerPaths: [path],
                                                 summary: "flatten (channels-last order; the next dense layer's columns are permuted)"))
            return y
        }
        let base = try canonical(x)
        let y = makeValue(shape, .canonical)
        y.aliasOf = base
        return y
    }

    private func fallback(_ layer: any Layer, path: String, _ x: PlanValue, mixesSamples: Bool) throws -> PlanValue {
        let xi = try canonical(x)
        // The per-sample output shape, from two samples (see InferencePlan.init).
        let probe = try layer.predict(Tensor.zeros([2] + xi.shape))
        guard probe.shape.first == 2 else { throw WholeBatch() }
        let y = makeValue(Array(probe.shape.dropFirst()), .canonical)
        steps.append(FallbackStep(input: xi, output: y, layer: layer, mixesSamples: mixesSamples, layerPaths: [path],
                                  summary: "\(layer.spec.type) (the layer's own predict)"))
        return y
    }

    // MARK: layouts

    /// `x` channels-last (an image `[C, H, W]`), converting once per value.
    func channelsLast(_ x: PlanValue) throws -> PlanValue {
        if case .channelsLast = x.layout { return x }
        if let twin = x.channelsLastTwin { return twin }
        guard x.shape.count == 3 else {
            throw GlassboxError.shapeMismatch("InferencePlan: expected image samples [C, H, W], got \(x.shape)")
        }
        let base = try canonical(x)
        let y = makeValue(x.shape, .channelsLast)
        steps.append(ToChannelsLastStep(inputs: [base], output: y, layerPaths: [], summary: "to channels-last"))
        x.channelsLastTwin = y
        return y
    }

    /// `x` in canonical order, converting once per value.
    func canonical(_ x: PlanValue) throws -> PlanValue {
        if x.layout == .canonical { return x }
        if let twin = x.canonicalTwin { return twin }
        let y = makeValue(x.shape, .canonical)
        steps.append(ToCanonicalStep(inputs: [x], output: y, layerPaths: [], summary: "to canonical (NCHW) order"))
        x.canonicalTwin = y
        return y
    }

    /// A fresh copy of `x` (same layout family).
    func copy(_ x: PlanValue, path: String?) -> PlanValue {
        let y = makeValue(x.shape, x.layout)
        steps.append(CopyStep(inputs: [x], output: y, layerPaths: path.map { [$0] } ?? [], summary: "copy"))
        return y
    }
}
