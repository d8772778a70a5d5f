import Foundation

/// Loads weights trained in PyTorch into a Glassbox model built from a ``LayerSpec``.
///
/// **The mapping.** A spec describes the `nn.Sequential` (or nesting of them) the weights came
/// from; each tensor's PyTorch `state_dict` name is the path of child names down to the layer,
/// then the tensor's own name, joined by dots:
///
/// - a child's name is its index in its container (`"0"`, `"1"`, …) unless the spec gives
///   `"names"` (as `nn.Sequential(OrderedDict(...))` does), so
///   `{"type": "Sequential", "names": ["features", "classifier"], "layers": [...]}` yields
///   `features.0.weight`, `classifier.1.bias`;
/// - parameter-free layers (`ReLU`, `Dropout`, `MaxPool2d`, `Flatten`…) keep their index and
///   contribute no tensors, exactly as in PyTorch: `Linear, ReLU, Linear` stores `0.*` and `2.*`;
/// - the tensors and their layouts are PyTorch's: `Linear.weight` is `[out_features, in_features]`,
///   `Conv2d.weight` is `[out, in/groups, kh, kw]` (OIHW), `BatchNorm*d` stores `weight`, `bias`,
///   `running_mean`, `running_var` and the scalar `num_batches_tracked` (int64 in PyTorch);
///   no transposition is ever applied.
///
/// **Strictness.** Every tensor of the architecture must be in the file with its exact shape and
/// every tensor in the file must belong to the architecture; all problems are reported together,
/// each naming the tensor and the file. Floating-point tensors may be stored as `F32`, `F64`,
/// `F16` or `BF16` (converted to `Float`; `F64` values beyond `Float`'s range are refused as
/// non-finite); integer dtypes are accepted only for `num_batches_tracked`.
///
/// Cost: one read of the file and one `Float` copy of every tensor; building the model draws (and
/// then overwrites) a random initialisation.
public enum TorchStateDict {
    /// One tensor of the architecture: its PyTorch name, the name Glassbox gives it inside the
    /// built model (``Layer/namedTensors(prefix:)``; equal to the PyTorch name unless a
    /// container ignores its spec's `"names"`), its shape, and whether it is a buffer.
    public struct Entry: Sendable, Equatable {
        /// The `state_dict` key, e.g. `features.0.weight`.
        public var torchName: String
        /// The key of the same tensor in ``Layer/namedTensors(prefix:)`` of the built model.
        public var glassboxName: String
        /// The shape PyTorch stores (and Glassbox uses).
        public var shape: [Int]
        /// `true` for non-trainable state such as batch-norm running statistics.
        public var isBuffer: Bool

        /// Makes an entry.
        public init(torchName: String, glassboxName: String, shape: [Int], isBuffer: Bool) {
            (self.torchName, self.glassboxName, self.shape, self.isBuffer) = (torchName, glassboxName, shape, isBuffer)
        }
    }

    /// Element types accepted for floating-point parameters and buffers.
    public static let floatDTypes: Set<String> = ["F32", "F64", "F16", "BF16"]
    /// PyTorch constructor arguments accepted in a spec and ignored because they cannot change
    /// an inference result (`inplace` of activations and dropout).
    public static let ignoredArguments: Set<String> = ["inplace"]
    /// Tensor names (last component) that PyTorch stores as integers.
    public static let integerTensorNames: Set<String> = ["num_batches_tracked"]

    /// The `state_dict` of `model` (built from `spec`) as PyTorch would write it, in PyTorch's
    /// order (a layer's parameters, then its buffers, then its children depth first).
    ///
    /// - Throws: ``GlassboxError/invalidArgument(_:)`` when `spec` names its children
    ///   inconsistently (wrong count, duplicates, empty names or names containing a dot) or gives a
    ///   layer an attribute the layer does not know (a typo such as `paddding` would otherwise
    ///   silently fall back to a default).
    public static func entries(of model: any Layer, spec: LayerSpec) throws -> [Entry] {
        var out: [Entry] = []
        try walk(model, spec: spec, torchPrefix: "", glassboxPrefix: "", place: "architecture", into: &out)
        return out
    }

    private static func walk(_ layer: any Layer, spec: LayerSpec, torchPrefix: String, glassboxPrefix: String,
                             place: String, into out: inout [Entry]) throws {
        let built = layer.spec
        if let unknown = spec.attributes.keys.sorted().first(where: { built.attributes[$0] == nil && !ignoredArguments.contains($0) }) {
            let known = built.attributes.keys.sorted()
            throw GlassboxError.invalidArgument("\(place) (\(spec.type)): unknown attribute '\(unknown)'"
                + (known.isEmpty ? " (this layer takes none)" : " (known: \(known.joined(separator: ", ")))"))
        }
        for (name, variable) in layer.parameters {
            out.append(Entry(torchName: torchPrefix + name, glassboxName: glassboxPrefix + name, shape: variable.shape, isBuffer: false))
        }
        for (name, variable) in layer.buffers {
            out.append(Entry(torchName: torchPrefix + name, glassboxName: glassboxPrefix + name, shape: variable.shape, isBuffer: true))
        }
        let children = layer.children
        // Children described by the spec one-to-one (Sequential, Residual); otherwise the layer
        // builds them itself from attributes and their own specs name them.
        let described = spec.children.count == children.count && !spec.children.isEmpty
        if let names = spec.childNames {
            guard names.count == spec.children.count else {
                throw GlassboxError.invalidArgument(
                    "\(place) (\(spec.type)): \"names\" has \(names.count) entries for \(spec.children.count) layers")
            }
            if let bad = names.first(where: { $0.isEmpty || $0.contains(".") }) {
                throw GlassboxError.invalidArgument("\(place) (\(spec.type)): child name '\(bad)' must be non-empty and contain no '.'")
            }
            if Set(names).count != names.count {
                throw GlassboxError.invalidArgument("\(place) (\(spec.type)): child names \(names) are not unique")
            }
        }
        for (i, child) in children.enumerated() {
            let torchName = (described ? spec.childNames?[i] : nil) ?? child.name
            let childSpec = described ? spec.children[i] : child.layer.spec
            try walk(child.layer, spec: childSpec, torchPrefix: torchPrefix + torchName + ".",
                     glassboxPrefix: glassboxPrefix + child.name + ".", place: torchPrefix + torchName, into: &out)
        }
    }

    /// Builds the model `spec` describes and loads PyTorch weights from the safetensors file at
    /// `url`. The model is returned in inference mode (Glassbox layers take the mode per call).
    ///
    /// - Parameter prefix: a leading `state_dict` path to strip from every name in the file, for
    ///   weights saved from a wrapper module (`"model."` for `wrapper.model = nn.Sequential(...)`).
    /// - Throws: ``GlassboxError/badFile(path:location:problem:)`` naming the file and tensor for
    ///   missing, unexpected, mis-shaped, non-finite or wrongly typed tensors, and for malformed
    ///   files; ``GlassboxError/invalidArgument(_:)`` for an invalid spec.
    public static func load(spec: LayerSpec, weightsAt url: URL, prefix: String = "") throws -> any Layer {
        try load(spec: spec, data: FileData.read(url), path: url.path, prefix: prefix)
    }

    /// As ``load(spec:weightsAt:prefix:)`` from the bytes of a safetensors file; `path` names it
    /// in errors.
    public static func load(spec: LayerSpec, data: Data, path: String, prefix: String = "") throws -> any Layer {
        let file = try SafeTensorsFile.decode(data, path: path)
        // The sizes the spec claims are checked against the values in the file before building
        // allocates them (a Linear of 10^9 × 10^9 is refused, not attempted).
        try ModelFile.checkBuildable(spec, holding: file.tensors.values.reduce(0) { $0 + $1.count }, path: path)
        let model: any Layer
        do { model = try LayerRegistry.build(spec) } catch {
            throw GlassboxError.badFile(path: path, location: "architecture", problem: ModelFile.message(of: error))
        }
        try assign(file, dtypes: dtypes(ofSafeTensors: data), to: model, spec: spec, path: path, prefix: prefix)
        return model
    }

    /// Copies the tensors of `file` into `model` (built from `spec`) under the PyTorch naming,
    /// checking names, shapes, dtypes and finiteness first, so a failure leaves `model` untouched.
    ///
    /// - Parameter dtypes: each tensor's stored dtype (see ``dtypes(ofSafeTensors:)``); tensors
    ///   missing from it are taken to be floating point.
    public static func assign(_ file: SafeTensorsFile, dtypes: [String: String] = [:], to model: any Layer,
                              spec: LayerSpec, path: String, prefix rawPrefix: String = "") throws {
        // A prefix names a module path ("model" or "model."): the separating dot is implied.
        let prefix = rawPrefix.isEmpty || rawPrefix.hasSuffix(".") ? rawPrefix : rawPrefix + "."
        let expected = try entries(of: model, spec: spec)
        var stored: [String: (tensor: Tensor, fileName: String)] = [:]
        var outsidePrefix: [String] = []
        for (name, tensor) in file.tensors {
            if prefix.isEmpty || name.hasPrefix(prefix) {
                stored[String(name.dropFirst(prefix.count))] = (tensor, name)
            } else {
                outsidePrefix.append(name)
            }
        }
        let expectedNames = Set(expected.map(\.torchName))
        var problems: [String] = []
        let missing = expected.filter { stored[$0.torchName] == nil }
        let unexpected = (stored.values.map(\.fileName).filter { !expectedNames.contains(String($0.dropFirst(prefix.count))) }
            + outsidePrefix).sorted()
        for entry in missing {
            problems.append("tensor '\(prefix + entry.torchName)': missing from the file (expected shape \(entry.shape))")
        }
        for name in unexpected { problems.append("tensor '\(name)': not a parameter or buffer of the architecture") }
        for entry in expected {
            guard let (tensor, fileName) = stored[entry.torchName] else { continue }
            let dtype = dtypes[fileName] ?? "F32"
            let last = entry.torchName.split(separator: ".").last.map(String.init) ?? entry.torchName
            if !floatDTypes.contains(dtype) && !integerTensorNames.contains(last) {
                problems.append("tensor '\(fileName)': dtype \(dtype) is not a floating-point type "
                                + "(parameters must be stored as F32, F64, F16 or BF16)")
                continue
            }
            // PyTorch stores num_batches_tracked as a 0-d tensor; accept [1] too (some exporters).
            let shapeMatches = tensor.shape == entry.shape || (entry.shape.isEmpty && tensor.shape == [1])
            guard shapeMatches else {
                problems.append("tensor '\(fileName)': shape \(tensor.shape) does not match the architecture's \(entry.shape)"
                                + shapeHint(tensor.shape, entry))
                continue
            }
            if tensor.scalars.contains(where: { !$0.isFinite }) {
                problems.append("tensor '\(fileName)': contains NaN or infinite values"
                                + (dtype == "F64" ? " (F64 values beyond Float's range ±3.4e38 become infinite)" : ""))
            }
        }
        guard problems.isEmpty else {
            var message = problems.count == 1 ? problems[0] : "\(problems.count) problems:\n  " + problems.joined(separator: "\n  ")
            if let hint = prefixHint(missing: missing.map(\.torchName), unexpected: unexpected, prefix: prefix) {
                message += "\n" + hint
            } else if !missing.isEmpty || !unexpected.isEmpty {
                message += "\nthe spec must describe the nn.Sequential whose state_dict was saved (child names, layer order, "
                    + "sizes); see docs/pytorch-interop.md"
            }
            throw GlassboxError.badFile(path: path, location: problems.count == 1 ? "" : "PyTorch state_dict", problem: message)
        }
        let variables = Dictionary(uniqueKeysWithValues: model.namedTensors().map { ($0.name, $0.variable) })
        for entry in expected {
            guard let variable = variables[entry.glassboxName], let (tensor, _) = stored[entry.torchName] else { continue }
            variable.value = Tensor(uncheckedShape: entry.shape, scalars: tensor.scalars)
        }
    }

    /// Suggests the cause of a shape mismatch that has a common one.
    private static func shapeHint(_ found: [Int], _ entry: Entry) -> String {
        if found.count == 2, entry.shape.count == 2, found == [entry.shape[1], entry.shape[0]] {
            return " (transposed? PyTorch's Linear.weight is [out_features, in_features] and is loaded as stored)"
        }
        if found.count == 4, entry.shape.count == 4, found.sorted() == entry.shape.sorted() {
            return " (a different layout? Conv2d.weight must be [out, in/groups, kh, kw], PyTorch's OIHW)"
        }
        return ""
    }

    /// When every expected name is missing and the file's names share a leading component that
    /// would fix it, says which `prefix` to pass.
    private static func prefixHint(missing: [String], unexpected: [String], prefix: String) -> String? {
        guard !missing.isEmpty, missing.count == unexpected.count,
              let first = unexpected.first, let dot = first.firstIndex(of: ".") else { return nil }
        let candidate = String(first[...dot])
        guard unexpected.allSatisfy({ $0.hasPrefix(candidate) }),
              Set(unexpected.map { String($0.dropFirst(candidate.count)) }) == Set(missing.map { prefix + $0 }) else { return nil }
        return "every name in the file starts with '\(candidate)': strip it with the prefix option (--prefix \(candidate))"
    }

    /// The stored dtype of every tensor in safetensors bytes (`"F32"`, `"I64"`, …), read from
    /// the JSON header; empty when the header cannot be read (``SafeTensorsFile/decode(_:path:)``
    /// reports that).
    public static func dtypes(ofSafeTensors data: Data) -> [String: String] {
        guard data.count >= 8 else { return [:] }
        let length = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= UInt64(data.count - 8), length <= UInt64(SafeTensorsFile.maxHeaderBytes) else { return [:] }
        let start = data.startIndex + 8
        guard let header = try? JSONSerialization.jsonObject(with: data[start..<(start + Int(length))]) as? [String: Any] else {
            return [:]
        }
        var out: [String: String] = [:]
        for (name, value) in header where name != "__metadata__" {
            if let entry = value as? [String: Any], let dtype = entry["dtype"] as? String { out[name] = dtype }
        }
        return out
    }

    /// The model's tensors under their PyTorch names, ready for ``SafeTensorsFile/write(to:)``:
    /// the inverse of ``load(spec:weightsAt:prefix:)`` (written as `F32`; PyTorch's
    /// `load_state_dict` accepts a float `num_batches_tracked`).
    public static func stateDict(of model: any Layer, spec: LayerSpec) throws -> SafeTensorsFile {
        let variables = Dictionary(uniqueKeysWithValues: model.namedTensors().map { ($0.name, $0.variable) })
        var file = SafeTensorsFile()
        for entry in try entries(of: model, spec: spec) {
            guard let variable = variables[entry.glassboxName] else { continue }
            file.set(entry.torchName, variable.value)
        }
        return file
    }
}
