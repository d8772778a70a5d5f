/// The table of layer types a ``LayerSpec`` can name. Type names are PyTorch's class names.
extension LayerRegistry {
    static let builders: [String: @Sendable (LayerSpec, inout SeededGenerator) throws -> any Layer] = [
        "Linear": { try Linear(spec: $0, rng: &$1) },
        "Sequential": { try Sequential(spec: $0, rng: &$1) },
        "ReLU": { _, _ in ReLU() },
    ]
}
