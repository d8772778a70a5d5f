/// Feature selection by a ranking: retrain on the `k` top-ranked features for several `k` and
/// compare test accuracy — does the ranking put the useful features first?
///
/// The split depends only on the labels and `options.training.seed`, so every `k` is trained
/// and tested on the same rows. Cost: one full training per `k`.
public enum FeatureSelection {
    /// One retraining.
    public struct Point: Codable, Sendable, Equatable {
        /// Number of top-ranked features kept.
        public var k: Int
        /// The features kept (indices into the original columns, best first).
        public var features: [Int]
        /// Accuracy (fraction in [0, 1]) and mean cross-entropy loss on the test split.
        public var testAccuracy: Float, testLoss: Float
        /// Wall time of the retraining, in seconds.
        public var seconds: Double
    }

    /// Retrains `options` on `ranking.prefix(k)` for each `k` in `ks`.
    public static func retrain(on data: Dataset, ranking: [Int], ks: [Int], options: TabularModel.Options) throws -> [Point] {
        let d = data.featureCount
        guard Set(ranking).count == ranking.count, ranking.allSatisfy({ (0..<d).contains($0) }) else {
            throw GlassboxError.invalidArgument("the ranking must list distinct feature indices in 0..<\(d), got \(ranking)")
        }
        return try ks.map { k in
            guard (1...ranking.count).contains(k) else {
                throw GlassboxError.invalidArgument("k must be in 1...\(ranking.count) (the ranking's length), got \(k)")
            }
            let kept = Array(ranking.prefix(k))
            let (_, report) = try TabularModel.train(on: try selecting(kept, from: data), options: options)
            return Point(k: k, features: kept, testAccuracy: report.testAccuracy, testLoss: report.testLoss,
                         seconds: report.seconds)
        }
    }

    /// The dataset restricted to `columns`, in that order.
    static func selecting(_ columns: [Int], from data: Dataset) throws -> Dataset {
        let d = data.featureCount, n = data.count
        var scalars = [Float](repeating: 0, count: n * columns.count)
        data.features.scalars.withUnsafeBufferPointer { x in
            for r in 0..<n { for (j, c) in columns.enumerated() { scalars[r * columns.count + j] = x[r * d + c] } }
        }
        return try Dataset(features: Tensor(shape: [n, columns.count], scalars: scalars), labels: data.labels,
                           featureNames: columns.map { data.featureNames[$0] }, classNames: data.classNames)
    }
}
