import Foundation
import GlassboxNN

/// Activation deviation (FEI's internal faithfulness, `docs/methods/fei.md`): how far a perturbed
/// image's hidden activations stray from the clean image's. For a layer `l` with clean output
/// `h = h_l(x)` and perturbed outputs `h̃_i = h_l(x̃_i)`, `i = 1…n`:
///
///     relative norm   r_l = 1/n Σ_i ‖h̃_i − h‖₂ / ‖h‖₂
///     excess          e_l = 1/n Σ_i Σ_j relu(h̃_ij − h_j) / Σ_j h_j
///
/// The excess counts only activation the clean image does not have — the "alternative pathway"
/// signal (for post-ReLU outputs `Σ h_j = ‖h‖₁`). Both are averaged over the layers (layers
/// whose clean output is all zeros are skipped: their ratios are undefined). Lower is better.
public struct ActivationDeviation: Sendable, Codable, Equatable {
    /// One layer's deviations.
    public struct LayerDeviation: Sendable, Codable, Equatable {
        /// Dotted path of the layer.
        public var path: String
        /// Mean `‖h̃_i − h‖₂ / ‖h‖₂` over the perturbed images (≥ 0; lower is better).
        public var relativeNorm: Double
        /// Mean `Σ_j relu(h̃_ij − h_j) / Σ_j h_j` over the perturbed images (≥ 0; lower is better).
        public var excess: Double
    }

    /// Per layer, in the order given.
    public var layers: [LayerDeviation]
    /// Mean of the layers' relative norms.
    public var relativeNorm: Double
    /// Mean of the layers' excess activations.
    public var excess: Double

    /// Deviations from clean activations `[1, …]` and perturbed ones `[n, …]`, matched by path
    /// (paths missing from either side, or with a zero clean output, are skipped).
    /// Cost: one pass over the perturbed activations.
    public static func measure(clean: [(path: String, value: Tensor)],
                               perturbed: [(path: String, value: Tensor)]) throws -> ActivationDeviation {
        let byPath = Dictionary(perturbed.map { ($0.path, $0.value) }, uniquingKeysWith: { a, _ in a })
        var layers: [LayerDeviation] = []
        for (path, h) in clean {
            guard let t = byPath[path] else { continue }
            let per = h.count
            guard per > 0, t.count % per == 0, t.count > 0 else {
                throw GlassboxError.shapeMismatch("activation deviation: layer '\(path)' has clean \(h.shape) and perturbed \(t.shape)")
            }
            var norm = 0.0, total = 0.0
            for v in h.scalars { norm += Double(v) * Double(v); total += Double(v) }
            guard norm > 0 else { continue }
            let n = t.count / per
            var relative = 0.0, excess = 0.0
            for i in 0..<n {
                var d2 = 0.0, up = 0.0
                for j in 0..<per {
                    let d = Double(t.scalars[i * per + j]) - Double(h.scalars[j])
                    d2 += d * d
                    if d > 0 { up += d }
                }
                relative += d2.squareRoot() / norm.squareRoot()
                excess += total != 0 ? up / total : 0
            }
            layers.append(LayerDeviation(path: path, relativeNorm: relative / Double(n), excess: excess / Double(n)))
        }
        let count = Double(max(1, layers.count))
        return ActivationDeviation(layers: layers, relativeNorm: layers.reduce(0) { $0 + $1.relativeNorm } / count,
                                   excess: layers.reduce(0) { $0 + $1.excess } / count)
    }

    /// The activations of `model`'s `selects` layers (default: every ReLU and residual block,
    /// the layers ``SelectiveGradientClipping`` guards) on a batch `[n, …]`, in call order.
    /// Cost: one inference pass with recording.
    public static func activations(of model: any Layer, on images: Tensor,
                                   selects: (any Layer) -> Bool = SelectiveGradientClipping.reluAndResidual) throws
        -> [(path: String, value: Tensor)] {
        let context = ForwardContext(training: false, recordActivations: true)
        _ = try model.forward(Variable(images), context: context)
        let paths = Set(SelectiveGradientClipping.sites(of: model, selects: selects))
        return context.activations.filter { paths.contains($0.path) }.map { (path: $0.path, value: $0.value.value) }
    }

    /// The insertion path of ``ExplanationMetrics/curve(_:model:image:attribution:target:step:blurSigma:batchSize:)``
    /// (pixels ranked by `attribution`, moved `step` at a time from `blur(x)` to `x`, all n+1
    /// points): its images `[n+1, C, H, W]`.
    public static func insertionPath(image: Tensor, attribution: Tensor, step: Int, blurSigma: Float) throws -> Tensor {
        let x = try MaskedClassifier.single(image)
        let c = x.shape[1], h = x.shape[2], w = x.shape[3], plane = h * w
        guard attribution.count == plane else {
            throw GlassboxError.shapeMismatch("attribution map \(attribution.shape) for an image of \(h)×\(w)")
        }
        guard step > 0 else { throw GlassboxError.invalidArgument("insertion step must be positive, got \(step)") }
        let order = SufficientExplanation.ranking(attribution)
        let counts = Array(Swift.stride(from: 0, to: plane, by: step)) + [plane]
        var current = gaussianBlur(x, sigma: blurSigma).scalars
        var images: [Float] = []
        images.reserveCapacity(counts.count * c * plane)
        var moved = 0
        for count in counts {
            while moved < count {
                let j = order[moved]
                for ch in 0..<c { current[ch * plane + j] = x.scalars[ch * plane + j] }
                moved += 1
            }
            images += current
        }
        return Tensor(uncheckedShape: [counts.count, c, h, w], scalars: images)
    }

    /// Activation deviation along the insertion path of `attribution` on `image` `[1, C, H, W]`.
    /// Cost: `n + 2` image evaluations (n = ⌈H·W/step⌉).
    public static func alongInsertion(model: any Layer, image: Tensor, attribution: Tensor, step: Int,
                                      blurSigma: Float = 2) throws -> ActivationDeviation {
        let x = try MaskedClassifier.single(image)
        let path = try insertionPath(image: x, attribution: attribution, step: step, blurSigma: blurSigma)
        return try measure(clean: try activations(of: model, on: x), perturbed: try activations(of: model, on: path))
    }
}
