import Foundation
import Testing
import GlassboxData
import GlassboxNN

@Suite struct NPYTests {
    /// An .npy v1 file with the given header dict text and data bytes (header padded as NumPy does).
    static func npy(_ dict: String, _ body: Data = Data(), major: UInt8 = 1) -> Data {
        var header = Array(dict.utf8)
        let prefix = major == 1 ? 10 : 12
        while (prefix + header.count + 1) % 64 != 0 { header.append(UInt8(ascii: " ")) }
        header.append(UInt8(ascii: "\n"))
        var out = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, major, 0])
        out.append(major == 1 ? Data.le(UInt16(header.count)) : Data.le(UInt32(header.count)))
        out.append(contentsOf: header)
        out.append(body)
        return out
    }

    @Test func readsEveryDtypeWrittenByNumPy() throws {
        let expected: [String: ([Int], [Float])] = [
            "f8": ([3], [1.5, -2, 1e10]),
            "i1": ([3], [-128, 0, 127]),
            "u1": ([3], [0, 200, 255]),
            "i2": ([3], [-32768, 12, 32767]),
            "i4": ([2, 2], [-7, 8, 9, Float(Int32.max)]),
            "i8": ([2], [-1, 16_777_216]),
        ]
        for (name, (shape, values)) in expected {
            let t = try NPY.read(from: Fixtures.url("dtype_\(name).npy"))
            #expect(t.shape == shape, "\(name)")
            #expect(t.scalars == values, "\(name)")
        }
        #expect(try NPY.read(from: Fixtures.url("scalar.npy")) == Tensor(3.5))
        #expect(try NPY.read(from: Fixtures.url("empty_0x3.npy")).shape == [0, 3])
    }

    @Test func readsVersions2And3() throws {
        let expected = try Tensor(shape: [3, 4], scalars: (0..<12).map(Float.init))
        for v in [2, 3] {
            let data = try Fixtures.data("v\(v).npy")
            #expect(data[6] == UInt8(v))
            #expect(try NPY.decode(data, path: "v") == expected)
        }
    }

    @Test func writesExactlyWhatNumPyWrites() throws {
        let t = try Tensor(shape: [2, 3], scalars: [-1, -0.5, 0, 0.5, 1, 1.5])
        #expect(NPY.encode(t) == (try Fixtures.data("f32_2x3.npy")))
        #expect(NPY.encode(Tensor(3.5)) == (try Fixtures.data("scalar.npy")))
        #expect(NPY.encode(Tensor.zeros([0, 3])) == (try Fixtures.data("empty_0x3.npy")))
    }

    @Test func roundTripThroughAFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        var rng = SeededGenerator(seed: 3)
        for shape in [[], [1], [7], [3, 5], [2, 3, 4, 5], [0, 4]] {
            let t = Tensor.normal(shape, using: &rng)
            let url = dir.file("t.npy")
            try NPY.write(t, to: url)
            #expect(try NPY.read(from: url) == t)
            let size = try Data(contentsOf: url).count
            #expect((size - 4 * t.count) % 64 == 0) // data aligned like NumPy's
        }
        // Overwriting leaves no temporary files behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["t.npy"])
    }

    @Test func layoutErrors() throws {
        expectBadFile(path: "fortran.npy", location: "byte offset", problem: "Fortran-order arrays are not supported") {
            _ = try NPY.read(from: Fixtures.url("fortran.npy"))
        }
        expectBadFile(path: "bigendian.npy", location: "byte offset 10", problem: "big-endian data ('>f4')") {
            _ = try NPY.read(from: Fixtures.url("bigendian.npy"))
        }
        expectBadFile(path: "complex.npy", location: "byte offset 10", problem: "unsupported dtype '<c8'") {
            _ = try NPY.read(from: Fixtures.url("complex.npy"))
        }
    }

    @Test func badMagicAndVersion() {
        expectBadFile(path: "x.npy", location: "byte offset 0", problem: "not an .npy file") {
            _ = try NPY.decode(Data("PK\u{03}\u{04} this is a zip file".utf8), path: "x.npy")
        }
        expectBadFile(path: "x.npy", location: "byte offset 0", problem: "not an .npy file") { _ = try NPY.decode(Data(), path: "x.npy") }
        var data = Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", SafeTensorsTests.floats([1]))
        data[6] = 9
        expectBadFile(path: "x.npy", location: "byte offset 6", problem: "unsupported .npy version 9.0") { _ = try NPY.decode(data, path: "x.npy") }
    }

    @Test func truncatedAndLyingHeaders() throws {
        let full = try Fixtures.data("f32_2x3.npy")
        expectBadFile(path: "t.npy", location: "byte offset 128", problem: "the data is truncated") {
            _ = try NPY.decode(full.prefix(full.count - 1), path: "t.npy")
        }
        expectBadFile(path: "t.npy", location: "byte offset 8", problem: "runs past the end") {
            _ = try NPY.decode(full.prefix(60), path: "t.npy")
        }
        var extra = full
        extra.append(contentsOf: [0, 0, 0, 0])
        expectBadFile(path: "t.npy", problem: "the header does not describe all the data") { _ = try NPY.decode(extra, path: "t.npy") }
        let huge = Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", SafeTensorsTests.floats([1]))
        expectBadFile(path: "t.npy", problem: "needs more data") { _ = try NPY.decode(huge, path: "t.npy") }
        let overflow = Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }")
        expectBadFile(path: "t.npy", problem: "integer too large") { _ = try NPY.decode(overflow, path: "t.npy") }
        var longHeader = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0])
        longHeader.append(Data.le(UInt32.max))
        expectBadFile(path: "t.npy", location: "byte offset 8", problem: "exceeds the limit") { _ = try NPY.decode(longHeader, path: "t.npy") }
    }

    @Test func malformedHeaderDicts() {
        let cases: [(String, String)] = [
            ("{'descr': '<f4', 'fortran_order': False}", "expected exactly the keys"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "expected exactly the keys"),
            ("{'descr': '<f4', 'fortran_order': 'no', 'shape': (1,)}", "'fortran_order' has the wrong type"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", "unexpected character '-'"),
            ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", "structured dtypes"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "expected ',' or '}'"),
            ("{'descr' '<f4'}", "expected ':' after 'descr'"),
            ("((((((((((((1))))))))))))", "nested too deeply"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} trailing", "unexpected text after the dict"),
            ("[1, 2]", "not a dict"),
        ]
        for (dict, problem) in cases {
            expectBadFile(path: "h.npy", location: "byte offset 10", problem: problem) {
                _ = try NPY.decode(Self.npy(dict, SafeTensorsTests.floats([1])), path: "h.npy")
            }
        }
    }

    @Test func acceptsPython2StyleHeaders() throws {
        let data = Self.npy("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1L,)}", SafeTensorsTests.floats([2]))
        #expect(try NPY.decode(data, path: "p").scalars == [2])
    }

    @Test func mutatedFilesNeverCrash() throws {
        let original = try Fixtures.data("dtype_i4.npy")
        var rng = SeededGenerator(seed: 5)
        for _ in 0..<300 {
            var mutated = original
            mutated[rng.int(below: mutated.count)] = UInt8(truncatingIfNeeded: rng.next())
            do { _ = try NPY.decode(mutated, path: "m") } catch let error as GlassboxError {
                if case .badFile = error {} else { Issue.record("unexpected \(error)") }
            }
        }
    }
}
