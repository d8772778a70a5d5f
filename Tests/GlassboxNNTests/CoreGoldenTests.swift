import Testing
@testable import GlassboxNN

/// The core ops against PyTorch (`Golden/core.json`, made by `benchmarks/tools/make_golden_core.py`).
@Suite("Core ops against PyTorch golden values")
struct CoreGoldenTests {
    static let cases = (try? Golden.load("core")) ?? [:]

    /// Runs `f` on the case's named inputs, back-propagates `grad_y` and compares everything.
    func check(_ name: String, inputs: [String], _ f: ([Variable]) throws -> Variable) throws {
        let c = try #require(Self.cases[name], "missing golden case \(name)")
        let vars = try inputs.map { Variable(try c.tensor($0), requiresGrad: true) }
        let y = try f(vars)
        Golden.expectClose(y.value, try c.tensor("y"), "\(name) output")
        try y.backward(try c.tensor("grad_y"))
        for (k, v) in zip(inputs, vars) {
            Golden.expectClose(v.grad ?? .zeros(v.shape), try c.tensor("grad_\(k)"), "\(name) grad \(k)")
        }
    }

    @Test(arguments: ["add", "sub", "mul", "div"])
    func broadcasting(_ op: String) throws {
        let f: (Variable, Variable) throws -> Variable
        switch op {
        case "add": f = { try add($0, $1) }
        case "sub": f = { try sub($0, $1) }
        case "mul": f = { try mul($0, $1) }
        default: f = { try div($0, $1) }
        }
        for shapes in ["3x4_4", "2x3x4_3x1", "2x1x3_4x1"] {
            try check("\(op)/\(shapes)", inputs: ["a", "b"]) { try f($0[0], $0[1]) }
        }
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func matmulTransposes(_ t: (Bool, Bool)) throws {
        try check("matmul/t\(t.0 ? 1 : 0)\(t.1 ? 1 : 0)", inputs: ["a", "b"]) {
            try matmul($0[0], $0[1], transposeA: t.0, transposeB: t.1)
        }
        try check("matmul/batched", inputs: ["a", "b"]) { try matmul($0[0], $0[1]) }
    }

    @Test func reductions() throws {
        for (tag, axes, keep) in [("all", nil, false), ("0", [0], false), ("1", [1], true), ("0_2", [0, 2], false),
                                  ("-1", [-1], true)] as [(String, [Int]?, Bool)] {
            try check("sum/\(tag)_k\(keep ? 1 : 0)", inputs: ["x"]) { try sum($0[0], axes: axes, keepDims: keep) }
            try check("mean/\(tag)_k\(keep ? 1 : 0)", inputs: ["x"]) { try mean($0[0], axes: axes, keepDims: keep) }
        }
    }

    @Test func reluLinearAndGlobalPool() throws {
        try check("relu/basic", inputs: ["x"]) { relu($0[0]) }
        var rng = SeededGenerator(seed: 1)
        let linear = try Linear(inFeatures: 3, outFeatures: 5, rng: &rng)
        let c = try #require(Self.cases["linear/basic"])
        linear.weight.value = try c.tensor("weight")
        linear.bias!.value = try c.tensor("bias")
        let x = Variable(try c.tensor("x"), requiresGrad: true)
        let y = try linear.forward(x, context: ForwardContext(training: true))
        Golden.expectClose(y.value, try c.tensor("y"), "linear output")
        try y.backward(try c.tensor("grad_y"))
        Golden.expectClose(x.grad!, try c.tensor("grad_x"), "linear grad x")
        Golden.expectClose(linear.weight.grad!, try c.tensor("grad_weight"), "linear grad weight")
        Golden.expectClose(linear.bias!.grad!, try c.tensor("grad_bias"), "linear grad bias")
        try check("global_avg_pool/basic", inputs: ["x"]) { try globalAvgPool($0[0]) }
    }
}
