import Foundation
import Testing
import Glassbox
#if canImport(Glibc)
import Glibc
#endif

/// The output guard, AtomicFile's rules for what it replaces, and the image/label readers that
/// used to accept wrong data silently.
@Suite struct SafetyLibraryTests {
    @Test func theOutputGuardComparesFilesNotSpellings() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let input = try dir.write("in.csv", "a\n"), other = try dir.write("other.csv", "b\n")
        let hard = dir.file("hard.csv"), soft = dir.file("soft.csv")
        try FileManager.default.linkItem(at: input, to: hard)
        try FileManager.default.createSymbolicLink(at: soft, withDestinationURL: input)
        for output in [input.path, hard.path, soft.path, dir.url.path + "/./in.csv"] {
            #expect(throws: GlassboxError.self, "\(output)") { try OutputGuard.check(output: output, inputs: [("--data", input.path)]) }
        }
        try OutputGuard.check(output: other.path, inputs: [("--data", input.path), ("--absent", nil)])
        try OutputGuard.check(output: dir.file("new.csv").path, inputs: [("--data", input.path)])
        try OutputGuard.check(output: nil, inputs: [("--data", input.path)])
        #expect(throws: GlassboxError.self) { try OutputGuard.check(outputs: [("--a", other.path), ("--b", other.path)], inputs: []) }
    }

    @Test func atomicFileReplacesOnlyRegularFiles() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let file = try dir.write("f.txt", "old")
        #expect(chmod(file.path, 0o640) == 0)
        try AtomicFile.write(Data("new".utf8), to: file)
        var info = stat()
        #expect(stat(file.path, &info) == 0 && info.st_mode & 0o777 == 0o640)
        #expect(try String(contentsOf: file, encoding: .utf8) == "new")

        let link = dir.file("link.txt")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "f.txt")
        try AtomicFile.write(Data("through the link".utf8), to: link)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == "f.txt")
        #expect(try String(contentsOf: file, encoding: .utf8) == "through the link")
        #expect(try AtomicFile.destination(of: link.path).path == file.resolvingSymlinksInPath().path)

        #expect(mkfifo(dir.file("fifo").path, 0o600) == 0)
        for (path, kind) in [("/dev/null", "a character device"), (dir.file("fifo").path, "a FIFO"), (dir.url.path, "a directory")] {
            #expect { try AtomicFile.write(Data("x".utf8), to: URL(fileURLWithPath: path)) } throws: { error in
                "\(error)".contains(kind) && "\(error)".contains("not a regular file")
            }
        }
        #expect(try FaultCLITests.temporaries(in: dir.url).isEmpty)
    }

    /// uint8 NPY images are scaled by 1/255 like PGM pixels (golden: the same pixels read from a
    /// PGM); float images are kept; NaN pixels and unscaled integer dtypes are refused.
    @Test func npyImagesAreScaledOrRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        /// An NPY v1 file of `descr` and shape (3, 3) holding `body`.
        func npy(_ descr: String, _ body: [UInt8]) -> Data {
            var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (3, 3), }"
            while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
            header += "\n"
            return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
                + Data(header.utf8) + Data(body)
        }
        let pixels: [UInt8] = [0, 1, 17, 128, 200, 254, 255, 3, 99]
        let u8 = dir.file("u8.npy"), pgm = dir.file("same.pgm")
        try npy("|u1", pixels).write(to: u8)
        try Data("P5\n3 3\n255\n".utf8 + pixels).write(to: pgm)
        let fromNPY = try NPY.readImages(from: u8), fromPGM = try PNM.read(from: pgm)
        #expect(fromNPY.scalars == fromPGM.scalars)
        #expect(fromNPY.scalars[6] == 1 && fromNPY.scalars[0] == 0)

        let floats = dir.file("f.npy")
        try NPY.write(Tensor(uncheckedShape: [2], scalars: [0.25, 0.75]), to: floats)
        #expect(try NPY.readImages(from: floats).scalars == [0.25, 0.75])
        try NPY.write(Tensor(uncheckedShape: [2], scalars: [0.25, .infinity]), to: floats)
        expectBadFile(path: "f.npy", location: "value 1", problem: "finite") { _ = try NPY.readImages(from: floats) }
        try npy("<i2", pixels + pixels).write(to: u8)
        expectBadFile(path: "u8.npy", problem: "no known scale") { _ = try NPY.readImages(from: u8) }
    }

    @Test func npyLabelsMustBeWholeAndBounded() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let url = dir.file("labels.npy")
        try NPY.write(Tensor(uncheckedShape: [4], scalars: [0, 2, 1, 2]), to: url)
        #expect(try NPY.readLabels(from: url) == [0, 2, 1, 2])
        try NPY.write(Tensor(uncheckedShape: [4, 1], scalars: [0, 2, 1, 2]), to: url)
        #expect(try NPY.readLabels(from: url) == [0, 2, 1, 2])
        for (values, index, problem) in [([0, 0.5], 1, "not a whole number"), ([-1, 0], 0, "negative"),
                                         ([0, 70_000], 1, "above the limit"), ([.nan, 0], 0, "not a whole number")] as [([Float], Int, String)] {
            try NPY.write(Tensor(uncheckedShape: [2], scalars: values), to: url)
            expectBadFile(path: "labels.npy", location: "label \(index)", problem: problem) { _ = try NPY.readLabels(from: url) }
        }
        try NPY.write(Tensor(uncheckedShape: [2, 2], scalars: [0, 1, 1, 0]), to: url)
        #expect(throws: GlassboxError.self) { _ = try NPY.readLabels(from: url) }
    }

    /// Every public image explainer and metric refuses a class the model does not have (an
    /// out-of-range class read other rows' memory: SIGILL in release builds).
    @Test func everyImageEntryPointChecksTheTarget() throws {
        let model = try LayerRegistry.build(Architectures.convNet(inputChannels: 1, height: 8, width: 8, channels: [2], hidden: 4,
                                                                  classes: 3), seed: 1)
        let classifier = MaskedClassifier(model: model)
        let x = Tensor(repeating: 0.5, shape: [1, 1, 8, 8]), mask = Tensor.ones([1, 1, 8, 8]), map = Tensor.zeros([8, 8])
        for bad in [3, -1] {
            #expect(throws: GlassboxError.self) { _ = try Occlusion.explain(classifier, image: x, target: bad) }
            #expect(throws: GlassboxError.self) { _ = try RISE.explain(classifier, image: x, target: bad, masks: 4) }
            #expect(throws: GlassboxError.self) {
                _ = try CausalResponsibility.explain(classifier, image: x, target: bad, options: .init(iterations: 1, seed: 0))
            }
            #expect(throws: GlassboxError.self) {
                _ = try SufficientExplanation.extract(classifier, image: x, attribution: map, target: bad, removal: .constant(0))
            }
            #expect(throws: GlassboxError.self) {
                _ = try ExplanationMetrics.confidenceDropOff(classifier, image: x, mask: mask, target: bad, removal: .constant(0))
            }
            #expect(throws: GlassboxError.self) {
                _ = try ExplanationMetrics.robustness(classifier, image: x, mask: mask, target: bad, contexts: [.constant(0)])
            }
            #expect(throws: GlassboxError.self) {
                _ = try ExplanationMetrics.curve(.deletion, model: model, image: x, attribution: map, target: bad, step: 16)
            }
        }
        // The valid classes still work at every entry point.
        #expect(try Occlusion.explain(classifier, image: x, target: 2).target == 2)
        #expect(try RISE.explain(classifier, image: x, target: 2, masks: 4).target == 2)
        #expect(try CausalResponsibility.explain(classifier, image: x, target: 2, options: .init(iterations: 1, seed: 0)).target == 2)
        #expect(try SufficientExplanation.extract(classifier, image: x, attribution: map, target: 2, removal: .constant(0)).target == 2)
        _ = try ExplanationMetrics.confidenceDropOff(classifier, image: x, mask: mask, target: 2, removal: .constant(0))
        _ = try ExplanationMetrics.robustness(classifier, image: x, mask: mask, target: 2, contexts: [.constant(0)])
        _ = try ExplanationMetrics.curve(.deletion, model: model, image: x, attribution: map, target: 2, step: 16)
        #expect(try classifier.classCount(imageShape: [1, 8, 8]) == 3)
    }
}
