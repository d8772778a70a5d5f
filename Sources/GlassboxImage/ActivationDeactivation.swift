import Foundation
import GlassboxNN

/// Activation-Deactivation for CNNs (ConvAD, Chanchal, Kelly & Chockler 2025): a mask-aware
/// forward pass that switches off the units corresponding to occluded pixels instead of writing
/// a masking value into them. Works on any trained Glassbox CNN built from the supported layers,
/// without retraining; the layer rules are this project's reconstruction (see
/// `docs/methods/activation-deactivation.md`).
///
/// Each image carries its own keep-mask `[n, 1, H, W]` (1 = visible). ``logits(images:masks:)``
/// runs the pass compiled onto an inference plan (``ActivationDeactivationPlan``);
/// ``referenceLogits(images:masks:)`` is the reference implementation it is tested against, which walks the layer
/// tree (``Sequential`` and ``Residual`` containers, leaves by type), calling every leaf's own
/// inference forward and carrying the mask alongside the activation; "deactivate" sets a unit
/// to 0, the off state of a post-ReLU unit.
///
/// | layer | ``Variant/strict`` | ``Variant/checkpoint`` |
/// |---|---|---|
/// | input | zeroed where occluded | untouched |
/// | Conv2d (k, s, p, d) | mask eroded: `m' = 1 − maxpool(1 − m; k, s, p, d)`, padding kept | mask resized to the output grid (majority of the window) |
/// | BatchNorm2d, Dropout | mask unchanged; activation "dirty" since BN(0) ≠ 0 | unchanged |
/// | ReLU and other activations | `a ⊙ m` after the nonlinearity | unchanged |
/// | MaxPool2d, AvgPool2d | erosion, then `a ⊙ m'` | resize, then `a ⊙ m'` (a checkpoint) |
/// | Residual | AND of branch masks, ReLU, `⊙ m` | same (a checkpoint) |
/// | GlobalAvgPool | masked mean `Σ(a⊙m)/Σm`, 0 when `Σm = 0` | same |
/// | Flatten | `a ⊙ m` first, then plain | same |
/// | Linear | plain (zeros propagate) | same |
///
/// In the strict variant a dirty activation (conv or BN output) is also deactivated before any
/// op that mixes positions. Every kept unit's receptive field then lies inside the visible
/// region, so the logits do not depend on occluded pixel values at all; deep nets can be wiped
/// out by erosion (all units off ⇒ the logits are the head's response to zeros). The checkpoint
/// variant leaks through receptive fields straddling the mask border within a stage.
///
/// With an all-ones mask every deactivation is the identity and the masked mean equals the plain
/// mean, so the walk's output is bit-identical to `model.predict` and the compiled pass's to the
/// model's plain inference plan.
/// Cost: compiled, the plan's forward pass times 1.1–1.25 (benchmark CNN, batch 64); the walk,
/// the training-path forward plus a few passes over each activation and `O(n·H·W·k²)` mask work.
public struct ActivationDeactivation {
    /// Which layer rules apply (see the table above): ``strict`` keeps the logits independent
    /// of occluded pixels; ``checkpoint`` deactivates only at checkpoints (pools, residual joins,
    /// the pooled mean and flatten) and leaks within a stage.
    public enum Variant: String, Sendable, Hashable, CaseIterable, Codable {
        case strict, checkpoint
    }

    /// The classifier evaluated, unchanged.
    public let model: any Layer
    /// The rule set used.
    public let variant: Variant
    private let cache = CompiledCache()

    /// Checks every layer in `model` is supported; throws naming the first unsupported one.
    public init(model: any Layer, variant: Variant = .strict) throws {
        self.model = model
        self.variant = variant
        try Self.check(model, path: "model")
    }

    /// Logits `[n, classes]` of `images` `[n, C, H, W]` with per-image keep-masks `masks` `[n, 1, H, W]`,
    /// through the model compiled for inference (``ActivationDeactivationPlan``, built on first
    /// use for each image shape and kept). Equal to ``referenceLogits(images:masks:)`` up to the
    /// plan's float rounding; a model the plan cannot express runs through the reference walk.
    public func logits(images: Tensor, masks: Tensor) throws -> Tensor {
        try Self.checkShapes(images, masks)
        guard let compiled = try compiled(forImage: Array(images.shape.dropFirst())) else {
            return try referenceLogits(images: images, masks: masks)
        }
        return try compiled.logits(images: images, masks: masks)
    }

    /// The compiled form for images `[C, H, W]` (cached), or nil when the model's deactivations
    /// do not map onto a plan (see ``ActivationDeactivationPlan/Unsupported``).
    public func compiled(forImage shape: [Int]) throws -> ActivationDeactivationPlan? {
        try cache.plan(shape) { try ActivationDeactivationPlan(model: model, variant: variant, sampleShape: shape) }
    }

    private static func checkShapes(_ images: Tensor, _ masks: Tensor) throws {
        guard images.rank == 4, masks.rank == 4, masks.shape[0] == images.shape[0], masks.shape[1] == 1,
              masks.shape[2] == images.shape[2], masks.shape[3] == images.shape[3] else {
            throw GlassboxError.shapeMismatch(
                "ConvAD needs images [n, C, H, W] and masks [n, 1, H, W], got \(images.shape) and \(masks.shape)")
        }
    }

    /// The reference implementation: the layer walk documented above, running every leaf's own
    /// inference forward on tensors. The oracle of the compiled form's tests.
    public func referenceLogits(images: Tensor, masks: Tensor) throws -> Tensor {
        try Self.checkShapes(images, masks)
        let context = ForwardContext(training: false)
        var state = State(a: images, mask: masks, dirty: variant == .strict)
        state = try run(model, state, path: "model", context: context)
        guard state.a.rank == 2 else {
            throw GlassboxError.shapeMismatch("ConvAD: the model must end in class logits [n, classes], got \(state.a.shape)")
        }
        return state.a
    }

    struct State {
        var a: Tensor
        /// nil once the activation is no longer spatial (after Flatten or GlobalAvgPool).
        var mask: Tensor?
        /// Occluded units may hold non-zero values (strict variant bookkeeping).
        var dirty: Bool

        mutating func deactivate() {
            if let mask { SpatialMask.apply(mask, to: &a) }
            dirty = false
        }
    }

    private static func check(_ layer: any Layer, path: String) throws {
        switch layer {
        case let seq as Sequential:
            for child in seq.children { try check(child.layer, path: path + "." + child.name) }
        case let res as Residual:
            for child in res.children { try check(child.layer, path: path + "." + child.name) }
        case let graph as GraphModel:
            try checkGraph(graph, path: path)
        case is Conv2d, is MaxPool2d, is AvgPool2d, is BatchNorm2d, is ReLU, is LeakyReLU, is Tanh, is GELU,
             is Sigmoid, is Dropout, is GlobalAvgPool, is Flatten, is Linear:
            return
        default:
            throw GlassboxError.invalidArgument(
                "ConvAD does not support layer '\(path)' of type \(layer.spec.type); supported: Sequential, Residual, "
                + "Conv2d, MaxPool2d, AvgPool2d, BatchNorm2d, ReLU, LeakyReLU, Tanh, GELU, Sigmoid, Dropout, "
                + "GlobalAvgPool, Flatten, Linear")
        }
    }

    private var resizeMode: SpatialMask.Resize { variant == .strict ? .erode : .majority }

    private func plain(_ layer: any Layer, _ a: Tensor, _ context: ForwardContext) throws -> Tensor {
        try layer.forward(Variable(a), context: context).value
    }

    private func run(_ layer: any Layer, _ input: State, path: String, context: ForwardContext) throws -> State {
        var s = input
        let strict = variant == .strict
        switch layer {
        case let graph as GraphModel:
            s = try runGraph(graph, s, path: path, context: context)
        case let seq as Sequential:
            for child in seq.children {
                s = try run(child.layer, s, path: path + "." + child.name, context: context)
            }
        case let res as Residual:
            if strict && s.dirty { s.deactivate() }
            let main = try run(res.body, s, path: path + ".body", context: context)
            let skip = try res.shortcut.map { try run($0, s, path: path + ".shortcut", context: context) } ?? s
            guard let mb = main.mask, let ms = skip.mask, mb.shape == ms.shape else {
                throw GlassboxError.shapeMismatch("ConvAD: residual '\(path)' branches lost or disagree on their spatial grid")
            }
            let sum = try add(Variable(main.a), Variable(skip.a))
            s = State(a: (res.reluAfter ? relu(sum) : sum).value, mask: SpatialMask.and(mb, ms), dirty: true)
            s.deactivate()
        case let conv as Conv2d:
            let mask = try spatialMask(s, path: path)
            if strict && s.dirty { s.deactivate() }
            s.a = try plain(conv, s.a, context)
            let window = try Window2D(kernel: conv.kernelSize, stride: conv.stride, padding: conv.padding,
                                      dilation: conv.dilation, op: "Conv2d")
            s.mask = try SpatialMask.resize(mask, window: window, mode: resizeMode, op: "ConvAD \(path)")
            s.dirty = true
        case is MaxPool2d, is AvgPool2d:
            let mask = try spatialMask(s, path: path)
            if strict && s.dirty { s.deactivate() }
            s.a = try plain(layer, s.a, context)
            let window: Window2D
            if let pool = layer as? MaxPool2d {
                window = try Window2D(kernel: pool.kernelSize, stride: pool.stride, padding: pool.padding,
                                      dilation: pool.dilation, op: "MaxPool2d")
            } else {
                let pool = layer as! AvgPool2d
                window = try Window2D(kernel: pool.kernelSize, stride: pool.stride, padding: pool.padding,
                                      dilation: (1, 1), op: "AvgPool2d")
            }
            s.mask = try SpatialMask.resize(mask, window: window, mode: resizeMode, op: "ConvAD \(path)")
            s.deactivate()
        case is BatchNorm2d, is Dropout:
            s.a = try plain(layer, s.a, context)
            if strict { s.dirty = true }
        case is ReLU, is LeakyReLU, is Tanh, is GELU, is Sigmoid:
            s.a = try plain(layer, s.a, context)
            if strict { s.deactivate() }
        case is GlobalAvgPool:
            let mask = try spatialMask(s, path: path)
            s.deactivate()
            var pooled = try plain(layer, s.a, context)
            let plane = mask.shape[2] * mask.shape[3], channels = pooled.shape[1]
            for (i, kept) in SpatialMask.keptCounts(mask).enumerated() where kept < plane {
                // Mean over kept units only; the plain mean divided by H·W, so rescale.
                let factor: Float = kept == 0 ? 0 : Float(plane) / Float(kept)
                for c in 0..<channels { pooled.scalars[i * channels + c] *= factor }
            }
            s = State(a: pooled, mask: nil, dirty: false)
        case is Flatten:
            if s.mask != nil { s.deactivate() }
            s = State(a: try plain(layer, s.a, context), mask: nil, dirty: false)
        case is Linear:
            guard s.mask == nil else {
                throw GlassboxError.shapeMismatch("ConvAD: Linear '\(path)' applied to a spatial activation \(s.a.shape); flatten or pool first")
            }
            s.a = try plain(layer, s.a, context)
        default:
            try Self.check(layer, path: path)
        }
        return s
    }

    private func spatialMask(_ s: State, path: String) throws -> Tensor {
        guard let mask = s.mask, s.a.rank == 4 else {
            throw GlassboxError.shapeMismatch("ConvAD: spatial layer '\(path)' after the activation stopped being spatial (\(s.a.shape))")
        }
        return mask
    }
}

extension ActivationDeactivation {
    /// Leakage: mean `|Δ logit|` over images, classes and `fills` random refills of the occluded
    /// pixels (uniform in each image's `[min, max]`). 0 for the strict variant by construction.
    /// Cost: `fills + 1` masked forwards of the batch.
    public func leakage(images: Tensor, masks: Tensor, fills: Int = 8, seed: UInt64) throws -> Double {
        let reference = try logits(images: images, masks: masks)
        var rng = SeededGenerator(seed: seed)
        var total = 0.0
        let c = images.shape[1], plane = images.shape[2] * images.shape[3]
        for _ in 0..<fills {
            var refilled = images
            for i in 0..<images.shape[0] {
                let slice = images.scalars[i * c * plane..<(i + 1) * c * plane]
                let lo = slice.min() ?? 0, hi = slice.max() ?? 0
                for ch in 0..<c {
                    for j in 0..<plane where masks.scalars[i * plane + j] == 0 {
                        refilled.scalars[(i * c + ch) * plane + j] = rng.uniform(lo, hi)
                    }
                }
            }
            let out = try logits(images: refilled, masks: masks)
            total += zip(out.scalars, reference.scalars).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) }
        }
        return total / Double(max(1, fills * reference.count))
    }
}

/// Compiled ConvAD plans per image shape, built once and shared by copies of an
/// ``ActivationDeactivation`` (calls on one plan are serialised by the plan).
final class CompiledCache: @unchecked Sendable {
    private let lock = NSLock()
    private var plans: [[Int]: ActivationDeactivationPlan?] = [:]

    func plan(_ shape: [Int], _ make: () throws -> ActivationDeactivationPlan) throws -> ActivationDeactivationPlan? {
        lock.lock()
        defer { lock.unlock() }
        if let known = plans[shape] { return known }
        let made: ActivationDeactivationPlan?
        do { made = try make() } catch is ActivationDeactivationPlan.Unsupported { made = nil }
        plans[shape] = .some(made)
        return made
    }
}
