import ArgumentParser
import Foundation
import Glassbox

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn PyTorch weights (safetensors, state_dict names) plus an architecture spec into a Glassbox model file.",
        discussion: """
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

    @Option(help: "Architecture spec (JSON): {\"architecture\": {...}, \"input_shape\": [...], ...} or a bare layer spec.")
    var spec: String
    @Option(help: "PyTorch state_dict in safetensors format.") var weights: String
    @Option(help: "Where to write the Glassbox model (.safetensors).") var out: String
    @Option(help: "Strip this leading path from every tensor name (overrides the spec's \"prefix\"), e.g. model.")
    var prefix: String?
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
        guard URL(fileURLWithPath: out).standardizedFileURL != URL(fileURLWithPath: weights).standardizedFileURL else {
            throw ValidationError("--out must differ from --weights: write the Glassbox model to a new file")
        }
    }

    func run() throws {
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
