import Foundation

/// One line of plain text for any error, for messages that must name the file, the place and
/// the problem without dumping a Foundation or decoding error's debug structure
/// (`Error Domain=NSCocoaErrorDomain Code=516 …`, `DecodingError.dataCorrupted(Context(…))`).
public enum ErrorText {
    /// The error as one line: ``GlassboxError``'s description; a `DecodingError`'s problem and
    /// coding path ("expected an array at layers[2].shape"); a Foundation error's localized
    /// description with the operating system's reason; anything else as described, on one line.
    public static func describe(_ error: any Error) -> String {
        let text: String
        switch error {
        case let error as GlassboxError: text = error.description
        case let error as DecodingError: text = describe(error)
        case let error as EncodingError:
            if case .invalidValue(_, let context) = error { text = "cannot encode \(path(context.codingPath)): \(context.debugDescription)" } else {
                text = "cannot encode the value"
            }
        default:
            let ns = error as NSError
            if ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain {
                var message = ns.localizedDescription
                if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
                    message += " (" + String(cString: strerror(Int32(underlying.code))) + ")"
                }
                text = message
            } else {
                text = String(describing: error)
            }
        }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// As ``describe(_:)`` without the category prefix of an invalid-argument or shape error
    /// ("invalid argument: ", "shape mismatch: "), for wrapping in a message that names the file.
    public static func problem(_ error: any Error) -> String {
        switch error {
        case GlassboxError.invalidArgument(let text), GlassboxError.shapeMismatch(let text):
            return text.split(whereSeparator: \.isNewline).joined(separator: " ")
        default: return describe(error)
        }
    }

    /// A decoding error as "problem at path".
    public static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let c):
            let detail = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return "\(c.debugDescription)\(detail.map { " (\($0))" } ?? "") at \(path(c.codingPath))"
        case .keyNotFound(let k, let c): return "missing key '\(k.stringValue)' at \(path(c.codingPath))"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "\(c.debugDescription) at \(path(c.codingPath))"
        @unknown default: return "cannot decode the value"
        }
    }

    /// A coding path as `layers[2].shape` ("top level" when empty).
    static func path(_ p: [any CodingKey]) -> String {
        guard !p.isEmpty else { return "top level" }
        var out = ""
        for key in p {
            if let i = key.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + key.stringValue }
        }
        return out
    }
}
