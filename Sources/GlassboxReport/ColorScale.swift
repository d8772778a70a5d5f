import Foundation

/// An 8-bit sRGB colour.
public struct RGB: Sendable, Equatable {
    /// Red, green and blue, 0…255.
    public var r: UInt8, g: UInt8, b: UInt8
    /// Memberwise initialiser; see the properties.
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { (self.r, self.g, self.b) = (r, g, b) }

    /// `#rrggbb`.
    public var hex: String {
        let digits = Array("0123456789abcdef")
        var s = "#"
        for v in [r, g, b] { s.append(digits[Int(v >> 4)]); s.append(digits[Int(v & 15)]) }
        return s
    }

    /// Linear interpolation `a + t·(b − a)` per channel, `t` clamped to [0, 1].
    public static func mix(_ a: RGB, _ b: RGB, _ t: Double) -> RGB {
        let t = t.isFinite ? min(1, max(0, t)) : 0
        func m(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8((Double(x) + t * (Double(y) - Double(x))).rounded()) }
        return RGB(m(a.r, b.r), m(a.g, b.g), m(a.b, b.b))
    }

    /// Relative luminance in [0, 1] (Rec. 709 weights on the 8-bit values): picks dark or light
    /// text on a coloured cell.
    public var luminance: Double { (0.2126 * Double(r) + 0.7152 * Double(g) + 0.0722 * Double(b)) / 255 }
}

/// The colour scales of the report, chosen to stay readable in print and for common colour
/// vision deficiencies (blue–red rather than red–green).
public enum ColorScale {
    /// Distinct colours for series (Tableau 10).
    public static let categorical: [RGB] = [
        RGB(0x4e, 0x79, 0xa7), RGB(0xf2, 0x8e, 0x2b), RGB(0xe1, 0x57, 0x59), RGB(0x76, 0xb7, 0xb2), RGB(0x59, 0xa1, 0x4f),
        RGB(0xed, 0xc9, 0x48), RGB(0xb0, 0x7a, 0xa1), RGB(0xff, 0x9d, 0xa7), RGB(0x9c, 0x75, 0x5f), RGB(0xba, 0xb0, 0xac),
    ]

    static let low = RGB(0x2c, 0x6f, 0xbb), middle = RGB(0xf4, 0xf4, 0xf4), high = RGB(0xc8, 0x3a, 0x32)

    /// Blue (−1) – light grey (0) – red (+1), for signed values in [−1, 1].
    public static func diverging(_ v: Double) -> RGB {
        guard v.isFinite else { return middle }
        return v < 0 ? RGB.mix(middle, low, -v) : RGB.mix(middle, high, v)
    }

    /// Blue (0) – purple – red (1): a feature's value from low to high (the SHAP summary's colouring).
    public static func lowHigh(_ t: Double) -> RGB {
        t < 0.5 ? RGB.mix(low, RGB(0x8e, 0x4a, 0x9e), t * 2) : RGB.mix(RGB(0x8e, 0x4a, 0x9e), high, (t - 0.5) * 2)
    }

    /// Dark red (0) – orange – yellow (1), the heatmap overlaid on images.
    public static func heat(_ t: Double) -> RGB {
        let t = t.isFinite ? min(1, max(0, t)) : 0
        return t < 0.5 ? RGB.mix(RGB(0x80, 0x00, 0x10), RGB(0xf0, 0x50, 0x00), t * 2)
            : RGB.mix(RGB(0xf0, 0x50, 0x00), RGB(0xff, 0xe8, 0x40), (t - 0.5) * 2)
    }
}
