import Foundation
import GlassboxNN

/// Quality measures of image explanations, shared by every explainer: an attribution map or an
/// explanation mask goes in, numbers come out. Images are in the model's input space; `p_c` is
/// the softmax probability of the target class `c`.
public enum ExplanationMetrics {
    /// Size: fraction of pixels in the explanation mask (any shape, 1 = in). Lower is better.
    public static func size(_ mask: Tensor) -> Double {
        Double(mask.scalars.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }) / Double(max(1, mask.count))
    }

    /// Robustness: keep the explanation's pixels, refill the rest with each of `contexts`
    /// (``Removal/uniformNoise`` drawn `noiseFills` times with fresh seeds, every other value
    /// once), and return the fraction of fills whose top-1 is still `target`. Higher is better.
    /// Cost: one batched evaluation per fill.
    public static func robustness(_ classifier: MaskedClassifier, image: Tensor, mask: Tensor, target: Int,
                                  contexts: [Removal], noiseFills: Int = 10, seed: UInt64 = 0) throws -> Double {
        let x = try MaskedClassifier.single(image)
        let m = try mask.reshaped([1, 1, x.shape[2], x.shape[3]])
        try TargetClass.check(target, classes: try classifier.plans.classes(Array(x.shape.dropFirst())), place: "robustness")
        var kept = 0, total = 0
        var rng = SeededGenerator(seed: seed)
        for context in contexts {
            let fills = context == .uniformNoise ? noiseFills : 1
            guard fills > 0 else { continue }
            let masks = Tensor(uncheckedShape: [fills, 1, x.shape[2], x.shape[3]],
                               scalars: Array((0..<fills).map { _ in m.scalars }.joined()))
            let logits = try classifier.logits(image: x, masks: masks, removal: context, seed: rng.next())
            for r in 0..<fills where argmaxRow(logits, r) == target { kept += 1 }
            total += fills
        }
        guard total > 0 else { throw GlassboxError.invalidArgument("robustness needs at least one fill") }
        return Double(kept) / Double(total)
    }

    /// The value contexts used for robustness: zero (training mean), raw black, image mean,
    /// blur and uniform noise, minus `excluding` (the removal the explanation was made with, which
    /// it passes by construction).
    public static func robustnessContexts(black: Removal, blur: Removal, excluding: Removal?) -> [Removal] {
        [.constant(0), black, .imageMean, blur, .uniformNoise].filter { $0 != excluding }
    }

    /// Confidence drop-off: `p_c(x) − p_c(explanation only)`, the explanation shown with the
    /// rest removed by `removal`. Lower is better (can be negative).
    public static func confidenceDropOff(_ classifier: MaskedClassifier, image: Tensor, mask: Tensor, target: Int,
                                         removal: Removal, seed: UInt64 = 0) throws -> Double {
        let x = try MaskedClassifier.single(image)
        let h = x.shape[2], w = x.shape[3]
        let masks = Tensor(uncheckedShape: [2, 1, h, w], scalars: [Float](repeating: 1, count: h * w) + mask.scalars)
        let p = try classifier.probabilities(image: x, masks: masks, removal: removal, seed: seed)
        let c = p.shape[1]
        try TargetClass.check(target, classes: c, place: "confidence drop-off")
        return Double(p.scalars[target]) - Double(p.scalars[c + target])
    }

    /// Which curve: insertion (blur → image) or deletion (image → zeros).
    public enum Path: String, Sendable { case insertion, deletion }

    /// An insertion or deletion curve and its area.
    public struct Curve: Sendable {
        /// Fraction of pixels moved at each of the n+1 points (0 … 1).
        public var fractions: [Double]
        /// `p_c` at each point.
        public var probabilities: [Double]
        /// Trapezoid area over `fractions`, in [0, 1].
        public var auc: Double
    }

    /// Insertion / deletion (Petsiuk et al. 2018). Pixels (all channels of a location together)
    /// are ranked by `attribution` (descending, ties row-major) and moved `step` at a time from the
    /// start image to the finish image — deletion: `x → 0` (zeros in input space), insertion:
    /// `blur(x) → x` (Gaussian σ `blurSigma`). `p_c` is recorded at the n+1 points
    /// (n = ⌈H·W/step⌉, both ends included) and integrated by the trapezoid rule over the actual
    /// fractions moved; the fractions span [0, 1], so the AUC lies in [0, 1]. Insertion: higher
    /// is better. Deletion: lower is better. Cost: n+1 evaluations.
    public static func curve(_ path: Path, model: any Layer, image: Tensor, attribution: Tensor, target: Int,
                             step: Int, blurSigma: Float = 2, batchSize: Int = 64) throws -> Curve {
        let x = try MaskedClassifier.single(image)
        let c = x.shape[1], h = x.shape[2], w = x.shape[3], plane = h * w
        guard attribution.count == plane else {
            throw GlassboxError.shapeMismatch("attribution map \(attribution.shape) for an image of \(h)×\(w)")
        }
        guard step > 0 else { throw GlassboxError.invalidArgument("insertion/deletion step must be positive, got \(step)") }
        let order = SufficientExplanation.ranking(attribution)
        let (startImage, finish) = path == .deletion ? (x, Tensor.zeros(x.shape)) : (gaussianBlur(x, sigma: blurSigma), x)
        let counts = Array(Swift.stride(from: 0, to: plane, by: step)) + [plane]
        var probabilities: [Double] = []
        var current = startImage.scalars
        var moved = 0
        var next = 0
        while next < counts.count {
            let batch = counts[next..<min(counts.count, next + batchSize)]
            var images: [Float] = []
            images.reserveCapacity(batch.count * c * plane)
            for count in batch {
                while moved < count {
                    let j = order[moved]
                    for ch in 0..<c { current[ch * plane + j] = finish.scalars[ch * plane + j] }
                    moved += 1
                }
                images += current
            }
            let logits = try model.predict(Tensor(uncheckedShape: [batch.count, c, h, w], scalars: images))
            guard logits.rank == 2, logits.shape[0] == batch.count else {
                throw GlassboxError.shapeMismatch("an image classifier must return logits [n, classes], got \(logits.shape)")
            }
            try TargetClass.check(target, classes: logits.shape[1], place: "\(path.rawValue) curve")
            let p = softmaxRows(logits)
            for r in 0..<batch.count { probabilities.append(Double(p.scalars[r * p.shape[1] + target])) }
            next += batch.count
        }
        let fractions = counts.map { Double($0) / Double(plane) }
        var auc = 0.0
        for i in 1..<fractions.count {
            auc += (fractions[i] - fractions[i - 1]) * (probabilities[i] + probabilities[i - 1]) / 2
        }
        return Curve(fractions: fractions, probabilities: probabilities, auc: auc)
    }
}
