import Foundation
import GlassboxNN

/// Sliding-window occlusion (Zeiler & Fergus 2014): slide a `window × window` patch with
/// `stride`, remove it with `removal`, and credit every covered pixel with the drop in the
/// target's probability `p_c(x) − p_c(x with patch removed)`, averaged over the patches covering it.
/// Cost: `⌈(H−window)/stride+1⌉ · ⌈(W−window)/stride+1⌉` evaluations (windows clipped to the image).
public enum Occlusion {
    /// The occlusion map `[H, W]` of `image` (`[C, H, W]` or `[1, C, H, W]`) for `target` (nil:
    /// the model's top-1 on the image). `seed` drives a noise removal. Throws for a non-positive
    /// `window` or `stride`, or an image the model cannot take. Cost: see the type's documentation.
    public static func explain(_ classifier: MaskedClassifier, image: Tensor, target: Int? = nil, window: Int = 4,
                               stride: Int = 2, removal: Removal = .constant(0), seed: UInt64 = 0) throws -> AttributionMap {
        let start = Date()
        let x = try MaskedClassifier.single(image)
        let h = x.shape[2], w = x.shape[3], plane = h * w
        guard window > 0, stride > 0 else { throw GlassboxError.invalidArgument("occlusion window and stride must be positive") }
        let base = try classifier.logits(image: x)
        let cls = try TargetClass.resolve(target, logits: base, place: "occlusion")
        let p0 = softmaxRows(Tensor(uncheckedShape: [1, base.count], scalars: base)).scalars[cls]
        let ys = Array(Swift.stride(from: 0, through: max(0, h - window), by: stride)), xs = Array(Swift.stride(from: 0, through: max(0, w - window), by: stride))
        var masks: [Float] = []
        var boxes: [(Int, Int)] = []
        for y in ys { for xx in xs {
            var m = [Float](repeating: 1, count: plane)
            for yy in y..<min(h, y + window) { for x2 in xx..<min(w, xx + window) { m[yy * w + x2] = 0 } }
            masks += m; boxes.append((y, xx))
        } }
        let probs = try classifier.probabilities(image: x, masks: Tensor(uncheckedShape: [boxes.count, 1, h, w], scalars: masks),
                                                 removal: removal, seed: seed)
        var sum = [Float](repeating: 0, count: plane), count = [Float](repeating: 0, count: plane)
        let classes = probs.shape[1]
        for (i, (y, xx)) in boxes.enumerated() {
            let drop = p0 - probs.scalars[i * classes + cls]
            for yy in y..<min(h, y + window) { for x2 in xx..<min(w, xx + window) { sum[yy * w + x2] += drop; count[yy * w + x2] += 1 } }
        }
        let map = (0..<plane).map { count[$0] > 0 ? sum[$0] / count[$0] : 0 }
        return AttributionMap(map: Tensor(uncheckedShape: [h, w], scalars: map), target: cls, evaluations: boxes.count,
                              seconds: Date().timeIntervalSince(start), seed: seed, method: "occlusion(\(removal))")
    }
}

/// RISE (Petsiuk, Das & Saenko 2018): `N` random masks, each a `cells × cells` grid of
/// Bernoulli(`keepProbability`) cells upsampled bilinearly with a random shift of up to one
/// cell; the map is `Σ_i p_c(mutant_i) · M_i / (N · keepProbability)`. Unlike the paper's soft
/// masks, the upsampled masks are binarised at 0.5 so every removal operator (including ConvAD)
/// applies; the random shift keeps the boundaries at sub-cell positions.
/// Cost: `N` evaluations.
public enum RISE {
    /// The RISE map `[H, W]` of `image` (`[C, H, W]` or `[1, C, H, W]`) for `target` (nil: the
    /// model's top-1) from `count` masks of `cells × cells` cells, each kept with
    /// `keepProbability` in (0, 1]; `seed` draws the masks and any noise. Throws for an invalid
    /// count, cell number or probability. Cost: `count` evaluations.
    public static func explain(_ classifier: MaskedClassifier, image: Tensor, target: Int? = nil, masks count: Int = 500,
                               cells: Int = 7, keepProbability: Float = 0.5, removal: Removal = .constant(0),
                               seed: UInt64 = 0) throws -> AttributionMap {
        let start = Date()
        let x = try MaskedClassifier.single(image)
        let h = x.shape[2], w = x.shape[3], plane = h * w
        guard count > 0, cells > 0, keepProbability > 0, keepProbability <= 1 else {
            throw GlassboxError.invalidArgument("RISE needs masks > 0, cells > 0 and keep probability in (0, 1]")
        }
        // Every mask is built before the batched evaluation: bound that buffer first.
        try Limits.checkValues([count, plane], "RISE masks [masks, H, W]")
        try Limits.checkValues([cells + 1, cells + 1], "RISE mask grid")
        let cls = try TargetClass.resolve(target, logits: classifier.logits(image: x), place: "RISE")
        var rng = SeededGenerator(seed: seed)
        let cellH = Float(h) / Float(cells), cellW = Float(w) / Float(cells)
        var masks = [Float](repeating: 0, count: count * plane)
        for i in 0..<count {
            let grid = (0..<(cells + 1) * (cells + 1)).map { _ in rng.uniformFloat() < keepProbability ? Float(1) : 0 }
            let dy = rng.uniformFloat() * cellH, dx = rng.uniformFloat() * cellW
            for y in 0..<h {
                let gy = (Float(y) + dy) / cellH, y0 = min(cells - 1, Int(gy)), fy = gy - Float(y0)
                for xx in 0..<w {
                    let gx = (Float(xx) + dx) / cellW, x0 = min(cells - 1, Int(gx)), fx = gx - Float(x0)
                    let v = (1 - fy) * ((1 - fx) * grid[y0 * (cells + 1) + x0] + fx * grid[y0 * (cells + 1) + x0 + 1])
                        + fy * ((1 - fx) * grid[(y0 + 1) * (cells + 1) + x0] + fx * grid[(y0 + 1) * (cells + 1) + x0 + 1])
                    masks[i * plane + y * w + xx] = v >= 0.5 ? 1 : 0
                }
            }
        }
        let probs = try classifier.probabilities(image: x, masks: Tensor(uncheckedShape: [count, 1, h, w], scalars: masks),
                                                 removal: removal, seed: rng.next())
        let classes = probs.shape[1]
        var map = [Float](repeating: 0, count: plane)
        for i in 0..<count {
            let p = probs.scalars[i * classes + cls]
            for j in 0..<plane where masks[i * plane + j] != 0 { map[j] += p }
        }
        let scale = 1 / (Float(count) * keepProbability)
        return AttributionMap(map: Tensor(uncheckedShape: [h, w], scalars: map.map { $0 * scale }), target: cls,
                              evaluations: count, seconds: Date().timeIntervalSince(start), seed: seed,
                              method: "rise(\(removal))")
    }
}
