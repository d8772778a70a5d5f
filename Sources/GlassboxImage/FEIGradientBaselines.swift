import Foundation
import GlassboxNN

/// The gradient baselines of FEI's comparison, for image models `[n, C, H, W] → [n, classes]`.
///
/// GlassboxExplain's ``Saliency``/``IntegratedGradients`` explain tabular rows `[n, features]`
/// through a `PredictionFunction`, which a convolutional model cannot take; these compute the
/// same quantities on images with the autograd directly and return an ``AttributionMap``
/// (channels pooled per pixel) that insertion/deletion can rank.
public enum ImageGradients {
    /// `∂ logit_c / ∂x` for every image of `images` `[n, C, H, W]` (one forward, one backward
    /// pass of the batch; images are independent in inference mode).
    public static func logitGradient(model: any Layer, images: Tensor, target: Int) throws -> Tensor {
        let (value, grad) = try gradient(at: images) { input in
            let logits = try model.forward(input, context: ForwardContext(training: false))
            guard logits.value.rank == 2, (0..<logits.shape[1]).contains(target) else {
                throw GlassboxError.shapeMismatch("image gradient: the model returned \(logits.shape); target \(target)")
            }
            return try sum(try slice(logits, axis: 1, range: target..<(target + 1)))
        }
        _ = value
        return grad
    }

    /// Saliency (Simonyan et al. 2014): `max_channel |∂ logit_c/∂x|` per pixel. Target nil = the
    /// top-1. Cost: one forward and one backward pass.
    public static func saliency(model: any Layer, image: Tensor, target: Int? = nil) throws -> AttributionMap {
        let start = Date()
        let x = try MaskedClassifier.single(image)
        let cls = try target ?? topClass(model.predict(x).scalars)
        let g = try logitGradient(model: model, images: x, target: cls)
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        let map = (0..<h * w).map { j in (0..<c).map { abs(g.scalars[$0 * h * w + j]) }.max() ?? 0 }
        return AttributionMap(map: Tensor(uncheckedShape: [h, w], scalars: map), target: cls, evaluations: 1,
                              seconds: Date().timeIntervalSince(start), seed: 0, method: "saliency")
    }

    /// Integrated Gradients (Sundararajan et al. 2017) from `baseline` (default all zeros — the
    /// training mean in normalised space, the deletion metric's finish image):
    /// `(x − x') ⊙ 1/m Σ_k ∂ logit_c/∂x (x' + (k − ½)/m · (x − x'))`, midpoint Riemann sum
    /// with `steps` points, summed over channels. Cost: one forward/backward of `steps` images.
    public static func integratedGradients(model: any Layer, image: Tensor, target: Int? = nil, baseline: Tensor? = nil,
                                           steps: Int = 32) throws -> AttributionMap {
        let start = Date()
        let x = try MaskedClassifier.single(image)
        guard steps > 0 else { throw GlassboxError.invalidArgument("integrated gradients needs steps > 0, got \(steps)") }
        let base = baseline ?? Tensor.zeros(x.shape)
        guard base.count == x.count else {
            throw GlassboxError.shapeMismatch("integrated gradients: baseline \(base.shape) for image \(x.shape)")
        }
        let cls = try target ?? topClass(model.predict(x).scalars)
        let n = x.count
        var points = [Float](repeating: 0, count: steps * n)
        for k in 0..<steps {
            let alpha = (Float(k) + 0.5) / Float(steps)
            for j in 0..<n { points[k * n + j] = base.scalars[j] + alpha * (x.scalars[j] - base.scalars[j]) }
        }
        let g = try logitGradient(model: model, images: Tensor(uncheckedShape: [steps] + Array(x.shape.dropFirst()), scalars: points),
                                  target: cls)
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        var map = [Float](repeating: 0, count: h * w)
        for j in 0..<n {
            var s: Float = 0
            for k in 0..<steps { s += g.scalars[k * n + j] }
            map[j % (h * w)] += (x.scalars[j] - base.scalars[j]) * s / Float(steps)
        }
        _ = c
        return AttributionMap(map: Tensor(uncheckedShape: [h, w], scalars: map), target: cls, evaluations: steps,
                              seconds: Date().timeIntervalSince(start), seed: 0, method: "integrated-gradients")
    }
}
