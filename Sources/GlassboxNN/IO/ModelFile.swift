import Foundation

/// A trained model on disk: weights in the safetensors format, the architecture as a
/// ``LayerSpec`` JSON in the file's metadata, plus free-form metadata (feature names, scaling…).
///
/// Tensor names are the model's PyTorch-style `state_dict` names (`0.weight`, `3.running_mean`),
/// so a file written by PyTorch's `safetensors.torch.save_file(model.state_dict())` with the
/// architecture added to its metadata loads here, and the other way round.
///
/// Writes are atomic (temporary file, then rename): a failure never leaves a half-written model
/// in place of a good one. A model with a non-finite weight is refused. Loading never builds more
/// than the file can fill: the parameter count the architecture claims is checked against the
/// values in the file first, and errors name the layer (`architecture layer '1.body.0' (Conv2d)`)
/// or tensor at fault.
public enum ModelFile {
    /// Metadata key holding the architecture JSON.
    public static let architectureKey = "glassbox.architecture"
    /// Parameter values an architecture may need beyond what the file holds and still be built
    /// (to report the mismatch tensor by tensor): 2^20 values, 4 MB — a fixed bound, so a
    /// hostile file cannot make loading allocate more than its own size plus this.
    static let buildAllowance = 1 << 20
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
        if let loader = formatLoaders[url.pathExtension.lowercased()] { return try loader(url) }
        return try decode(try SafeTensorsFile.read(from: url), path: url.path)
    }

    /// Loaders of other model formats by file extension (lower case), consulted by
    /// ``load(from:)`` first. The command-line tool registers `onnx` at start-up (the ONNX
    /// module is not a dependency of this one); set it before any concurrent use.
    nonisolated(unsafe) public static var formatLoaders: [String: @Sendable (URL) throws -> (model: any Layer, metadata: [String: String])] = [:]

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
            // The decoder only says "not valid JSON"; the syntax checker says where and why.
            let problem = JSONSyntax.problem(in: Data(json.utf8)).map { "architecture JSON is not valid: \($0)" } ?? message(of: error)
            throw GlassboxError.badFile(path: url.path, location: "metadata '\(architectureKey)'", problem: problem)
        }
        // Building allocates every parameter, so the sizes the architecture claims are checked
        // against the values the file holds first: a 300-byte file naming a 2^20 × 2^20 layer is
        // refused here instead of attempting a 4 TiB allocation. Up to `buildAllowance` values are
        // built anyway (a fixed 4 MB, whatever the file says), so a small mismatch is reported
        // tensor by tensor by `assign`, which names the culprit.
        try checkBuildable(spec, holding: file.tensors.values.reduce(0) { $0 + $1.count }, path: url.path)
        let model: any Layer
        do { model = try LayerRegistry.build(spec) } catch {
            throw GlassboxError.badFile(path: url.path, location: "architecture", problem: message(of: error))
        }
        try assign(file.tensors, to: model, path: url.path)
        return (model, file.metadata)
    }

    /// Refuses `spec` when building it would allocate more parameter values than a weights file
    /// holding `held` values can fill (plus ``buildAllowance``), before anything is allocated.
    static func checkBuildable(_ spec: LayerSpec, holding held: Int, path: String) throws {
        let needed = try parameterCount(of: spec, path: path)
        guard needed <= Swift.max(held, buildAllowance) else {
            throw GlassboxError.badFile(path: path, location: "architecture",
                                        problem: "the layers need \(needed == Int.max ? "more than 2^63" : String(needed)) parameter values "
                                            + "but the file holds \(held): the architecture does not match the weights")
        }
    }

    /// The number of parameter and buffer values building `spec` allocates (saturating at
    /// `Int.max`), read from the size attributes of each layer type without allocating anything.
    /// Cost: one walk of the spec tree.
    ///
    /// - Throws: ``GlassboxError/badFile(path:location:problem:)`` naming the layer's
    ///   `state_dict`-style path for an unknown layer type or a missing or mistyped size attribute.
    static func parameterCount(of spec: LayerSpec, path: String) throws -> Int {
        try parameterCount(of: spec, prefix: "", path: path)
    }

    private static func parameterCount(of spec: LayerSpec, prefix: String, path: String) throws -> Int {
        let location = prefix.isEmpty ? "architecture (top-level \(spec.type))" : "architecture layer '\(prefix)' (\(spec.type))"
        guard LayerRegistry.builders[spec.type] != nil else {
            throw GlassboxError.badFile(path: path, location: location,
                                        problem: "unknown layer type '\(spec.type)' (known: \(LayerRegistry.knownTypes.joined(separator: ", ")))")
        }
        var total = 0
        do {
            total = try ownParameterCount(spec)
        } catch {
            throw GlassboxError.badFile(path: path, location: location, problem: message(of: error))
        }
        let names = spec.childNames ?? (spec.type == "Residual" ? ["body", "shortcut"] : [])
        for (index, child) in spec.children.enumerated() {
            let name = index < names.count ? names[index] : String(index)
            let count = try parameterCount(of: child, prefix: prefix.isEmpty ? name : prefix + "." + name, path: path)
            total = saturatingAdd(total, count)
        }
        return total
    }

    /// Values allocated by one layer itself (children excluded), mirroring each layer's initialiser.
    private static func ownParameterCount(_ spec: LayerSpec) throws -> Int {
        func size(_ key: String) throws -> Int { Swift.max(0, try spec.int(key)) }
        func product(_ values: Int...) -> Int { values.reduce(1) { saturatingMultiply($0, Swift.max(0, $1)) } }
        switch spec.type {
        case "Linear":
            let (inputs, outputs) = (try size("in_features"), try size("out_features"))
            return saturatingAdd(product(inputs, outputs), try spec.bool("bias", default: true) ? outputs : 0)
        case "Conv2d":
            let (inputs, outputs) = (try size("in_channels"), try size("out_channels"))
            let kernel = try spec.pair("kernel_size")
            let groups = Swift.max(1, try spec.int("groups", default: 1))
            return saturatingAdd(product(outputs, inputs / groups, kernel.0, kernel.1), try spec.bool("bias", default: true) ? outputs : 0)
        case "Embedding":
            return product(try size("num_embeddings"), try size("embedding_dim"))
        case "BatchNorm1d", "BatchNorm2d":
            let c = try size("num_features")
            let affine = try spec.bool("affine", default: true), tracked = try spec.bool("track_running_stats", default: true)
            return saturatingAdd(affine ? product(2, c) : 0, tracked ? saturatingAdd(product(2, c), 1) : 0)
        case "LayerNorm":
            let shape: [Int]
            switch spec.attributes["normalized_shape"] {
            case .int(let d)?: shape = [d]
            case .ints(let dims)?: shape = dims
            default: return 0  // the layer's own initialiser reports the problem
            }
            let elements = shape.reduce(1) { saturatingMultiply($0, Swift.max(0, $1)) }
            return try spec.bool("elementwise_affine", default: true) ? product(2, elements) : 0
        case "MultiheadSelfAttention":
            let e = try size("embed_dim")
            return attentionCount(e)
        case "TransformerBlock":
            let (e, f) = (try size("d_model"), try size("dim_feedforward"))
            // self_attn + linear1 (e→f) + linear2 (f→e) + norm1 + norm2
            return [attentionCount(e), product(e, f), f, product(f, e), e, product(4, e)].reduce(0, saturatingAdd)
        case "ScoresActivation":
            return try size("num_features")
        case "Graph":
            guard case .string(let json)? = spec.attributes["graph"] else { return 0 }
            return try GraphDescription.parse(json: json).initializers
                .map { $0.shape.reduce(1) { saturatingMultiply($0, Swift.max(0, $1)) } }.reduce(0, saturatingAdd)
        case "FeatureTokenizer":
            let (d, e) = (try size("num_features"), try size("embed_dim"))
            return saturatingAdd(product(2, d, e), try spec.bool("cls_token", default: true) ? e : 0)
        default:
            return 0  // activations, pooling, reshaping, containers: no tensors of their own
        }
    }

    /// `in_proj_weight [3e, e]`, `in_proj_bias [3e]` and `out_proj` (e → e with bias).
    private static func attentionCount(_ e: Int) -> Int {
        [saturatingMultiply(3, saturatingMultiply(e, e)), saturatingMultiply(3, e), saturatingMultiply(e, e), e].reduce(0, saturatingAdd)
    }

    private static func saturatingAdd(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int.max : sum
    }

    private static func saturatingMultiply(_ a: Int, _ b: Int) -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? Int.max : product
    }

    /// An error's text without the "invalid argument: " prefix, for wrapping in a file error.
    static func message(of error: any Error) -> String {
        if case GlassboxError.invalidArgument(let text) = error { return text }
        if case GlassboxError.shapeMismatch(let text) = error { return text }
        return ErrorText.describe(error)
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
