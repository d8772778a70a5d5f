import Foundation
import Testing
import Glassbox
#if canImport(Glibc)
import Glibc
#endif

/// Faults during long runs and writes, through the `glassbox` executable: Ctrl-C during training,
/// training that diverges, and a disk that fills up part-way through writing each kind of output.
/// In every case the previous output file must survive byte for byte and no temporary file may
/// be left behind.
@Suite struct FaultCLITests {
    /// A small separable CSV (`x0…x5`, `label`), deterministic.
    static func writeTable(to url: URL, rows: Int = 400) throws {
        var text = "x0,x1,x2,x3,x4,x5,label\n"
        var rng = SeededGenerator(seed: 77)
        for _ in 0..<rows {
            let x = (0..<6).map { _ in Float.random(in: -1...1, using: &rng) }
            text += x.map { String(format: "%.4f", $0) }.joined(separator: ",") + ",\(x[0] + 0.5 * x[1] > 0 ? "yes" : "no")\n"
        }
        try Data(text.utf8).write(to: url)
    }

    /// Files in `directory` that look like AtomicFile's temporaries (`.<name>.tmp-<random>`).
    static func temporaries(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") && $0.contains(".tmp-") }
    }

    static let previous = Data("previous contents, which must survive\n".utf8)

    @Test func ctrlCDuringTrainingExits130AndKeepsThePreviousModel() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let data = dir.file("data.csv"), out = dir.file("model.safetensors")
        try Self.writeTable(to: data)
        try Self.previous.write(to: out)
        // Enough epochs to still be training when the signal arrives; patience 0 never stops early.
        let result = try CLIProcess.run(["train", "--data", data.path, "--target", "label", "--epochs", "1000000",
                                         "--patience", "0", "--quiet", "--out", out.path], timeout: 120) { pid in
            usleep(400_000)
            kill(pid, SIGINT)
        }
        #expect(!result.signal && result.status == 130, "\(result)")
        #expect(result.stderrLines.count == 1, "\(result)")
        #expect(result.stderr.hasPrefix("error: cancelled: training stopped at the end of epoch "), "\(result)")
        #expect(result.stderr.contains(", batch "), "\(result)")
        #expect(try Data(contentsOf: out) == Self.previous)
        #expect(try Self.temporaries(in: dir.url).isEmpty)
        #expect(result.seconds < 60, "\(result)")
    }

    @Test func divergentTrainingNamesEpochAndBatchAndWritesNothing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let data = dir.file("data.csv"), out = dir.file("model.safetensors"), fresh = dir.file("fresh.safetensors")
        try Self.writeTable(to: data)
        try Self.previous.write(to: out)
        for target in [out, fresh] {
            // A learning rate of 1e30 overflows the weights in the first steps.
            let result = try CLIProcess.run(["train", "--data", data.path, "--target", "label", "--epochs", "5",
                                             "--lr", "1e30", "--quiet", "--out", target.path], timeout: 120)
            #expect(!result.signal && result.status == 1, "\(result)")
            #expect(result.stderrLines.count == 1, "\(result)")
            #expect(result.stderr.contains("training diverged at epoch ") && result.stderr.contains(", batch "), "\(result)")
        }
        #expect(try Data(contentsOf: out) == Self.previous)
        #expect(!FileManager.default.fileExists(atPath: fresh.path))
        #expect(try Self.temporaries(in: dir.url).isEmpty)
    }

    /// One output kind: the command that writes it to `out`.
    struct Writer: CustomTestStringConvertible, Sendable {
        var name: String
        var fileName: String
        var testDescription: String { name }
    }

    static let writers = [
        Writer(name: "train: model", fileName: "model.safetensors"),
        Writer(name: "explain: attributions .npy", fileName: "attributions.npy"),
        Writer(name: "explain: attributions .csv", fileName: "attributions.csv"),
        Writer(name: "explain-image: map .npy", fileName: "map.npy"),
        Writer(name: "explain-image: map .pgm", fileName: "map.pgm"),
        Writer(name: "generate: data .csv", fileName: "generated.csv"),
        Writer(name: "report: page .html", fileName: "report.html"),
    ]

    /// The disk fills up part-way through the write (`ulimit -f 1`: 512 bytes, then EFBIG): the
    /// command fails with one error line naming the file, the previous file is intact and no
    /// temporary file is left. Run without the limit, the same command succeeds — so it is the
    /// write that failed, not something else.
    @Test(arguments: writers)
    func fullDiskLeavesThePreviousFileIntact(_ writer: Writer) throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let out = dir.file(writer.fileName)
        let arguments: [String]
        switch writer.fileName {
        case "model.safetensors":
            let data = dir.file("data.csv")
            try Self.writeTable(to: data)
            arguments = ["train", "--data", data.path, "--target", "label", "--epochs", "2", "--quiet", "--out", out.path]
        case "attributions.npy", "attributions.csv":
            let data = dir.file("data.csv"), model = dir.file("tabular.safetensors")
            try Self.writeTable(to: data)
            let trained = try CLIProcess.run(["train", "--data", data.path, "--target", "label", "--epochs", "2", "--quiet",
                                              "--out", model.path], timeout: 120)
            try #require(trained.status == 0, "\(trained)")
            arguments = ["explain", "--model", model.path, "--data", data.path, "--method", "saliency", "--quiet", "--out", out.path]
        case "map.npy", "map.pgm":
            let model = dir.file("image.safetensors"), image = dir.file("image.pgm")
            let spec = Architectures.convNet(inputChannels: 1, height: 28, width: 28, channels: [4], hidden: 8, classes: 3)
            let net = try LayerRegistry.build(spec, seed: 2)
            let pixels = Tensor(uncheckedShape: [1, 1, 28, 28], scalars: (0..<784).map { Float(($0 * 29) % 256) / 255 })
            try ImageModelFile.save(net, normalizer: try ChannelNormalizer.fit(pixels), classNames: ["a", "b", "c"], to: model)
            try PNM.write(pixels, to: image)
            arguments = ["explain-image", "--model", model.path, "--image", image.path, "--method", "occlusion", "--quiet", "--out", out.path]
        case "report.html":
            // Results to rebuild the page from: the demo's, on its reduced size.
            let demo = try CLIProcess.run(["demo", "--quick", "--quiet", "--out", dir.url.path], timeout: 120)
            try #require(demo.status == 0, "\(demo)")
            arguments = ["report", "--from", dir.file("glassbox-results.json").path, "--quiet", "--out", out.path]
        default:
            arguments = ["generate", "--features", "6", "--informative", "3", "--samples", "300", "--out", out.path]
        }
        try Self.previous.write(to: out)
        let sidecar = dir.file("generated.roles.json")
        if writer.fileName == "generated.csv" { try Self.previous.write(to: sidecar) }

        let failed = try CLIProcess.run(arguments, fileSizeLimitBlocks: 1, timeout: 120)
        expectCleanError(failed, mentions: [writer.fileName, "File too large"], within: 60)
        #expect(try Data(contentsOf: out) == Self.previous, "the previous \(writer.fileName) was damaged")
        if writer.fileName == "generated.csv" { #expect(try Data(contentsOf: sidecar) == Self.previous) }
        let left = try Self.temporaries(in: dir.url)
        #expect(left.isEmpty, "temporary files left: \(left)")

        let succeeded = try CLIProcess.run(arguments, timeout: 120)
        #expect(succeeded.status == 0, "\(succeeded)")
        let written = try Data(contentsOf: out)
        #expect(written != Self.previous && written.count > 512, "the output should be larger than the 512-byte limit")
        #expect(try Self.temporaries(in: dir.url).isEmpty)
    }
}
