import Foundation
import GlassboxNN

/// An (approximately minimal) sufficient explanation: the smallest prefix of the pixels ranked
/// by an attribution map that, shown alone (the rest removed), makes the model's top-1 the target.
public struct SufficientExplanation: Sendable {
    /// Keep-mask `[1, 1, H, W]` of the explanation's pixels.
    public var mask: Tensor
    /// Pixels in the explanation.
    public var pixelCount: Int
    /// `pixelCount / (H·W)`.
    public var fraction: Double { Double(pixelCount) / Double(mask.count) }
    /// The class explained.
    public var target: Int
    /// Model evaluations spent.
    public var evaluations: Int

    /// Pixels ordered by decreasing score (ties: row-major order), as flat indices.
    public static func ranking(_ map: Tensor) -> [Int] {
        map.scalars.indices.sorted { a, b in
            map.scalars[a] != map.scalars[b] ? map.scalars[a] > map.scalars[b] : a < b
        }
    }

    /// rex-xai's `chunk_size` (its `min_box_size`): pixels added per step by default.
    public static let reXChunkSize = 10

    /// Adds ranked pixels `chunk` at a time (default ``reXChunkSize``, 10, as rex-xai's global
    /// strategy) to an otherwise removed image until the top-1 is `target`, so the size is a
    /// multiple of `chunk` (or the whole image); prefixes are evaluated in batches of the
    /// classifier's batch size, stopping at the first batch with a pass. The full image always
    /// passes when `target` is the model's top-1, so the result is at most the whole image.
    /// Cost: at most ⌈H·W/chunk⌉ evaluations, in practice ⌈size/chunk⌉ rounded up to a batch.
    public static func extract(_ classifier: MaskedClassifier, image: Tensor, attribution: Tensor, target: Int,
                               removal: Removal, chunk: Int? = nil, seed: UInt64 = 0) throws -> SufficientExplanation {
        let x = try MaskedClassifier.single(image)
        let h = x.shape[2], w = x.shape[3], plane = h * w
        guard attribution.count == plane else {
            throw GlassboxError.shapeMismatch("attribution map \(attribution.shape) for an image of \(h)×\(w)")
        }
        try TargetClass.check(target, classes: try classifier.plans.classes(Array(x.shape.dropFirst())), place: "sufficient explanation")
        let order = ranking(attribution)
        let step = max(1, chunk ?? reXChunkSize)
        let sizes = Array(stride(from: step, to: plane, by: step)) + [plane]
        var evaluations = 0
        var next = 0
        while next < sizes.count {
            let batch = Array(sizes[next..<min(sizes.count, next + classifier.batchSize)])
            var masks = [Float](repeating: 0, count: batch.count * plane)
            for (i, size) in batch.enumerated() { for j in order[0..<size] { masks[i * plane + j] = 1 } }
            let logits = try classifier.logits(image: x, masks: Tensor(uncheckedShape: [batch.count, 1, h, w], scalars: masks),
                                               removal: removal, seed: seed &+ UInt64(next))
            evaluations += batch.count
            for i in batch.indices where argmaxRow(logits, i) == target {
                return SufficientExplanation(mask: Tensor(uncheckedShape: [1, 1, h, w],
                                                          scalars: Array(masks[i * plane..<(i + 1) * plane])),
                                             pixelCount: batch[i], target: target, evaluations: evaluations)
            }
            next += batch.count
        }
        return SufficientExplanation(mask: .ones([1, 1, h, w]), pixelCount: plane, target: target, evaluations: evaluations)
    }
}
