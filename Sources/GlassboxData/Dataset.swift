import GlassboxNN

/// The features that one original column of a table became: a numeric column is a group of one
/// feature, a categorical column a group of one 0/1 feature per category (one-hot). Importances
/// and rankings can be summed per group to report them per original column.
///
/// Stored with a model (it is `Codable`) so new data can be encoded the same way.
public struct FeatureGroup: Codable, Sendable, Equatable {
    /// The original column's name.
    public var name: String
    /// Indices of the group's features in the dataset's feature order (contiguous, increasing).
    public var features: [Int]
    /// For a categorical column, the category of each feature (`categories[k]` is 1 in feature
    /// `features[k]`); `nil` for a numeric column.
    public var categories: [String]?

    /// Makes a group of encoded columns `features` for the original column `name`.
    public init(name: String, features: [Int], categories: [String]? = nil) {
        self.name = name
        self.features = features
        self.categories = categories
    }

    /// Whether the group is a one-hot block.
    public var isCategorical: Bool { categories != nil }

    /// One numeric group per feature: the grouping of a table without categorical columns.
    public static func singletons(_ featureNames: [String]) -> [FeatureGroup] {
        featureNames.enumerated().map { FeatureGroup(name: $1, features: [$0]) }
    }

    /// Checks that `groups` partition `0..<featureCount` in order and that categorical groups
    /// have one category per feature.
    static func validate(_ groups: [FeatureGroup], featureCount: Int) throws {
        var next = 0
        for group in groups {
            guard !group.features.isEmpty, group.features == Array(next..<(next + group.features.count)) else {
                throw GlassboxError.invalidArgument(
                    "feature group '\(group.name)' owns features \(group.features), expected a non-empty run starting at \(next)")
            }
            if let categories = group.categories, categories.count != group.features.count {
                throw GlassboxError.invalidArgument(
                    "feature group '\(group.name)' has \(categories.count) categories for \(group.features.count) features")
            }
            next += group.features.count
        }
        guard next == featureCount else {
            throw GlassboxError.invalidArgument("feature groups cover \(next) features but the dataset has \(featureCount)")
        }
    }
}

/// A tabular classification dataset: one row of numeric features and one class per example.
///
/// Invariants (checked by the initialiser): `features` has shape `[count, featureNames.count]`,
/// every label is an index into `classNames`, and `featureGroups` partition the features in order.
public struct Dataset: Sendable, Equatable {
    /// `[n, d]`, row-major: example `i` is `features.scalars[i*d ..< (i+1)*d]`.
    public private(set) var features: Tensor
    /// Class index of each example, in `0..<classNames.count`.
    public private(set) var labels: [Int]
    /// One name per feature column; a one-hot feature is named `column=category`.
    public private(set) var featureNames: [String]
    /// One name per class; label `k` means `classNames[k]`.
    public private(set) var classNames: [String]
    /// The original columns the features came from, in feature order.
    public private(set) var featureGroups: [FeatureGroup]
    /// Cells that were missing in the source, as flat indices `row * featureCount + feature`,
    /// increasing (every feature of a categorical group is listed). Their values in `features`
    /// are the fills of ``imputer``; kept so the imputer can be refitted (e.g. on training rows).
    public private(set) var missingCells: [Int]
    /// The imputer whose fills are in the missing cells; `nil` when nothing was imputed.
    public private(set) var imputer: Imputer?

    /// Creates a dataset, checking shapes, label range and groups. `featureGroups` defaults to one
    /// numeric group per feature.
    public init(features: Tensor, labels: [Int], featureNames: [String], classNames: [String],
                featureGroups: [FeatureGroup]? = nil) throws {
        guard features.rank == 2 else {
            throw GlassboxError.shapeMismatch("dataset features must be [n, d], got \(features.shape)")
        }
        guard features.shape[0] == labels.count else {
            throw GlassboxError.shapeMismatch("features have \(features.shape[0]) rows but there are \(labels.count) labels")
        }
        guard features.shape[1] == featureNames.count else {
            throw GlassboxError.shapeMismatch("features have \(features.shape[1]) columns but there are \(featureNames.count) feature names")
        }
        try checkLabels(labels, classCount: classNames.count)
        if let featureGroups { try FeatureGroup.validate(featureGroups, featureCount: featureNames.count) }
        self.init(unchecked: features, labels: labels, featureNames: featureNames, classNames: classNames,
                  featureGroups: featureGroups)
    }

    init(unchecked features: Tensor, labels: [Int], featureNames: [String], classNames: [String],
         featureGroups: [FeatureGroup]? = nil, missingCells: [Int] = [], imputer: Imputer? = nil) {
        self.features = features
        self.labels = labels
        self.featureNames = featureNames
        self.classNames = classNames
        self.featureGroups = featureGroups ?? FeatureGroup.singletons(featureNames)
        self.missingCells = missingCells
        self.imputer = imputer
    }

    /// Number of examples.
    public var count: Int { labels.count }
    /// Number of features per example.
    public var featureCount: Int { featureNames.count }
    /// Number of classes.
    public var numClasses: Int { classNames.count }
    /// How many examples each class has, indexed by class.
    public var classCounts: [Int] { countClasses(labels, classCount: classNames.count) }

    /// How the table's columns became features and labels (groups, imputation fills, classes):
    /// pass it as ``CSVDatasetOptions/encoding`` to encode new data identically. `Codable`, for
    /// model files.
    public var encoding: TabularEncoding {
        TabularEncoding(featureGroups: featureGroups, imputer: imputer, classNames: classNames)
    }

    /// Per-feature values (`[d]`, e.g. importances) summed within each group: one value per
    /// original column, in `featureGroups` order.
    public func groupTotals(_ perFeature: [Float]) throws -> [Float] {
        guard perFeature.count == featureCount else {
            throw GlassboxError.shapeMismatch("\(perFeature.count) per-feature values for \(featureCount) features")
        }
        return featureGroups.map { group in group.features.reduce(0) { $0 + perFeature[$1] } }
    }

    /// The examples at `rows`, in that order (repeats allowed). Cost: O(rows.count × d).
    /// Indices must be in `0..<count`.
    public func subset(_ rows: [Int]) -> Dataset {
        Dataset(unchecked: gatherRows(features, rows), labels: rows.map { labels[$0] },
                featureNames: featureNames, classNames: classNames, featureGroups: featureGroups,
                missingCells: missingCells.isEmpty ? [] : gatherMissing(rows), imputer: imputer)
    }

    /// `missingCells` re-indexed for the rows `rows`. Cells of one row are contiguous in the
    /// sorted list, so each row's run is found by binary search.
    private func gatherMissing(_ rows: [Int]) -> [Int] {
        let d = featureCount
        var result: [Int] = []
        for (newRow, row) in rows.enumerated() {
            for cell in missingCells[missingRange(row: row)] { result.append(newRow * d + cell - row * d) }
        }
        return result
    }

    /// The positions in `missingCells` of row `row`'s missing cells (binary search).
    func missingRange(row: Int) -> Range<Int> {
        let d = featureCount
        func lowerBound(_ value: Int) -> Int {
            var lo = 0, hi = missingCells.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if missingCells[mid] < value { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        return lowerBound(row * d)..<lowerBound((row + 1) * d)
    }

    /// The same examples with new features of the same shape (e.g. standardised ones).
    public func replacingFeatures(_ newFeatures: Tensor) throws -> Dataset {
        guard newFeatures.shape == features.shape else {
            throw GlassboxError.shapeMismatch("replacement features \(newFeatures.shape) differ from \(features.shape)")
        }
        var copy = self
        copy.features = newFeatures
        return copy
    }

    /// The same examples with `imputer`'s fills in the missing cells, recording the imputer.
    /// Impute before standardising: the fills are in the units the imputer was fitted in.
    public func imputed(with imputer: Imputer) throws -> Dataset {
        guard imputer.fills.count == featureCount else {
            throw GlassboxError.shapeMismatch("imputer fitted on \(imputer.fills.count) features cannot fill a dataset with \(featureCount)")
        }
        var copy = self
        let d = featureCount
        copy.features.scalars.withUnsafeMutableBufferPointer { x in
            for cell in missingCells { x[cell] = imputer.fills[cell % d] }
        }
        copy.imputer = imputer
        return copy
    }
}

/// An image classification dataset.
///
/// Invariants (checked by the initialiser): `images` has shape `[count, channels, height, width]`
/// and every label is an index into `classNames`.
public struct ImageDataset: Sendable, Equatable {
    /// `[n, c, h, w]` (NCHW), pixel values usually scaled to [0, 1].
    public private(set) var images: Tensor
    /// Class index of each image.
    public private(set) var labels: [Int]
    /// One name per class.
    public private(set) var classNames: [String]

    /// Makes a dataset of images `[n, C, H, W]` with one label in `0..<classNames.count` each.
    public init(images: Tensor, labels: [Int], classNames: [String]) throws {
        guard images.rank == 4 else {
            throw GlassboxError.shapeMismatch("images must be [n, c, h, w], got \(images.shape)")
        }
        guard images.shape[0] == labels.count else {
            throw GlassboxError.shapeMismatch("there are \(images.shape[0]) images but \(labels.count) labels")
        }
        try checkLabels(labels, classCount: classNames.count)
        self.init(unchecked: images, labels: labels, classNames: classNames)
    }

    init(unchecked images: Tensor, labels: [Int], classNames: [String]) {
        self.images = images
        self.labels = labels
        self.classNames = classNames
    }

    /// Number of images.
    public var count: Int { labels.count }
    /// Channels `C`.
    public var channels: Int { images.shape[1] }
    /// Height `H`.
    public var height: Int { images.shape[2] }
    /// Width `W`.
    public var width: Int { images.shape[3] }
    /// Number of classes.
    public var numClasses: Int { classNames.count }
    /// Images per class.
    public var classCounts: [Int] { countClasses(labels, classCount: classNames.count) }

    /// The images at `rows`, in that order. Indices must be in `0..<count`.
    public func subset(_ rows: [Int]) -> ImageDataset {
        ImageDataset(unchecked: gatherRows(images, rows), labels: rows.map { labels[$0] }, classNames: classNames)
    }

    /// The images as a tabular dataset `[n, c·h·w]`, with features named `pixel_<row>_<col>`
    /// (as scikit-learn names the digits) or `c<k>_pixel_<row>_<col>` for several channels.
    public func flattened() -> Dataset {
        let (c, h, w) = (channels, height, width)
        var names: [String] = []
        names.reserveCapacity(c * h * w)
        for k in 0..<c {
            for r in 0..<h {
                for col in 0..<w { names.append(c == 1 ? "pixel_\(r)_\(col)" : "c\(k)_pixel_\(r)_\(col)") }
            }
        }
        return Dataset(unchecked: Tensor(uncheckedShape: [count, c * h * w], scalars: images.scalars),
                       labels: labels, featureNames: names, classNames: classNames)
    }
}

func checkLabels(_ labels: [Int], classCount: Int) throws {
    if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= classCount }) {
        throw GlassboxError.invalidArgument("label \(labels[bad]) at index \(bad) is outside 0..<\(classCount) (the number of class names)")
    }
}

func countClasses(_ labels: [Int], classCount: Int) -> [Int] {
    var counts = [Int](repeating: 0, count: classCount)
    for label in labels { counts[label] += 1 }
    return counts
}

/// Rows `rows` of a tensor whose first axis indexes examples.
func gatherRows(_ tensor: Tensor, _ rows: [Int]) -> Tensor {
    let n = tensor.shape.first ?? 0
    let stride = n == 0 ? Tensor.count(of: Array(tensor.shape.dropFirst())) : tensor.count / n
    var scalars = [Float]()
    scalars.reserveCapacity(rows.count * stride)
    tensor.scalars.withUnsafeBufferPointer { source in
        for row in rows {
            precondition(row >= 0 && row < n, "row \(row) is outside 0..<\(n)")
            scalars.append(contentsOf: source[(row * stride)..<((row + 1) * stride)])
        }
    }
    var shape = tensor.shape
    shape[0] = rows.count
    return Tensor(uncheckedShape: shape, scalars: scalars)
}
