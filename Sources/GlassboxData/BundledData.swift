import Foundation
import GlassboxNN

/// Datasets shipped inside the package (see `Resources/README.md` for provenance and licences),
/// plus the full Fashion-MNIST when Debian's `dataset-fashion-mnist` is installed.
///
/// Each call reads and parses its files afresh (milliseconds for the tabular sets, about 5 MB of
/// decompression for the Fashion-MNIST sample); keep the result if you need it repeatedly.
public enum BundledData {
    /// Wisconsin diagnostic breast cancer: 569 × 30, classes `benign` (357), `malignant` (212).
    public static func breastCancer() throws -> Dataset {
        try Dataset.loadCSV(resource("breast_cancer", "csv"), target: "diagnosis")
    }

    /// Wine recognition: 178 × 13, classes `class_0` (59), `class_1` (71), `class_2` (48).
    public static func wine() throws -> Dataset {
        try Dataset.loadCSV(resource("wine", "csv"), target: "class")
    }

    /// Fisher's iris: 150 × 4, classes `setosa`, `versicolor`, `virginica` (50 each).
    public static func iris() throws -> Dataset {
        try Dataset.loadCSV(resource("iris", "csv"), target: "species")
    }

    /// Handwritten digits: `[1797, 1, 8, 8]`, pixel values 0...16 scaled to [0, 1], classes "0"..."9".
    public static func digits() throws -> ImageDataset {
        let imagesURL = try resource("digits_images", "npy")
        let raw = try NPY.read(from: imagesURL)
        guard raw.shape.count == 3, raw.shape[1] == 8, raw.shape[2] == 8 else {
            throw GlassboxError.badFile(path: imagesURL.path, location: "", problem: "expected shape [n, 8, 8], found \(raw.shape)")
        }
        let images = try raw.map { $0 / 16 }.reshaped([raw.shape[0], 1, 8, 8])
        let labelsURL = try resource("digits_labels", "npy")
        let labels = try NPY.read(from: labelsURL).scalars.map { Int($0) }
        return try assemble(images, labels, classNames: (0..<10).map(String.init), labelsPath: labelsURL.path)
    }

    /// Fashion-MNIST class names, in label order.
    public static let fashionMNISTClassNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// A stratified sample of Fashion-MNIST: 6,000 training images (600 per class) from the
    /// official training set and 1,000 test images (100 per class) from the official test set,
    /// each `[n, 1, 28, 28]` in [0, 1].
    public static func fashionMNISTSample() throws -> (train: ImageDataset, test: ImageDataset) {
        (try idxPair(resource("fashion_sample_train_images", "idx3.gz"), resource("fashion_sample_train_labels", "idx1.gz")),
         try idxPair(resource("fashion_sample_test_images", "idx3.gz"), resource("fashion_sample_test_labels", "idx1.gz")))
    }

    /// Where Debian's `dataset-fashion-mnist` package installs the files.
    public static let defaultFashionMNISTDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")

    /// The full Fashion-MNIST (60,000 training and 10,000 test images, `[n, 1, 28, 28]` in [0, 1])
    /// from a directory holding the four official IDX files, gzipped or not.
    ///
    /// - Throws: ``GlassboxError/badFile(path:location:problem:)`` naming the directory and how to
    ///   install the data if a file is missing.
    public static func fashionMNIST(directory: URL = defaultFashionMNISTDirectory) throws -> (train: ImageDataset, test: ImageDataset) {
        func find(_ stem: String) throws -> URL {
            for name in [stem + ".gz", stem] {
                let url = directory.appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: url.path) { return url }
            }
            throw GlassboxError.badFile(
                path: directory.path, location: "",
                problem: "Fashion-MNIST is not installed here (\(stem).gz is missing); install it with "
                    + "`apt-get install dataset-fashion-mnist` or pass the directory holding the four IDX files")
        }
        return (try idxPair(find("train-images-idx3-ubyte"), find("train-labels-idx1-ubyte")),
                try idxPair(find("t10k-images-idx3-ubyte"), find("t10k-labels-idx1-ubyte")))
    }

    private static func idxPair(_ imagesURL: URL, _ labelsURL: URL) throws -> ImageDataset {
        try assemble(IDX.readImages(from: imagesURL), IDX.readLabels(from: labelsURL),
                     classNames: fashionMNISTClassNames, labelsPath: labelsURL.path)
    }

    /// Pairs images with labels, reporting mismatches against the labels file.
    private static func assemble(_ images: Tensor, _ labels: [Int], classNames: [String], labelsPath: String) throws -> ImageDataset {
        guard images.shape[0] == labels.count else {
            throw GlassboxError.badFile(path: labelsPath, location: "",
                                        problem: "has \(labels.count) labels but the images file has \(images.shape[0]) images")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= classNames.count }) {
            throw GlassboxError.badFile(path: labelsPath, location: "item \(bad)",
                                        problem: "label \(labels[bad]) is outside 0..<\(classNames.count)")
        }
        return ImageDataset(unchecked: images, labels: labels, classNames: classNames)
    }

    /// A file in this module's `Resources` folder.
    static func resource(_ name: String, _ ext: String) throws -> URL {
        guard let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Resources") else {
            throw GlassboxError.io("bundled data file Resources/\(name).\(ext) is missing from \(Bundle.module.bundlePath)")
        }
        return url
    }
}
