import GlassboxNN

/// How missing cells are filled. Numeric columns use the named statistic; categorical columns
/// always use their most frequent category (a mean of categories means nothing), as
/// scikit-learn's `SimpleImputer` does per column type.
public enum ImputationStrategy: String, Codable, Sendable, CaseIterable {
    /// No imputation: a missing cell is an error.
    case none
    /// Numeric: the mean of the observed values.
    case mean
    /// Numeric: the median of the observed values (mean of the two middle ones for an even count).
    case median
    /// Numeric and categorical: the most frequent observed value (ties: the smallest value, or the
    /// first category in the group's order).
    case mostFrequent = "most_frequent"
}

/// Fill values for missing cells, one per feature, fitted on chosen rows and applied to any
/// dataset with the same features (it is `Codable`, stored with a model like ``Standardizer``).
///
/// Fit on the training rows only, so validation and test rows do not leak into the statistics:
/// ```
/// let split = try data.stratifiedSplit(seed: 1)
/// let imputer = try Imputer.fit(data, strategy: .median, rows: split.indices.train)
/// let train = try split.train.imputed(with: imputer)   // likewise validation and test
/// ```
/// A categorical column's fill is the one-hot pattern of its most frequent category.
public struct Imputer: Codable, Sendable, Equatable {
    /// How the fill values were computed.
    public var strategy: ImputationStrategy
    /// The value written into a missing cell of each feature, `[d]`.
    public var fills: [Float]

    /// Makes an imputer from per-column fill values (finite).
    public init(strategy: ImputationStrategy, fills: [Float]) throws {
        guard strategy != .none else { throw GlassboxError.invalidArgument("an imputer needs a strategy other than none") }
        guard fills.allSatisfy(\.isFinite) else { throw GlassboxError.nonFinite("imputer fills must be finite") }
        self.strategy = strategy
        self.fills = fills
    }

    private enum CodingKeys: String, CodingKey { case strategy, fills }

    /// Decodes and validates, so a damaged model file cannot smuggle in a NaN fill.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let strategy = try container.decode(ImputationStrategy.self, forKey: .strategy)
        let fills = try container.decode([Float].self, forKey: .fills)
        do {
            try self.init(strategy: strategy, fills: fills)
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .fills, in: container, debugDescription: "\(error)")
        }
    }

    /// Fits the fills from the observed (non-missing) cells of `rows` (all rows if `nil`), per
    /// feature group of `data`. Cost: O(rows × d), plus a sort per numeric column for the median.
    ///
    /// - Throws: ``GlassboxError/invalidArgument(_:)`` for strategy `none`, an empty or
    ///   out-of-range row list, or a column with no observed value in `rows`.
    public static func fit(_ data: Dataset, strategy: ImputationStrategy, rows: [Int]? = nil) throws -> Imputer {
        guard strategy != .none else { throw GlassboxError.invalidArgument("cannot fit an imputer with strategy none") }
        let rows = rows ?? Array(0..<data.count)
        guard !rows.isEmpty else { throw GlassboxError.invalidArgument("cannot fit an imputer on zero rows") }
        if let bad = rows.first(where: { $0 < 0 || $0 >= data.count }) {
            throw GlassboxError.invalidArgument("row \(bad) is outside 0..<\(data.count)")
        }
        let d = data.featureCount
        let groups = data.featureGroups
        let keepsValues = strategy != .mean
        // One pass over the rows: per numeric column a running sum, or its observed values when
        // the statistic needs them all; per categorical column the count of each category.
        var sums = [Double](repeating: 0, count: groups.count)
        var observed = [Int](repeating: 0, count: groups.count)
        var values = [[Float]](repeating: [], count: groups.count)
        var categoryCounts = groups.map { [Int](repeating: 0, count: $0.categories?.count ?? 0) }
        var missing = [Bool](repeating: false, count: d)
        data.features.scalars.withUnsafeBufferPointer { x in
            for row in rows {
                let cells = data.missingCells[data.missingRange(row: row)]
                for cell in cells { missing[cell - row * d] = true }
                for (g, group) in groups.enumerated() where !missing[group.features[0]] {
                    let base = row * d + group.features[0]
                    observed[g] += 1
                    if group.isCategorical {
                        var best = 0
                        for k in 1..<group.features.count where x[base + k] > x[base + best] { best = k }
                        categoryCounts[g][best] += 1
                    } else if keepsValues {
                        values[g].append(x[base])
                    } else {
                        sums[g] += Double(x[base])
                    }
                }
                for cell in cells { missing[cell - row * d] = false }
            }
        }
        var fills = [Float](repeating: 0, count: d)
        for (g, group) in groups.enumerated() {
            guard observed[g] > 0 else {
                throw GlassboxError.invalidArgument("column '\(group.name)' has no observed value in the \(rows.count) rows to fit the imputer on")
            }
            if group.isCategorical {
                let counts = categoryCounts[g]
                let top = counts.indices.max { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) } ?? 0
                fills[group.features[top]] = 1
            } else {
                fills[group.features[0]] = keepsValues ? Float(statistic(strategy, of: values[g])) : Float(sums[g] / Double(observed[g]))
            }
        }
        return try Imputer(strategy: strategy, fills: fills)
    }

    /// Median or most frequent value of a non-empty list.
    private static func statistic(_ strategy: ImputationStrategy, of values: [Float]) -> Double {
        if strategy == .median {
            let sorted = values.sorted()
            let mid = sorted.count / 2
            return sorted.count % 2 == 1 ? Double(sorted[mid]) : (Double(sorted[mid - 1]) + Double(sorted[mid])) / 2
        } else {
            var counts: [Float: Int] = [:]
            for v in values { counts[v, default: 0] += 1 }
            return Double(counts.min { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }?.key ?? 0)
        }
    }
}
