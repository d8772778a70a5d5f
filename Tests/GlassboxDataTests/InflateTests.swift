import Foundation
import Testing
import GlassboxData
import GlassboxNN

/// Inflate against files written by Python's gzip/zlib (see Fixtures/make_fixtures.py).
@Suite struct InflateTests {
    /// Same formula as `text_payload` in make_fixtures.py.
    static func textPayload(_ lines: Int) -> Data {
        let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo"]
        var s = ""
        for i in 0..<lines {
            let number = String(i)
            s += String(repeating: "0", count: Swift.max(0, 6 - number.count)) + number
            s += " \(words[(i * 7) % words.count]) \((i * i) % 9973)\n"
        }
        return Data(s.utf8)
    }

    /// Same formula as `lcg_bytes` in make_fixtures.py.
    static func lcgBytes(_ n: Int, seed: UInt64 = 12345) -> Data {
        var x = seed
        var out = Data(count: n)
        for i in 0..<n {
            x = (x &* 1_103_515_245 &+ 12345) % (1 << 31)
            out[i] = UInt8((x >> 16) & 0xFF)
        }
        return out
    }

    /// BTYPE of the first block of a gzip file whose header is `headerLength` bytes.
    static func firstBlockType(_ data: Data, headerLength: Int = 10) -> UInt8 { (data[headerLength] >> 1) & 3 }

    @Test func dynamicHuffmanOver64KB() throws {
        let gz = try Fixtures.data("text_dynamic.txt.gz")
        #expect(Self.firstBlockType(gz) == 2)
        let out = try Inflate.gunzip(gz, path: "text_dynamic.txt.gz")
        #expect(out.count > 64 * 1024)
        #expect(out == Self.textPayload(6000))
    }

    @Test func storedBlocks() throws {
        let gz = try Fixtures.data("stored.bin.gz")
        #expect(Self.firstBlockType(gz) == 0)
        #expect(try Inflate.gunzip(gz, path: "stored.bin.gz") == Self.lcgBytes(70_000))
    }

    @Test func fixedHuffmanWithEveryOptionalHeaderField() throws {
        let gz = try Fixtures.data("fixed_allfields.gz")
        #expect(gz[3] == 0x1E) // FEXTRA | FNAME | FCOMMENT | FHCRC
        #expect(Self.firstBlockType(gz, headerLength: 57) == 1)
        #expect(try Inflate.gunzip(gz, path: "fixed_allfields.gz") == Self.textPayload(200))
    }

    @Test func overlappingCopies() throws {
        var expected = Data(repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<500 { expected.append(contentsOf: Array("ab".utf8)) }
        for _ in 0..<4 { expected.append(contentsOf: (0...255).map { UInt8($0) }) }
        expected.append(Data(repeating: UInt8(ascii: "z"), count: 3000))
        #expect(try Inflate.gunzip(Fixtures.data("runs.bin.gz"), path: "runs.bin.gz") == expected)
    }

    @Test func multipleMembersAndEmpty() throws {
        #expect(try Inflate.gunzip(Fixtures.data("multi_member.gz"), path: "m") == Data("first member\nsecond member\n".utf8))
        #expect(try Inflate.gunzip(Fixtures.data("empty.gz"), path: "e").isEmpty)
        var padded = try Fixtures.data("empty.gz")
        padded.append(Data(count: 512))
        #expect(try Inflate.gunzip(padded, path: "e").isEmpty)
    }

    @Test func crc32KnownValue() {
        #expect(CRC32.checksum(Data("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum(Data()) == 0)
    }

    @Test func corruptTrailerCRC() throws {
        var gz = try Fixtures.data("text_dynamic.txt.gz")
        gz[gz.count - 8] ^= 0xFF
        expectBadFile(path: "t.gz", location: "byte offset \(gz.count - 8)", problem: "CRC-32 mismatch") {
            _ = try Inflate.gunzip(gz, path: "t.gz")
        }
    }

    @Test func lengthMismatch() throws {
        var gz = try Fixtures.data("multi_member.gz")
        let firstEnd = try Fixtures.data("multi_member.gz").count / 2 // both members are the same size
        gz[firstEnd - 4] ^= 1
        expectBadFile(path: "m.gz", problem: "length mismatch") { _ = try Inflate.gunzip(gz, path: "m.gz") }
    }

    @Test func truncatedStream() throws {
        let gz = try Fixtures.data("text_dynamic.txt.gz")
        for cut in [12, gz.count / 2, gz.count - 9, gz.count - 3] {
            expectBadFile(path: "t.gz", location: "byte offset", problem: "truncated") {
                _ = try Inflate.gunzip(gz.prefix(cut), path: "t.gz")
            }
        }
    }

    @Test func badHeaders() throws {
        expectBadFile(path: "x", location: "byte offset 0", problem: "not gzip") { _ = try Inflate.gunzip(Data("hello world!".utf8), path: "x") }
        expectBadFile(path: "x", location: "byte offset 0", problem: "truncated gzip header") { _ = try Inflate.gunzip(Data([0x1F, 0x8B, 8]), path: "x") }
        var gz = try Fixtures.data("empty.gz")
        gz[2] = 7
        expectBadFile(path: "x", location: "byte offset 2", problem: "not deflate") { _ = try Inflate.gunzip(gz, path: "x") }
        gz = try Fixtures.data("empty.gz")
        gz[3] = 0x80
        expectBadFile(path: "x", location: "byte offset 3", problem: "reserved gzip flag") { _ = try Inflate.gunzip(gz, path: "x") }
        gz = try Fixtures.data("fixed_allfields.gz")
        gz[55] ^= 0xFF
        expectBadFile(path: "x", location: "byte offset 55", problem: "header CRC mismatch") { _ = try Inflate.gunzip(gz, path: "x") }
        gz = try Fixtures.data("fixed_allfields.gz")
        expectBadFile(path: "x", problem: "unterminated gzip file name") { _ = try Inflate.gunzip(gz.prefix(25), path: "x") }
        expectBadFile(path: "x", problem: "extra field of") { _ = try Inflate.gunzip(gz.prefix(15), path: "x") }
    }

    @Test func trailingGarbage() throws {
        var gz = try Fixtures.data("empty.gz")
        gz.append(contentsOf: Array("junk".utf8))
        expectBadFile(path: "x", location: "byte offset 20", problem: "unexpected data after the end") { _ = try Inflate.gunzip(gz, path: "x") }
    }

    @Test func decompressionBombIsCapped() throws {
        let gz = try Fixtures.data("text_dynamic.txt.gz")
        expectBadFile(path: "t.gz", problem: "exceeds the limit of 10000 bytes") {
            _ = try Inflate.gunzip(gz, path: "t.gz", maxOutput: 10_000)
        }
        // 1 MB of zeros compresses ~1000:1; the cap stops it long before it is produced.
        var zeros = Data([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3])
        zeros.append(Self.deflatedZeros(runs: 4000))
        expectBadFile(path: "z", problem: "exceeds the limit") { _ = try Inflate.gunzip(zeros, path: "z", maxOutput: 100_000) }
    }

    /// A fixed-Huffman block: one literal 0, then `runs` copies of (length 258, distance 1), never ended.
    static func deflatedZeros(runs: Int) -> Data {
        var bits: [UInt8] = []
        func put(_ value: Int, _ count: Int) { for k in 0..<count { bits.append(UInt8((value >> k) & 1)) } }
        func putCode(_ code: Int, _ length: Int) { for k in stride(from: length - 1, through: 0, by: -1) { bits.append(UInt8((code >> k) & 1)) } }
        put(1, 1); put(1, 2)          // final, fixed
        putCode(0x30, 8)              // literal 0
        for _ in 0..<runs {
            putCode(0b1100_0101, 8)   // symbol 285: length 258
            putCode(0, 5)             // distance symbol 0: distance 1
        }
        var out = Data()
        for chunk in stride(from: 0, to: bits.count, by: 8) {
            var byte: UInt8 = 0
            for (k, bit) in bits[chunk..<Swift.min(chunk + 8, bits.count)].enumerated() { byte |= bit << UInt8(k) }
            out.append(byte)
        }
        return out
    }

    @Test func corruptDeflateStreams() throws {
        expectBadFile(path: "r", location: "byte offset", problem: "reserved block type") { _ = try Inflate.inflate(Data([0x07]), path: "r") }
        expectBadFile(path: "r", problem: "does not match its complement") {
            _ = try Inflate.inflate(Data([0x01, 0x05, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5]), path: "r")
        }
        expectBadFile(path: "r", problem: "runs past the end") {
            _ = try Inflate.inflate(Data([0x01, 0x05, 0x00, 0xFA, 0xFF, 1, 2]), path: "r")
        }
        expectBadFile(path: "r", problem: "reaches before the start of the output") {
            _ = try Inflate.inflate(Fixtures.data("needs_dictionary.deflate"), path: "r")
        }
        expectBadFile(path: "r", problem: "truncated") { _ = try Inflate.inflate(Data(), path: "r") }
    }

    /// Random single-byte corruptions of real files must throw or decode, never trap.
    @Test func mutatedFilesNeverCrash() throws {
        var rng = SeededGenerator(seed: 7)
        for name in ["fixed_allfields.gz", "runs.bin.gz", "multi_member.gz"] {
            let original = try Fixtures.data(name)
            for _ in 0..<150 {
                var mutated = original
                for _ in 0..<(1 + rng.int(below: 3)) {
                    mutated[rng.int(below: mutated.count)] = UInt8(truncatingIfNeeded: rng.next())
                }
                do {
                    _ = try Inflate.gunzip(mutated, path: name, maxOutput: 1 << 20)
                } catch let error as GlassboxError {
                    guard case .badFile(let path, _, _) = error else {
                        Issue.record("unexpected error \(error)")
                        continue
                    }
                    #expect(path == name)
                }
            }
        }
    }

    @Test func rawInflateOfFixedStream() throws {
        let gz = try Fixtures.data("fixed_allfields.gz")
        let body = gz.subdata(in: 57..<(gz.count - 8))
        #expect(try Inflate.inflate(body, path: "f") == Self.textPayload(200))
    }
}
