/// A node of a reverse-mode automatic-differentiation graph: a tensor value, its accumulated
/// gradient, and the hand-written rule that sends an incoming gradient to the node's inputs.
///
/// Every op (see `Ops/`) computes its value with plain tensor kernels and, when any input needs a
/// gradient, records a closure `backward(dOut)` that *accumulates* (`+=`) into its inputs'
/// gradients — so shared weights and skip connections are right by construction. Ops whose
/// inputs need no gradient record nothing, so inference through the same layers builds no graph.
///
/// Gradients are available for any leaf created with `requiresGrad: true` — parameters, but also
/// model inputs, which attribution methods differentiate with respect to.
///
/// `gradientHook` rewrites the gradient arriving at this node before it flows further back
/// (FEI's selective gradient clipping, gradient inspection). Layers install hooks through
/// ``ForwardContext``.
public final class Variable: @unchecked Sendable {
    /// The forward value.
    public var value: Tensor
    /// Accumulated gradient of the last ``backward(_:)`` with respect to this node (nil if none reached it).
    public var grad: Tensor?
    /// Whether gradients are tracked through this node.
    public let requiresGrad: Bool
    /// Optional label (layer path or parameter name) for diagnostics.
    public var name: String?
    /// Rewrites the gradient of this node before it is propagated to the node's inputs
    /// (op results only: a leaf's gradient is an accumulator and is left as it is).
    public var gradientHook: ((Tensor) -> Tensor)?

    private(set) var inputs: [Variable]
    private(set) var backwardRule: ((Tensor) -> Void)?

    /// A leaf: a constant (`requiresGrad: false`) or a differentiable input/parameter.
    public init(_ value: Tensor, requiresGrad: Bool = false, name: String? = nil) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.name = name
        self.inputs = []
        self.backwardRule = nil
    }

    init(value: Tensor, inputs: [Variable], backward: @escaping (Tensor) -> Void) {
        self.value = value
        self.requiresGrad = true
        self.inputs = inputs
        self.backwardRule = backward
    }

    /// Frees the graph behind this node iteratively. Released the default way, each node's
    /// release would release its inputs from inside its own deinit, one set of stack frames per
    /// node: a chain of 60,000 layers overflowed the stack. Here every node that only this walk
    /// still holds gives up its inputs and backward rule (whose captures are the inputs) to a
    /// work list before it is freed, so no deinit recurses. Cost: O(nodes).
    deinit {
        guard !inputs.isEmpty || backwardRule != nil else { return }
        var pending = inputs
        inputs = []
        backwardRule = nil
        while var node = pending.popLast() {
            if isKnownUniquelyReferenced(&node) {
                pending.append(contentsOf: node.inputs)
                node.inputs = []
                node.backwardRule = nil
            }
        }
    }

    /// The result of an op: tracked (with `backward`) only if some input requires a gradient.
    public static func result(_ value: Tensor, inputs: [Variable],
                              backward: @escaping (Tensor) -> Void) -> Variable {
        for input in inputs where input.requiresGrad {
            return Variable(value: value, inputs: inputs, backward: backward)
        }
        return Variable(value)
    }

    /// Shape of the value.
    public var shape: [Int] { value.shape }

    /// Adds `g` to this node's gradient (no-op for untracked nodes).
    public func accumulate(_ g: Tensor) {
        guard requiresGrad else { return }
        if grad == nil { grad = g } else { grad!.add(g) }
    }

    /// Clears the gradient.
    public func zeroGrad() { grad = nil }

    /// Back-propagates from this node: seeds its gradient with `seed` (ones, for a scalar loss)
    /// and runs every recorded rule in reverse topological order.
    ///
    /// Cost: one backward rule per node reachable from here; each rule costs about as much as
    /// its forward op (2× for matmul and convolution).
    public func backward(_ seed: Tensor? = nil) throws {
        guard requiresGrad else {
            throw GlassboxError.invalidArgument("backward() from a value that does not depend on any tracked variable")
        }
        let seedValue: Tensor
        if let seed {
            guard seed.shape == value.shape else {
                throw GlassboxError.shapeMismatch("backward seed \(seed.shape) for a value of shape \(value.shape)")
            }
            seedValue = seed
        } else {
            guard value.count == 1 else {
                throw GlassboxError.shapeMismatch("backward() without a seed needs a single-element value, got \(value.shape)")
            }
            seedValue = Tensor.ones(value.shape)
        }
        let order = topologicalOrder()
        // Intermediate gradients are per-backward: clear them so a second pass starts fresh.
        for node in order where node.backwardRule != nil { node.grad = nil }
        accumulate(seedValue)
        for node in order.reversed() {
            guard let rule = node.backwardRule, var g = node.grad else { continue }
            if let hook = node.gradientHook { g = hook(g); node.grad = g }
            rule(g)
        }
    }

    /// Nodes reachable from `self` (tracked only), inputs before the nodes that use them.
    private func topologicalOrder() -> [Variable] {
        var order: [Variable] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Variable, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
            stack.append((node, true))
            for input in node.inputs where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        return order
    }

    /// A new untracked leaf holding the same value: cuts the graph here.
    public func detached() -> Variable { Variable(value) }
}

/// Computes `f(x)` and the gradient of `sum(f(x) * seed)` with respect to `x`.
///
/// For attribution: `gradient(of: { try model.forward($0, ...) }, at: images, seed: oneHot)`.
public func gradient(at x: Tensor, seed: Tensor? = nil,
                     of f: (Variable) throws -> Variable) throws -> (value: Tensor, gradient: Tensor) {
    let input = Variable(x, requiresGrad: true)
    let out = try f(input)
    try out.backward(seed)
    return (out.value, input.grad ?? Tensor.zeros(x.shape))
}
