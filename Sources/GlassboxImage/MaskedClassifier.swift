import Foundation
import GlassboxNN
import GlassboxData

/// A trained image classifier queried with masked copies ("mutants") of one image: the oracle
/// every perturbation explainer and metric here shares. Inputs are in the model's (normalised)
/// input space; masks are keep-masks `[k, 1, H, W]` (1 = visible).
///
/// Mutants are evaluated in batches of ``batchSize`` with one `predict` (or one ConvAD pass)
/// per batch. Cost: `k` model evaluations per call.
public struct MaskedClassifier {
    public let model: any Layer
    public var batchSize: Int
    private let strict: ActivationDeactivation?
    private let checkpoint: ActivationDeactivation?

    /// ConvAD removal is available only when every layer is supported; other removals work on
    /// any image model.
    public init(model: any Layer, batchSize: Int = 64) {
        self.model = model
        self.batchSize = max(1, batchSize)
        strict = try? ActivationDeactivation(model: model, variant: .strict)
        checkpoint = try? ActivationDeactivation(model: model, variant: .checkpoint)
    }

    /// Logits `[k, classes]` of `image` (`[C, H, W]` or `[1, C, H, W]`) under each mask, with
    /// the occluded pixels removed by `removal`; `seed` drives noise fills.
    public func logits(image: Tensor, masks: Tensor, removal: Removal, seed: UInt64 = 0) throws -> Tensor {
        let x = try Self.single(image)
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        guard masks.rank == 4, masks.shape[1] == 1, masks.shape[2] == h, masks.shape[3] == w else {
            throw GlassboxError.shapeMismatch("masks must be [k, 1, \(h), \(w)] for image \(x.shape), got \(masks.shape)")
        }
        let k = masks.shape[0], plane = h * w
        var ad: ActivationDeactivation?
        var fill: [Float]?
        switch removal {
        case .activationDeactivation(let variant):
            ad = variant == .strict ? strict : checkpoint
            if ad == nil { _ = try ActivationDeactivation(model: model, variant: variant) }
        case .constant(let v): fill = [Float](repeating: v, count: c * plane)
        case .channelConstant(let values):
            guard values.count == c else {
                throw GlassboxError.shapeMismatch("channel constant has \(values.count) values for \(c) channels")
            }
            fill = (0..<c * plane).map { values[$0 / plane] }
        case .imageMean:
            fill = (0..<c).flatMap { ch -> [Float] in
                let s = x.scalars[ch * plane..<(ch + 1) * plane].reduce(0, +)
                return [Float](repeating: s / Float(plane), count: plane)
            }
        case .blur(let sigma): fill = gaussianBlur(x, sigma: sigma).scalars
        case .uniformNoise: fill = nil
        }
        let lo = x.scalars.min() ?? 0, hi = x.scalars.max() ?? 0
        var rng = SeededGenerator(seed: seed)
        var rows: [Float] = []
        var classes = 0
        var start = 0
        while start < k {
            let n = min(batchSize, k - start)
            let batchMasks = Tensor(uncheckedShape: [n, 1, h, w],
                                    scalars: Array(masks.scalars[start * plane..<(start + n) * plane]))
            var batch = [Float](repeating: 0, count: n * c * plane)
            for i in 0..<n {
                for ch in 0..<c {
                    let dst = (i * c + ch) * plane, src = ch * plane
                    for j in 0..<plane {
                        if batchMasks.scalars[i * plane + j] != 0 || ad != nil {
                            batch[dst + j] = x.scalars[src + j]
                        } else if let fill {
                            batch[dst + j] = fill[src + j]
                        } else {
                            batch[dst + j] = rng.uniform(lo, hi)
                        }
                    }
                }
            }
            let images = Tensor(uncheckedShape: [n, c, h, w], scalars: batch)
            let out = try ad.map { try $0.logits(images: images, masks: batchMasks) } ?? model.predict(images)
            classes = out.shape[1]
            rows += out.scalars
            start += n
        }
        return Tensor(uncheckedShape: [k, classes], scalars: rows)
    }

    /// Softmax probabilities `[k, classes]` (see ``logits(image:masks:removal:seed:)``).
    public func probabilities(image: Tensor, masks: Tensor, removal: Removal, seed: UInt64 = 0) throws -> Tensor {
        softmaxRows(try logits(image: image, masks: masks, removal: removal, seed: seed))
    }

    /// Plain logits of one image `[classes]`.
    public func logits(image: Tensor) throws -> [Float] {
        try model.predict(try Self.single(image)).scalars
    }

    static func single(_ image: Tensor) throws -> Tensor {
        if image.rank == 3 { return try image.reshaped([1] + image.shape) }
        guard image.rank == 4, image.shape[0] == 1 else {
            throw GlassboxError.shapeMismatch("expected one image [C, H, W] or [1, C, H, W], got \(image.shape)")
        }
        return image
    }
}

/// Row-wise softmax of `[k, classes]`, shifted by the row maximum.
func softmaxRows(_ logits: Tensor) -> Tensor {
    var out = logits
    let k = logits.shape[0], c = logits.shape[1]
    for r in 0..<k {
        let row = logits.scalars[r * c..<(r + 1) * c]
        let m = row.max() ?? 0
        var s: Float = 0
        for j in 0..<c { let e = Foundation.exp(row[r * c + j] - m); out.scalars[r * c + j] = e; s += e }
        for j in 0..<c { out.scalars[r * c + j] /= s }
    }
    return out
}

/// Index of the largest entry of row `r` (first on ties).
func argmaxRow(_ t: Tensor, _ r: Int) -> Int {
    let c = t.shape[1]
    var best = 0
    for j in 1..<c where t.scalars[r * c + j] > t.scalars[r * c + best] { best = j }
    return best
}

/// Index of the largest logit (first on ties).
func topClass(_ logits: [Float]) -> Int {
    var best = 0
    for j in logits.indices where logits[j] > logits[best] { best = j }
    return best
}
