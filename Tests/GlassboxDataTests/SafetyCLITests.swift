import Foundation
import Testing
import Glassbox
#if canImport(Glibc)
import Glibc
#endif

/// Hostile and unusual command lines through the `glassbox` executable, one test per family:
/// outputs that are inputs or not regular files, signals during a save, failed writes to
/// standard output, class indexes that do not exist, models too deep to recurse over, sizes that
/// would allocate without bound, inputs that used to give wrong results silently, and errors
/// that used to be unclear. Each rejection must be one `error:` line naming the file or option,
/// the place and the problem, with a non-zero status and nothing damaged.
@Suite struct SafetyCLITests {
    static let previous = FaultCLITests.previous

    /// A small tabular model trained by the CLI on `FaultCLITests.writeTable` data.
    static func tabularModel(in dir: TemporaryDirectory) throws -> (model: URL, data: URL) {
        let data = dir.file("data.csv"), model = dir.file("model.safetensors")
        try FaultCLITests.writeTable(to: data)
        let trained = try CLIProcess.run(["train", "--data", data.path, "--target", "label", "--epochs", "1", "--quiet",
                                          "--out", model.path], timeout: 120)
        try #require(trained.status == 0, "\(trained)")
        return (model, data)
    }

    /// An 8×8 grey image model (10 classes) and an 8×8 PGM image for it.
    static func imageModel(in dir: TemporaryDirectory) throws -> (model: URL, image: URL) {
        let image = dir.file("image.pgm")
        try PNM.write(Tensor(uncheckedShape: [1, 8, 8], scalars: (0..<64).map { Float(($0 * 37) % 64) / 63 }), to: image)
        return (try MalformedInputCLITests.imageModel(), image)
    }

    // MARK: outputs

    @Test func anOutputThatIsAnInputIsRefusedAndTheInputSurvives() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let (model, data) = try Self.tabularModel(in: dir)
        let (imageModel, image) = try Self.imageModel(in: dir)
        let original = try Data(contentsOf: data), originalImage = try Data(contentsOf: image)
        // Other names for the data file: a hard link, a symbolic link, another spelling.
        let hard = dir.file("hard.csv"), soft = dir.file("soft.csv")
        try FileManager.default.linkItem(at: data, to: hard)
        try FileManager.default.createSymbolicLink(at: soft, withDestinationURL: data)
        let respelled = dir.url.path + "/./sub/../data.csv"
        try FileManager.default.createDirectory(at: dir.file("sub"), withIntermediateDirectories: true)
        let train = ["train", "--target", "label", "--epochs", "1", "--quiet"]
        let cases: [([String], [String])] = [
            (train + ["--data", data.path, "--out", data.path], ["--out", "--data", "would overwrite the input"]),
            (train + ["--data", data.path, "--out", hard.path], ["hard.csv", "--data", "would overwrite the input"]),
            (train + ["--data", soft.path, "--out", data.path], ["--data", "soft.csv", "would overwrite the input"]),
            (train + ["--data", data.path, "--out", respelled], ["--data", "would overwrite the input"]),
            (["explain", "--model", model.path, "--data", data.path, "--method", "saliency", "--out", hard.path],
             ["--data", "would overwrite the input"]),
            (["explain-image", "--model", imageModel.path, "--image", image.path, "--method", "occlusion", "--out", image.path],
             ["--image", "image.pgm", "would overwrite the input"]),
            (["train-images", "--train", image.path, "--labels", data.path, "--out", data.path], ["--labels", "would overwrite the input"]),
        ]
        for (arguments, mentions) in cases {
            let result = try CLIProcess.run(arguments, timeout: 60)
            expectCleanError(result, mentions: mentions, within: 30)
        }
        #expect(try Data(contentsOf: data) == original)
        #expect(try Data(contentsOf: image) == originalImage)

        // report --from r.html without --out would write r.html over itself.
        let page = dir.file("r.html")
        try Self.previous.write(to: page)
        let report = try CLIProcess.run(["report", "--from", page.path], timeout: 30)
        expectCleanError(report, mentions: ["the default --out", "--from", "r.html", "would overwrite the input"], within: 30)
        #expect(try Data(contentsOf: page) == Self.previous)
        #expect(try FaultCLITests.temporaries(in: dir.url).isEmpty)
    }

    @Test func onlyRegularFilesAreReplaced() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let fifo = dir.file("pipe.csv"), folder = dir.file("folder.csv")
        #expect(mkfifo(fifo.path, 0o644) == 0)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let dangling = dir.file("dangling.csv")
        try FileManager.default.createSymbolicLink(atPath: dangling.path, withDestinationPath: dir.file("missing.csv").path)
        // The guard runs before the command reads anything, so report's missing input is never reached.
        let report = ["report", "--from", dir.file("results.json").path, "--out"]
        for (target, problem) in [("/dev/null", "a character device"), (fifo.path, "a FIFO"), (folder.path, "a directory"),
                                  (dangling.path, "symbolic link to a missing file")] {
            let result = try CLIProcess.run(report + [target], timeout: 30)
            expectCleanError(result, mentions: [target, problem], within: 30)
        }
        var info = stat()
        #expect(lstat("/dev/null", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR, "/dev/null must still be the device")
        #expect(lstat(fifo.path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO)
        #expect(lstat(dangling.path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK)
        #expect(try FaultCLITests.temporaries(in: dir.url).isEmpty)
    }

    @Test func aSymbolicLinkKeepsPointingAtTheReplacedFileAndPermissionsSurvive() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let real = dir.file("real.csv"), link = dir.file("link.csv")
        try Self.previous.write(to: real)
        #expect(chmod(real.path, 0o600) == 0)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "real.csv")
        let result = try CLIProcess.run(["generate", "--features", "4", "--informative", "2", "--samples", "50",
                                         "--out", link.path, "--quiet"], timeout: 30)
        #expect(result.status == 0, "\(result)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == "real.csv", "the link was replaced")
        let written = try Data(contentsOf: real)
        #expect(written != Self.previous && String(decoding: written, as: UTF8.self).hasPrefix("x0,"))
        var info = stat()
        #expect(stat(real.path, &info) == 0 && info.st_mode & 0o777 == 0o600, "mode \(String(info.st_mode & 0o777, radix: 8))")
        #expect(try FaultCLITests.temporaries(in: dir.url).isEmpty)
    }

    /// SIGTERM, SIGHUP and SIGINT sent while the output is being written (the test waits until
    /// the temporary file exists): no temporary file is left, the previous file survives unless
    /// the command finished first, and SIGINT ends the run with status 130.
    @Test(arguments: [SIGTERM, SIGHUP, SIGINT])
    func aSignalDuringTheSaveLeavesNoTemporaryFile(_ signal: Int32) throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let out = dir.file("big.csv")
        try Self.previous.write(to: out)
        var sentDuringWrite = false
        // About 25 MB of CSV: its write and fsync take long enough to be caught in the act.
        let result = try CLIProcess.run(["generate", "--features", "40", "--informative", "5", "--samples", "60000",
                                         "--out", out.path, "--quiet"], timeout: 120) { pid in
            let start = Date()
            while Date().timeIntervalSince(start) < 100 {
                if (try? FaultCLITests.temporaries(in: dir.url))?.isEmpty == false {
                    kill(pid, signal)
                    sentDuringWrite = true
                    return
                }
                if kill(pid, 0) != 0 { return }
                usleep(500)
            }
        }
        #expect(sentDuringWrite, "the temporary file was never seen: \(result)")
        #expect(!result.timedOut, "\(result)")
        #expect(try FaultCLITests.temporaries(in: dir.url).isEmpty, "temporary file left behind: \(result)")
        let finished = result.status == 0 && !result.signal
        if !finished {
            #expect(try Data(contentsOf: out) == Self.previous, "the previous file was damaged: \(result)")
            if signal == SIGINT {
                #expect(!result.signal && result.status == 130, "\(result)")
                #expect(result.stderr.hasPrefix("error: cancelled: "), "\(result)")
            } else {
                #expect(result.signal && result.status == signal, "\(result)")
            }
        }
    }

    @Test func benchWriteModelsDoesNotOverwriteSilently() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let models = dir.file("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        try Self.previous.write(to: models.appendingPathComponent("cnn.safetensors"))
        let refused = try CLIProcess.run(["bench", "--write-models", models.path], timeout: 60)
        expectCleanError(refused, mentions: ["cnn.safetensors", "exists", "--overwrite"], within: 30)
        #expect(try Data(contentsOf: models.appendingPathComponent("cnn.safetensors")) == Self.previous)
        #expect(!FileManager.default.fileExists(atPath: models.appendingPathComponent("mlp.safetensors").path))
        let replaced = try CLIProcess.run(["bench", "--write-models", models.path, "--overwrite"], timeout: 120)
        #expect(replaced.status == 0, "\(replaced)")
        _ = try ModelFile.load(from: models.appendingPathComponent("cnn.safetensors"))
        _ = try ModelFile.load(from: models.appendingPathComponent("mlp.safetensors"))
    }

    // MARK: checked writes

    @Test func aFailedWriteToStandardOutputExitsNonZero() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let (model, data) = try Self.tabularModel(in: dir)
        let runs: [[String]] = [
            ["explain", "--model", model.path, "--data", data.path, "--method", "saliency", "--json"],
            ["explain", "--model", model.path, "--data", data.path, "--method", "saliency", "--quiet"],
            ["generate", "--features", "4", "--informative", "2", "--samples", "50", "--out", dir.file("g.csv").path, "--json"],
            ["--help"],
        ]
        for arguments in runs {
            let result = try CLIProcess.run(arguments, standardOutput: "/dev/full", timeout: 60)
            expectCleanError(result, mentions: ["cannot write to standard output", "No space left on device"], within: 30)
        }
    }

    // MARK: class indexes

    @Test func aClassThatDoesNotExistIsAnErrorAtEveryEntryPoint() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let (model, image) = try Self.imageModel(in: dir)
        for method in ["responsibility", "occlusion", "rise", "fei"] {
            for target in ["10", "-1"] {
                let result = try CLIProcess.run(["explain-image", "--model", model.path, "--image", image.path, "--method", method,
                                                 "--iterations", "2", "--target", target, "--quiet"], timeout: 60)
                expectCleanError(result, mentions: ["target", target], within: 30)
            }
        }
        let (tabular, data) = try Self.tabularModel(in: dir)
        for className in ["-1", "7", "maybe"] {
            let result = try CLIProcess.run(["explain", "--model", tabular.path, "--data", data.path, "--method", "saliency",
                                             "--class", className], timeout: 60)
            expectCleanError(result, mentions: ["--class '\(className)'", "neither a class name"], within: 30)
        }
    }

    // MARK: depth

    /// A Linear followed by 99,999 ReLUs: explained by gradients (a 100,000-node autograd graph,
    /// freed without recursion) and by Kernel SHAP (the inference plan).
    @Test func aHundredThousandLayerModelIsExplained() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let data = dir.file("data.csv"), model = dir.file("deep.safetensors")
        try FaultCLITests.writeTable(to: data, rows: 20)
        let layers = [LayerSpec(type: "Linear", attributes: ["in_features": .int(6), "out_features": .int(2)])]
            + [LayerSpec](repeating: LayerSpec(type: "ReLU"), count: 99_999)
        try ModelFile.save(try LayerRegistry.build(LayerSpec(type: "Sequential", children: layers), seed: 3), to: model,
                           metadata: [ExplainableModel.Key.classNames: #"["no","yes"]"#])
        for method in ["saliency", "kernel-shap"] {
            let result = try CLIProcess.run(["explain", "--model", model.path, "--data", data.path, "--method", method,
                                             "--rows", "2", "--background", "4", "--budget", "32", "--json"], timeout: 300)
            #expect(!result.signal && result.status == 0, "\(method): \(result)")
        }
    }

    @Test func specsNestedBeyondTheLimitAreAClearError() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        var architecture = #"{"type": "ReLU"}"#
        for _ in 0..<150 { architecture = #"{"type": "Sequential", "layers": ["# + architecture + "]}" }
        let spec = try dir.write("spec.json", #"{"architecture": "# + architecture + "}")
        let weights = dir.file("weights.safetensors")
        try SafeTensorsFile().write(to: weights)
        let result = try CLIProcess.run(["import", "--spec", spec.path, "--weights", weights.path, "--out", dir.file("m.safetensors").path],
                                        memoryLimitKB: 400 * 1024, timeout: 30)
        expectCleanError(result, mentions: ["spec.json", "nested more than 100 levels"], within: 20)
    }

    // MARK: sizes

    @Test func sizesAreBoundedBeforeAllocation() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let (model, data) = try Self.tabularModel(in: dir)
        let (imageModel, image) = try Self.imageModel(in: dir)
        let weights = dir.file("weights.safetensors")
        try SafeTensorsFile().write(to: weights)
        var runs: [([String], [String])] = []
        for size in ["4611686018427387904", "1000000000"] {
            let spec = try dir.write("linear-\(size.count).json",
                                     #"{"architecture": {"type": "Linear", "in_features": \#(size), "out_features": \#(size)}}"#)
            runs.append((["import", "--spec", spec.path, "--weights", weights.path, "--out", dir.file("m.safetensors").path],
                         ["weights.safetensors", "architecture", "parameter values but the file holds 0"]))
        }
        runs.append((["train", "--data", data.path, "--target", "label", "--hidden", "4611686018427387904", "--out", dir.file("t.safetensors").path],
                     ["--hidden", "4611686018427387904"]))
        for option in ["--repeats", "--steps", "--samples"] {
            runs.append((["explain", "--model", model.path, "--data", data.path, "--method", "permutation", option, "1000000000"],
                         [option, "1000000000"]))
        }
        runs.append((["explain-image", "--model", imageModel.path, "--image", image.path, "--method", "rise", "--iterations", "1000000000"],
                     ["--iterations", "1000000000"]))
        runs.append((["generate", "--features", "1000000000", "--informative", "2", "--samples", "1000000000", "--out", dir.file("g.csv").path],
                     ["samples × features"]))
        let labels = dir.file("labels.npy"), images = dir.file("images.npy")
        try NPY.write(Tensor(uncheckedShape: [4, 4, 4], scalars: (0..<64).map { Float($0) / 64 }), to: images)
        try NPY.write(Tensor(uncheckedShape: [4], scalars: [0, 1, 1e9, 0]), to: labels)
        runs.append((["train-images", "--train", images.path, "--labels", labels.path, "--out", dir.file("i.safetensors").path],
                     ["labels.npy", "label 2", "above the limit"]))
        for (arguments, mentions) in runs {
            let result = try CLIProcess.run(arguments, memoryLimitKB: 400 * 1024, timeout: 60)
            expectCleanError(result, mentions: mentions, within: 30)
        }
    }

    // MARK: inputs that used to give wrong results silently

    @Test func suspiciousInputsAreRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let (imageModel, _) = try Self.imageModel(in: dir)
        var runs: [([String], [String])] = []
        // A NaN pixel.
        let nanImage = dir.file("nan.npy")
        try NPY.write(Tensor(uncheckedShape: [8, 8], scalars: (0..<64).map { $0 == 9 ? .nan : 0.5 }), to: nanImage)
        runs.append((["explain-image", "--model", imageModel.path, "--image", nanImage.path], ["nan.npy", "value 9", "finite"]))
        // Fractional labels.
        let images = dir.file("images.npy"), labels = dir.file("labels.npy")
        try NPY.write(Tensor(uncheckedShape: [4, 8, 8], scalars: (0..<256).map { Float($0 % 7) / 7 }), to: images)
        try NPY.write(Tensor(uncheckedShape: [4], scalars: [0, 1, 1.5, 0]), to: labels)
        runs.append((["train-images", "--train", images.path, "--labels", labels.path, "--out", dir.file("i.safetensors").path],
                     ["labels.npy", "label 2", "not a whole number"]))
        // Duplicate feature names in an import spec.
        let spec = try dir.write("dup.json", #"{"architecture": {"type": "Linear", "in_features": 2, "out_features": 2}, "feature_names": ["a", "a"]}"#)
        var weightsFile = SafeTensorsFile()
        weightsFile.tensors = ["weight": .ones([2, 2]), "bias": .zeros([2])]
        weightsFile.order = ["weight", "bias"]
        let weights = dir.file("w.safetensors")
        try weightsFile.write(to: weights)
        runs.append((["import", "--spec", spec.path, "--weights", weights.path, "--out", dir.file("m.safetensors").path],
                     ["dup.json", "feature_names", "'a' appears twice"]))
        // More class names than outputs.
        let data = dir.file("data.csv")
        try FaultCLITests.writeTable(to: data, rows: 20)
        let model = dir.file("three-names.safetensors")
        try ModelFile.save(try LayerRegistry.build(LayerSpec(type: "Linear", attributes: ["in_features": .int(6), "out_features": .int(2)]), seed: 1),
                           to: model, metadata: [ExplainableModel.Key.classNames: #"["a","b","c"]"#])
        runs.append((["explain", "--model", model.path, "--data", data.path, "--method", "saliency"],
                     ["three-names.safetensors", "class_names", "3 class names"]))
        for (arguments, mentions) in runs {
            let result = try CLIProcess.run(arguments, memoryLimitKB: 400 * 1024, timeout: 60)
            expectCleanError(result, mentions: mentions, within: 30)
        }
    }

    // MARK: clear errors

    @Test func unclearErrorsNameTheFilePlaceAndProblem() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let (imageModel, _) = try Self.imageModel(in: dir)
        var runs: [([String], [String])] = []
        // An image of the wrong size (a colour image for a grey model is converted: PhotoCLITests).
        let big = dir.file("big.pgm")
        try PNM.write(Tensor(repeating: 0.5, shape: [1, 12, 12]), to: big)
        runs.append((["explain-image", "--model", imageModel.path, "--image", big.path], ["big.pgm", "[1, 12, 12]", "does not fit the model"]))
        // An image model given to `explain`.
        let data = dir.file("data.csv")
        try FaultCLITests.writeTable(to: data, rows: 30)
        runs.append((["explain", "--model", imageModel.path, "--data", data.path, "--method", "saliency"],
                     ["image model", "explain-image"]))
        // Two data rows.
        let tiny = try dir.write("tiny.csv", "a,b,label\n1,2,x\n3,4,y\n")
        runs.append((["train", "--data", tiny.path, "--target", "label", "--out", dir.file("t.safetensors").path],
                     ["tiny.csv", "2 data rows are too few"]))
        // 2×2 images.
        let small = dir.file("small.npy"), smallLabels = dir.file("small-labels.npy")
        try NPY.write(Tensor(uncheckedShape: [20, 2, 2], scalars: (0..<80).map { Float($0 % 5) / 5 }), to: small)
        try NPY.write(Tensor(uncheckedShape: [20], scalars: (0..<20).map { Float($0 % 2) }), to: smallLabels)
        runs.append((["train-images", "--train", small.path, "--labels", smallLabels.path, "--out", dir.file("s.safetensors").path],
                     ["small.npy", "[1, 2, 2]", "too small"]))
        // A ';'-separated CSV with decimal commas.
        let semicolons = try dir.write("semi.csv", "a;b;label\n1,5;2,0;x\n3,1;4,2;y\n")
        runs.append((["train", "--data", semicolons.path, "--target", "label", "--out", dir.file("t.safetensors").path],
                     ["semi.csv", "row 2", "';'"]))
        // A spec whose field has the wrong type: no decoding dump.
        let spec = try dir.write("typed.json", #"{"architecture": {"type": "ReLU"}, "input_shape": "six"}"#)
        let weights = dir.file("w.safetensors")
        try SafeTensorsFile().write(to: weights)
        runs.append((["import", "--spec", spec.path, "--weights", weights.path, "--out", dir.file("m.safetensors").path],
                     ["typed.json", "input_shape"]))
        for (arguments, mentions) in runs {
            let result = try CLIProcess.run(arguments, memoryLimitKB: 400 * 1024, timeout: 60)
            expectCleanError(result, mentions: mentions, within: 30)
            #expect(!result.stderr.contains("DecodingError") && !result.stderr.contains("NSCocoaErrorDomain"), "\(result)")
        }
    }

    /// `--prefix model`, as the help suggests, strips `model.` from every tensor name.
    @Test func importPrefixWithoutItsDot() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let spec = try dir.write("spec.json", #"{"architecture": {"type": "Sequential", "layers": [{"type": "Linear", "in_features": 2, "out_features": 2}]}}"#)
        var file = SafeTensorsFile()
        file.tensors = ["model.0.weight": .ones([2, 2]), "model.0.bias": .zeros([2])]
        file.order = ["model.0.weight", "model.0.bias"]
        let weights = dir.file("w.safetensors")
        try file.write(to: weights)
        for prefix in ["model", "model."] {
            let result = try CLIProcess.run(["import", "--spec", spec.path, "--weights", weights.path, "--prefix", prefix,
                                             "--out", dir.file("m.safetensors").path, "--quiet"], timeout: 30)
            #expect(result.status == 0, "--prefix \(prefix): \(result)")
        }
    }
}
