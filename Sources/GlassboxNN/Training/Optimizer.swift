import Foundation

/// Updates a fixed list of parameters from their accumulated gradients.
///
/// Every optimiser here follows `torch.optim` exactly (same update order, same bias correction),
/// so a hyper-parameter setting transfers between the two. `step()` updates
/// `parameter.value.scalars` in place and skips parameters whose `grad` is nil (a parameter the
/// last backward pass did not reach keeps its value and its optimiser state). State buffers are
/// allocated once at construction; a step allocates nothing and costs a few passes over the
/// parameters.
public protocol Optimizer: AnyObject {
    /// The parameters this optimiser updates, in a fixed order (state buffers follow it).
    var parameters: [Variable] { get }
    /// Step size; schedules change it between epochs.
    var learningRate: Float { get set }
    /// Applies one update from the current gradients.
    func step() throws
    /// Clears the gradients of all parameters (call before each backward pass: gradients accumulate).
    func zeroGrad()
}

extension Optimizer {
    /// Clears the gradients of every parameter before the next backward pass.
    public func zeroGrad() {
        for p in parameters { p.grad = nil }
    }
}

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay
/// (`torch.optim.SGD` with dampening 0):
///
///     d = g + wd·p
///     buf = μ·buf + d            (buf = d at the first step)
///     d = nesterov ? d + μ·buf : buf          (when μ ≠ 0)
///     p ← p − lr·d
///
/// Cost per step: 2–5 passes over the parameters.
public final class SGD: Optimizer {
    /// The tensors updated by ``step()``.
    public let parameters: [Variable]
    /// Step size (a schedule may change it between steps).
    public var learningRate: Float
    /// Momentum coefficient, Nesterov's variant, and L2 weight decay added to the gradient.
    public let momentum: Float, nesterov: Bool, weightDecay: Float
    private var buffers: [[Float]]

    /// Makes the optimiser (PyTorch's `SGD` semantics).
    public init(_ parameters: [Variable], learningRate: Float, momentum: Float = 0, nesterov: Bool = false,
                weightDecay: Float = 0) throws {
        try checkHyperparameter("learning rate", learningRate)
        try checkHyperparameter("momentum", momentum)
        try checkHyperparameter("weight decay", weightDecay)
        guard !nesterov || momentum > 0 else {
            throw GlassboxError.invalidArgument("Nesterov momentum needs momentum > 0, got \(momentum)")
        }
        try checkDistinct(parameters)
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        buffers = momentum == 0 ? [] : parameters.map { [Float](repeating: 0, count: $0.value.count) }
    }

    /// Applies one update from the current gradients.
    public func step() throws {
        let lr = learningRate, mu = momentum, wd = weightDecay, nesterov = nesterov
        for (index, p) in parameters.enumerated() {
            guard let g = try checkedGradient(p, index: index) else { continue }
            g.scalars.withUnsafeBufferPointer { gp in
                p.value.scalars.withUnsafeMutableBufferPointer { pp in
                    let n = pp.count
                    guard mu != 0 else {
                        forEachLanes(n) { j, lanes in
                            let w = load(pp, j, lanes)
                            store(w - lr * (load(gp, j, lanes) + wd * w), pp, j, lanes)
                        }
                        return
                    }
                    buffers[index].withUnsafeMutableBufferPointer { bp in
                        forEachLanes(n) { j, lanes in
                            let w = load(pp, j, lanes)
                            let d = load(gp, j, lanes) + wd * w
                            let b = mu * load(bp, j, lanes) + d
                            store(b, bp, j, lanes)
                            store(w - lr * (nesterov ? d + mu * b : b), pp, j, lanes)
                        }
                    }
                }
            }
        }
    }
}

/// Adam (`torch.optim.Adam`), with L2 weight decay added to the gradient:
///
///     g = g + wd·p
///     m = β₁·m + (1 − β₁)·g,   v = β₂·v + (1 − β₂)·g²
///     p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// `t` counts the steps each parameter actually took. Cost per step: ~4 passes over the parameters.
public final class Adam: Optimizer {
    /// The tensors updated by ``step()``.
    public let parameters: [Variable]
    /// Step size (a schedule may change it between steps).
    public var learningRate: Float
    /// Moment decay rates β₁, β₂, the denominator's ε, and the weight decay.
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    private var moments: AdamMoments

    /// Makes the optimiser with PyTorch's defaults.
    public init(_ parameters: [Variable], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0) throws {
        try checkAdam(parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay)
        self.parameters = parameters
        self.learningRate = learningRate
        (self.beta1, self.beta2, self.eps, self.weightDecay) = (beta1, beta2, eps, weightDecay)
        moments = AdamMoments(parameters)
    }

    /// Applies one update from the current gradients.
    public func step() throws {
        try moments.update(parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps,
                           l2: weightDecay, decoupledDecay: 0)
    }
}

/// AdamW (`torch.optim.AdamW`): Adam with decoupled weight decay, applied before the Adam update
/// as `p ← p·(1 − lr·wd)`. Cost per step: ~4 passes over the parameters.
public final class AdamW: Optimizer {
    /// The tensors updated by ``step()``.
    public let parameters: [Variable]
    /// Step size (a schedule may change it between steps).
    public var learningRate: Float
    /// Moment decay rates β₁, β₂, the denominator's ε, and the decoupled weight decay.
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    private var moments: AdamMoments

    /// Makes the optimiser with PyTorch's defaults.
    public init(_ parameters: [Variable], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 1e-2) throws {
        try checkAdam(parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay)
        self.parameters = parameters
        self.learningRate = learningRate
        (self.beta1, self.beta2, self.eps, self.weightDecay) = (beta1, beta2, eps, weightDecay)
        moments = AdamMoments(parameters)
    }

    /// Applies one update from the current gradients.
    public func step() throws {
        try moments.update(parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps,
                           l2: 0, decoupledDecay: weightDecay)
    }
}

/// First and second moment estimates and step counts shared by Adam and AdamW.
private struct AdamMoments {
    var m: [[Float]], v: [[Float]], steps: [Int]

    init(_ parameters: [Variable]) {
        m = parameters.map { [Float](repeating: 0, count: $0.value.count) }
        v = m
        steps = [Int](repeating: 0, count: parameters.count)
    }

    mutating func update(_ parameters: [Variable], learningRate lr: Float, beta1: Float, beta2: Float, eps: Float,
                         l2: Float, decoupledDecay: Float) throws {
        for (index, p) in parameters.enumerated() {
            guard let g = try checkedGradient(p, index: index) else { continue }
            steps[index] += 1
            // Scalar factors in Double, as PyTorch computes them in Python floats.
            let t = Double(steps[index])
            let stepSize = Float(Double(lr) / (1 - pow(Double(beta1), t)))
            let bias2Sqrt = Float((1 - pow(Double(beta2), t)).squareRoot())
            // Without decoupled decay `shrink` is 1, without L2 `l2` is 0: exact no-ops, one loop.
            let shrink = Float(1 - Double(lr) * Double(decoupledDecay))
            let a1 = 1 - beta1, a2 = 1 - beta2
            g.scalars.withUnsafeBufferPointer { gp in
                p.value.scalars.withUnsafeMutableBufferPointer { pp in
                    m[index].withUnsafeMutableBufferPointer { mp in
                        v[index].withUnsafeMutableBufferPointer { vp in
                            forEachLanes(pp.count) { j, lanes in
                                let w = load(pp, j, lanes) * shrink
                                let gj = load(gp, j, lanes) + l2 * w
                                let mj = flushSubnormals(beta1 * load(mp, j, lanes) + a1 * gj)
                                let vj = flushSubnormals(beta2 * load(vp, j, lanes) + a2 * gj * gj)
                                store(mj, mp, j, lanes)
                                store(vj, vp, j, lanes)
                                store(w - stepSize * (mj / (vj.squareRoot() / bias2Sqrt + eps)), pp, j, lanes)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Calls `body(start, lanes)` for consecutive blocks of 8 elements of `0..<count` (`lanes` < 8
/// only for the last block): the update rules are written once over `SIMD8` and vectorise.
@inline(__always)
private func forEachLanes(_ count: Int, _ body: (Int, Int) -> Void) {
    var j = 0
    while j < count {
        body(j, min(8, count - j))
        j += 8
    }
}

/// `v` with every subnormal lane set to 0.
///
/// Why: the moments of a unit whose gradient stays 0 (a dead ReLU unit) decay geometrically
/// (×β₁, ×β₂ per step) into subnormal floats, and x86 cores take a slow path of ~100 cycles for
/// every arithmetic operation on them — enough to slow a small model's whole training step by
/// 10–20 %. Flushing is numerically invisible: a subnormal moment moves a weight by less than
/// `lr · 1.2e-38 / eps`, far below the resolution of any normal weight.
@inline(__always)
private func flushSubnormals(_ v: SIMD8<Float>) -> SIMD8<Float> {
    let tiny = SIMD8<Float>(repeating: .leastNormalMagnitude)
    return v.replacing(with: 0, where: (v .< tiny) .& (v .> -tiny))
}

/// Elements `start..<start+lanes` as a vector (missing lanes are 0).
@inline(__always)
private func load(_ p: UnsafeMutableBufferPointer<Float>, _ start: Int, _ lanes: Int) -> SIMD8<Float> {
    load(UnsafeBufferPointer(p), start, lanes)
}

@inline(__always)
private func load(_ p: UnsafeBufferPointer<Float>, _ start: Int, _ lanes: Int) -> SIMD8<Float> {
    if lanes == 8 { return UnsafeRawPointer(p.baseAddress! + start).loadUnaligned(as: SIMD8<Float>.self) }
    var v = SIMD8<Float>()
    for k in 0..<lanes { v[k] = p[start + k] }
    return v
}

@inline(__always)
private func store(_ v: SIMD8<Float>, _ p: UnsafeMutableBufferPointer<Float>, _ start: Int, _ lanes: Int) {
    if lanes == 8 {
        UnsafeMutableRawPointer(p.baseAddress! + start).storeBytes(of: v, as: SIMD8<Float>.self)
        return
    }
    for k in 0..<lanes { p[start + k] = v[k] }
}

/// The gradient of parameter `index`, nil when backward did not reach it; throws when its size
/// disagrees with the parameter (someone assigned a gradient by hand).
private func checkedGradient(_ p: Variable, index: Int) throws -> Tensor? {
    guard let g = p.grad else { return nil }
    guard g.count == p.value.count else {
        throw GlassboxError.shapeMismatch(
            "parameter \(index)\(p.name.map { " (\($0))" } ?? "") has value \(p.shape) but gradient \(g.shape)")
    }
    return g
}

/// A parameter listed twice would be stepped twice per step (PyTorch rejects it too).
private func checkDistinct(_ parameters: [Variable]) throws {
    var seen = Set<ObjectIdentifier>()
    for (index, p) in parameters.enumerated() where !seen.insert(ObjectIdentifier(p)).inserted {
        throw GlassboxError.invalidArgument("parameter \(index)\(p.name.map { " (\($0))" } ?? "") is listed twice")
    }
}

private func checkHyperparameter(_ name: String, _ value: Float) throws {
    guard value.isFinite, value >= 0 else {
        throw GlassboxError.invalidArgument("\(name) must be finite and ≥ 0, got \(value)")
    }
}

private func checkAdam(_ parameters: [Variable], learningRate: Float, beta1: Float, beta2: Float, eps: Float, weightDecay: Float) throws {
    try checkHyperparameter("learning rate", learningRate)
    try checkHyperparameter("weight decay", weightDecay)
    try checkHyperparameter("eps", eps)
    try checkDistinct(parameters)
    for (name, beta) in [("beta1", beta1), ("beta2", beta2)] where !(beta >= 0 && beta < 1) {
        throw GlassboxError.invalidArgument("\(name) must be in [0, 1), got \(beta)")
    }
}
