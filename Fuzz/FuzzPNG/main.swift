// libFuzzer harness: the PNG decoder must throw or succeed on any bytes, never trap or allocate
// beyond its pixel cap (4 Mi pixels here, to keep each run fast).
//
// Most mutations break a chunk CRC or the zlib Adler-32 and would stop at the first check, so
// every input is run twice: as given, and with its checksums repaired (chunk CRCs recomputed,
// the Adler-32 of the inflated IDAT data written into the stream's last four bytes), which lets
// mutations reach IHDR validation, inflation and the row filters.
import Foundation
import FuzzSupport
import GlassboxData

func repaired(_ input: Data) -> Data {
    var b = [UInt8](input)
    guard b.count > 8 else { return input }
    var chunks: [(body: Range<Int>, type: Int)] = []
    var pos = 8
    while b.count - pos >= 12 {
        let length = Int(b[pos]) << 24 | Int(b[pos + 1]) << 16 | Int(b[pos + 2]) << 8 | Int(b[pos + 3])
        guard length <= b.count - pos - 12 else { break }
        chunks.append(((pos + 8)..<(pos + 8 + length), pos + 4))
        pos += 12 + length
    }
    // Adler-32 of the inflated IDAT data into the last four bytes of the zlib stream.
    let idat = chunks.filter { b[$0.type] == 0x49 && b[$0.type + 1] == 0x44 && b[$0.type + 2] == 0x41 && b[$0.type + 3] == 0x54 }
    let positions = idat.flatMap { Array($0.body) }
    if positions.count >= 6, let raw = try? Inflate.inflate(Data(positions.dropFirst(2).map { b[$0] }), path: "fuzz", maxOutput: 1 << 24) {
        var a: UInt32 = 1, s: UInt32 = 0
        for v in raw { a = (a + UInt32(v)) % 65521; s = (s + a) % 65521 }
        let adler = s << 16 | a
        for (i, p) in positions.suffix(4).enumerated() { b[p] = UInt8(truncatingIfNeeded: adler >> (24 - 8 * i)) }
    }
    for c in chunks {
        let crc = b.withUnsafeBufferPointer { CRC32.checksum(UnsafeBufferPointer(rebasing: $0[c.type..<c.body.upperBound])) }
        for i in 0..<4 { b[c.body.upperBound + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * i)) }
    }
    return Data(b)
}

runFuzzer { p, n in
    let input = bytes(p, n)
    _ = try? PNGDecoder.decode(input, path: "fuzz.png", maxPixels: 1 << 22)
    _ = try? PNGDecoder.decode(repaired(input), path: "fuzz.png", maxPixels: 1 << 22)
    return 0
}
