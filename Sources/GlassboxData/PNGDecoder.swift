import Foundation
import GlassboxNN

/// A PNG decoder in pure Swift (ISO/IEC 15948): every colour type (grey, RGB, palette,
/// grey + alpha, RGBA) at every legal bit depth (1, 2, 4, 8, 16), Adam7 interlacing, the five
/// row filters, any number of `IDAT` chunks, and an `eXIf` orientation.
///
/// Output follows Pillow's `Image.open(p).convert("RGB")`: grey types give one channel, colour
/// types three; 16-bit samples keep their high byte; 1/2/4-bit grey is scaled to 0…255
/// (×255, ×85, ×17); palette indices are looked up (an index past the palette gives black);
/// alpha channels and `tRNS` are dropped, not composited.
///
/// Checks: the signature, every chunk's CRC-32, IHDR's fields, the zlib header and Adler-32, and
/// that the image data decompresses to exactly the size the header implies. The header's
/// `width · height` is checked against `maxPixels` and the decompression is capped at the
/// implied size before anything is allocated, so size lies, truncation and decompression bombs
/// each end in one ``GlassboxError/badFile(path:location:problem:)``.
///
/// Cost: O(decompressed bytes); memory ≈ compressed + decompressed + output size.
public enum PNGDecoder {
    public static func decode(_ data: Data, path: String, maxPixels: Int = ImageFile.maxPixels) throws -> PixelImage {
        let bytes = [UInt8](data)
        func bad(_ location: String, _ problem: String) -> GlassboxError {
            .badFile(path: path, location: location, problem: problem)
        }
        guard bytes.count >= 8, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw bad("byte offset 0", "not a PNG file (bad signature)")
        }
        func u32(_ o: Int) -> Int { Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]) }

        var header: Header?
        var palette: [UInt8] = []
        var compressed: [UInt8] = []
        var orientation: Int?
        var sawIEND = false
        var pos = 8
        while pos < bytes.count {
            guard bytes.count - pos >= 12 else {
                throw bad("byte offset \(pos)", "truncated: a chunk header needs 12 bytes, \(bytes.count - pos) left")
            }
            let length = u32(pos)
            let typeBytes = bytes[(pos + 4)..<(pos + 8)]
            let type = String(decoding: typeBytes, as: UTF8.self)
            guard length <= 0x7FFF_FFFF, typeBytes.allSatisfy({ (65...90).contains($0) || (97...122).contains($0) }) else {
                throw bad("byte offset \(pos)", "bad chunk header (type \(typeBytes.map { String($0, radix: 16) }), length \(length))")
            }
            guard length <= bytes.count - pos - 12 else {
                throw bad("byte offset \(pos)", "truncated: chunk \(type) declares \(length) bytes, \(bytes.count - pos - 12) present")
            }
            let body = (pos + 8)..<(pos + 8 + length)
            let stored = UInt32(u32(body.upperBound))
            let crc = bytes.withUnsafeBufferPointer { CRC32.checksum(UnsafeBufferPointer(rebasing: $0[(pos + 4)..<body.upperBound])) }
            guard crc == stored else {
                throw bad("chunk \(type) at byte offset \(pos)", "CRC mismatch (stored \(String(stored, radix: 16)), computed \(String(crc, radix: 16))): the file is corrupt")
            }
            if header == nil && type != "IHDR" { throw bad("byte offset \(pos)", "first chunk is \(type), expected IHDR") }
            switch type {
            case "IHDR":
                guard header == nil else { throw bad("byte offset \(pos)", "second IHDR chunk") }
                guard length == 13 else { throw bad("byte offset \(pos)", "IHDR has \(length) bytes, expected 13") }
                header = try Header(Array(bytes[body]), maxPixels: maxPixels) { bad("IHDR", $0) }
            case "PLTE":
                guard length % 3 == 0, length > 0, length <= 768 else {
                    throw bad("PLTE at byte offset \(pos)", "palette of \(length) bytes (must be 3…768, a multiple of 3)")
                }
                palette = Array(bytes[body])
            case "IDAT":
                // The whole file bounds the compressed size; the reserve grows by doubling.
                compressed.append(contentsOf: bytes[body])
            case "eXIf":
                orientation = EXIFOrientation.read(tiff: bytes[body])
            case "IEND":
                sawIEND = true
            default:
                // Unknown critical chunks (upper-case first letter) cannot be skipped safely.
                guard typeBytes.first! >= 97 else { throw bad("byte offset \(pos)", "unknown critical chunk \(type)") }
            }
            pos = body.upperBound + 4
            if sawIEND { break }
        }
        guard let header else { throw bad("byte offset 8", "no IHDR chunk") }
        guard sawIEND else { throw bad("byte offset \(bytes.count)", "truncated: the file ends before the IEND chunk") }
        guard !compressed.isEmpty else { throw bad("IDAT", "no image data (IDAT chunks)") }
        if header.colourType == 3 && palette.isEmpty { throw bad("PLTE", "palette image without a PLTE chunk") }

        let raw = try inflateZlib(compressed, expected: header.rawSize, path: path)
        var image = try header.reconstruct(raw, palette: palette) { bad("IDAT", $0) }
        if let orientation { image = image.oriented(orientation) }
        return image
    }

    /// Unwraps a zlib stream (RFC 1950) whose output must be exactly `expected` bytes.
    private static func inflateZlib(_ z: [UInt8], expected: Int, path: String) throws -> [UInt8] {
        func bad(_ problem: String) -> GlassboxError { .badFile(path: path, location: "IDAT zlib stream", problem: problem) }
        guard z.count >= 6 else { throw bad("\(z.count) bytes is too short for a zlib stream") }
        let cmf = Int(z[0]), flg = Int(z[1])
        guard cmf & 15 == 8, cmf >> 4 <= 7, (cmf << 8 | flg) % 31 == 0, flg & 0x20 == 0 else {
            throw bad("bad zlib header \(String(cmf, radix: 16)) \(String(flg, radix: 16))")
        }
        let out: Data
        do {
            out = try Inflate.inflate(Data(z[2...]), path: path, maxOutput: expected)
        } catch GlassboxError.badFile(_, _, let problem) where problem.contains("exceeds the limit") {
            throw bad("decompresses to more than the \(expected) bytes the header's size implies (size lie or decompression bomb)")
        } catch GlassboxError.badFile(_, let location, let problem) {
            throw bad("\(problem) (\(location) of the compressed data; truncated or corrupt)")
        }
        guard out.count == expected else {
            throw bad("decompresses to \(out.count) bytes, the header's size implies \(expected) (truncated image data)")
        }
        let raw = [UInt8](out)
        var a: UInt32 = 1, b: UInt32 = 0
        var i = 0
        while i < raw.count {
            let end = min(raw.count, i + 5552)
            while i < end { a += UInt32(raw[i]); b += a; i += 1 }
            a %= 65521; b %= 65521
        }
        let n = z.count
        let stored = UInt32(z[n - 4]) << 24 | UInt32(z[n - 3]) << 16 | UInt32(z[n - 2]) << 8 | UInt32(z[n - 1])
        guard stored == b << 16 | a else { throw bad("Adler-32 mismatch: the image data is corrupt") }
        return raw
    }

    /// IHDR's fields and the geometry they imply.
    struct Header {
        let width: Int, height: Int, bitDepth: Int, colourType: Int, interlaced: Bool
        /// Samples per pixel in the file (palette indices count as one).
        let samples: Int

        init(_ b: [UInt8], maxPixels: Int, bad: (String) -> GlassboxError) throws {
            width = Int(b[0]) << 24 | Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3])
            height = Int(b[4]) << 24 | Int(b[5]) << 16 | Int(b[6]) << 8 | Int(b[7])
            bitDepth = Int(b[8]); colourType = Int(b[9])
            guard width > 0, height > 0, width <= 0x7FFF_FFFF, height <= 0x7FFF_FFFF else {
                throw bad("image is \(width)×\(height); both sides must be 1…2³¹−1")
            }
            guard width <= maxPixels / height else {
                throw bad("image is \(width)×\(height), more than the limit of \(maxPixels) pixels")
            }
            let depths: [Int: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
            guard let allowed = depths[colourType] else { throw bad("unknown colour type \(colourType)") }
            guard allowed.contains(bitDepth) else { throw bad("bit depth \(bitDepth) is not allowed for colour type \(colourType)") }
            guard b[10] == 0, b[11] == 0 else { throw bad("unknown compression method \(b[10]) or filter method \(b[11])") }
            guard b[12] <= 1 else { throw bad("unknown interlace method \(b[12])") }
            interlaced = b[12] == 1
            samples = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colourType]!
        }

        var bitsPerPixel: Int { samples * bitDepth }
        func rowBytes(_ w: Int) -> Int { (w * bitsPerPixel + 7) / 8 }

        /// (x0, y0, dx, dy) of each pass: one for plain images, Adam7's seven otherwise.
        var passes: [(Int, Int, Int, Int)] {
            interlaced ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
                       : [(0, 0, 1, 1)]
        }
        func passSize(_ p: (Int, Int, Int, Int)) -> (Int, Int) {
            (width > p.0 ? (width - p.0 + p.2 - 1) / p.2 : 0, height > p.1 ? (height - p.1 + p.3 - 1) / p.3 : 0)
        }
        /// Bytes of filtered image data: per pass, one filter byte plus the packed row, per row.
        var rawSize: Int {
            passes.reduce(0) { total, p in
                let (w, h) = passSize(p)
                return w == 0 || h == 0 ? total : total + h * (1 + rowBytes(w))
            }
        }

        /// Undoes the filters pass by pass and converts samples to 8-bit grey or RGB.
        func reconstruct(_ raw: [UInt8], palette: [UInt8], bad: (String) -> GlassboxError) throws -> PixelImage {
            let outChannels = colourType == 0 || colourType == 4 ? 1 : 3
            var out = [UInt8](repeating: 0, count: width * height * outChannels)
            let bpp = max(1, bitsPerPixel / 8)
            var offset = 0
            for p in passes {
                let (pw, ph) = passSize(p)
                guard pw > 0, ph > 0 else { continue }
                let stride = rowBytes(pw)
                var previous = [UInt8](repeating: 0, count: stride)
                var row = [UInt8](repeating: 0, count: stride)
                for y in 0..<ph {
                    let filter = raw[offset]
                    for i in 0..<stride { row[i] = raw[offset + 1 + i] }
                    switch filter {
                    case 0: break
                    case 1: for i in bpp..<max(bpp, stride) { row[i] &+= row[i - bpp] }
                    case 2: for i in 0..<stride { row[i] &+= previous[i] }
                    case 3:
                        for i in 0..<stride {
                            let left = i >= bpp ? Int(row[i - bpp]) : 0
                            row[i] &+= UInt8((left + Int(previous[i])) >> 1)
                        }
                    case 4:
                        for i in 0..<stride {
                            let a = i >= bpp ? Int(row[i - bpp]) : 0, b = Int(previous[i]), c = i >= bpp ? Int(previous[i - bpp]) : 0
                            let pa = abs(b - c), pb = abs(a - c), pc = abs(a + b - 2 * c)
                            row[i] &+= UInt8(pa <= pb && pa <= pc ? a : pb <= pc ? b : c)
                        }
                    default:
                        throw bad("row \(y)\(interlaced ? " of interlace pass" : ""): unknown filter type \(filter)")
                    }
                    offset += 1 + stride
                    let yy = p.1 + y * p.3
                    for x in 0..<pw {
                        let o = (yy * width + p.0 + x * p.2) * outChannels
                        store(row, pixel: x, into: &out, at: o, palette: palette)
                    }
                    swap(&previous, &row)
                }
            }
            return PixelImage(width: width, height: height, channels: outChannels, pixels: out)
        }

        /// Sample `s` of pixel `x` in a packed row, reduced to 8 bits.
        @inline(__always) private func sample(_ row: [UInt8], _ x: Int, _ s: Int) -> Int {
            switch bitDepth {
            case 8: return Int(row[x * samples + s])
            case 16: return Int(row[2 * (x * samples + s)])
            default:
                let bit = x * bitDepth
                let v = Int(row[bit >> 3]) >> (8 - bitDepth - (bit & 7)) & ((1 << bitDepth) - 1)
                return colourType == 3 ? v : v * 255 / ((1 << bitDepth) - 1)
            }
        }

        @inline(__always) private func store(_ row: [UInt8], pixel x: Int, into out: inout [UInt8], at o: Int, palette: [UInt8]) {
            switch colourType {
            case 0, 4: out[o] = UInt8(sample(row, x, 0))
            case 3:
                let i = 3 * sample(row, x, 0)
                if i + 2 < palette.count { out[o] = palette[i]; out[o + 1] = palette[i + 1]; out[o + 2] = palette[i + 2] }
            default:
                out[o] = UInt8(sample(row, x, 0)); out[o + 1] = UInt8(sample(row, x, 1)); out[o + 2] = UInt8(sample(row, x, 2))
            }
        }
    }
}
