import Foundation
import Testing
@testable import Glassbox

@Suite("ScoresActivation readouts, training and model files")
struct ScoresTests {
    /// `Sequential[ScoresActivation(3), Linear(3→2)]` with chosen scores and weights.
    func constructedModel() throws -> Sequential {
        var rng = SeededGenerator(seed: 1)
        let scores = try ScoresActivation(numFeatures: 3)
        scores.scores.value = Tensor([1, 0, Float(log(2.0))])   // w ∝ e, 1, 2
        let linear = try Linear(inFeatures: 3, outFeatures: 2, rng: &rng)
        linear.weight.value = try Tensor(rows: [[0.3, 3, -1], [0.4, 4, 0]])   // column norms 0.5, 5, 1
        return Sequential([scores, linear, ReLU()])
    }

    @Test func readoutsOfAConstructedModel() throws {
        let s = try FeatureScores.read(from: try constructedModel(), featureNames: ["p", "q", "r"])
        let z = [M_E, 1, 2].reduce(0, +)
        let w = [M_E / z, 1 / z, 2 / z]
        for i in 0..<3 { #expect(abs(s.weights[i] - w[i]) < 1e-6) }
        #expect(s.ranking == [0, 2, 1])
        // Effective importance w_i·‖W[:, i]‖: q's small weight is undone by its large column.
        let expected = [w[0] * 0.5, w[1] * 5, w[2] * 1]
        for i in 0..<3 { #expect(abs(s.effectiveImportance![i] - expected[i]) < 1e-6) }
        #expect(s.effectiveRanking == [1, 2, 0])
        #expect(s.layerPath == "0" && s.nextLayerPath == "1")
        #expect(s.scores.map { Float($0) } == [1, 0, Float(log(2.0))])
        #expect(try FeatureScores.aggregate(s.weights, groups: [[0, 2], [1]]) == [s.weights[0] + s.weights[2], s.weights[1]])
        #expect(throws: GlassboxError.self) { try FeatureScores.aggregate(s.weights, groups: [[3]]) }
        #expect(throws: GlassboxError.self) { try FeatureScores.read(from: try constructedModel(), featureNames: ["p"]) }
        let plain = try LayerRegistry.build(Architectures.mlp(inputs: 3, hidden: [4], outputs: 2), seed: 2)
        #expect(throws: GlassboxError.self) { try FeatureScores.read(from: plain) }
    }

    @Test func transformerReadoutUsesTokenizerNorms() throws {
        let model = try LayerRegistry.build(
            Architectures.tabularTransformer(features: 4, classes: 2, embed: 8, heads: 2, blocks: 1, ffn: 8, scores: true), seed: 3)
        let s = try FeatureScores.read(from: model)
        let tokenizer = try #require(FeatureScores.layers(of: model).compactMap { $0.layer as? FeatureTokenizer }.first)
        let w = tokenizer.weight.value.scalars
        for i in 0..<4 {
            let norm = (0..<8).reduce(0.0) { $0 + Double(w[i * 8 + $1]) * Double(w[i * 8 + $1]) }.squareRoot()
            #expect(abs(s.effectiveImportance![i] - 0.25 * norm) < 1e-6)
        }
        #expect(s.nextLayerPath == "1")
        #expect(FeatureScores.inputWeightNorms(of: model, features: 4)!.count == 4)
    }

    @Test func stableEpochOfAHistory() throws {
        func snapshot(_ w: [Double]) -> FeatureScores {
            FeatureScores(featureNames: ["a", "b", "c"], temperature: 1, scores: w, weights: w, effectiveImportance: nil,
                          layerPath: "0", nextLayerPath: nil)
        }
        let history = [snapshot([0.2, 0.5, 0.3]), snapshot([0.5, 0.2, 0.3]), snapshot([0.5, 0.3, 0.2]), snapshot([0.6, 0.3, 0.1])]
        #expect(ScoresHistory.stableEpoch(history) == 3)               // order a, b, c from epoch 3 on
        #expect(ScoresHistory.stableEpoch(history, topK: 1) == 2)      // a first from epoch 2 on
        #expect(ScoresHistory.stableEpoch(history, topK: 2, last: 2) == 2)   // {b, c} at epoch 1, {a, c} at 2
        #expect(ScoresHistory.stableEpoch([]) == nil)
        #expect(ScoresHistory.stableEpoch(history, .effective) == 1)  // no effective readout: nothing ever changes
    }

    /// Six standardised normal features; the label depends on features 1 and 4 only.
    static func twoRelevantOfSix(rows: Int = 600, seed: UInt64 = 5) throws -> Dataset {
        var rng = SeededGenerator(seed: seed)
        var x: [Float] = [], y: [Int] = []
        for _ in 0..<rows {
            let row = (0..<6).map { _ in Float(rng.normal()) }
            x += row
            y.append(row[1] - row[4] > 0 ? 1 : 0)
        }
        return try Dataset(features: Tensor(shape: [rows, 6], scalars: x), labels: y,
                           featureNames: (0..<6).map { "f\($0)" }, classNames: ["neg", "pos"])
    }

    @Test(arguments: [TabularModel.Family.mlp, .transformer])
    func relevantFeaturesRankFirst(_ family: TabularModel.Family) throws {
        let data = try Self.twoRelevantOfSix(rows: family == .mlp ? 600 : 400)
        var options = TabularModel.Options()
        (options.family, options.scores) = (family, true)
        (options.embed, options.heads, options.blocks, options.ffn) = (16, 2, 1, 32)
        options.training.epochs = family == .mlp ? 60 : 25
        options.training.seed = 3
        let (_, report) = try TabularModel.train(on: data, options: options)
        let s = try #require(report.scores)
        #expect(Set(s.ranking.prefix(2)) == [1, 4], "weights \(s.weights)")
        #expect(Set(s.effectiveRanking!.prefix(2)) == [1, 4], "effective \(s.effectiveImportance!)")
        #expect(report.testAccuracy > 0.9)
        #expect(report.scoreSnapshots.count == report.history.epochs.count)
        #expect(report.stableEpoch(.weights, topK: 2)! <= report.finalEpoch)
    }

    @Test func sameSeedSameScoresBitForBit() throws {
        let data = try Self.twoRelevantOfSix(rows: 300)
        var options = TabularModel.Options()
        options.scores = true
        options.training.epochs = 15
        options.training.seed = 11
        let first = try TabularModel.train(on: data, options: options).report.scores!
        let second = try TabularModel.train(on: data, options: options).report.scores!
        #expect(first.scores == second.scores)
        #expect(first.effectiveImportance == second.effectiveImportance)
        options.training.seed = 12
        #expect(try TabularModel.train(on: data, options: options).report.scores!.scores != first.scores)
    }

    @Test func tabularModelFileRoundTrip() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gb-tabular-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let six = try Self.twoRelevantOfSix(rows: 200)
        let groups = [FeatureGroup(name: "first", features: [0, 1], categories: ["u", "v"]),
                      FeatureGroup(name: "rest", features: [2, 3, 4, 5], categories: ["a", "b", "c", "d"])]
        let data = try Dataset(features: six.features, labels: six.labels, featureNames: six.featureNames,
                               classNames: six.classNames, featureGroups: groups)
        var options = TabularModel.Options()
        (options.family, options.scores, options.temperature) = (.transformer, true, 0.5)
        (options.embed, options.heads, options.blocks, options.ffn) = (8, 2, 1, 8)
        options.training.epochs = 2
        let (model, _) = try TabularModel.train(on: data, targetName: "label", options: options)
        let url = dir.appendingPathComponent("m.safetensors")
        try model.save(to: url)
        let loaded = try TabularModel.load(from: url)
        #expect(loaded.family == .transformer && loaded.targetName == "label")
        #expect(loaded.featureNames == data.featureNames && loaded.classNames == data.classNames)
        #expect(loaded.standardizer == model.standardizer && loaded.encoding == model.encoding)
        #expect(loaded.groups == [[0, 1], [2, 3, 4, 5]] && loaded.groupNames == ["first", "rest"])
        #expect(try loaded.featureScores() == (try model.featureScores()))
        #expect(try loaded.predictProbabilities(data.features) == (try model.predictProbabilities(data.features)))

        let plainURL = dir.appendingPathComponent("plain.safetensors")
        try ModelFile.save(model.model, to: plainURL)
        let error = #expect(throws: GlassboxError.self) { try TabularModel.load(from: plainURL) }
        #expect("\(error!)".contains("plain.safetensors") && "\(error!)".contains("glassbox.feature_names"))
    }

    /// The loader fills missing cells with statistics of every row; training refits them on the
    /// training rows only, and the model keeps that imputer.
    @Test func imputationIsRefittedOnTrainingRows() throws {
        var csv = "a,b,y\n"
        for i in 0..<60 { csv += (i % 7 == 3 ? "" : "\(Double(i) / 10)") + ",\(i % 5),\(i % 2)\n" }
        var csvOptions = CSVDatasetOptions()
        csvOptions.imputation = .mean
        let data = try Dataset.parseCSV(Data(csv.utf8), path: "mem.csv", target: "y", options: csvOptions)
        var options = TabularModel.Options()
        options.training.epochs = 1
        let (model, _) = try TabularModel.train(on: data, options: options)
        let split = try data.stratifiedSplit(train: 0.7, validation: 0.15, test: 0.15, seed: options.training.seed)
        let expected = try Imputer.fit(data, strategy: .mean, rows: split.indices.train)
        #expect(model.encoding.imputer == expected)
        #expect(expected != data.imputer)
    }

    @Test func stabilityAndSelection() throws {
        let data = try Self.twoRelevantOfSix(rows: 300)
        var options = TabularModel.Options()
        options.scores = true
        options.training.epochs = 40
        let stability = try ScoresStability.measure(on: data, options: options, seeds: [1, 2, 3])
        #expect(stability.runs.count == 3 && stability.weights.runs == 3)
        for f in [1, 4] { #expect(stability.weights.meanRank[f] <= 2.5, "feature \(f): \(stability.weights.meanRank)") }
        let ranking = Agreement.ranking(stability.meanImportances(.weights)!)
        options.scores = false
        let points = try FeatureSelection.retrain(on: data, ranking: ranking, ks: [1, 2], options: options)
        #expect(points.map(\.k) == [1, 2] && points[1].features.sorted() == [1, 4])
        #expect(points[1].testAccuracy > points[0].testAccuracy)
        #expect(throws: GlassboxError.self) { try FeatureSelection.retrain(on: data, ranking: ranking, ks: [7], options: options) }
    }
}

@Suite("ScoresActivation reproduction protocol")
struct ScoresExperimentTests {
    /// One easy setting, one seed, the MLP only: the protocol runs end to end and Kernel SHAP's
    /// column is filled from the same trained models — its explanation is of the model's test
    /// rows, costs rows × budget × background model rows, and finds the informative features.
    @Test func kernelShapColumnOnAnEasySetting() throws {
        var config = ScoresExperiment.Configuration()
        config.settings = [ScoresExperiment.Setting(name: "easy", informative: 3, noise: 3, samples: 400, classSep: 2)]
        config.seeds = [3]
        config.families = [.mlp]
        config.topK = 3
        config.overheadRepeats = 0
        config.options.training.epochs = 40
        config.kernelShap = ScoresExperiment.KernelShapSettings(rows: 12, background: 10, budget: 64)
        let result = try ScoresExperiment.run(config, data: ScoresExperiment.syntheticData)
        #expect(result.rows.count == 2)
        for row in result.rows {
            let shap = try #require(row.kernelShap)
            #expect(shap.rows == 12)
            #expect(shap.seconds.values.count == 1 && shap.seconds.mean > 0)
            // Every feature differs from the background, so each row costs its 64 coalitions
            // (at most; complete enumeration stops at 2^6 = 64) × 10 background rows, plus the
            // background's own evaluation.
            #expect(shap.modelEvaluations.mean <= Double(12 * 64 * 10 + 10 + 12))
            #expect(shap.modelEvaluations.mean >= Double(12 * 10 * 10))
            #expect(shap.quality.recall.mean >= 2.0 / 3.0, "Kernel SHAP recall \(shap.quality.recall.mean)")
            if row.scores {
                let rho = try #require(shap.spearmanWithWeights)
                #expect(rho.mean > 0.3, "ρ(SHAP, w) = \(rho.mean)")
            } else {
                #expect(shap.spearmanWithWeights == nil)
            }
        }
        // Skipping Kernel SHAP leaves the column empty.
        config.kernelShap = nil
        config.families = [.mlp]
        let without = try ScoresExperiment.run(config, data: ScoresExperiment.syntheticData)
        #expect(without.rows.allSatisfy { $0.kernelShap == nil })
    }
}
