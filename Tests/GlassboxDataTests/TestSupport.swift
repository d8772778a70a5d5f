import Foundation
import Testing
import GlassboxData
import GlassboxNN

/// Fixtures live beside this file (found through `#filePath`, so the test target needs no resources).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static func data(_ name: String) throws -> Data { try Data(contentsOf: url(name)) }
}

/// A fresh temporary directory, removed by the caller with `cleanUp()`.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("glassbox-data-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    func write(_ name: String, _ text: String) throws -> URL {
        let target = file(name)
        try Data(text.utf8).write(to: target)
        return target
    }

    func cleanUp() { try? FileManager.default.removeItem(at: url) }
}

/// Runs `body`, expects a `.badFile` error, and checks that the path, location and problem
/// mention what they should. Returns the error's description for further checks.
@discardableResult
func expectBadFile(path: String, location: String? = nil, problem: String,
                   sourceLocation: SourceLocation = #_sourceLocation,
                   _ body: () throws -> Void) -> String {
    do {
        try body()
        Issue.record("expected a badFile error mentioning \"\(problem)\", but nothing was thrown", sourceLocation: sourceLocation)
    } catch let GlassboxError.badFile(actualPath, actualLocation, actualProblem) {
        #expect(actualPath.contains(path), "path \"\(actualPath)\" should contain \"\(path)\"", sourceLocation: sourceLocation)
        if let location, location.isEmpty {
            #expect(actualLocation.isEmpty, "location \"\(actualLocation)\" should be empty", sourceLocation: sourceLocation)
        } else if let location {
            #expect(actualLocation.contains(location), "location \"\(actualLocation)\" should contain \"\(location)\" (problem: \(actualProblem))",
                    sourceLocation: sourceLocation)
        }
        #expect(actualProblem.localizedCaseInsensitiveContains(problem),
                "problem \"\(actualProblem)\" should contain \"\(problem)\"", sourceLocation: sourceLocation)
        return GlassboxError.badFile(path: actualPath, location: actualLocation, problem: actualProblem).description
    } catch {
        Issue.record("expected a badFile error, got \(error)", sourceLocation: sourceLocation)
    }
    return ""
}

extension Data {
    /// Little-endian bytes of an integer, for building hostile files by hand.
    static func le<T: FixedWidthInteger>(_ value: T) -> Data { Swift.withUnsafeBytes(of: value.littleEndian) { Data($0) } }
    static func be<T: FixedWidthInteger>(_ value: T) -> Data { Swift.withUnsafeBytes(of: value.bigEndian) { Data($0) } }
}
