import Foundation

extension Chart {
    /// One line of a line chart.
    public struct Series: Sendable {
        /// Shown in tooltips and legends (user text).
        public var name: String
        /// The data points.
        public var points: [(x: Double, y: Double)]
        /// Line colour.
        public var color: RGB
        /// Dashed instead of solid.
        public var dashed: Bool
        /// Stroke width in SVG units.
        public var width: Double
        /// Memberwise initialiser; see the properties.
        public init(name: String, points: [(x: Double, y: Double)], color: RGB, dashed: Bool = false, width: Double = 2) {
            (self.name, self.points, self.color, self.dashed, self.width) = (name, points, color, dashed, width)
        }
    }

    /// A vertical reference line at `x` with a short label.
    public struct Marker: Sendable {
        /// Position on the x axis, in data units.
        public var x: Double
        /// Text drawn with the item (user text, escaped when drawn).
        public var label: String
        /// Memberwise initialiser; see the properties.
        public init(x: Double, label: String) { (self.x, self.label) = (x, label) }
    }

    /// Lines on shared axes. Domains default to the data's range widened to round numbers; pass
    /// them to fix the axes (e.g. `0...1` for probabilities). Non-finite points are skipped.
    /// The legend is left to the page (an HTML list wraps better on narrow screens).
    /// Cost: O(points).
    public static func lines(_ series: [Series], xLabel: String, yLabel: String, label: String,
                             xDomain: ClosedRange<Double>? = nil, yDomain: ClosedRange<Double>? = nil,
                             markers: [Marker] = [], width: Double = 560, height: Double = 300) -> String {
        let left = 58.0, right = 16.0, top = 14.0, bottom = 46.0
        var svg = SVGCanvas(width: width, height: height, label: label)
        let xs = series.flatMap { $0.points.map(\.x) }.filter(\.isFinite)
        let ys = series.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
        let xd = xDomain.map { ($0.lowerBound, $0.upperBound) } ?? (xs.min().map { lo in (lo, xs.max()!) } ?? (0, 1))
        let yd = yDomain.map { ($0.lowerBound, $0.upperBound) } ?? LinearScale.nice(min(0, ys.min() ?? 0), ys.max() ?? 1)
        let x = LinearScale(domain: xd.1 > xd.0 ? xd : (xd.0, xd.0 + 1), range: (left, width - right))
        let y = LinearScale(domain: yd.1 > yd.0 ? yd : (yd.0, yd.0 + 1), range: (height - bottom, top))
        for t in y.ticks() {
            svg.line(left, y(t), width - right, y(t), stroke: "#e6e6e6")
            svg.text(Format.short(t), x: left - 6, y: y(t) + 4, size: 12, anchor: .end, fill: "#666")
        }
        for t in x.ticks(6) {
            svg.line(x(t), height - bottom, x(t), height - bottom + 5, stroke: "#888")
            svg.text(Format.short(t), x: x(t), y: height - bottom + 18, size: 12, anchor: .middle, fill: "#666")
        }
        svg.line(left, height - bottom, width - right, height - bottom, stroke: "#888")
        svg.line(left, top, left, height - bottom, stroke: "#888")
        svg.text(xLabel, x: (left + width - right) / 2, y: height - 8, size: 13, anchor: .middle, fill: "#444")
        svg.text(yLabel, x: 15, y: (top + height - bottom) / 2, size: 13, anchor: .middle, fill: "#444", rotate: -90)
        for m in markers where m.x.isFinite {
            svg.line(x(m.x), top, x(m.x), height - bottom, stroke: "#555", width: 1, dash: "4 3")
            svg.text(m.label, x: x(m.x) + 4, y: height - bottom - 6, size: 12, fill: "#555", limit: 24)
        }
        for s in series {
            let points = s.points.filter { $0.x.isFinite && $0.y.isFinite }.map { (x($0.x), y($0.y)) }
            if points.count == 1 {
                svg.circle(cx: points[0].0, cy: points[0].1, r: 3, fill: s.color.hex, title: s.name)
            } else {
                svg.polyline(points, stroke: s.color.hex, width: s.width, dash: s.dashed ? "6 4" : nil, title: s.name)
            }
        }
        return svg.render()
    }
}
