import Foundation
import GlassboxNN

/// NumPy's `.npy` format (versions 1.0, 2.0 and 3.0) for single arrays.
///
/// Layout: the magic `\x93NUMPY`, a version, a little-endian header length (2 bytes in v1, 4 in
/// v2/v3), a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`
/// padded so the data starts on a 64-byte boundary, then the raw elements.
///
/// Reading accepts little-endian, C-order `float32`, `float64`, `int8`, `uint8`, `int16`,
/// `int32` and `int64` and converts to `Float` (integers beyond 2^24 lose precision). Writing
/// produces `float32`, byte-for-byte what `numpy.save` writes for the same array.
public enum NPY {
    /// Headers longer than this are refused (NumPy's own default limit is 10,000 bytes).
    public static let maxHeaderBytes = 1 << 20

    /// Element types accepted, by `descr`, with their sizes.
    static let readable: [String: Int] = ["<f4": 4, "<f8": 8, "|i1": 1, "|u1": 1, "<i1": 1, "<u1": 1, "<i2": 2, "<i4": 4, "<i8": 8]

    /// Reads an `.npy` file into a tensor of the stored shape. Cost: one read plus one `Float` copy.
    ///
    /// - Throws: ``GlassboxError/badFile(path:location:problem:)`` for a bad magic, unsupported
    ///   version or dtype, big-endian or Fortran-order data, a malformed header, or data whose size
    ///   differs from what the header's shape implies.
    public static func read(from url: URL) throws -> Tensor {
        try decode(FileData.read(url), path: url.path)
    }

    /// Parses `.npy` bytes; `path` is used in error messages only.
    public static func decode(_ data: Data, path: String) throws -> Tensor {
        try decodeTyped(data, path: path).tensor
    }

    /// As ``decode(_:path:)``, also returning the stored dtype (`descr`, e.g. `"|u1"`).
    static func decodeTyped(_ data: Data, path: String) throws -> (tensor: Tensor, descr: String) {
        func bad(_ offset: Int, _ problem: String) -> GlassboxError {
            .badFile(path: path, location: "byte offset \(offset)", problem: problem)
        }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59] // \x93NUMPY
            guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
                throw bad(0, "not an .npy file (missing the \\x93NUMPY magic)")
            }
            let major = bytes[6], minor = bytes[7]
            let headerStart: Int, headerLength: Int
            switch major {
            case 1:
                headerStart = 10
                headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            case 2, 3:
                guard bytes.count >= 12 else { throw bad(8, "file ends inside the header length") }
                headerStart = 12
                headerLength = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
            default:
                throw bad(6, "unsupported .npy version \(major).\(minor) (1.0, 2.0 and 3.0 are supported)")
            }
            guard headerLength <= maxHeaderBytes else {
                throw bad(8, "header length \(headerLength) exceeds the limit of \(maxHeaderBytes) bytes")
            }
            guard headerLength <= bytes.count - headerStart else {
                throw bad(8, "header length \(headerLength) runs past the end of the file (\(bytes.count) bytes)")
            }
            let headerBytes = UnsafeBufferPointer(rebasing: bytes[headerStart..<(headerStart + headerLength)])
            // v1/v2 headers are Latin-1, v3 UTF-8; the keys and values we accept are ASCII either way.
            guard let text = major == 3 ? String(validating: headerBytes, as: UTF8.self)
                                        : String(headerBytes.map { Character(Unicode.Scalar($0)) }) else {
                throw bad(headerStart, "header is not valid UTF-8")
            }
            let header: Header
            do {
                header = try Header(text)
            } catch let error as HeaderError {
                throw bad(headerStart, "malformed header \(text.trimmingCharacters(in: .whitespacesAndNewlines).debugDescription): \(error.message)")
            }
            let dataStart = headerStart + headerLength
            guard !header.descr.hasPrefix(">") else {
                throw bad(headerStart, "big-endian data ('\(header.descr)') is not supported; save it with arr.astype('<\(header.descr.dropFirst())')")
            }
            guard let size = readable[header.descr] else {
                throw bad(headerStart, "unsupported dtype '\(header.descr)' (supported: float32, float64, int8, uint8, int16, int32, int64)")
            }
            if header.fortranOrder && header.shape.count > 1 {
                throw bad(headerStart, "Fortran-order arrays are not supported; save np.ascontiguousarray(arr) instead")
            }
            let available = bytes.count - dataStart
            var count = header.shape.contains(0) ? 0 : 1
            for extent in header.shape where count > 0 {
                let (product, overflow) = count.multipliedReportingOverflow(by: extent)
                guard !overflow, product <= available else {
                    throw bad(dataStart, "header shape \(header.shape) of '\(header.descr)' needs more data than the "
                                  + "\(available) bytes after the header: the file is truncated or the header is wrong")
                }
                count = product
            }
            guard count * size == available else {
                let kind = count * size > available ? "the data is truncated" : "the header does not describe all the data"
                throw bad(dataStart, "header shape \(header.shape) of '\(header.descr)' needs \(count * size) bytes "
                              + "but \(available) follow the header: \(kind)")
            }
            let body = UnsafeRawBufferPointer(rebasing: raw[dataStart...])
            return (Tensor(uncheckedShape: header.shape, scalars: convert(body, descr: header.descr, count: count)), header.descr)
        }
    }

    private static func convert(_ body: UnsafeRawBufferPointer, descr: String, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { out, initialized in
            switch descr.dropFirst() {
            case "f4":
                for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: body.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            case "f8":
                for i in 0..<count { out[i] = Float(Double(bitPattern: UInt64(littleEndian: body.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
            case "i1":
                for i in 0..<count { out[i] = Float(Int8(bitPattern: body[i])) }
            case "u1":
                for i in 0..<count { out[i] = Float(body[i]) }
            case "i2":
                for i in 0..<count { out[i] = Float(Int16(littleEndian: body.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
            case "i4":
                for i in 0..<count { out[i] = Float(Int32(littleEndian: body.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
            default: // "i8", the only other readable dtype
                for i in 0..<count { out[i] = Float(Int64(littleEndian: body.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
            }
            initialized = count
        }
    }

    /// The `.npy` bytes of `tensor` as little-endian float32 in C order, exactly as `numpy.save`
    /// lays them out (version 1.0 unless the header needs 2.0).
    public static func encode(_ tensor: Tensor) -> Data {
        let shape = tensor.shape
        let shapeText = shape.isEmpty ? "()" : shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        // NumPy leaves room to grow the first axis in place (up to 21 digits).
        if let first = shape.first { header += String(repeating: " ", count: Swift.max(0, 21 - String(first).utf8.count)) }
        let headerLength = header.utf8.count + 1
        var lengthBytes = 2
        var padding = 64 - ((8 + lengthBytes + headerLength) % 64)
        if headerLength + padding > Int(UInt16.max) {
            lengthBytes = 4
            padding = 64 - ((8 + lengthBytes + headerLength) % 64)
        }
        var out = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, lengthBytes == 2 ? 1 : 2, 0])
        let total = headerLength + padding
        if lengthBytes == 2 {
            withUnsafeBytes(of: UInt16(total).littleEndian) { out.append(contentsOf: $0) }
        } else {
            withUnsafeBytes(of: UInt32(total).littleEndian) { out.append(contentsOf: $0) }
        }
        out.append(contentsOf: Array(header.utf8))
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
        out.append(UInt8(ascii: "\n"))
        out.reserveCapacity(out.count + tensor.count * 4)
        tensor.scalars.withUnsafeBufferPointer { out.appendLittleEndian($0) }
        return out
    }

    /// Writes `tensor` as a float32 `.npy` file atomically (see ``AtomicFile``).
    public static func write(_ tensor: Tensor, to url: URL) throws {
        try AtomicFile.write(encode(tensor), to: url)
    }
}

// MARK: - Header dict

struct HeaderError: Error {
    let message: String
}

/// The three entries NumPy requires in the header: exactly `descr`, `fortran_order`, `shape`.
private struct Header {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    init(_ text: String) throws {
        var parser = PythonLiteralParser(text)
        guard case .dict(let entries) = try parser.parseValue(depth: 0) else {
            throw HeaderError(message: "it is not a dict")
        }
        try parser.expectEnd()
        let keys = Set(entries.map(\.0))
        guard keys == ["descr", "fortran_order", "shape"], entries.count == 3 else {
            throw HeaderError(message: "expected exactly the keys 'descr', 'fortran_order' and 'shape', found \(entries.map(\.0))")
        }
        var descr: String?, fortran: Bool?, shape: [Int]?
        for (key, value) in entries {
            switch (key, value) {
            case ("descr", .string(let s)): descr = s
            case ("descr", .list), ("descr", .tuple): throw HeaderError(message: "structured dtypes are not supported")
            case ("fortran_order", .bool(let b)): fortran = b
            case ("shape", .tuple(let items)):
                shape = try items.map {
                    guard case .int(let n) = $0, n >= 0 else { throw HeaderError(message: "shape must be a tuple of non-negative integers") }
                    return n
                }
            default: throw HeaderError(message: "'\(key)' has the wrong type")
            }
        }
        guard let descr, let fortran, let shape else { throw HeaderError(message: "missing a required key") }
        self.descr = descr
        self.fortranOrder = fortran
        self.shape = shape
    }
}

/// Just enough of Python's literal syntax for NumPy headers: dicts with string keys, strings,
/// True/False/None, integers, tuples and lists. Nesting is bounded, so hostile headers cannot
/// exhaust the stack.
private struct PythonLiteralParser {
    indirect enum Value {
        case dict([(String, Value)]), string(String), bool(Bool), none, int(Int), tuple([Value]), list([Value])
    }

    private let scalars: [Unicode.Scalar]
    private var i = 0

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    private mutating func skipSpace() {
        while i < scalars.count, scalars[i] == " " || scalars[i] == "\n" || scalars[i] == "\t" || scalars[i] == "\r" { i += 1 }
    }

    private mutating func eat(_ c: Unicode.Scalar) -> Bool {
        skipSpace()
        if i < scalars.count, scalars[i] == c { i += 1; return true }
        return false
    }

    mutating func expectEnd() throws {
        skipSpace()
        guard i == scalars.count else { throw HeaderError(message: "unexpected text after the dict") }
    }

    mutating func parseValue(depth: Int) throws -> Value {
        guard depth < 8 else { throw HeaderError(message: "nested too deeply") }
        skipSpace()
        guard i < scalars.count else { throw HeaderError(message: "unexpected end") }
        let c = scalars[i]
        switch c {
        case "{":
            i += 1
            var entries: [(String, Value)] = []
            while !eat("}") {
                guard case .string(let key) = try parseValue(depth: depth + 1) else { throw HeaderError(message: "dict keys must be strings") }
                guard eat(":") else { throw HeaderError(message: "expected ':' after '\(key)'") }
                entries.append((key, try parseValue(depth: depth + 1)))
                if !eat(",") {
                    guard eat("}") else { throw HeaderError(message: "expected ',' or '}'") }
                    break
                }
            }
            return .dict(entries)
        case "(", "[":
            i += 1
            let close: Unicode.Scalar = c == "(" ? ")" : "]"
            var items: [Value] = []
            while !eat(close) {
                items.append(try parseValue(depth: depth + 1))
                if !eat(",") {
                    guard eat(close) else { throw HeaderError(message: "expected ',' or '\(close)'") }
                    break
                }
            }
            return c == "(" ? .tuple(items) : .list(items)
        case "'", "\"":
            i += 1
            var s = String.UnicodeScalarView()
            while i < scalars.count, scalars[i] != c {
                guard scalars[i] != "\\" else { throw HeaderError(message: "escapes in strings are not supported") }
                s.append(scalars[i])
                i += 1
            }
            guard i < scalars.count else { throw HeaderError(message: "unterminated string") }
            i += 1
            return .string(String(s))
        case "0"..."9":
            var n = 0
            while i < scalars.count, ("0"..."9").contains(scalars[i]) {
                let (times10, o1) = n.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(scalars[i].value) - 48)
                guard !o1, !o2 else { throw HeaderError(message: "integer too large") }
                n = sum
                i += 1
            }
            if i < scalars.count, scalars[i] == "L" { i += 1 } // Python 2 long suffix in old files
            return .int(n)
        default:
            for (word, value) in [("True", Value.bool(true)), ("False", .bool(false)), ("None", .none)] {
                let w = Array(word.unicodeScalars)
                if i + w.count <= scalars.count, Array(scalars[i..<(i + w.count)]) == w {
                    i += w.count
                    return value
                }
            }
            throw HeaderError(message: "unexpected character '\(c)'")
        }
    }
}
