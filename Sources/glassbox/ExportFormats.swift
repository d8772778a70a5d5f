import Foundation
import Glassbox

/// Output files chosen by extension — `.npy` (float32 array), `.csv` (one header row), `.json`
/// (one object) — written atomically (``AtomicFile``: a temporary file renamed into place, so a
/// failure never leaves half a file).
enum ExportFormat: String, CaseIterable {
    case npy, csv, json

    /// The format of `path` (by its extension, case-insensitive), if it is one of `allowed`.
    static func of(_ path: String, allowed: [ExportFormat] = ExportFormat.allCases) -> ExportFormat? {
        ExportFormat(rawValue: URL(fileURLWithPath: path).pathExtension.lowercased()).flatMap { allowed.contains($0) ? $0 : nil }
    }

    /// What to do about an output path whose extension is not accepted.
    static func advice(_ path: String, option: String = "--out", allowed: [String], example: String = "attributions") -> String {
        "\(option) '\(path)': the extension chooses the format; use " + allowed.joined(separator: ", ")
            + " (for example \(option) \(example)\(allowed[0]))"
    }

    /// Writes whichever representation matches the extension of `path`.
    static func write(_ path: String, npy: () throws -> Tensor, csv: () throws -> String, json: () throws -> Data) throws {
        let data: Data
        guard let format = of(path) else {
            throw GlassboxError.invalidArgument(advice(path, allowed: allCases.map { "." + $0.rawValue }))
        }
        switch format {
        case .npy: data = NPY.encode(try npy())
        case .csv: data = Data(try csv().utf8)
        case .json: data = try json()
        }
        try AtomicFile.write(data, to: URL(fileURLWithPath: path))
    }

    /// Sorted-key JSON of `value` followed by a newline.
    static func jsonData<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value) + Data("\n".utf8)
    }
}
