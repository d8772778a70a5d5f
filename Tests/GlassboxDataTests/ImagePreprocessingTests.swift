import Foundation
import Testing
import GlassboxData
import GlassboxNN

/// ImagePreprocessing against torchvision's Resize + CenterCrop + ToTensor + Normalize computed
/// with Pillow + numpy on two real photos (Fixtures/images/preprocessing.txt, written by
/// benchmarks/tools/make_image_fixtures.py; rows of the expected tensors and per-channel sums).
@Suite struct ImagePreprocessingTests {
    static let directory = Fixtures.directory.appendingPathComponent("images")

    struct Case: CustomStringConvertible, Sendable {
        let name: String, photo: String, preprocessing: ImagePreprocessing
        let rows: [Int], sums: [Double], squares: [Double]
        var description: String { name }
    }

    static let cases: [Case] = {
        guard let text = try? String(contentsOf: directory.appendingPathComponent("preprocessing.txt"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map { line in
            let f = line.split(separator: " ").map(String.init)
            let crop = f[3].split(separator: "x").map { Int($0)! }
            let floats = { (s: String) in s.split(separator: ",").map { Float($0)! } }
            let doubles = { (s: String) in s.split(separator: ",").map { Double($0)! } }
            let p = try! ImagePreprocessing(resize: Int(f[2])!, crop: crop, interpolation: ImageResample.Filter(rawValue: f[4])!,
                                            scale: Float(f[5])!, mean: floats(f[6]), std: floats(f[7]), channels: f[8])
            return Case(name: f[0], photo: f[1], preprocessing: p, rows: f[9].split(separator: ",").map { Int($0)! },
                        sums: doubles(f[10]), squares: doubles(f[11]))
        }
    }()

    @Test func fixturesPresent() { #expect(Self.cases.count == 5) }

    /// Within 1e-2 per value (the largest difference seen is printed; with Pillow's resampling
    /// reproduced exactly it is float rounding only, ~1e-6).
    @Test(arguments: cases) func matchesTorchvision(_ c: Case) throws {
        let photo = try ImageFile.read(from: Self.directory.appendingPathComponent(c.photo))
        let x = c.preprocessing.apply(photo)
        let (h, w) = c.preprocessing.cropSize!
        #expect(x.shape == [1, 3, h, w])
        let want = try NPY.read(from: Self.directory.appendingPathComponent("pre_\(c.name)_rows.npy"))
        #expect(want.shape == [3, c.rows.count, w])
        var worst: Float = 0
        for ch in 0..<3 {
            for (i, r) in c.rows.enumerated() {
                for col in 0..<w {
                    worst = max(worst, abs(x.scalars[(ch * h + r) * w + col] - want.scalars[(ch * c.rows.count + i) * w + col]))
                }
            }
        }
        #expect(worst <= 1e-2, "\(c.name): max difference \(worst)")
        print("\(c.name): max difference on checked rows \(worst)")
        for ch in 0..<3 {
            let plane = x.scalars[(ch * h * w)..<((ch + 1) * h * w)]
            let sum = plane.reduce(0.0) { $0 + Double($1) }, squares = plane.reduce(0.0) { $0 + Double($1) * Double($1) }
            #expect(abs(sum - c.sums[ch]) <= 0.05 + 1e-5 * abs(c.sums[ch]), "\(c.name) channel \(ch): sum \(sum) vs \(c.sums[ch])")
            #expect(abs(squares - c.squares[ch]) <= 0.05 + 1e-5 * c.squares[ch], "\(c.name) channel \(ch): sum of squares \(squares) vs \(c.squares[ch])")
        }
    }

    @Test func jsonKeysRoundTrip() throws {
        let json = #"{"resize": 256, "crop": 224, "interpolation": "bicubic", "scale": 1, "mean": [127, 127, 127], "std": [128, 128, 128], "channels": "BGR"}"#
        let p = try JSONDecoder().decode(ImagePreprocessing.self, from: Data(json.utf8))
        #expect(p.resize == 256 && p.cropSize! == (224, 224) && p.interpolation == .bicubic && p.scale == 1 && p.channels == "BGR")
        let again = try JSONDecoder().decode(ImagePreprocessing.self, from: JSONEncoder().encode(p))
        #expect(again == p)
        let defaults = try JSONDecoder().decode(ImagePreprocessing.self, from: Data(#"{"crop": [2, 3]}"#.utf8))
        #expect(defaults.scale == 255 && defaults.mean == [0, 0, 0] && defaults.std == [1, 1, 1] && defaults.interpolation == .bilinear && defaults.resize == nil)
        for bad in [#"{"channels": "CMYK"}"#, #"{"std": [0, 1, 1]}"#, #"{"mean": [1, 2]}"#, #"{"crop": [1, 2, 3]}"#, #"{"scale": 0}"#, #"{"interpolation": "nearest"}"#] {
            #expect(throws: (any Error).self, "\(bad)") { try JSONDecoder().decode(ImagePreprocessing.self, from: Data(bad.utf8)) }
        }
    }

    /// EfficientNet-Lite's convention maps 0 → −127/128 and 255 → 1; the normalizer view agrees.
    @Test func liteConventionAndNormalizer() throws {
        let p = ImagePreprocessing.efficientNetLite
        let img = PixelImage(width: 2, height: 1, channels: 3, pixels: [0, 127, 255, 255, 255, 255])
        let t = p.tensor(img)
        #expect(t.shape == [1, 3, 1, 2])
        #expect(t.scalars[0] == -127 / 128 && t.scalars[1] == 1 && t.scalars[2] == 0)
        let viaNormalizer = try p.normalizer.transform(img.tensor())
        for (a, b) in zip(t.scalars, viaNormalizer.scalars) { #expect(abs(a - b) < 1e-5) }
    }

    /// A crop larger than the (resized) image pads with zeros as torchvision's CenterCrop does;
    /// a 1×1 photo is resized up to the shorter side first.
    @Test func smallImagesAndPadding() throws {
        let one = PixelImage(width: 1, height: 1, channels: 3, pixels: [10, 20, 30])
        let up = try ImagePreprocessing(resize: 4, crop: [4]).geometry(one)
        #expect(up.width == 4 && up.height == 4 && up.pixels.prefix(3) == [10, 20, 30])
        let padded = try ImagePreprocessing(crop: [3, 5]).geometry(PixelImage(width: 1, height: 1, channels: 1, pixels: [200]))
        #expect(padded.width == 5 && padded.height == 3 && padded.channels == 3)
        #expect(padded.pixels.enumerated().allSatisfy { i, v in (i / 3 == 7) ? v == 200 : v == 0 })
        // torchvision: 1 → 4 pads 1 on the left/top (floor), so the pixel lands at (1, 1).
        let even = try ImagePreprocessing(crop: [4], mean: [0], std: [1], channels: "L").geometry(PixelImage(width: 1, height: 1, channels: 1, pixels: [9]))
        #expect(even.pixels.enumerated().allSatisfy { i, v in i == 5 ? v == 9 : v == 0 })
    }
}
