/// Pillow's `Image.resize` with the bilinear (triangle) and bicubic (a = −0.5) filters,
/// reproduced bit for bit from its Resample.c: separable convolution whose support widens with
/// the downscaling factor (antialiasing), coefficients normalised per output sample and rounded
/// to 22-bit fixed point, a horizontal pass over only the rows the vertical pass reads, each pass
/// rounded and clamped to 8 bits.
///
/// For an output sample at `x`: centre c = (x + ½)·s with s = in/out, support r = R·max(s, 1)
/// (R = 1 bilinear, 2 bicubic), taps from round(c − r) to round(c + r) clipped to the image,
/// weights f((i − c + ½) / max(s, 1)) / Σ. Cost: O(out · in-taps) per pass.
public enum ImageResample {
    public enum Filter: String, Codable, Sendable {
        case bilinear, bicubic

        var support: Double { self == .bilinear ? 1 : 2 }

        func weight(_ x: Double) -> Double {
            let x = abs(x)
            switch self {
            case .bilinear: return x < 1 ? 1 - x : 0
            case .bicubic:
                let a = -0.5
                if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
                if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
                return 0
            }
        }
    }

    static let precisionBits = 22

    /// Per output sample: first input index, tap count and fixed-point weights (`taps` per sample).
    struct Coefficients {
        var first: [Int] = [], count: [Int] = [], weights: [Int32] = [], taps = 0
    }

    static func coefficients(input: Int, output: Int, filter: Filter) -> Coefficients {
        let scale = Double(Float(input)) / Double(output)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let taps = Int(support.rounded(.up)) * 2 + 1
        var c = Coefficients(first: [], count: [], weights: [Int32](repeating: 0, count: output * taps), taps: taps)
        var k = [Double](repeating: 0, count: taps)
        for xx in 0..<output {
            let center = (Double(xx) + 0.5) * scale
            let ss = 1 / filterScale
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), input) - xmin
            var total = 0.0
            for x in 0..<taps { k[x] = 0 }
            for x in 0..<max(xmax, 0) {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * ss)
                k[x] = w
                total += w
            }
            for x in 0..<max(xmax, 0) where total != 0 { k[x] /= total }
            for x in 0..<taps {
                let v = k[x] * Double(1 << precisionBits)
                c.weights[xx * taps + x] = Int32(k[x] < 0 ? (-0.5 + v) : (0.5 + v))
            }
            c.first.append(xmin)
            c.count.append(max(xmax, 0))
        }
        return c
    }

    @inline(__always) static func clip8(_ v: Int) -> UInt8 {
        if v >= 1 << (precisionBits + 8) { return 255 }
        if v <= 0 { return 0 }
        return UInt8(v >> precisionBits)
    }

    /// `image` resized to `width × height` as Pillow's `Image.resize((width, height), filter)`.
    public static func resize(_ image: PixelImage, width: Int, height: Int, filter: Filter) -> PixelImage {
        precondition(width > 0 && height > 0)
        if width == image.width && height == image.height { return image }
        let ch = image.channels
        let needH = width != image.width, needV = height != image.height
        let horizontal = coefficients(input: image.width, output: width, filter: filter)
        let vertical = coefficients(input: image.height, output: height, filter: filter)
        // Rows of the source the vertical pass reads.
        let firstRow = needV ? vertical.first[0] : 0
        let lastRow = needV ? vertical.first[height - 1] + vertical.count[height - 1] : image.height
        var rows = image
        if needH {
            var temp = [UInt8](repeating: 0, count: (lastRow - firstRow) * width * ch)
            let px = image.pixels
            for y in firstRow..<lastRow {
                for xx in 0..<width {
                    let xmin = horizontal.first[xx], n = horizontal.count[xx], base = xx * horizontal.taps
                    for c in 0..<ch {
                        var s = 1 << (precisionBits - 1)
                        for x in 0..<n { s += Int(px[((y * image.width) + xmin + x) * ch + c]) * Int(horizontal.weights[base + x]) }
                        temp[((y - firstRow) * width + xx) * ch + c] = clip8(s)
                    }
                }
            }
            rows = PixelImage(width: width, height: lastRow - firstRow, channels: ch, pixels: temp)
        } else if needV {
            rows = PixelImage(width: width, height: lastRow - firstRow, channels: ch,
                              pixels: Array(image.pixels[(firstRow * width * ch)..<(lastRow * width * ch)]))
        }
        guard needV else { return rows }
        var out = [UInt8](repeating: 0, count: width * height * ch)
        let px = rows.pixels
        for yy in 0..<height {
            let ymin = vertical.first[yy] - firstRow, n = vertical.count[yy], base = yy * vertical.taps
            for x in 0..<width {
                for c in 0..<ch {
                    var s = 1 << (precisionBits - 1)
                    for y in 0..<n { s += Int(px[((ymin + y) * width + x) * ch + c]) * Int(vertical.weights[base + y]) }
                    out[(yy * width + x) * ch + c] = clip8(s)
                }
            }
        }
        return PixelImage(width: width, height: height, channels: ch, pixels: out)
    }
}
