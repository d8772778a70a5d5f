import CKernels
import Foundation
import Testing
@testable import GlassboxNN

/// The elementwise ops, each with the input range on which its gradient is checked.
enum UnaryOp: String, CaseIterable, Sendable {
    case exp, log, sqrt, square, pow, leakyRelu, sigmoid, tanh, geluExact, geluTanh

    var range: (Float, Float) {
        switch self {
        case .log, .sqrt, .pow: (0.5, 2)
        case .sigmoid, .tanh, .geluExact, .geluTanh: (-3, 3)
        default: (-1.5, 1.5)
        }
    }

    func callAsFunction(_ x: Variable) -> Variable {
        switch self {
        case .exp: GlassboxNN.exp(x)
        case .log: GlassboxNN.log(x)
        case .sqrt: GlassboxNN.sqrt(x)
        case .square: GlassboxNN.square(x)
        case .pow: GlassboxNN.pow(x, -1.5)
        case .leakyRelu: GlassboxNN.leakyRelu(x, slope: 0.2)
        case .sigmoid: GlassboxNN.sigmoid(x)
        case .tanh: GlassboxNN.tanh(x)
        case .geluExact: GlassboxNN.gelu(x)
        case .geluTanh: GlassboxNN.gelu(x, approximate: .tanh)
        }
    }
}

@Suite("Elementwise activation and math ops")
struct ActivationOpsTests {
    @Test(arguments: UnaryOp.allCases, [[7], [2, 3], [2, 3, 4]])
    func gradientMatchesFiniteDifferences(_ op: UnaryOp, _ shape: [Int]) throws {
        var x = randomTensor(shape, seed: 11, lo: op.range.0, hi: op.range.1)
        // Keep leaky ReLU's inputs off its kink at 0, where finite differences are meaningless.
        if op == .leakyRelu { x = x.map { $0 >= 0 ? $0 + 0.1 : $0 - 0.1 } }
        let bad = try GradientCheck.mismatches(inputs: [x]) { op($0[0]) }
        #expect(bad.isEmpty, "\(op): \(bad.prefix(3))")
    }

    @Test func saturatingFunctionsStayFiniteAtLargeMagnitudes() throws {
        let x = Variable(Tensor([-1e4, -100, -50, 50, 100, 1e4]), requiresGrad: true)
        for op in [UnaryOp.sigmoid, .tanh, .geluExact, .geluTanh] {
            let y = op(x)
            #expect(y.value.isFinite, "\(op): \(y.value)")
            let dx = try gradient(at: x.value, seed: .ones(x.shape)) { op($0) }.gradient
            #expect(dx.isFinite, "\(op) gradient: \(dx)")
        }
        let s = sigmoid(x).value.scalars
        #expect(s.first == 0 && s.last == 1)
    }

    @Test func logAndSqrtFollowIEEEOutsideTheirDomain() {
        let y = log(Variable(Tensor([0, -1]))).value.scalars
        #expect(y[0] == -.infinity && y[1].isNaN)
        #expect(sqrt(Variable(Tensor([-4]))).value.scalars[0].isNaN)
    }

    @Test func leakyReluUsesTheSlopeBelowZero() throws {
        let (y, dx) = try gradient(at: Tensor([-2, 0, 3]), seed: .ones([3])) { leakyRelu($0, slope: 0.1) }
        #expect(y.scalars == [-0.2, 0, 3])
        #expect(dx.scalars == [0.1, 0.1, 1])
    }

    @Test func untrackedInputsRecordNoGraph() {
        let x = Variable(Tensor([1, 2]))
        for op in UnaryOp.allCases { #expect(!op(x).requiresGrad, "\(op)") }
    }
}

@Suite("Accuracy of the vectorised transcendental kernels")
struct TranscendentalAccuracyTests {
    /// `f` on a grid over `range`, with the largest error relative to `atol + rtol·|exact|`.
    func worst(_ range: ClosedRange<Float>, _ f: (Variable) -> Variable, _ exact: (Double) -> Double,
               atol: Double, rtol: Double) -> (x: Float, ratio: Double) {
        let n = 20_001
        let xs = (0..<n).map { range.lowerBound + (range.upperBound - range.lowerBound) * Float($0) / Float(n - 1) }
        let ys = f(Variable(Tensor(xs))).value.scalars
        var result: (x: Float, ratio: Double) = (0, 0)
        for (x, y) in zip(xs, ys) {
            let e = exact(Double(x))
            let ratio = abs(Double(y) - e) / (atol + rtol * abs(e))
            if ratio > result.ratio { result = (x, ratio) }
        }
        return result
    }

    @Test(arguments: KernelPath.available)
    func expSigmoidTanhAndGELUAreAccurate(_ path: KernelPath) {
        let previous = gb_cpu_force_isa(path.code)
        defer { _ = gb_cpu_force_isa(previous) }
        let checks: [(String, ClosedRange<Float>, (Variable) -> Variable, (Double) -> Double, Double, Double)] = [
            ("exp", -87.3...88.7, { exp($0) }, { Foundation.exp($0) }, 0, 2.5e-7),
            ("sigmoid", -30...30, { sigmoid($0) }, { 1 / (1 + Foundation.exp(-$0)) }, 1e-30, 5e-7),
            ("tanh", -10...10, { tanh($0) }, { Foundation.tanh($0) }, 1e-30, 5e-7),
            ("gelu", -8...8, { gelu($0) }, { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) }, 5e-7, 5e-7),
            ("gelu tanh", -8...8, { gelu($0, approximate: .tanh) },
             { 0.5 * $0 * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) }, 1e-7, 5e-7),
        ]
        for (name, range, f, exact, atol, rtol) in checks {
            let w = worst(range, f, exact, atol: atol, rtol: rtol)
            #expect(w.ratio <= 1, "\(name): error \(w.ratio)× the tolerance at x = \(w.x)")
        }
    }

    @Test(arguments: KernelPath.available)
    func expHandlesTheEdgesOfItsRange(_ path: KernelPath) {
        let previous = gb_cpu_force_isa(path.code)
        defer { _ = gb_cpu_force_isa(previous) }
        let y = exp(Variable(Tensor([0, -100, 89, -.infinity, .infinity, .nan]))).value.scalars
        #expect(Array(y[0..<5]) == [1, 0, .infinity, 0, .infinity] && y[5].isNaN)
    }
}
