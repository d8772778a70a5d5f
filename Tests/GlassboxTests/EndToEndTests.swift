import Foundation
import Testing
@testable import Glassbox

/// Whole-model checks on real data. They train real models, so the suite runs in release mode
/// (`swift test -c release`); each stays within a few seconds there.
@Suite("End to end on real data", .serialized)
struct EndToEndTests {
    /// The test part has 85 rows, so one row is 1.2 points: the claim is about the mean over
    /// seeds (each seed draws its own split and initial weights), with no seed collapsing.
    @Test func mlpOnBreastCancer() throws {
        let data = try BundledData.breastCancer()
        var accuracies: [Float] = []
        for seed in 1...5 as ClosedRange<UInt64> {
            var options = TabularModel.Options()
            options.training = TrainingConfig(epochs: 200, batchSize: 32, seed: seed, optimizer: .adam(learningRate: 1e-3),
                                              earlyStoppingPatience: 20)
            accuracies.append(try TabularModel.train(on: data, options: options).report.testAccuracy)
        }
        let mean = accuracies.reduce(0, +) / Float(accuracies.count)
        #expect(mean >= 0.96, "mean test accuracy \(mean) over seeds 1–5: \(accuracies)")
        #expect(accuracies.allSatisfy { $0 >= 0.93 }, "\(accuracies)")
    }

    @Test func cnnOnDigits() throws {
        let digits = try BundledData.digits()
        let split = try digits.stratifiedSplit(train: 0.7, validation: 0.15, test: 0.15, seed: 1)
        let spec = Architectures.convNet(inputChannels: 1, height: 8, width: 8, channels: [16, 32], hidden: 64, classes: 10)
        let config = TrainingConfig(epochs: 60, batchSize: 32, seed: 1, optimizer: .adam(learningRate: 2e-3),
                                    earlyStoppingPatience: 10)
        let result = try ImageClassifier.train(spec: spec, train: split.train, validation: split.validation,
                                               test: split.test, config: config)
        #expect(result.testAccuracy >= 0.97, "digits test accuracy \(result.testAccuracy)")
    }

    /// Same architecture, data and hyper-parameters as `benchmarks/tools/fashion_reference.py`,
    /// which trained it with PyTorch and committed its test accuracies.
    @Test func cnnOnFashionSampleMatchesPyTorch() throws {
        struct Reference: Decodable { let accuracies: [Double]; let epochs: Int; let batch_size: Int; let learning_rate: Double }
        let url = try #require(Bundle.module.url(forResource: "fashion_torch", withExtension: "json", subdirectory: "Reference"))
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        let (train, test) = try BundledData.fashionMNISTSample()
        let spec = Architectures.convNet(inputChannels: 1, height: 28, width: 28, channels: [16, 32], hidden: 64, classes: 10)
        var accuracies: [Double] = []
        for seed in 1...UInt64(reference.accuracies.count) {
            let config = TrainingConfig(epochs: reference.epochs, batchSize: reference.batch_size, seed: seed,
                                        optimizer: .adam(learningRate: Float(reference.learning_rate)))
            let result = try ImageClassifier.train(spec: spec, train: train, validation: nil, test: test, config: config)
            accuracies.append(Double(result.testAccuracy))
        }
        let ours = accuracies.reduce(0, +) / Double(accuracies.count)
        let torch = reference.accuracies.reduce(0, +) / Double(reference.accuracies.count)
        // Seeds move a single run by about ±1.5 points on 1,000 test images: compare means over
        // as many seeds as the reference used, within two points.
        #expect(ours >= torch - 0.02, "Glassbox \(accuracies) vs PyTorch \(reference.accuracies)")
    }

    @Test func sameSeedSameWeights() throws {
        let (train, _) = try BundledData.fashionMNISTSample()
        let subset = train.subset(Array(0..<256))
        let spec = Architectures.residualNet(inputChannels: 1, channels: [4, 8], classes: 10)
        func weights() throws -> [Float] {
            let model = try LayerRegistry.build(spec, seed: 3)
            _ = try Trainer.fit(model: model, inputs: subset.images, labels: subset.labels,
                                config: TrainingConfig(epochs: 2, batchSize: 32, seed: 3))
            return model.namedTensors().flatMap(\.variable.value.scalars)
        }
        #expect(try weights() == (try weights()))
    }
}
