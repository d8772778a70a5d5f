import Foundation

extension Chart {
    /// The SHAP-style summary: one row per feature (most important — largest mean |φ| — first, at
    /// most `maxFeatures`), one dot per explained row at x = its attribution φ, stacked as a
    /// beeswarm so dots with close values do not hide each other, coloured by the row's value of
    /// that feature (blue low → red high, by rank within the feature; grey without values).
    ///
    /// `values` and `featureValues` are `[rows][features]`. Cost: O(features·rows·log rows).
    public static func strip(featureNames: [String], values: [[Double]], featureValues: [[Double]]?,
                             maxFeatures: Int = 15, axisLabel: String, label: String) -> String {
        let d = featureNames.count, n = values.count
        let meanAbs = (0..<d).map { j in values.reduce(0) { $0 + abs($1[j].isFinite ? $1[j] : 0) } / Double(max(1, n)) }
        let order = Array((0..<d).sorted { meanAbs[$0] > meanAbs[$1] || (meanAbs[$0] == meanAbs[$1] && $0 < $1) }.prefix(maxFeatures))
        let rowHeight = 30.0, top = 10.0, bottom = featureValues == nil ? 44.0 : 64.0, width = 560.0
        let longest = order.map { featureNames[$0].count }.max() ?? 0
        let labelWidth = min(230, max(60, Double(min(longest, 30)) * 7.2 + 12))
        let plotBottom = top + rowHeight * Double(max(1, order.count))
        var svg = SVGCanvas(width: width, height: plotBottom + bottom, label: label)
        let all = order.flatMap { j in values.map { $0[j] } }.filter(\.isFinite)
        let extent = max(abs(all.min() ?? 0), abs(all.max() ?? 0), 1e-12)
        let x = LinearScale(domain: (-extent * 1.05, extent * 1.05), range: (labelWidth, width - 16))
        for t in x.ticks() {
            svg.line(x(t), top, x(t), plotBottom, stroke: t == 0 ? "#888" : "#ececec")
            svg.text(Format.short(t), x: x(t), y: plotBottom + 16, size: 12, anchor: .middle, fill: "#666")
        }
        svg.text(axisLabel, x: (labelWidth + width - 16) / 2, y: plotBottom + 36, size: 13, anchor: .middle, fill: "#444", limit: 60)
        let radius = 2.6
        for (r, j) in order.enumerated() {
            let mid = top + rowHeight * (Double(r) + 0.5)
            if r % 2 == 1 { svg.rect(x: labelWidth, y: mid - rowHeight / 2, width: width - 16 - labelWidth, height: rowHeight, fill: "#f7f7f9") }
            svg.text(featureNames[j], x: labelWidth - 8, y: mid + 4.5, size: 13, anchor: .end, limit: 30)
            let colors = featureValues.map { rows in featureValueColors(rows.map { $0[j] }) }
            // Beeswarm: walk the dots left to right; a dot takes the first vertical slot (0, +1, −1,
            // +2, …) not used by a dot less than one diameter to its left.
            let indices = (0..<n).filter { values[$0][j].isFinite }.sorted { values[$0][j] < values[$1][j] }
            var placed: [(x: Double, slot: Int)] = []
            let maxSlot = Int((rowHeight / 2 - radius) / (radius * 1.6))
            for i in indices {
                let px = x(values[i][j])
                let near = Set(placed.reversed().prefix { px - $0.x < 2 * radius }.map(\.slot))
                var k = 0
                var slot = 0
                while near.contains(slot) && k < 2 * maxSlot { k += 1; slot = (k % 2 == 1 ? 1 : -1) * ((k + 1) / 2) }
                placed.append((px, slot))
                svg.circle(cx: px, cy: mid + Double(slot) * radius * 1.6, r: radius,
                           fill: colors?[i].hex ?? "#777", opacity: 0.85)
            }
        }
        if featureValues != nil {
            let y = plotBottom + bottom - 8
            svg.text("low", x: width - 118, y: y, size: 12, anchor: .end, fill: "#555")
            for k in 0..<10 {
                svg.rect(x: width - 114 + Double(k) * 7, y: y - 10, width: 7, height: 10, fill: ColorScale.lowHigh(Double(k) / 9).hex)
            }
            svg.text("high", x: width - 40, y: y, size: 12, fill: "#555")
        }
        return svg.render()
    }

    /// The strip plot's dot colours for one feature's values: ``ColorScale/lowHigh(_:)`` of each
    /// value's rank scaled to [0, 1] (ties share their mean rank), so one outlier does not wash
    /// the others out. Cost: O(n log n).
    public static func featureValueColors(_ column: [Double]) -> [RGB] {
        let order = column.indices.sorted { column[$0] < column[$1] }
        var rank = [Double](repeating: 0.5, count: column.count)
        var i = 0
        while i < order.count {
            var k = i
            while k + 1 < order.count, column[order[k + 1]] == column[order[i]] { k += 1 }
            for m in i...k { rank[order[m]] = order.count > 1 ? Double(i + k) / 2 / Double(order.count - 1) : 0.5 }
            i = k + 1
        }
        return rank.map(ColorScale.lowHigh)
    }
}
