import Foundation

/// A model as a DAG of ops over named tensors (ONNX's model form): one graph input, initialisers
/// (the weights, owned here as parameters and buffers under their tensor names), nodes sorted
/// topologically, and the first graph output as the model's output.
///
/// It is a ``Layer``: every explainer that takes a layer (gradients, Integrated Gradients,
/// SmoothGrad, occlusion, RISE, ReX) runs on it, and each node is called through
/// ``ForwardContext/call(_:named:computing:)`` under its node name so hooks and activation
/// recording see every float-valued node output.
///
/// Building checks the graph once: every node's op is known (all unknown ones are listed in one
/// error, with op type and opset), names are unique, every input is produced by exactly one node,
/// an initialiser or the graph input, and there is no cycle (errors name the node). It does not
/// change the graph; ``GraphSimplifier`` folds constants and batch norms beforehand.
///
/// Cost: each node's op once forward (and backward); values are released after their last use.
public final class GraphModel: Layer {
    /// The graph as data (nodes in topological order).
    public let description: GraphDescription
    /// The op of each node, in topological order.
    public let ops: [any GraphOp]
    /// Initialiser values by name.
    public let constants: [String: GraphValue]
    private let lastUse: [String: Int]

    /// The most nodes a graph may have (a bound for hostile files; real CNNs have hundreds).
    public static let maxNodes = 200_000

    /// Builds the graph model from its description and initialiser values (`tensors` must hold
    /// every initialiser the description lists, with its shape).
    public init(description: GraphDescription, tensors: [String: Tensor]) throws {
        guard description.nodes.count <= GraphModel.maxNodes else {
            throw GlassboxError.invalidArgument(
                "the graph has \(description.nodes.count) nodes; at most \(GraphModel.maxNodes) are supported")
        }
        guard let input = description.inputs.first else { throw GlassboxError.invalidArgument("the graph has no input") }
        guard let output = description.outputs.first else { throw GlassboxError.invalidArgument("the graph has no output") }
        for dim in input.shape { if let d = dim, d < 0 { throw GlassboxError.invalidArgument("graph input '\(input.name)' has a negative extent") } }
        try Tensor.validate(shape: input.shape.map { $0 ?? 1 })

        var constants: [String: GraphValue] = [:]
        for info in description.initializers {
            guard constants[info.name] == nil else { throw GlassboxError.invalidArgument("initialiser '\(info.name)' is listed twice") }
            guard let t = tensors[info.name] else { throw GlassboxError.invalidArgument("initialiser '\(info.name)' has no values") }
            guard t.shape == info.shape else {
                throw GlassboxError.invalidArgument("initialiser '\(info.name)' has shape \(t.shape), the graph says \(info.shape)")
            }
            constants[info.name] = GraphValue(Variable(t, requiresGrad: !info.integer, name: info.name), isInteger: info.integer)
        }
        guard constants[input.name] == nil else {
            throw GlassboxError.invalidArgument("graph input '\(input.name)' is also an initialiser")
        }

        let sorted = try GraphModel.topologicalOrder(description.nodes, available: Set(constants.keys).union([input.name]))
        var unsupported: [String] = []
        for node in sorted where GraphOps.builders[node.op] == nil {
            unsupported.append("'\(node.name)' (\(node.op), opset \(description.opset))")
        }
        guard unsupported.isEmpty else {
            throw GlassboxError.invalidArgument(
                "\(unsupported.count) node\(unsupported.count == 1 ? "" : "s") use unsupported ops: \(unsupported.joined(separator: ", "))"
                    + " (supported: \(GraphOps.knownTypes.joined(separator: ", ")))")
        }
        var ops: [any GraphOp] = []
        for node in sorted {
            do { ops.append(try GraphOps.builders[node.op]!(node, description.opset)) } catch {
                throw GlassboxError.invalidArgument("node '\(node.name)' (\(node.op)): \(GraphModel.text(of: error))")
            }
        }
        for op in ops {
            if let binary = op as? BinaryGraphOp {
                binary.joinsActivations = op.node.inputs.filter { !$0.isEmpty && constants[$0] == nil }.count >= 2
            }
        }
        var lastUse: [String: Int] = [:]
        for (i, node) in sorted.enumerated() { for name in node.inputs where !name.isEmpty { lastUse[name] = i } }
        for name in description.outputs { lastUse[name] = Int.max }
        for name in description.outputs where name != input.name && constants[name] == nil
            && !sorted.contains(where: { $0.outputs.contains(name) }) {
            throw GlassboxError.invalidArgument("graph output '\(name)' is produced by no node")
        }
        _ = output
        var ordered = description
        ordered.nodes = sorted
        self.description = ordered
        self.ops = ops
        self.constants = constants
        self.lastUse = lastUse
    }

    /// Builds from a ``LayerSpec`` of type `Graph` (attribute `graph`: the description's JSON),
    /// with zero initialisers of the listed shapes (a model file's tensors are assigned after).
    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        guard case .string(let json)? = spec.attributes["graph"] else {
            throw GlassboxError.invalidArgument("Graph: missing attribute 'graph' (the graph description JSON)")
        }
        let description = try GraphDescription.parse(json: json)
        var tensors: [String: Tensor] = [:]
        for info in description.initializers {
            try Tensor.validate(shape: info.shape)
            tensors[info.name] = Tensor.zeros(info.shape)
        }
        try self.init(description: description, tensors: tensors)
    }

    /// Nodes sorted so that each comes after the producers of its inputs (Kahn's algorithm,
    /// stable in file order). Throws naming the node for a tensor produced twice, an input nothing
    /// produces, or a cycle.
    static func topologicalOrder(_ nodes: [GraphNode], available: Set<String>) throws -> [GraphNode] {
        var producer: [String: Int] = [:]
        var names = Set<String>()
        for (i, node) in nodes.enumerated() {
            guard names.insert(node.name).inserted else { throw GlassboxError.invalidArgument("two nodes are named '\(node.name)'") }
            for out in node.outputs where !out.isEmpty {
                guard producer[out] == nil, !available.contains(out) else {
                    throw GlassboxError.invalidArgument("node '\(node.name)' (\(node.op)) writes tensor '\(out)', which already has a value")
                }
                producer[out] = i
            }
        }
        var pending = [Int](repeating: 0, count: nodes.count)
        var consumers = [[Int]](repeating: [], count: nodes.count)
        for (i, node) in nodes.enumerated() {
            for name in node.inputs where !name.isEmpty && !available.contains(name) {
                guard let p = producer[name] else {
                    throw GlassboxError.invalidArgument(
                        "node '\(node.name)' (\(node.op)) reads tensor '\(name)', which no node, initialiser or graph input provides")
                }
                pending[i] += 1
                consumers[p].append(i)
            }
        }
        // A min-heap would keep file order exactly; a sorted ready list is enough here.
        var ready = (0..<nodes.count).filter { pending[$0] == 0 }.reversed().map { $0 }
        var order: [GraphNode] = []
        order.reserveCapacity(nodes.count)
        while let i = ready.popLast() {
            order.append(nodes[i])
            for c in consumers[i] {
                pending[c] -= 1
                if pending[c] == 0 { ready.append(c) }
            }
        }
        if order.count < nodes.count {
            let stuck = (0..<nodes.count).first { pending[$0] > 0 }!
            throw GlassboxError.invalidArgument(
                "the graph has a cycle: node '\(nodes[stuck].name)' (\(nodes[stuck].op)) depends on its own output")
        }
        return order
    }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        try run(input, context: context)[0].variable
    }

    /// Runs the graph, returning every graph output in order.
    public func run(_ input: Variable, context: ForwardContext) throws -> [GraphValue] {
        let inputInfo = description.inputs[0]
        guard input.value.rank == inputInfo.shape.count,
              zip(input.shape, inputInfo.shape).allSatisfy({ $1 == nil || $0 == $1 }) else {
            throw GlassboxError.shapeMismatch(
                "graph input '\(inputInfo.name)' expects shape \(inputInfo.shape.map { $0.map(String.init) ?? "N" }), got \(input.shape)")
        }
        var values = constants
        values[inputInfo.name] = GraphValue(input)
        for (i, op) in ops.enumerated() {
            let node = op.node
            var args: [GraphValue?] = []
            args.reserveCapacity(node.inputs.count)
            for name in node.inputs { args.append(name.isEmpty ? nil : values[name]!) }
            var outs: [GraphValue] = []
            do {
                if node.outputs.count == 1 {
                    var integer = false
                    let y = try context.call(op, named: node.name) {
                        let r = try op.apply(args, context: context)
                        integer = r[0].isInteger
                        return r[0].variable
                    }
                    outs = [GraphValue(y, isInteger: integer)]
                } else {
                    outs = try op.apply(args, context: context)
                }
            } catch let error as GlassboxError where !(error.isCancellation) {
                throw GlassboxError.invalidArgument("node '\(node.name)' (\(node.op)): \(GraphModel.text(of: error))")
            }
            for (name, value) in zip(node.outputs, outs) where !name.isEmpty { values[name] = value }
            for name in node.inputs where !name.isEmpty && lastUse[name] == i && constants[name] == nil { values[name] = nil }
        }
        return description.outputs.map { values[$0]! }
    }

    /// An error's message without its category prefix.
    static func text(of error: any Error) -> String {
        switch error as? GlassboxError {
        case .invalidArgument(let m)?, .shapeMismatch(let m)?, .nonFinite(let m)?, .numerical(let m)?: return m
        default: return "\(error)"
        }
    }

    /// The nodes' ops, named by node (they hold no tensors; hooks see them under these names).
    public var children: [(name: String, layer: any Layer)] { ops.map { (name: $0.node.name, layer: $0) } }

    public var parameters: [(name: String, variable: Variable)] {
        description.initializers.filter { !$0.integer }.map { ($0.name, constants[$0.name]!.variable) }
    }

    public var buffers: [(name: String, variable: Variable)] {
        description.initializers.filter(\.integer).map { ($0.name, constants[$0.name]!.variable) }
    }

    public var spec: LayerSpec {
        LayerSpec(type: "Graph", attributes: ["graph": .string((try? description.jsonString()) ?? "{}")])
    }
}

extension GlassboxError {
    var isCancellation: Bool { if case .cancelled = self { return true } else { return false } }
}
