import Foundation
import Testing
import GlassboxData
import GlassboxNN

@Suite struct IDXTests {
    static func idx(type: UInt8 = 0x08, dims: [UInt32], body: [UInt8]) -> Data {
        var d = Data([0, 0, type, UInt8(dims.count)])
        for dim in dims { d.append(Data.be(dim)) }
        d.append(contentsOf: body)
        return d
    }

    @Test func decodesRawImagesAndLabels() throws {
        let body = (0..<24).map { UInt8($0 * 10) }
        let images = try IDX.decodeImages(Self.idx(dims: [2, 3, 4], body: body), path: "i")
        #expect(images.shape == [2, 1, 3, 4])
        #expect(images.scalars.first == 0)
        #expect(abs(images.scalars[23] - 230 / 255) < 1e-7)
        #expect(try IDX.decodeLabels(Self.idx(dims: [3], body: [9, 0, 4]), path: "l") == [9, 0, 4])
        #expect(try IDX.decodeImages(Self.idx(dims: [0, 28, 28], body: []), path: "e").shape == [0, 1, 28, 28])
    }

    @Test func readsRawAndGzippedFiles() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let url = dir.file("labels-idx1-ubyte")
        try Self.idx(dims: [4], body: [1, 2, 3, 4]).write(to: url)
        #expect(try IDX.readLabels(from: url) == [1, 2, 3, 4])
        #expect(try IDX.readLabels(from: resourceURL("fashion_sample_test_labels.idx1.gz")).count == 1000)
    }

    @Test func headerErrors() {
        expectBadFile(path: "x.idx", location: "byte offset 0", problem: "too short") { _ = try IDX.decodeLabels(Data([0, 0]), path: "x.idx") }
        expectBadFile(path: "x.idx", location: "byte offset 0", problem: "not an IDX file (magic 0x89504e47, expected 0x00000803)") {
            _ = try IDX.decodeImages(Data([0x89, 0x50, 0x4E, 0x47, 0, 0, 0, 0]), path: "x.idx")
        }
        expectBadFile(path: "x.idx", location: "byte offset 2", problem: "element type 0x0d is not supported") {
            _ = try IDX.decodeLabels(Self.idx(type: 0x0D, dims: [1], body: [0, 0, 0, 0]), path: "x.idx")
        }
        expectBadFile(path: "x.idx", location: "byte offset 3", problem: "has 1 dimensions but an image file has 3") {
            _ = try IDX.decodeImages(Self.idx(dims: [3], body: [1, 2, 3]), path: "x.idx")
        }
        expectBadFile(path: "x.idx", location: "byte offset 4", problem: "ends inside the dimension sizes") {
            _ = try IDX.decodeImages(Data([0, 0, 8, 3, 0, 0, 0, 1]), path: "x.idx")
        }
    }

    @Test func sizeErrors() {
        expectBadFile(path: "x.idx", location: "byte offset 16", problem: "need more bytes than the 100 after the header") {
            _ = try IDX.decodeImages(Self.idx(dims: [2, 28, 28], body: [UInt8](repeating: 0, count: 100)), path: "x.idx")
        }
        expectBadFile(path: "x.idx", location: "byte offset 16", problem: "need more bytes") {
            _ = try IDX.decodeImages(Self.idx(dims: [.max, .max, .max], body: [1]), path: "x.idx")
        }
        expectBadFile(path: "x.idx", location: "byte offset 8", problem: "describe 2 bytes but 3 follow") {
            _ = try IDX.decodeLabels(Self.idx(dims: [2], body: [1, 2, 3]), path: "x.idx")
        }
    }

    @Test func corruptGzipNamesTheFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        var gz = try Data(contentsOf: resourceURL("fashion_sample_test_labels.idx1.gz"))
        gz[gz.count - 6] ^= 0xFF
        let url = dir.file("t10k-labels-idx1-ubyte.gz")
        try gz.write(to: url)
        expectBadFile(path: url.path, location: "byte offset", problem: "CRC-32 mismatch") { _ = try IDX.readLabels(from: url) }
    }
}

/// A bundled resource by file name, located from this source file (the test target has no bundle).
func resourceURL(_ name: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/GlassboxData/Resources").appendingPathComponent(name)
}
