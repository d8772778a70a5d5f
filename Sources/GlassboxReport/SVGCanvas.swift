import Foundation

/// A tiny SVG writer: shapes appended in order, rendered as one `<svg>` element with a
/// `viewBox` (so it scales to any width) and no fixed size. Text passed to ``text(_:x:y:size:anchor:fill:weight:rotate:)``
/// and titles are escaped here; callers pass plain strings. The output is well-formed XML.
struct SVGCanvas {
    let width: Double, height: Double
    /// Accessible name of the chart (plain text).
    let label: String
    private(set) var body: [String] = []

    init(width: Double, height: Double, label: String) {
        (self.width, self.height, self.label) = (width, height, label)
    }

    private typealias F = Format

    mutating func raw(_ element: String) { body.append(element) }

    mutating func rect(x: Double, y: Double, width w: Double, height h: Double, fill: String, stroke: String? = nil,
                       opacity: Double? = nil, title: String? = nil) {
        var s = "<rect x=\"\(F.coordinate(x))\" y=\"\(F.coordinate(y))\" width=\"\(F.coordinate(max(0, w)))\" height=\"\(F.coordinate(max(0, h)))\" fill=\"\(fill)\""
        if let stroke { s += " stroke=\"\(stroke)\"" }
        if let opacity { s += " fill-opacity=\"\(F.number(opacity, digits: 2))\"" }
        body.append(title.map { s + "><title>\(HTMLText.escape($0))</title></rect>" } ?? s + "/>")
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width w: Double = 1,
                       dash: String? = nil) {
        var s = "<line x1=\"\(F.coordinate(x1))\" y1=\"\(F.coordinate(y1))\" x2=\"\(F.coordinate(x2))\" y2=\"\(F.coordinate(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(F.coordinate(w))\""
        if let dash { s += " stroke-dasharray=\"\(dash)\"" }
        body.append(s + "/>")
    }

    mutating func circle(cx: Double, cy: Double, r: Double, fill: String, opacity: Double? = nil, title: String? = nil) {
        var s = "<circle cx=\"\(F.coordinate(cx))\" cy=\"\(F.coordinate(cy))\" r=\"\(F.coordinate(r))\" fill=\"\(fill)\""
        if let opacity { s += " fill-opacity=\"\(F.number(opacity, digits: 2))\"" }
        body.append(title.map { s + "><title>\(HTMLText.escape($0))</title></circle>" } ?? s + "/>")
    }

    mutating func polyline(_ points: [(Double, Double)], stroke: String, width w: Double = 2, dash: String? = nil,
                           title: String? = nil) {
        guard !points.isEmpty else { return }
        let p = points.map { "\(F.coordinate($0.0)),\(F.coordinate($0.1))" }.joined(separator: " ")
        var s = "<polyline points=\"\(p)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(F.coordinate(w))\" stroke-linejoin=\"round\""
        if let dash { s += " stroke-dasharray=\"\(dash)\"" }
        body.append(title.map { s + "><title>\(HTMLText.escape($0))</title></polyline>" } ?? s + "/>")
    }

    enum Anchor: String { case start, middle, end }

    /// Text at (x, y) — y is the baseline. `text` is escaped; with `limit` it is cut to that
    /// many characters and the full text goes into a tooltip.
    mutating func text(_ text: String, x: Double, y: Double, size: Double = 13, anchor: Anchor = .start,
                       fill: String = "#333", weight: String? = nil, rotate: Double? = nil, limit: Int? = nil) {
        var s = "<text x=\"\(F.coordinate(x))\" y=\"\(F.coordinate(y))\" font-size=\"\(F.coordinate(size))\" fill=\"\(fill)\""
        if anchor != .start { s += " text-anchor=\"\(anchor.rawValue)\"" }
        if let weight { s += " font-weight=\"\(weight)\"" }
        if let rotate { s += " transform=\"rotate(\(F.coordinate(rotate)) \(F.coordinate(x)) \(F.coordinate(y)))\"" }
        if let limit, text.count > limit {
            body.append(s + "><title>\(HTMLText.escape(text))</title>\(HTMLText.escape(text, limit: limit))</text>")
        } else {
            body.append(s + ">\(HTMLText.escape(text))</text>")
        }
    }

    /// The `<svg>` element.
    func render() -> String {
        "<svg class=\"chart\" viewBox=\"0 0 \(F.coordinate(width)) \(F.coordinate(height))\" role=\"img\" aria-label=\"\(HTMLText.escape(label))\">"
            + body.joined() + "</svg>"
    }
}

/// A linear map from a data interval to a pixel interval, with "nice" ticks (1, 2 or 5 × 10ⁿ).
struct LinearScale {
    var domain: (Double, Double)
    var range: (Double, Double)

    func callAsFunction(_ v: Double) -> Double {
        let span = domain.1 - domain.0
        guard span != 0, v.isFinite else { return range.0 }
        return range.0 + (v - domain.0) / span * (range.1 - range.0)
    }

    /// About `count` round tick values covering the domain.
    func ticks(_ count: Int = 5) -> [Double] {
        let (lo, hi) = (min(domain.0, domain.1), max(domain.0, domain.1))
        guard hi > lo, count > 0 else { return [lo] }
        let step = Self.niceStep((hi - lo) / Double(count))
        var t = (lo / step).rounded(.up) * step
        var out: [Double] = []
        while t <= hi + step * 1e-9 && out.count < 50 {
            out.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return out
    }

    /// The domain widened to round numbers (a multiple of the tick step at both ends).
    static func nice(_ lo: Double, _ hi: Double, count: Int = 5) -> (Double, Double) {
        guard lo.isFinite, hi.isFinite else { return (0, 1) }
        if hi <= lo { return lo == 0 ? (0, 1) : (min(0, lo * 2), max(0, lo * 2)) }
        let step = niceStep((hi - lo) / Double(count))
        return ((lo / step).rounded(.down) * step, (hi / step).rounded(.up) * step)
    }

    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let f = raw / magnitude
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude
    }
}
