import Foundation

/// The report's charts as inline SVG strings: each has a `viewBox` and no fixed size (it scales to
/// the width of its container), escapes every name it draws, and is well-formed XML.
public enum Chart {
    /// One horizontal bar.
    public struct Bar: Sendable {
        /// Text drawn with the item (user text, escaped when drawn).
        public var label: String
        /// The bar's length.
        public var value: Double
        /// Half-width of the error bar (e.g. one standard deviation), or nil.
        public var error: Double?
        /// Individual observations (e.g. one per seed) drawn as dots on the bar.
        public var points: [Double]
        /// Memberwise initialiser; see the properties.
        public init(label: String, value: Double, error: Double? = nil, points: [Double] = []) {
            (self.label, self.value, self.error, self.points) = (label, value, error, points)
        }
    }

    /// Horizontal bars in the given order (callers sort), with `±error` whiskers and dots for the
    /// individual observations; the x axis starts at 0 (or below, for negative values).
    /// Height grows with the number of bars (22 px each). Cost: O(bars + points).
    /// `reference` draws a dashed vertical line at a value with a label (e.g. the uniform weight).
    public static func bars(_ bars: [Bar], axisLabel: String, label: String, color: RGB = ColorScale.categorical[0],
                            reference: Marker? = nil, width: Double = 560) -> String {
        let rowHeight = 22.0, top = reference == nil ? 10.0 : 26.0, bottom = 44.0
        let longest = bars.map(\.label.count).max() ?? 0
        let labelWidth = min(230, max(60, Double(min(longest, 30)) * 7.2 + 12))
        let height = top + bottom + rowHeight * Double(max(1, bars.count))
        var svg = SVGCanvas(width: width, height: height, label: label)
        var lo = 0.0, hi = 0.0
        for b in bars {
            for v in [b.value, b.value - (b.error ?? 0), b.value + (b.error ?? 0)] + b.points where v.isFinite {
                lo = min(lo, v); hi = max(hi, v)
            }
        }
        if let r = reference?.x, r.isFinite { lo = min(lo, r); hi = max(hi, r) }
        let domain = LinearScale.nice(lo, hi)
        let x = LinearScale(domain: domain, range: (labelWidth, width - 16))
        let plotBottom = top + rowHeight * Double(max(1, bars.count))
        for t in x.ticks() {
            svg.line(x(t), top, x(t), plotBottom, stroke: "#e3e3e3")
            svg.text(Format.short(t), x: x(t), y: plotBottom + 16, size: 12, anchor: .middle, fill: "#666")
        }
        svg.text(axisLabel, x: (labelWidth + width - 16) / 2, y: height - 8, size: 13, anchor: .middle, fill: "#444")
        for (i, b) in bars.enumerated() {
            let y = top + rowHeight * Double(i)
            let mid = y + rowHeight / 2
            svg.text(b.label, x: labelWidth - 8, y: mid + 4.5, size: 13, anchor: .end, limit: 30)
            let x0 = x(0), x1 = x(b.value)
            var tip = "\(b.label): \(Format.short(b.value))"
            if let e = b.error { tip += " ± \(Format.short(e))" }
            svg.rect(x: min(x0, x1), y: y + 4, width: abs(x1 - x0), height: rowHeight - 8, fill: color.hex, title: tip)
            if let e = b.error, e > 0 {
                let (a, c) = (x(b.value - e), x(b.value + e))
                svg.line(a, mid, c, mid, stroke: "#222", width: 1.4)
                svg.line(a, mid - 5, a, mid + 5, stroke: "#222", width: 1.4)
                svg.line(c, mid - 5, c, mid + 5, stroke: "#222", width: 1.4)
            }
            for p in b.points where p.isFinite { svg.circle(cx: x(p), cy: mid, r: 2.4, fill: "#111", opacity: 0.55) }
        }
        svg.line(x(0), top, x(0), plotBottom, stroke: "#888")
        if let reference, reference.x.isFinite {
            svg.line(x(reference.x), top - 4, x(reference.x), plotBottom, stroke: "#c83a32", width: 1.2, dash: "4 3")
            svg.text(reference.label, x: x(reference.x), y: top - 8, size: 12, anchor: .middle, fill: "#c83a32", limit: 30)
        }
        return svg.render()
    }
}
