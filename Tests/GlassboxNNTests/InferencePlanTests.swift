import CKernels
import Foundation
import Synchronization
import Testing
@testable import GlassboxNN

/// The compiled inference path against the training path's forward (`Layer.predict`), which
/// shares no kernel with it (im2col + GEMM, separate bias/BN/activation/pool passes).
@Suite("InferencePlan")
struct InferencePlanTests {
    /// `max |a − b| ≤ 1e-5 · max |b|`: the plan may only differ by summation order and folding.
    static func expectMatches(_ a: Tensor, _ b: Tensor, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.shape == b.shape, "\(what): shape \(a.shape) vs \(b.shape)", sourceLocation: sourceLocation)
        guard a.shape == b.shape else { return }
        let scale = b.scalars.map(abs).max() ?? 0
        var worst: (index: Int, error: Float) = (0, 0)
        for i in 0..<a.count where !(abs(a.scalars[i] - b.scalars[i]) <= worst.error) {
            worst = (i, abs(a.scalars[i] - b.scalars[i]))
        }
        #expect(worst.error <= 1e-5 * scale,
                "\(what): element \(worst.index) is \(a.scalars[worst.index]), predict gives \(b.scalars[worst.index]) (scale \(scale))",
                sourceLocation: sourceLocation)
    }

    static func input(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor.normal(shape, using: &rng)
    }

    /// Gives every batch norm of `model` non-trivial statistics and affine parameters, so folding
    /// them is actually tested.
    static func randomizeNorms(_ model: any Layer, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        func visit(_ layer: any Layer) {
            if let bn = layer as? BatchNorm {
                let c = bn.numFeatures
                bn.runningMean?.value = Tensor.uniform([c], -0.5, 0.5, using: &rng)
                bn.runningVar?.value = Tensor.uniform([c], 0.5, 2, using: &rng)
                bn.weight?.value = Tensor.uniform([c], 0.5, 1.5, using: &rng)
                bn.bias?.value = Tensor.uniform([c], -0.5, 0.5, using: &rng)
            }
            for child in layer.children { visit(child.layer) }
        }
        visit(model)
    }

    /// Compiles `model` and compares it with `predict` for each batch size, twice in a row.
    static func check(_ model: any Layer, sample: [Int], batches: [Int], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let plan = try model.compiledForInference(sampleShape: sample)
        for (round, n) in (batches + batches).enumerated() {
            let x = input([n] + sample, seed: UInt64(100 + n))
            expectMatches(try plan.predict(x), try model.predict(x), "batch \(n), call \(round)", sourceLocation: sourceLocation)
        }
    }

    @Test func benchmarkCNNMatchesPredict() throws {
        let model = try LayerRegistry.build(Architectures.convNet(inputChannels: 1, height: 28, width: 28, classes: 10), seed: 1)
        try Self.check(model, sample: [1, 28, 28], batches: [1, 3, 65])
        // Conv + ReLU + pool fused, flatten folded into the dense layer's columns.
        let plan = try model.compiledForInference(sampleShape: [1, 28, 28])
        #expect(plan.steps.map(\.summary) == [
            "to channels-last",
            "conv 3×3 1→32 + ReLU + max pool 2×2 → [32, 14, 14]",
            "conv 3×3 32→64 + ReLU + max pool 2×2 → [64, 7, 7]",
            "flatten (channels-last order; the next dense layer's columns are permuted)",
            "dense 3136→128 + ReLU",
            "dense 128→10",
        ])
    }

    @Test func residualNetWithBatchNormMatchesPredict() throws {
        let model = try LayerRegistry.build(Architectures.residualNet(inputChannels: 3, channels: [8, 16], classes: 5), seed: 2)
        Self.randomizeNorms(model, seed: 3)
        try Self.check(model, sample: [3, 12, 12], batches: [1, 3, 65])
        let plan = try model.compiledForInference(sampleShape: [3, 12, 12])
        #expect(plan.steps.filter { $0.summary.contains("batch norm (folded)") }.count == 6)
    }

    @Test func mlpWithDropoutAndBatchNormMatchesPredict() throws {
        var rng = SeededGenerator(seed: 4)
        let model = Sequential([
            try Linear(inFeatures: 16, outFeatures: 40, rng: &rng), try BatchNorm1d(numFeatures: 40), ReLU(), try Dropout(p: 0.3),
            try Linear(inFeatures: 40, outFeatures: 400, rng: &rng), try LeakyReLU(negativeSlope: 0.1), try Dropout(p: 0.5),
            try Linear(inFeatures: 400, outFeatures: 3, rng: &rng),  // depth 400: blocked
        ])
        Self.randomizeNorms(model, seed: 5)
        try Self.check(model, sample: [16], batches: [1, 3, 65, 1024])
        let tabular = try LayerRegistry.build(Architectures.mlp(inputs: 16, hidden: [64, 32], outputs: 2, dropout: 0.2), seed: 6)
        try Self.check(tabular, sample: [16], batches: [1, 7, 300])
        #expect(try tabular.compiledForInference(sampleShape: [16]).steps.count == 3)
    }

    /// Strides, dilation, groups, padded and unpadded pools, channel counts that leave partial
    /// panels (40 = 32 + 8, 50 = 32 + 18), rows wider than one tile, a depth over 320 (40 × 9,
    /// blocked by taps), and every standalone elementwise layer.
    @Test func assortedConvolutionsAndLayersMatchPredict() throws {
        var rng = SeededGenerator(seed: 7)
        let model = Sequential([
            try Conv2d(inChannels: 4, outChannels: 40, kernelSize: (3, 3), stride: (2, 1), padding: (1, 1), rng: &rng),
            try LeakyReLU(negativeSlope: 0.2),
            try Conv2d(inChannels: 40, outChannels: 50, kernelSize: (3, 3), padding: (2, 2), dilation: (2, 2), rng: &rng),
            try BatchNorm2d(numFeatures: 50),
            Sigmoid(),
            try AvgPool2d(kernelSize: (3, 3), stride: (2, 2), padding: (1, 1), countIncludePad: false),
            try Conv2d(inChannels: 50, outChannels: 16, kernelSize: (1, 3), padding: (0, 1), groups: 2, bias: false, rng: &rng),
            try BatchNorm2d(numFeatures: 16),
            Tanh(),
            try MaxPool2d(kernelSize: (3, 3), stride: (2, 2), padding: (1, 1)),
            try AvgPool2d(kernelSize: (2, 2), stride: (1, 1)),
            try Conv2d(inChannels: 16, outChannels: 8, kernelSize: (2, 2), rng: &rng),
            GELU(approximate: .tanh),
            GlobalAvgPool(),
            try Linear(inFeatures: 8, outFeatures: 12, rng: &rng),
            GELU(),
            try LayerNorm(normalizedShape: [12]),
            Softmax(dim: -1),
        ])
        Self.randomizeNorms(model, seed: 8)
        try Self.check(model, sample: [4, 30, 33], batches: [1, 3, 65])
    }

    @Test func canonicalLayersAfterImagesMatchPredict() throws {
        var rng = SeededGenerator(seed: 9)
        let model = Sequential([
            try Conv2d(inChannels: 2, outChannels: 6, kernelSize: (3, 3), rng: &rng),
            try LayerNorm(normalizedShape: [6, 8]),  // needs canonical order after a channels-last conv
            Flatten(startDim: 2),                     // [6, 6·8]
            Softmax(dim: 2),
            try BatchNorm1d(numFeatures: 6),          // [N, C, L]
            Flatten(),
            try Linear(inFeatures: 288, outFeatures: 4, rng: &rng),
        ])
        Self.randomizeNorms(model, seed: 10)
        try Self.check(model, sample: [2, 8, 10], batches: [1, 5])
    }

    /// Batch norm without running statistics normalises with the statistics of the whole call,
    /// so the plan must not split the batch (130 > one chunk of 64, two workers).
    @Test func batchStatisticsSeeTheWholeBatch() throws {
        var rng = SeededGenerator(seed: 24)
        let model = Sequential([
            try Conv2d(inChannels: 2, outChannels: 4, kernelSize: (3, 3), rng: &rng),
            try BatchNorm2d(numFeatures: 4, trackRunningStats: false), ReLU(),
        ])
        try Self.check(model, sample: [2, 6, 6], batches: [3, 130])
    }

    @Test func attentionFallsBackToItsOwnPredict() throws {
        var rng = SeededGenerator(seed: 11)
        let model = Sequential([
            try MultiheadSelfAttention(embedDim: 8, numHeads: 2, rng: &rng),
            try LayerNorm(normalizedShape: [8]),
            Flatten(),
            try Linear(inFeatures: 40, outFeatures: 3, rng: &rng),
        ])
        let plan = try model.compiledForInference(sampleShape: [5, 8])
        #expect(plan.steps.first?.summary == "MultiheadSelfAttention (the layer's own predict)")
        try Self.check(model, sample: [5, 8], batches: [1, 4, 70])
    }

    @Test func resultsDoNotDependOnBatchThreadsOrChunks() throws {
        let model = try LayerRegistry.build(Architectures.convNet(inputChannels: 1, height: 28, width: 28, classes: 10), seed: 12)
        let plan = try model.compiledForInference(sampleShape: [1, 28, 28])
        let x = Self.input([67, 1, 28, 28], seed: 13)
        let whole = try plan.predict(x)
        #expect(try plan.predict(x) == whole)
        let saved = Compute.threads
        defer { Compute.threads = saved }
        Compute.threads = 1
        #expect(try plan.copy().predict(x) == whole)
        Compute.threads = saved
        for i in [0, 31, 66] {
            let one = try plan.predict(Tensor(uncheckedShape: [1, 1, 28, 28], scalars: Array(x.scalars[(i * 784)..<((i + 1) * 784)])))
            #expect(one.scalars == Array(whole.scalars[(i * 10)..<((i + 1) * 10)]), "sample \(i)")
        }
    }

    @Test func writesIntoCallerMemory() throws {
        let model = try LayerRegistry.build(Architectures.mlp(inputs: 16, hidden: [64, 32], outputs: 2), seed: 14)
        let plan = try model.compiledForInference(sampleShape: [16])
        let x = Self.input([9, 16], seed: 15)
        var out = [Float](repeating: .nan, count: 9 * 2 + 1)
        try x.scalars.withUnsafeBufferPointer { px in
            try out.withUnsafeMutableBufferPointer { try plan.predict(px.baseAddress!, batch: 9, into: $0.baseAddress!) }
        }
        #expect(Array(out[..<18]) == (try plan.predict(x)).scalars)
        #expect(out[18].isNaN, "nothing written past the output")
    }

    @Test func badShapesAreClearErrors() throws {
        let model = try LayerRegistry.build(Architectures.convNet(inputChannels: 1, height: 28, width: 28, classes: 10), seed: 16)
        let plan = try model.compiledForInference(sampleShape: [1, 28, 28])
        expectError(mentioning: ["[1, 28, 28]", "[4, 3, 28, 28]"]) { try plan.predict(Tensor.zeros([4, 3, 28, 28])) }
        expectError(mentioning: ["[1, 28, 28]", "[784]"]) { try plan.predict(Tensor.zeros([784])) }
        expectError(mentioning: ["Conv2d(1→32)", "samples [3, 28, 28]"]) { try model.compiledForInference(sampleShape: [3, 28, 28]) }
        expectError(mentioning: ["positive", "[0, 28, 28]"]) { try model.compiledForInference(sampleShape: [0, 28, 28]) }
    }

    /// The hook point: an observer masking a layer's output in place changes everything after it
    /// exactly as a forward hook on the training path does.
    @Test func observersSeeAndMaskLayerOutputs() throws {
        let model = try LayerRegistry.build(Architectures.convNet(inputChannels: 1, height: 28, width: 28, classes: 10), seed: 17)
        let n = 5
        let x = Self.input([n, 1, 28, 28], seed: 18)
        let mask = (0..<n * 28 * 28).map { Float($0 % 7) / 6 }
        let maskTensor = Tensor(uncheckedShape: [n, 1, 28, 28], scalars: mask)

        let context = ForwardContext(training: false)
        context.forwardHook = { path, output in path == "1" ? try mul(output, Variable(maskTensor)) : output }
        let expected = try model.forward(Variable(x), context: context).value

        let plan = try model.compiledForInference(sampleShape: [1, 28, 28], observing: ["1"])
        #expect(plan.steps.contains { $0.outputPaths == ["1"] && $0.summary.hasPrefix("conv 3×3 1→32 + ReLU") })
        // Observers run per chunk, possibly on two threads at once.
        let chunks = Mutex<[(Range<Int>, Tensor)]>([])
        try plan.observe("1") { activation in
            mask.withUnsafeBufferPointer { m in
                try? activation.multiply(bySpatialMask: m.baseAddress! + activation.samples.lowerBound * 28 * 28)
            }
            let seen = activation.tensor()
            chunks.withLock { $0.append((activation.samples, seen)) }
        }
        Self.expectMatches(try plan.predict(x), expected, "masked after layer 1")
        let seenChunks = chunks.withLock { $0 }
        #expect(seenChunks.map(\.0.count).reduce(0, +) == n)
        for (samples, seen) in seenChunks {
            #expect(seen.shape == [samples.count, 32, 28, 28])
            // Mask entries i % 7 == 0 are zero: the observer saw its own masking.
            for i in 0..<samples.count {
                let pixel = (7 - (samples.lowerBound + i) * 784 % 7) % 7
                #expect((0..<32).allSatisfy { seen.scalars[(i * 32 + $0) * 784 + pixel] == 0 })
            }
        }
        expectError(mentioning: ["'4'", "observing"]) { try plan.observe("4") { _ in } }
        plan.removeObservers()
        Self.expectMatches(try plan.predict(x), try model.predict(x), "observers removed")
    }

    /// An observer of an identity layer gets a copy: rewriting it must not reach the other
    /// consumers of that layer's input (here the residual's skip connection).
    @Test func observedIdentityLayerIsMaterialised() throws {
        var rng = SeededGenerator(seed: 19)
        let body = Sequential([try Dropout(p: 0.5), try Conv2d(inChannels: 2, outChannels: 2, kernelSize: (3, 3), padding: (1, 1), rng: &rng)])
        let model = Sequential([Residual(body: body, reluAfter: false)])
        let x = Self.input([3, 2, 5, 5], seed: 20)
        let context = ForwardContext(training: false)
        context.forwardHook = { path, output in path == "0.body.0" ? scale(output, 0) : output }
        let expected = try model.forward(Variable(x), context: context).value

        let plan = try model.compiledForInference(sampleShape: [2, 5, 5], observing: ["0.body.0"])
        let zeros = [Float](repeating: 0, count: x.count)
        try plan.observe("0.body.0") { activation in zeros.withUnsafeBufferPointer { activation.multiply(byMask: $0.baseAddress!) } }
        Self.expectMatches(try plan.predict(x), expected, "identity layer zeroed")
    }

    @Test func modelsWithoutASampleAxisRunWhole() throws {
        let model = Sequential([Flatten(startDim: 0)])
        let plan = try model.compiledForInference(sampleShape: [3])
        let x = Self.input([4, 3], seed: 21)
        #expect(plan.steps.isEmpty)
        #expect(try plan.predict(x) == (try model.predict(x)))
    }

    @Test func copiesAndSharedPlansAreSafeAcrossThreads() throws {
        let model = try LayerRegistry.build(Architectures.convNet(inputChannels: 1, height: 28, width: 28, classes: 10), seed: 22)
        let plan = try model.compiledForInference(sampleShape: [1, 28, 28])
        let x = Self.input([9, 1, 28, 28], seed: 23)
        let expected = try plan.predict(x)
        let copies = [plan.copy(), plan.copy(), plan, plan]
        let results = Mutex<[Tensor?]>(Array(repeating: nil, count: copies.count))
        DispatchQueue.concurrentPerform(iterations: copies.count) { i in
            let y = try? copies[i].predict(x)
            results.withLock { $0[i] = y }
        }
        for (i, y) in results.withLock({ $0 }).enumerated() { #expect(y == expected, "plan \(i)") }
    }

    /// The convolution kernel itself at every kernel path this CPU runs, against a direct
    /// double-precision sum: bit-identical across tile widths, and across the paths that fuse
    /// multiply-adds.
    @Test(arguments: [
        (taps: 9, cg: 3, og: 40, groups: 1, rows: 4, cols: 17),   // partial panel, two tiles per row
        (taps: 4, cg: 100, og: 20, groups: 2, rows: 2, cols: 5),  // depth 400 blocked by taps
        (taps: 1, cg: 700, og: 33, groups: 1, rows: 1, cols: 29), // dense, depth 700 blocked by channels
        (taps: 9, cg: 8, og: 7, groups: 3, rows: 3, cols: 13),    // grouped, panels of 7 of 16 channels
        (taps: 1, cg: 5, og: 64, groups: 1, rows: 2, cols: 40),   // two full panels
    ])
    func convKernelVariantsAgree(taps: Int, cg: Int, og: Int, groups: Int, rows: Int, cols: Int) throws {
        var rng = SeededGenerator(seed: UInt64(taps * 1000 + cg))
        let channels = cg * groups, outChannels = og * groups
        let pixels = (rows + 2) * (cols + 2)
        let input = (0..<pixels * channels).map { _ in Float.random(in: -1...1, using: &rng) }
        let weights = (0..<outChannels * taps * cg).map { _ in Float.random(in: -1...1, using: &rng) }
        let bias = (0..<outChannels).map { _ in Float.random(in: -1...1, using: &rng) }
        // Tap t = 3i + j reads pixel (i, j) of a 3 × 3 window.
        let offsets = (0..<taps).map { t in ((t / 3) * (cols + 2) + t % 3) * channels }
        let kernel = PackedKernel(matrix: weights, bias: bias, taps: taps, cg: cg, og: og, groups: groups)
        var expected = [Float](repeating: 0, count: rows * cols * outChannels)
        for r in 0..<rows {
            for q in 0..<cols {
                for o in 0..<outChannels {
                    let g = o / og
                    var s = Double(bias[o])
                    for t in 0..<taps {
                        for c in 0..<cg {
                            s += Double(input[(r * (cols + 2) + q) * channels + offsets[t] + g * cg + c])
                                * Double(weights[o * taps * cg + t * cg + c])
                        }
                    }
                    expected[(r * cols + q) * outChannels + o] = Float(Swift.max(s, 0))
                }
            }
        }
        var fused: [[Float]] = []
        try offsets.withUnsafeBufferPointer { off in
            var desc = kernel.descriptor(tapOffsets: off.baseAddress!, activation: .relu)
            for path in KernelPath.available {
                var perPath: [[Float]] = []
                for tile in [14, 6, 5, 1] {
                    var out = [Float](repeating: .nan, count: rows * cols * outChannels)
                    let ran = gb_conv_apply_variant(path.code, tile, &desc, rows, cols, input, (cols + 2) * channels, channels,
                                                    &out, cols * outChannels, outChannels)
                    try #require(ran != 0)
                    perPath.append(out)
                    let worst = zip(out, expected).map { abs($0 - $1) }.max()!
                    #expect(worst <= 1e-4, "\(path) tile \(tile): off by \(worst)")
                }
                // The tile never changes an output's operations.
                for r in perPath.dropFirst() { #expect(r == perPath[0], "\(path): tile widths differ bitwise") }
                if path.fusesMultiplyAdd { fused.append(perPath[0]) }
            }
        }
        for r in fused.dropFirst() { #expect(r == fused[0], "kernel paths differ bitwise") }
    }

    /// The whole plan at every kernel path this CPU runs (GLASSBOX_ISA's choice aside), against
    /// `predict`: convolutions with partial panels, pools, batch norms, dense heads.
    @Test(arguments: KernelPath.available)
    func everyKernelPathMatchesPredict(_ path: KernelPath) throws {
        let ran: Void? = try KernelPath.forced(path) {
            #expect(KernelPath.active == path)
            try benchmarkCNNMatchesPredict()
            try residualNetWithBatchNormMatchesPredict()
            try mlpWithDropoutAndBatchNormMatchesPredict()
            try assortedConvolutionsAndLayersMatchPredict()
        }
        #expect(ran != nil)
    }
}
