import Foundation
import GlassboxNN
import GlassboxData

/// The ConvAD experiment: for each test image, a causal-responsibility map and its sufficient
/// explanation made with each removal operator (masking values and ConvAD), scored by size,
/// robustness and confidence drop-off (``ExplanationMetrics``). The target is the model's own
/// top-1 on the full image (the decision being explained).
///
/// Robustness fills are the value contexts of ``ExplanationMetrics/robustnessContexts(black:blur:excluding:)``
/// minus the removal the explanation was made with (which it passes by construction), uniform
/// noise drawn `noiseFills` times. Drop-off shows the explanation with the rest removed by the
/// explanation's own operator.
/// Cost per image and removal: one ReX run (≤ 14·iterations·depth evaluations), the extraction
/// (≤ 100), and the robustness fills.
public enum ActivationDeactivationExperiment {
    /// One removal operator's scores on one dataset and model: mean and sample sd over images.
    public struct Row: Codable, Sendable {
        /// Dataset name, model name and the removal operator's description.
        public var dataset: String, model: String, removal: String
        /// Images explained.
        public var images: Int
        /// Explanation size: fraction of the image's pixels in the sufficient explanation, in
        /// [0, 1]; lower is better.
        public var size_mean: Double, size_sd: Double
        /// Robustness: fraction of refill contexts under which the explanation alone keeps the
        /// target as top-1, in [0, 1]; higher is better.
        public var robustness_mean: Double, robustness_sd: Double
        /// Confidence drop-off `p_c(x) − p_c(explanation only)`; lower is better (can be negative).
        public var dropoff_mean: Double, dropoff_sd: Double
        /// Model evaluations spent on the maps and extractions, summed over images.
        public var evaluations: Int
        /// Wall time for this removal over all images, in seconds.
        public var seconds: Double
        /// ConvAD rows only: how much the logits still depend on the occluded pixels under the
        /// explanation's own mask — mean `|Δ logit|` over images, classes and `leakageFills`
        /// uniform-noise refills of the occluded pixels (``ActivationDeactivation/leakage(images:masks:fills:seed:)``),
        /// and that mean divided by the mean `|logit|` of the masked image. 0 for the strict
        /// variant by construction; the checkpoint variant's measured leak.
        public var leakage_mean: Double?, leakage_sd: Double?
        /// Mean over images of the leakage divided by the mean `|logit|` of the masked image.
        public var relative_leakage_mean: Double?
    }

    /// Refills per image of the leakage measurement.
    public static let leakageFills = 8

    /// Removals compared: zero (training mean), raw black, image mean, uniform noise, blur, and
    /// ConvAD strict and checkpoint.
    public static func removals(normalizer: ChannelNormalizer, height: Int, width: Int) -> [Removal] {
        [.constant(0), .black(normalizer), .imageMean, .uniformNoise, .defaultBlur(height: height, width: width),
         .activationDeactivation(.strict), .activationDeactivation(.checkpoint)]
    }

    /// Runs the experiment on `images` (raw, `[n, C, H, W]`, normalised here with `normalizer`).
    public static func run(dataset: String, modelName: String, model: any Layer, normalizer: ChannelNormalizer,
                           images: Tensor, removals: [Removal]? = nil, options: CausalResponsibility.Options = .init(),
                           noiseFills: Int = 10, seed: UInt64 = 0) throws -> [Row] {
        let x = try normalizer.transform(images)
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let classifier = MaskedClassifier(model: model)
        let black = Removal.black(normalizer), blur = Removal.defaultBlur(height: h, width: w)
        var rows: [Row] = []
        for removal in removals ?? Self.removals(normalizer: normalizer, height: h, width: w) {
            let start = Date()
            var sizes: [Double] = [], robust: [Double] = [], drops: [Double] = []
            var evaluations = 0
            var leaks: [Double] = [], relativeLeaks: [Double] = []
            var ad: ActivationDeactivation?
            if case .activationDeactivation(let variant) = removal { ad = try ActivationDeactivation(model: model, variant: variant) }
            for i in 0..<n {
                let image = Tensor(uncheckedShape: [1, c, h, w], scalars: Array(x.scalars[i * c * h * w..<(i + 1) * c * h * w]))
                var o = options
                o.removal = removal
                o.seed = seed &+ UInt64(i)
                let map = try CausalResponsibility.explain(classifier, image: image, options: o)
                let explanation = try SufficientExplanation.extract(classifier, image: image, attribution: map.map,
                                                                    target: map.target, removal: removal, seed: o.seed)
                sizes.append(explanation.fraction)
                let contexts = ExplanationMetrics.robustnessContexts(black: black, blur: blur, excluding: removal)
                robust.append(try ExplanationMetrics.robustness(classifier, image: image, mask: explanation.mask,
                                                                target: map.target, contexts: contexts,
                                                                noiseFills: noiseFills, seed: o.seed))
                drops.append(try ExplanationMetrics.confidenceDropOff(classifier, image: image, mask: explanation.mask,
                                                                      target: map.target, removal: removal, seed: o.seed))
                evaluations += map.evaluations + explanation.evaluations
                if let ad {
                    let mask = try explanation.mask.reshaped([1, 1, h, w])
                    let leak = try ad.leakage(images: image, masks: mask, fills: Self.leakageFills, seed: o.seed)
                    let logits = try ad.logits(images: image, masks: mask)
                    let scale = logits.scalars.reduce(0.0) { $0 + Double(abs($1)) } / Double(max(1, logits.count))
                    leaks.append(leak)
                    relativeLeaks.append(scale > 0 ? leak / scale : 0)
                }
            }
            func stats(_ v: [Double]) -> (Double, Double) {
                let m = v.reduce(0, +) / Double(max(1, v.count))
                let sd = v.count > 1 ? (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot() : 0
                return (m, sd)
            }
            let (sm, ss) = stats(sizes), (rm, rs) = stats(robust), (dm, ds) = stats(drops)
            var row = Row(dataset: dataset, model: modelName, removal: removal.description, images: n,
                          size_mean: sm, size_sd: ss, robustness_mean: rm, robustness_sd: rs, dropoff_mean: dm,
                          dropoff_sd: ds, evaluations: evaluations, seconds: Date().timeIntervalSince(start))
            if !leaks.isEmpty {
                (row.leakage_mean, row.leakage_sd) = stats(leaks)
                row.relative_leakage_mean = stats(relativeLeaks).0
            }
            rows.append(row)
        }
        return rows
    }
}
