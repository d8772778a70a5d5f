import Foundation
import GlassboxNN

/// Netpbm single images: PGM (`P2` ASCII / `P5` binary grey) and PPM (`P3` ASCII / `P6` binary
/// RGB), maxval 1…65535 (binary samples of two bytes, big-endian, when maxval > 255).
///
/// Reading gives `[1, C, H, W]` (C = 1 for PGM, 3 for PPM) with samples scaled to 0…1 by maxval,
/// the scale IDX images use. Header comments (`#` to end of line) are skipped. Hostile input
/// (bad magic, missing or non-numeric fields, zero or oversized dimensions, samples above maxval,
/// truncated data) throws ``GlassboxError/badFile(path:location:problem:)`` naming the byte offset.
public enum PNM {
    /// Largest accepted `width · height · channels` (64 Mi samples).
    public static let maxSamples = 1 << 26

    /// Reads a PGM or PPM file as `[1, C, H, W]` with samples in 0…1. Throws if the file cannot
    /// be read, is larger than the sample bound allows, or is malformed (see ``decode(_:path:)``).
    public static func read(from url: URL) throws -> Tensor {
        try decode(FileData.read(url, maxBytes: 16 * maxSamples + 4096), path: url.path)
    }

    /// Decodes the bytes of a PGM or PPM image as `[1, C, H, W]` with samples in 0…1; `path`
    /// names the source in errors. Throws ``GlassboxError/badFile(path:location:problem:)`` with
    /// the byte offset of the first problem. Cost: O(bytes).
    public static func decode(_ data: Data, path: String) throws -> Tensor {
        let bytes = [UInt8](data)
        var pos = 0
        var field = 0
        func number(_ what: String, max limit: Int) throws -> Int { try number(what, max: limit, at: &field) }
        func bad(_ offset: Int, _ problem: String) -> GlassboxError {
            .badFile(path: path, location: "byte offset \(offset)", problem: problem)
        }
        func skipSpaceAndComments() {
            while pos < bytes.count {
                if bytes[pos] == UInt8(ascii: "#") {
                    while pos < bytes.count, bytes[pos] != 10, bytes[pos] != 13 { pos += 1 }
                } else if [9, 10, 11, 12, 13, 32].contains(bytes[pos]) {
                    pos += 1
                } else { return }
            }
        }
        /// Reads a decimal field; `at` receives its offset.
        func number(_ what: String, max limit: Int, at: inout Int) throws -> Int {
            skipSpaceAndComments()
            let start = pos
            at = start
            var value = 0
            while pos < bytes.count, bytes[pos] >= 48, bytes[pos] <= 57 {
                value = value * 10 + Int(bytes[pos] - 48)
                guard value <= limit else { throw bad(start, "\(what) exceeds \(limit)") }
                pos += 1
            }
            guard pos > start else {
                throw bad(start, pos < bytes.count ? "expected \(what), found byte 0x\(String(bytes[pos], radix: 16))"
                                                   : "file ends where \(what) was expected")
            }
            return value
        }
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "P"), [50, 51, 53, 54].contains(bytes[1]) else {
            throw bad(0, "not a PGM/PPM file (magic must be P2, P3, P5 or P6)")
        }
        let kind = Character(UnicodeScalar(bytes[1]))
        let channels = kind == "3" || kind == "6" ? 3 : 1
        let binary = kind == "5" || kind == "6"
        pos = 2
        let width = try number("width", max: maxSamples)
        let height = try number("height", max: maxSamples)
        guard width > 0, height > 0 else { throw bad(pos, "image is \(width)×\(height); both must be positive") }
        guard width * height * channels <= maxSamples else {
            throw bad(pos, "image \(width)×\(height)×\(channels) exceeds \(maxSamples) samples")
        }
        let maxval = try number("maxval", max: 65535)
        guard maxval > 0 else { throw bad(pos, "maxval must be 1…65535, got 0") }
        let count = width * height * channels
        // The header's size is checked against the bytes present before anything of that size is
        // allocated: a 20-byte file claiming 8192×8192 fails here, not after a 512 MB allocation.
        if binary {
            guard pos < bytes.count, [9, 10, 11, 12, 13, 32].contains(bytes[pos]) else {
                throw bad(pos, "expected one whitespace byte before the binary samples")
            }
            pos += 1
            let width2 = maxval > 255 ? 2 : 1
            guard bytes.count - pos >= count * width2 else {
                throw bad(bytes.count, "truncated: \(width)×\(height)×\(channels) needs \(count * width2) sample bytes from offset \(pos), \(bytes.count - pos) present")
            }
        } else {
            // Every ASCII sample is at least one digit after at least one whitespace byte.
            guard (bytes.count - pos) / 2 >= count else {
                throw bad(bytes.count, "file ends too early (truncated): \(width)×\(height)×\(channels) needs \(count) ASCII samples "
                              + "(at least \(2 * count) bytes) from offset \(pos), \(bytes.count - pos) present")
            }
        }
        var samples = [Int](repeating: 0, count: count)
        if binary {
            let width2 = maxval > 255 ? 2 : 1
            for i in 0..<count {
                let o = pos + i * width2
                let v = width2 == 2 ? Int(bytes[o]) << 8 | Int(bytes[o + 1]) : Int(bytes[o])
                guard v <= maxval else { throw bad(o, "sample \(v) exceeds maxval \(maxval)") }
                samples[i] = v
            }
        } else {
            for i in 0..<count {
                let v = try number("sample \(i)", max: 65535)
                guard v <= maxval else { throw bad(field, "sample \(v) exceeds maxval \(maxval)") }
                samples[i] = v
            }
        }
        // Interleaved RGB → planar [1, C, H, W].
        let plane = width * height
        var out = [Float](repeating: 0, count: count)
        let scale = Float(maxval)
        for j in 0..<plane { for c in 0..<channels { out[c * plane + j] = Float(samples[j * channels + c]) / scale } }
        return Tensor(uncheckedShape: [1, channels, height, width], scalars: out)
    }

    /// Encodes `[C, H, W]` or `[1, C, H, W]` (C = 1 → P5, C = 3 → P6) with maxval 255; values
    /// are clamped to 0…1 and rounded.
    public static func encode(_ image: Tensor) throws -> Data {
        let dims = image.rank == 4 && image.shape[0] == 1 ? Array(image.shape.dropFirst()) : image.shape
        guard dims.count == 3, dims[0] == 1 || dims[0] == 3 else {
            throw GlassboxError.shapeMismatch("PNM writes one image [1 or 3, H, W], got \(image.shape)")
        }
        let (c, h, w) = (dims[0], dims[1], dims[2])
        var data = Data("P\(c == 1 ? 5 : 6)\n\(w) \(h)\n255\n".utf8)
        let plane = h * w
        var body = [UInt8](repeating: 0, count: c * plane)
        for j in 0..<plane {
            for ch in 0..<c {
                let v = image.scalars[ch * plane + j]
                body[j * c + ch] = UInt8((min(1, max(0, v.isNaN ? 0 : v)) * 255).rounded())
            }
        }
        data.append(contentsOf: body)
        return data
    }

    /// Writes `image` (`[C, H, W]` or `[1, C, H, W]`, C = 1 or 3, values in 0…1) to `url` as
    /// binary PGM or PPM (see ``encode(_:)``), atomically. Throws on another shape or a write
    /// failure.
    public static func write(_ image: Tensor, to url: URL) throws {
        try AtomicFile.write(try encode(image), to: url)
    }
}
