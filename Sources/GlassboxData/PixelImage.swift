import Foundation
import GlassboxNN

/// A decoded 8-bit image: `channels` samples per pixel (1 = grey, 3 = RGB), pixels stored row
/// by row from the top, samples interleaved (`pixels[(y · width + x) · channels + c]`).
///
/// This is what the PNG and JPEG decoders produce: the values Pillow's
/// `Image.open(p).convert("RGB")` gives (grey images keep one channel; ``rgb()`` repeats it, as
/// Pillow's L → RGB does). Alpha is not kept (see docs/images.md).
public struct PixelImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [UInt8]

    /// An image from interleaved samples; `pixels.count` must be `width · height · channels`.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && (channels == 1 || channels == 3)
                     && pixels.count == width * height * channels, "PixelImage: \(width)×\(height)×\(channels) with \(pixels.count) samples")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Three channels: grey is repeated into R, G and B (Pillow's `convert("RGB")` of an L image).
    public func rgb() -> PixelImage {
        guard channels == 1 else { return self }
        var out = [UInt8](repeating: 0, count: pixels.count * 3)
        for (i, v) in pixels.enumerated() { out[3 * i] = v; out[3 * i + 1] = v; out[3 * i + 2] = v }
        return PixelImage(width: width, height: height, channels: 3, pixels: out)
    }

    /// One channel: RGB becomes luma L = (19595 R + 38470 G + 7471 B + 2¹⁵) >> 16, the ITU-R 601
    /// weights in Pillow's fixed point (its `convert("L")`).
    public func grey() -> PixelImage {
        guard channels == 3 else { return self }
        var out = [UInt8](repeating: 0, count: width * height)
        for i in 0..<out.count {
            let r = Int(pixels[3 * i]), g = Int(pixels[3 * i + 1]), b = Int(pixels[3 * i + 2])
            out[i] = UInt8((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
        }
        return PixelImage(width: width, height: height, channels: 1, pixels: out)
    }

    /// `[1, C, H, W]` with samples divided by 255 (the scale of PNM and IDX images).
    public func tensor() -> Tensor {
        let plane = width * height
        var out = [Float](repeating: 0, count: plane * channels)
        for j in 0..<plane { for c in 0..<channels { out[c * plane + j] = Float(pixels[j * channels + c]) / 255 } }
        return Tensor(uncheckedShape: [1, channels, height, width], scalars: out)
    }

    /// The image turned upright for an EXIF orientation tag value (1…8), as
    /// `PIL.ImageOps.exif_transpose` does: 2 mirror, 3 rotate 180°, 4 flip, 5 transpose,
    /// 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise. Other values leave the
    /// image unchanged. Cost: one copy.
    public func oriented(_ orientation: Int) -> PixelImage {
        guard (2...8).contains(orientation) else { return self }
        let swaps = orientation >= 5
        let (ow, oh) = swaps ? (height, width) : (width, height)
        var out = [UInt8](repeating: 0, count: pixels.count)
        let (w, h) = (width, height)
        for y in 0..<oh {
            for x in 0..<ow {
                let (sx, sy): (Int, Int)
                switch orientation {
                case 2: (sx, sy) = (w - 1 - x, y)
                case 3: (sx, sy) = (w - 1 - x, h - 1 - y)
                case 4: (sx, sy) = (x, h - 1 - y)
                case 5: (sx, sy) = (y, x)
                case 6: (sx, sy) = (y, h - 1 - x)
                case 7: (sx, sy) = (w - 1 - y, h - 1 - x)
                default: (sx, sy) = (w - 1 - y, x)
                }
                let o = (y * ow + x) * channels, s = (sy * w + sx) * channels
                for c in 0..<channels { out[o + c] = pixels[s + c] }
            }
        }
        return PixelImage(width: ow, height: oh, channels: channels, pixels: out)
    }
}

/// The orientation tag (0x0112) of an EXIF block (the TIFF structure after `Exif\0\0` in a JPEG
/// APP1 segment, or a PNG `eXIf` chunk). Returns nil when the block has no valid orientation;
/// a malformed block is ignored rather than failing the image, as Pillow does.
enum EXIFOrientation {
    static func read(tiff: ArraySlice<UInt8>) -> Int? {
        let b = Array(tiff)
        guard b.count >= 8 else { return nil }
        let little: Bool
        switch (b[0], b[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ o: Int) -> Int? {
            guard o >= 0, o + 2 <= b.count else { return nil }
            return little ? Int(b[o]) | Int(b[o + 1]) << 8 : Int(b[o]) << 8 | Int(b[o + 1])
        }
        func u32(_ o: Int) -> Int? {
            guard let lo = u16(little ? o : o + 2), let hi = u16(little ? o + 2 : o) else { return nil }
            return hi << 16 | lo
        }
        guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd) else { return nil }
        for i in 0..<count {
            let entry = ifd + 2 + 12 * i
            guard let tag = u16(entry) else { return nil }
            if tag == 0x0112 {
                guard let type = u16(entry + 2) else { return nil }
                let value = type == 4 ? u32(entry + 8) : u16(entry + 8)
                guard let value, (1...8).contains(value) else { return nil }
                return value
            }
        }
        return nil
    }
}
