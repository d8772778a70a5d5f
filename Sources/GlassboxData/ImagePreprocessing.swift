import Foundation
import GlassboxNN

/// How a model wants a photo turned into its input tensor, declared with the model (the import
/// spec's `preprocessing` object, stored in the model file):
///
///     {"resize": 256, "crop": [224, 224], "interpolation": "bilinear",
///      "scale": 255, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "channels": "RGB"}
///
/// Steps, in torchvision's order for `Resize(resize) + CenterCrop(crop) + ToTensor + Normalize`:
/// 1. `resize` (optional): the shorter side becomes `resize`, the longer `⌊resize · long / short⌋`,
///    resampled as Pillow's `Image.resize` with `interpolation` (antialiased when shrinking);
/// 2. `crop` (optional; `[h, w]` or one size): centre crop at top = round((H − h) / 2),
///    left = round((W − w) / 2) (ties to even, as Python's `round`); a crop larger than the image
///    pads with zeros, as torchvision's CenterCrop does;
/// 3. value v ∈ 0…255 → (v / scale − mean[c]) / std[c] in Float, channel order `channels`
///    ("RGB", "BGR", or "L" for one grey channel via ITU-R 601 luma).
///
/// Output `[1, C, H, W]`. Cost: O(input pixels · taps) for the resize, O(output) for the rest.
public struct ImagePreprocessing: Codable, Sendable, Equatable {
    public var resize: Int?
    public var crop: [Int]?
    public var interpolation: ImageResample.Filter
    public var scale: Float
    public var mean: [Float]
    public var std: [Float]
    public var channels: String

    public init(resize: Int? = nil, crop: [Int]? = nil, interpolation: ImageResample.Filter = .bilinear, scale: Float = 255,
                mean: [Float] = [0, 0, 0], std: [Float] = [1, 1, 1], channels: String = "RGB") throws {
        self.resize = resize; self.crop = crop; self.interpolation = interpolation
        self.scale = scale; self.mean = mean; self.std = std; self.channels = channels
        try validate()
    }

    /// torchvision's ImageNet recipe: Resize(256), CenterCrop(224), ImageNet mean and std.
    public static let imagenet = try! ImagePreprocessing(resize: 256, crop: [224], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])

    /// EfficientNet-Lite's convention: Resize(256), CenterCrop(224), (v − 127) / 128.
    public static let efficientNetLite = try! ImagePreprocessing(resize: 256, crop: [224], scale: 1, mean: [127, 127, 127], std: [128, 128, 128])

    enum CodingKeys: String, CodingKey { case resize, crop, interpolation, scale, mean, std, channels }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        resize = try c.decodeIfPresent(Int.self, forKey: .resize)
        if let one = try? c.decodeIfPresent(Int.self, forKey: .crop) { crop = [one] } else { crop = try c.decodeIfPresent([Int].self, forKey: .crop) }
        interpolation = try c.decodeIfPresent(ImageResample.Filter.self, forKey: .interpolation) ?? .bilinear
        scale = try c.decodeIfPresent(Float.self, forKey: .scale) ?? 255
        channels = try c.decodeIfPresent(String.self, forKey: .channels) ?? "RGB"
        let n = channels == "L" ? 1 : 3
        mean = try c.decodeIfPresent([Float].self, forKey: .mean) ?? [Float](repeating: 0, count: n)
        std = try c.decodeIfPresent([Float].self, forKey: .std) ?? [Float](repeating: 1, count: n)
        do { try validate() } catch let GlassboxError.invalidArgument(m) {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: m))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(resize, forKey: .resize)
        try c.encodeIfPresent(crop, forKey: .crop)
        try c.encode(interpolation, forKey: .interpolation)
        try c.encode(scale, forKey: .scale)
        try c.encode(mean, forKey: .mean)
        try c.encode(std, forKey: .std)
        try c.encode(channels, forKey: .channels)
    }

    /// Output channel count: 3 for RGB/BGR, 1 for L.
    public var outputChannels: Int { channels == "L" ? 1 : 3 }

    /// The crop as (height, width), if any.
    public var cropSize: (Int, Int)? {
        guard let crop else { return nil }
        return crop.count == 1 ? (crop[0], crop[0]) : (crop[0], crop[1])
    }

    func validate() throws {
        func bad(_ m: String) -> GlassboxError { .invalidArgument("preprocessing: \(m)") }
        guard ["RGB", "BGR", "L"].contains(channels) else { throw bad("channels must be \"RGB\", \"BGR\" or \"L\", got \"\(channels)\"") }
        if let resize, !(1...16384).contains(resize) { throw bad("resize must be 1…16384, got \(resize)") }
        if let crop {
            guard crop.count == 1 || crop.count == 2, crop.allSatisfy({ (1...16384).contains($0) }) else {
                throw bad("crop must be one size or [h, w], each 1…16384, got \(crop)")
            }
        }
        guard scale.isFinite, scale > 0 else { throw bad("scale must be a positive number, got \(scale)") }
        guard mean.count == outputChannels, std.count == outputChannels else {
            throw bad("mean and std need \(outputChannels) values for channels \(channels), got \(mean.count) and \(std.count)")
        }
        guard mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && $0 > 0 }) else { throw bad("mean must be finite and std positive") }
    }

    /// The resized and cropped 8-bit image (steps 1–2), in the colours of `channels` but before
    /// scaling: what the model sees, for drawing maps over.
    public func geometry(_ image: PixelImage) -> PixelImage {
        var image = channels == "L" ? image.grey() : image.rgb()
        if let resize {
            let (w, h) = (image.width, image.height)
            let (short, long) = w <= h ? (w, h) : (h, w)
            let newLong = Int(Double(resize * long) / Double(short))
            let (nw, nh) = w <= h ? (resize, newLong) : (newLong, resize)
            image = ImageResample.resize(image, width: max(nw, 1), height: max(nh, 1), filter: interpolation)
        }
        if let (ch, cw) = cropSize {
            // torchvision pads (c − n) // 2 before a too-large crop, else rounds (n − c) / 2 half to even.
            func start(_ n: Int, _ c: Int) -> Int { n < c ? -((c - n) / 2) : Int((Double(n - c) / 2).rounded(.toNearestOrEven)) }
            let top = start(image.height, ch), left = start(image.width, cw)
            let c = image.channels
            var out = [UInt8](repeating: 0, count: ch * cw * c)
            for y in 0..<ch {
                let sy = top + y
                guard sy >= 0, sy < image.height else { continue }
                for x in 0..<cw {
                    let sx = left + x
                    guard sx >= 0, sx < image.width else { continue }
                    for k in 0..<c { out[(y * cw + x) * c + k] = image.pixels[(sy * image.width + sx) * c + k] }
                }
            }
            image = PixelImage(width: cw, height: ch, channels: c, pixels: out)
        }
        return image
    }

    /// The model input `[1, C, H, W]` for a decoded photo (all three steps).
    public func apply(_ image: PixelImage) -> Tensor {
        tensor(geometry(image))
    }

    /// Step 3 as a ``ChannelNormalizer`` on samples already divided by 255 (channels in output
    /// order): (v/255 − mean·scale/255) / (std·scale/255) = (v/scale − mean) / std. Used where a
    /// removal must know what "black" is in model units.
    public var normalizer: ChannelNormalizer {
        ChannelNormalizer(mean: mean.map { $0 * scale / 255 }, std: std.map { $0 * scale / 255 })
    }

    /// Step 3 alone on an image already resized and cropped.
    public func tensor(_ image: PixelImage) -> Tensor {
        let c = outputChannels, plane = image.width * image.height
        var out = [Float](repeating: 0, count: c * plane)
        for j in 0..<plane {
            for k in 0..<c {
                let source = channels == "BGR" ? 2 - k : k
                out[k * plane + j] = (Float(image.pixels[j * image.channels + source]) / scale - mean[k]) / std[k]
            }
        }
        return Tensor(uncheckedShape: [1, c, image.height, image.width], scalars: out)
    }
}
