import Foundation
import GlassboxNN

/// Reading and writing results files (``ReportData`` as JSON) and report pages, atomically.
///
/// JSON keys are snake_case (`feature_names`, `test_accuracy`, …), written sorted and indented
/// so saved results diff well.
public enum ReportFile {
    /// The JSON text of `data`.
    public static func encode(_ data: ReportData) throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        do { return try encoder.encode(data) } catch {
            throw GlassboxError.invalidArgument("cannot encode the report data as JSON: \(error)")
        }
    }

    /// Results from JSON text; `path` names the source in errors.
    /// - Throws: ``GlassboxError/badFile(path:location:problem:)`` with the JSON path of the bad
    ///   value (`tabular.methods[1].importance`) and what is wrong: not JSON, a missing or mistyped
    ///   field, an unknown format, or arrays whose lengths do not match (``ReportData/validate()``).
    public static func decode(_ json: Data, path: String) throws -> ReportData {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let data: ReportData
        do {
            data = try decoder.decode(ReportData.self, from: json)
        } catch let error as DecodingError {
            let (location, problem) = describe(error)
            throw GlassboxError.badFile(path: path, location: location, problem: problem)
        } catch {
            throw GlassboxError.badFile(path: path, location: "", problem: "not valid JSON (\(ErrorText.describe(error)))")
        }
        do { try data.validate() } catch let problem as ReportDataProblem {
            throw GlassboxError.badFile(path: path, location: problem.location, problem: problem.problem)
        }
        return data
    }

    /// Reads a results file saved by ``write(_:to:)``.
    public static func load(from url: URL) throws -> ReportData {
        let bytes: Data
        do { bytes = try Data(contentsOf: url) } catch {
            throw GlassboxError.io("cannot read \(url.path): \((error as NSError).localizedDescription)")
        }
        return try decode(bytes, path: url.path)
    }

    /// Writes the results as JSON, atomically.
    public static func write(_ data: ReportData, to url: URL) throws {
        try AtomicFile.write(try encode(data), to: url)
    }

    /// Writes the results as JSON and the page rendered from them (``HTMLReport/render(_:)``),
    /// both or neither (one ``AtomicFile`` write of the pair): the page never sits beside
    /// another run's results.
    public static func write(_ data: ReportData, to url: URL, page: URL) throws {
        try AtomicFile.write([(try encode(data), url), (Data(try HTMLReport.render(data).utf8), page)])
    }

    /// Renders the page (``HTMLReport/render(_:)``) and writes it atomically.
    public static func writeHTML(_ data: ReportData, to url: URL) throws {
        try AtomicFile.write(Data(try HTMLReport.render(data).utf8), to: url)
    }

    /// A decoding error as (JSON path, problem), with snake_case keys as in the file.
    static func describe(_ error: DecodingError) -> (String, String) {
        func path(_ keys: [any CodingKey]) -> String {
            var out = ""
            for key in keys {
                if let i = key.intValue { out += "[\(i)]" } else {
                    out += (out.isEmpty ? "" : ".") + snake(key.stringValue)
                }
            }
            return out.isEmpty ? "top level" : out
        }
        switch error {
        case .dataCorrupted(let c):
            let underlying = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            let detail = underlying ?? c.debugDescription
            return (path(c.codingPath), c.codingPath.isEmpty ? "not valid JSON: \(detail)" : detail)
        case .keyNotFound(let key, let c):
            return (path(c.codingPath), "required field '\(snake(key.stringValue))' is missing")
        case .typeMismatch(let type, let c):
            return (path(c.codingPath), "expected \(describe(type)): \(c.debugDescription)")
        case .valueNotFound(let type, let c):
            return (path(c.codingPath), "expected \(describe(type)), found null")
        @unknown default:
            return ("", "\(error)")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Double.Type, is Float.Type: return "a number"
        case is Int.Type, is UInt64.Type: return "an integer"
        default: return "\(type)".hasPrefix("Array") ? "an array" : "an object"
        }
    }

    /// `camelCase` → `snake_case`, as the encoder writes keys.
    static func snake(_ key: String) -> String {
        var out = ""
        for ch in key {
            if ch.isUppercase { out += "_" + ch.lowercased() } else { out.append(ch) }
        }
        return out
    }
}
