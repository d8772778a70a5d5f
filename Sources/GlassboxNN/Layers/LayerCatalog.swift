/// The table of layer types a ``LayerSpec`` can name. Type names are PyTorch's class names.
extension LayerRegistry {
    static let builders: [String: @Sendable (LayerSpec, inout SeededGenerator) throws -> any Layer] = [
        "Linear": { try Linear(spec: $0, rng: &$1) },
        "Sequential": { try Sequential(spec: $0, rng: &$1) },
        "ReLU": { _, _ in ReLU() },
        "LeakyReLU": { try LeakyReLU(spec: $0, rng: &$1) },
        "Sigmoid": { try Sigmoid(spec: $0, rng: &$1) },
        "Tanh": { try Tanh(spec: $0, rng: &$1) },
        "GELU": { try GELU(spec: $0, rng: &$1) },
        "Softmax": { try Softmax(spec: $0, rng: &$1) },
        "Flatten": { try Flatten(spec: $0, rng: &$1) },
        "Dropout": { try Dropout(spec: $0, rng: &$1) },
        "Embedding": { try Embedding(spec: $0, rng: &$1) },
        "Conv2d": { try Conv2d(spec: $0, rng: &$1) },
        "MaxPool2d": { try MaxPool2d(spec: $0, rng: &$1) },
        "AvgPool2d": { try AvgPool2d(spec: $0, rng: &$1) },
        "GlobalAvgPool": { _, _ in GlobalAvgPool() },
        "BatchNorm1d": { try BatchNorm1d(spec: $0, rng: &$1) },
        "BatchNorm2d": { try BatchNorm2d(spec: $0, rng: &$1) },
        "LayerNorm": { try LayerNorm(spec: $0, rng: &$1) },
        "Residual": { try Residual(spec: $0, rng: &$1) },
        "MultiheadSelfAttention": { try MultiheadSelfAttention(spec: $0, rng: &$1) },
        "ScoresActivation": { try ScoresActivation(spec: $0, rng: &$1) },
        "FeatureTokenizer": { try FeatureTokenizer(spec: $0, rng: &$1) },
        "TransformerBlock": { try TransformerBlock(spec: $0, rng: &$1) },
        "SelectToken": { try SelectToken(spec: $0, rng: &$1) },
    ]
}
