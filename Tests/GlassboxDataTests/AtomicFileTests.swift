import Foundation
import Testing
import GlassboxNN

@Suite struct AtomicFileTests {
    @Test func writesAndReplaces() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let url = dir.file("out.bin")
        try AtomicFile.write(Data("first".utf8), to: url)
        #expect(try Data(contentsOf: url) == Data("first".utf8))
        try AtomicFile.write(Data("second, longer".utf8), to: url)
        #expect(try Data(contentsOf: url) == Data("second, longer".utf8))
        try AtomicFile.write(Data(), to: url)
        #expect(try Data(contentsOf: url).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["out.bin"])
    }

    @Test func failureNamesThePathAndLeavesNoTemporaryFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let missing = dir.file("no/such/dir/out.bin")
        do {
            try AtomicFile.write(Data("x".utf8), to: missing)
            Issue.record("expected an error")
        } catch GlassboxError.io(let message) {
            #expect(message.contains(missing.path))
        }
        // A directory in the way: the rename fails, the directory and its contents survive.
        let blocker = dir.file("model.safetensors")
        try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: blocker.appendingPathComponent("inside"))
        do {
            try AtomicFile.write(Data("x".utf8), to: blocker)
            Issue.record("expected an error")
        } catch GlassboxError.io(let message) {
            #expect(message.contains("model.safetensors"))
        }
        #expect(try Data(contentsOf: blocker.appendingPathComponent("inside")) == Data("keep".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["model.safetensors"])
    }

    @Test func filesThatBelongTogetherAreReplacedTogetherOrNotAtAll() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let data = dir.file("data.csv"), roles = dir.file("data.roles.json")
        try AtomicFile.write([(Data("rows 1".utf8), data), (Data("roles 1".utf8), roles)])
        #expect(try Data(contentsOf: data) == Data("rows 1".utf8))
        #expect(try Data(contentsOf: roles) == Data("roles 1".utf8))
        // The second file cannot be staged (no such directory): the first keeps its contents.
        do {
            try AtomicFile.write([(Data("rows 2".utf8), data), (Data("x".utf8), dir.file("missing/data.roles.json"))])
            Issue.record("expected an error")
        } catch GlassboxError.io(let message) {
            #expect(message.contains("missing/data.roles.json"), "\(message)")
        }
        #expect(try Data(contentsOf: data) == Data("rows 1".utf8))
        // The second target is a directory: refused before anything is replaced, and no
        // temporary file is left behind.
        let blocker = dir.file("blocked.json")
        try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: false)
        do {
            try AtomicFile.write([(Data("rows 3".utf8), data), (Data("x".utf8), blocker)])
            Issue.record("expected an error")
        } catch GlassboxError.io(let message) {
            #expect(message.contains("blocked.json"), "\(message)")
        }
        #expect(try Data(contentsOf: data) == Data("rows 1".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted() == ["blocked.json", "data.csv", "data.roles.json"])
    }

    @Test func fileDataReadRespectsTheCap() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let url = try dir.write("big.txt", String(repeating: "x", count: 5000))
        #expect(try FileData.read(url).count == 5000)
        expectBadFile(path: "big.txt", problem: "more than the limit of 4000") { _ = try FileData.read(url, maxBytes: 4000) }
        #expect(throws: GlassboxError.self) { _ = try FileData.read(dir.file("absent.txt")) }
        #expect(throws: GlassboxError.self) { _ = try FileData.read(dir.url) }
    }
}
