import Foundation

/// A trained model on disk: weights in the safetensors format, the architecture as a
/// ``LayerSpec`` JSON in the file's metadata, plus free-form metadata (feature names, scaling…).
///
/// Tensor names are the model's PyTorch-style `state_dict` names (`0.weight`, `3.running_mean`),
/// so a file written by PyTorch's `safetensors.torch.save_file(model.state_dict())` with the
/// architecture added to its metadata loads here, and the other way round.
///
/// Writes are atomic (temporary file, then rename): a failure never leaves a half-written model
/// in place of a good one. A model with a non-finite weight is refused.
public enum ModelFile {
    /// Metadata key holding the architecture JSON.
    public static let architectureKey = "glassbox.architecture"
    /// Metadata key holding the file format version.
    public static let versionKey = "glassbox.format"

    /// Saves `model`'s parameters and buffers with its architecture and `metadata`.
    public static func save(_ model: any Layer, to url: URL, metadata: [String: String] = [:]) throws {
        var file = SafeTensorsFile()
        for (name, variable) in model.namedTensors() {
            try variable.value.checkFinite("model tensor '\(name)'")
            file.tensors[name] = variable.value
            file.order.append(name)
        }
        file.metadata = metadata
        file.metadata[architectureKey] = try model.spec.jsonString()
        file.metadata[versionKey] = "1"
        try file.write(to: url)
    }

    /// Loads a model saved by ``save(_:to:metadata:)`` (or any safetensors file whose metadata
    /// carries an architecture). Returns the model in inference mode and the metadata.
    public static func load(from url: URL) throws -> (model: any Layer, metadata: [String: String]) {
        try decode(try SafeTensorsFile.read(from: url), path: url.path)
    }

    /// Decodes a model from the bytes of a model file; `path` names it in errors.
    public static func decode(_ data: Data, path: String) throws -> (model: any Layer, metadata: [String: String]) {
        try decode(try SafeTensorsFile.decode(data, path: path), path: path)
    }

    static func decode(_ file: SafeTensorsFile, path: String) throws -> (model: any Layer, metadata: [String: String]) {
        let url = URL(fileURLWithPath: path)
        guard let json = file.metadata[architectureKey] else {
            throw GlassboxError.badFile(path: url.path, location: "metadata",
                                        problem: "no '\(architectureKey)' entry: not a Glassbox model (pass an architecture spec to load plain weights)")
        }
        let spec: LayerSpec
        do { spec = try LayerSpec.parse(json: json) } catch {
            throw GlassboxError.badFile(path: url.path, location: "metadata '\(architectureKey)'", problem: "\(error)")
        }
        let model: any Layer
        do { model = try LayerRegistry.build(spec) } catch {
            throw GlassboxError.badFile(path: url.path, location: "architecture", problem: "\(error)")
        }
        try assign(file.tensors, to: model, path: url.path)
        return (model, file.metadata)
    }

    /// Copies named tensors into `model`, requiring an exact match of names and shapes.
    public static func assign(_ tensors: [String: Tensor], to model: any Layer, path: String) throws {
        let expected = model.namedTensors()
        let expectedNames = Set(expected.map(\.name))
        if let extra = tensors.keys.sorted().first(where: { !expectedNames.contains($0) }) {
            throw GlassboxError.badFile(path: path, location: "tensor '\(extra)'",
                                        problem: "not a parameter of the architecture (expected: \(expected.map(\.name).joined(separator: ", ")))")
        }
        for (name, variable) in expected {
            guard let t = tensors[name] else {
                throw GlassboxError.badFile(path: path, location: "tensor '\(name)'", problem: "missing from the file")
            }
            guard t.shape == variable.shape else {
                throw GlassboxError.badFile(path: path, location: "tensor '\(name)'",
                                            problem: "shape \(t.shape) does not match the architecture's \(variable.shape)")
            }
            do { try t.checkFinite("tensor '\(name)'") } catch {
                throw GlassboxError.badFile(path: path, location: "tensor '\(name)'", problem: "contains NaN or infinite values")
            }
            variable.value = t
        }
    }
}
