import Foundation

/// The bound on JSON nesting depth, checked without recursion before any JSON input is decoded.
public enum JSONNesting {
    /// The deepest nesting of arrays and objects a Glassbox JSON input (a model architecture, an
    /// import spec, a safetensors header) may have. Decoding, building and walking a layer tree
    /// recurse once per level, so the depth is bounded before any of them runs; real networks
    /// need about 10 levels (a residual block in a stage in a Sequential).
    public static let maximumNesting = 100

    /// Where `json` nests deeper than `limit` levels, as a problem for an error message, or nil.
    /// One pass over the bytes, no recursion (strings and their escapes are skipped).
    public static func problem(in json: Data, limit: Int = maximumNesting) -> String? {
        json.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> String? in
            var depth = 0, inString = false, escaped = false
            for (offset, byte) in raw.enumerated() {
                if inString {
                    if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    depth += 1
                    if depth > limit {
                        return "arrays and objects nested more than \(limit) levels deep (at byte \(offset)); Glassbox reads at most \(limit) levels"
                    }
                case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
                default: break
                }
            }
            return nil
        }
    }
}
