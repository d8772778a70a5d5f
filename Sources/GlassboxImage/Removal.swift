import Foundation
import GlassboxNN
import GlassboxData

/// How a black-box explainer removes the occluded pixels of a mutant. Images live in the
/// model's input space (normalised), so `.constant(0)` is the training mean per channel —
/// ReX's default masking value ("0 in normalised space") and the same as "dataset mean".
public enum Removal: Sendable, Hashable, CustomStringConvertible {
    /// One value for every channel, in normalised space.
    case constant(Float)
    /// One value per channel, in normalised space (e.g. raw black: `(0 − mean_c) / std_c`).
    case channelConstant([Float])
    /// The image's own per-channel mean.
    case imageMean
    /// Fresh uniform noise in the image's `[min, max]` for every mutant (seeded per call).
    case uniformNoise
    /// A Gaussian blur of the image (σ in pixels, radius ⌈3σ⌉, clamped borders).
    case blur(sigma: Float)
    /// No value: the occluded units are switched off inside the network (ConvAD).
    case activationDeactivation(ActivationDeactivation.Variant)

    /// Raw black `0` in the normalised space of `normalizer`.
    public static func black(_ normalizer: ChannelNormalizer) -> Removal {
        .channelConstant(zip(normalizer.mean, normalizer.std).map { (0 - $0) / $1 })
    }

    /// The blur used by default: σ = max(1, min(H, W)/14) (2 px on 28×28, 1 px on 8×8).
    public static func defaultBlur(height: Int, width: Int) -> Removal {
        .blur(sigma: max(1, Float(min(height, width)) / 14))
    }

    public var description: String {
        switch self {
        case .constant(let v): return v == 0 ? "zero" : "constant(\(v))"
        case .channelConstant: return "black"
        case .imageMean: return "image-mean"
        case .uniformNoise: return "noise"
        case .blur(let s): return "blur(σ=\(s))"
        case .activationDeactivation(let v): return v == .strict ? "ad" : "ad-checkpoint"
        }
    }

    /// Whether removal switches units off inside the network (ConvAD) rather than writing a value.
    public var isActivationDeactivation: Bool {
        if case .activationDeactivation = self { return true }
        return false
    }
}

/// Gaussian blur of every channel of `image` `[C, H, W]` (separable, clamped borders).
public func gaussianBlur(_ image: Tensor, sigma: Float) -> Tensor {
    let h = image.shape[image.rank - 2], w = image.shape[image.rank - 1]
    let radius = max(1, Int((3 * sigma).rounded(.up)))
    var kernel: [Float] = (-radius...radius).map { (k: Int) -> Float in Foundation.exp(-Float(k * k) / (2 * sigma * sigma)) }
    let total = kernel.reduce(0, +)
    kernel = kernel.map { $0 / total }
    var tmp = image, out = image
    let planes = image.count / (h * w)
    for p in 0..<planes {
        let base = p * h * w
        for y in 0..<h {
            for x in 0..<w {
                var s: Float = 0
                for k in -radius...radius { s += kernel[k + radius] * image.scalars[base + y * w + min(w - 1, max(0, x + k))] }
                tmp.scalars[base + y * w + x] = s
            }
        }
        for y in 0..<h {
            for x in 0..<w {
                var s: Float = 0
                for k in -radius...radius { s += kernel[k + radius] * tmp.scalars[base + min(h - 1, max(0, y + k)) * w + x] }
                out.scalars[base + y * w + x] = s
            }
        }
    }
    return out
}
