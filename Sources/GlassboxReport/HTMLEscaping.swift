import Foundation

/// Escaping of user text (feature, class, file and method names) for HTML and inline SVG.
///
/// One function serves both element content and quoted attribute values: it replaces
/// `&`, `<`, `>`, `"` and `'` by character references, so the result can neither open a tag nor
/// close an attribute. Control characters that XML 1.0 forbids (everything below U+0020 except
/// tab, line feed and carriage return) become U+FFFD, so every inline SVG stays well-formed XML
/// whatever the names contain. Cost: O(length).
public enum HTMLText {
    /// `text` escaped for use between tags or inside a `"…"`/`'…'` attribute.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                // C0 controls, and the non-characters U+FFFE/U+FFFF, are not allowed in XML.
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// `text` cut to at most `limit` characters (an ellipsis marks a cut), then escaped. The
    /// cut is made before escaping so a character reference is never split.
    public static func escape(_ text: String, limit: Int) -> String {
        guard text.count > limit, limit > 1 else { return escape(text) }
        return escape(String(text.prefix(limit - 1)) + "…")
    }
}

/// Number formatting for SVG coordinates and labels (locale-independent, "." decimal point).
enum Format {
    /// A coordinate with one decimal (`12.5`, `-3`), short enough to keep the SVG small.
    static func coordinate(_ x: Double) -> String {
        guard x.isFinite else { return "0" }
        let r = (x * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
    }

    /// `value` with `digits` decimals, or an en dash for nil / non-finite values.
    static func number(_ value: Double?, digits: Int = 3) -> String {
        guard let value, value.isFinite else { return "–" }
        return String(format: "%.\(digits)f", value)
    }

    /// A value with about three significant digits (`0.0123`, `1.23e-05`, `123`).
    static func short(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        let a = abs(value)
        if a == 0 { return "0" }
        if a < 1e6 && value == value.rounded() { return String(Int(value)) }
        if a >= 1e-3 && a < 1e4 { return String(format: a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3g", value) }
        return String(format: "%.2e", value)
    }

    /// Seconds as `0.42 s` / `12.3 s`.
    static func seconds(_ s: Double?) -> String {
        guard let s, s.isFinite else { return "–" }
        return s < 10 ? String(format: "%.2f s", s) : String(format: "%.1f s", s)
    }
}
