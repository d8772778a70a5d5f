import GlassboxNN

/// A tabular classification dataset: one row of numeric features and one class per example.
///
/// Invariants (checked by the initialiser): `features` has shape `[count, featureNames.count]`,
/// and every label is an index into `classNames`.
public struct Dataset: Sendable, Equatable {
    /// `[n, d]`, row-major: example `i` is `features.scalars[i*d ..< (i+1)*d]`.
    public private(set) var features: Tensor
    /// Class index of each example, in `0..<classNames.count`.
    public private(set) var labels: [Int]
    /// One name per feature column.
    public private(set) var featureNames: [String]
    /// One name per class; label `k` means `classNames[k]`.
    public private(set) var classNames: [String]

    /// Creates a dataset, checking shapes and label range.
    public init(features: Tensor, labels: [Int], featureNames: [String], classNames: [String]) throws {
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
        self.init(unchecked: features, labels: labels, featureNames: featureNames, classNames: classNames)
    }

    init(unchecked features: Tensor, labels: [Int], featureNames: [String], classNames: [String]) {
        self.features = features
        self.labels = labels
        self.featureNames = featureNames
        self.classNames = classNames
    }

    /// Number of examples.
    public var count: Int { labels.count }
    /// Number of features per example.
    public var featureCount: Int { featureNames.count }
    /// Number of classes.
    public var numClasses: Int { classNames.count }
    /// How many examples each class has, indexed by class.
    public var classCounts: [Int] { countClasses(labels, classCount: classNames.count) }

    /// The examples at `rows`, in that order (repeats allowed). Cost: O(rows.count × d).
    /// Indices must be in `0..<count`.
    public func subset(_ rows: [Int]) -> Dataset {
        Dataset(unchecked: gatherRows(features, rows), labels: rows.map { labels[$0] },
                featureNames: featureNames, classNames: classNames)
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

    public var count: Int { labels.count }
    public var channels: Int { images.shape[1] }
    public var height: Int { images.shape[2] }
    public var width: Int { images.shape[3] }
    public var numClasses: Int { classNames.count }
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
