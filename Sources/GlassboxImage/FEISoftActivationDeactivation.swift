import Foundation
import GlassboxNN

/// A differentiable, soft form of ConvAD strict (``ActivationDeactivation``) for FEI's deletion
/// branch: the keep-mask `m ∈ [0, 1]` `[n, 1, H, W]` travels with the activation as a
/// ``Variable``, and every ConvAD rule is replaced by its smooth or sub-differentiable twin:
///
/// | ConvAD strict (binary `m`) | here (soft `m`) |
/// |---|---|
/// | deactivate: zero where `m = 0` | multiply: `a ⊙ m` |
/// | erosion `1 − maxpool(1 − m)` | the same expression on soft `m` (max-pool's subgradient) |
/// | residual AND of branch masks | product `m_body ⊙ m_shortcut` |
/// | masked global mean `Σ(a⊙m)/Σm` | `Σ(a⊙m)/(Σm + 10⁻⁶)` |
///
/// On binary masks every rule equals ConvAD strict's, so the logits agree with
/// ``ActivationDeactivation/logits(images:masks:)`` up to the `10⁻⁶` of the pooled mean's
/// denominator (a test checks this). On soft masks it is a relaxation — *not* the paper's AD —
/// chosen so that `∂logits/∂m` exists; erosion passes gradient only to the minimum of each
/// window, so FEI with this baseline learns more slowly than with the zero baseline.
///
/// Layers are called through the context with their dotted paths, so backward hooks (selective
/// clipping) see every ReLU; the ReLU after a residual sum is hooked at the block's path.
/// Cost: the plain forward plus the mask's erosion pools and one multiply per activation.
public struct FEISoftActivationDeactivation {
    /// The classifier evaluated, unchanged.
    public let model: any Layer

    /// Checks the model has only layers ConvAD supports (throws naming the first other one).
    public init(model: any Layer) throws {
        _ = try ActivationDeactivation(model: model, variant: .strict)
        self.model = model
    }

    /// Logits `[n, classes]` of `images` `[n, C, H, W]` with soft keep-masks `keep` `[n, 1, H, W]`.
    public func forward(images: Variable, keep: Variable, context: ForwardContext) throws -> Variable {
        guard images.value.rank == 4, keep.value.rank == 4, keep.shape[0] == images.shape[0], keep.shape[1] == 1,
              keep.shape[2] == images.shape[2], keep.shape[3] == images.shape[3] else {
            throw GlassboxError.shapeMismatch("soft ConvAD needs images [n, C, H, W] and masks [n, 1, H, W], got \(images.shape) and \(keep.shape)")
        }
        var s = State(a: images, mask: keep, dirty: true)
        s = try run(model, s, path: "", context: context)
        guard s.a.value.rank == 2 else {
            throw GlassboxError.shapeMismatch("soft ConvAD: the model must end in class logits [n, classes], got \(s.a.shape)")
        }
        return s.a
    }

    struct State {
        var a: Variable
        var mask: Variable?
        var dirty: Bool
        mutating func deactivate() throws {
            if let mask { a = try mul(a, mask) }
            dirty = false
        }
    }

    private static func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : path + "." + name }

    private func erode(_ mask: Variable, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
                       dilation: (Int, Int)) throws -> Variable {
        let hole = shift(negate(mask), 1)
        return shift(negate(try maxPool2d(hole, kernel: kernel, stride: stride, padding: padding, dilation: dilation)), 1)
    }

    private func run(_ layer: any Layer, _ input: State, path: String, context: ForwardContext) throws -> State {
        var s = input
        switch layer {
        case let seq as Sequential:
            for child in seq.children { s = try run(child.layer, s, path: Self.join(path, child.name), context: context) }
        case let res as Residual:
            if s.dirty { try s.deactivate() }
            let main = try run(res.body, s, path: Self.join(path, "body"), context: context)
            let skip = try res.shortcut.map { try run($0, s, path: Self.join(path, "shortcut"), context: context) } ?? s
            guard let mb = main.mask, let ms = skip.mask, mb.shape == ms.shape else {
                throw GlassboxError.shapeMismatch("soft ConvAD: residual '\(path)' branches lost or disagree on their spatial grid")
            }
            var sum = try add(main.a, skip.a)
            if res.reluAfter { sum = relu(sum) }
            s = State(a: sum, mask: try mul(mb, ms), dirty: true)
            try s.deactivate()
            // The block's output as ForwardContext.call would present it to hooks and recording.
            s.a = try context.call(PassThrough(layer: res), named: path, s.a)
        case let conv as Conv2d:
            guard let mask = s.mask else { throw notSpatial(path, s) }
            if s.dirty { try s.deactivate() }
            s.a = try context.call(conv, named: path, s.a)
            s.mask = try erode(mask, kernel: conv.kernelSize, stride: conv.stride, padding: conv.padding, dilation: conv.dilation)
            s.dirty = true
        case let pool as MaxPool2d:
            guard let mask = s.mask else { throw notSpatial(path, s) }
            if s.dirty { try s.deactivate() }
            s.a = try context.call(pool, named: path, s.a)
            s.mask = try erode(mask, kernel: pool.kernelSize, stride: pool.stride, padding: pool.padding, dilation: pool.dilation)
            try s.deactivate()
        case let pool as AvgPool2d:
            guard let mask = s.mask else { throw notSpatial(path, s) }
            if s.dirty { try s.deactivate() }
            s.a = try context.call(pool, named: path, s.a)
            s.mask = try erode(mask, kernel: pool.kernelSize, stride: pool.stride, padding: pool.padding, dilation: (1, 1))
            try s.deactivate()
        case is BatchNorm2d, is Dropout:
            s.a = try context.call(layer, named: path, s.a)
            s.dirty = true
        case is ReLU, is LeakyReLU, is Tanh, is GELU, is Sigmoid:
            s.a = try context.call(layer, named: path, s.a)
            try s.deactivate()
        case is GlobalAvgPool:
            guard let mask = s.mask else { throw notSpatial(path, s) }
            try s.deactivate()
            let plane = Float(mask.shape[2] * mask.shape[3])
            let pooled = try context.call(layer, named: path, s.a)                    // Σ(a⊙m)/(H·W)
            let kept = try reshape(try sum(mask, axes: [1, 2, 3]), [mask.shape[0], 1]) // Σm
            s = State(a: try div(scale(pooled, plane), shift(kept, 1e-6)), mask: nil, dirty: false)
        case is Flatten:
            if s.mask != nil { try s.deactivate() }
            s = State(a: try context.call(layer, named: path, s.a), mask: nil, dirty: false)
        case is Linear:
            guard s.mask == nil else {
                throw GlassboxError.shapeMismatch("soft ConvAD: Linear '\(path)' applied to a spatial activation \(s.a.shape); flatten or pool first")
            }
            s.a = try context.call(layer, named: path, s.a)
        default:
            throw GlassboxError.invalidArgument("soft ConvAD does not support layer '\(path)' of type \(layer.spec.type)")
        }
        return s
    }

    private func notSpatial(_ path: String, _ s: State) -> GlassboxError {
        .shapeMismatch("soft ConvAD: spatial layer '\(path)' after the activation stopped being spatial (\(s.a.shape))")
    }
}

/// Presents an already computed value as the output of `layer` to ``ForwardContext/call(_:named:_:)``
/// (so hooks and recording see a container's output computed outside its own `forward`).
private final class PassThrough: Layer {
    let layer: any Layer
    init(layer: any Layer) { self.layer = layer }
    func forward(_ input: Variable, context: ForwardContext) throws -> Variable { input }
    var spec: LayerSpec { layer.spec }
}
