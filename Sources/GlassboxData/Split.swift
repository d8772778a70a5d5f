import GlassboxNN

/// Which examples went where in a split. Each list is sorted increasingly; together they are a
/// partition of `0..<n`.
public struct SplitIndices: Sendable, Equatable {
    /// Row indices of the training part.
    public var train: [Int]
    /// Row indices of the validation part.
    public var validation: [Int]
    /// Row indices of the test part.
    public var test: [Int]
}

/// A dataset split into training, validation and test parts.
public struct DataSplit<D: Sendable>: Sendable {
    /// The training part.
    public var train: D
    /// The validation part.
    public var validation: D
    /// The test part.
    public var test: D
    /// The rows of the original dataset in each part.
    public var indices: SplitIndices
}

/// Seeded stratified splitting: every class is divided in the requested proportions, so rare
/// classes appear in every part in proportion (up to rounding).
///
/// The part sizes are `round(n·test)` and `round(n·validation)` with training taking the rest;
/// each part's size is shared among the classes by largest remainder, so every class gets its
/// proportional share rounded up or down. Within a class the examples are shuffled by a
/// ``SeededGenerator`` seeded with `seed` (classes in increasing order), then dealt to test,
/// validation and training. The same labels, fractions and seed give the same split on every
/// platform. Cost: O(n).
public enum StratifiedSplit {
    /// Stratified indices: each class split in the given proportions, shuffled from `seed`.
    public static func indices(labels: [Int], numClasses: Int, train: Double, validation: Double, test: Double,
                               seed: UInt64) throws -> SplitIndices {
        let fractions = [train, validation, test]
        guard fractions.allSatisfy({ $0.isFinite && $0 >= 0 }), abs(fractions.reduce(0, +) - 1) <= 1e-6, train > 0 else {
            throw GlassboxError.invalidArgument(
                "split fractions must be non-negative and sum to 1 with train > 0, got train \(train), validation \(validation), test \(test)")
        }
        try checkLabels(labels, classCount: numClasses)
        var byClass = [[Int]](repeating: [], count: numClasses)
        for (i, label) in labels.enumerated() { byClass[label].append(i) }
        let sizes = byClass.map(\.count)
        let n = labels.count

        let testCounts = allocate(target: Int((Double(n) * test).rounded()), fraction: test, sizes: sizes, caps: sizes)
        let validationCounts = allocate(target: Int((Double(n) * validation).rounded()), fraction: validation, sizes: sizes,
                                        caps: zip(sizes, testCounts).map { $0 - $1 })

        var rng = SeededGenerator(seed: seed)
        var result = SplitIndices(train: [], validation: [], test: [])
        for c in 0..<numClasses {
            var members = byClass[c]
            rng.shuffle(&members)
            let t = testCounts[c], v = validationCounts[c]
            result.test += members[0..<t]
            result.validation += members[t..<(t + v)]
            result.train += members[(t + v)...]
        }
        result.train.sort()
        result.validation.sort()
        result.test.sort()
        return result
    }

    /// Shares `target` among classes in proportion to `sizes` (quota `size·fraction`) by largest
    /// remainder, never giving a class more than its cap. Ties go to the lower class index.
    static func allocate(target: Int, fraction: Double, sizes: [Int], caps: [Int]) -> [Int] {
        let quotas = sizes.map { Double($0) * fraction }
        var counts = zip(quotas, caps).map { Swift.min(Int($0.rounded(.down)), $1) }
        var remaining = Swift.min(target, caps.reduce(0, +)) - counts.reduce(0, +)
        let order = sizes.indices.sorted { a, b in
            let ra = quotas[a] - quotas[a].rounded(.down), rb = quotas[b] - quotas[b].rounded(.down)
            return ra != rb ? ra > rb : a < b
        }
        while remaining > 0 {
            var progressed = false
            for c in order where remaining > 0 && counts[c] < caps[c] {
                counts[c] += 1
                remaining -= 1
                progressed = true
            }
            if !progressed { break }
        }
        return counts
    }
}

extension Dataset {
    /// A seeded stratified split (see ``StratifiedSplit``). Fractions must sum to 1; validation
    /// or test may be 0, giving an empty part.
    public func stratifiedSplit(train: Double = 0.7, validation: Double = 0.15, test: Double = 0.15,
                                seed: UInt64) throws -> DataSplit<Dataset> {
        let ix = try StratifiedSplit.indices(labels: labels, numClasses: numClasses, train: train,
                                             validation: validation, test: test, seed: seed)
        return DataSplit(train: subset(ix.train), validation: subset(ix.validation), test: subset(ix.test), indices: ix)
    }
}

extension ImageDataset {
    /// A seeded stratified split (see ``StratifiedSplit``).
    public func stratifiedSplit(train: Double = 0.7, validation: Double = 0.15, test: Double = 0.15,
                                seed: UInt64) throws -> DataSplit<ImageDataset> {
        let ix = try StratifiedSplit.indices(labels: labels, numClasses: numClasses, train: train,
                                             validation: validation, test: test, seed: seed)
        return DataSplit(train: subset(ix.train), validation: subset(ix.validation), test: subset(ix.test), indices: ix)
    }
}
