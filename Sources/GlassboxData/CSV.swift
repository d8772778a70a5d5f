import Foundation
import GlassboxNN

/// Size bounds for CSV input, so a hostile or mistaken file (a binary blob, a missing closing
/// quote swallowing the rest of the file) fails fast with a clear message.
public struct CSVLimits: Sendable, Equatable {
    /// Largest file read, in bytes.
    public var maxFileBytes: Int = 1 << 30
    /// Largest single field, in bytes.
    public var maxFieldBytes: Int = 1 << 20
    /// Largest record (one row, including quoted newlines), in bytes.
    public var maxRecordBytes: Int = 16 << 20
    /// Most fields in one record.
    public var maxFields: Int = 100_000

    /// The default limits (1 GiB files, 1 MiB fields, 16 MiB records, 100 000 fields).
    public init() {}
    /// The default limits, shared by readers that are not given any.
    public static let `default` = CSVLimits()
}

/// One CSV record with where it came from.
public struct CSVRecord: Sendable, Equatable {
    /// The fields, unquoted.
    public var fields: [String]
    /// 1-based record number (the header, if any, is row 1).
    public var row: Int
    /// 1-based physical line the record starts on; differs from `row` after blank lines or
    /// quoted fields spanning lines.
    public var line: Int

    /// A record of `fields` at 1-based record number `row`, starting on physical line `line`.
    public init(fields: [String], row: Int, line: Int) {
        self.fields = fields
        self.row = row
        self.line = line
    }

    /// "row 12" or "row 12 (line 14)", for error messages.
    public var location: String { row == line ? "row \(row)" : "row \(row) (line \(line))" }
}

/// An RFC 4180 CSV reader.
///
/// - Fields are separated by commas; records end with CRLF, LF or a lone CR; the last record may
///   or may not end with one.
/// - A field starting with `"` is quoted: it may contain commas, line breaks and `""` (a literal
///   quote), and must be followed by a comma, a line break or the end of input.
/// - A quote inside an unquoted field is an error (RFC 4180 forbids it, and it usually means a
///   broken export), as are invalid UTF-8 and records with a different number of fields than the
///   first one.
/// - A leading UTF-8 byte order mark is skipped; completely empty lines are skipped.
/// - Fields are not trimmed: spaces are data.
///
/// Cost: one pass over the bytes; memory is the input plus the decoded strings.
public enum CSV {
    /// Reads and parses a CSV file. Errors name the file, the row (and line) and the column.
    public static func read(from url: URL, limits: CSVLimits = .default) throws -> [CSVRecord] {
        try parse(FileData.read(url, maxBytes: limits.maxFileBytes), path: url.path, limits: limits)
    }

    /// Parses CSV bytes; `path` is used in error messages only.
    public static func parse(_ data: Data, path: String, limits: CSVLimits = .default) throws -> [CSVRecord] {
        try data.withUnsafeBytes { raw in
            var parser = Parser(bytes: raw.bindMemory(to: UInt8.self), path: path, limits: limits)
            return try parser.run()
        }
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        let path: String
        let limits: CSVLimits
        var i = 0
        var line = 1
        var records: [CSVRecord] = []
        var scratch: [UInt8] = []

        static let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")

        init(bytes: UnsafeBufferPointer<UInt8>, path: String, limits: CSVLimits) {
            self.bytes = bytes
            self.path = path
            self.limits = limits
        }

        func bad(_ location: String, _ problem: String) -> GlassboxError {
            .badFile(path: path, location: location, problem: problem)
        }

        func place(_ row: Int, _ line: Int, column: Int? = nil) -> String {
            let base = row == line ? "row \(row)" : "row \(row) (line \(line))"
            return column.map { "\(base), column \($0)" } ?? base
        }

        mutating func run() throws -> [CSVRecord] {
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { i = 3 }
            let n = bytes.count
            while i < n {
                if bytes[i] == Self.cr || bytes[i] == Self.lf {
                    consumeLineBreak()
                    continue
                }
                let row = records.count + 1, startLine = line, start = i
                var fields: [String] = []
                while true {
                    guard fields.count < limits.maxFields else {
                        throw bad(place(row, startLine), "more than \(limits.maxFields) fields")
                    }
                    fields.append(try field(row: row, startLine: startLine, column: fields.count + 1))
                    guard i - start <= limits.maxRecordBytes else {
                        throw bad(place(row, startLine), "record is longer than \(limits.maxRecordBytes) bytes")
                    }
                    if i == n { break }
                    if bytes[i] == Self.comma {
                        i += 1
                        continue
                    }
                    consumeLineBreak()
                    break
                }
                if let first = records.first, first.fields.count != fields.count {
                    // Files from locales with decimal commas separate fields by ';': say so.
                    let semicolons = (first.fields + fields).contains { $0.contains(";") }
                    let hint = semicolons ? "; the file seems to separate fields by ';' (with decimal commas?): Glassbox reads "
                        + "comma-separated values with '.' decimals, so re-export it as such" : ""
                    throw bad(place(row, startLine), "has \(fields.count) field\(fields.count == 1 ? "" : "s") "
                                  + "but row 1 has \(first.fields.count) (ragged row)" + hint)
                }
                records.append(CSVRecord(fields: fields, row: row, line: startLine))
            }
            return records
        }

        private mutating func consumeLineBreak() {
            if bytes[i] == Self.cr, i + 1 < bytes.count, bytes[i + 1] == Self.lf { i += 1 }
            i += 1
            line += 1
        }

        /// Parses one field starting at `i`, leaving `i` on the following comma, line break or end.
        private mutating func field(row: Int, startLine: Int, column: Int) throws -> String {
            let n = bytes.count
            if i < n, bytes[i] == Self.quote {
                let openLine = line
                i += 1
                scratch.removeAll(keepingCapacity: true)
                while true {
                    guard i < n else {
                        throw bad(place(row, startLine, column: column),
                                  "quoted field opened on line \(openLine) is never closed")
                    }
                    let c = bytes[i]
                    if c == Self.quote {
                        if i + 1 < n, bytes[i + 1] == Self.quote {
                            scratch.append(Self.quote)
                            i += 2
                            continue
                        }
                        i += 1
                        break
                    }
                    if c == Self.lf || (c == Self.cr && !(i + 1 < n && bytes[i + 1] == Self.lf)) { line += 1 }
                    scratch.append(c)
                    i += 1
                    guard scratch.count <= limits.maxFieldBytes else {
                        throw bad(place(row, startLine, column: column), "field is longer than \(limits.maxFieldBytes) bytes")
                    }
                }
                if i < n, bytes[i] != Self.comma, bytes[i] != Self.cr, bytes[i] != Self.lf {
                    throw bad(place(row, startLine, column: column),
                              "unexpected character after a closing quote (a quote inside a quoted field must be doubled)")
                }
                return try decode(scratch, row: row, startLine: startLine, column: column)
            }
            let start = i
            while i < n {
                let c = bytes[i]
                if c == Self.comma || c == Self.cr || c == Self.lf { break }
                if c == Self.quote {
                    throw bad(place(row, startLine, column: column),
                              "quote inside an unquoted field (enclose the field in quotes and double the quote)")
                }
                i += 1
            }
            guard i - start <= limits.maxFieldBytes else {
                throw bad(place(row, startLine, column: column), "field is longer than \(limits.maxFieldBytes) bytes")
            }
            return try decode(bytes[start..<i], row: row, startLine: startLine, column: column)
        }

        private func decode<C: Collection<UInt8>>(_ field: C, row: Int, startLine: Int, column: Int) throws -> String {
            guard let s = String(validating: field, as: UTF8.self) else {
                throw bad(place(row, startLine, column: column), "invalid UTF-8 (save the file as UTF-8)")
            }
            return s
        }
    }
}
