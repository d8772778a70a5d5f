import Foundation
import Glassbox
import GlassboxONNX

/// ONNX models in the command-line tool: `import model.onnx`, and `--model model.onnx` in every
/// command, with an optional spec beside the model (`model.json`: class_names, feature_names,
/// normalizer or preprocessing, standardizer, target) supplying what ONNX files do not carry.
enum ONNXModels {
    /// Lets ``ModelFile/load(from:)`` (and so every `--model`) read `.onnx` files.
    static func register() {
        ModelFile.formatLoaders["onnx"] = { url in
            let specURL = url.deletingPathExtension().appendingPathExtension("json")
            let loaded = try load(url, spec: FileManager.default.fileExists(atPath: specURL.path) ? specURL : nil)
            return (loaded.model, loaded.metadata)
        }
    }

    struct Loaded {
        var model: GraphModel
        var metadata: [String: String]
        var spec: TorchModelSpec
        var outputs: Int?
    }

    /// Imports `url` with the extras of `specURL`, checks one forward pass on the declared input
    /// shape (batch 1), and builds the metadata the loaders read.
    static func load(_ url: URL, spec specURL: URL?) throws -> Loaded {
        let model = try ONNXImport.load(contentsOf: url)
        var spec = TorchModelSpec(architecture: model.spec)
        if let specURL {
            let data: Data
            do { data = try Data(contentsOf: specURL) } catch {
                throw GlassboxError.io("cannot read the spec \(specURL.path): \(error.localizedDescription)")
            }
            spec = try TorchModelSpec.parse(data, path: specURL.path, architectureRequired: false)
        }
        let declared = model.description.inputs[0].shape
        if spec.inputShape == nil, declared.count >= 2, declared.dropFirst().allSatisfy({ $0 != nil }) {
            spec.inputShape = declared.dropFirst().map { $0! }
        }
        var outputs: Int?
        if let shape = spec.inputShape {
            let y: Tensor
            do { y = try model.predict(Tensor(repeating: 0, shape: [1] + shape)) } catch {
                throw GlassboxError.badFile(path: url.path, location: "graph", problem: "a forward pass on one input of shape \(shape) fails: \(error)")
            }
            if y.rank == 2 {
                outputs = y.shape[1]
                if let classes = spec.classNames, classes.count != y.shape[1] {
                    throw GlassboxError.badFile(path: specURL?.path ?? url.path, location: "key 'class_names'",
                                                problem: "\(classes.count) class names for a model with \(y.shape[1]) outputs")
                }
            }
        }
        var metadata = try TorchImport.metadata(spec, model: model, specPath: specURL?.path ?? url.path)
        metadata["glassbox.source"] = "onnx"
        return Loaded(model: model, metadata: metadata, spec: spec, outputs: outputs)
    }
}
