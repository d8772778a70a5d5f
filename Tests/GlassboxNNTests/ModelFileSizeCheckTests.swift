import Foundation
import Testing
import GlassboxNN

/// `ModelFile` checks the parameter count an architecture claims against the values the file
/// holds before building anything. These tests pin that count to the truth — the tensors the
/// built layer actually has — for every registered layer type, so the check can neither refuse a
/// valid model nor let a hostile one allocate.
@Suite struct ModelFileSizeCheckTests {
    /// A spec per registered type; those with tensors are sized above ModelFile's 2^20-value
    /// allowance, so the count check (not the per-tensor check) is what reports a shortfall.
    static let samples: [String: LayerSpec] = [
        "Linear": LayerSpec(type: "Linear", attributes: ["in_features": .int(1024), "out_features": .int(1030)]),
        "Conv2d": LayerSpec(type: "Conv2d", attributes: ["in_channels": .int(128), "out_channels": .int(128),
                                                         "kernel_size": .ints([12, 12]), "groups": .int(2)]),
        "Embedding": LayerSpec(type: "Embedding", attributes: ["num_embeddings": .int(1100), "embedding_dim": .int(1000)]),
        "BatchNorm1d": LayerSpec(type: "BatchNorm1d", attributes: ["num_features": .int(300_000)]),
        "BatchNorm2d": LayerSpec(type: "BatchNorm2d", attributes: ["num_features": .int(600_000), "affine": .bool(false)]),
        "LayerNorm": LayerSpec(type: "LayerNorm", attributes: ["normalized_shape": .ints([600, 1000])]),
        "MultiheadSelfAttention": LayerSpec(type: "MultiheadSelfAttention", attributes: ["embed_dim": .int(512), "num_heads": .int(8)]),
        "TransformerBlock": LayerSpec(type: "TransformerBlock", attributes: ["d_model": .int(256), "nhead": .int(4),
                                                                             "dim_feedforward": .int(2048)]),
        "ScoresActivation": LayerSpec(type: "ScoresActivation", attributes: ["num_features": .int(1_200_000)]),
        "FeatureTokenizer": LayerSpec(type: "FeatureTokenizer", attributes: ["num_features": .int(600), "embed_dim": .int(1000)]),
        "Sequential": LayerSpec(type: "Sequential", children: [
            LayerSpec(type: "Linear", attributes: ["in_features": .int(1024), "out_features": .int(600), "bias": .bool(false)]),
            LayerSpec(type: "ReLU"),
            LayerSpec(type: "Linear", attributes: ["in_features": .int(600), "out_features": .int(1024)]),
        ]),
        "Residual": LayerSpec(type: "Residual", children: [
            LayerSpec(type: "Linear", attributes: ["in_features": .int(1024), "out_features": .int(1024)]),
            LayerSpec(type: "Linear", attributes: ["in_features": .int(1024), "out_features": .int(1024), "bias": .bool(false)]),
        ]),
        // Types without tensors of their own.
        "ReLU": LayerSpec(type: "ReLU"),
        "LeakyReLU": LayerSpec(type: "LeakyReLU"),
        "Sigmoid": LayerSpec(type: "Sigmoid"),
        "Tanh": LayerSpec(type: "Tanh"),
        "GELU": LayerSpec(type: "GELU"),
        "Softmax": LayerSpec(type: "Softmax", attributes: ["dim": .int(1)]),
        "Flatten": LayerSpec(type: "Flatten"),
        "Dropout": LayerSpec(type: "Dropout"),
        "MaxPool2d": LayerSpec(type: "MaxPool2d", attributes: ["kernel_size": .int(2)]),
        "AvgPool2d": LayerSpec(type: "AvgPool2d", attributes: ["kernel_size": .int(2)]),
        "GlobalAvgPool": LayerSpec(type: "GlobalAvgPool"),
        "SelectToken": LayerSpec(type: "SelectToken"),
    ]

    @Test func everyRegisteredTypeHasASample() {
        // A graph's parameter count is the sum of its initialisers, checked by the graph loader itself
        // against the file (GlassboxONNXTests' hostile-file suite).
        #expect(Set(Self.samples.keys) == Set(LayerRegistry.knownTypes).subtracting(["Graph"]),
                "add a sample (and a count in ModelFile) for new layer types")
    }

    /// Saving a model and dropping its first tensor from the file: the loader must report exactly
    /// the built layer's value count as needed, and the remainder as held. Whole files load back.
    @Test(arguments: samples.keys.sorted())
    func claimedCountIsTheBuiltCount(_ type: String) throws {
        let spec = try #require(Self.samples[type])
        let model = try LayerRegistry.build(spec, seed: 3)
        let built = model.namedTensors().reduce(0) { $0 + $1.variable.value.count }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("size-check-\(type)-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try ModelFile.save(model, to: url)
        let (loaded, _) = try ModelFile.load(from: url)
        #expect(loaded.namedTensors().map(\.name) == model.namedTensors().map(\.name))
        guard built > 0 else { return }
        try #require(built > 1 << 20, "samples with tensors must exceed the build allowance")

        var file = try SafeTensorsFile.read(from: url)
        let dropped = file.order.removeFirst()
        let removed = file.tensors.removeValue(forKey: dropped)
        let droppedCount = try #require(removed).count
        let held = built - droppedCount
        do {
            _ = try ModelFile.decode(try file.encoded(), path: "short.safetensors")
            Issue.record("a file missing '\(dropped)' loaded")
        } catch let GlassboxError.badFile(path, location, problem) {
            #expect(path.hasSuffix("short.safetensors"))
            #expect(location == "architecture", "\(location): \(problem)")
            #expect(problem.contains("need \(built) parameter values but the file holds \(held)"), "\(problem)")
        }
    }

    /// A claim far beyond the file (4 TiB of weights in a 300-byte file) is refused at once.
    @Test func hugeClaimsAreRefusedBeforeBuilding() throws {
        let claims: [LayerSpec] = [
            LayerSpec(type: "Linear", attributes: ["in_features": .int(1 << 20), "out_features": .int(1 << 20)]),
            LayerSpec(type: "Conv2d", attributes: ["in_channels": .int(Int.max), "out_channels": .int(Int.max), "kernel_size": .int(3)]),
            LayerSpec(type: "Embedding", attributes: ["num_embeddings": .int(1 << 40), "embedding_dim": .int(1 << 40)]),
            LayerSpec(type: "LayerNorm", attributes: ["normalized_shape": .ints([1 << 31, 1 << 31, 1 << 31])]),
            LayerSpec(type: "TransformerBlock", attributes: ["d_model": .int(1 << 31), "nhead": .int(1), "dim_feedforward": .int(8)]),
            LayerSpec(type: "Sequential", children: Array(repeating: LayerSpec(type: "ScoresActivation", attributes: ["num_features": .int(1 << 62)]), count: 4)),
        ]
        for spec in claims {
            var file = SafeTensorsFile(tensors: ["0.weight": Tensor(uncheckedShape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])])
            file.metadata[ModelFile.architectureKey] = try spec.jsonString()
            let start = Date()
            do {
                _ = try ModelFile.decode(try file.encoded(), path: "huge.safetensors")
                Issue.record("\(spec.type) loaded")
            } catch let GlassboxError.badFile(_, location, problem) {
                #expect(location == "architecture" && problem.contains("but the file holds 6"), "\(location): \(problem)")
            }
            #expect(Date().timeIntervalSince(start) < 1)
        }
    }

    /// Architecture errors name the layer by its state_dict path.
    @Test func architectureErrorsNameTheLayer() throws {
        let spec = LayerSpec(type: "Sequential", children: [
            LayerSpec(type: "Linear", attributes: ["in_features": .int(3), "out_features": .int(2)]),
            LayerSpec(type: "Residual", children: [LayerSpec(type: "Sequential", children: [
                LayerSpec(type: "ReLU"), LayerSpec(type: "Conv2d", attributes: ["in_channels": .int(2), "kernel_size": .int(3)]),
            ])]),
        ])
        var file = SafeTensorsFile(tensors: ["0.weight": Tensor(uncheckedShape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])])
        file.metadata[ModelFile.architectureKey] = try spec.jsonString()
        do {
            _ = try ModelFile.decode(try file.encoded(), path: "m.safetensors")
            Issue.record("loaded")
        } catch let GlassboxError.badFile(_, location, problem) {
            #expect(location == "architecture layer '1.body.1' (Conv2d)", "\(location)")
            #expect(problem.contains("missing attribute 'out_channels'"), "\(problem)")
        }
    }
}
