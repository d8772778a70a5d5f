import Foundation
import Testing
import Glassbox

/// `explain-image` with PNG/JPEG photos: through a model's stored preprocessing (map in crop
/// coordinates, PNG overlay), and without one (own size, colour → grey), plus the bad inputs the
/// photo path must refuse with one clear error line.
@Suite(.serialized) struct PhotoCLITests {
    static let images = Fixtures.directory.appendingPathComponent("images")

    /// A 3-channel 12×12 CNN whose file stores a preprocessing (resize 14, crop 12, ImageNet mean/std).
    static func photoModel(_ dir: TemporaryDirectory) throws -> URL {
        let url = dir.file("photo.safetensors")
        let model = try LayerRegistry.build(Architectures.convNet(inputChannels: 3, height: 12, width: 12, channels: [4], hidden: 8, classes: 3), seed: 3)
        let pre = try ImagePreprocessing(resize: 14, crop: [12], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
        try ImageModelFile.save(model, normalizer: ChannelNormalizer(mean: [0, 0, 0], std: [1, 1, 1]), classNames: ["cat", "dog", "cup"],
                                preprocessing: pre, to: url)
        return url
    }

    /// A 1-channel 8×8 CNN without preprocessing.
    static func greyModel(_ dir: TemporaryDirectory) throws -> URL {
        let url = dir.file("grey.safetensors")
        let model = try LayerRegistry.build(Architectures.convNet(inputChannels: 1, height: 8, width: 8, channels: [4], hidden: 8, classes: 2), seed: 1)
        try ImageModelFile.save(model, normalizer: ChannelNormalizer(mean: [0.5], std: [0.25]), classNames: ["a", "b"], to: url)
        return url
    }

    static func pngSize(_ url: URL) throws -> (Int, Int) {
        let b = [UInt8](try Data(contentsOf: url))
        func u32(_ o: Int) -> Int { Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]) }
        return (u32(16), u32(20))
    }

    @Test func photoThroughStoredPreprocessing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let model = try Self.photoModel(dir)
        for photo in ["jpeg_420.jpg", "jpeg_cmyk.jpg", "png_rgba16.png", "png_grey2.png", "jpeg_tiny_1x1.jpg"] {
            let overlay = dir.file("\(photo).png"), map = dir.file("\(photo).npy")
            let r = try CLIProcess.run(["explain-image", "--model", model.path, "--image", Self.images.appendingPathComponent(photo).path,
                                        "--method", "occlusion", "--out", map.path, "--overlay", overlay.path, "--quiet"])
            #expect(r.status == 0, "\(photo): \(r)")
            // The map and the overlay are in the crop's coordinates (12×12), whatever the photo's size.
            #expect(try NPY.read(from: map).shape == [12, 12], "\(photo)")
            #expect(try Self.pngSize(overlay) == (12, 12), "\(photo)")
            let drawn = try ImageFile.read(from: overlay)
            #expect(drawn.width == 12 && drawn.channels == 3)
        }
    }

    @Test func photoWithoutPreprocessingAtItsOwnSize() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let model = try Self.greyModel(dir)
        // An 8×8 RGB PNG (written by the report's encoder) is converted to grey for the 1-channel model.
        var rgba = RGBAImage(width: 8, height: 8)
        for y in 0..<8 { for x in 0..<8 { rgba[x, y] = RGB(UInt8(x * 30), UInt8(y * 30), 90) } }
        let photo = dir.file("eight.png")
        try PNG.encode(rgba).write(to: photo)
        let r = try CLIProcess.run(["explain-image", "--model", model.path, "--image", photo.path, "--method", "occlusion", "--quiet", "--json"])
        #expect(r.status == 0, "\(r)")
        // Wrong size, 1×1, and a photo for a model that takes 3 channels from a .npy of 1.
        for (name, mentions) in [("jpeg_420.jpg", ["jpeg_420.jpg", "cannot take", "37"]), ("jpeg_tiny_1x1.jpg", ["jpeg_tiny_1x1.jpg", "cannot take"])] {
            let bad = try CLIProcess.run(["explain-image", "--model", model.path, "--image", Self.images.appendingPathComponent(name).path, "--quiet"])
            expectCleanError(bad, mentions: mentions, within: 60)
        }
    }

    @Test func badPhotoInputs() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let model = try Self.photoModel(dir)
        let npy = dir.file("grey.npy")
        try NPY.encode(Tensor(uncheckedShape: [1, 5, 5], scalars: [Float](repeating: 0.5, count: 25))).write(to: npy)
        let arithmetic = Self.images.appendingPathComponent("jpeg_cjpeg_arithmetic.jpg")
        var cases: [([String], [String])] = [
            ([npy.path], ["grey.npy", "1 channels", "takes 3"]),
            ([dir.file("missing.jpg").path], ["missing.jpg"]),
        ]
        let truncated = dir.file("cut.jpg")
        try Data(try Data(contentsOf: Self.images.appendingPathComponent("jpeg_420.jpg")).prefix(400)).write(to: truncated)
        cases.append(([truncated.path], ["cut.jpg", "truncated"]))
        if FileManager.default.fileExists(atPath: arithmetic.path) { cases.append(([arithmetic.path], ["arithmetic"])) }
        for (args, mentions) in cases {
            let r = try CLIProcess.run(["explain-image", "--model", model.path, "--image"] + args + ["--quiet"])
            expectCleanError(r, mentions: mentions, within: 60)
        }
        let overlayName = try CLIProcess.run(["explain-image", "--model", model.path, "--image", npy.path, "--overlay", "map.jpg"])
        #expect(overlayName.status != 0 && overlayName.stderr.contains(".png"))
    }

    @Test func predictListsTopClasses() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let model = try Self.photoModel(dir)
        let photo = Self.images.appendingPathComponent("jpeg_420.jpg")
        let r = try CLIProcess.run(["predict", "--model", model.path, "--image", photo.path, "--top", "2", "--json"])
        #expect(r.status == 0, "\(r)")
        struct Out: Decodable { var logits: [Float]; var probabilities: [Double]; var top: [ClassPrediction.Entry] }
        let out = try JSONDecoder().decode(Out.self, from: Data(r.stdout.utf8))
        // The same logits as the library path, softmax sums to 1, the top two are the two largest.
        let contents = try ImageModelFile.loadContents(from: model)
        let x = try PhotoInput.load(photo, normalizer: contents.normalizer, preprocessing: contents.preprocessing).input
        let want = try contents.model.predict(x).scalars
        #expect(out.logits.count == 3 && zip(out.logits, want).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        #expect(abs(out.probabilities.reduce(0, +) - 1) < 1e-9)
        let ranked = out.probabilities.indices.sorted { out.probabilities[$0] > out.probabilities[$1] }
        #expect(out.top.map(\.class) == Array(ranked.prefix(2)))
        #expect(out.top.map(\.name) == ranked.prefix(2).map { ["cat", "dog", "cup"][$0] })
        let text = try CLIProcess.run(["predict", "--model", model.path, "--image", photo.path])
        #expect(text.status == 0 && text.stdout.contains("1.") && text.stdout.contains("3."))
        let badTop = try CLIProcess.run(["predict", "--model", model.path, "--image", photo.path, "--top", "0"])
        #expect(badTop.status != 0 && badTop.stderr.contains("--top"))
    }

    @Test func softmaxAndRanking() {
        let p = ClassPrediction(logits: [1, 3, 2, 3], classNames: ["a", "b"], top: 3)
        let e = [exp(1.0), exp(3.0), exp(2.0), exp(3.0)], total = e.reduce(0, +)
        for (a, b) in zip(p.probabilities, e.map { $0 / total }) { #expect(abs(a - b) < 1e-12) }
        #expect(p.top.map(\.class) == [1, 3, 2] && p.top.map(\.name) == ["b", nil, nil])
    }
}
