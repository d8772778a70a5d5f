import Foundation

/// A set of named tensors in the safetensors format (Hugging Face), the format Glassbox uses
/// for model weights.
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of JSON mapping each name to
/// `{"dtype", "shape", "data_offsets": [begin, end]}` (plus an optional `"__metadata__"`
/// string→string map), then the byte buffer the offsets point into. Offsets are relative to
/// the buffer, and the tensors tile it exactly: no gaps, no overlaps, nothing after the last one
/// (the reference implementation rejects anything else, and so does this one).
///
/// Writing produces `F32` only, byte-for-byte what Python's `safetensors.numpy.save_file` writes
/// for the same float32 tensors when ``order`` is empty or sorted: compact JSON, `__metadata__`
/// first (keys sorted here; the reference writes them in hash order), the header padded with
/// spaces to a multiple of 8 bytes. Reading accepts `F32`, `F64`, `F16`, `BF16`, `I64` and `I32`
/// and converts to `Float` (64-bit integers beyond 2^24 lose precision).
public struct SafeTensorsFile: Sendable, Equatable {
    /// The tensors by name.
    public var tensors: [String: Tensor]
    /// Names in file order. After ``read(from:)`` this is the order of the data in the file; when
    /// writing, these come first, followed by any other tensors in sorted name order.
    public var order: [String]
    /// Free-form string metadata (`"__metadata__"` in the header).
    public var metadata: [String: String]

    /// The largest header accepted, as in the reference implementation (100 MB).
    public static let maxHeaderBytes = 100_000_000

    /// A file holding `tensors`, written with the names in `order` first, and `metadata`.
    public init(tensors: [String: Tensor] = [:], order: [String] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.order = order
        self.metadata = metadata
    }

    /// The tensor called `name`, if any.
    public subscript(name: String) -> Tensor? { tensors[name] }

    /// Adds or replaces a tensor, keeping the position of an existing name and appending a new one.
    public mutating func set(_ name: String, _ tensor: Tensor) {
        if tensors.updateValue(tensor, forKey: name) == nil { order.append(name) }
    }

    /// Reads and validates a safetensors file. Cost: one read of the file plus one `Float` copy
    /// of every tensor.
    ///
    /// - Throws: ``GlassboxError/badFile(path:location:problem:)`` naming the file and the tensor or
    ///   byte offset for any malformed or hostile content; ``GlassboxError/io(_:)`` if unreadable.
    public static func read(from url: URL) throws -> SafeTensorsFile {
        try decode(FileData.read(url), path: url.path)
    }

    /// Writes the file atomically (see ``AtomicFile``).
    public func write(to url: URL) throws {
        try AtomicFile.write(encoded(), to: url)
    }
}

// MARK: - Decoding

extension SafeTensorsFile {
    /// Parses safetensors bytes; `path` is used in error messages only.
    public static func decode(_ data: Data, path: String) throws -> SafeTensorsFile {
        func bad(_ location: String, _ problem: String) -> GlassboxError {
            .badFile(path: path, location: location, problem: problem)
        }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard raw.count >= 8 else {
                throw bad("byte offset 0", "file is \(raw.count) bytes, too short for the 8-byte header length")
            }
            let declared = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
            guard declared <= UInt64(maxHeaderBytes) else {
                throw bad("byte offset 0", "header length \(declared) exceeds the limit of \(maxHeaderBytes) bytes")
            }
            let headerLength = Int(declared)
            guard headerLength <= raw.count - 8 else {
                throw bad("byte offset 0", "header length \(headerLength) runs past the end of the file (\(raw.count) bytes)")
            }
            guard headerLength >= 2, raw[8] == UInt8(ascii: "{") else {
                throw bad("byte offset 8", "header is not a JSON object")
            }
            let header = try parseHeader(Data(raw[8..<(8 + headerLength)]), bad: bad)
            let buffer = UnsafeRawBufferPointer(rebasing: raw[(8 + headerLength)...])
            let entries = try validate(header.entries, bufferLength: buffer.count, dataStart: 8 + headerLength, bad: bad)

            var file = SafeTensorsFile(metadata: header.metadata)
            for entry in entries {
                let scalars = convert(UnsafeRawBufferPointer(rebasing: buffer[entry.begin..<entry.end]),
                                      dtype: entry.dtype, count: entry.count)
                file.tensors[entry.name] = Tensor(uncheckedShape: entry.shape, scalars: scalars)
                file.order.append(entry.name)
            }
            return file
        }
    }

    /// Element types the reader converts, with their sizes in bytes.
    static let readable: [String: Int] = ["F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4]
    /// Element types the format defines that Glassbox does not convert.
    static let knownUnsupported: Set<String> = [
        "BOOL", "U8", "I8", "I16", "U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64",
    ]

    struct Entry {
        var name: String, dtype: String, shape: [Int], begin: Int, end: Int, count: Int
    }

    struct RawEntry: Decodable {
        let dtype: String
        let shape: [Int]
        let dataOffsets: [Int]
        enum CodingKeys: String, CodingKey { case dtype, shape, dataOffsets = "data_offsets" }
    }

    struct Header: Decodable {
        var entries: [(name: String, entry: RawEntry)] = []
        var metadata: [String: String] = [:]

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            for key in container.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try container.decode([String: String].self, forKey: key)
                } else {
                    entries.append((key.stringValue, try container.decode(RawEntry.self, forKey: key)))
                }
            }
        }
    }

    private static func parseHeader(_ json: Data, bad: (String, String) -> GlassboxError) throws -> Header {
        if let problem = JSONNesting.problem(in: json) { throw bad("header (byte offset 8)", problem) }
        do {
            return try JSONDecoder().decode(Header.self, from: json)
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty, let syntax = JSONSyntax.problem(in: json) {
                throw bad("header (byte offset 8)", "invalid JSON: \(syntax)" + (syntax.contains("character") ? " (counting from the header's first byte)" : ""))
            }
            throw bad("header (byte offset 8)", describe(error))
        } catch {
            throw bad("header (byte offset 8)", "invalid JSON: \(ErrorText.describe(error))")
        }
    }

    /// A one-line account of a decoding error: which key, what was wrong.
    private static func describe(_ error: DecodingError) -> String {
        func place(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "" : " at " + path.map { $0.intValue.map { "[\($0)]" } ?? "'\($0.stringValue)'" }.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let c): return "invalid JSON\(place(c.codingPath)): \(c.debugDescription)"
        case .keyNotFound(let key, let c): return "missing key '\(key.stringValue)'\(place(c.codingPath))"
        case .typeMismatch(_, let c): return "wrong type\(place(c.codingPath)): \(c.debugDescription)"
        case .valueNotFound(_, let c): return "missing value\(place(c.codingPath)): \(c.debugDescription)"
        @unknown default: return "invalid header: \(error)"
        }
    }

    /// Checks dtypes, shapes and offsets of every entry against the buffer, returning them in
    /// offset order. Nothing is allocated from a file-derived number before this passes.
    private static func validate(_ raw: [(name: String, entry: RawEntry)], bufferLength: Int, dataStart: Int,
                                 bad: (String, String) -> GlassboxError) throws -> [Entry] {
        var entries: [Entry] = []
        entries.reserveCapacity(raw.count)
        // The JSON object's keys arrive in hash order, which differs between runs: check in data
        // order (then by name) so the same file always reports the same first problem.
        let ordered = raw.sorted { ($0.entry.dataOffsets.first ?? Int.max, $0.name) < ($1.entry.dataOffsets.first ?? Int.max, $1.name) }
        for (name, e) in ordered {
            let location = "tensor '\(name)'"
            guard let size = readable[e.dtype] else {
                if knownUnsupported.contains(e.dtype) {
                    throw bad(location, "dtype \(e.dtype) is not supported (readable: F32, F64, F16, BF16, I64, I32)")
                }
                throw bad(location, "unknown dtype '\(e.dtype)'")
            }
            guard e.shape.allSatisfy({ $0 >= 0 }) else { throw bad(location, "negative extent in shape \(e.shape)") }
            var count = e.shape.contains(0) ? 0 : 1
            for extent in e.shape where count > 0 {
                let (product, overflow) = count.multipliedReportingOverflow(by: extent)
                guard !overflow, product <= bufferLength else {
                    throw bad(location, "shape \(e.shape) needs more data than the file's \(bufferLength)-byte buffer holds")
                }
                count = product
            }
            guard e.dataOffsets.count == 2 else {
                throw bad(location, "data_offsets must be [begin, end], found \(e.dataOffsets)")
            }
            let begin = e.dataOffsets[0], end = e.dataOffsets[1]
            guard begin >= 0, begin <= end, end <= bufferLength else {
                throw bad(location, "data_offsets [\(begin), \(end)] are outside the \(bufferLength)-byte buffer "
                              + "(which starts at byte offset \(dataStart))")
            }
            guard end - begin == count * size else {
                throw bad(location, "shape \(e.shape) of \(e.dtype) needs \(count * size) bytes but data_offsets "
                              + "[\(begin), \(end)] span \(end - begin)")
            }
            entries.append(Entry(name: name, dtype: e.dtype, shape: e.shape, begin: begin, end: end, count: count))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var position = 0
        var previous: String?
        for entry in entries {
            if entry.begin < position {
                throw bad("tensor '\(entry.name)'", "data_offsets [\(entry.begin), \(entry.end)] overlap tensor '\(previous ?? "")'")
            }
            if entry.begin > position {
                throw bad("tensor '\(entry.name)'", "data starts at buffer offset \(entry.begin) but the previous tensor "
                              + "ends at \(position): the gap is not allowed")
            }
            position = entry.end
            previous = entry.name
        }
        guard position == bufferLength else {
            throw bad("byte offset \(dataStart + position)",
                      "\(bufferLength - position) bytes after the last tensor are not described by the header")
        }
        return entries
    }

    /// Converts little-endian elements to `Float`. `bytes.count == count * size(dtype)` is checked by the caller.
    private static func convert(_ bytes: UnsafeRawBufferPointer, dtype: String, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { out, initialized in
            switch dtype {
            case "F32":
                for i in 0..<count {
                    out[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            case "F64":
                for i in 0..<count {
                    out[i] = Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                }
            case "F16":
                for i in 0..<count {
                    out[i] = halfToFloat(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            case "BF16":
                for i in 0..<count {
                    out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
                }
            case "I64":
                for i in 0..<count {
                    out[i] = Float(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                }
            default: // "I32": the only other readable dtype
                for i in 0..<count {
                    out[i] = Float(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                }
            }
            initialized = count
        }
    }

    /// IEEE 754 binary16 to binary32, exact for every input (written out because `Float16` is
    /// unavailable on some platforms Glassbox builds for).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign: UInt32 = UInt32(h & 0x8000) << 16
        let exponent = UInt32((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            let magnitude = Float(mantissa) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }
}

// MARK: - Encoding

extension SafeTensorsFile {
    /// The file's bytes: header and F32 data. Cost: one pass over every tensor.
    ///
    /// - Throws: ``GlassboxError/invalidArgument(_:)`` if ``order`` names a missing tensor or a
    ///   name twice, or a tensor is named `__metadata__`.
    public func encoded() throws -> Data {
        let names = try layoutOrder()
        var json = "{"
        var first = true
        if !metadata.isEmpty {
            json += "\"__metadata__\":{"
            json += metadata.keys.sorted().map { jsonString($0) + ":" + jsonString(metadata[$0] ?? "") }.joined(separator: ",")
            json += "}"
            first = false
        }
        var offset = 0
        for name in names {
            guard let tensor = tensors[name] else { continue }
            let bytes = tensor.count * 4
            if !first { json += "," }
            first = false
            json += jsonString(name) + ":{\"dtype\":\"F32\",\"shape\":["
                + tensor.shape.map(String.init).joined(separator: ",")
                + "],\"data_offsets\":[\(offset),\(offset + bytes)]}"
            offset += bytes
        }
        json += "}"
        var header = Array(json.utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        var out = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for name in names {
            guard let tensor = tensors[name] else { continue }
            tensor.scalars.withUnsafeBufferPointer { out.appendLittleEndian($0) }
        }
        return out
    }

    /// ``order`` first, then the remaining names sorted, as the data will be laid out.
    private func layoutOrder() throws -> [String] {
        guard tensors["__metadata__"] == nil else {
            throw GlassboxError.invalidArgument("a tensor cannot be named __metadata__ in a safetensors file")
        }
        var seen = Set<String>()
        for name in order {
            guard tensors[name] != nil else {
                throw GlassboxError.invalidArgument("safetensors order names '\(name)', which is not among the tensors")
            }
            guard seen.insert(name).inserted else {
                throw GlassboxError.invalidArgument("safetensors order names '\(name)' twice")
            }
        }
        return order + tensors.keys.filter { !seen.contains($0) }.sorted()
    }

    /// A JSON string literal escaped as serde_json does (so headers match the reference byte for byte).
    private func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Where and why a JSON text is malformed, for error messages: `JSONDecoder` reports only "not
/// valid JSON", while `JSONSerialization` names the character and the problem ("Invalid value
/// around character 18.", "Too many nested arrays or dictionaries around character 1537.").
enum JSONSyntax {
    /// The syntax problem in `json`, or `nil` if it parses. Cost: one parse, on the error path only.
    static func problem(in json: Data) -> String? {
        do {
            _ = try JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed])
            return nil
        } catch {
            let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            return text.split(whereSeparator: \.isNewline).joined(separator: " ")
        }
    }
}
