import Foundation

/// The workloads behind `glassbox bench`: each returns a throughput, the median of `repeats`
/// timed runs after a warm-up. The reference figures (NumPy, PyTorch) come from the scripts in
/// `benchmarks/`, run in the same session by `benchmarks/run.sh`.
public enum Benchmarks {
    /// Median of `repeats` measurements of `body`, which returns a rate; one untimed warm-up first.
    static func median(repeats: Int, _ body: () throws -> Double) rethrows -> Double {
        _ = try body()
        var rates: [Double] = []
        for _ in 0..<max(1, repeats) { rates.append(try body()) }
        rates.sort()
        return rates.count % 2 == 1 ? rates[rates.count / 2] : (rates[rates.count / 2 - 1] + rates[rates.count / 2]) / 2
    }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Single-precision GEMM throughput in GFLOP/s for square `n × n` matrices.
    public static func gemmGFLOPs(n: Int, repeats: Int) -> Double {
        var rng = SeededGenerator(seed: 1)
        let a = Tensor.uniform([n, n], -1, 1, using: &rng), b = Tensor.uniform([n, n], -1, 1, using: &rng)
        var c = [Float](repeating: 0, count: n * n)
        // Enough calls per measurement that each takes ≳ 50 ms.
        let calls = max(1, Int(4e9 / Double(2 * n * n * n)))
        return median(repeats: repeats) {
            let t = seconds {
                a.scalars.withUnsafeBufferPointer { pa in
                    b.scalars.withUnsafeBufferPointer { pb in
                        c.withUnsafeMutableBufferPointer { pc in
                            for _ in 0..<calls {
                                GEMM.sgemm(transA: false, transB: false, m: n, n: n, k: n, alpha: 1,
                                           a: pa.baseAddress!, lda: n, b: pb.baseAddress!, ldb: n,
                                           beta: 0, c: pc.baseAddress!, ldc: n)
                            }
                        }
                    }
                }
            }
            return Double(calls) * 2 * Double(n * n * n) / t / 1e9
        }
    }
}

extension Benchmarks {
    /// Training throughput (rows/s) of the 16→64→32→2 MLP: batch 64, Adam, 3,750 rows × 20 epochs
    /// through ``Trainer/fit(model:inputs:labels:validation:config:loss:observer:)`` — shuffling,
    /// batching, forward, backward and optimiser step all included.
    public static func mlpTrainingRowsPerSecond(repeats: Int, rows: Int = 3_750, epochs: Int = 20) throws -> Double {
        var rng = SeededGenerator(seed: 3)
        let x = Tensor.normal([rows, 16], using: &rng)
        let y = (0..<rows).map { x.scalars[$0 * 16] + x.scalars[$0 * 16 + 1] > 0 ? 1 : 0 }
        return try median(repeats: repeats) {
            let model = try LayerRegistry.build(Architectures.mlp(inputs: 16, hidden: [64, 32], outputs: 2), seed: 1)
            let config = TrainingConfig(epochs: epochs, batchSize: 64, seed: 1, optimizer: .adam(learningRate: 1e-3))
            let t = try seconds { _ = try Trainer.fit(model: model, inputs: x, labels: y, config: config) }
            return Double(rows * epochs) / t
        }
    }

    /// The benchmark CNN for 1×28×28 inputs and 10 classes.
    public static func benchmarkCNN(seed: UInt64 = 1) throws -> any Layer {
        try LayerRegistry.build(Architectures.convNet(inputChannels: 1, height: 28, width: 28, classes: 10), seed: seed)
    }

    /// Training throughput (images/s) of the benchmark CNN: repeated Adam steps on one batch of 64.
    public static func cnnTrainingImagesPerSecond(repeats: Int, steps: Int = 30) throws -> Double {
        var rng = SeededGenerator(seed: 4)
        let x = Tensor.normal([64, 1, 28, 28], using: &rng)
        let y = (0..<64).map { $0 % 10 }
        let model = try benchmarkCNN()
        let optimizer = try Adam(model.allParameters, learningRate: 1e-3)
        return try median(repeats: repeats) {
            let t = try seconds {
                for step in 0..<steps {
                    optimizer.zeroGrad()
                    let context = ForwardContext(training: true, seed: UInt64(step))
                    let loss = try crossEntropy(try model.forward(Variable(x), context: context), labels: y)
                    try loss.backward()
                    try optimizer.step()
                }
            }
            return Double(64 * steps) / t
        }
    }

    /// Inference throughput (images/s) of the benchmark CNN at a batch size.
    public static func cnnInferenceImagesPerSecond(batch: Int, repeats: Int, images: Int = 4_096) throws -> Double {
        var rng = SeededGenerator(seed: 5)
        let x = Tensor.normal([batch, 1, 28, 28], using: &rng)
        let model = try benchmarkCNN()
        let calls = max(1, images / batch)
        return try median(repeats: repeats) {
            let t = try seconds { for _ in 0..<calls { _ = try model.predict(x) } }
            return Double(calls * batch) / t
        }
    }
}

extension Benchmarks {
    /// Inference throughput (images/s) of the benchmark CNN through its ``InferencePlan`` at a
    /// batch size, writing into a reused output buffer (the plan's allocation-free entry).
    public static func cnnInferencePlanImagesPerSecond(batch: Int, repeats: Int, images: Int = 4_096) throws -> Double {
        var rng = SeededGenerator(seed: 5)
        let x = Tensor.normal([batch, 1, 28, 28], using: &rng)
        let plan = try benchmarkCNN().compiledForInference(sampleShape: [1, 28, 28])
        return try median(repeats: repeats) { try planRate(plan, x, calls: max(1, images / batch)) }
    }

    /// The 16→64→32→2 MLP of the tabular benchmarks.
    public static func benchmarkMLP(seed: UInt64 = 1) throws -> any Layer {
        try LayerRegistry.build(Architectures.mlp(inputs: 16, hidden: [64, 32], outputs: 2), seed: seed)
    }

    /// Inference throughput (rows/s) of the benchmark MLP through its ``InferencePlan`` at a
    /// batch size (Kernel SHAP's workload: many batches of a small model).
    public static func mlpInferenceRowsPerSecond(batch: Int, repeats: Int, rows: Int = 1 << 18) throws -> Double {
        var rng = SeededGenerator(seed: 6)
        let x = Tensor.normal([batch, 16], using: &rng)
        let plan = try benchmarkMLP().compiledForInference(sampleShape: [16])
        return try median(repeats: repeats) { try planRate(plan, x, calls: max(1, rows / batch)) }
    }

    /// Wall time of one call of the benchmark MLP's plan on a batch of `batch` rows, in
    /// microseconds (median of `repeats` runs of 20,000 calls): the per-call overhead.
    public static func mlpInferenceMicrosecondsPerCall(batch: Int, repeats: Int, calls: Int = 20_000) throws -> Double {
        var rng = SeededGenerator(seed: 7)
        let x = Tensor.normal([batch, 16], using: &rng)
        let plan = try benchmarkMLP().compiledForInference(sampleShape: [16])
        return try 1e6 / median(repeats: repeats) { try planRate(plan, x, calls: calls) / Double(batch) }
    }

    /// Samples per second of `calls` back-to-back plan calls on `x` into one reused buffer.
    static func planRate(_ plan: InferencePlan, _ x: Tensor, calls: Int) throws -> Double {
        let n = x.shape[0]
        var out = [Float](repeating: 0, count: n * plan.outputCount)
        let t = try x.scalars.withUnsafeBufferPointer { px in
            try out.withUnsafeMutableBufferPointer { po in
                try seconds { for _ in 0..<calls { try plan.predict(px.baseAddress!, batch: n, into: po.baseAddress!) } }
            }
        }
        return Double(calls * n) / t
    }

    /// Writes the benchmark CNN and MLP (the weights every figure above uses) as
    /// `cnn.safetensors` and `mlp.safetensors` in `directory`, for `benchmarks/onnx_reference.py`.
    /// Existing files of those names are replaced only with `replace` (otherwise the error names
    /// them and nothing is written).
    public static func writeModels(to directory: URL, replace: Bool = false) throws {
        let files = [directory.appendingPathComponent("cnn.safetensors"), directory.appendingPathComponent("mlp.safetensors")]
        for file in files {
            _ = try AtomicFile.destination(of: file.path)
            if !replace, FileManager.default.fileExists(atPath: file.path) {
                throw GlassboxError.invalidArgument("\(file.path) exists; pass --overwrite to replace it, or choose another directory")
            }
        }
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw GlassboxError.io("cannot create the directory \(directory.path): \((error as NSError).localizedDescription)")
        }
        try ModelFile.save(try benchmarkCNN(), to: files[0])
        try ModelFile.save(try benchmarkMLP(), to: files[1])
    }
}

extension Benchmarks {
    /// Masked (ConvAD) forward pass against the plain one, on the benchmark CNN and a batch of
    /// `batch` images each with its own random keep-mask (a random rectangle kept, as ReX's
    /// mutants have): images/s of the plain plan, of strict ConvAD and of checkpoint ConvAD,
    /// measured interleaved (plain, strict, checkpoint per repeat) so load drifts hit all three.
    public static func convADImagesPerSecond(batch: Int, repeats: Int, images: Int = 4_096) throws
        -> (plain: Double, strict: Double, checkpoint: Double) {
        var rng = SeededGenerator(seed: 8)
        let x = Tensor.normal([batch, 1, 28, 28], using: &rng)
        var masks = [Float](repeating: 0, count: batch * 784)
        for i in 0..<batch {
            let y0 = rng.int(below: 14), x0 = rng.int(below: 14)
            let y1 = y0 + 8 + rng.int(below: 28 - y0 - 7), x1 = x0 + 8 + rng.int(below: 28 - x0 - 7)
            for y in y0..<min(28, y1) { for xx in x0..<min(28, x1) { masks[i * 784 + y * 28 + xx] = 1 } }
        }
        let model = try benchmarkCNN()
        let plan = try model.compiledForInference(sampleShape: [1, 28, 28])
        let strict = try ActivationDeactivationPlan(model: model, variant: .strict, sampleShape: [1, 28, 28])
        let checkpoint = try ActivationDeactivationPlan(model: model, variant: .checkpoint, sampleShape: [1, 28, 28])
        let calls = max(1, images / batch)
        var out = [Float](repeating: 0, count: batch * plan.outputCount)
        func masked(_ ad: ActivationDeactivationPlan) throws -> Double {
            try x.scalars.withUnsafeBufferPointer { px in
                try masks.withUnsafeBufferPointer { pm in
                    try out.withUnsafeMutableBufferPointer { po in
                        let t = try seconds {
                            for _ in 0..<calls {
                                try ad.logits(images: px.baseAddress!, masks: pm.baseAddress!, batch: batch, into: po.baseAddress!)
                            }
                        }
                        return Double(calls * batch) / t
                    }
                }
            }
        }
        var rates: [[Double]] = [[], [], []]
        for r in 0...max(1, repeats) {
            let p = try planRate(plan, x, calls: calls), s = try masked(strict), c = try masked(checkpoint)
            if r > 0 { rates[0].append(p); rates[1].append(s); rates[2].append(c) }   // round 0 warms up
        }
        func med(_ v: [Double]) -> Double {
            let s = v.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        return (med(rates[0]), med(rates[1]), med(rates[2]))
    }

    /// A trained plain conv net for the ReX benchmark: the `glassbox train-images --model cnn`
    /// architecture for 28×28 (conv 32, conv 64, dense 128) trained for `epochs` on the bundled
    /// Fashion-MNIST sample (6,000 images; Adam 2e-3, batch 32, seed 1), and normalised test images.
    public static func rexBenchmarkModel(epochs: Int = 1) throws -> (model: any Layer, images: Tensor, accuracy: Float) {
        let (train, test) = try BundledData.fashionMNISTSample()
        let spec = Architectures.convNet(inputChannels: 1, height: 28, width: 28, channels: [32, 64], hidden: 128,
                                         classes: train.numClasses)
        let config = TrainingConfig(epochs: epochs, batchSize: 32, seed: 1, optimizer: .adam(learningRate: 2e-3))
        let trained = try ImageClassifier.train(spec: spec, train: train, validation: nil, test: test, config: config)
        return (trained.model, try trained.normalizer.transform(test.images), trained.testAccuracy)
    }

    /// ReX on a trained plain conv net: wall seconds per responsibility map with the defaults
    /// (20 iterations, tree depth 10, masking value 0) — the median over `maps` test images —
    /// and mutant evaluations per second over all of them.
    public static func rexMapSeconds(model: any Layer, images: Tensor, maps: Int = 8,
                                     removal: Removal = .constant(0)) throws -> (seconds: Double, mutantsPerSecond: Double) {
        let classifier = MaskedClassifier(model: model)
        let plane = images.count / images.shape[0]
        func image(_ i: Int) -> Tensor {
            Tensor(uncheckedShape: [1] + Array(images.shape.dropFirst()), scalars: Array(images.scalars[i * plane..<(i + 1) * plane]))
        }
        _ = try CausalResponsibility.explain(classifier, image: image(0), options: .init(removal: removal))  // compiles the plans
        var times: [Double] = [], evaluations = 0
        for i in 0..<maps {
            let map = try CausalResponsibility.explain(classifier, image: image(i), options: .init(removal: removal, seed: UInt64(i)))
            times.append(map.seconds)
            evaluations += map.evaluations
        }
        times.sort()
        let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        return (median, Double(evaluations) / times.reduce(0, +))
    }
}
