import Foundation
import GlassboxNN

/// RFC 4180 output: the inverse of ``CSV``.
public enum CSVWriter {
    /// `field`, quoted if it holds a comma, quote, line break, or surrounding spaces (which a
    /// reader that trims would lose), with quotes doubled.
    public static func escape(_ field: String) -> String {
        let needsQuotes = field.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
            || field.first?.isWhitespace == true || field.last?.isWhitespace == true
        guard needsQuotes else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One record: escaped fields joined by commas, ended by LF.
    public static func record(_ fields: [String]) -> String {
        fields.map(escape).joined(separator: ",") + "\n"
    }
}

extension Dataset {
    /// The dataset as CSV text that ``loadCSV(_:target:options:)`` reads back: one column per
    /// feature group (a categorical group is written as its category, not as one-hot columns),
    /// then the class name in column `target`. Numbers are written in the shortest form that
    /// reads back as the same Float; missing cells (``missingCells``) are written empty, so the
    /// original data survive and imputation can be redone. Cost: O(n·d).
    ///
    /// - Throws: ``GlassboxError/invalidArgument(_:)`` if `target` is also a column name, or a
    ///   categorical group's features are not 0/1 one-hot (e.g. after standardising);
    ///   ``GlassboxError/nonFinite(_:)`` for a NaN or infinite value outside the missing cells.
    public func csvData(target: String = "target") throws -> Data {
        if featureGroups.contains(where: { $0.name == target }) {
            throw GlassboxError.invalidArgument("the target column name '\(target)' is also a feature column; choose another")
        }
        let d = featureCount
        var bytes = Array(CSVWriter.record(featureGroups.map(\.name) + [target]).utf8)
        bytes.reserveCapacity(bytes.count + count * (d * 12 + 8))
        let escapedClasses = classNames.map { Array(CSVWriter.escape($0).utf8) }
        let escapedCategories = featureGroups.map { $0.categories?.map { Array(CSVWriter.escape($0).utf8) } }
        var isMissing = [Bool](repeating: false, count: d)
        try features.scalars.withUnsafeBufferPointer { x in
            for i in 0..<count {
                let missing = missingCells[missingRange(row: i)]
                for cell in missing { isMissing[cell - i * d] = true }
                for (g, group) in featureGroups.enumerated() {
                    let first = group.features[0]
                    if isMissing[first] {
                        // An empty field.
                    } else if let categories = escapedCategories[g] {
                        var hot: Int?
                        for (k, f) in group.features.enumerated() {
                            let v = x[i * d + f]
                            guard v == 0 || v == 1, v == 0 || hot == nil else {
                                throw GlassboxError.invalidArgument(
                                    "row \(i) of categorical column '\(group.name)' is not one-hot; write the dataset before transforming its features")
                            }
                            if v == 1 { hot = k }
                        }
                        guard let hot else {
                            throw GlassboxError.invalidArgument("row \(i) of categorical column '\(group.name)' has no category set")
                        }
                        bytes.append(contentsOf: categories[hot])
                    } else {
                        let v = x[i * d + first]
                        guard v.isFinite else {
                            throw GlassboxError.nonFinite("row \(i), column '\(group.name)' is \(v); CSV cells must be finite numbers")
                        }
                        bytes.append(contentsOf: v.description.utf8)
                    }
                    bytes.append(UInt8(ascii: ","))
                }
                bytes.append(contentsOf: escapedClasses[labels[i]])
                bytes.append(UInt8(ascii: "\n"))
                for cell in missing { isMissing[cell - i * d] = false }
            }
        }
        return Data(bytes)
    }

    /// Writes ``csvData(target:)`` to `url` atomically (see ``AtomicFile``).
    public func writeCSV(to url: URL, target: String = "target") throws {
        try AtomicFile.write(csvData(target: target), to: url)
    }
}
