/// ONNX's shape and data-movement ops: `Flatten`, `Reshape`, `Transpose`, `Concat`, `Squeeze`,
/// `Unsqueeze`, `Pad`, `Identity`, `Dropout`, `Shape`, `Gather`, `Slice`, `Cast`, `Constant`,
/// `ConstantOfShape`. Integer tensors (shape arithmetic) pass through them unchanged in kind;
/// float tensors carry gradients (reshapes and permutations move them, gathers scatter-add them).

/// `[d0, …] → [d0·…·d(axis−1), d(axis)·…]` (axis 1 by default).
public final class FlattenOp: UnaryGraphOp, GraphOp {
    public static let opType = "Flatten"
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let x = try required(inputs, 0, "input")
        let rank = x.variable.value.rank
        var axis = try node.int("axis", default: 1)
        if axis < 0 { axis += rank }
        guard (0...rank).contains(axis) else { throw GlassboxError.invalidArgument("axis \(axis) is out of range for rank \(rank)") }
        let rows = x.variable.shape[..<axis].reduce(1, *)
        return [GraphValue(try reshape(x.variable, [rows, x.variable.value.count / Swift.max(rows, 1)]), isInteger: x.isInteger)]
    }
}

/// Reshape to the `shape` input: `0` copies the input's extent (unless `allowzero`), `−1` is
/// inferred.
public final class ReshapeOp: GraphOp {
    public static let opType = "Reshape"
    public let node: GraphNode
    public init(node: GraphNode, opset: Int) throws { self.node = node }
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let x = try required(inputs, 0, "data")
        var shape = try required(inputs, 1, "shape").ints
        guard shape.allSatisfy({ $0 >= -1 && $0 <= graphMaxValues }) else {
            throw GlassboxError.invalidArgument("shape \(shape) has an extent out of range")
        }
        if try node.int("allowzero", default: 0) == 0 {
            for i in shape.indices where shape[i] == 0 {
                guard i < x.variable.value.rank else { throw GlassboxError.invalidArgument("shape \(shape) copies axis \(i) of \(x.variable.shape)") }
                shape[i] = x.variable.shape[i]
            }
        }
        try graphCheckSize(shape.filter { $0 != -1 })
        return [GraphValue(try reshape(x.variable, shape), isInteger: x.isInteger)]
    }
}

/// Axis permutation `perm` (default: reversed).
public final class TransposeOp: UnaryGraphOp, GraphOp {
    public static let opType = "Transpose"
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let x = try required(inputs, 0, "data")
        let perm = try node.ints("perm") ?? Array((0..<x.variable.value.rank).reversed())
        return [GraphValue(try permute(x.variable, perm), isInteger: x.isInteger)]
    }
}

/// Concatenation along `axis`.
public final class ConcatOp: GraphOp {
    public static let opType = "Concat"
    public let node: GraphNode
    public init(node: GraphNode, opset: Int) throws { self.node = node }
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let parts = inputs.compactMap { $0 }
        guard let first = parts.first else { throw GlassboxError.invalidArgument("Concat of no inputs") }
        let axis = try graphAxis(try node.int("axis", default: 0), rank: first.variable.value.rank)
        let kept = parts.filter { $0.variable.value.count > 0 || parts.count == 1 }
        return [GraphValue(try concat(kept.map(\.variable), axis: axis), isInteger: parts.allSatisfy(\.isInteger))]
    }
}

/// Axes from an attribute (older opsets) or from input 1 (Squeeze/Unsqueeze from opset 13).
func graphAxesInput(_ node: GraphNode, _ inputs: [GraphValue?]) throws -> [Int]? {
    if let a = try node.ints("axes") { return a }
    return inputs.count > 1 ? inputs[1]?.ints : nil
}

/// Removes the listed unit axes (all unit axes when none are listed).
public final class SqueezeOp: UnaryGraphOp, GraphOp {
    public static let opType = "Squeeze"
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let x = try required(inputs, 0, "data")
        let shape = x.variable.shape
        let axes = try (try graphAxesInput(node, inputs)).map { try $0.map { try graphAxis($0, rank: shape.count) } }
            ?? shape.indices.filter { shape[$0] == 1 }
        for a in axes where shape[a] != 1 { throw GlassboxError.shapeMismatch("cannot squeeze axis \(a) of \(shape)") }
        let out = shape.indices.filter { !axes.contains($0) }.map { shape[$0] }
        return [GraphValue(try reshape(x.variable, out), isInteger: x.isInteger)]
    }
}

/// Inserts unit axes at the listed positions of the output.
public final class UnsqueezeOp: UnaryGraphOp, GraphOp {
    public static let opType = "Unsqueeze"
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let x = try required(inputs, 0, "data")
        guard let raw = try graphAxesInput(node, inputs) else { throw GlassboxError.invalidArgument("Unsqueeze needs axes") }
        let rank = x.variable.value.rank + raw.count
        let axes = Set(try raw.map { try graphAxis($0, rank: rank) })
        guard axes.count == raw.count else { throw GlassboxError.invalidArgument("repeated axes \(raw)") }
        var out: [Int] = []
        var source = x.variable.shape.makeIterator()
        for i in 0..<rank { out.append(axes.contains(i) ? 1 : source.next()!) }
        return [GraphValue(try reshape(x.variable, out), isInteger: x.isInteger)]
    }
}

/// Padding (`constant`, `edge`, `reflect`); pads and the constant are attributes before opset 11
/// and inputs from 11 on (with optional `axes` from 18).
public final class PadOp: GraphOp {
    public static let opType = "Pad"
    public let node: GraphNode
    let opset: Int
    public init(node: GraphNode, opset: Int) throws { (self.node, self.opset) = (node, opset) }
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let x = try required(inputs, 0, "data")
        let rank = x.variable.value.rank
        let mode = try node.string("mode", default: "constant")
        var pads: [Int], value: Float = 0
        if opset < 11 {
            pads = try node.ints("pads") ?? []
            value = Float(try node.float("value", default: 0))
        } else {
            pads = try required(inputs, 1, "pads").ints
            if let v = optional(inputs, 2) {
                guard v.variable.value.count <= 1 else { throw GlassboxError.invalidArgument("constant_value must be a scalar") }
                value = v.variable.value.scalars.first ?? 0
            }
        }
        var axes = Array(0..<rank)
        if let a = optional(inputs, 3) { axes = try a.ints.map { try graphAxis($0, rank: rank) } }
        guard pads.count == 2 * axes.count else {
            throw GlassboxError.invalidArgument("pads \(pads) need \(2 * axes.count) values for input \(x.variable.shape)")
        }
        var begin = [Int](repeating: 0, count: rank), end = begin
        for (i, a) in axes.enumerated() { begin[a] = pads[i]; end[a] = pads[axes.count + i] }
        return [GraphValue(try graphPad(x.variable, begin: begin, end: end, mode: mode, value: value), isInteger: x.isInteger)]
    }
}

/// The input itself.
public final class IdentityOp: UnaryGraphOp, GraphOp {
    public static let opType = "Identity"
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] { [try required(inputs, 0, "input")] }
}

/// The identity: explanations run the model in inference mode (the mask output is not supported).
public final class DropoutOp: UnaryGraphOp, GraphOp {
    public static let opType = "Dropout"
    public required init(node: GraphNode, opset: Int) throws {
        try super.init(node: node, opset: opset)
        guard node.outputs.count == 1 || node.outputs[1].isEmpty else { throw GlassboxError.invalidArgument("the mask output is not supported") }
    }
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] { [try required(inputs, 0, "data")] }
}

/// The input's shape as an integer vector (`start`/`end` select a range of axes, opset 15).
public final class ShapeOp: UnaryGraphOp, GraphOp {
    public static let opType = "Shape"
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let shape = try required(inputs, 0, "data").variable.shape
        func clamp(_ v: Int) -> Int { Swift.min(Swift.max(v < 0 ? v + shape.count : v, 0), shape.count) }
        let start = clamp(try node.int("start", default: 0)), end = clamp(try node.int("end", default: shape.count))
        return [GraphValue.integers(start < end ? Array(shape[start..<end]) : [])]
    }
}

/// `data` indexed along `axis` by the integer tensor `indices` (negative counts from the end):
/// output shape `data[:axis] + indices + data[axis+1:]`.
public final class GatherOp: GraphOp {
    public static let opType = "Gather"
    public let node: GraphNode
    public init(node: GraphNode, opset: Int) throws { self.node = node }
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let data = try required(inputs, 0, "data"), indices = try required(inputs, 1, "indices")
        let shape = data.variable.shape
        let axis = try graphAxis(try node.int("axis", default: 0), rank: shape.count)
        let n = shape[axis]
        let flat = try indices.ints.map { i -> Int in
            let j = i < 0 ? i + n : i
            guard (0..<n).contains(j) else { throw GlassboxError.invalidArgument("index \(i) is out of range for axis \(axis) of \(shape)") }
            return j
        }
        let y = try gather(data.variable, indices: flat, axis: axis)
        let out = Array(shape[..<axis]) + indices.variable.shape + Array(shape[(axis + 1)...])
        return [GraphValue(try reshape(y, out), isInteger: data.isInteger)]
    }
}

/// `data[starts:ends:steps]` along `axes` (attributes before opset 10, inputs after); bounds are
/// clamped as NumPy does, negative steps walk backwards.
public final class SliceOp: GraphOp {
    public static let opType = "Slice"
    public let node: GraphNode
    let opset: Int
    public init(node: GraphNode, opset: Int) throws { (self.node, self.opset) = (node, opset) }
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let data = try required(inputs, 0, "data")
        let shape = data.variable.shape
        let starts: [Int], ends: [Int]
        var axes: [Int]?, steps: [Int]?
        if opset < 10 {
            starts = try node.ints("starts") ?? []; ends = try node.ints("ends") ?? []; axes = try node.ints("axes")
        } else {
            starts = try required(inputs, 1, "starts").ints; ends = try required(inputs, 2, "ends").ints
            axes = optional(inputs, 3)?.ints; steps = optional(inputs, 4)?.ints
        }
        let ax = try (axes ?? Array(0..<starts.count)).map { try graphAxis($0, rank: shape.count) }
        let st = steps ?? [Int](repeating: 1, count: starts.count)
        guard ends.count == starts.count, ax.count == starts.count, st.count == starts.count else {
            throw GlassboxError.invalidArgument("starts, ends, axes and steps differ in length")
        }
        var y = data.variable
        for i in 0..<starts.count {
            let n = shape[ax[i]]
            guard st[i] != 0 else { throw GlassboxError.invalidArgument("slice step 0") }
            let step = Swift.max(Swift.min(st[i], n + 1), -(n + 1))  // larger steps take one element, as the original
            func resolve(_ v: Int, lo: Int, hi: Int) -> Int {
                let r = v < 0 ? (v <= Int.min / 2 ? lo : v + n) : v
                return Swift.min(Swift.max(r, lo), hi)
            }
            var indices: [Int] = []
            if step > 0 {
                var j = resolve(starts[i], lo: 0, hi: n)
                let e = resolve(ends[i], lo: 0, hi: n)
                while j < e { indices.append(j); j += step }
            } else {
                var j = resolve(starts[i], lo: -1, hi: n - 1)
                let e = resolve(ends[i], lo: -1, hi: n - 1)
                while j > e { indices.append(j); j += step }
            }
            if step == 1, let f = indices.first {
                y = try slice(y, axis: ax[i], range: f..<(f + indices.count))
            } else {
                y = try gather(y, indices: indices, axis: ax[i])
            }
        }
        return [GraphValue(y, isInteger: data.isInteger)]
    }
}

/// Type conversion: to a float type keeps values (and gradients); to an integer type truncates
/// toward zero and to bool tests `≠ 0`, giving an integer tensor without gradient.
public final class CastOp: UnaryGraphOp, GraphOp {
    public static let opType = "Cast"
    /// ONNX element types that Glassbox holds as floats.
    static let floatTypes: Set<Int> = [1, 10, 11, 16]
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let x = try required(inputs, 0, "input")
        let to = try node.int("to", default: 1)
        if CastOp.floatTypes.contains(to) { return [GraphValue(x.variable)] }
        guard [2, 3, 4, 5, 6, 7, 9, 12, 13].contains(to) else { throw GlassboxError.invalidArgument("Cast to element type \(to) is not supported") }
        let v = x.variable.value.map { to == 9 ? ($0 != 0 ? 1 : 0) : $0.rounded(.towardZero) }
        return [GraphValue(Variable(v), isInteger: true)]
    }
}

/// A constant from `value` (a tensor) or `value_float(s)` / `value_int(s)`.
public final class ConstantOp: GraphOp {
    public static let opType = "Constant"
    public let node: GraphNode
    let value: GraphValue
    public init(node: GraphNode, opset: Int) throws {
        self.node = node
        switch (node.attributes["value"], node.attributes["value_float"], node.attributes["value_floats"],
                node.attributes["value_int"], node.attributes["value_ints"]) {
        case (.tensor(let shape, let values, let integer)?, _, _, _, _):
            try Tensor.validate(shape: shape)
            value = GraphValue(Variable(try Tensor(shape: shape, scalars: values.map { Float($0) })), isInteger: integer)
        case (_, .float(let v)?, _, _, _): value = GraphValue(Variable(Tensor(uncheckedShape: [], scalars: [Float(v)])))
        case (_, _, .floats(let v)?, _, _): value = GraphValue(Variable(Tensor(v.map { Float($0) })))
        case (_, _, _, .int(let v)?, _): value = GraphValue.integers([v], shape: [])
        case (_, _, _, _, .ints(let v)?): value = GraphValue.integers(v)
        default: throw GlassboxError.invalidArgument("Constant needs a value, value_float(s) or value_int(s) attribute")
        }
    }
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] { [value] }
}

/// A tensor of the shape given by the input, filled with `value` (a one-element tensor, default 0.0).
public final class ConstantOfShapeOp: GraphOp {
    public static let opType = "ConstantOfShape"
    public let node: GraphNode
    let fill: Float, integer: Bool
    public init(node: GraphNode, opset: Int) throws {
        self.node = node
        switch node.attributes["value"] {
        case nil: (fill, integer) = (0, false)
        case .tensor(_, let values, let integer)? where values.count == 1: (fill, self.integer) = (Float(values[0]), integer)
        default: throw GlassboxError.invalidArgument("value must be a one-element tensor")
        }
    }
    public func apply(_ inputs: [GraphValue?], context: ForwardContext) throws -> [GraphValue] {
        let shape = try required(inputs, 0, "input").ints
        try graphCheckSize(shape)
        return [GraphValue(Variable(Tensor(repeating: fill, shape: shape)), isInteger: integer)]
    }
}
