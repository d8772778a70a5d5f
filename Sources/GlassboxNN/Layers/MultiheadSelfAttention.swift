import Foundation

/// Multi-head self-attention over a sequence of tokens (batch first), as PyTorch's
/// `nn.MultiheadAttention(embed_dim, num_heads, batch_first=True)` called with `q = k = v = x`.
///
/// Shapes: input `[n, t, e]` → output `[n, t, e]`; `h` heads of size `d = e/h`.
/// `[q k v] = x·W_inᵀ + b_in`; per head `A = softmax(q·kᵀ/√d)`, `o = A·v`; heads concatenated and
/// projected by `out_proj`. Parameters use PyTorch's names: `in_proj_weight [3e, e]`,
/// `in_proj_bias [3e]`, `out_proj.weight [e, e]`, `out_proj.bias [e]`.
/// Cost: `8·n·t·e² + 4·n·t²·e` FLOP forward.
public final class MultiheadSelfAttention: Layer {
    /// Token width and number of heads (`embedDim` divisible by `numHeads`).
    public let embedDim: Int, numHeads: Int
    /// Stacked query, key and value projections `[3·e, e]` and `[3·e]` (PyTorch's `in_proj_*`).
    public let inProjWeight: Variable, inProjBias: Variable
    /// The output projection `e → e`.
    public let outProj: Linear
    /// The attention weights `[n, h, t, t]` of the last forward pass (for inspection).
    public private(set) var lastAttention: Tensor?

    /// Makes the layer, drawing weights from `rng`.
    public init(embedDim: Int, numHeads: Int, rng: inout SeededGenerator) throws {
        guard embedDim > 0, numHeads > 0, embedDim % numHeads == 0 else {
            throw GlassboxError.invalidArgument("MultiheadSelfAttention: embed_dim \(embedDim) must be a positive multiple of num_heads \(numHeads)")
        }
        self.embedDim = embedDim
        self.numHeads = numHeads
        // Xavier-uniform in-projection and zero biases, as PyTorch initialises them.
        let bound = (6 / Float(embedDim + 3 * embedDim)).squareRoot()
        inProjWeight = Variable(.uniform([3 * embedDim, embedDim], -bound, bound, using: &rng), requiresGrad: true)
        inProjBias = Variable(.zeros([3 * embedDim]), requiresGrad: true)
        outProj = try Linear(inFeatures: embedDim, outFeatures: embedDim, rng: &rng)
        outProj.bias?.value = .zeros([embedDim])
    }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        try self.init(embedDim: spec.int("embed_dim"), numHeads: spec.int("num_heads"), rng: &rng)
    }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        guard input.value.rank == 3, input.shape[2] == embedDim else {
            throw GlassboxError.shapeMismatch("MultiheadSelfAttention(embed_dim \(embedDim)) expects [batch, tokens, \(embedDim)], got \(input.shape)")
        }
        let n = input.shape[0], t = input.shape[1], e = embedDim, h = numHeads, d = e / h
        let flat = try reshape(input, [n * t, e])
        let qkv = try add(try matmul(flat, inProjWeight, transposeB: true), inProjBias)   // [n·t, 3e]
        // [n·t, 3e] → [3, n, h, t, d] so q, k, v are contiguous per head.
        let heads = try permute(try reshape(qkv, [n, t, 3, h, d]), [2, 0, 3, 1, 4])
        func part(_ i: Int) throws -> Variable {
            try reshape(try slice(heads, axis: 0, range: i..<(i + 1)), [n * h, t, d])
        }
        let q = try part(0), k = try part(1), v = try part(2)
        let scores = scale(try matmul(q, k, transposeB: true), 1 / Float(d).squareRoot())  // [n·h, t, t]
        let attention = try softmax(scores, axis: -1)
        lastAttention = try attention.value.reshaped([n, h, t, t])
        let mixed = try matmul(attention, v)                                                 // [n·h, t, d]
        let merged = try reshape(try permute(try reshape(mixed, [n, h, t, d]), [0, 2, 1, 3]), [n * t, e])
        let out = try context.call(outProj, named: "out_proj", merged)
        return try reshape(out, [n, t, e])
    }

    public var parameters: [(name: String, variable: Variable)] {
        [("in_proj_weight", inProjWeight), ("in_proj_bias", inProjBias)]
    }

    public var children: [(name: String, layer: any Layer)] { [(name: "out_proj", layer: outProj)] }

    public var spec: LayerSpec {
        LayerSpec(type: "MultiheadSelfAttention", attributes: ["embed_dim": .int(embedDim), "num_heads": .int(numHeads)])
    }
}
