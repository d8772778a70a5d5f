import Foundation
import GlassboxNN

/// Reading photos and other images by their content: PNG, JPEG, PGM/PPM (and `.npy` arrays via
/// ``NPY``). The format is chosen by the file's first bytes, not its name.
///
/// Every decoder checks the declared size against ``maxPixels`` before allocating anything of
/// that size, and against the bytes actually present where the format allows, so a small hostile
/// file cannot make it allocate without bound (see docs/images.md).
public enum ImageFile {
    /// Default cap on `width · height` (2²⁶ ≈ 67 megapixels, e.g. 8192 × 8192). Decoding a JPEG at
    /// the cap holds about 12 bytes per pixel.
    public static let maxPixels = 1 << 26

    /// Largest file read (256 MiB).
    public static let maxFileBytes = 1 << 28

    /// The formats recognised by their signature.
    public enum Format: String, Sendable { case png, jpeg, pnm }

    /// The format of `data` from its first bytes, or nil.
    public static func format(of data: Data) -> Format? {
        let head = [UInt8](data.prefix(8))
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if head.starts(with: [0xFF, 0xD8]) { return .jpeg }
        if head.count >= 2, head[0] == UInt8(ascii: "P"), [50, 51, 53, 54].contains(head[1]) { return .pnm }
        return nil
    }

    /// Decodes a PNG, JPEG or PGM/PPM file's bytes to 8-bit pixels (EXIF orientation applied).
    /// `path` names the source in errors. PNM samples are rescaled from their maxval to 0…255.
    public static func decode(_ data: Data, path: String, maxPixels: Int = maxPixels) throws -> PixelImage {
        switch format(of: data) {
        case .png: return try PNGDecoder.decode(data, path: path, maxPixels: maxPixels)
        case .jpeg: return try JPEGDecoder.decode(data, path: path, maxPixels: maxPixels)
        case .pnm:
            let t = try PNM.decode(data, path: path)
            let (c, h, w) = (t.shape[1], t.shape[2], t.shape[3])
            guard w * h <= maxPixels else {
                throw GlassboxError.badFile(path: path, location: "header", problem: "image is \(w)×\(h), more than the limit of \(maxPixels) pixels")
            }
            var px = [UInt8](repeating: 0, count: c * h * w)
            for j in 0..<(h * w) { for ch in 0..<c { px[j * c + ch] = UInt8((t.scalars[ch * h * w + j] * 255).rounded()) } }
            return PixelImage(width: w, height: h, channels: c, pixels: px)
        case nil:
            // A file named as one format gets that format's own complaint about its first bytes.
            switch (path as NSString).pathExtension.lowercased() {
            case "pgm", "ppm", "pnm": _ = try PNM.decode(data, path: path)
            case "png": _ = try PNGDecoder.decode(data, path: path, maxPixels: maxPixels)
            case "jpg", "jpeg": _ = try JPEGDecoder.decode(data, path: path, maxPixels: maxPixels)
            default: break
            }
            throw GlassboxError.badFile(path: path, location: "byte offset 0",
                                        problem: "not a PNG, JPEG, PGM or PPM file (unknown signature)")
        }
    }

    /// Reads and decodes an image file (see ``decode(_:path:maxPixels:)``).
    public static func read(from url: URL, maxPixels: Int = maxPixels) throws -> PixelImage {
        try decode(FileData.read(url, maxBytes: maxFileBytes), path: url.path, maxPixels: maxPixels)
    }
}
