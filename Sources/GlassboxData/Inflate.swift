import Foundation
import GlassboxNN

/// A DEFLATE (RFC 1951) and gzip (RFC 1952) decoder in pure Swift, so reading `.gz` datasets
/// needs no system zlib.
///
/// Handles stored, fixed-Huffman and dynamic-Huffman blocks, gzip headers with any of the
/// optional fields (extra, name, comment, header CRC), concatenated gzip members and trailing
/// zero padding. Every member's CRC-32 and length are checked. Output is capped (`maxOutput`) so
/// a small hostile file cannot expand into gigabytes, and every length and distance read from
/// the stream is checked before use, so corrupt input throws instead of trapping.
///
/// Cost: linear in the output; each dynamic block builds two lookup tables of at most 2^15 entries.
public enum Inflate {
    /// Default cap on decompressed size: 1 GiB (the full Fashion-MNIST training images are 47 MB).
    public static let defaultMaxOutput = 1 << 30

    /// Whether `data` starts with the gzip magic bytes `1f 8b`.
    public static func isGzip(_ data: Data) -> Bool {
        data.withUnsafeBytes { $0.count >= 2 && $0[0] == 0x1F && $0[1] == 0x8B }
    }

    /// Decompresses a gzip file (one or more members). `path` names the file in errors.
    ///
    /// - Throws: ``GlassboxError/badFile(path:location:problem:)`` with the byte offset of the
    ///   problem in the compressed data.
    public static func gunzip(_ data: Data, path: String, maxOutput: Int = defaultMaxOutput) throws -> Data {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let input = raw.bindMemory(to: UInt8.self)
            var output = Output(limit: maxOutput, path: path)
            if input.count >= 4 {
                // The trailer's size is only a hint: DEFLATE expands at most ~1032:1, so bound it by that too.
                let isize = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: input.count - 4, as: UInt32.self)))
                output.reserve(Swift.min(isize, maxOutput, input.count * 1032))
            }
            var position = try gunzipMember(input, at: 0, into: &output, path: path)
            // Some tools pad gzip files with zeros to a block size; anything else must be another member.
            while !input[position...].allSatisfy({ $0 == 0 }) {
                guard input.count - position >= 2, input[position] == 0x1F, input[position + 1] == 0x8B else {
                    throw GlassboxError.badFile(path: path, location: "byte offset \(position)",
                                                problem: "\(input.count - position) bytes of unexpected data after the end of the gzip stream")
                }
                position = try gunzipMember(input, at: position, into: &output, path: path)
            }
            return output.data()
        }
    }

    /// Decompresses a raw DEFLATE stream (no gzip or zlib wrapper); trailing bytes after the
    /// final block are ignored.
    public static func inflate(_ data: Data, path: String, maxOutput: Int = defaultMaxOutput) throws -> Data {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var output = Output(limit: maxOutput, path: path)
            var reader = BitReader(raw.bindMemory(to: UInt8.self), start: 0, path: path)
            try inflateBlocks(&reader, into: &output)
            return output.data()
        }
    }

    /// Decodes one gzip member starting at `start`; returns the offset just past its trailer.
    private static func gunzipMember(_ input: UnsafeBufferPointer<UInt8>, at start: Int,
                                     into output: inout Output, path: String) throws -> Int {
        func bad(_ offset: Int, _ problem: String) -> GlassboxError {
            .badFile(path: path, location: "byte offset \(offset)", problem: problem)
        }
        let n = input.count
        guard n - start >= 10 else { throw bad(start, "truncated gzip header (\(n - start) bytes, need at least 10)") }
        guard input[start] == 0x1F, input[start + 1] == 0x8B else {
            throw bad(start, String(format: "not gzip data (starts with %02x %02x, expected 1f 8b)", input[start], input[start + 1]))
        }
        guard input[start + 2] == 8 else { throw bad(start + 2, "compression method \(input[start + 2]) is not deflate (8)") }
        let flags = input[start + 3]
        guard flags & 0xE0 == 0 else { throw bad(start + 3, "reserved gzip flag bits are set (flags \(flags))") }
        var p = start + 10
        if flags & 0x04 != 0 { // FEXTRA
            guard n - p >= 2 else { throw bad(p, "truncated gzip extra field length") }
            let length = Int(input[p]) | Int(input[p + 1]) << 8
            p += 2
            guard n - p >= length else { throw bad(p, "gzip extra field of \(length) bytes runs past the end of the file") }
            p += length
        }
        for (flag, what) in [(UInt8(0x08), "file name"), (UInt8(0x10), "comment")] where flags & flag != 0 {
            guard let zero = input[p...].firstIndex(of: 0) else { throw bad(p, "unterminated gzip \(what)") }
            p = zero + 1
        }
        if flags & 0x02 != 0 { // FHCRC: low 16 bits of the CRC-32 of the header so far
            guard n - p >= 2 else { throw bad(p, "truncated gzip header CRC") }
            let stored = UInt32(input[p]) | UInt32(input[p + 1]) << 8
            let actual = CRC32.checksum(UnsafeBufferPointer(rebasing: input[start..<p])) & 0xFFFF
            guard stored == actual else { throw bad(p, "gzip header CRC mismatch") }
            p += 2
        }
        let memberStart = output.count
        var reader = BitReader(input, start: p, path: path)
        try inflateBlocks(&reader, into: &output)
        p = reader.alignedBytePosition()
        guard n - p >= 8 else { throw bad(p, "truncated gzip trailer (CRC-32 and length missing)") }
        let storedCRC = UInt32(input[p]) | UInt32(input[p + 1]) << 8 | UInt32(input[p + 2]) << 16 | UInt32(input[p + 3]) << 24
        let storedSize = UInt32(input[p + 4]) | UInt32(input[p + 5]) << 8 | UInt32(input[p + 6]) << 16 | UInt32(input[p + 7]) << 24
        let actualCRC = output.crc32(from: memberStart)
        guard storedCRC == actualCRC else {
            throw bad(p, String(format: "CRC-32 mismatch (file says %08x, data gives %08x): the file is corrupt", storedCRC, actualCRC))
        }
        let size = output.count - memberStart
        guard storedSize == UInt32(truncatingIfNeeded: size) else {
            throw bad(p + 4, "length mismatch (file says \(storedSize) bytes mod 2^32, data is \(size))")
        }
        return p + 8
    }

    /// Decodes DEFLATE blocks until the one marked final.
    private static func inflateBlocks(_ reader: inout BitReader, into output: inout Output) throws {
        var final = false
        while !final {
            final = try reader.bits(1) == 1
            switch try reader.bits(2) {
            case 0: try storedBlock(&reader, into: &output)
            case 1: try codesBlock(&reader, into: &output, literals: Huffman.fixedLiterals, distances: Huffman.fixedDistances)
            case 2:
                let (literals, distances) = try dynamicTables(&reader)
                try codesBlock(&reader, into: &output, literals: literals, distances: distances)
            default: throw reader.corrupt("reserved block type 3")
            }
        }
    }

    private static func storedBlock(_ reader: inout BitReader, into output: inout Output) throws {
        var p = reader.alignedBytePosition()
        let input = reader.bytes
        guard input.count - p >= 4 else { throw reader.corrupt("truncated stored block header", at: p) }
        let length = Int(input[p]) | Int(input[p + 1]) << 8
        let complement = Int(input[p + 2]) | Int(input[p + 3]) << 8
        guard length ^ complement == 0xFFFF else { throw reader.corrupt("stored block length \(length) does not match its complement", at: p) }
        p += 4
        guard input.count - p >= length else {
            throw reader.corrupt("stored block of \(length) bytes runs past the end of the data", at: p)
        }
        try output.append(UnsafeBufferPointer(rebasing: input[p..<(p + length)]))
        reader.restart(at: p + length)
    }

    /// Reads a dynamic block's code-length code and the literal/length and distance code lengths.
    private static func dynamicTables(_ reader: inout BitReader) throws -> (Huffman, Huffman) {
        let literalCount = try reader.bits(5) + 257
        let distanceCount = try reader.bits(5) + 1
        let codeLengthCount = try reader.bits(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else {
            throw reader.corrupt("too many length or distance codes (\(literalCount), \(distanceCount))")
        }
        var codeLengthLengths = [UInt8](repeating: 0, count: 19)
        for i in 0..<codeLengthCount { codeLengthLengths[codeLengthOrder[i]] = UInt8(try reader.bits(3)) }
        let codeLengths = try Huffman(lengths: codeLengthLengths, reader: reader)

        let total = literalCount + distanceCount
        var lengths = [UInt8](repeating: 0, count: total)
        var i = 0
        while i < total {
            let symbol = try reader.decode(codeLengths)
            switch symbol {
            case 0..<16:
                lengths[i] = UInt8(symbol)
                i += 1
                continue
            case 16:
                guard i > 0 else { throw reader.corrupt("repeat of the previous code length with no previous length") }
                let repeatCount = try reader.bits(2) + 3
                guard repeatCount <= total - i else { throw reader.corrupt("code length repeat runs past the end") }
                let previous = lengths[i - 1]
                for k in i..<(i + repeatCount) { lengths[k] = previous }
                i += repeatCount
            default:
                let repeatCount = symbol == 17 ? try reader.bits(3) + 3 : try reader.bits(7) + 11
                guard repeatCount <= total - i else { throw reader.corrupt("code length repeat runs past the end") }
                i += repeatCount // lengths are already zero
            }
        }
        guard lengths[256] != 0 else { throw reader.corrupt("dynamic block has no end-of-block code") }
        return (try Huffman(lengths: Array(lengths[0..<literalCount]), reader: reader),
                try Huffman(lengths: Array(lengths[literalCount...]), reader: reader))
    }

    private static func codesBlock(_ reader: inout BitReader, into output: inout Output,
                                   literals: Huffman, distances: Huffman) throws {
        while true {
            let symbol = try reader.decode(literals)
            if symbol < 256 {
                try output.append(UInt8(truncatingIfNeeded: symbol))
                continue
            }
            if symbol == 256 { return }
            let index = symbol - 257
            guard index < 29 else { throw reader.corrupt("invalid length symbol \(symbol)") }
            let length = lengthBase[index] + (try reader.bits(lengthExtra[index]))
            let distanceSymbol = try reader.decode(distances)
            guard distanceSymbol < 30 else { throw reader.corrupt("invalid distance symbol \(distanceSymbol)") }
            let distance = distanceBase[distanceSymbol] + (try reader.bits(distanceExtra[distanceSymbol]))
            guard distance <= output.count else {
                throw reader.corrupt("distance \(distance) reaches before the start of the output (\(output.count) bytes)")
            }
            try output.copy(distance: distance, length: length)
        }
    }

    static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
                               2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
}

/// LSB-first bit reader over the compressed bytes. Past the end it supplies zero bits for
/// look-ahead but refuses to let them be consumed, which is how truncation is detected.
struct BitReader {
    let bytes: UnsafeBufferPointer<UInt8>
    let path: String
    private var position: Int
    private var buffer: UInt64 = 0
    private var count = 0
    private var padding = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>, start: Int, path: String) {
        self.bytes = bytes
        self.position = start
        self.path = path
    }

    /// Offset of the next unread byte, for error messages.
    var byteOffset: Int { position - (count - padding) / 8 }

    func corrupt(_ problem: String, at offset: Int? = nil) -> GlassboxError {
        .badFile(path: path, location: "byte offset \(offset ?? byteOffset)", problem: "corrupt deflate data: \(problem)")
    }

    @inline(__always)
    private mutating func refill() {
        while count <= 56 {
            if position < bytes.count {
                buffer |= UInt64(bytes[position]) << UInt64(count)
                position += 1
            } else {
                padding += 8
            }
            count += 8
        }
    }

    @inline(__always)
    private mutating func consume(_ n: Int) throws {
        guard n <= count - padding else {
            throw GlassboxError.badFile(path: path, location: "byte offset \(bytes.count)",
                                        problem: "compressed data is truncated (the stream ends inside a block)")
        }
        buffer >>= UInt64(n)
        count -= n
    }

    /// The next `n` bits (n ≤ 32) as an integer, first bit least significant.
    @inline(__always)
    mutating func bits(_ n: Int) throws -> Int {
        if count < n { refill() }
        let value = Int(truncatingIfNeeded: buffer & ((1 << UInt64(n)) &- 1))
        try consume(n)
        return value
    }

    /// The next Huffman-coded symbol.
    @inline(__always)
    mutating func decode(_ code: Huffman) throws -> Int {
        if count < code.bits { refill() }
        let entry = code.table[Int(truncatingIfNeeded: buffer & code.mask)]
        let length = Int(entry & 15)
        guard length != 0 else { throw corrupt("invalid Huffman code") }
        try consume(length)
        return Int(entry >> 4)
    }

    /// Drops the bits up to the next byte boundary and returns the offset of that byte.
    mutating func alignedBytePosition() -> Int {
        let dropped = count % 8
        buffer >>= UInt64(dropped)
        count -= dropped
        return position - (count - padding) / 8
    }

    /// Continues reading at byte `offset` (after a stored block was copied directly).
    mutating func restart(at offset: Int) {
        position = offset
        buffer = 0
        count = 0
        padding = 0
    }
}

/// A canonical Huffman code as a single lookup table indexed by the next `bits` input bits
/// (bit-reversed, since DEFLATE packs codes most significant bit first into an LSB-first stream).
/// Each entry is `symbol << 4 | codeLength`; 0 marks a bit pattern that is no code.
struct Huffman: Sendable {
    var table: [UInt16]
    var bits: Int
    var mask: UInt64 { (1 << UInt64(bits)) &- 1 }

    private init(table: [UInt16], bits: Int) {
        self.table = table
        self.bits = bits
    }

    init(lengths: [UInt8], reader: BitReader) throws {
        guard let code = Huffman(lengths: lengths) else { throw reader.corrupt("over-subscribed Huffman code lengths") }
        self = code
    }

    /// Builds the table, or returns nil if the lengths over-subscribe the code space. Incomplete
    /// codes are accepted; their unused patterns decode as errors.
    init?(lengths: [UInt8]) {
        var counts = [Int](repeating: 0, count: 16)
        for length in lengths { counts[Int(length)] += 1 }
        counts[0] = 0
        var left = 1
        for length in 1...15 {
            left = left * 2 - counts[length]
            if left < 0 { return nil }
        }
        let maxLength = (1...15).last { counts[$0] > 0 } ?? 0
        var next = [Int](repeating: 0, count: 16)
        var code = 0
        for length in 1...15 {
            code = (code + counts[length - 1]) << 1
            next[length] = code
        }
        var table = [UInt16](repeating: 0, count: 1 << maxLength)
        for (symbol, length8) in lengths.enumerated() where length8 != 0 {
            let length = Int(length8)
            var reversed = 0
            var c = next[length]
            next[length] += 1
            for _ in 0..<length {
                reversed = reversed << 1 | (c & 1)
                c >>= 1
            }
            let entry = UInt16(symbol << 4 | length)
            var index = reversed
            while index < table.count {
                table[index] = entry
                index += 1 << length
            }
        }
        self.init(table: table, bits: maxLength)
    }

    static let fixedLiterals: Huffman = Huffman(lengths: (0..<288).map { $0 < 144 ? 8 : $0 < 256 ? 9 : $0 < 280 ? 7 : 8 })
        ?? Huffman(table: [0], bits: 0)
    static let fixedDistances: Huffman = Huffman(lengths: [UInt8](repeating: 5, count: 30)) ?? Huffman(table: [0], bits: 0)
}

/// The growing output with the decompression cap. Storage grows geometrically and is written
/// in place; `count` bytes of it are valid.
struct Output {
    private var storage: [UInt8] = []
    private(set) var count = 0
    let limit: Int
    let path: String

    init(limit: Int, path: String) {
        self.limit = limit
        self.path = path
    }

    /// Pre-sizes the storage from a size hint (already capped by the caller).
    mutating func reserve(_ n: Int) {
        if n > storage.count { storage += [UInt8](repeating: 0, count: n - storage.count) }
    }

    private func tooLarge() -> GlassboxError {
        .badFile(path: path, location: "", problem: "decompressed data exceeds the limit of \(limit) bytes "
                     + "(a decompression bomb, or raise maxOutput)")
    }

    @inline(__always)
    private mutating func ensure(_ extra: Int) throws {
        guard extra <= limit - count else { throw tooLarge() }
        if count + extra > storage.count {
            reserve(Swift.min(limit, Swift.max(count + extra, storage.count * 2, 1 << 16)))
        }
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) throws {
        try ensure(1)
        storage[count] = byte
        count += 1
    }

    mutating func append(_ chunk: UnsafeBufferPointer<UInt8>) throws {
        try ensure(chunk.count)
        let start = count
        storage.withUnsafeMutableBufferPointer { p in
            for (i, b) in chunk.enumerated() { p[start + i] = b }
        }
        count += chunk.count
    }

    /// Appends `length` bytes copied from `distance` back (1 ≤ distance ≤ count, checked by the
    /// caller). The ranges may overlap: a distance shorter than the length repeats a pattern.
    mutating func copy(distance: Int, length: Int) throws {
        try ensure(length)
        let start = count
        storage.withUnsafeMutableBufferPointer { p in
            for i in start..<(start + length) { p[i] = p[i - distance] }
        }
        count += length
    }

    func crc32(from start: Int) -> UInt32 {
        storage.withUnsafeBufferPointer { CRC32.checksum(UnsafeBufferPointer(rebasing: $0[start..<count])) }
    }

    func data() -> Data { storage.withUnsafeBufferPointer { Data(buffer: UnsafeBufferPointer(rebasing: $0[0..<count])) } }
}

/// CRC-32 as used by gzip and zip (reflected polynomial 0xEDB88320).
public enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// The CRC-32 of `bytes`, continuing from `previous` (0 to start).
    public static func checksum(_ bytes: UnsafeBufferPointer<UInt8>, previous: UInt32 = 0) -> UInt32 {
        table.withUnsafeBufferPointer { t in
            var c = ~previous
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
            return ~c
        }
    }

    /// The CRC-32 of `data`.
    public static func checksum(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { checksum($0.bindMemory(to: UInt8.self)) }
    }
}
