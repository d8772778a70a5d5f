import Foundation
import GlassboxNN

/// Options for ``Dataset/loadCSV(_:target:options:)``. New column treatments (categorical
/// one-hot encoding, imputation of missing values) belong here as they are added; the defaults
/// keep today's strict behaviour.
public struct CSVDatasetOptions: Sendable, Equatable {
    /// Size bounds passed to the CSV reader.
    public var limits: CSVLimits = .default

    public init() {}
}

extension Dataset {
    /// Loads a classification dataset from a CSV file with a header row.
    ///
    /// Every column except `target` must be numeric (surrounding spaces are ignored) and finite;
    /// the `target` column holds integer or string classes. Integer classes are ordered
    /// numerically and string classes lexicographically, and labels index that order, so
    /// `classNames` is sorted. Errors name the file, the row (1-based, the header is row 1) and
    /// the column. Cost: one pass over the file.
    ///
    /// - Throws: ``GlassboxError/badFile(path:location:problem:)`` for an empty file, a header
    ///   with no data rows, duplicate or empty column names, a missing target column, a ragged
    ///   row, an empty, non-numeric or non-finite cell, fewer than two classes, or malformed CSV.
    public static func loadCSV(_ url: URL, target: String, options: CSVDatasetOptions = .init()) throws -> Dataset {
        try fromCSV(CSV.read(from: url, limits: options.limits), path: url.path, target: target)
    }

    /// Parses CSV bytes as ``loadCSV(_:target:options:)`` does; `path` is used in error messages only.
    public static func parseCSV(_ data: Data, path: String, target: String, options: CSVDatasetOptions = .init()) throws -> Dataset {
        try fromCSV(CSV.parse(data, path: path, limits: options.limits), path: path, target: target)
    }

    static func fromCSV(_ records: [CSVRecord], path: String, target: String) throws -> Dataset {
        func bad(_ location: String, _ problem: String) -> GlassboxError {
            .badFile(path: path, location: location, problem: problem)
        }
        guard let headerRecord = records.first else { throw bad("", "file is empty: expected a header row and data rows") }
        let header = headerRecord.fields.map(trimmed)
        var seen: [String: Int] = [:]
        for (j, name) in header.enumerated() {
            guard !name.isEmpty else { throw bad("\(headerRecord.location), column \(j + 1)", "empty column name") }
            if let earlier = seen[name] {
                throw bad("\(headerRecord.location), column '\(name)'", "duplicate column name (columns \(earlier + 1) and \(j + 1))")
            }
            seen[name] = j
        }
        guard let targetIndex = seen[target] else {
            let list = header.count <= 20 ? header.joined(separator: ", ") : header.prefix(20).joined(separator: ", ") + ", …"
            throw bad(headerRecord.location, "no column named '\(target)' for the target (columns: \(list))")
        }
        let rows = records.dropFirst()
        guard !rows.isEmpty else { throw bad(headerRecord.location, "the file has a header but no data rows") }
        let featureColumns = header.indices.filter { $0 != targetIndex }
        guard !featureColumns.isEmpty else { throw bad(headerRecord.location, "no feature columns besides the target '\(target)'") }

        var scalars = [Float]()
        scalars.reserveCapacity(rows.count * featureColumns.count)
        for record in rows {
            for j in featureColumns {
                scalars.append(try numericCell(record.fields[j], at: "\(record.location), column '\(header[j])'", bad: bad))
            }
        }
        let (labels, classNames) = try encodeClasses(rows, column: targetIndex, name: target, bad: bad)
        return Dataset(unchecked: Tensor(uncheckedShape: [rows.count, featureColumns.count], scalars: scalars),
                       labels: labels, featureNames: featureColumns.map { header[$0] }, classNames: classNames)
    }

    private static func numericCell(_ text: String, at location: String, bad: (String, String) -> GlassboxError) throws -> Float {
        let cell = trimmed(text)
        guard !cell.isEmpty else { throw bad(location, "empty cell (missing value)") }
        guard let value = Double(cell) else { throw bad(location, "'\(cell)' is not a number") }
        guard value.isFinite else { throw bad(location, "'\(cell)' is not a finite number") }
        let single = Float(value)
        guard single.isFinite else { throw bad(location, "'\(cell)' is outside the range of Float") }
        return single
    }

    /// Maps the target column to class indices: integer classes in numeric order if every cell
    /// is an integer, otherwise string classes in lexicographic order.
    private static func encodeClasses(_ rows: ArraySlice<CSVRecord>, column: Int, name: String,
                                      bad: (String, String) -> GlassboxError) throws -> ([Int], [String]) {
        var cells: [String] = []
        cells.reserveCapacity(rows.count)
        for record in rows {
            let cell = trimmed(record.fields[column])
            guard !cell.isEmpty else { throw bad("\(record.location), column '\(name)'", "empty cell (missing class)") }
            cells.append(cell)
        }
        let integers = cells.compactMap { Int($0) }
        let names: [String]
        let keys: [String]
        if integers.count == cells.count {
            let distinct = Array(Set(integers)).sorted()
            names = distinct.map(String.init)
            keys = integers.map(String.init)
        } else {
            names = Array(Set(cells)).sorted()
            keys = cells
        }
        guard names.count >= 2 else {
            throw bad("column '\(name)'", "only one class ('\(names.first ?? "")') in \(cells.count) rows; classification needs at least two")
        }
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        return (keys.map { index[$0] ?? 0 }, names)
    }

    private static func trimmed(_ s: String) -> String {
        s.trimmingCharacters(in: .whitespaces)
    }
}
