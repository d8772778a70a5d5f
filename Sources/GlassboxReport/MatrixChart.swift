import Foundation

extension Chart {
    /// A square heatmap of a statistic between methods: cell colour on the blue–grey–red scale over
    /// `domain` (−1…1 for rank correlations, 0…1 for overlaps), the value printed in the cell,
    /// an en dash where it is undefined (nil). Row labels on the left, column labels slanted on
    /// top. Cost: O(methods²).
    public static func matrix(_ values: [[Double?]], names: [String], title: String,
                              domain: ClosedRange<Double> = -1...1) -> String {
        let m = names.count
        let cell = 52.0
        let longest = Double(min(names.map(\.count).max() ?? 0, 22))
        let left = longest * 7.2 + 14, top = longest * 5.4 + 34
        let width = left + cell * Double(m) + longest * 5.6 + 8, height = top + cell * Double(m) + 8
        var svg = SVGCanvas(width: width, height: height, label: title)
        svg.text(title, x: left, y: 16, size: 14, fill: "#222", weight: "600")
        for (j, name) in names.enumerated() {
            let cx = left + cell * (Double(j) + 0.5)
            svg.text(name, x: cx, y: top - 6, size: 12.5, fill: "#333", rotate: -40, limit: 22)
        }
        for (i, name) in names.enumerated() {
            let y = top + cell * Double(i)
            svg.text(name, x: left - 6, y: y + cell / 2 + 4.5, size: 12.5, anchor: .end, limit: 22)
            for j in 0..<m {
                let v = i < values.count && j < values[i].count ? values[i][j] : nil
                let x = left + cell * Double(j)
                // Map the domain onto the diverging scale's −1…1.
                let t = v.map { 2 * ($0 - domain.lowerBound) / (domain.upperBound - domain.lowerBound) - 1 }
                let color = t.map(ColorScale.diverging) ?? RGB(0xfa, 0xfa, 0xfa)
                svg.rect(x: x, y: y, width: cell - 2, height: cell - 2, fill: color.hex,
                         title: "\(names[i]) vs \(names[j]): \(Format.number(v))")
                svg.text(Format.number(v, digits: 2), x: x + (cell - 2) / 2, y: y + cell / 2 + 3.5, size: 12.5,
                         anchor: .middle, fill: color.luminance < 0.5 ? "#fff" : "#222")
            }
        }
        return svg.render()
    }
}
