import Foundation
import GlassboxData
import GlassboxExplain
import GlassboxNN

/// The description of a PyTorch-trained network that Glassbox needs beside its weights: the
/// architecture (a `LayerSpec` whose `state_dict` naming follows the equivalent
/// `nn.Sequential`, see `TorchStateDict`) and what explaining it needs — input shape, feature
/// and class names, the input scaling.
///
/// JSON form (only `architecture` is required; a bare `LayerSpec` object — one with a `"type"`
/// key at the top — is accepted as a spec with just an architecture):
///
/// ```json
/// {
///   "architecture": {"type": "Sequential", "layers": [
///     {"type": "Linear", "in_features": 5, "out_features": 16}, {"type": "ReLU"},
///     {"type": "Linear", "in_features": 16, "out_features": 3}]},
///   "input_shape": [5],
///   "feature_names": ["age", "dose", "weight", "height", "score"],
///   "class_names": ["low", "medium", "high"],
///   "standardizer": {"mean": [...], "std": [...]},
///   "target": "risk",
///   "prefix": "model."
/// }
/// ```
///
/// - `input_shape`: one sample's shape without the batch axis (`[features]` for tabular models,
///   `[channels, height, width]` for images). When given, import runs one forward pass to check
///   the architecture end to end and reports where it fails.
/// - `standardizer` (tabular): `x' = (x − mean) / std` applied to CSV rows before the model, as
///   the network was trained; `normalizer` (images): per-channel `mean`, `std`, likewise.
/// - `prefix`: a leading `state_dict` path to strip from the weights' names.
///
/// Unknown keys are errors (a misspelt key would otherwise be silently ignored).
public struct TorchModelSpec: Sendable, Equatable {
    /// The network's architecture.
    public var architecture: LayerSpec
    /// One sample's shape, without the batch axis.
    public var inputShape: [Int]?
    /// Names of the input features (tabular models), in input order.
    public var featureNames: [String]?
    /// Names of the classes, in output order.
    public var classNames: [String]?
    /// Per-feature input scaling of tabular rows.
    public var standardizer: Standardizer?
    /// Per-channel input scaling of images.
    public var normalizer: ChannelNormalizer?
    /// The target column's name in CSV data (tabular models).
    public var target: String?
    /// A leading path stripped from every tensor name in the weights file.
    public var prefix: String
    /// The image preprocessing object of an imported model's spec (resize, crop, interpolation,
    /// scale, mean, std, channels), kept as its JSON text under the metadata key `preprocessing`.
    public var preprocessing: String?

    /// Keys a spec file may contain.
    public static let keys: Set<String> = ["architecture", "input_shape", "feature_names", "class_names", "standardizer",
                                           "normalizer", "target", "prefix", "preprocessing"]

    /// Makes a spec.
    public init(architecture: LayerSpec, inputShape: [Int]? = nil, featureNames: [String]? = nil, classNames: [String]? = nil,
                standardizer: Standardizer? = nil, normalizer: ChannelNormalizer? = nil, target: String? = nil, prefix: String = "") {
        self.architecture = architecture
        self.inputShape = inputShape
        self.featureNames = featureNames
        self.classNames = classNames
        self.standardizer = standardizer
        self.normalizer = normalizer
        self.target = target
        self.prefix = prefix
    }

    /// Whether the model takes images (`[c, h, w]` samples or a normaliser) rather than table rows.
    public var isImageModel: Bool { normalizer != nil || inputShape?.count == 3 }

    /// Reads a spec file; errors name the file and the key.
    public static func read(from url: URL) throws -> TorchModelSpec {
        // A spec is text describing layers: 64 MB is far above any real network's.
        try parse(FileData.read(url, maxBytes: 1 << 26), path: url.path)
    }

    /// Parses spec JSON; `path` names it in errors.
    public static func parse(_ data: Data, path: String) throws -> TorchModelSpec {
        try parse(data, path: path, architectureRequired: true)
    }

    /// Parses a spec; without `architectureRequired` (the extras of a model that brings its own
    /// graph, such as ONNX) the `architecture` key may be absent and is then a `Graph` placeholder.
    public static func parse(_ data: Data, path: String, architectureRequired: Bool) throws -> TorchModelSpec {
        func bad(_ location: String, _ problem: String) -> GlassboxError { .badFile(path: path, location: location, problem: problem) }
        if let problem = JSONNesting.problem(in: data) { throw bad("", problem) }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw bad("", "not a JSON object (expected {\"architecture\": {...}, ...} or a bare layer spec {\"type\": ...})")
        }
        if object["type"] != nil {
            return TorchModelSpec(architecture: try architecture(data, path: path, location: "top level"))
        }
        if let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
            throw bad("key '\(unknown)'", "unknown key (known: \(keys.sorted().joined(separator: ", ")))")
        }
        if !architectureRequired && object["architecture"] != nil {
            throw bad("key 'architecture'", "the model brings its own graph; the spec gives only names and preprocessing")
        }
        guard let architectureObject = object["architecture"] ?? (architectureRequired ? nil : ["type": "Graph"]) else {
            throw bad("top level", "missing key 'architecture' (the layer spec of the network)")
        }
        func field<T: Decodable>(_ type: T.Type, _ key: String) throws -> T? {
            guard let value = object[key], !(value is NSNull) else { return nil }
            do {
                let json = try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed])
                return try JSONDecoder().decode(T.self, from: json)
            } catch {
                throw bad("key '\(key)'", "expected \(description(of: T.self)): \(ErrorText.describe(error))")
            }
        }
        let architecture = try architecture(try JSONSerialization.data(withJSONObject: architectureObject), path: path,
                                            location: "key 'architecture'")
        var preprocessing: String?
        if let value = object["preprocessing"], !(value is NSNull) {
            guard value is [String: Any] else { throw bad("key 'preprocessing'", "expected an object") }
            preprocessing = String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
        }
        let spec = TorchModelSpec(architecture: architecture, inputShape: try field([Int].self, "input_shape"),
                                  featureNames: try field([String].self, "feature_names"),
                                  classNames: try field([String].self, "class_names"),
                                  standardizer: try field(Standardizer.self, "standardizer"),
                                  normalizer: try field(ChannelNormalizer.self, "normalizer"),
                                  target: try field(String.self, "target"), prefix: try field(String.self, "prefix") ?? "")
        var specWithPreprocessing = spec
        specWithPreprocessing.preprocessing = preprocessing
        if spec.normalizer == nil, let preprocessing { specWithPreprocessing.normalizer = try normalizer(fromPreprocessing: preprocessing, path: path) }
        if let shape = spec.inputShape, shape.isEmpty || shape.contains(where: { $0 <= 0 }) {
            throw bad("key 'input_shape'", "\(shape) must be a non-empty list of positive extents (one sample, no batch axis)")
        }
        if let shape = spec.inputShape, Limits.product(shape).map({ $0 > Limits.maximumValues }) ?? true {
            throw bad("key 'input_shape'", "\(shape) is more than \(Limits.maximumValues) values per sample")
        }
        // A repeated name would make `explain` read one column twice and another never.
        for (key, names) in [("feature_names", spec.featureNames), ("class_names", spec.classNames)] {
            guard let names else { continue }
            var seen: [String: Int] = [:]
            for (i, name) in names.enumerated() {
                if let first = seen[name] {
                    throw bad("key '\(key)'", "'\(name)' appears twice (entries \(first) and \(i)); names must be unique")
                }
                seen[name] = i
            }
        }
        if let names = spec.featureNames, let s = spec.standardizer, s.mean.count != names.count {
            throw bad("key 'standardizer'", "\(s.mean.count) means for \(names.count) feature names")
        }
        return specWithPreprocessing
    }

    /// The channel normaliser a `preprocessing` object implies (`mean` and `std` per channel, on
    /// pixels in [0, 1]); nil when it names neither.
    static func normalizer(fromPreprocessing json: String, path: String) throws -> ChannelNormalizer? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any],
              object["mean"] != nil || object["std"] != nil else { return nil }
        do {
            var fields: [String: Any] = [:]
            fields["mean"] = object["mean"]
            fields["std"] = object["std"]
            return try JSONDecoder().decode(ChannelNormalizer.self, from: JSONSerialization.data(withJSONObject: fields))
        } catch {
            throw GlassboxError.badFile(path: path, location: "key 'preprocessing'", problem: "mean and std must be per-channel lists with positive std: \(error)")
        }
    }

    private static func architecture(_ data: Data, path: String, location: String) throws -> LayerSpec {
        do { return try LayerSpec.parse(json: String(decoding: data, as: UTF8.self)) } catch {
            throw GlassboxError.badFile(path: path, location: location, problem: ErrorText.describe(error))
        }
    }

    private static func description<T>(of type: T.Type) -> String {
        switch type {
        case is [Int].Type: return "a list of integers"
        case is [String].Type: return "a list of strings"
        case is String.Type: return "a string"
        default: return "an object {\"mean\": [...], \"std\": [...]} with positive scales"
        }
    }
}

/// Turns PyTorch weights plus a ``TorchModelSpec`` into a Glassbox model file that every
/// command and API accepting a model can use (tabular models as `glassbox train` writes them,
/// image models as `glassbox train-images` does).
public enum TorchImport {
    /// The imported network and the model-file metadata describing it.
    public struct Result {
        /// The network with PyTorch's weights, ready for inference.
        public var model: any Layer
        /// Metadata for `ModelFile/save(_:to:metadata:)`.
        public var metadata: [String: String]
        /// The `state_dict` entries loaded, in PyTorch order.
        public var entries: [TorchStateDict.Entry]
        /// Output width found by the check pass (nil without `input_shape`).
        public var outputs: Int?
    }

    /// Loads `weights` (safetensors with PyTorch `state_dict` names) into the architecture of
    /// `spec`, checks a forward pass when the spec has an input shape, and assembles metadata.
    /// `specPath` names the spec in errors. Cost: one file read, one forward pass of one sample.
    public static func load(spec: TorchModelSpec, specPath: String, weights: URL) throws -> Result {
        let model = try TorchStateDict.load(spec: spec.architecture, weightsAt: weights, prefix: spec.prefix)
        let entries = try TorchStateDict.entries(of: model, spec: spec.architecture)
        var outputs: Int?
        if let shape = spec.inputShape {
            let output: Tensor
            do { output = try model.predict(Tensor(repeating: 0, shape: [1] + shape)) } catch {
                throw GlassboxError.badFile(path: specPath, location: "architecture",
                                            problem: "a forward pass of one input of shape \(shape) (input_shape) fails: \(ErrorText.describe(error))")
            }
            guard output.rank == 2 else {
                throw GlassboxError.badFile(path: specPath, location: "architecture",
                                            problem: "the output for one input has shape \(output.shape); a classifier must give [1, classes] (add a Flatten?)")
            }
            outputs = output.shape[1]
            if let classes = spec.classNames, classes.count != output.shape[1] {
                throw GlassboxError.badFile(path: specPath, location: "key 'class_names'",
                                            problem: "\(classes.count) class names for a network with \(output.shape[1]) outputs")
            }
        }
        return Result(model: model, metadata: try metadata(spec, model: model, specPath: specPath), entries: entries, outputs: outputs)
    }

    /// Loads and saves a Glassbox model file at `out` (atomically).
    @discardableResult
    public static func convert(spec specURL: URL, weights: URL, to out: URL) throws -> Result {
        let result = try load(spec: TorchModelSpec.read(from: specURL), specPath: specURL.path, weights: weights)
        try ModelFile.save(result.model, to: out, metadata: result.metadata)
        return result
    }

    /// The metadata keys the loaders read: `ExplainableModel/Key` for tabular models,
    /// `normalizer` and `class_names` for image models (see `ImageModelFile`).
    public static func metadata(_ spec: TorchModelSpec, model: any Layer, specPath: String) throws -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func json<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        var metadata = ["glassbox.source": "pytorch"]
        if let preprocessing = spec.preprocessing { metadata["preprocessing"] = preprocessing }
        if spec.isImageModel {
            let channels = spec.inputShape?.first ?? spec.normalizer?.mean.count ?? 1
            let normalizer = try spec.normalizer
                ?? JSONDecoder().decode(ChannelNormalizer.self, from: Data(json(["mean": [Float](repeating: 0, count: channels),
                                                                                   "std": [Float](repeating: 1, count: channels)]).utf8))
            if let shape = spec.inputShape, normalizer.mean.count != shape[0] {
                throw GlassboxError.badFile(path: specPath, location: "key 'normalizer'",
                                            problem: "\(normalizer.mean.count) channel means for input_shape \(shape) with \(shape[0]) channels")
            }
            metadata["normalizer"] = try json(normalizer)
            metadata["class_names"] = try json(spec.classNames ?? [])
            if let shape = spec.inputShape { metadata["glassbox.input_shape"] = try json(shape) }
            return metadata
        }
        var names = spec.featureNames
        let width = spec.inputShape?.first ?? spec.standardizer?.mean.count
        if names == nil, let width { names = (0..<width).map { "x\($0)" } }
        if let names, let width, names.count != width {
            throw GlassboxError.badFile(path: specPath, location: "key 'feature_names'",
                                        problem: "\(names.count) feature names for input_shape [\(width)]")
        }
        if let names { metadata[ExplainableModel.Key.featureNames] = try json(names) }
        if let classes = spec.classNames { metadata[ExplainableModel.Key.classNames] = try json(classes) }
        if let standardizer = spec.standardizer { metadata[ExplainableModel.Key.standardizer] = try json(standardizer) }
        if let target = spec.target { metadata[ExplainableModel.Key.target] = target }
        return metadata
    }
}
