import Foundation
import GlassboxNN

/// ConvAD (``ActivationDeactivation``) compiled onto an ``InferencePlan``: the masked forward
/// pass at the plan's speed, with the layer walk's semantics.
///
/// Why it can be compiled: in ConvAD the masks never depend on the activations, only on the
/// input mask and the layer geometry. So the walk is run once, symbolically, when the plan is
/// built: it records which layer outputs get deactivated and with which mask (a small program
/// of mask operations: erode or majority-resize through a window, AND at residual sums), and
/// which global average pools take a masked mean. Per batch, the masks of that program are
/// computed once (separable window counts over one byte per pixel), and plan observers zero
/// the occluded units of the recorded layer outputs in place (``InferenceActivation/deactivate(keeping:)``)
/// and rescale the masked means per sample (the plain mean times `H·W / Σm`, 0 when `Σm = 0`).
/// A strict variant that deactivates the input zeroes the occluded input pixels before the plan runs.
///
/// One identity is exploited, because it is exact: in the strict variant a deactivation of a
/// pooling layer's input that only that pool reads is dropped. The pool's output is always
/// deactivated with the eroded mask, and an output unit kept by erosion reads only kept input
/// units, whose values the dropped deactivation would not have changed (padding never holds an
/// occluded unit); every other output unit is zeroed anyway. This keeps conv + ReLU + max pool
/// fused (the ReLU's deactivation disappears).
///
/// Results: equal to ``ActivationDeactivation/referenceLogits(images:masks:)`` up to the plan's
/// float rounding (folded batch norm, summation order); with an all-visible mask, bit-identical
/// to the plain plan's output (every deactivation is the identity and no mean is rescaled); in
/// the strict variant, bit-identical under any refill of the occluded pixels. Independent of
/// batch size, split and thread count, like the plan.
///
/// Cost: the plan's forward pass (less fusion only where a deactivation sits between fusable
/// layers) plus one pass over each deactivated output's occluded pixels and `O(n·H·W·(kh + kw))`
/// mask work per window op. Thread safety: calls on one instance are serialised; use ``copy()``
/// for concurrent evaluation.
public final class ActivationDeactivationPlan: @unchecked Sendable {
    /// A mask of the symbolic walk: the input mask, or derived from earlier ones.
    enum MaskNode {
        case input
        case resize(source: Int, window: Window2D, mode: SpatialMask.Resize)
        case and(Int, Int)
    }

    /// What the observers do at one layer output, in the walk's order.
    enum Action {
        case deactivate(node: Int)
        /// Masked global mean: multiply sample `i` by `H·W / Σ node_i` (0 when nothing is kept).
        case maskedMean(node: Int)
    }

    /// The compiled walk, shared by copies.
    final class Program: @unchecked Sendable {
        let nodes: [MaskNode]
        /// Spatial size of each node's mask.
        let sizes: [(h: Int, w: Int)]
        /// Whether the occluded input pixels are zeroed before the plan runs.
        let zeroesInput: Bool
        /// Plan path → actions on that path's output.
        let actions: [(path: String, actions: [Action])]
        /// Nodes whose per-sample kept fraction a masked mean needs.
        let meanNodes: [Int]
        /// Int32 scratch one worker needs for a resize (the largest over the nodes).
        let scratchPerSample: Int

        init(nodes: [MaskNode], sizes: [(h: Int, w: Int)], zeroesInput: Bool, actions: [(path: String, actions: [Action])]) {
            (self.nodes, self.sizes, self.zeroesInput, self.actions) = (nodes, sizes, zeroesInput, actions)
            scratchPerSample = nodes.indices.map { i -> Int in
                guard case .resize(let source, _, _) = nodes[i] else { return 1 }
                return sizes[source].h * sizes[i].w + 3 * sizes[i].w
            }.max() ?? 1
            meanNodes = Array(Set(actions.flatMap { $0.actions.compactMap { if case .maskedMean(let n) = $0 { return n } else { return nil } } })).sorted()
        }
    }

    /// Per-call mask memory, read by the observers (from several workers at once, read-only).
    final class Masks: @unchecked Sendable {
        var capacity = 0
        /// One byte per pixel per sample for each node.
        var bytes: [UnsafeMutablePointer<UInt8>] = []
        /// Per-sample factor of each node that needs one (indexed by node; empty otherwise).
        var factors: [UnsafeMutablePointer<Float>?] = []

        func reserve(_ n: Int, _ program: Program) {
            guard n > capacity else { return }
            release()
            bytes = program.sizes.map { s in
                let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, n * s.h * s.w))
                p.initialize(repeating: 0, count: max(1, n * s.h * s.w))
                return p
            }
            factors = program.nodes.indices.map { program.meanNodes.contains($0) ? .allocate(capacity: n) : nil }
            capacity = n
        }

        func release() {
            for b in bytes { b.deallocate() }
            for f in factors { f?.deallocate() }
            bytes = []
            factors = []
            capacity = 0
        }

        deinit { release() }
    }

    /// The ConvAD rule set compiled into the plan.
    public let variant: ActivationDeactivation.Variant
    /// Shape of one input image `[C, H, W]`.
    public let sampleShape: [Int]
    /// Logits per image.
    public var classes: Int { plan.outputCount }
    /// The plan's compiled steps (for inspection: which outputs are observed, what stayed fused).
    public var steps: [InferencePlan.Step] { plan.steps }
    /// The layer outputs the observers deactivate or rescale (plan paths).
    public var observedPaths: [String] { program.actions.map(\.path) }

    let program: Program
    private let plan: InferencePlan
    private let masks = Masks()
    private let lock = NSLock()
    private var inputCopy: [Float] = []

    /// Compiles ConvAD for `model` on images `[C, H, W]`. Throws what the walk would throw for
    /// such images (unsupported layers, spatial layers after the activation stopped being
    /// spatial, residual branches on different grids), or ``Unsupported`` for the rare models
    /// whose deactivations a plan cannot express (a value deactivated after another layer
    /// already read it); those run through the reference walk instead.
    public init(model: any Layer, variant: ActivationDeactivation.Variant, sampleShape: [Int]) throws {
        guard sampleShape.count == 3, sampleShape.allSatisfy({ $0 > 0 }) else {
            throw GlassboxError.shapeMismatch("ConvAD needs images [C, H, W] with positive extents, got \(sampleShape)")
        }
        _ = try ActivationDeactivation(model: model, variant: variant)
        if model is GraphModel {
            throw Unsupported(description: "ConvAD on graph models runs through the reference walk (not compiled yet)")
        }
        var compiler = WalkCompiler(strict: variant == .strict, height: sampleShape[1], width: sampleShape[2])
        program = try compiler.compile(model)
        self.variant = variant
        self.sampleShape = sampleShape
        plan = try model.compiledForInference(sampleShape: sampleShape, observing: program.actions.map(\.path))
        guard plan.outputShape.count == 1 else {
            throw GlassboxError.shapeMismatch("ConvAD: the model must end in class logits [n, classes], got [n] + \(plan.outputShape)")
        }
        try register()
    }

    private init(sharing other: ActivationDeactivationPlan) throws {
        (variant, sampleShape, program) = (other.variant, other.sampleShape, other.program)
        plan = other.plan.copy()
        plan.removeObservers()
        try register()
    }

    /// An instance sharing the compiled plan and mask program, with buffers and observers of
    /// its own: one per thread for concurrent evaluation.
    public func copy() -> ActivationDeactivationPlan {
        // Registration cannot fail here: the same paths were observable when `self` was built.
        try! ActivationDeactivationPlan(sharing: self)
    }

    /// Thrown for models whose deactivations do not map onto plan observers (see ``init(model:variant:sampleShape:)``).
    public struct Unsupported: Error, CustomStringConvertible {
        /// Names the layer or construct that cannot be compiled.
        public let description: String
    }

    private func register() throws {
        let masks = self.masks, program = self.program
        for (path, actions) in program.actions {
            try plan.observe(path) { activation in
                let first = activation.samples.lowerBound
                for action in actions {
                    switch action {
                    case .deactivate(let node):
                        let plane = program.sizes[node].h * program.sizes[node].w
                        // Shapes were checked when compiling; a failure here would be a compiler bug.
                        try! activation.deactivate(keeping: masks.bytes[node] + first * plane)
                    case .maskedMean(let node):
                        activation.scale(bySampleFactors: masks.factors[node]! + first)
                    }
                }
            }
        }
    }

    // MARK: evaluation

    /// Logits `[n, classes]` of `images` `[n, C, H, W]` under keep-masks `masks` `[n, 1, H, W]`
    /// (non-zero = visible).
    public func logits(images: Tensor, masks: Tensor) throws -> Tensor {
        let (c, h, w) = (sampleShape[0], sampleShape[1], sampleShape[2])
        guard images.rank == 4, Array(images.shape.dropFirst()) == sampleShape, masks.rank == 4,
              masks.shape == [images.shape[0], 1, h, w] else {
            throw GlassboxError.shapeMismatch(
                "ConvAD compiled for images [n, \(c), \(h), \(w)] and masks [n, 1, \(h), \(w)], got \(images.shape) and \(masks.shape)")
        }
        let n = images.shape[0]
        var out = [Float](repeating: 0, count: n * classes)
        try images.scalars.withUnsafeBufferPointer { x in
            try masks.scalars.withUnsafeBufferPointer { m in
                try out.withUnsafeMutableBufferPointer { o in
                    try logits(images: x.baseAddress!, masks: m.baseAddress!, batch: n, into: o.baseAddress!)
                }
            }
        }
        return Tensor(uncheckedShape: [n, classes], scalars: out)
    }

    /// Raw-memory form: `batch` images (`[batch, C, H, W]`) and keep-masks (`[batch, H, W]`,
    /// non-zero = visible) → `batch · classes` logits. When the variant zeroes the input, the
    /// images are copied first (use ``logits(zeroingImagesInPlace:masks:batch:into:)`` to skip the copy).
    public func logits(images: UnsafePointer<Float>, masks keep: UnsafePointer<Float>, batch: Int,
                       into output: UnsafeMutablePointer<Float>) throws {
        guard batch > 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        let count = batch * plan.sampleCount
        if program.zeroesInput {
            if inputCopy.count < count { inputCopy = [Float](repeating: 0, count: count) }
            try inputCopy.withUnsafeMutableBufferPointer { buffer in
                buffer.baseAddress!.update(from: images, count: count)
                try run(buffer.baseAddress!, keep, batch, output)
            }
        } else {
            try run(UnsafeMutablePointer(mutating: images), keep, batch, output)
        }
    }

    /// Like ``logits(images:masks:batch:into:)``, but zeroes the occluded pixels of `images` in
    /// place when the variant deactivates the input (the strict one), instead of copying them.
    public func logits(zeroingImagesInPlace images: UnsafeMutablePointer<Float>, masks keep: UnsafePointer<Float>,
                       batch: Int, into output: UnsafeMutablePointer<Float>) throws {
        guard batch > 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        try run(images, keep, batch, output)
    }

    /// Whether the variant zeroes the occluded input pixels (so a caller building the images may
    /// put zeros there directly).
    public var zeroesInput: Bool { program.zeroesInput }

    private func run(_ images: UnsafeMutablePointer<Float>, _ keep: UnsafePointer<Float>, _ n: Int,
                     _ output: UnsafeMutablePointer<Float>) throws {
        masks.reserve(n, program)
        // Mask work is per sample: split it like the plan splits the batch (inline when nested).
        let plane = sampleShape[1] * sampleShape[2]
        Compute.parallelRanges(n, costPerItem: 4 * plane * program.nodes.count, minimumCost: 200_000) { range in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: program.scratchPerSample) { scratch in
                computeMasks(keep, range, scratch.baseAddress!)
            }
            if program.zeroesInput { zeroInput(images, range) }
        }
        try plan.predict(UnsafePointer(images), batch: n, into: output)
    }

    /// Zeroes the occluded pixels of the input images `range`.
    private func zeroInput(_ images: UnsafeMutablePointer<Float>, _ range: Range<Int>) {
        let (c, plane) = (sampleShape[0], sampleShape[1] * sampleShape[2])
        let m = masks.bytes[0]
        for i in range {
            let mi = m + i * plane
            for ch in 0..<c {
                let x = images + (i * c + ch) * plane
                for j in 0..<plane { x[j] = mi[j] != 0 ? x[j] : 0 }
            }
        }
    }

    /// Every node's masks for the samples `range`, and the masked-mean factors.
    private func computeMasks(_ keep: UnsafePointer<Float>, _ range: Range<Int>, _ scratch: UnsafeMutablePointer<Int32>) {
        for (index, node) in program.nodes.enumerated() {
            let (h, w) = program.sizes[index], plane = h * w, dst = masks.bytes[index]
            switch node {
            case .input:
                for j in range.lowerBound * plane..<range.upperBound * plane { dst[j] = keep[j] != 0 ? 1 : 0 }
            case .resize(let source, let window, let mode):
                let (sh, sw) = program.sizes[source]
                for i in range {
                    Self.resize(masks.bytes[source] + i * sh * sw, sh, sw, window, mode, dst + i * plane, h, w, scratch)
                }
            case .and(let a, let b):
                let (pa, pb) = (masks.bytes[a], masks.bytes[b])
                for j in range.lowerBound * plane..<range.upperBound * plane { dst[j] = pa[j] & pb[j] }
            }
            if let factors = masks.factors[index] {
                for i in range {
                    var kept = 0
                    let m = dst + i * plane
                    for j in 0..<plane { kept += Int(m[j]) }
                    factors[i] = kept == plane ? 1 : kept == 0 ? 0 : Float(plane) / Float(kept)
                }
            }
        }
    }

    /// One sample's mask through a window op, as ``SpatialMask/resize(_:window:mode:op:)`` defines
    /// it, with separable counts: kept inputs per (input row, output column), then summed over
    /// each output row's window rows; the in-bounds count factors the same way.
    static func resize(_ m: UnsafePointer<UInt8>, _ h: Int, _ w: Int, _ k: Window2D, _ mode: SpatialMask.Resize,
                       _ out: UnsafeMutablePointer<UInt8>, _ ho: Int, _ wo: Int, _ scratch: UnsafeMutablePointer<Int32>) {
        // Scratch: kept counts per (input row, output column), then per output column the first
        // in-bounds tap and the in-bounds tap count, then the running sums of one output row.
        let rowKept = scratch, tapStart = scratch + h * wo, tapCount = tapStart + wo, kept = tapCount + wo
        for ox in 0..<wo {
            // Taps kx with 0 ≤ ox·sw − pw + kx·dw < w form one run [first, first + count).
            let x0 = ox * k.sw - k.pw
            var first = 0
            while first < k.kw && x0 + first * k.dw < 0 { first += 1 }
            var last = first
            while last < k.kw && x0 + last * k.dw < w { last += 1 }
            tapStart[ox] = Int32(x0 + first * k.dw)
            tapCount[ox] = Int32(last - first)
        }
        for y in 0..<h {
            let row = m + y * w, counts = rowKept + y * wo
            for ox in 0..<wo {
                let x = row + Int(tapStart[ox])
                var sum: Int32 = 0
                for t in 0..<Int(tapCount[ox]) { sum &+= Int32(x[t * k.dw]) }
                counts[ox] = sum
            }
        }
        for oy in 0..<ho {
            let y0 = oy * k.sh - k.ph
            var first = 0
            while first < k.kh && y0 + first * k.dh < 0 { first += 1 }
            var last = first
            while last < k.kh && y0 + last * k.dh < h { last += 1 }
            let colTotal = Int32(last - first)
            let o = out + oy * wo
            for ox in 0..<wo { kept[ox] = 0 }
            for ky in first..<last {
                let counts = rowKept + (y0 + ky * k.dh) * wo
                for ox in 0..<wo { kept[ox] &+= counts[ox] }
            }
            switch mode {
            case .erode:
                for ox in 0..<wo { o[ox] = kept[ox] == colTotal &* tapCount[ox] ? 1 : 0 }
            case .majority:
                for ox in 0..<wo {
                    let total = colTotal &* tapCount[ox]
                    o[ox] = total > 0 && 2 &* kept[ox] >= total ? 1 : 0
                }
            }
        }
    }
}

/// The symbolic ConvAD walk: the same traversal and rules as ``ActivationDeactivation``'s
/// reference walk, recording deactivations instead of performing them.
struct WalkCompiler {
    let strict: Bool
    var nodes: [ActivationDeactivationPlan.MaskNode] = [.input]
    var sizes: [(h: Int, w: Int)]

    /// One version of one activation: a layer's output, or a deactivated copy of one (which the
    /// plan stores in the same place).
    struct Version {
        /// Plan path of the producing layer; nil for the model input.
        var path: String?
        var reads = 0
        /// Superseded by a deactivation: nobody may read it later.
        var superseded = false
        /// The event that made this version, with its mask node.
        var event: Int?
    }
    var versions: [Version] = [Version(path: nil)]

    struct Event {
        var path: String?
        var action: ActivationDeactivationPlan.Action
        var dropped = false
    }
    var events: [Event] = []
    /// Deactivations a strict pool may make redundant: (event, version the pool read).
    var poolCandidates: [(event: Int, version: Int)] = []

    struct State {
        var version: Int
        var mask: Int?
        var dirty: Bool
        /// The mask node the current version was deactivated with, if any.
        var clean: Int?
    }

    init(strict: Bool, height: Int, width: Int) {
        self.strict = strict
        sizes = [(height, width)]
    }

    mutating func compile(_ model: any Layer) throws -> ActivationDeactivationPlan.Program {
        var s = State(version: 0, mask: 0, dirty: strict, clean: nil)
        s = try run(model, s, path: "")
        read(s)
        for candidate in poolCandidates where versions[candidate.version].reads == 1 {
            events[candidate.event].dropped = true
        }
        let kept = events.filter { !$0.dropped }
        var order: [String] = []
        var byPath: [String: [ActivationDeactivationPlan.Action]] = [:]
        var zeroesInput = false
        for e in kept {
            guard let path = e.path else {
                zeroesInput = true
                continue
            }
            guard !path.isEmpty else {
                throw ActivationDeactivationPlan.Unsupported(description: "ConvAD: the model's own output would be deactivated")
            }
            if byPath[path] == nil { order.append(path) }
            byPath[path, default: []].append(e.action)
        }
        return .init(nodes: nodes, sizes: sizes, zeroesInput: zeroesInput, actions: order.map { ($0, byPath[$0]!) })
    }

    static func join(_ prefix: String, _ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }

    private mutating func read(_ s: State) {
        versions[s.version].reads += 1
    }

    private mutating func checkReadable(_ s: State, _ path: String) throws {
        if versions[s.version].superseded {
            throw ActivationDeactivationPlan.Unsupported(
                description: "ConvAD: layer '\(path)' reads an activation another branch deactivated in place")
        }
    }

    /// A layer at `path` consumed `s` and produced a new activation.
    private mutating func produce(_ s: inout State, _ path: String) throws {
        try checkReadable(s, path)
        read(s)
        versions.append(Version(path: path))
        s.version = versions.count - 1
        s.clean = nil
    }

    private mutating func deactivate(_ s: inout State) throws {
        defer { s.dirty = false }
        guard let mask = s.mask else { return }
        if s.clean == mask { return }  // already zeroed with this very mask: the identity
        let v = versions[s.version]
        guard v.reads == 0, !v.superseded else {
            throw ActivationDeactivationPlan.Unsupported(
                description: "ConvAD: the output of '\(v.path ?? "input")' is deactivated after another layer read it")
        }
        versions[s.version].superseded = true
        events.append(Event(path: v.path, action: .deactivate(node: mask)))
        versions.append(Version(path: v.path, event: events.count - 1))
        s.version = versions.count - 1
        s.clean = mask
    }

    private mutating func resize(_ node: Int, _ window: Window2D, path: String) throws -> Int {
        let (h, w) = sizes[node]
        let (ho, wo) = try window.outputSize(height: h, width: w, inputShape: [1, 1, h, w], op: "ConvAD \(path)")
        nodes.append(.resize(source: node, window: window, mode: strict ? .erode : .majority))
        sizes.append((ho, wo))
        return nodes.count - 1
    }

    private func spatialMask(_ s: State, path: String) throws -> Int {
        guard let mask = s.mask else {
            throw GlassboxError.shapeMismatch("ConvAD: spatial layer '\(path)' after the activation stopped being spatial")
        }
        return mask
    }

    private mutating func run(_ layer: any Layer, _ input: State, path: String) throws -> State {
        var s = input
        switch layer {
        case let seq as Sequential:
            for child in seq.children { s = try run(child.layer, s, path: Self.join(path, child.name)) }
        case let res as Residual:
            if strict && s.dirty { try deactivate(&s) }
            let main = try run(res.body, s, path: Self.join(path, "body"))
            let skip = try res.shortcut.map { try run($0, s, path: Self.join(path, "shortcut")) } ?? s
            guard let mb = main.mask, let ms = skip.mask, sizes[mb] == sizes[ms] else {
                throw GlassboxError.shapeMismatch("ConvAD: residual '\(path)' branches lost or disagree on their spatial grid")
            }
            try checkReadable(main, path)
            try checkReadable(skip, path)
            read(main)
            var out = skip
            try produce(&out, path)
            nodes.append(.and(mb, ms))
            sizes.append(sizes[mb])
            out.mask = nodes.count - 1
            out.dirty = true
            try deactivate(&out)
            s = out
        case let conv as Conv2d:
            let mask = try spatialMask(s, path: path)
            if strict && s.dirty { try deactivate(&s) }
            try produce(&s, path)
            let window = try Window2D(kernel: conv.kernelSize, stride: conv.stride, padding: conv.padding,
                                      dilation: conv.dilation, op: "Conv2d")
            s.mask = try resize(mask, window, path: path)
            s.dirty = true
        case is MaxPool2d, is AvgPool2d:
            let mask = try spatialMask(s, path: path)
            if strict && s.dirty { try deactivate(&s) }
            if strict, let event = versions[s.version].event, case .deactivate(let node) = events[event].action, node == mask {
                poolCandidates.append((event, s.version))
            }
            try produce(&s, path)
            let window: Window2D
            if let pool = layer as? MaxPool2d {
                window = try Window2D(kernel: pool.kernelSize, stride: pool.stride, padding: pool.padding,
                                      dilation: pool.dilation, op: "MaxPool2d")
            } else {
                let pool = layer as! AvgPool2d
                window = try Window2D(kernel: pool.kernelSize, stride: pool.stride, padding: pool.padding,
                                      dilation: (1, 1), op: "AvgPool2d")
            }
            s.mask = try resize(mask, window, path: path)
            try deactivate(&s)
        case is BatchNorm2d, is Dropout:
            try produce(&s, path)
            if strict { s.dirty = true }
        case is ReLU, is LeakyReLU, is Tanh, is GELU, is Sigmoid:
            try produce(&s, path)
            if strict { try deactivate(&s) }
        case is GlobalAvgPool:
            let mask = try spatialMask(s, path: path)
            try deactivate(&s)
            try produce(&s, path)
            events.append(Event(path: path, action: .maskedMean(node: mask)))
            s.mask = nil
            s.dirty = false
        case is Flatten:
            if s.mask != nil { try deactivate(&s) }
            try produce(&s, path)
            s.mask = nil
            s.dirty = false
        case is Linear:
            guard s.mask == nil else {
                throw GlassboxError.shapeMismatch("ConvAD: Linear '\(path)' applied to a spatial activation; flatten or pool first")
            }
            try produce(&s, path)
        default:
            throw GlassboxError.invalidArgument("ConvAD does not support layer '\(path)' of type \(layer.spec.type)")
        }
        return s
    }
}
