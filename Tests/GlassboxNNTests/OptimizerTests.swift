import Foundation
import Testing
@testable import GlassboxNN

@Suite("Optimizers, learning-rate schedules and gradient clipping")
struct OptimizerTests {
    /// The optimiser a golden case names (`sgd_…`, `adam_…`, `adamw_…`) with its attributes.
    static func optimizer(for golden: GoldenCase, _ parameters: [Variable]) throws -> any Optimizer {
        func attr(_ key: String, _ fallback: Float) -> Float { golden.attr(key).map(Float.init) ?? fallback }
        let lr = attr("lr", 0)
        if golden.name.hasPrefix("sgd") {
            return try SGD(parameters, learningRate: lr, momentum: attr("momentum", 0),
                           nesterov: attr("nesterov", 0) == 1, weightDecay: attr("weight_decay", 0))
        }
        let (b1, b2, eps) = (attr("beta1", 0.9), attr("beta2", 0.999), attr("eps", 1e-8))
        return golden.name.hasPrefix("adamw")
            ? try AdamW(parameters, learningRate: lr, beta1: b1, beta2: b2, eps: eps, weightDecay: attr("weight_decay", 1e-2))
            : try Adam(parameters, learningRate: lr, beta1: b1, beta2: b2, eps: eps, weightDecay: attr("weight_decay", 0))
    }

    /// Minimises ½·Σ a ⊙ (p − c)² for a few steps; the trajectory must follow PyTorch's.
    @Test(arguments: ["sgd_plain", "sgd_momentum", "sgd_nesterov", "sgd_weight_decay",
                      "adam_default", "adam_options", "adamw_default", "adamw_options"])
    func trajectoryMatchesPyTorch(_ name: String) throws {
        let golden = try #require(try Golden.load("optim")[name])
        let a = try golden.tensor("a"), c = try golden.tensor("c"), expected = try golden.tensor("trajectory")
        let p = Variable(try golden.tensor("p0"), requiresGrad: true)
        let optimizer = try Self.optimizer(for: golden, [p])
        var trajectory: [Float] = []
        for _ in 0..<expected.shape[0] {
            optimizer.zeroGrad()
            p.grad = a.zip(p.value.zip(c, -), *)
            try optimizer.step()
            trajectory += p.value.scalars
        }
        Golden.expectClose(try Tensor(shape: expected.shape, scalars: trajectory), expected, atol: 1e-6, rtol: 1e-5, name)
    }

    @Test(arguments: ["sgd_momentum", "adam_default", "adamw_default"])
    func parametersWithoutGradientAreSkipped(_ name: String) throws {
        let golden = try #require(try Golden.load("optim")[name])
        let used = Variable(Tensor([1, 2]), requiresGrad: true), unused = Variable(Tensor([3, 4]), requiresGrad: true)
        let optimizer = try Self.optimizer(for: golden, [used, unused])
        used.grad = Tensor([0.5, -0.5])
        try optimizer.step()
        #expect(unused.value.scalars == [3, 4])
        #expect(used.value.scalars != [1, 2])
        optimizer.zeroGrad()
        #expect(used.grad == nil && unused.grad == nil)
    }

    @Test func invalidSettingsThrow() throws {
        let p = [Variable(Tensor([1]), requiresGrad: true)]
        #expect(throws: GlassboxError.self) { try SGD(p, learningRate: -0.1) }
        #expect(throws: GlassboxError.self) { try SGD(p, learningRate: 0.1, nesterov: true) }
        #expect(throws: GlassboxError.self) { try SGD(p, learningRate: .nan) }
        #expect(throws: GlassboxError.self) { try Adam(p, beta1: 1) }
        #expect(throws: GlassboxError.self) { try AdamW(p, eps: -1) }
        #expect(throws: GlassboxError.self) { try Adam(p + p) }
        let sgd = try SGD(p, learningRate: 0.1)
        p[0].grad = Tensor([1, 2])
        #expect(throws: GlassboxError.self) { try sgd.step() }
    }

    @Test(arguments: ["step_lr", "cosine_lr", "cosine_lr_restart"])
    func scheduleMatchesPyTorch(_ name: String) throws {
        let golden = try #require(try Golden.load("optim")[name])
        let expected = try golden.tensor("lr")
        let schedule: LearningRateSchedule = name == "step_lr"
            ? .step(stepSize: Int(golden.attr("step_size")!), gamma: Float(golden.attr("gamma")!))
            : .cosine(tMax: Int(golden.attr("t_max")!), etaMin: Float(golden.attr("eta_min")!))
        try schedule.validate()
        let base = Float(golden.attr("base")!)
        let rates = (0..<expected.count).map { schedule.learningRate(base: base, epoch: $0) }
        Golden.expectClose(Tensor(rates), expected, atol: 1e-7, rtol: 1e-5, name)
    }

    @Test func scheduleValidationAndJSON() throws {
        #expect(throws: GlassboxError.self) { try LearningRateSchedule.step(stepSize: 0, gamma: 0.1).validate() }
        #expect(throws: GlassboxError.self) { try LearningRateSchedule.cosine(tMax: 10, etaMin: -1).validate() }
        #expect(LearningRateSchedule.constant.learningRate(base: 0.3, epoch: 99) == 0.3)
        for schedule in [LearningRateSchedule.constant, .step(stepSize: 3, gamma: 0.5), .cosine(tMax: 7, etaMin: 0.01)] {
            let json = try JSONEncoder().encode(schedule)
            #expect(try JSONDecoder().decode(LearningRateSchedule.self, from: json) == schedule)
        }
        let decoded = try JSONDecoder().decode(LearningRateSchedule.self, from: Data(#"{"type": "cosine", "tMax": 5}"#.utf8))
        #expect(decoded == .cosine(tMax: 5, etaMin: 0))
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(LearningRateSchedule.self, from: Data(#"{"type": "linear"}"#.utf8))
        }
    }

    @Test(arguments: ["clip_above", "clip_below"])
    func clippingMatchesPyTorch(_ name: String) throws {
        let golden = try #require(try Golden.load("optim")[name])
        let params = [Variable(Tensor.zeros([3, 4]), requiresGrad: true), Variable(Tensor.zeros([5]), requiresGrad: true),
                      Variable(Tensor.zeros([2]), requiresGrad: true)]
        params[0].grad = try golden.tensor("g0")
        params[1].grad = try golden.tensor("g1")
        let norm = try clipGradientNorm(params, maxNorm: Float(golden.attr("max_norm")!))
        Golden.expectClose(Tensor([norm]), try golden.tensor("norm"), atol: 1e-6, rtol: 1e-5, "\(name) norm")
        Golden.expectClose(params[0].grad!, try golden.tensor("clipped0"), atol: 1e-6, rtol: 1e-5, "\(name) grad 0")
        Golden.expectClose(params[1].grad!, try golden.tensor("clipped1"), atol: 1e-6, rtol: 1e-5, "\(name) grad 1")
        #expect(params[2].grad == nil)
    }

    @Test func clippingEdgeCases() throws {
        let p = Variable(Tensor([3, 4]), requiresGrad: true)
        p.grad = Tensor([.nan, 1])
        #expect(try clipGradientNorm([p], maxNorm: 1).isNaN)
        #expect(p.grad!.scalars[1] == 1, "a non-finite norm leaves the gradients as they are")
        #expect(throws: GlassboxError.self) { try clipGradientNorm([p], maxNorm: 0) }
        // 19 elements: exercises the vector body and the scalar tail of the sum of squares.
        let q = Variable(Tensor.zeros([19]), requiresGrad: true)
        q.grad = Tensor((1...19).map(Float.init))
        #expect(abs(try clipGradientNorm([q], maxNorm: 1e6) - Float(2470.0.squareRoot())) < 1e-3)
    }
}
