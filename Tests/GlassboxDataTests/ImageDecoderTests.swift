import Foundation
import Testing
import GlassboxData
import GlassboxNN

/// PNG and JPEG decoding against Pillow: every fixture in Fixtures/images (written by
/// benchmarks/tools/make_image_fixtures.py) sits beside the pixels Pillow decoded from it.
@Suite struct ImageDecoderTests {
    static let directory = Fixtures.directory.appendingPathComponent("images")

    static let cases: [String] = {
        (try? String(contentsOf: directory.appendingPathComponent("manifest.txt"), encoding: .utf8))?
            .split(separator: "\n").map { String($0.split(separator: " ")[0]) } ?? []
    }()

    /// Pillow's pixels for `name`, as 8-bit RGB.
    static func expected(_ name: String) throws -> PixelImage {
        let stem = (name as NSString).deletingPathExtension
        let ppm = directory.appendingPathComponent(stem + ".ppm"), pgm = directory.appendingPathComponent(stem + ".pgm")
        let url = FileManager.default.fileExists(atPath: ppm.path) ? ppm : pgm
        return try ImageFile.read(from: url).rgb()
    }

    static func maxDifference(_ a: PixelImage, _ b: PixelImage) -> Int {
        zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }

    @Test func manifestListsEveryVariant() {
        #expect(Self.cases.count >= 45)
        for needed in ["png_grey1", "png_grey16", "png_palette1", "png_rgba16", "png_adam7_rgb8", "jpeg_progressive_420",
                       "jpeg_restart_420", "jpeg_exif6", "jpeg_cmyk", "jpeg_grey", "jpeg_cjpeg_440", "jpeg_cjpeg_411", "jpeg_cjpeg_rgb"] {
            #expect(Self.cases.contains { $0.hasPrefix(needed) }, "missing fixture \(needed)")
        }
    }

    /// Every fixture decodes to exactly Pillow's pixels (the tolerance would be ±1; the maximum
    /// difference seen is 0).
    @Test(arguments: cases) func matchesPillow(_ name: String) throws {
        let image = try ImageFile.read(from: Self.directory.appendingPathComponent(name))
        let want = try Self.expected(name)
        #expect(image.width == want.width && image.height == want.height, "\(name): \(image.width)×\(image.height) vs \(want.width)×\(want.height)")
        guard image.width == want.width, image.height == want.height else { return }
        #expect(Self.maxDifference(image.rgb(), want) == 0, "\(name): max difference \(Self.maxDifference(image.rgb(), want))")
    }

    @Test func greyFilesKeepOneChannel() throws {
        for name in ["png_grey4.png", "png_greyalpha8.png", "jpeg_grey.jpg", "jpeg_progressive_grey.jpg"] {
            #expect(try ImageFile.read(from: Self.directory.appendingPathComponent(name)).channels == 1, "\(name)")
        }
        #expect(try ImageFile.read(from: Self.directory.appendingPathComponent("png_palette4.png")).channels == 3)
    }

    @Test func exifOrientationSwapsSides() throws {
        for o in 1...8 {
            let image = try ImageFile.read(from: Self.directory.appendingPathComponent("jpeg_exif\(o).jpg"))
            #expect((image.width, image.height) == (o >= 5 ? (7, 11) : (11, 7)), "orientation \(o)")
        }
    }

    // MARK: hostile input

    static func fixture(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: directory.appendingPathComponent(name))) }

    @Test func pngTruncatedAnywhereFailsCleanly() throws {
        let png = try Self.fixture("png_rgb8.png")
        for cut in stride(from: 0, to: png.count - 1, by: 7) {
            #expect(throws: GlassboxError.self) { try ImageFile.decode(Data(png[0..<cut]), path: "cut.png") }
        }
    }

    @Test func jpegTruncatedAnywhereFailsCleanly() throws {
        for name in ["jpeg_420.jpg", "jpeg_progressive_420.jpg", "jpeg_restart_420.jpg"] {
            let jpg = try Self.fixture(name)
            for cut in stride(from: 0, to: jpg.count - 2, by: 5) {
                #expect(throws: GlassboxError.self, "\(name) cut at \(cut)") { try JPEGDecoder.decode(Data(jpg[0..<cut]), path: "cut.jpg") }
            }
        }
    }

    @Test func pngCRCMismatch() throws {
        var png = try Self.fixture("png_grey8.png")
        png[20] ^= 1  // inside IHDR
        expectBadFile(path: "x.png", location: "IHDR", problem: "CRC mismatch") { _ = try PNGDecoder.decode(Data(png), path: "x.png") }
    }

    /// Builds a PNG from chunks (CRCs computed), for size lies and bombs.
    static func png(width: UInt32, height: UInt32, depth: UInt8 = 8, colour: UInt8 = 2, idat: [UInt8]) -> Data {
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let t = Array(type.utf8)
            let crc = (t + body).withUnsafeBufferPointer { CRC32.checksum($0) }
            return [UInt8](Data.be(UInt32(body.count))) + t + body + [UInt8](Data.be(crc))
        }
        let ihdr = [UInt8](Data.be(width)) + [UInt8](Data.be(height)) + [depth, colour, 0, 0, 0]
        return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", idat) + chunk("IEND", []))
    }

    /// A zlib stream of `n` zero bytes, stored in fixed-Huffman runs (≈ 1 byte per 258 zeros).
    static func zlibZeros(_ n: Int) -> [UInt8] {
        // Stored blocks keep the test independent of a compressor: zeros 65535 at a time.
        var out: [UInt8] = [0x78, 0x01]
        var left = n
        repeat {
            let k = min(left, 65535)
            left -= k
            out += [left == 0 ? 1 : 0, UInt8(k & 0xFF), UInt8(k >> 8), UInt8(~k & 0xFF), UInt8((~k >> 8) & 0xFF)]
            out += [UInt8](repeating: 0, count: k)
        } while left > 0
        // Adler-32 of n zeros: a = 1, b = n mod 65521.
        let b = UInt32(n % 65521)
        return out + [UInt8](Data.be(b << 16 | 1))
    }

    @Test func pngSizeLiesAndBombs() throws {
        // 0×0, and a huge size: refused from IHDR, before any allocation.
        expectBadFile(path: "z.png", location: "IHDR", problem: "both sides") { _ = try PNGDecoder.decode(Self.png(width: 0, height: 0, idat: Self.zlibZeros(1)), path: "z.png") }
        expectBadFile(path: "h.png", location: "IHDR", problem: "limit of") {
            _ = try PNGDecoder.decode(Self.png(width: 100_000, height: 100_000, idat: Self.zlibZeros(1)), path: "h.png")
        }
        // Data for 4×4 RGB (4 rows of 1 + 12 bytes) under a header claiming 4×5: truncated.
        expectBadFile(path: "t.png", location: "IDAT", problem: "truncated") {
            _ = try PNGDecoder.decode(Self.png(width: 4, height: 5, idat: Self.zlibZeros(52)), path: "t.png")
        }
        // More data than the header implies stops at the implied size (a bomb cannot grow).
        expectBadFile(path: "b.png", location: "IDAT", problem: "more than the 52 bytes") {
            _ = try PNGDecoder.decode(Self.png(width: 4, height: 4, idat: Self.zlibZeros(200_000)), path: "b.png")
        }
        // Exactly right: 4×4 black.
        let ok = try PNGDecoder.decode(Self.png(width: 4, height: 4, idat: Self.zlibZeros(52)), path: "ok.png")
        #expect(ok.pixels == [UInt8](repeating: 0, count: 48))
        // A pixel cap below the image.
        expectBadFile(path: "c.png", problem: "limit of 10 pixels") {
            _ = try PNGDecoder.decode(Self.png(width: 4, height: 4, idat: Self.zlibZeros(52)), path: "c.png", maxPixels: 10)
        }
        expectBadFile(path: "d.png", problem: "bit depth 3") { _ = try PNGDecoder.decode(Self.png(width: 1, height: 1, depth: 3, idat: Self.zlibZeros(4)), path: "d.png") }
    }

    /// Minimal baseline JPEG header: SOI, DQT, SOF0 (w×h, 1 component), DHT DC/AC with one
    /// 1-bit code each (symbol 0), SOS, then `scan` bytes and EOI.
    static func jpeg(width: Int, height: Int, marker: UInt8 = 0xC0, precision: UInt8 = 8, scan: [UInt8]) -> Data {
        var b: [UInt8] = [0xFF, 0xD8]
        b += [0xFF, 0xDB, 0, 67, 0] + [UInt8](repeating: 1, count: 64)
        b += [0xFF, marker, 0, 11, precision, UInt8(height >> 8), UInt8(height & 255), UInt8(width >> 8), UInt8(width & 255), 1, 1, 0x11, 0]
        let counts: [UInt8] = [1] + [UInt8](repeating: 0, count: 15)
        b += [0xFF, 0xC4, 0, 20, 0x00] + counts + [0]
        b += [0xFF, 0xC4, 0, 20, 0x10] + counts + [0]
        b += [0xFF, 0xDA, 0, 8, 1, 1, 0x00, 0, 63, 0]
        return Data(b + scan + [0xFF, 0xD9])
    }

    @Test func jpegSizeLiesAndUnsupportedKinds() throws {
        // 8×8: one block = DC code "0" + EOB code "0" → 2 bits.
        let ok = try JPEGDecoder.decode(Self.jpeg(width: 8, height: 8, scan: [0x00]), path: "ok.jpg")
        #expect(ok.pixels == [UInt8](repeating: 128, count: 64))
        expectBadFile(path: "big.jpg", problem: "size lie") {
            _ = try JPEGDecoder.decode(Self.jpeg(width: 8000, height: 8000, scan: [0x00]), path: "big.jpg")
        }
        expectBadFile(path: "t.jpg", problem: "ends early") {
            _ = try JPEGDecoder.decode(Self.jpeg(width: 64, height: 64, scan: [UInt8](repeating: 0, count: 8)), path: "t.jpg")
        }
        expectBadFile(path: "z.jpg", problem: "width is 0") { _ = try JPEGDecoder.decode(Self.jpeg(width: 0, height: 8, scan: [0]), path: "z.jpg") }
        expectBadFile(path: "z.jpg", problem: "DNL") { _ = try JPEGDecoder.decode(Self.jpeg(width: 8, height: 0, scan: [0]), path: "z.jpg") }
        expectBadFile(path: "h.jpg", problem: "limit of") {
            _ = try JPEGDecoder.decode(Self.jpeg(width: 65535, height: 65535, scan: [0]), path: "h.jpg")
        }
        expectBadFile(path: "a.jpg", problem: "arithmetic") { _ = try JPEGDecoder.decode(Self.jpeg(width: 8, height: 8, marker: 0xC9, scan: [0]), path: "a.jpg") }
        expectBadFile(path: "l.jpg", problem: "lossless") { _ = try JPEGDecoder.decode(Self.jpeg(width: 8, height: 8, marker: 0xC3, scan: [0]), path: "l.jpg") }
        expectBadFile(path: "p.jpg", problem: "12-bit") { _ = try JPEGDecoder.decode(Self.jpeg(width: 8, height: 8, precision: 12, scan: [0]), path: "p.jpg") }
        expectBadFile(path: "jpeg_cjpeg_arithmetic.jpg", problem: "arithmetic-coded") {
            _ = try ImageFile.read(from: Self.directory.appendingPathComponent("jpeg_cjpeg_arithmetic.jpg"))
        }
        // Three 1-bit codes cannot exist.
        var overfull = [UInt8](Self.jpeg(width: 8, height: 8, scan: [0x00]))
        let dht = overfull.firstIndex(of: 0xC4)! - 1
        overfull.replaceSubrange(dht..<(dht + 22), with: [0xFF, 0xC4, 0, 22, 0x00, 3] + [UInt8](repeating: 0, count: 15) + [0, 1, 2])
        expectBadFile(path: "o.jpg", problem: "more codes than its lengths allow") { _ = try JPEGDecoder.decode(Data(overfull), path: "o.jpg") }
        // A 3-component frame whose scan covers one component, the others without a quantisation table.
        var b: [UInt8] = [0xFF, 0xD8, 0xFF, 0xDB, 0, 67, 0] + [UInt8](repeating: 1, count: 64)
        b += [0xFF, 0xC0, 0, 17, 8, 0, 8, 0, 8, 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]
        let counts: [UInt8] = [1] + [UInt8](repeating: 0, count: 15)
        b += [0xFF, 0xC4, 0, 20, 0x00] + counts + [0] + [0xFF, 0xC4, 0, 20, 0x10] + counts + [0]
        b += [0xFF, 0xDA, 0, 8, 1, 1, 0x00, 0, 63, 0, 0x00, 0xFF, 0xD9]
        expectBadFile(path: "q.jpg", problem: "never appears in a scan") { _ = try JPEGDecoder.decode(Data(b), path: "q.jpg") }
        expectBadFile(path: "n.bin", problem: "unknown signature") { _ = try ImageFile.decode(Data([1, 2, 3]), path: "n.bin") }
        expectBadFile(path: "n.pgm", problem: "not a PGM/PPM file") { _ = try ImageFile.decode(Data([1, 2, 3]), path: "n.pgm") }
        expectBadFile(path: "n.png", problem: "not a PNG file") { _ = try ImageFile.decode(Data([1, 2, 3]), path: "n.png") }
        expectBadFile(path: "n.jpg", problem: "not a JPEG file") { _ = try ImageFile.decode(Data([1, 2, 3]), path: "n.jpg") }
    }

    @Test func orientationMatchesPillowTransposes() {
        // 3×2 image with distinct values; expected layouts from PIL.ImageOps.exif_transpose.
        let image = PixelImage(width: 3, height: 2, channels: 1, pixels: [1, 2, 3, 4, 5, 6])
        #expect(image.oriented(2).pixels == [3, 2, 1, 6, 5, 4])
        #expect(image.oriented(3).pixels == [6, 5, 4, 3, 2, 1])
        #expect(image.oriented(4).pixels == [4, 5, 6, 1, 2, 3])
        #expect(image.oriented(5).pixels == [1, 4, 2, 5, 3, 6])
        #expect(image.oriented(6).pixels == [4, 1, 5, 2, 6, 3])
        #expect(image.oriented(7).pixels == [6, 3, 5, 2, 4, 1])
        #expect(image.oriented(8).pixels == [3, 6, 2, 5, 1, 4])
    }
}
