import Testing
@testable import GlassboxNN

@Suite("Batch and layer normalisation")
struct NormTests {
    @Test(arguments: [[6, 3], [3, 2, 4], [2, 3, 3, 2]], [true, false])
    func batchNormTrainingGradients(_ shape: [Int], affine: Bool) throws {
        let c = shape[1]
        let inputs = [randomTensor(shape, seed: 1, lo: -2, hi: 3)]
            + (affine ? [randomTensor([c], seed: 2, lo: 0.5, hi: 1.5), randomTensor([c], seed: 3)] : [])
        let bad = try GradientCheck.mismatches(inputs: inputs) {
            try batchNorm($0[0], gamma: affine ? $0[1] : nil, beta: affine ? $0[2] : nil,
                          runningMean: nil, runningVar: nil, training: true)
        }
        #expect(bad.count == 0, "\(bad.prefix(3))")
    }

    @Test func batchNormInferenceGradients() throws {
        let mean = Variable(randomTensor([3], seed: 4)), variance = Variable(randomTensor([3], seed: 5, lo: 0.5, hi: 2))
        let inputs = [randomTensor([2, 3, 2, 2], seed: 6), randomTensor([3], seed: 7), randomTensor([3], seed: 8)]
        let bad = try GradientCheck.mismatches(inputs: inputs) {
            try batchNorm($0[0], gamma: $0[1], beta: $0[2], runningMean: mean, runningVar: variance, training: false)
        }
        #expect(bad.count == 0, "\(bad.prefix(3))")
    }

    @Test(arguments: ["bn2d", "bn1d", "bn1d_3d"])
    func batchNormMatchesPyTorch(_ name: String) throws {
        let g = try #require(try Golden.load("conv")[name])
        let momentum = Float(g.attr("momentum")!), eps = Float(g.attr("eps")!)
        let gamma = Variable(try g.tensor("gamma"), requiresGrad: true)
        let beta = Variable(try g.tensor("beta"), requiresGrad: true)
        let mean = Variable(try g.tensor("running_mean")), variance = Variable(try g.tensor("running_var"))
        // One training step: batch statistics, full backward, running statistics updated.
        let x = Variable(try g.tensor("x"), requiresGrad: true)
        let y = try batchNorm(x, gamma: gamma, beta: beta, runningMean: mean, runningVar: variance,
                              training: true, momentum: momentum, eps: eps)
        Golden.expectClose(y.value, try g.tensor("y"), "\(name) y")
        try y.backward(try g.tensor("grad_y"))
        Golden.expectClose(x.grad!, try g.tensor("grad_x"), atol: 1e-5, rtol: 1e-3, "\(name) grad_x")
        Golden.expectClose(gamma.grad!, try g.tensor("grad_gamma"), atol: 1e-4, "\(name) grad_gamma")
        Golden.expectClose(beta.grad!, try g.tensor("grad_beta"), atol: 1e-4, "\(name) grad_beta")
        Golden.expectClose(mean.value, try g.tensor("running_mean_after"), "\(name) running_mean")
        Golden.expectClose(variance.value, try g.tensor("running_var_after"), "\(name) running_var")
        // Inference with the updated statistics.
        gamma.zeroGrad(); beta.zeroGrad()
        let x2 = Variable(try g.tensor("x_eval"), requiresGrad: true)
        let y2 = try batchNorm(x2, gamma: gamma, beta: beta, runningMean: mean, runningVar: variance,
                               training: false, momentum: momentum, eps: eps)
        Golden.expectClose(y2.value, try g.tensor("y_eval"), "\(name) y_eval")
        try y2.backward(try g.tensor("grad_y_eval"))
        Golden.expectClose(x2.grad!, try g.tensor("grad_x_eval"), "\(name) grad_x_eval")
        Golden.expectClose(gamma.grad!, try g.tensor("grad_gamma_eval"), atol: 1e-4, "\(name) grad_gamma_eval")
        Golden.expectClose(beta.grad!, try g.tensor("grad_beta_eval"), atol: 1e-4, "\(name) grad_beta_eval")
        Golden.expectClose(mean.value, try g.tensor("running_mean_after"), "\(name) inference leaves statistics")
    }

    /// The layer: a training step through a model, then `predict` (inference) with running stats.
    @Test func batchNormLayerTrainsThenPredictsWithRunningStatistics() throws {
        let g = try #require(try Golden.load("conv")["bn2d"])
        let bn = try BatchNorm2d(numFeatures: 3, eps: 1e-5, momentum: 0.1)
        bn.weight!.value = try g.tensor("gamma")
        bn.bias!.value = try g.tensor("beta")
        bn.runningMean!.value = try g.tensor("running_mean")
        bn.runningVar!.value = try g.tensor("running_var")
        let model = Sequential([bn])
        let y = try model.forward(Variable(try g.tensor("x")), context: ForwardContext(training: true))
        Golden.expectClose(y.value, try g.tensor("y"), "training output")
        try y.backward(try g.tensor("grad_y"))
        Golden.expectClose(bn.weight!.grad!, try g.tensor("grad_gamma"), atol: 1e-4, "weight grad")
        #expect(bn.numBatchesTracked!.value.scalar == 1)
        Golden.expectClose(try model.predict(try g.tensor("x_eval")), try g.tensor("y_eval"), "predict")
        #expect(bn.numBatchesTracked!.value.scalar == 1)
        #expect(model.namedTensors().map(\.name) == ["0.weight", "0.bias", "0.running_mean", "0.running_var",
                                                     "0.num_batches_tracked"])
    }

    @Test func batchNormWithoutRunningStatisticsAlwaysUsesTheBatch() throws {
        let bn = try BatchNorm1d(numFeatures: 2, affine: false, trackRunningStats: false)
        #expect(bn.parameters.isEmpty && bn.buffers.isEmpty)
        let y = try bn.predict(try Tensor(rows: [[1, 10], [3, 30]]))
        #expect(y.scalars.map { ($0 * 1000).rounded() } == [-1000, -1000, 1000, 1000])
    }

    @Test(arguments: [([3, 5], [5]), ([2, 3, 4], [3, 4]), ([2, 2, 3], [3])], [true, false])
    func layerNormGradients(_ shapes: ([Int], [Int]), affine: Bool) throws {
        let inputs = [randomTensor(shapes.0, seed: 9, lo: -2, hi: 2)]
            + (affine ? [randomTensor(shapes.1, seed: 10, lo: 0.5, hi: 1.5), randomTensor(shapes.1, seed: 11)] : [])
        let bad = try GradientCheck.mismatches(inputs: inputs) {
            try layerNorm($0[0], normalizedShape: shapes.1, gamma: affine ? $0[1] : nil, beta: affine ? $0[2] : nil)
        }
        #expect(bad.count == 0, "\(bad.prefix(3))")
    }

    @Test(arguments: ["ln_last", "ln_two_axes"])
    func layerNormMatchesPyTorch(_ name: String) throws {
        let g = try #require(try Golden.load("conv")[name])
        let x = Variable(try g.tensor("x"), requiresGrad: true)
        let gamma = Variable(try g.tensor("gamma"), requiresGrad: true)
        let beta = Variable(try g.tensor("beta"), requiresGrad: true)
        let y = try layerNorm(x, normalizedShape: gamma.shape, gamma: gamma, beta: beta, eps: Float(g.attr("eps")!))
        Golden.expectClose(y.value, try g.tensor("y"), "\(name) y")
        try y.backward(try g.tensor("grad_y"))
        Golden.expectClose(x.grad!, try g.tensor("grad_x"), atol: 1e-5, rtol: 1e-3, "\(name) grad_x")
        Golden.expectClose(gamma.grad!, try g.tensor("grad_gamma"), atol: 1e-4, "\(name) grad_gamma")
        Golden.expectClose(beta.grad!, try g.tensor("grad_beta"), atol: 1e-4, "\(name) grad_beta")
    }

    @Test func errorsNameTheShapes() throws {
        func message(_ body: () throws -> Variable) -> String {
            do { _ = try body(); return "" } catch { return "\(error)" }
        }
        let x = Variable(Tensor.zeros([4, 3, 2, 2]))
        let three = Variable(Tensor.ones([3])), two = Variable(Tensor.ones([2]))
        #expect(message { try batchNorm(x, gamma: two, beta: nil, runningMean: nil, runningVar: nil, training: true) }
            .contains("gamma [2]"))
        #expect(message { try batchNorm(Variable(Tensor.zeros([1, 3])), gamma: nil, beta: nil, runningMean: nil,
                                         runningVar: nil, training: true) }.contains("more than one value per channel"))
        #expect(message { try batchNorm(x, gamma: nil, beta: nil, runningMean: nil, runningVar: nil, training: false) }
            .contains("running statistics"))
        #expect(message { try batchNorm(x, gamma: nil, beta: nil, runningMean: three, runningVar: nil, training: true) }
            .contains("or neither"))
        #expect(message { try batchNorm(Variable(Tensor.zeros([0, 3])), gamma: nil, beta: nil, runningMean: nil,
                                         runningVar: nil, training: true) }.contains("empty batch"))
        #expect(message { try BatchNorm2d(numFeatures: 3).forward(Variable(Tensor.zeros([4, 3])), context: ForwardContext(training: true)) }
            .contains("[N, 3, H, W]"))
        #expect(message { try layerNorm(x, normalizedShape: [3]) }.contains("[4, 3, 2, 2]"))
        #expect(message { try layerNorm(x, normalizedShape: [2], gamma: three) }.contains("gamma [3]"))
    }
}
