import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses `text` as XML; returns the parser's error (nil = well-formed) and the element names seen.
func parseXML(_ text: String) -> (error: String?, elements: [String], texts: [String]) {
    /// Element names in document order, and the text of each element once it closes (entity
    /// references arrive as separate chunks, so text is gathered per element).
    final class Collector: NSObject, XMLParserDelegate {
        var elements: [String] = []
        var texts: [String] = []
        var buffers: [String] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            elements.append(name)
            buffers.append("")
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if !buffers.isEmpty { buffers[buffers.count - 1] += string }
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if let text = buffers.popLast(), !text.isEmpty { texts.append(text) }
        }
    }
    let parser = XMLParser(data: Data(text.utf8))
    let collector = Collector()
    parser.delegate = collector
    let ok = parser.parse()
    return (ok ? nil : "\(parser.parserError.map { "\($0)" } ?? "unknown error") at line \(parser.lineNumber), column \(parser.columnNumber)",
            collector.elements, collector.texts)
}

/// Every `<svg …>…</svg>` element of an HTML page, in order.
func svgElements(in html: String) -> [String] {
    var out: [String] = []
    var rest = html[...]
    while let start = rest.range(of: "<svg"), let end = rest.range(of: "</svg>", range: start.upperBound..<rest.endIndex) {
        out.append(String(rest[start.lowerBound..<end.upperBound]))
        rest = rest[end.upperBound...]
    }
    return out
}
