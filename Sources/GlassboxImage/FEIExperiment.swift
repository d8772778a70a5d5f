import Foundation
import GlassboxNN
import GlassboxData

/// FEI's experiment (`docs/methods/fei.md`): on a trained image classifier, every method explains each
/// test image's top-1 class, and each map is scored by insertion AUC (higher is better),
/// deletion AUC (lower is better), their gap (insertion − deletion, higher is better) and the
/// activation deviation along its insertion path (relative norm and excess, lower is better).
///
/// Curves (``ExplanationMetrics/curve(_:model:image:attribution:target:step:blurSigma:batchSize:)``)
/// move `max(1, H·W/50)` pixels per step; insertion starts from the blur FEI inserts into
/// (σ = `max(1, min(H, W)/14)`), deletion ends at zeros (the training mean). Perturbation
/// baselines remove pixels with the same zero.
///
/// Cost per image: each method's own cost (FEI: `iterations · 2K` image forward+backward passes)
/// plus about `3·(H·W/step + 1)` evaluations for the two curves and the deviation.
public enum FEIExperiment {
    /// Methods compared.
    public enum Method: String, Sendable, Codable, CaseIterable {
        case fei, feiNoClipping = "fei-no-clipping", feiInsertionClipping = "fei-insertion-clipping", feiAD = "fei-ad", saliency, integratedGradients = "integrated-gradients"
        case occlusion, rise, responsibility, random
    }

    /// One method's scores on one dataset and model: mean and sample sd over images.
    public struct Row: Codable, Sendable {
        /// Dataset name, model name and the method's raw value.
        public var dataset: String, model: String, method: String
        /// Images explained.
        public var images: Int
        /// Insertion AUC (blur → image), in [0, 1]; higher is better.
        public var insertion_mean: Double, insertion_sd: Double
        /// Deletion AUC (image → zeros), in [0, 1]; lower is better.
        public var deletion_mean: Double, deletion_sd: Double
        /// Insertion AUC minus deletion AUC, in [−1, 1]; higher is better.
        public var gap_mean: Double, gap_sd: Double
        /// Activation deviation (relative norm, averaged over layers) along the insertion path; lower
        /// is better.
        public var deviation_mean: Double, deviation_sd: Double
        /// Excess activation (averaged over layers) along the insertion path; lower is better.
        public var excess_mean: Double, excess_sd: Double
        /// Mean relative-norm deviation per layer path.
        public var deviation_by_layer: [String: Double]
        /// Mean excess activation per layer path.
        public var excess_by_layer: [String: Double]
        /// Mean seconds per attribution (the method only, not the scoring).
        public var seconds_per_image: Double
        /// Model evaluations per attribution (gradient methods: images differentiated).
        public var evaluations_per_image: Double
    }

    /// Settings of the run.
    public struct Options: Sendable {
        /// Methods run, in this order.
        public var methods: [Method] = [.fei, .feiNoClipping, .saliency, .integratedGradients, .occlusion, .rise,
                                        .responsibility, .random]
        /// FEI's configuration (clipping is set per method).
        public var fei = FEI.Configuration()
        /// Masks per RISE map.
        public var riseMasks = 500
        /// Iterations per causal-responsibility (ReX) map.
        public var responsibilityIterations = 20
        /// Interpolation steps of integrated gradients.
        public var integratedGradientSteps = 32
        /// Base seed; image `i` is explained with `seed + i`.
        public var seed: UInt64 = 0
        /// The defaults: every method except the ablations `fei-insertion-clipping` and `fei-ad`.
        public init() {}
    }

    static func stats(_ v: [Double]) -> (Double, Double) {
        let m = v.reduce(0, +) / Double(max(1, v.count))
        let sd = v.count > 1 ? (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot() : 0
        return (m, sd)
    }

    /// The attribution map of `method` for `image` `[1, C, H, W]` (normalised) and `target`.
    public static func attribution(_ method: Method, model: any Layer, image: Tensor, target: Int, options: Options,
                                   seed: UInt64) throws -> AttributionMap {
        let (h, w) = (image.shape[2], image.shape[3])
        let classifier = MaskedClassifier(model: model)
        switch method {
        case .fei, .feiNoClipping, .feiInsertionClipping, .feiAD:
            var config = options.fei
            config.clipping = method != .feiNoClipping
            config.clipDeletion = method != .feiInsertionClipping
            config.deletion = method == .feiAD ? .activationDeactivation : .zero
            config.seed = seed
            return try FEI.explain(model: model, image: image, target: target, configuration: config).attribution
        case .saliency:
            return try ImageGradients.saliency(model: model, image: image, target: target)
        case .integratedGradients:
            return try ImageGradients.integratedGradients(model: model, image: image, target: target,
                                                          steps: options.integratedGradientSteps)
        case .occlusion:
            return try Occlusion.explain(classifier, image: image, target: target, window: max(2, min(h, w) / 7),
                                         stride: max(1, min(h, w) / 14), removal: .constant(0), seed: seed)
        case .rise:
            return try RISE.explain(classifier, image: image, target: target, masks: options.riseMasks,
                                    cells: max(2, min(h, w) / 4), removal: .constant(0), seed: seed)
        case .responsibility:
            return try CausalResponsibility.explain(classifier, image: image, target: target, options: .init(
                iterations: options.responsibilityIterations, removal: .constant(0), seed: seed))
        case .random:
            var rng = SeededGenerator(seed: seed)
            return AttributionMap(map: Tensor.uniform([h, w], 0, 1, using: &rng), target: target, evaluations: 0,
                                  seconds: 0, seed: seed, method: "random")
        }
    }

    /// Runs the experiment on `images` (raw `[n, C, H, W]`, normalised here with `normalizer`).
    /// `progress(done, total)` is called after every image of every method.
    public static func run(dataset: String, modelName: String, model: any Layer, normalizer: ChannelNormalizer,
                           images: Tensor, options: Options = Options(),
                           progress: ((Int, Int) -> Void)? = nil) throws -> [Row] {
        let x = try normalizer.transform(images)
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let step = max(1, h * w / 50)
        let sigma = max(1, Float(min(h, w)) / 14)
        let targets = try (0..<n).map { i -> Int in
            let image = Tensor(uncheckedShape: [1, c, h, w], scalars: Array(x.scalars[i * c * h * w..<(i + 1) * c * h * w]))
            return topClass(try model.predict(image).scalars)
        }
        var rows: [Row] = []
        var done = 0
        for method in options.methods {
            var ins: [Double] = [], del: [Double] = [], gap: [Double] = [], dev: [Double] = [], exc: [Double] = []
            var devLayers: [String: Double] = [:], excLayers: [String: Double] = [:]
            var seconds = 0.0, evaluations = 0.0
            for i in 0..<n {
                try Interruption.check("FEI experiment, \(method.rawValue), image \(i) of \(n)")
                let image = Tensor(uncheckedShape: [1, c, h, w], scalars: Array(x.scalars[i * c * h * w..<(i + 1) * c * h * w]))
                let seed = options.seed &+ UInt64(i)
                let start = Date()
                let map = try attribution(method, model: model, image: image, target: targets[i], options: options, seed: seed)
                seconds += Date().timeIntervalSince(start)
                evaluations += Double(map.evaluations)
                let a = try ExplanationMetrics.curve(.insertion, model: model, image: image, attribution: map.map,
                                                     target: targets[i], step: step, blurSigma: sigma).auc
                let d = try ExplanationMetrics.curve(.deletion, model: model, image: image, attribution: map.map,
                                                     target: targets[i], step: step, blurSigma: sigma).auc
                let deviation = try ActivationDeviation.alongInsertion(model: model, image: image, attribution: map.map,
                                                                       step: step, blurSigma: sigma)
                ins.append(a); del.append(d); gap.append(a - d)
                dev.append(deviation.relativeNorm); exc.append(deviation.excess)
                for layer in deviation.layers {
                    devLayers[layer.path, default: 0] += layer.relativeNorm / Double(n)
                    excLayers[layer.path, default: 0] += layer.excess / Double(n)
                }
                done += 1
                progress?(done, n * options.methods.count)
            }
            let (im, isd) = stats(ins), (dm, dsd) = stats(del), (gm, gsd) = stats(gap)
            let (vm, vsd) = stats(dev), (em, esd) = stats(exc)
            rows.append(Row(dataset: dataset, model: modelName, method: method.rawValue, images: n,
                            insertion_mean: im, insertion_sd: isd, deletion_mean: dm, deletion_sd: dsd, gap_mean: gm, gap_sd: gsd,
                            deviation_mean: vm, deviation_sd: vsd, excess_mean: em, excess_sd: esd,
                            deviation_by_layer: devLayers, excess_by_layer: excLayers,
                            seconds_per_image: seconds / Double(max(1, n)), evaluations_per_image: evaluations / Double(max(1, n))))
        }
        return rows
    }
}
