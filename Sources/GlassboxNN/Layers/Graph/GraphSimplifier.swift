/// Load-time rewriting of an imported graph, before it becomes a ``GraphModel``:
///
/// 1. **Constant folding.** Every node whose inputs are all constants (initialisers, `Constant`
///    nodes and earlier folded results) is run once with its own op and replaced by its result,
///    an initialiser. Exporters' shape sub-graphs over weights, casts of float16 weights, and
///    `Constant → Unsqueeze → Concat` chains disappear this way. Sub-graphs that read the
///    runtime input's shape (`Shape` of an activation) stay in the graph and are evaluated on
///    the fly from the actual shape, which keeps a dynamic batch extent working.
/// 2. **Batch-norm folding.** A `BatchNormalization` whose input is a `Conv` output read by
///    nothing else, with constant weights and statistics, is folded into that convolution:
///    `W'[o] = W[o]·a[o]`, `b'[o] = (b[o] − mean[o])·a[o] + β[o]` with `a = γ/√(var + ε)`.
/// 3. Initialisers nothing reads any more are dropped.
///
/// The result computes the same function (up to float rounding in the folded weights).
/// Cost: one evaluation of each folded node; linear in the graph otherwise.
public enum GraphSimplifier {
    /// The largest constant folding may create (values); bigger results stay as nodes.
    static let maxFoldedValues = 1 << 26

    public static func simplify(_ description: GraphDescription, tensors: [String: Tensor]) throws
        -> (description: GraphDescription, tensors: [String: Tensor]) {
        let model = try GraphModel(description: description, tensors: tensors)
        var constants = model.constants.mapValues { (value: $0.variable.value, integer: $0.isInteger) }
        var kept: [any GraphOp] = []
        let context = ForwardContext(training: false)
        for op in model.ops {
            let node = op.node
            let foldable = node.inputs.allSatisfy { $0.isEmpty || constants[$0] != nil }
            if foldable {
                let args = node.inputs.map { name in name.isEmpty ? nil : constants[name].map { GraphValue(Variable($0.value), isInteger: $0.integer) } }
                do {
                    let outs = try op.apply(args, context: context)
                    if outs.allSatisfy({ $0.variable.value.count <= maxFoldedValues }) {
                        for (name, out) in zip(node.outputs, outs) where !name.isEmpty {
                            constants[name] = (out.variable.value, out.isInteger)
                        }
                        continue
                    }
                } catch {
                    throw GlassboxError.invalidArgument("node '\(node.name)' (\(node.op)): \(GraphModel.text(of: error))")
                }
            }
            kept.append(op)
        }

        // Batch norm into the preceding convolution.
        var nodes = kept.map(\.node)
        var readers: [String: Int] = [:]
        for node in nodes { for name in node.inputs where !name.isEmpty { readers[name, default: 0] += 1 } }
        for name in description.outputs { readers[name, default: 0] += 1 }
        var producer: [String: Int] = [:]
        for (i, node) in nodes.enumerated() { for out in node.outputs { producer[out] = i } }
        var removed = Set<Int>()
        for (i, bn) in nodes.enumerated() where bn.op == "BatchNormalization" && bn.outputs.count == 1 && bn.inputs.count == 5 {
            guard let c = producer[bn.inputs[0]], nodes[c].op == "Conv", readers[bn.inputs[0]] == 1,
                  nodes[c].inputs.count >= 2, let w = constants[nodes[c].inputs[1]], !w.integer,
                  let scale = constants[bn.inputs[1]], let beta = constants[bn.inputs[2]],
                  let mean = constants[bn.inputs[3]], let variance = constants[bn.inputs[4]] else { continue }
            let bias = nodes[c].inputs.count > 2 && !nodes[c].inputs[2].isEmpty ? constants[nodes[c].inputs[2]] : nil
            if nodes[c].inputs.count > 2 && !nodes[c].inputs[2].isEmpty && bias == nil { continue }
            let outChannels = w.value.shape[0]
            guard scale.value.count == outChannels, bias == nil || bias!.value.count == outChannels else { continue }
            let epsilon = Float(try bn.float("epsilon", default: 1e-5))
            let (a, b) = try BatchNormalizationOp.affine(scale: scale.value, bias: beta.value, mean: mean.value,
                                                         variance: variance.value, epsilon: epsilon)
            var weight = w.value
            let per = weight.count / Swift.max(outChannels, 1)
            for o in 0..<outChannels { for j in 0..<per { weight.scalars[o * per + j] *= a[o] } }
            var newBias = [Float](repeating: 0, count: outChannels)
            for o in 0..<outChannels { newBias[o] = (bias?.value.scalars[o] ?? 0) * a[o] + b[o] }
            let weightName = uniqueName(nodes[c].name + ".weight", taken: constants)
            constants[weightName] = (weight, false)
            let biasName = uniqueName(nodes[c].name + ".bias", taken: constants)
            constants[biasName] = (Tensor(newBias), false)
            nodes[c].inputs = [nodes[c].inputs[0], weightName, biasName]
            nodes[c].outputs = bn.outputs
            removed.insert(i)
        }
        nodes = nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)

        // Keep the constants still read, in order of first use.
        var used: [String] = []
        var seen = Set<String>()
        for name in nodes.flatMap(\.inputs) + description.outputs where constants[name] != nil && seen.insert(name).inserted {
            used.append(name)
        }
        var out = description
        out.nodes = nodes
        out.initializers = used.map { GraphTensorInfo(name: $0, shape: constants[$0]!.value.shape, integer: constants[$0]!.integer) }
        var values: [String: Tensor] = [:]
        for name in used { values[name] = constants[name]!.value }
        return (out, values)
    }

    private static func uniqueName(_ base: String, taken: [String: (value: Tensor, integer: Bool)]) -> String {
        var name = base, i = 1
        while taken[name] != nil { name = "\(base)_\(i)"; i += 1 }
        return name
    }
}
