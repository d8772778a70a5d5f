import ArgumentParser
import Foundation
import Glassbox
import GlassboxONNX

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn an ONNX model, or PyTorch weights plus an architecture spec, into a Glassbox model file.",
        discussion: """
            ONNX: glassbox import model.onnx --out model.safetensors [--spec extra.json]
            The graph is imported (shape sub-graphs and batch norms folded), checked with one forward pass, and stored \
            with its weights; extra.json may give class_names, feature_names, target, standardizer (tables), \
            normalizer or preprocessing (images). Supported ops and what is refused: docs/onnx-import.md. \
            Every --model also reads a .onnx file directly (with model.json beside it as the spec).

            PyTorch: \
            The spec (JSON) describes the nn.Sequential the weights came from, with PyTorch's class and argument names, \
            and optionally input_shape, feature_names, class_names, standardizer (tables) or normalizer (images). \
            Tensor names follow PyTorch's state_dict: "0.weight", or "features.0.weight" for nested Sequentials \
            with "names"; parameter-free layers keep their index; conv weights OIHW, linear weights out×in; \
            F32, F64, F16 and BF16 are converted. Every tensor must match by name and shape: missing, unexpected or \
            mis-shaped tensors are listed with the file. The written file works with every command that takes \
            --model: explain, compare (tables) and explain-image (images). Format: docs/pytorch-interop.md.

            In PyTorch:  safetensors.torch.save_file(model.state_dict(), "weights.safetensors")
            Example: glassbox import --spec arch.json --weights weights.safetensors --out model.safetensors
            """
    )

    @Argument(help: "An ONNX model (.onnx) to import (then --weights is not used).") var source: String?
    @Option(help: "Architecture spec (JSON): {\"architecture\": {...}, \"input_shape\": [...], ...} or a bare layer spec; for ONNX, only the extras (class_names, preprocessing…).")
    var spec: String?
    @Option(help: "PyTorch state_dict in safetensors format.") var weights: String?
    @Option(help: "Where to write the Glassbox model (.safetensors).") var out: String
    @Option(help: "Strip this leading path from every tensor name (overrides the spec's \"prefix\"), e.g. model.")
    var prefix: String?
    @Option(help: "ONNX only: run the imported model on this input (.npy, [N, …]) and compare with --verify-output.")
    var verifyInput: String?
    @Option(help: "ONNX only: reference outputs (.npy) for --verify-input, e.g. onnxruntime's; fails above 1e-4 relative.")
    var verifyOutput: String?
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Flag(help: "No progress output (import prints none; accepted as every command does).") var quiet = false

    struct Output: Codable {
        var spec: String, weights: String, out: String
        var kind: String
        var tensors: [TensorEntry]
        var parameters: Int
        var outputs: Int?
        var input_shape: [Int]?
        var class_names: [String]?
        var feature_names: [String]?
    }

    struct TensorEntry: Codable {
        var name: String, shape: [Int], buffer: Bool
    }

    func validate() throws {
        guard out.hasSuffix(".safetensors") else {
            throw ValidationError("--out must end in .safetensors (a Glassbox model file), got '\(out)'")
        }
        guard (verifyInput == nil) == (verifyOutput == nil) else { throw ValidationError("--verify-input and --verify-output go together") }
        if let source {
            guard source.lowercased().hasSuffix(".onnx") else { throw ValidationError("the model to import must be an .onnx file, got '\(source)'") }
            guard weights == nil else { throw ValidationError("--weights is for PyTorch state_dicts; an ONNX model carries its weights") }
            return
        }
        guard let weights, spec != nil else {
            throw ValidationError("give an ONNX model (glassbox import model.onnx --out …) or --spec and --weights (PyTorch)")
        }
        guard URL(fileURLWithPath: out).standardizedFileURL != URL(fileURLWithPath: weights).standardizedFileURL else {
            throw ValidationError("--out must differ from --weights: write the Glassbox model to a new file")
        }
    }

    struct ONNXOutput: Codable {
        var source: String, out: String, kind: String
        var nodes: Int, ops: [String: Int], parameters: Int, opset: Int
        var input_shape: [Int]?, outputs: Int?, class_names: [String]?
        var verify_max_relative_difference: Double?
    }

    /// max |y − reference| / max |reference| of the model on `input`.
    static func verify(_ model: GraphModel, input: String, reference: String) throws -> Double {
        let x = try NPY.read(from: URL(fileURLWithPath: input))
        let expected = try NPY.read(from: URL(fileURLWithPath: reference))
        var outputs: [Float] = []
        let rows = x.shape.first ?? 0, per = rows > 0 ? x.count / rows : 0
        for r in 0..<rows {  // one row at a time: bounded memory on large models
            let xr = try Tensor(shape: [1] + x.shape.dropFirst(), scalars: Array(x.scalars[r * per..<(r + 1) * per]))
            outputs += try model.predict(xr).scalars
        }
        guard outputs.count == expected.count else {
            throw GlassboxError.shapeMismatch("the model gives \(outputs.count) values for \(input), \(reference) holds \(expected.count)")
        }
        let scale = Double(expected.scalars.map(abs).max() ?? 0)
        let worst = zip(outputs, expected.scalars).map { Double(abs($0 - $1)) }.max() ?? 0
        return scale > 0 ? worst / scale : worst
    }

    func runONNX(_ source: String) throws {
        try OutputGuard.check(output: out, inputs: [("model", source), ("--spec", spec), ("--verify-input", verifyInput),
                                                    ("--verify-output", verifyOutput)])
        let loaded = try ONNXModels.load(URL(fileURLWithPath: source), spec: spec.map { URL(fileURLWithPath: $0) })
        var difference: Double?
        if let verifyInput, let verifyOutput {
            difference = try Self.verify(loaded.model, input: verifyInput, reference: verifyOutput)
        }
        try ModelFile.save(loaded.model, to: URL(fileURLWithPath: out), metadata: loaded.metadata)
        var ops: [String: Int] = [:]
        for node in loaded.model.description.nodes { ops[node.op, default: 0] += 1 }
        let kind = loaded.spec.isImageModel ? "image" : "tabular"
        let output = ONNXOutput(source: source, out: out, kind: kind, nodes: loaded.model.description.nodes.count, ops: ops,
                                parameters: loaded.model.parameterCount, opset: loaded.model.description.opset,
                                input_shape: loaded.spec.inputShape, outputs: loaded.outputs, class_names: loaded.spec.classNames,
                                verify_max_relative_difference: difference)
        if let difference, difference > 1e-4 {
            throw GlassboxError.numerical("\(source): outputs differ from \(verifyOutput!) by \(difference) relative (more than 1e-4)")
        }
        if json { try printJSON(output); return }
        if let difference { print("verified on \(verifyInput!): max relative difference \(difference) from \(verifyOutput!)") }
        print("\(source): opset \(output.opset), \(output.nodes) nodes after folding (\(ops.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))), \(output.parameters) parameters")
        if let shape = loaded.spec.inputShape, let outputs = loaded.outputs {
            print("checked a forward pass: input \(shape) → \(outputs) outputs")
        }
        print("saved \(out) (\(kind) model); use it with "
              + (kind == "image" ? "glassbox explain-image --model \(out) --image IMAGE" : "glassbox explain --model \(out) --data DATA.csv"))
    }

    func run() throws {
        if let source { try reportingErrors { try runONNX(source) }; return }
        guard let spec, let weights else { return }
        try reportingErrors {
            try OutputGuard.check(output: out, inputs: [("--spec", spec), ("--weights", weights)])
            let specURL = URL(fileURLWithPath: spec)
            var description = try TorchModelSpec.read(from: specURL)
            if let prefix { description.prefix = prefix }
            let result = try TorchImport.load(spec: description, specPath: specURL.path, weights: URL(fileURLWithPath: weights))
            try ModelFile.save(result.model, to: URL(fileURLWithPath: out), metadata: result.metadata)
            let output = Output(spec: spec, weights: weights, out: out, kind: description.isImageModel ? "image" : "tabular",
                                tensors: result.entries.map { TensorEntry(name: $0.torchName, shape: $0.shape, buffer: $0.isBuffer) },
                                parameters: result.model.parameterCount, outputs: result.outputs,
                                input_shape: description.inputShape, class_names: description.classNames,
                                feature_names: description.featureNames)
            if json { try printJSON(output); return }
            print("\(weights): \(result.entries.count) tensors, \(result.model.parameterCount) parameters, all matched by name and shape")
            if let shape = description.inputShape, let outputs = result.outputs {
                print("checked a forward pass: input \(shape) → \(outputs) outputs")
            } else {
                print("no input_shape in the spec: the forward pass was not checked")
            }
            print("saved \(out) (\(output.kind) model); use it with "
                  + (description.isImageModel ? "glassbox explain-image --model \(out) --image IMAGE"
                                              : "glassbox explain --model \(out) --data DATA.csv"))
        }
    }
}
