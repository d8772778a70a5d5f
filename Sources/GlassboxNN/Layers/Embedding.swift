/// `nn.Embedding(num_embeddings, embedding_dim)`: maps integer token ids to learned vectors.
///
/// Shapes: input any shape `[…]` holding integer-valued floats in `0..<num_embeddings` (ids
/// travel as tensors like every other layer input); weight `[num_embeddings, embedding_dim]`;
/// output `[…, embedding_dim]`. Initialisation as PyTorch: weight ~ N(0, 1).
/// Backward reaches the weight only (ids are not differentiable); see
/// ``embeddingLookup(_:indices:)``. Cost: one row copy per id each way.
public final class Embedding: Layer {
    /// The table `[numEmbeddings, embeddingDim]`.
    public let weight: Variable
    /// Rows of the table and the width of each embedding.
    public let numEmbeddings: Int, embeddingDim: Int

    /// Makes the layer with `N(0, 1)` entries drawn from `rng`, as PyTorch.
    public init(numEmbeddings: Int, embeddingDim: Int, rng: inout SeededGenerator) throws {
        guard numEmbeddings > 0, embeddingDim > 0 else {
            throw GlassboxError.invalidArgument(
                "Embedding needs positive sizes, got num_embeddings \(numEmbeddings), embedding_dim \(embeddingDim)")
        }
        self.numEmbeddings = numEmbeddings
        self.embeddingDim = embeddingDim
        weight = Variable(.normal([numEmbeddings, embeddingDim], using: &rng), requiresGrad: true)
    }

    public convenience init(spec: LayerSpec, rng: inout SeededGenerator) throws {
        try self.init(numEmbeddings: spec.int("num_embeddings"), embeddingDim: spec.int("embedding_dim"), rng: &rng)
    }

    public func forward(_ input: Variable, context: ForwardContext) throws -> Variable {
        var ids = [Int](repeating: 0, count: input.value.count)
        for (i, v) in input.value.scalars.enumerated() {
            guard v == v.rounded(), v >= 0, v < Float(numEmbeddings) else {
                throw GlassboxError.invalidArgument(
                    "Embedding(\(numEmbeddings), \(embeddingDim)): input value \(v) at flat index \(i) is not an integer in 0..<\(numEmbeddings)")
            }
            ids[i] = Int(v)
        }
        let rows = try embeddingLookup(weight, indices: ids)
        return try reshape(rows, input.shape + [embeddingDim])
    }

    public var parameters: [(name: String, variable: Variable)] { [("weight", weight)] }

    public var spec: LayerSpec {
        LayerSpec(type: "Embedding", attributes: ["num_embeddings": .int(numEmbeddings), "embedding_dim": .int(embeddingDim)])
    }
}
