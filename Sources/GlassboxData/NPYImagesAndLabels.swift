import Foundation
import GlassboxNN

extension NPY {
    /// Largest class label accepted from a labels file: a label sets the number of classes (and
    /// so the width of the model's last layer), so one corrupt value must not size the model.
    public static let maximumLabel = Limits.maximumWidth - 1

    /// Reads images from an `.npy` file in the scale Glassbox images use, 0…1:
    /// - `uint8` data (NumPy's usual image dtype) is divided by 255, as PGM/PPM pixels are;
    /// - `float32`/`float64` data is taken as it is (already in 0…1, or normalised);
    /// - other integer dtypes are refused (their scale is unknown);
    /// - NaN or ±Inf pixels are refused, naming the first one's index.
    /// Cost: one read, one conversion, one pass over the pixels.
    ///
    /// - Throws: ``GlassboxError/badFile(path:location:problem:)``.
    public static func readImages(from url: URL) throws -> Tensor {
        let (tensor, descr) = try decodeTyped(FileData.read(url), path: url.path)
        switch descr.dropFirst() {
        case "u1":
            return tensor.map { $0 / 255 }
        case "f4", "f8":
            if let bad = tensor.scalars.firstIndex(where: { !$0.isFinite }) {
                throw GlassboxError.badFile(path: url.path, location: "value \(bad) (of shape \(tensor.shape))",
                                            problem: "pixel is \(tensor.scalars[bad]); images must be finite numbers")
            }
            return tensor
        default:
            throw GlassboxError.badFile(path: url.path, location: "header",
                                        problem: "image data of dtype '\(descr)' has no known scale: save it as uint8 (0…255) or float32 (0…1)")
        }
    }

    /// Reads class labels from an `.npy` file: one integer per example (shape `[n]` or `[n, 1]`),
    /// of an integer dtype or of floats holding whole numbers, each in `0...maximumLabel`.
    /// A fractional, negative, non-finite or too large label is refused, naming its index.
    ///
    /// - Throws: ``GlassboxError/badFile(path:location:problem:)``.
    public static func readLabels(from url: URL) throws -> [Int] {
        let tensor = try read(from: url)
        guard tensor.rank == 1 || (tensor.rank == 2 && tensor.shape[1] == 1) else {
            throw GlassboxError.badFile(path: url.path, location: "header",
                                        problem: "labels must have shape [n] (one class per example), found \(tensor.shape)")
        }
        var labels: [Int] = []
        labels.reserveCapacity(tensor.count)
        for (i, value) in tensor.scalars.enumerated() {
            guard value.isFinite, value.rounded() == value, value >= 0, value <= Float(maximumLabel) else {
                let problem = !value.isFinite || value.rounded() != value ? "is \(value), not a whole number"
                    : value < 0 ? "is negative (\(Int(value)))" : "is \(Int(value)), above the limit of \(maximumLabel) classes"
                throw GlassboxError.badFile(path: url.path, location: "label \(i)", problem: "class label \(problem)")
            }
            labels.append(Int(value))
        }
        return labels
    }
}
