import Foundation

/// Rasters of an explained image for the report: the input itself, and the input in grey under
/// a heatmap of an attribution map. They are drawn at the image's own resolution; the page
/// scales them up with `image-rendering: pixelated`, so an 8×8 digit costs a few hundred bytes.
public enum ImageOverlay {
    /// The input: grey (1 channel) or RGB (3 channels), values in [0, 1] clamped.
    public static func input(_ example: ImageExample) -> RGBAImage {
        var image = RGBAImage(width: example.width, height: example.height)
        let plane = example.height * example.width
        for p in 0..<plane {
            image[p % example.width, p / example.width] = example.channels == 3
                ? RGB(byte(example.pixels[p]), byte(example.pixels[plane + p]), byte(example.pixels[2 * plane + p]))
                : RGB(byte(example.pixels[p]), byte(example.pixels[p]), byte(example.pixels[p]))
        }
        return image
    }

    /// The map normalised to [0, 1]: negative scores (evidence against) count as 0, then the
    /// result is stretched from its smallest to its largest value, so the least important pixel
    /// shows no heat and the most important full heat. A constant map is all 0.
    public static func normalized(_ map: [Double]) -> [Double] {
        let clipped = map.map { $0.isFinite ? max(0, $0) : 0 }
        let top = clipped.max() ?? 0, bottom = clipped.min() ?? 0
        return top > bottom ? clipped.map { ($0 - bottom) / (top - bottom) } : clipped.map { _ in 0 }
    }

    /// The input in grey, dimmed, with the heat colour of each pixel's normalised score blended
    /// on top (opacity 0.85 × score): unimportant pixels show the image, important ones glow.
    public static func overlay(_ example: ImageExample, map: [Double]) -> RGBAImage {
        var image = RGBAImage(width: example.width, height: example.height)
        let plane = example.height * example.width
        let heat = normalized(map)
        for p in 0..<plane {
            var grey = example.pixels[p]
            if example.channels == 3 {
                grey = 0.299 * example.pixels[p] + 0.587 * example.pixels[plane + p] + 0.114 * example.pixels[2 * plane + p]
            }
            let g = UInt8(Double(byte(grey)) * 0.7)
            let alpha = p < heat.count ? 0.85 * heat[p] : 0
            image[p % example.width, p / example.width] = RGB.mix(RGB(g, g, g), ColorScale.heat(heat[p]), alpha)
        }
        return image
    }

    static func byte(_ v: Double) -> UInt8 { v.isFinite ? UInt8((min(1, max(0, v)) * 255).rounded()) : 0 }
}
