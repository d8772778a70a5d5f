import Foundation
import GlassboxNN
import GlassboxData

/// A trained image classifier queried with masked copies ("mutants") of one image: the oracle
/// every perturbation explainer and metric here shares. Inputs are in the model's (normalised)
/// input space; masks are keep-masks `[k, 1, H, W]` (1 = visible).
///
/// Every evaluation runs on the model compiled for inference: an ``InferencePlan`` for the
/// value-filling removals (constant, channel constant, image mean, blur, noise) and an
/// ``ActivationDeactivationPlan`` for ConvAD, compiled once per image shape. Mutants are built
/// in batches of ``batchSize`` with a branch-free select per pixel and sent to the plan, which
/// spreads a batch over both cores; concurrent callers (ReX runs its iterations in parallel)
/// each get a plan copy of their own. Results do not depend on ``batchSize``: the plans'
/// results do not depend on the batch split, and noise is drawn in mutant order.
/// Cost: `k` model evaluations per call.
public struct MaskedClassifier {
    /// The classifier queried.
    public let model: any Layer
    /// Mutants per plan call (at least 1); does not change results.
    public var batchSize: Int
    let plans: PlanPool

    /// ConvAD removal is available only when every layer is supported; other removals work on
    /// any image model.
    public init(model: any Layer, batchSize: Int = 64) {
        self.model = model
        self.batchSize = max(1, batchSize)
        plans = PlanPool(model: model)
    }

    /// Logits `[k, classes]` of `image` (`[C, H, W]` or `[1, C, H, W]`) under each mask, with
    /// the occluded pixels removed by `removal`; `seed` drives noise fills.
    public func logits(image: Tensor, masks: Tensor, removal: Removal, seed: UInt64 = 0) throws -> Tensor {
        let x = try Self.single(image)
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        guard masks.rank == 4, masks.shape[1] == 1, masks.shape[2] == h, masks.shape[3] == w else {
            throw GlassboxError.shapeMismatch("masks must be [k, 1, \(h), \(w)] for image \(x.shape), got \(masks.shape)")
        }
        let k = masks.shape[0], plane = h * w, shape = [c, h, w]
        var variant: ActivationDeactivation.Variant?
        var fill: [Float]?
        switch removal {
        case .activationDeactivation(let v):
            variant = v
            _ = try ActivationDeactivation(model: model, variant: v)   // names an unsupported layer
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
        let classes = try plans.classes(shape)
        var rows = [Float](repeating: 0, count: k * classes)
        let capacity = min(batchSize, k)
        var batch = [Float](repeating: 0, count: capacity * c * plane)
        try x.scalars.withUnsafeBufferPointer { px in
            try masks.scalars.withUnsafeBufferPointer { pm in
                try rows.withUnsafeMutableBufferPointer { po in
                    try batch.withUnsafeMutableBufferPointer { pb in
                        let image = px.baseAddress!, out = po.baseAddress!, buffer = pb.baseAddress!
                        var start = 0
                        while start < k {
                            let n = min(capacity, k - start)
                            let m = pm.baseAddress! + start * plane
                            if let variant {
                                // ConvAD reads the image itself; the plan switches the occluded units off.
                                for i in 0..<n { (buffer + i * c * plane).update(from: image, count: c * plane) }
                                try plans.withActivationDeactivation(variant, shape) { compiled in
                                    if let compiled {
                                        try compiled.logits(zeroingImagesInPlace: buffer, masks: m, batch: n, into: out + start * classes)
                                    } else {
                                        // A model the plan cannot express: the reference walk.
                                        let y = try ActivationDeactivation(model: model, variant: variant).referenceLogits(
                                            images: Tensor(uncheckedShape: [n, c, h, w], scalars: Array(UnsafeBufferPointer(start: buffer, count: n * c * plane))),
                                            masks: Tensor(uncheckedShape: [n, 1, h, w], scalars: Array(UnsafeBufferPointer(start: m, count: n * plane))))
                                        y.scalars.withUnsafeBufferPointer { (out + start * classes).update(from: $0.baseAddress!, count: $0.count) }
                                    }
                                }
                            } else {
                                if let fill {
                                    fill.withUnsafeBufferPointer { pf in
                                        Self.compose(image, pf.baseAddress!, m, n, c, plane, into: buffer)
                                    }
                                } else {
                                    for i in 0..<n {
                                        for ch in 0..<c {
                                            let dst = buffer + (i * c + ch) * plane, src = image + ch * plane
                                            let mi = m + i * plane
                                            for j in 0..<plane { dst[j] = mi[j] != 0 ? src[j] : rng.uniform(lo, hi) }
                                        }
                                    }
                                }
                                try plans.withPlain(shape) { try $0.predict(buffer, batch: n, into: out + start * classes) }
                            }
                            start += n
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: [k, classes], scalars: rows)
    }

    /// Mutant `i` = `mask_i ? image : fill` per pixel and channel: a select the compiler
    /// vectorises (no branch per element).
    static func compose(_ image: UnsafePointer<Float>, _ fill: UnsafePointer<Float>, _ masks: UnsafePointer<Float>,
                        _ n: Int, _ c: Int, _ plane: Int, into out: UnsafeMutablePointer<Float>) {
        for i in 0..<n {
            let m = masks + i * plane
            for ch in 0..<c {
                let dst = out + (i * c + ch) * plane, src = image + ch * plane, f = fill + ch * plane
                for j in 0..<plane { dst[j] = m[j] != 0 ? src[j] : f[j] }
            }
        }
    }

    /// Softmax probabilities `[k, classes]` (see ``logits(image:masks:removal:seed:)``).
    public func probabilities(image: Tensor, masks: Tensor, removal: Removal, seed: UInt64 = 0) throws -> Tensor {
        softmaxRows(try logits(image: image, masks: masks, removal: removal, seed: seed))
    }

    /// Plain logits of one image `[classes]` (through the plan).
    public func logits(image: Tensor) throws -> [Float] {
        let x = try Self.single(image)
        return try plans.withPlain(Array(x.shape.dropFirst())) { try $0.predict(x) }.scalars
    }

    static func single(_ image: Tensor) throws -> Tensor {
        if image.rank == 3 { return try image.reshaped([1] + image.shape) }
        guard image.rank == 4, image.shape[0] == 1 else {
            throw GlassboxError.shapeMismatch("expected one image [C, H, W] or [1, C, H, W], got \(image.shape)")
        }
        return image
    }
}

/// The compiled forms of one image model, per image shape, with a free list of copies so that
/// concurrent callers never wait on one another's plan.
final class PlanPool: @unchecked Sendable {
    private let model: any Layer
    private let lock = NSLock()
    private var plain: [[Int]: (prototype: InferencePlan, free: [InferencePlan])] = [:]
    /// nil prototype: the model's deactivations do not map onto a plan (reference walk instead).
    private var convAD: [String: (prototype: ActivationDeactivationPlan?, free: [ActivationDeactivationPlan])] = [:]

    init(model: any Layer) { self.model = model }

    /// Logits per image for samples of `shape` (throws unless the model maps an image to a vector).
    func classes(_ shape: [Int]) throws -> Int {
        try withPlain(shape) { plan in
            guard plan.outputShape.count == 1 else {
                throw GlassboxError.shapeMismatch("an image classifier must return logits [n, classes], got [n] + \(plan.outputShape)")
            }
            return plan.outputCount
        }
    }

    func withPlain<T>(_ shape: [Int], _ body: (InferencePlan) throws -> T) throws -> T {
        let plan: InferencePlan = try lock.withLock {
            if var entry = plain[shape] {
                let p = entry.free.popLast() ?? entry.prototype.copy()
                plain[shape] = entry
                return p
            }
            let prototype = try model.compiledForInference(sampleShape: shape)
            plain[shape] = (prototype, [])
            return prototype.copy()
        }
        defer { lock.withLock { plain[shape]!.free.append(plan) } }
        return try body(plan)
    }

    func withActivationDeactivation<T>(_ variant: ActivationDeactivation.Variant, _ shape: [Int],
                                       _ body: (ActivationDeactivationPlan?) throws -> T) throws -> T {
        let key = "\(variant.rawValue) \(shape)"
        let plan: ActivationDeactivationPlan? = try lock.withLock {
            if var entry = convAD[key] {
                guard let prototype = entry.prototype else { return nil }
                let p = entry.free.popLast() ?? prototype.copy()
                convAD[key] = entry
                return p
            }
            let prototype: ActivationDeactivationPlan?
            do {
                prototype = try ActivationDeactivationPlan(model: model, variant: variant, sampleShape: shape)
            } catch is ActivationDeactivationPlan.Unsupported {
                prototype = nil
            }
            convAD[key] = (prototype, [])
            return prototype?.copy()
        }
        defer { if let plan { lock.withLock { convAD[key]!.free.append(plan) } } }
        return try body(plan)
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
