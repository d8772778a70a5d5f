import Foundation
import Testing
import Glassbox

/// The README's library example, verbatim apart from the file location, so it cannot rot.
@Test func readmeExampleRuns() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("readme-\(getpid()).safetensors").path
    defer { try? FileManager.default.removeItem(atPath: path) }

    // Data: a bundled real dataset, a stratified split, scaling fitted on the training rows only.
    let data = try BundledData.breastCancer()
    let split = try data.stratifiedSplit(train: 0.7, validation: 0.15, test: 0.15, seed: 42)
    let scaler = try Standardizer.fit(split.train.features)
    let train = try split.train.standardized(with: scaler)
    let validation = try split.validation.standardized(with: scaler)

    // A model from an architecture spec, trained with early stopping.
    let model = try LayerRegistry.build(Architectures.mlp(inputs: 30, hidden: [64, 32], outputs: 2), seed: 42)
    let config = TrainingConfig(epochs: 200, batchSize: 32, seed: 42, optimizer: .adam(learningRate: 1e-3),
                                earlyStoppingPatience: 20)
    let history = try Trainer.fit(model: model, inputs: train.features, labels: train.labels,
                                  validation: (validation.features, validation.labels), config: config)

    // Gradients with respect to the inputs (what attribution methods need).
    let x = try split.test.standardized(with: scaler).features
    let (logits, dLogitDx) = try gradient(at: x, seed: nil) { input in
        try sum(try slice(try model.forward(input, context: ForwardContext(training: false)), axis: 1, range: 1..<2))
    }

    // Save and load: safetensors weights with PyTorch state_dict names, architecture in the metadata.
    try ModelFile.save(model, to: URL(fileURLWithPath: path))
    let (reloaded, _) = try ModelFile.load(from: URL(fileURLWithPath: path))

    #expect(history.epochs.count > 1)
    #expect(logits.count == 1 && dLogitDx.shape == x.shape)
    #expect(try reloaded.predict(x) == (try model.predict(x)))
}
