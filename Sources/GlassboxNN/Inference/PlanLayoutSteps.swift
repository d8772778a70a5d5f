import CKernels
import Foundation

/// Steps that move values between layouts or pool them: cheap passes around the convolutions.

/// Canonical `[C, H, W]` → channels-last with the border the consumers need.
final class ToChannelsLastStep: PlanStep {
    override func run(_ chunk: Chunk) throws {
        let go = output.image, src = chunk.pointer(input), dst = chunk.pointer(output)
        for n in 0..<chunk.count {
            gb_nchw_to_nhwc(src + n * input.stride, go.c, go.h, go.w, dst + n * go.imageStride + go.interior,
                            go.rowStride, go.c)
        }
    }
}

/// Channels-last (or a flattened channels-last image) → canonical.
final class ToCanonicalStep: PlanStep {
    override func run(_ chunk: Chunk) throws {
        let src = chunk.pointer(input), dst = chunk.pointer(output)
        for n in 0..<chunk.count {
            switch input.layout {
            case .channelsLast:
                let g = input.image
                gb_nhwc_to_nchw(src + n * g.imageStride + g.interior, g.c, g.h, g.w, g.rowStride, g.c,
                                dst + n * output.stride)
            case .channelsLastFlat(let c, let h, let w):
                gb_nhwc_to_nchw(src + n * input.stride, c, h, w, w * c, c, dst + n * output.stride)
            case .canonical:
                (dst + n * output.stride).update(from: src + n * input.stride, count: output.count)
            }
        }
    }
}

/// `Flatten` of a channels-last image: its interior rows, back to back (`H × W × C` order).
final class FlattenChannelsLastStep: PlanStep {
    override func run(_ chunk: Chunk) throws {
        let g = input.image, src = chunk.pointer(input), dst = chunk.pointer(output)
        let run = g.w * g.c
        for n in 0..<chunk.count {
            let x = src + n * g.imageStride + g.interior, y = dst + n * output.stride
            for r in 0..<g.h { (y + r * run).update(from: x + r * g.rowStride, count: run) }
        }
    }
}

/// Max or average pooling of a channels-last image.
final class PoolStep: PlanStep {
    let window: Window2D
    /// nil for max pooling; for average pooling whether padding counts in the divisor.
    let countIncludePad: Bool?

    init(input: PlanValue, output: PlanValue, window: Window2D, countIncludePad: Bool?, layerPaths: [String],
         summary: String) {
        (self.window, self.countIncludePad) = (window, countIncludePad)
        super.init(inputs: [input], output: output, layerPaths: layerPaths, summary: summary)
    }

    override var flopsPerSample: Int { output.count * window.kh * window.kw }

    override func run(_ chunk: Chunk) throws {
        let gi = input.image, go = output.image, src = chunk.pointer(input), dst = chunk.pointer(output)
        let k = window
        for n in 0..<chunk.count {
            let x = src + n * gi.imageStride + gi.interior, y = dst + n * go.imageStride + go.interior
            if let countIncludePad {
                gb_avgpool_nhwc(x, gi.h, gi.w, gi.c, gi.rowStride, gi.c, y, go.h, go.w, go.rowStride, go.c,
                                k.kh, k.kw, k.sh, k.sw, k.ph, k.pw, countIncludePad ? 1 : 0)
            } else {
                gb_maxpool_nhwc(x, gi.h, gi.w, gi.c, gi.rowStride, gi.c, y, go.h, go.w, go.rowStride, go.c,
                                k.kh, k.kw, k.sh, k.sw, k.ph, k.pw, k.dh, k.dw)
            }
        }
    }
}

/// Global average pooling: channels-last `[C, H, W]` → canonical `[C]`.
final class GlobalAvgPoolStep: PlanStep {
    override func run(_ chunk: Chunk) throws {
        let g = input.image, src = chunk.pointer(input), dst = chunk.pointer(output)
        for n in 0..<chunk.count {
            gb_channel_mean_nhwc(src + n * g.imageStride + g.interior, g.h, g.w, g.c, g.rowStride, g.c,
                                 dst + n * output.stride)
        }
    }
}

/// Batch norm in inference, where it could not be folded into a preceding convolution or dense
/// layer: `y = x·scale[c] + shift[c]` per channel (axis 1 of the full tensor).
final class ChannelAffineStep: PlanStep {
    let scale: [Float], shift: [Float]

    init(input: PlanValue, output: PlanValue, scale: [Float], shift: [Float], layerPaths: [String], summary: String) {
        (self.scale, self.shift) = (scale, shift)
        super.init(inputs: [input], output: output, layerPaths: layerPaths, summary: summary)
    }

    override func run(_ chunk: Chunk) throws {
        let src = chunk.pointer(input), dst = chunk.pointer(output)
        scale.withUnsafeBufferPointer { ps in
            shift.withUnsafeBufferPointer { pb in
                let s = ps.baseAddress!, b = pb.baseAddress!
                switch input.layout {
                case .channelsLast:
                    let gi = input.image, go = output.image
                    for n in 0..<chunk.count {
                        gb_channel_affine_nhwc(src + n * gi.imageStride + gi.interior, gi.h, gi.w, gi.c, gi.rowStride,
                                               gi.c, s, b, dst + n * go.imageStride + go.interior, go.rowStride, go.c)
                    }
                default:
                    // Canonical [C] or [C, L]: channel c covers `inner` consecutive values.
                    let channels = input.shape[0], inner = input.count / channels
                    for n in 0..<chunk.count {
                        let x = src + n * input.stride, y = dst + n * output.stride
                        if inner == 1 {
                            gb_channel_affine_nhwc(x, 1, 1, channels, channels, channels, s, b, y, channels, channels)
                        } else {
                            for c in 0..<channels {
                                let a = s[c], sh = b[c], xc = x + c * inner, yc = y + c * inner
                                Runs.apply(inner, { Runs.store(Runs.load(xc, $0) * a + sh, yc, $0) },
                                           { yc[$0] = xc[$0] * a + sh })
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Calls `body(src, dst, n)` over the matching contiguous runs of two values of one logical
/// shape and layout family: whole chunks when both are dense, else interior image rows.
@inline(__always)
func forEachRun(_ a: PlanValue, _ b: PlanValue, _ chunk: Chunk,
                _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) {
    let pa = chunk.pointer(a), pb = chunk.pointer(b)
    if case .channelsLast = a.layout, a.padding != .zero || b.padding != .zero {
        let ga = a.image, gb = b.image, run = ga.w * ga.c
        for n in 0..<chunk.count {
            let x = pa + n * ga.imageStride + ga.interior, y = pb + n * gb.imageStride + gb.interior
            for r in 0..<ga.h { body(x + r * ga.rowStride, y + r * gb.rowStride, run) }
        }
    } else {
        body(pa, pb, chunk.count * a.count)
    }
}

/// Three-value form of ``forEachRun(_:_:_:_:)``.
@inline(__always)
func forEachRun(_ a: PlanValue, _ b: PlanValue, _ c: PlanValue, _ chunk: Chunk,
                _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) {
    let pa = chunk.pointer(a), pb = chunk.pointer(b), pc = chunk.pointer(c)
    if case .channelsLast = a.layout, a.padding != .zero || b.padding != .zero || c.padding != .zero {
        let ga = a.image, gb = b.image, gc = c.image, run = ga.w * ga.c
        for n in 0..<chunk.count {
            let x = pa + n * ga.imageStride + ga.interior, y = pb + n * gb.imageStride + gb.interior
            let z = pc + n * gc.imageStride + gc.interior
            for r in 0..<ga.h { body(x + r * ga.rowStride, y + r * gb.rowStride, z + r * gc.rowStride, run) }
        }
    } else {
        body(pa, pb, pc, chunk.count * a.count)
    }
}

/// A pointwise activation, in any layout (only interiors are touched, so borders stay zero).
final class ActivationStep: PlanStep {
    enum Function {
        case relu, leakyRelu(Float), sigmoid, tanh, gelu(tanhForm: Bool)
    }
    let function: Function

    init(input: PlanValue, output: PlanValue, function: Function, layerPaths: [String], summary: String) {
        self.function = function
        super.init(inputs: [input], output: output, layerPaths: layerPaths, summary: summary)
    }

    override func run(_ chunk: Chunk) throws {
        forEachRun(input, output, chunk) { x, y, n in
            switch function {
            case .relu:
                Runs.apply(n, { Runs.store(Runs.load(x, $0).replacing(with: 0, where: .!(Runs.load(x, $0) .> 0)), y, $0) },
                           { y[$0] = x[$0] > 0 ? x[$0] : 0 })
            case .leakyRelu(let slope):
                Runs.apply(n, { i in
                    let v = Runs.load(x, i)
                    Runs.store((v * slope).replacing(with: v, where: v .> 0), y, i)
                }, { y[$0] = x[$0] > 0 ? x[$0] : slope * x[$0] })
            case .sigmoid: gb_sigmoid(x, y, n)
            case .tanh: gb_tanh(x, y, n)
            case .gelu(let tanhForm): gb_gelu(x, y, n, tanhForm ? 1 : 0)
            }
        }
    }
}

/// A residual sum `y = a + b`, with ReLU after it when the block has one.
final class AddStep: PlanStep {
    let relu: Bool

    init(a: PlanValue, b: PlanValue, output: PlanValue, relu: Bool, layerPaths: [String], summary: String) {
        self.relu = relu
        super.init(inputs: [a, b], output: output, layerPaths: layerPaths, summary: summary)
    }

    override func run(_ chunk: Chunk) throws {
        let relu = relu
        forEachRun(inputs[0], inputs[1], output, chunk) { a, b, y, n in
            if relu {
                Runs.apply(n, { i in
                    let s = Runs.load(a, i) + Runs.load(b, i)
                    Runs.store(s.replacing(with: 0, where: .!(s .> 0)), y, i)
                }, { i in
                    let s = a[i] + b[i]
                    y[i] = s > 0 ? s : 0
                })
            } else {
                Runs.apply(n, { Runs.store(Runs.load(a, $0) + Runs.load(b, $0), y, $0) }, { y[$0] = a[$0] + b[$0] })
            }
        }
    }
}

/// A copy, where a value must be materialised (an observed identity layer, or the plan's output
/// when it would otherwise be its input or a view).
final class CopyStep: PlanStep {
    override func run(_ chunk: Chunk) throws {
        forEachRun(input, output, chunk) { x, y, n in y.update(from: x, count: n) }
    }
}

/// Layer normalisation over the trailing `d` values of each canonical sample, in the op's
/// arithmetic (``layerNorm(_:normalizedShape:gamma:beta:eps:)``).
final class LayerNormStep: PlanStep {
    let d: Int, eps: Float
    let gamma: [Float], beta: [Float]

    init(input: PlanValue, output: PlanValue, d: Int, eps: Float, gamma: [Float], beta: [Float], layerPaths: [String],
         summary: String) {
        (self.d, self.eps, self.gamma, self.beta) = (d, eps, gamma, beta)
        super.init(inputs: [input], output: output, layerPaths: layerPaths, summary: summary)
    }

    override var flopsPerSample: Int { 5 * output.count }

    override func run(_ chunk: Chunk) throws {
        let src = chunk.pointer(input), dst = chunk.pointer(output), d = d, eps = eps
        gamma.withUnsafeBufferPointer { pg in
            beta.withUnsafeBufferPointer { pb in
                let gm = pg.baseAddress!, bt = pb.baseAddress!
                for r in 0..<chunk.count * input.count / d {
                    let x = src + r * d, y = dst + r * d
                    let mu = Runs.sum(x, d) / Float(d)
                    let inv = 1 / (Runs.squaredDeviations(x, d, mean: mu) / Float(d) + eps).squareRoot()
                    Runs.apply(d, { i in
                        Runs.store((Runs.load(x, i) - mu) * inv * Runs.load(gm, i) + Runs.load(bt, i), y, i)
                    }, { i in y[i] = (x[i] - mu) * inv * gm[i] + bt[i] })
                }
            }
        }
    }
}

/// Softmax over the last axis of each canonical sample (rows of `extent` values), as the op.
final class SoftmaxStep: PlanStep {
    let extent: Int

    init(input: PlanValue, output: PlanValue, extent: Int, layerPaths: [String], summary: String) {
        self.extent = extent
        super.init(inputs: [input], output: output, layerPaths: layerPaths, summary: summary)
    }

    override var flopsPerSample: Int { 10 * output.count }

    override func run(_ chunk: Chunk) throws {
        let src = chunk.pointer(input), dst = chunk.pointer(output), n = extent
        for r in 0..<chunk.count * input.count / n {
            let x = src + r * n, y = dst + r * n
            let m = gb_max(x, n)
            let scale = 1 / gb_exp_shifted_sum(x, m, y, n)
            for j in 0..<n { y[j] *= scale }
        }
    }
}

/// A layer the plan has no kernel for: its own `predict` on the chunk (canonical in and out).
/// Allocates tensors on every call, as `predict` does.
final class FallbackStep: PlanStep {
    let layer: any Layer
    let mixes: Bool

    init(input: PlanValue, output: PlanValue, layer: any Layer, mixesSamples: Bool, layerPaths: [String], summary: String) {
        self.layer = layer
        self.mixes = mixesSamples
        super.init(inputs: [input], output: output, layerPaths: layerPaths, summary: summary)
    }

    override var flopsPerSample: Int { 1_000_000 }
    override var mixesSamples: Bool { mixes }

    override func run(_ chunk: Chunk) throws {
        let x = chunk.pointer(input)
        let scalars = Array(UnsafeBufferPointer(start: x, count: chunk.count * input.count))
        let y = try layer.predict(Tensor(uncheckedShape: [chunk.count] + input.shape, scalars: scalars))
        guard y.shape == [chunk.count] + output.shape else {
            throw GlassboxError.shapeMismatch(
                "InferencePlan: layer '\(layerPaths.first ?? "")' (\(layer.spec.type)) returned \(y.shape) for input "
                + "\([chunk.count] + input.shape); expected \([chunk.count] + output.shape)")
        }
        y.scalars.withUnsafeBufferPointer { chunk.pointer(output).update(from: $0.baseAddress!, count: $0.count) }
    }
}
