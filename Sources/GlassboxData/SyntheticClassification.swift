import Foundation
import GlassboxNN

/// A synthetic classification problem with known feature roles: scikit-learn's
/// `make_classification` (Guyon's Madelon design), reimplemented on ``SeededGenerator``.
///
/// The algorithm is sklearn's, step for step; the random stream is not NumPy's, so values differ
/// from sklearn's for the same seed while every distribution is the same. With `K` informative,
/// `R` redundant, `P` repeated features and `C` classes of `Q` clusters each:
/// 1. Cluster sizes: `⌊n · w[k mod C] / Q⌋` for cluster `k` (`w` the class weights, uniform by
///    default), the remainder dealt one per cluster in order. Cluster `k` has class `k mod C`.
/// 2. Centroids: `C·Q` distinct vertices of `{−s, +s}^K` (`s` = `classSep`); without `hypercube`,
///    each centroid is scaled by a uniform factor per cluster and per dimension (a random polytope).
/// 3. Informative features: per cluster, `z · A + centroid` with `z ~ N(0, I_K)` and `A` a `K×K`
///    matrix uniform in [−1, 1) drawn per cluster (random covariance).
/// 4. Redundant features: `X_inf · B`, `B` a `K×R` matrix uniform in [−1, 1).
/// 5. Repeated features: copies of columns `⌊(K+R−1)·u + 0.5⌋` (informative or redundant), `u` uniform.
/// 6. The remaining `d − K − R − P` features are noise, `N(0, 1)`.
/// 7. Label noise: each row with probability `flipY` gets a class drawn uniformly (possibly its own).
/// 8. Every feature is shifted then scaled: `(x + shift) · scale`.
/// 9. With `shuffle`, rows and then columns are permuted; the roles follow the columns.
///
/// Features are named `x0 … x{d−1}` by their final position; class names are `"0" … "C−1"`.
/// Computed in Double, stored as Float. Cost: O(n·K·(K + R) + n·d) time, O(n·d) memory.
public enum SyntheticClassification {
    /// The generator's parameters, named and defaulted as sklearn's (JSON keys are sklearn's names).
    public struct Parameters: Codable, Sendable, Equatable {
        /// Rows.
        public var samples = 100
        /// Columns in total.
        public var features = 20
        /// Informative features.
        public var informative = 2
        /// Linear combinations of informative features.
        public var redundant = 2
        /// Copies of informative or redundant features.
        public var repeated = 0
        /// Classes.
        public var classes = 2
        /// Gaussian clusters per class.
        public var clustersPerClass = 2
        /// Class proportions, `classes` or `classes − 1` of them (the last is then `1 − Σ`);
        /// `nil` for balanced classes. They must sum to at most 1.
        public var weights: [Double]?
        /// Fraction of rows whose class is redrawn uniformly at random.
        public var flipY = 0.01
        /// Half the hypercube's side: larger separates the classes more.
        public var classSep = 1.0
        /// Clusters on hypercube vertices (`true`) or on a random polytope's.
        public var hypercube = true
        /// Added to every feature; `nil` for a random shift per feature, uniform in [−classSep, classSep).
        public var shift: Double? = 0
        /// Multiplies every feature after the shift; `nil` for a random scale per feature, uniform in [1, 101).
        public var scale: Double? = 1
        /// Permute rows and columns.
        public var shuffle = true

        /// Parameters with scikit-learn's defaults.
        public init(samples: Int = 100, features: Int = 20, informative: Int = 2, redundant: Int = 2, repeated: Int = 0,
                    classes: Int = 2, clustersPerClass: Int = 2, weights: [Double]? = nil, flipY: Double = 0.01,
                    classSep: Double = 1.0, hypercube: Bool = true, shift: Double? = 0, scale: Double? = 1, shuffle: Bool = true) {
            self.samples = samples
            self.features = features
            self.informative = informative
            self.redundant = redundant
            self.repeated = repeated
            self.classes = classes
            self.clustersPerClass = clustersPerClass
            self.weights = weights
            self.flipY = flipY
            self.classSep = classSep
            self.hypercube = hypercube
            self.shift = shift
            self.scale = scale
            self.shuffle = shuffle
        }

        /// The number of pure-noise features.
        public var noise: Int { features - informative - redundant - repeated }

        /// Throws ``GlassboxError/invalidArgument(_:)`` naming the first parameter out of range.
        public func validate() throws {
            func fail(_ message: String) -> GlassboxError { .invalidArgument(message) }
            guard samples >= 1 else { throw fail("samples must be at least 1, got \(samples)") }
            guard features >= 1 else { throw fail("features must be at least 1, got \(features)") }
            guard informative >= 1 else { throw fail("informative must be at least 1, got \(informative)") }
            guard redundant >= 0, repeated >= 0 else { throw fail("redundant and repeated must not be negative, got \(redundant) and \(repeated)") }
            guard informative <= features, redundant <= features, repeated <= features,
                  informative + redundant + repeated <= features else {
                throw fail("informative + redundant + repeated (\(informative) + \(redundant) + \(repeated)) exceeds features (\(features))")
            }
            guard classes >= 2 else { throw fail("classes must be at least 2, got \(classes)") }
            guard clustersPerClass >= 1 else { throw fail("clusters per class must be at least 1, got \(clustersPerClass)") }
            let (clusters, overflow) = classes.multipliedReportingOverflow(by: clustersPerClass)
            guard !overflow, informative >= 62 || clusters <= 1 << informative else {
                throw fail("classes × clusters per class (\(classes) × \(clustersPerClass)) must be at most 2^informative "
                               + "(2^\(informative)): each cluster needs its own hypercube vertex")
            }
            let (cells, cellOverflow) = samples.multipliedReportingOverflow(by: features)
            guard !cellOverflow, cells <= 1 << 31 else { throw fail("samples × features (\(samples) × \(features)) exceeds 2^31 values") }
            if let weights {
                guard weights.count == classes || weights.count == classes - 1 else {
                    throw fail("weights has \(weights.count) entries; give one per class (\(classes)) or one fewer")
                }
                guard weights.allSatisfy({ $0.isFinite && $0 >= 0 }), weights.reduce(0, +) <= 1 + 1e-9 else {
                    throw fail("weights must be non-negative and sum to at most 1, got \(weights)")
                }
            }
            guard flipY.isFinite, (0...1).contains(flipY) else { throw fail("flipY must be in [0, 1], got \(flipY)") }
            guard classSep.isFinite, classSep > 0 else { throw fail("classSep must be positive, got \(classSep)") }
            if let shift { guard shift.isFinite else { throw fail("shift must be finite, got \(shift)") } }
            if let scale { guard scale.isFinite, scale > 0 else { throw fail("scale must be positive, got \(scale)") } }
        }

        /// Class proportions with the implicit last one filled in.
        var classWeights: [Double] {
            guard let weights else { return [Double](repeating: 1 / Double(classes), count: classes) }
            return weights.count == classes ? weights : weights + [1 - weights.reduce(0, +)]
        }

        private enum CodingKeys: String, CodingKey {
            case samples = "n_samples", features = "n_features", informative = "n_informative", redundant = "n_redundant"
            case repeated = "n_repeated", classes = "n_classes", clustersPerClass = "n_clusters_per_class", weights
            case flipY = "flip_y", classSep = "class_sep", hypercube, shift, scale, shuffle
        }

        /// Writes every key; a random shift or scale is written as `null`.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(samples, forKey: .samples)
            try c.encode(features, forKey: .features)
            try c.encode(informative, forKey: .informative)
            try c.encode(redundant, forKey: .redundant)
            try c.encode(repeated, forKey: .repeated)
            try c.encode(classes, forKey: .classes)
            try c.encode(clustersPerClass, forKey: .clustersPerClass)
            try c.encode(weights, forKey: .weights)
            try c.encode(flipY, forKey: .flipY)
            try c.encode(classSep, forKey: .classSep)
            try c.encode(hypercube, forKey: .hypercube)
            try c.encode(shift, forKey: .shift)
            try c.encode(scale, forKey: .scale)
            try c.encode(shuffle, forKey: .shuffle)
        }

        /// Absent keys take sklearn's defaults; `null` shift or scale means random.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init()
            samples = try c.decodeIfPresent(Int.self, forKey: .samples) ?? samples
            features = try c.decodeIfPresent(Int.self, forKey: .features) ?? features
            informative = try c.decodeIfPresent(Int.self, forKey: .informative) ?? informative
            redundant = try c.decodeIfPresent(Int.self, forKey: .redundant) ?? redundant
            repeated = try c.decodeIfPresent(Int.self, forKey: .repeated) ?? repeated
            classes = try c.decodeIfPresent(Int.self, forKey: .classes) ?? classes
            clustersPerClass = try c.decodeIfPresent(Int.self, forKey: .clustersPerClass) ?? clustersPerClass
            weights = try c.decodeIfPresent([Double].self, forKey: .weights)
            flipY = try c.decodeIfPresent(Double.self, forKey: .flipY) ?? flipY
            classSep = try c.decodeIfPresent(Double.self, forKey: .classSep) ?? classSep
            hypercube = try c.decodeIfPresent(Bool.self, forKey: .hypercube) ?? hypercube
            if c.contains(.shift) { shift = try c.decodeIfPresent(Double.self, forKey: .shift) }
            if c.contains(.scale) { scale = try c.decodeIfPresent(Double.self, forKey: .scale) }
            shuffle = try c.decodeIfPresent(Bool.self, forKey: .shuffle) ?? shuffle
        }
    }

    /// A generated dataset with its ground truth.
    public struct Result: Sendable {
        /// `[samples, features]`, features `x0…`, classes `"0"…`.
        public var dataset: Dataset
        /// The role of every feature, in the dataset's feature order, with the seed and parameters.
        public var roles: FeatureRoles
        /// The cluster each row was drawn from (its class before label noise is `cluster mod classes`).
        public var clusters: [Int]
        /// Rows whose class was redrawn at random (`flipY`), increasing; a redrawn class may equal the original.
        public var flippedRows: [Int]
    }

    /// Generates the problem. Same parameters and seed ⇒ bit-identical result.
    ///
    /// - Throws: ``GlassboxError/invalidArgument(_:)`` for parameters out of range (see ``Parameters/validate()``).
    public static func generate(_ p: Parameters, seed: UInt64) throws -> Result {
        try p.validate()
        var rng = SeededGenerator(seed: seed)
        let (n, d, k, r, c) = (p.samples, p.features, p.informative, p.redundant, p.classes)
        let useful = k + r
        let clusterCount = c * p.clustersPerClass

        let weights = p.classWeights
        var sizes = (0..<clusterCount).map { Int(Double(n) * weights[$0 % c] / Double(p.clustersPerClass)) }
        let dealt = sizes.reduce(0, +)
        for i in 0..<max(0, n - dealt) { sizes[i % clusterCount] += 1 }

        var centroids = hypercubeVertices(clusterCount, dimensions: k, rng: &rng).map { vertex in
            vertex.map { $0 ? p.classSep : -p.classSep }
        }
        if !p.hypercube {
            for q in 0..<clusterCount {
                let factor = rng.uniformDouble()
                for i in 0..<k { centroids[q][i] *= factor }
            }
            let perDimension = (0..<k).map { _ in rng.uniformDouble() }
            for q in 0..<clusterCount { for i in 0..<k { centroids[q][i] *= perDimension[i] } }
        }

        // x holds the columns in generation order: informative, redundant, repeated, noise.
        var x = [Double](repeating: 0, count: n * d)
        for i in 0..<n { for f in 0..<k { x[i * d + f] = rng.normal() } }
        var clusters = [Int](repeating: 0, count: n)
        var labels = [Int](repeating: 0, count: n)
        var z = [Double](repeating: 0, count: k)
        var stop = 0
        for q in 0..<clusterCount {
            let start = stop
            stop = min(n, stop + sizes[q])
            let a = (0..<(k * k)).map { _ in 2 * rng.uniformDouble() - 1 }
            for i in start..<stop {
                clusters[i] = q
                labels[i] = q % c
                for f in 0..<k { z[f] = x[i * d + f] }
                for f in 0..<k {
                    var sum = centroids[q][f]
                    for g in 0..<k { sum += z[g] * a[g * k + f] }
                    x[i * d + f] = sum
                }
            }
        }

        let b = (0..<(k * r)).map { _ in 2 * rng.uniformDouble() - 1 }
        if r > 0 {
            for i in 0..<n {
                for col in 0..<r {
                    var sum = 0.0
                    for f in 0..<k { sum += x[i * d + f] * b[f * r + col] }
                    x[i * d + k + col] = sum
                }
            }
        }
        let copied = (0..<p.repeated).map { _ in Int(Double(useful - 1) * rng.uniformDouble() + 0.5) }
        for (offset, source) in copied.enumerated() {
            for i in 0..<n { x[i * d + useful + offset] = x[i * d + source] }
        }
        for i in 0..<n { for f in (useful + p.repeated)..<d { x[i * d + f] = rng.normal() } }

        var flippedRows: [Int] = []
        for i in 0..<n where rng.uniformDouble() < p.flipY { flippedRows.append(i) }
        for i in flippedRows { labels[i] = rng.int(below: c) }

        let shifts = (0..<d).map { _ in p.shift ?? (2 * rng.uniformDouble() - 1) * p.classSep }
        let scales = (0..<d).map { _ in p.scale ?? 1 + 100 * rng.uniformDouble() }
        for i in 0..<n { for f in 0..<d { x[i * d + f] = (x[i * d + f] + shifts[f]) * scales[f] } }

        let rowOrder = p.shuffle ? rng.permutation(n) : Array(0..<n)
        let columnOrder = p.shuffle ? rng.permutation(d) : Array(0..<d)
        var scalars = [Float](repeating: 0, count: n * d)
        for (i, source) in rowOrder.enumerated() {
            for (f, column) in columnOrder.enumerated() { scalars[i * d + f] = Float(x[source * d + column]) }
        }
        var position = [Int](repeating: 0, count: d)
        for (f, column) in columnOrder.enumerated() { position[column] = f }
        var inverseRows = [Int](repeating: 0, count: n)
        for (i, source) in rowOrder.enumerated() { inverseRows[source] = i }

        func name(_ column: Int) -> String { "x\(position[column])" }
        let informativeNames = (0..<k).map(name)
        let roles = columnOrder.enumerated().map { f, column -> FeatureRoles.Feature in
            let own = "x\(f)"
            if column < k { return .init(name: own, role: .informative) }
            if column < useful {
                return .init(name: own, role: .redundant, sources: informativeNames,
                             coefficients: (0..<k).map { b[$0 * r + column - k] })
            }
            if column < useful + p.repeated {
                let source = copied[column - useful]
                return .init(name: own, role: .repeated, sources: source < k ? [name(source)] : informativeNames,
                             copyOf: name(source))
            }
            return .init(name: own, role: .noise)
        }

        let dataset = Dataset(unchecked: Tensor(uncheckedShape: [n, d], scalars: scalars),
                              labels: rowOrder.map { labels[$0] }, featureNames: (0..<d).map { "x\($0)" },
                              classNames: (0..<c).map(String.init))
        return Result(dataset: dataset, roles: FeatureRoles(features: roles, seed: seed, parameters: p),
                      clusters: rowOrder.map { clusters[$0] },
                      flippedRows: flippedRows.map { inverseRows[$0] }.sorted())
    }

    /// `count` distinct vertices of the unit hypercube in `dimensions` dimensions, in random
    /// order. Like sklearn: the low (up to 62) coordinates are a sample without replacement of
    /// `0..<2^62` (Floyd's algorithm), any further ones are random bits.
    static func hypercubeVertices(_ count: Int, dimensions: Int, rng: inout SeededGenerator) -> [[Bool]] {
        let low = min(dimensions, 62)
        let range = 1 << low
        var chosen = Set<Int>()
        var codes: [Int] = []
        for j in (range - count)..<range {
            let t = rng.int(below: j + 1)
            let pick = chosen.contains(t) ? j : t
            chosen.insert(pick)
            codes.append(pick)
        }
        rng.shuffle(&codes)
        return codes.map { code in
            (0..<dimensions).map { bit in bit < low ? (code >> bit) & 1 == 1 : rng.next() & 1 == 1 }
        }
    }
}
