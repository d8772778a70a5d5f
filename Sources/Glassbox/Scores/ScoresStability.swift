/// How much a ScoresActivation ranking depends on the seed: the same data and configuration
/// trained with several seeds (each seed draws its own split, initial weights and shuffling).
///
/// Cost: one full training per seed.
public struct ScoresStability: Sendable {
    /// The seeds, in order, and each run's final readout and test accuracy.
    public var seeds: [UInt64]
    /// Final readout of each run, in seed order.
    public var runs: [FeatureScores]
    /// Test accuracy (fraction in [0, 1]) of each run, in seed order.
    public var testAccuracies: [Float]
    /// Rank statistics of the weights readout `w`, and of the effective importance (nil if the
    /// model has no linear layer or tokenizer after the scores).
    public var weights: RankStability
    /// Rank statistics of the effective importance `w_i·‖W_i‖` (nil: see ``weights``).
    public var effective: RankStability?
    /// Total wall time.
    public var seconds: Double

    /// Trains `options` (which must have `scores` on) once per seed.
    public static func measure(on data: Dataset, options: TabularModel.Options, seeds: [UInt64],
                               observer: ((UInt64) -> (any TrainingObserver)?)? = nil) throws -> ScoresStability {
        guard options.scores else { throw GlassboxError.invalidArgument("rank stability needs the ScoresActivation layer (scores)") }
        guard !seeds.isEmpty else { throw GlassboxError.invalidArgument("rank stability needs at least one seed") }
        var runs: [FeatureScores] = [], accuracies: [Float] = [], seconds = 0.0
        for seed in seeds {
            var o = options
            o.training.seed = seed
            let (_, report) = try TabularModel.train(on: data, options: o, observer: observer?(seed))
            runs.append(try requireScores(report))
            accuracies.append(report.testAccuracy)
            seconds += report.seconds
        }
        let effective = runs.allSatisfy { $0.effectiveImportance != nil }
            ? try Agreement.stability(runs.map { $0.effectiveImportance! }) : nil
        return ScoresStability(seeds: seeds, runs: runs, testAccuracies: accuracies,
                               weights: try Agreement.stability(runs.map(\.weights)), effective: effective, seconds: seconds)
    }

    /// Mean over runs of a readout's importances (e.g. to rank features for selection).
    public func meanImportances(_ readout: ScoresReadout) -> [Double]? {
        guard let first = runs.first?.importances(readout) else { return nil }
        var sum = [Double](repeating: 0, count: first.count)
        for run in runs {
            guard let v = run.importances(readout) else { return nil }
            for i in v.indices { sum[i] += v[i] }
        }
        return sum.map { $0 / Double(runs.count) }
    }
}

func requireScores(_ report: TabularModel.Report) throws -> FeatureScores {
    guard let scores = report.scores else { throw GlassboxError.invalidArgument("the model has no ScoresActivation layer") }
    return scores
}
