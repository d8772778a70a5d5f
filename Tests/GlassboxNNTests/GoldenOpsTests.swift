import Testing
@testable import GlassboxNN

/// Every op against PyTorch (`Golden/ops.json`, made by `benchmarks/tools/make_golden_ops.py`):
/// forward values and the gradients of `Σ y ⊙ gy` with respect to every differentiable input.
@Suite("Ops against PyTorch golden values")
struct GoldenOpsTests {
    static let ops = [
        "exp", "log", "sqrt", "square", "pow", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax", "log_softmax",
        "cross_entropy", "bce_with_logits", "mse", "reshape", "flatten", "transpose", "permute", "concat", "slice",
        "split", "gather", "embedding",
    ]

    @Test func everyGoldenCaseHasAKnownOp() throws {
        let cases = try Golden.load("ops")
        #expect(cases.count >= 60)
        for name in cases.keys { #expect(Self.ops.contains(Self.op(of: name)), "unhandled golden case \(name)") }
    }

    @Test(arguments: ops)
    func matchesPyTorch(_ op: String) throws {
        let cases = try Golden.load("ops").values.filter { Self.op(of: $0.name) == op }
        #expect(!cases.isEmpty)
        for c in cases.sorted(by: { $0.name < $1.name }) {
            let inputs = try c.tensors.keys.filter { $0 == "x" || $0 == "target" || $0.hasPrefix("x") && Int($0.dropFirst()) != nil }
                .reduce(into: [String: Variable]()) { $0[$1] = Variable(try c.tensor($1), requiresGrad: true) }
            let outputs = try Self.run(op, c, inputs)
            if outputs.count == 1 {
                try outputs[0].backward(try c.tensor("gy"))
                Golden.expectClose(outputs[0].value, try c.tensor("y"), "\(c.name) y")
            } else {
                var total: Variable?
                for (i, y) in outputs.enumerated() {
                    Golden.expectClose(y.value, try c.tensor("y\(i)"), "\(c.name) y\(i)")
                    let term = try sum(try mul(y, Variable(try c.tensor("gy\(i)"))))
                    total = try total.map { try add($0, term) } ?? term
                }
                try total?.backward()
            }
            for (name, x) in inputs {
                let key = name == "target" ? "g_target" : "g" + name
                Golden.expectClose(x.grad ?? .zeros(x.shape), try c.tensor(key), "\(c.name) \(key)")
            }
        }
    }

    static func op(of name: String) -> String { String(name.prefix { $0 != "/" }) }

    /// Applies the op a golden case describes to its inputs.
    static func run(_ op: String, _ c: GoldenCase, _ v: [String: Variable]) throws -> [Variable] {
        func attr(_ key: String) -> Int { Int(c.attr(key) ?? 0) }
        func ints(_ key: String) throws -> [Int] { try c.tensor(key).scalars.map { Int($0) } }
        let x = v["x"] ?? v["x0"]!
        let reduction = LossReduction.allCases[attr("reduction")]
        switch op {
        case "exp": return [exp(x)]
        case "log": return [log(x)]
        case "sqrt": return [sqrt(x)]
        case "square": return [square(x)]
        case "pow": return [pow(x, Float(c.attr("p")!))]
        case "leaky_relu": return [leakyRelu(x, slope: Float(c.attr("slope")!))]
        case "sigmoid": return [sigmoid(x)]
        case "tanh": return [tanh(x)]
        case "gelu": return [gelu(x, approximate: attr("tanh") == 1 ? .tanh : .none)]
        case "softmax": return [try softmax(x, axis: attr("axis"))]
        case "log_softmax": return [try logSoftmax(x, axis: attr("axis"))]
        case "cross_entropy":
            let weights = c.tensors["weights"] == nil ? nil : try c.tensor("weights")
            return [try crossEntropy(x, labels: try ints("labels"), reduction: reduction, weights: weights)]
        case "bce_with_logits": return [try binaryCrossEntropyWithLogits(x, v["target"]!, reduction: reduction)]
        case "mse": return [try mseLoss(x, v["target"]!, reduction: reduction)]
        case "reshape": return [try reshape(x, try ints("shape"))]
        case "flatten": return [try flatten(x, startAxis: attr("start"), endAxis: attr("end"))]
        case "transpose": return [try transpose(x, attr("axis0"), attr("axis1"))]
        case "permute": return [try permute(x, try ints("perm"))]
        case "concat": return [try concat(v.keys.sorted().map { v[$0]! }, axis: attr("axis"))]
        case "slice": return [try slice(x, axis: attr("axis"), range: attr("lo")..<attr("hi"))]
        case "split": return try split(x, sizes: try ints("sizes"), axis: attr("axis"))
        case "gather": return [try gather(x, indices: try ints("indices"), axis: attr("axis"))]
        case "embedding": return [try embeddingLookup(x, indices: try ints("indices"))]
        default: throw GlassboxError.invalidArgument("no runner for golden op \(op)")
        }
    }
}
