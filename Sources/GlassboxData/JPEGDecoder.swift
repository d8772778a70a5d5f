import Foundation
import GlassboxNN

/// A JPEG decoder in pure Swift that reproduces libjpeg-turbo's default output (what Pillow
/// returns) sample for sample.
///
/// Supported: baseline and extended sequential (SOF0/SOF1) and progressive (SOF2) Huffman
/// coding at 8-bit precision; 1, 3 or 4 components with any sampling factors 1…4 whose ratios
/// to the largest are integers (4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1, …); restart intervals;
/// EXIF orientation (applied as `PIL.ImageOps.exif_transpose` does); Adobe CMYK and YCCK,
/// converted to RGB as Pillow's `convert("RGB")` does. Arithmetic coding, lossless and
/// hierarchical JPEG, 12-bit samples and DNL heights are refused with a clear error.
///
/// The pipeline is libjpeg's: coefficients are dequantised inside the ISLOW integer IDCT
/// (jidctint.c's Loeffler–Ligtenberg–Moschytz factorisation, 13-bit constants, with its
/// range-limit table); chroma is upsampled with the "fancy" triangle filter (3/4 nearer + 1/4
/// further sample, h2v1/h1v2/h2v2 with libjpeg's rounding biases; box replication for other
/// integer ratios and for planes ≤ 2 samples wide, as libjpeg does); YCbCr → RGB uses jdcolor.c's
/// 16-bit fixed-point tables.
///
/// Hostile input: the declared size is checked against `maxPixels` and against the bytes
/// present (every block costs at least one bit of entropy-coded data) before the coefficient
/// buffers are allocated; entropy-coded data that runs out or hits a marker early, undefined
/// tables, bad Huffman codes and out-of-range scan parameters each throw
/// ``GlassboxError/badFile(path:location:problem:)``.
///
/// Cost: O(pixels); memory ≈ 128 bytes per 8×8 block of coefficients (all scans are kept, as a
/// progressive image needs) plus the component planes and the output.
public enum JPEGDecoder {
    public static func decode(_ data: Data, path: String, maxPixels: Int = ImageFile.maxPixels) throws -> PixelImage {
        var decoder = Decoder(bytes: [UInt8](data), path: path, maxPixels: maxPixels)
        return try decoder.run()
    }

    /// Zigzag position → natural (row-major) index, padded with 63s so a corrupt run length past
    /// the block lands on the last coefficient instead of outside it (libjpeg's safety margin).
    static let naturalOrder: [Int] = [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    ] + [Int](repeating: 63, count: 16)
}

/// A canonical Huffman table (JPEG Annex C) with a 9-bit lookahead table for short codes.
struct JPEGHuffman {
    static let lookBits = 9
    /// For each 9-bit prefix: `length << 8 | symbol`, or 0 when the code is longer.
    var fast = [UInt16](repeating: 0, count: 1 << lookBits)
    /// Largest code of each length (−1 if none), and the offset of its first symbol.
    var maxCode = [Int](repeating: -1, count: 18)
    var valOffset = [Int](repeating: 0, count: 17)
    var values: [UInt8] = []

    init(counts: [Int], values: [UInt8]) throws {
        self.values = values
        var code = 0, k = 0
        for length in 1...16 {
            valOffset[length] = k - code
            for _ in 0..<counts[length - 1] {
                // A code space that overflows its length cannot be a prefix code.
                guard code < 1 << length else { throw JPEGDecoder.TableError.overfull }
                if length <= Self.lookBits {
                    let shift = Self.lookBits - length
                    for fill in 0..<(1 << shift) { fast[code << shift | fill] = UInt16(length << 8 | Int(values[k])) }
                }
                code += 1; k += 1
            }
            maxCode[length] = counts[length - 1] > 0 ? code - 1 : -1
            code <<= 1
        }
        maxCode[17] = Int.max
    }
}

extension JPEGDecoder {
    enum TableError: Error { case overfull }

    struct Component {
        let id: Int, h: Int, v: Int, tq: Int
        /// Allocated blocks per row/column (whole MCUs) and the blocks that hold image samples.
        var blocksW = 0, blocksH = 0, usedW = 0, usedH = 0
        /// Samples of this component covering the image: ceil(W·h/hmax) × ceil(H·v/vmax).
        var sampleW = 0, sampleH = 0
        var coefficients: [Int16] = []
        var dcTable = 0, acTable = 0
        var predictor = 0
    }

    struct Decoder {
        let bytes: [UInt8]
        let path: String
        let maxPixels: Int
        var pos = 2
        var width = 0, height = 0, progressive = false
        var components: [Component] = []
        var hmax = 1, vmax = 1, mcusW = 0, mcusH = 0
        var quant = [[Int]?](repeating: nil, count: 4)
        var dcTables = [JPEGHuffman?](repeating: nil, count: 4)
        var acTables = [JPEGHuffman?](repeating: nil, count: 4)
        var restartInterval = 0
        var sawJFIF = false, adobeTransform: Int? = nil
        var orientation: Int? = nil
        var allocated = false
        // Entropy decoder state.
        var bitBuffer: UInt64 = 0, bitCount = 0, paddedBits = 0
        var eobrun = 0

        init(bytes: [UInt8], path: String, maxPixels: Int) {
            self.bytes = bytes; self.path = path; self.maxPixels = maxPixels
        }

        func bad(_ offset: Int, _ problem: String) -> GlassboxError {
            .badFile(path: path, location: "byte offset \(offset)", problem: problem)
        }

        func u16(_ o: Int) -> Int { Int(bytes[o]) << 8 | Int(bytes[o + 1]) }

        mutating func run() throws -> PixelImage {
            guard bytes.count >= 2, bytes[0] == 0xFF, bytes[1] == 0xD8 else { throw bad(0, "not a JPEG file (no SOI marker)") }
            var sawFrame = false, sawScan = false
            while true {
                // Markers may be preceded by any number of 0xFF fill bytes.
                guard pos < bytes.count else {
                    throw bad(pos, sawScan ? "truncated: the file ends before the EOI marker" : "truncated: the file ends before any image data")
                }
                guard bytes[pos] == 0xFF else { throw bad(pos, "expected a marker, found byte 0x\(String(bytes[pos], radix: 16))") }
                while pos < bytes.count, bytes[pos] == 0xFF { pos += 1 }
                guard pos < bytes.count else { throw bad(pos, "truncated: the file ends inside a marker") }
                let marker = Int(bytes[pos]); let at = pos - 1
                pos += 1
                if marker == 0xD9 { break }
                if (0xD0...0xD7).contains(marker) || marker == 0x01 { continue }  // stray RSTn / TEM carry no segment
                guard bytes.count - pos >= 2 else { throw bad(at, "truncated: marker 0xFF\(String(marker, radix: 16)) has no length") }
                let length = u16(pos)
                guard length >= 2, length <= bytes.count - pos else {
                    throw bad(at, "truncated or corrupt: segment 0xFF\(String(marker, radix: 16)) declares \(length) bytes, \(bytes.count - pos) present")
                }
                let body = (pos + 2)..<(pos + length)
                pos += length
                switch marker {
                case 0xC0, 0xC1, 0xC2:
                    guard !sawFrame else { throw bad(at, "a second frame header (SOF)") }
                    sawFrame = true
                    try readFrame(body, progressive: marker == 0xC2, at: at)
                case 0xC3, 0xC5, 0xC6, 0xC7, 0xCB, 0xCD, 0xCE, 0xCF:
                    throw bad(at, marker == 0xC3 ? "lossless JPEG (SOF3) is not supported; save it as PNG or baseline JPEG"
                                                 : "hierarchical/lossless JPEG (SOF\(marker - 0xC0)) is not supported")
                case 0xC9, 0xCA:
                    throw bad(at, "arithmetic-coded JPEG (SOF\(marker - 0xC0)) is not supported; re-save it with Huffman coding")
                case 0xC4: try readHuffman(body, at: at)
                case 0xCC: throw bad(at, "arithmetic-coded JPEG (DAC marker) is not supported; re-save it with Huffman coding")
                case 0xDB: try readQuant(body, at: at)
                case 0xDD:
                    guard body.count == 2 else { throw bad(at, "DRI segment of \(body.count) bytes, expected 2") }
                    restartInterval = u16(body.lowerBound)
                case 0xDA:
                    guard sawFrame else { throw bad(at, "scan (SOS) before the frame header (SOF)") }
                    try readScan(body, at: at)
                    sawScan = true
                case 0xDC: throw bad(at, "DNL marker (height defined after the scan) is not supported")
                case 0xE0:
                    if body.count >= 5, bytes[body.prefix(5)].elementsEqual(Array("JFIF\0".utf8)) { sawJFIF = true }
                case 0xE1:
                    if orientation == nil, body.count >= 6, bytes[body.prefix(6)].elementsEqual(Array("Exif\0\0".utf8)) {
                        orientation = EXIFOrientation.read(tiff: bytes[(body.lowerBound + 6)..<body.upperBound]) ?? 1
                    }
                case 0xEE:
                    if body.count >= 12, bytes[body.prefix(5)].elementsEqual(Array("Adobe".utf8)) {
                        adobeTransform = Int(bytes[body.lowerBound + 11])
                    }
                default: break  // other APPn, COM and reserved segments are skipped
                }
            }
            guard sawScan else { throw bad(pos, "no image data (no scan before EOI)") }
            var image = try output()
            if let orientation { image = image.oriented(orientation) }
            return image
        }

        mutating func readFrame(_ body: Range<Int>, progressive: Bool, at: Int) throws {
            let b = body.lowerBound
            guard body.count >= 6 else { throw bad(at, "SOF segment too short") }
            let precision = Int(bytes[b])
            guard precision == 8 else { throw bad(at, "\(precision)-bit JPEG is not supported (only 8-bit samples)") }
            height = u16(b + 1); width = u16(b + 3)
            let n = Int(bytes[b + 5])
            guard height > 0 else { throw bad(at, "height 0 (defined later by a DNL marker) is not supported") }
            guard width > 0 else { throw bad(at, "image width is 0") }
            guard width <= maxPixels / height else {
                throw bad(at, "image is \(width)×\(height), more than the limit of \(maxPixels) pixels")
            }
            guard n == 1 || n == 3 || n == 4 else { throw bad(at, "\(n) colour components (only 1, 3 or 4 are supported)") }
            guard body.count == 6 + 3 * n else { throw bad(at, "SOF segment has \(body.count) bytes, expected \(6 + 3 * n) for \(n) components") }
            self.progressive = progressive
            for i in 0..<n {
                let o = b + 6 + 3 * i
                let h = Int(bytes[o + 1]) >> 4, v = Int(bytes[o + 1]) & 15, tq = Int(bytes[o + 2])
                guard (1...4).contains(h), (1...4).contains(v) else { throw bad(at, "component \(i) has sampling factors \(h)×\(v) (must be 1…4)") }
                guard tq < 4 else { throw bad(at, "component \(i) uses quantisation table \(tq) (must be 0…3)") }
                components.append(Component(id: Int(bytes[o]), h: h, v: v, tq: tq))
            }
            hmax = components.map(\.h).max()!; vmax = components.map(\.v).max()!
            for c in components where hmax % c.h != 0 || vmax % c.v != 0 {
                throw bad(at, "sampling factors \(components.map { "\($0.h)×\($0.v)" }.joined(separator: ", ")) have non-integer ratios (not supported)")
            }
            mcusW = (width + 8 * hmax - 1) / (8 * hmax); mcusH = (height + 8 * vmax - 1) / (8 * vmax)
            for i in components.indices {
                let c = components[i]
                components[i].sampleW = (width * c.h + hmax - 1) / hmax
                components[i].sampleH = (height * c.v + vmax - 1) / vmax
                components[i].usedW = (components[i].sampleW + 7) / 8
                components[i].usedH = (components[i].sampleH + 7) / 8
                components[i].blocksW = n == 1 ? components[i].usedW : mcusW * c.h
                components[i].blocksH = n == 1 ? components[i].usedH : mcusH * c.v
            }
        }

        mutating func readQuant(_ body: Range<Int>, at: Int) throws {
            var o = body.lowerBound
            while o < body.upperBound {
                let pq = Int(bytes[o]) >> 4, tq = Int(bytes[o]) & 15
                guard pq <= 1, tq < 4 else { throw bad(o, "DQT table \(tq) with precision \(pq) (must be 0…3 and 0/1)") }
                let size = pq == 0 ? 64 : 128
                guard body.upperBound - o - 1 >= size else { throw bad(o, "DQT segment too short for its table") }
                var table = [Int](repeating: 0, count: 64)
                for k in 0..<64 {
                    table[JPEGDecoder.naturalOrder[k]] = pq == 0 ? Int(bytes[o + 1 + k]) : u16(o + 1 + 2 * k)
                }
                quant[tq] = table
                o += 1 + size
            }
        }

        mutating func readHuffman(_ body: Range<Int>, at: Int) throws {
            var o = body.lowerBound
            while o < body.upperBound {
                guard body.upperBound - o >= 17 else { throw bad(o, "DHT segment too short") }
                let tc = Int(bytes[o]) >> 4, th = Int(bytes[o]) & 15
                guard tc <= 1, th < 4 else { throw bad(o, "DHT class \(tc) table \(th) (must be 0/1 and 0…3)") }
                let counts = (0..<16).map { Int(bytes[o + 1 + $0]) }
                let total = counts.reduce(0, +)
                guard total <= 256, body.upperBound - o - 17 >= total else { throw bad(o, "DHT table with \(total) symbols does not fit its segment") }
                let values = Array(bytes[(o + 17)..<(o + 17 + total)])
                let table: JPEGHuffman
                do { table = try JPEGHuffman(counts: counts, values: values) } catch { throw bad(o, "DHT table \(th) has more codes than its lengths allow") }
                if tc == 0 { dcTables[th] = table } else { acTables[th] = table }
                o += 17 + total
            }
        }

        /// Allocates the coefficient buffers once the size has been checked against the file.
        mutating func allocate(at: Int) throws {
            guard !allocated else { return }
            // Every block's DC coefficient costs at least one bit in the first scan that codes it.
            let minimumBytes = components.reduce(0) { $0 + $1.usedW * $1.usedH } / 8
            guard bytes.count - at >= minimumBytes else {
                throw bad(at, "truncated or size lie: a \(width)×\(height) image needs at least \(minimumBytes) bytes of image data, \(bytes.count - at) present")
            }
            for i in components.indices {
                components[i].coefficients = [Int16](repeating: 0, count: components[i].blocksW * components[i].blocksH * 64)
            }
            allocated = true
        }

        mutating func readScan(_ body: Range<Int>, at: Int) throws {
            let b = body.lowerBound
            guard body.count >= 1 else { throw bad(at, "SOS segment too short") }
            let n = Int(bytes[b])
            guard (1...4).contains(n), body.count == 4 + 2 * n else { throw bad(at, "SOS segment with \(n) components has \(body.count) bytes") }
            var scan: [Int] = []
            for i in 0..<n {
                let id = Int(bytes[b + 1 + 2 * i]), tables = Int(bytes[b + 2 + 2 * i])
                guard let ci = components.firstIndex(where: { $0.id == id }) else { throw bad(at, "scan names component id \(id), which the frame does not have") }
                guard !scan.contains(ci) else { throw bad(at, "scan names component id \(id) twice") }
                components[ci].dcTable = tables >> 4; components[ci].acTable = tables & 15
                guard tables >> 4 < 4, tables & 15 < 4 else { throw bad(at, "scan selects Huffman table \(tables >> 4)/\(tables & 15) (must be 0…3)") }
                scan.append(ci)
            }
            let ss = Int(bytes[b + 1 + 2 * n]), se = Int(bytes[b + 2 + 2 * n])
            let ah = Int(bytes[b + 3 + 2 * n]) >> 4, al = Int(bytes[b + 3 + 2 * n]) & 15
            if progressive {
                guard ss <= se, se <= 63, (ss == 0) == (se == 0), ah <= 13, al <= 13 else {
                    throw bad(at, "progressive scan with spectral range \(ss)…\(se) and approximation \(ah)/\(al) is invalid")
                }
                guard ss == 0 || n == 1 else { throw bad(at, "progressive AC scan with \(n) components (must be 1)") }
            }
            let sumBlocks = scan.reduce(0) { $0 + components[$1].h * components[$1].v }
            guard n == 1 || sumBlocks <= 10 else { throw bad(at, "scan MCU of \(sumBlocks) blocks (at most 10 allowed)") }
            // Tables must be defined before the scan that uses them.
            for ci in scan {
                let c = components[ci]
                guard quant[c.tq] != nil else { throw bad(at, "component \(c.id) uses quantisation table \(c.tq), which is not defined") }
                let needDC = !progressive || ss == 0 && ah == 0
                let needAC = !progressive || ss > 0
                if needDC, dcTables[c.dcTable] == nil { throw bad(at, "scan uses DC Huffman table \(c.dcTable), which is not defined") }
                if needAC, acTables[c.acTable] == nil { throw bad(at, "scan uses AC Huffman table \(c.acTable), which is not defined") }
            }
            try allocate(at: pos)
            try decodeScan(scan, ss: progressive ? ss : 0, se: progressive ? se : 63, ah: progressive ? ah : 0, al: progressive ? al : 0)
        }

        // MARK: entropy-coded data

        /// Tops the bit buffer up to ≥ 57 bits. Stuffed 0xFF00 gives 0xFF; a marker or the end of
        /// the file gives zero bits that are counted, so consuming them is detected afterwards.
        @inline(__always) mutating func fill() {
            while bitCount <= 56 {
                var byte: UInt8 = 0
                if pos < bytes.count {
                    byte = bytes[pos]
                    if byte == 0xFF {
                        let next = pos + 1 < bytes.count ? bytes[pos + 1] : 0xD9
                        if next == 0 { pos += 2 } else { byte = 0; paddedBits += 8 }
                    } else { pos += 1 }
                } else { paddedBits += 8 }
                bitBuffer |= UInt64(byte) << (56 - bitCount)
                bitCount += 8
            }
        }

        @inline(__always) mutating func bits(_ n: Int) -> Int {
            guard n > 0 else { return 0 }
            if bitCount < n { fill() }
            let v = Int(bitBuffer >> (64 - n))
            bitBuffer <<= UInt64(n); bitCount -= n
            return v
        }

        @inline(__always) mutating func bit() -> Int { bits(1) }

        /// JPEG's EXTEND: an `s`-bit magnitude category value to a signed integer.
        @inline(__always) mutating func received(_ s: Int) -> Int {
            guard s > 0 else { return 0 }
            let v = bits(s)
            return v < 1 << (s - 1) ? v - (1 << s) + 1 : v
        }

        @inline(__always) mutating func decode(_ table: JPEGHuffman) throws -> Int {
            if bitCount < 16 { fill() }
            let peek = Int(bitBuffer >> UInt64(64 - JPEGHuffman.lookBits))
            let entry = table.fast[peek]
            if entry != 0 {
                let length = Int(entry >> 8)
                bitBuffer <<= UInt64(length); bitCount -= length
                return Int(entry & 0xFF)
            }
            var code = 0
            var length = 0
            repeat {
                length += 1
                code = code << 1 | Int(bitBuffer >> 63)
                bitBuffer <<= 1; bitCount -= 1
            } while length < 17 && code > table.maxCode[length]
            guard length <= 16 else { throw bad(pos, "bad Huffman code in the entropy-coded data (corrupt file)") }
            let index = table.valOffset[length] + code
            guard index >= 0, index < table.values.count else { throw bad(pos, "bad Huffman code in the entropy-coded data (corrupt file)") }
            return Int(table.values[index])
        }

        /// Throws when the decoder has consumed zero bits that stood in for missing data.
        func checkNotPastEnd() throws {
            if paddedBits > bitCount {
                throw bad(pos, pos >= bytes.count ? "truncated: the entropy-coded data ends before the image is complete"
                                                  : "entropy-coded data ends early, at a marker before the image is complete (truncated or corrupt)")
            }
        }

        mutating func resetBits() { bitBuffer = 0; bitCount = 0; paddedBits = 0 }

        mutating func decodeScan(_ scan: [Int], ss: Int, se: Int, ah: Int, al: Int) throws {
            resetBits()
            eobrun = 0
            for ci in scan { components[ci].predictor = 0 }
            let single = scan.count == 1
            let unitsW = single ? components[scan[0]].usedW : mcusW
            let unitsH = single ? components[scan[0]].usedH : mcusH
            let total = unitsW * unitsH
            var restartsSeen = 0
            for mcu in 0..<total {
                if restartInterval > 0, mcu > 0, mcu % restartInterval == 0 {
                    try checkNotPastEnd()
                    // Bits left in the buffer are the segment's padding; the RSTn marker follows.
                    resetBits()
                    guard pos + 1 < bytes.count, bytes[pos] == 0xFF, (0xD0...0xD7).contains(bytes[pos + 1]) else {
                        throw bad(pos, "expected restart marker RST\(restartsSeen % 8) after \(mcu) MCUs (truncated or corrupt)")
                    }
                    pos += 2
                    restartsSeen += 1
                    eobrun = 0
                    for ci in scan { components[ci].predictor = 0 }
                }
                let mx = mcu % unitsW, my = mcu / unitsW
                for ci in scan {
                    let (h, v) = single ? (1, 1) : (components[ci].h, components[ci].v)
                    for by in 0..<v {
                        for bx in 0..<h {
                            let block = (my * v + by) * components[ci].blocksW + mx * h + bx
                            try decodeBlock(ci, block * 64, ss: ss, se: se, ah: ah, al: al)
                        }
                    }
                }
                try checkNotPastEnd()
            }
            // Skip the padding and any stray bytes up to the next marker.
            resetBits()
            while pos + 1 < bytes.count, !(bytes[pos] == 0xFF && bytes[pos + 1] != 0 && !(0xD0...0xD7).contains(bytes[pos + 1])) { pos += 1 }
            if pos + 1 >= bytes.count { pos = bytes.count }
        }

        mutating func decodeBlock(_ ci: Int, _ base: Int, ss: Int, se: Int, ah: Int, al: Int) throws {
            let order = JPEGDecoder.naturalOrder
            if !progressive {
                let t = try decode(dcTables[components[ci].dcTable]!)
                guard t <= 15 else { throw bad(pos, "bad DC magnitude category \(t) (corrupt file)") }
                components[ci].predictor &+= received(t)
                components[ci].coefficients[base] = Int16(truncatingIfNeeded: components[ci].predictor)
                let ac = acTables[components[ci].acTable]!
                var k = 1
                while k < 64 {
                    let rs = try decode(ac)
                    let r = rs >> 4, s = rs & 15
                    if s != 0 {
                        k += r
                        components[ci].coefficients[base + order[k]] = Int16(truncatingIfNeeded: received(s))
                        k += 1
                    } else if r == 15 { k += 16 } else { break }
                }
                return
            }
            if ss == 0 {
                if ah == 0 {
                    let t = try decode(dcTables[components[ci].dcTable]!)
                    guard t <= 15 else { throw bad(pos, "bad DC magnitude category \(t) (corrupt file)") }
                    components[ci].predictor &+= received(t)
                    components[ci].coefficients[base] = Int16(truncatingIfNeeded: components[ci].predictor << al)
                } else if bit() == 1 {
                    components[ci].coefficients[base] |= Int16(truncatingIfNeeded: 1 << al)
                }
                return
            }
            let ac = acTables[components[ci].acTable]!
            if ah == 0 {
                if eobrun > 0 { eobrun -= 1; return }
                var k = ss
                while k <= se {
                    let rs = try decode(ac)
                    let r = rs >> 4, s = rs & 15
                    if s != 0 {
                        k += r
                        components[ci].coefficients[base + order[k]] = Int16(truncatingIfNeeded: received(s) * (1 << al))
                        k += 1
                    } else if r < 15 {
                        eobrun = (1 << r) - 1
                        if r > 0 { eobrun += bits(r) }
                        break
                    } else { k += 16 }
                }
                return
            }
            // AC refinement (libjpeg's decode_mcu_AC_refine).
            let p1 = Int16(truncatingIfNeeded: 1 << al), m1 = Int16(truncatingIfNeeded: -1 << al)
            var k = ss
            if eobrun == 0 {
                while k <= se {
                    let rs = try decode(ac)
                    var r = rs >> 4
                    var s: Int16 = 0
                    if rs & 15 != 0 {
                        s = bit() == 1 ? p1 : m1
                    } else if r != 15 {
                        eobrun = 1 << r
                        if r > 0 { eobrun += bits(r) }
                        break
                    }
                    repeat {
                        let i = base + order[k]
                        let c = components[ci].coefficients[i]
                        if c != 0 {
                            if bit() == 1, c & p1 == 0 { components[ci].coefficients[i] = c >= 0 ? c &+ p1 : c &+ m1 }
                        } else {
                            r -= 1
                            if r < 0 { break }
                        }
                        k += 1
                    } while k <= se
                    if s != 0 { components[ci].coefficients[base + order[k]] = s }
                    k += 1
                }
            }
            if eobrun > 0 {
                while k <= se {
                    let i = base + order[k]
                    let c = components[ci].coefficients[i]
                    if c != 0, bit() == 1, c & p1 == 0 { components[ci].coefficients[i] = c >= 0 ? c &+ p1 : c &+ m1 }
                    k += 1
                }
                eobrun -= 1
            }
        }

        // MARK: reconstruction

        func output() throws -> PixelImage {
            for c in components where c.coefficients.isEmpty || quant[c.tq] == nil {
                throw bad(pos, "component \(c.id) never appears in a scan, or its quantisation table \(c.tq) is not defined")
            }
            let planes = components.map { idctPlane($0) }
            let full = components.indices.map { upsample(planes[$0], components[$0]) }
            let n = width * height
            switch components.count {
            case 1:
                return PixelImage(width: width, height: height, channels: 1, pixels: full[0])
            case 3:
                let isRGB: Bool
                if sawJFIF { isRGB = false }
                else if let t = adobeTransform { isRGB = t == 0 }
                else { isRGB = components[0].id == 82 && components[1].id == 71 && components[2].id == 66 }
                var out = [UInt8](repeating: 0, count: 3 * n)
                if isRGB {
                    for i in 0..<n { out[3 * i] = full[0][i]; out[3 * i + 1] = full[1][i]; out[3 * i + 2] = full[2][i] }
                } else {
                    for i in 0..<n {
                        let (r, g, b) = JPEGColour.rgb(y: full[0][i], cb: full[1][i], cr: full[2][i])
                        out[3 * i] = r; out[3 * i + 1] = g; out[3 * i + 2] = b
                    }
                }
                return PixelImage(width: width, height: height, channels: 3, pixels: out)
            default:
                // libjpeg gives CMYK (YCCK converted first); Pillow inverts Adobe CMYK, then converts to RGB.
                let ycck = adobeTransform == 2
                var out = [UInt8](repeating: 0, count: 3 * n)
                for i in 0..<n {
                    var c = full[0][i], m = full[1][i], y = full[2][i]
                    let k0 = full[3][i]
                    if ycck {
                        let (r, g, b) = JPEGColour.rgb(y: c, cb: m, cr: y)
                        c = 255 - r; m = 255 - g; y = 255 - b
                    }
                    var k = k0
                    if adobeTransform != nil { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k }
                    let nk = 255 - Int(k)
                    func channel(_ v: UInt8) -> UInt8 {
                        let t = Int(v) * nk + 128
                        return UInt8(clamping: nk - ((t >> 8) + t) >> 8)
                    }
                    out[3 * i] = channel(c); out[3 * i + 1] = channel(m); out[3 * i + 2] = channel(y)
                }
                return PixelImage(width: width, height: height, channels: 3, pixels: out)
            }
        }

        /// IDCT of every allocated block into a plane of `blocksW·8 × blocksH·8` samples.
        func idctPlane(_ c: Component) -> [UInt8] {
            let stride = c.blocksW * 8
            var plane = [UInt8](repeating: 0, count: stride * c.blocksH * 8)
            let q = quant[c.tq]!
            c.coefficients.withUnsafeBufferPointer { coefs in
                plane.withUnsafeMutableBufferPointer { out in
                    for by in 0..<c.blocksH {
                        for bx in 0..<c.blocksW {
                            JPEGIDCT.islow(coefs.baseAddress! + (by * c.blocksW + bx) * 64, q,
                                           out.baseAddress! + by * 8 * stride + bx * 8, stride)
                        }
                    }
                }
            }
            return plane
        }

        /// A component plane brought to `width × height`, as libjpeg's jdsample.c does.
        func upsample(_ plane: [UInt8], _ c: Component) -> [UInt8] {
            let stride = c.blocksW * 8
            let hx = hmax / c.h, vx = vmax / c.v
            var out = [UInt8](repeating: 0, count: width * height)
            let cw = c.sampleW, chLast = c.sampleH - 1
            if hx == 1 && vx == 1 {
                for y in 0..<height { for x in 0..<width { out[y * width + x] = plane[y * stride + x] } }
            } else if hx == 2 && vx == 1 && cw > 2 {
                var row = [UInt8](repeating: 0, count: 2 * cw)
                for y in 0..<height {
                    let r = y * stride
                    row[0] = plane[r]
                    row[1] = UInt8((Int(plane[r]) * 3 + Int(plane[r + 1]) + 2) >> 2)
                    for k in 1..<(cw - 1) {
                        let v = Int(plane[r + k]) * 3
                        row[2 * k] = UInt8((v + Int(plane[r + k - 1]) + 1) >> 2)
                        row[2 * k + 1] = UInt8((v + Int(plane[r + k + 1]) + 2) >> 2)
                    }
                    row[2 * cw - 2] = UInt8((Int(plane[r + cw - 1]) * 3 + Int(plane[r + cw - 2]) + 1) >> 2)
                    row[2 * cw - 1] = plane[r + cw - 1]
                    for x in 0..<width { out[y * width + x] = row[x] }
                }
            } else if hx == 1 && vx == 2 {
                for y in 0..<height {
                    let near = y >> 1
                    let far = y & 1 == 0 ? max(near - 1, 0) : min(near + 1, chLast)
                    let bias = y & 1 == 0 ? 1 : 2
                    for x in 0..<width {
                        out[y * width + x] = UInt8((Int(plane[near * stride + x]) * 3 + Int(plane[far * stride + x]) + bias) >> 2)
                    }
                }
            } else if hx == 2 && vx == 2 && cw > 2 {
                var sums = [Int](repeating: 0, count: cw)
                var row = [UInt8](repeating: 0, count: 2 * cw)
                for y in 0..<height {
                    let near = y >> 1
                    let far = y & 1 == 0 ? max(near - 1, 0) : min(near + 1, chLast)
                    for k in 0..<cw { sums[k] = Int(plane[near * stride + k]) * 3 + Int(plane[far * stride + k]) }
                    row[0] = UInt8((sums[0] * 4 + 8) >> 4)
                    row[1] = UInt8((sums[0] * 3 + sums[1] + 7) >> 4)
                    for k in 1..<(cw - 1) {
                        row[2 * k] = UInt8((sums[k] * 3 + sums[k - 1] + 8) >> 4)
                        row[2 * k + 1] = UInt8((sums[k] * 3 + sums[k + 1] + 7) >> 4)
                    }
                    row[2 * cw - 2] = UInt8((sums[cw - 1] * 3 + sums[cw - 2] + 8) >> 4)
                    row[2 * cw - 1] = UInt8((sums[cw - 1] * 4 + 7) >> 4)
                    for x in 0..<width { out[y * width + x] = row[x] }
                }
            } else {
                for y in 0..<height {
                    for x in 0..<width { out[y * width + x] = plane[(y / vx) * stride + x / hx] }
                }
            }
            return out
        }
    }
}

/// libjpeg's YCbCr → RGB (jdcolor.c): R = Y + 1.402 (Cr−128), G = Y − 0.34414 (Cb−128) −
/// 0.71414 (Cr−128), B = Y + 1.772 (Cb−128), each product in 16-bit fixed point rounded as its
/// tables are, then clamped to 0…255.
enum JPEGColour {
    static let crR: [Int] = (0..<256).map { (91881 * ($0 - 128) + 32768) >> 16 }
    static let cbB: [Int] = (0..<256).map { (116130 * ($0 - 128) + 32768) >> 16 }
    static let crG: [Int] = (0..<256).map { -46802 * ($0 - 128) }
    static let cbG: [Int] = (0..<256).map { -22554 * ($0 - 128) + 32768 }

    @inline(__always) static func rgb(y: UInt8, cb: UInt8, cr: UInt8) -> (UInt8, UInt8, UInt8) {
        let yy = Int(y)
        return (UInt8(clamping: yy + crR[Int(cr)]), UInt8(clamping: yy + ((cbG[Int(cb)] + crG[Int(cr)]) >> 16)),
                UInt8(clamping: yy + cbB[Int(cb)]))
    }
}
