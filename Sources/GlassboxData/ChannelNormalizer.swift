import GlassboxNN

/// Per-channel image normalisation `x' = (x − mean_c) / std_c`, fitted on training images only
/// and stored with the model so explained images are scaled exactly as training images were.
public struct ChannelNormalizer: Codable, Sendable, Equatable {
    /// A normaliser with the given per-channel mean and standard deviation (std > 0).
    public init(mean: [Float], std: [Float]) { self.mean = mean; self.std = std }

    /// Per-channel mean `[C]`.
    public var mean: [Float]
    /// Per-channel standard deviation `[C]`, > 0.
    public var std: [Float]

    /// Fits mean and (population) standard deviation per channel of `images` `[n, c, h, w]`.
    /// A constant channel gets std 1 so it passes through centred.
    public static func fit(_ images: Tensor) throws -> ChannelNormalizer {
        guard images.rank == 4, images.shape[0] > 0 else {
            throw GlassboxError.shapeMismatch("ChannelNormalizer needs images [n, c, h, w] with n > 0, got \(images.shape)")
        }
        let n = images.shape[0], c = images.shape[1], plane = images.shape[2] * images.shape[3]
        var mean = [Float](repeating: 0, count: c), std = [Float](repeating: 1, count: c)
        images.scalars.withUnsafeBufferPointer { p in
            for ch in 0..<c {
                var s = 0.0, s2 = 0.0
                for i in 0..<n {
                    let base = (i * c + ch) * plane
                    for j in 0..<plane { let v = Double(p[base + j]); s += v; s2 += v * v }
                }
                let count = Double(n * plane)
                let m = s / count
                let variance = max(0, s2 / count - m * m)
                mean[ch] = Float(m)
                std[ch] = variance > 1e-12 ? Float(variance.squareRoot()) : 1
            }
        }
        return ChannelNormalizer(mean: mean, std: std)
    }

    /// Normalises `images` `[n, c, h, w]` with `c == mean.count`.
    public func transform(_ images: Tensor) throws -> Tensor {
        guard images.rank == 4, images.shape[1] == mean.count else {
            throw GlassboxError.shapeMismatch("normaliser for \(mean.count) channels applied to images of shape \(images.shape)")
        }
        var out = images
        let c = mean.count, plane = images.shape[2] * images.shape[3]
        out.scalars.withUnsafeMutableBufferPointer { p in
            for i in 0..<images.shape[0] {
                for ch in 0..<c {
                    let base = (i * c + ch) * plane, m = mean[ch], inv = 1 / std[ch]
                    for j in 0..<plane { p[base + j] = (p[base + j] - m) * inv }
                }
            }
        }
        return out
    }
}
