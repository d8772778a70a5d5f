import Foundation
import Testing
import GlassboxData
import GlassboxNN

@Suite struct BundledDataTests {
    @Test func breastCancer() throws {
        let ds = try BundledData.breastCancer()
        #expect(ds.features.shape == [569, 30])
        #expect(ds.classNames == ["benign", "malignant"])
        #expect(ds.classCounts == [357, 212])
        #expect(ds.featureNames.first == "mean radius" && ds.featureNames.last == "worst fractal dimension")
        #expect(Array(ds.features.scalars.prefix(3)) == [17.99, 10.38, 122.8])
        #expect(ds.labels.first == 1) // the first patient's tumour is malignant
    }

    @Test func wine() throws {
        let ds = try BundledData.wine()
        #expect(ds.features.shape == [178, 13])
        #expect(ds.classNames == ["class_0", "class_1", "class_2"])
        #expect(ds.classCounts == [59, 71, 48])
        #expect(ds.featureNames[11] == "od280/od315_of_diluted_wines" && ds.featureNames[12] == "proline")
    }

    @Test func iris() throws {
        let ds = try BundledData.iris()
        #expect(ds.features.shape == [150, 4])
        #expect(ds.classNames == ["setosa", "versicolor", "virginica"])
        #expect(ds.classCounts == [50, 50, 50])
        #expect(ds.featureNames == ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"])
        #expect(ds.features.isFinite)
    }

    @Test func digits() throws {
        let ds = try BundledData.digits()
        #expect(ds.images.shape == [1797, 1, 8, 8])
        #expect(ds.classNames == (0..<10).map(String.init))
        #expect(ds.classCounts == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
        #expect(ds.images.scalars.min() == 0 && ds.images.scalars.max() == 1)
        // The first image is a zero: raw row 0 is 0,0,5,13,9,1,0,0.
        #expect(Array(ds.images.scalars.prefix(8)) == [0, 0, 5, 13, 9, 1, 0, 0].map { Float($0) / 16 })
        #expect(ds.labels.first == 0)
        let flat = ds.flattened()
        #expect(flat.features.shape == [1797, 64] && flat.featureNames[9] == "pixel_1_1")
    }

    @Test func fashionMNISTSample() throws {
        let (train, test) = try BundledData.fashionMNISTSample()
        #expect(train.images.shape == [6000, 1, 28, 28])
        #expect(test.images.shape == [1000, 1, 28, 28])
        #expect(train.classCounts == [Int](repeating: 600, count: 10))
        #expect(test.classCounts == [Int](repeating: 100, count: 10))
        #expect(train.classNames.count == 10 && train.classNames[9] == "Ankle boot")
        #expect(train.images.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(test.images.scalars.max() == 1)
    }

    @Test func bundledFilesAreSmall() throws {
        for name in ["fashion_sample_train_images.idx3.gz", "fashion_sample_test_images.idx3.gz", "breast_cancer.csv", "digits_images.npy"] {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: resourceURL(name).path)[.size] as? Int)
            #expect(size < 4_000_000, "\(name) is \(size) bytes")
        }
    }

    @Test func missingFashionMNISTSaysHowToInstall() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let message = expectBadFile(path: dir.url.path, problem: "apt-get install dataset-fashion-mnist") {
            _ = try BundledData.fashionMNIST(directory: dir.url)
        }
        #expect(message.contains("train-images-idx3-ubyte"))
    }

    @Test func fashionMNISTFromADirectory() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        // The sample files under the official names stand in for an installed copy.
        for (official, sample) in [("train-images-idx3-ubyte", "fashion_sample_test_images.idx3"),
                                   ("train-labels-idx1-ubyte", "fashion_sample_test_labels.idx1"),
                                   ("t10k-images-idx3-ubyte", "fashion_sample_test_images.idx3"),
                                   ("t10k-labels-idx1-ubyte", "fashion_sample_test_labels.idx1")] {
            try FileManager.default.copyItem(at: resourceURL(sample + ".gz"), to: dir.file(official + ".gz"))
        }
        let (train, test) = try BundledData.fashionMNIST(directory: dir.url)
        #expect(train.count == 1000 && test.count == 1000 && train.classCounts == test.classCounts)
    }

    /// The sample's labels match the official files at the recorded indices (when they are installed).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz")))
    func sampleMatchesOfficialLabels() throws {
        let directory = BundledData.defaultFashionMNISTDirectory
        let lines = try String(contentsOf: resourceURL("fashion_sample_indices.txt"), encoding: .utf8).split(separator: "\n")
        for (line, official, sample) in [(lines[0], "train-labels-idx1-ubyte.gz", "fashion_sample_train_labels.idx1.gz"),
                                         (lines[1], "t10k-labels-idx1-ubyte.gz", "fashion_sample_test_labels.idx1.gz")] {
            let indices = line.split(separator: " ").dropFirst().compactMap { Int($0) }
            let all = try IDX.readLabels(from: directory.appendingPathComponent(official))
            #expect(indices.map { all[$0] } == (try IDX.readLabels(from: resourceURL(sample))))
        }
    }
}
