import Foundation
import GlassboxNN
import GlassboxData

/// An 8-bit RGBA raster: what ``PNG`` encodes and decodes.
public struct RGBAImage: Sendable, Equatable {
    /// Size in pixels.
    public let width: Int, height: Int
    /// `height·width·4` bytes, rows top to bottom, R G B A per pixel.
    public var pixels: [UInt8]

    /// An image filled with `fill` (opaque).
    public init(width: Int, height: Int, fill: RGB = RGB(255, 255, 255)) {
        (self.width, self.height) = (width, height)
        pixels = [UInt8](repeating: 255, count: width * height * 4)
        for i in 0..<(width * height) { (pixels[4 * i], pixels[4 * i + 1], pixels[4 * i + 2]) = (fill.r, fill.g, fill.b) }
    }

    /// Memberwise initialiser; see the properties.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 4, "RGBA buffer of \(pixels.count) bytes for \(width)×\(height)")
        (self.width, self.height, self.pixels) = (width, height, pixels)
    }

    /// The colour at column `x`, row `y` (alpha ignored).
    public subscript(x: Int, y: Int) -> RGB {
        get { let i = 4 * (y * width + x); return RGB(pixels[i], pixels[i + 1], pixels[i + 2]) }
        set { let i = 4 * (y * width + x); (pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3]) = (newValue.r, newValue.g, newValue.b, 255) }
    }
}

/// A minimal PNG codec: enough to embed small rasters in a report (`data:` URIs) and to read
/// the screenshots a browser takes.
///
/// Encoding writes 8-bit RGBA, filter type 0 on every row, inside a zlib stream of *stored*
/// (uncompressed) DEFLATE blocks — valid PNG that any viewer reads, with no compressor to
/// maintain; the images here are small (an 8×8 digit scaled up is a few kB). Decoding reads
/// non-interlaced 8-bit greyscale, grey+alpha, RGB, RGBA and palette images with all five row
/// filters, checking every chunk's CRC and the zlib header. Cost: O(pixels) both ways.
public enum PNG {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The PNG file of `image`.
    public static func encode(_ image: RGBAImage) -> Data {
        var raw = [UInt8]()
        raw.reserveCapacity(image.height * (1 + 4 * image.width))
        for y in 0..<image.height {
            raw.append(0)  // filter: none
            raw += image.pixels[(y * image.width * 4)..<((y + 1) * image.width * 4)]
        }
        var out = Data(signature)
        var header = [UInt8]()
        header += bigEndian(UInt32(image.width)) + bigEndian(UInt32(image.height))
        header += [8, 6, 0, 0, 0]  // 8 bits, RGBA, deflate, adaptive filters, no interlace
        chunk("IHDR", header, into: &out)
        chunk("IDAT", zlibStored(raw), into: &out)
        chunk("IEND", [], into: &out)
        return out
    }

    /// `data:image/png;base64,…` of `image`, for an `<img src>` or SVG `<image href>`.
    public static func dataURI(_ image: RGBAImage) -> String {
        "data:image/png;base64," + encode(image).base64EncodedString()
    }

    /// Decodes a PNG file; `path` names it in errors.
    /// - Throws: ``GlassboxError/badFile(path:location:problem:)`` for anything malformed or unsupported.
    public static func decode(_ data: Data, path: String = "PNG") throws -> RGBAImage {
        let bytes = [UInt8](data)
        func bad(_ at: Int, _ problem: String) -> GlassboxError { .badFile(path: path, location: "byte offset \(at)", problem: problem) }
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else { throw bad(0, "not a PNG file (bad signature)") }
        var at = 8
        var width = 0, height = 0, colorType = -1
        var palette: [RGB] = [], paletteAlpha: [UInt8] = []
        var compressed = [UInt8]()
        var ended = false
        while !ended {
            guard at + 8 <= bytes.count else { throw bad(at, "file ends inside a chunk header (no IEND chunk)") }
            let length = Int(readUInt32(bytes, at))
            let type = String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self)
            guard length <= bytes.count - at - 12 else { throw bad(at, "chunk '\(type)' claims \(length) bytes, past the end of the file") }
            let body = Array(bytes[(at + 8)..<(at + 8 + length)])
            let stored = readUInt32(bytes, at + 8 + length)
            let computed = bytes[(at + 4)..<(at + 8 + length)].withContiguousStorageIfAvailable { CRC32.checksum($0) }
                ?? CRC32.checksum(Data(bytes[(at + 4)..<(at + 8 + length)]))
            guard stored == computed else { throw bad(at, "chunk '\(type)' has a bad CRC") }
            switch type {
            case "IHDR":
                guard length == 13 else { throw bad(at, "IHDR has \(length) bytes, expected 13") }
                width = Int(readUInt32(body, 0)); height = Int(readUInt32(body, 4))
                let depth = Int(body[8]); colorType = Int(body[9])
                guard width > 0, height > 0, width <= 1 << 15, height <= 1 << 15 else { throw bad(at, "image size \(width)×\(height) is not supported") }
                guard depth == 8, [0, 2, 3, 4, 6].contains(colorType) else {
                    throw bad(at, "bit depth \(depth), colour type \(colorType): only 8-bit images are supported")
                }
                guard body[12] == 0 else { throw bad(at, "interlaced images are not supported") }
            case "PLTE": palette = stride(from: 0, to: length - 2, by: 3).map { RGB(body[$0], body[$0 + 1], body[$0 + 2]) }
            case "tRNS": paletteAlpha = body
            case "IDAT": compressed += body
            case "IEND": ended = true
            default: break
            }
            at += 12 + length
        }
        guard colorType >= 0 else { throw bad(8, "no IHDR chunk") }
        guard compressed.count >= 6, compressed[0] & 0x0F == 8, (UInt16(compressed[0]) << 8 | UInt16(compressed[1])) % 31 == 0 else {
            throw bad(8, "the image data is not a zlib/deflate stream")
        }
        let channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType]!
        let stride = width * channels
        let expected = height * (stride + 1)
        let raw = [UInt8](try Inflate.inflate(Data(compressed[2...]), path: path, maxOutput: expected + 1))
        guard raw.count >= expected else { throw bad(8, "image data has \(raw.count) bytes, expected \(expected)") }
        var rows = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            let src = y * (stride + 1) + 1, dst = y * stride
            for i in 0..<stride {
                let x = raw[src + i]
                let a = i >= channels ? Int(rows[dst + i - channels]) : 0
                let b = y > 0 ? Int(rows[dst - stride + i]) : 0
                let c = i >= channels && y > 0 ? Int(rows[dst - stride + i - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: throw bad(8, "row \(y) has unknown filter type \(filter)")
                }
                rows[dst + i] = UInt8(truncatingIfNeeded: Int(x) + predictor)
            }
        }
        var rgba = [UInt8](repeating: 255, count: width * height * 4)
        for p in 0..<(width * height) {
            let s = p * channels
            switch colorType {
            case 0: (rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2]) = (rows[s], rows[s], rows[s])
            case 4: (rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2], rgba[4 * p + 3]) = (rows[s], rows[s], rows[s], rows[s + 1])
            case 2: (rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2]) = (rows[s], rows[s + 1], rows[s + 2])
            case 6: for k in 0..<4 { rgba[4 * p + k] = rows[s + k] }
            default:
                let index = Int(rows[s])
                guard index < palette.count else { throw bad(8, "pixel \(p) uses palette entry \(index) of \(palette.count)") }
                (rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2]) = (palette[index].r, palette[index].g, palette[index].b)
                if index < paletteAlpha.count { rgba[4 * p + 3] = paletteAlpha[index] }
            }
        }
        return RGBAImage(width: width, height: height, pixels: rgba)
    }

    // MARK: internals

    static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    static func readUInt32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }

    static func chunk(_ type: String, _ body: [UInt8], into out: inout Data) {
        let typed = Array(type.utf8) + body
        out += bigEndian(UInt32(body.count))
        out += typed
        out += bigEndian(typed.withUnsafeBufferPointer { CRC32.checksum($0) })
    }

    /// A zlib stream (RFC 1950) of stored DEFLATE blocks (RFC 1951 §3.2.4) with its Adler-32.
    static func zlibStored(_ raw: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]  // deflate, 32 kB window, no dictionary, fastest level; (0x7801 % 31 == 0)
        var start = 0
        repeat {
            let count = min(65_535, raw.count - start)
            let final: UInt8 = start + count == raw.count ? 1 : 0
            out += [final, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            out += raw[start..<(start + count)]
            start += count
        } while start < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw { a = (a + UInt32(byte)) % 65_521; b = (b + a) % 65_521 }
        return out + bigEndian(b << 16 | a)
    }
}
