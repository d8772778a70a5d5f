import Foundation
import Testing
import GlassboxNN

@Suite struct SafeTensorsTests {
    /// A file from a header string and a data buffer, with the 8-byte length in front.
    static func file(_ header: String, _ buffer: Data = Data(), declaredLength: UInt64? = nil) -> Data {
        var out = Data.le(declaredLength ?? UInt64(header.utf8.count))
        out.append(Data(header.utf8))
        out.append(buffer)
        return out
    }

    static func floats(_ values: [Float]) -> Data {
        var d = Data()
        for v in values { d.append(Data.le(v.bitPattern)) }
        return d
    }

    @Test func readsEveryDtypeWrittenByPython() throws {
        let file = try SafeTensorsFile.read(from: Fixtures.url("py_mixed.safetensors"))
        #expect(file.metadata == ["format": "np", "source": "glassbox fixture"])
        #expect(Set(file.order) == ["weight", "f64", "f16", "i64", "i32", "empty", "scalar"])
        #expect(file.order.count == 7)
        #expect(file["weight"] == (try Tensor(shape: [2, 3], scalars: [-0.5, -0.25, 0, 0.25, 0.5, 0.75])))
        #expect(file["f64"]?.scalars == [1.5, -2.25, Float(1e-3)])
        let half = try #require(file["f16"])
        #expect(half.scalars[0..<4] == [1, -0.5, 65504, 0x1p-24])
        #expect(half.scalars[4] == 0 && half.scalars[4].sign == .minus)
        #expect(half.scalars[5] == .infinity)
        #expect(file["i64"] == (try Tensor(shape: [2, 2], scalars: [-3, 0, 7, 1_048_576])))
        #expect(file["i32"]?.scalars == [Float(Int32.min), 5, Float(Int32.max)])
        #expect(file["empty"]?.shape == [0, 3])
        #expect(file["scalar"]?.shape == [] && file["scalar"]?.scalars == [42])
        // `order` is the data layout Python chose (by dtype, then name), as its offsets say.
        #expect(file.order == ["i64", "f64", "empty", "scalar", "weight", "i32", "f16"])
    }

    @Test func readsBF16() throws {
        let file = try SafeTensorsFile.read(from: Fixtures.url("py_bf16.safetensors"))
        #expect(file["b"]?.scalars == [1, -2.5, 3.140625])
    }

    @Test func halfConversionIsExact() throws {
        let bits: [UInt16] = [0x3C00, 0x0001, 0x03FF, 0x0400, 0xFC00, 0x7E00, 0x7BFF]
        var buffer = Data()
        for b in bits { buffer.append(Data.le(b)) }
        let header = #"{"h":{"dtype":"F16","shape":[7],"data_offsets":[0,14]}}"#
        let h = try #require(try SafeTensorsFile.decode(Self.file(header, buffer), path: "h")["h"]?.scalars)
        #expect(h[0] == 1)
        #expect(h[1] == 0x1p-24)
        #expect(h[2] == Float(1023) * 0x1p-24)
        #expect(h[3] == 0x1p-14)
        #expect(h[4] == -.infinity)
        #expect(h[5].isNaN)
        #expect(h[6] == 65504)
    }

    @Test func writesExactlyWhatPythonWrites() throws {
        let file = SafeTensorsFile(
            tensors: ["weight": try Tensor(shape: [2, 3], scalars: [0, 0.25, 0.5, 0.75, 1, 1.25]), "bias": Tensor([0.5, -1])],
            metadata: ["format": "pt"])
        #expect(try file.encoded() == Fixtures.data("py_f32_reference.safetensors"))
    }

    @Test func roundTripKeepsOrderMetadataAndOddNames() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        var rng = SeededGenerator(seed: 1)
        var file = SafeTensorsFile(metadata: ["note": "quote \" backslash \\ newline \n tab \t é", "epoch": "3"])
        file.set("layer2.weight", Tensor.normal([4, 3], using: &rng))
        file.set("layer1.weight", Tensor.normal([3, 5], using: &rng))
        file.set("odd \"name\"/é\u{01}", Tensor(7))
        file.set("empty", Tensor.zeros([0, 2]))
        let url = dir.file("model.safetensors")
        try file.write(to: url)
        let back = try SafeTensorsFile.read(from: url)
        #expect(back == file)
        #expect(back.order == ["layer2.weight", "layer1.weight", "odd \"name\"/é\u{01}", "empty"])
        // Header is padded to 8 bytes, like the reference writer.
        let bytes = try Data(contentsOf: url)
        #expect(Int(bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }) % 8 == 0)
    }

    @Test func encodeRejectsBadOrder() {
        var file = SafeTensorsFile(tensors: ["a": Tensor([1])], order: ["a", "a"])
        #expect(throws: GlassboxError.self) { try file.encoded() }
        file.order = ["b"]
        #expect(throws: GlassboxError.self) { try file.encoded() }
        file = SafeTensorsFile(tensors: ["__metadata__": Tensor([1])])
        #expect(throws: GlassboxError.self) { try file.encoded() }
    }

    @Test func hostileLengths() {
        expectBadFile(path: "h.st", location: "byte offset 0", problem: "too short") {
            _ = try SafeTensorsFile.decode(Data([1, 2, 3]), path: "h.st")
        }
        expectBadFile(path: "h.st", location: "byte offset 0", problem: "runs past the end") {
            _ = try SafeTensorsFile.decode(Self.file("{}", declaredLength: 1000), path: "h.st")
        }
        expectBadFile(path: "h.st", location: "byte offset 0", problem: "exceeds the limit") {
            _ = try SafeTensorsFile.decode(Self.file("{}", declaredLength: UInt64.max), path: "h.st")
        }
        expectBadFile(path: "h.st", location: "byte offset 0", problem: "exceeds the limit") {
            _ = try SafeTensorsFile.decode(Self.file("{}", declaredLength: 100_000_001), path: "h.st")
        }
    }

    @Test func malformedHeaders() {
        let cases: [(String, String)] = [
            ("{not json}", "invalid JSON"),
            ("[1, 2]", "not a JSON object"),
            (#"{"a":{"dtype":"F32","shape":[1]}}"#, "missing key 'data_offsets'"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,"4"]}}"#, "wrong type"),
            (#"{"__metadata__":{"k":1}}"#, "wrong type"),
            (#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, "negative"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, "[begin, end]"),
        ]
        for (header, problem) in cases {
            expectBadFile(path: "h.st", problem: problem) {
                _ = try SafeTensorsFile.decode(Self.file(header, Self.floats([1])), path: "h.st")
            }
        }
    }

    @Test func dtypes() {
        expectBadFile(path: "h.st", location: "tensor 'a'", problem: "unknown dtype 'Q7'") {
            _ = try SafeTensorsFile.decode(Self.file(#"{"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}}"#, Self.floats([1])), path: "h.st")
        }
        expectBadFile(path: "h.st", location: "tensor 'a'", problem: "dtype U8 is not supported") {
            _ = try SafeTensorsFile.decode(Self.file(#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#, Self.floats([1])), path: "h.st")
        }
    }

    @Test func shapesAndOffsets() {
        let buffer = Self.floats([1, 2, 3, 4])
        let cases: [(String, String, String)] = [
            (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#, "tensor 'a'", "needs 12 bytes but data_offsets [0, 16] span 16"),
            (#"{"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}"#, "tensor 'a'", "outside the 16-byte buffer"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, "tensor 'a'", "outside"),
            (#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}}"#, "tensor 'a'", "needs more data"),
            (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#,
             "tensor 'b'", "overlap tensor 'a'"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}"#,
             "tensor 'b'", "gap"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, "byte offset", "8 bytes after the last tensor"),
        ]
        for (header, location, problem) in cases {
            expectBadFile(path: "s.st", location: location, problem: problem) {
                _ = try SafeTensorsFile.decode(Self.file(header, buffer), path: "s.st")
            }
        }
    }

    @Test func truncatedFile() throws {
        let data = try Fixtures.data("py_f32_reference.safetensors")
        expectBadFile(path: "t.st", location: "tensor", problem: "outside") {
            _ = try SafeTensorsFile.decode(data.prefix(data.count - 3), path: "t.st")
        }
        expectBadFile(path: "t.st", location: "byte offset 0", problem: "runs past the end") {
            _ = try SafeTensorsFile.decode(data.prefix(40), path: "t.st")
        }
    }

    @Test func errorDescriptionNamesFileAndPlace() {
        let message = expectBadFile(path: "/models/m.safetensors", problem: "unknown dtype") {
            _ = try SafeTensorsFile.decode(Self.file(#"{"w":{"dtype":"X","shape":[],"data_offsets":[0,4]}}"#, Self.floats([1])),
                                           path: "/models/m.safetensors")
        }
        #expect(message == "/models/m.safetensors: tensor 'w': unknown dtype 'X'")
    }

    @Test func missingFileIsAnIOError() {
        #expect(throws: GlassboxError.self) { _ = try SafeTensorsFile.read(from: URL(fileURLWithPath: "/nonexistent/x.safetensors")) }
    }

    @Test func mutatedFilesNeverCrash() throws {
        let original = try Fixtures.data("py_mixed.safetensors")
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<300 {
            var mutated = original
            mutated[rng.int(below: mutated.count)] = UInt8(truncatingIfNeeded: rng.next())
            if rng.int(below: 4) == 0 { mutated = mutated.prefix(rng.int(below: mutated.count)) }
            do {
                _ = try SafeTensorsFile.decode(mutated, path: "m")
            } catch let error as GlassboxError {
                if case .badFile = error {} else { Issue.record("unexpected \(error)") }
            }
        }
    }
}
