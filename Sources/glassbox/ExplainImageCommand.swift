import ArgumentParser
import Foundation
import Glassbox

struct ExplainImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain-image",
        abstract: "Explain one image's classification with a pixel attribution map.",
        discussion: """
            Methods: responsibility (ReX causal responsibility), occlusion, rise, fei (faithfulness-guided
            ensemble interpretation: a learned map; --iterations sets its Adam steps, --removal ad switches its
            deletion branch to soft ConvAD, other removals only affect the sufficient-explanation scoring).
            Removal of occluded pixels: zero (training mean), black, mean (image mean), noise, blur,
            ad (ConvAD strict) or ad-checkpoint. The image is a PNG or JPEG photo, a .pgm/.ppm, or .npy
            [H, W] / [C, H, W] (float in 0…1, or uint8 0…255). A model with a stored preprocessing (resize, crop, mean/std) gets the
            photo through it and the map is in the crop's coordinates; otherwise the image is used at its own
            size with the model's normaliser (colour → grey for a one-channel model). See docs/images.md.
            --out writes the map by its extension: .npy, .csv, .json or .pgm; --overlay writes it as a PNG
            heatmap over the (cropped) photo.
            Example: glassbox explain-image --model cnn.safetensors --image shoe.pgm --removal ad --out map.npy
            """
    )

    @Option(help: "Model saved by train-images.") var model: String
    @Option(help: "Image file (.png, .jpg, .pgm, .ppm or .npy).") var image: String
    @Option(help: "responsibility, occlusion, rise or fei.") var method: String = "responsibility"
    @Option(help: "zero, black, mean, noise, blur, ad or ad-checkpoint.") var removal: String = "zero"
    @Option(parsing: .unconditional, help: "Class to explain (default: the model's prediction).") var target: Int?
    @Option(help: "ReX iterations / RISE masks / FEI steps.") var iterations: Int?
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Write the map (chosen by the extension, atomically): .npy (raw scores [H, W]), .csv (H lines of W scores), .json (the --json object with the map) or .pgm (scaled to 0…255).")
    var out: String?
    @Option(help: "Write the map as a heatmap over the (cropped) image to FILE.png (atomically).") var overlay: String?
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Flag(help: "No status line on standard error while the map is computed.") var quiet = false

    struct Summary: Codable {
        var method: String, removal: String, target: Int, target_name: String?
        var explanation_size: Double, confidence_dropoff: Double
        var evaluations: Int, map_evaluations: Int, seconds: Double, seed: UInt64, out: String?
    }

    func validate() throws {
        if let out, ExportFormat.of(out) == nil, !out.lowercased().hasSuffix(".pgm") {
            throw ValidationError(ExportFormat.advice(out, allowed: [".npy", ".csv", ".json", ".pgm"], example: "map"))
        }
        if let overlay, !overlay.lowercased().hasSuffix(".png") {
            throw ValidationError("--overlay writes a PNG file; give a name ending in .png, e.g. --overlay map.png")
        }
    }

    /// The `--json` object, with the map when it is written as JSON.
    struct MapFile: Codable {
        var summary: Summary
        var shape: [Int]
        var map: [[Float]]
    }

    func run() throws {
        try reportingErrors {
            try OutputGuard.check(output: out, inputs: [("--model", model), ("--image", image)])
            try OutputGuard.check(output: overlay, option: "--overlay", inputs: [("--model", model), ("--image", image)])
            if let iterations { try Limits.checkCount(iterations, option: "--iterations") }
            let contents = try ImageModelFile.loadContents(from: URL(fileURLWithPath: model))
            let (net, classNames) = (contents.model, contents.classNames)
            let photo = try PhotoInput.load(URL(fileURLWithPath: image), normalizer: contents.normalizer, preprocessing: contents.preprocessing)
            let (x, normalizer) = (photo.input, photo.normalizer)
            let (h, w) = (x.shape[2], x.shape[3])
            try checkModelTakes(net, x, image: image, preprocessed: contents.preprocessing != nil)
            let classifier = MaskedClassifier(model: net)
            let classes: Int
            do { classes = try classifier.classCount(imageShape: Array(x.shape.dropFirst())) } catch {
                throw GlassboxError.badFile(path: image, location: "image \(Array(x.shape.dropFirst()))",
                                            problem: "does not fit the model \(model): \(ErrorText.problem(error))")
            }
            if !classNames.isEmpty, classNames.count != classes {
                throw GlassboxError.badFile(path: model, location: "metadata 'class_names'",
                                            problem: "\(classNames.count) class names for a network with \(classes) outputs")
            }
            let op = try parseRemoval(removal, normalizer: normalizer, height: h, width: w)
            let style = ProgressStyle.choose(quiet: quiet, json: json)
            let result: AttributionMap = try withStatus("\(method) with removal \(removal)", style: style) {
            switch method {
            case "responsibility":
                var options = CausalResponsibility.Options(removal: op, seed: seed)
                if let iterations { options.iterations = iterations }
                return try CausalResponsibility.explain(classifier, image: x, target: target, options: options)
            case "occlusion":
                return try Occlusion.explain(classifier, image: x, target: target, window: max(2, min(h, w) / 7),
                                               stride: max(1, min(h, w) / 14), removal: op, seed: seed)
            case "rise":
                return try RISE.explain(classifier, image: x, target: target, masks: iterations ?? 500, removal: op, seed: seed)
            case "fei":
                var config = FEI.Configuration(seed: seed)
                if let iterations { config.iterations = iterations }
                if op.isActivationDeactivation { config.deletion = .activationDeactivation }
                return try FEI.explain(model: net, image: x, target: target, configuration: config).attribution
            default:
                throw GlassboxError.invalidArgument("unknown method '\(method)'; use responsibility, occlusion, rise or fei")
            }
            }
            let explanation = try SufficientExplanation.extract(classifier, image: x, attribution: result.map,
                                                                target: result.target, removal: op, seed: seed)
            let drop = try ExplanationMetrics.confidenceDropOff(classifier, image: x, mask: explanation.mask,
                                                                target: result.target, removal: op, seed: seed)
            let summary = Summary(method: result.method, removal: op.description, target: result.target,
                                  target_name: classNames.indices.contains(result.target) ? classNames[result.target] : nil,
                                  explanation_size: explanation.fraction, confidence_dropoff: drop,
                                  evaluations: result.evaluations + explanation.evaluations,
                                  map_evaluations: result.evaluations, seconds: result.seconds,
                                  seed: seed, out: out)
            if let out {
                if out.lowercased().hasSuffix(".pgm") {
                    let top = result.map.scalars.max() ?? 0, bottom = result.map.scalars.min() ?? 0
                    let span = top > bottom ? top - bottom : 1
                    try PNM.write(try result.map.map { ($0 - bottom) / span }.reshaped([1, h, w]), to: URL(fileURLWithPath: out))
                } else {
                    let rows = (0..<h).map { Array(result.map.scalars[($0 * w)..<(($0 + 1) * w)]) }
                    try ExportFormat.write(out, npy: { result.map }, csv: {
                        rows.map { $0.map { String($0) }.joined(separator: ",") }.joined(separator: "\n") + "\n"
                    }, json: { try ExportFormat.jsonData(MapFile(summary: summary, shape: [h, w], map: rows)) })
                }
            }
            if let overlay {
                let shown = photo.shown ?? PixelImage(width: w, height: h, channels: 1, pixels: [UInt8](repeating: 128, count: h * w))
                let example = ImageExample(name: image, trueClass: "", predictedClass: "", confidence: 0, channels: shown.channels,
                                           height: h, width: w, pixels: shown.tensor().scalars.map(Double.init), explanations: [])
                try AtomicFile.write(PNG.encode(ImageOverlay.overlay(example, map: result.map.scalars.map(Double.init))),
                                     to: URL(fileURLWithPath: overlay))
            }
            if json { try printJSON(summary); return }
            print("\(summary.method) for class \(summary.target)\(summary.target_name.map { " (\($0))" } ?? "")")
            print(String(format: "sufficient explanation: %.1f %% of pixels; confidence drop-off %.4f", 100 * summary.explanation_size, drop))
            print(String(format: "%d model evaluations, %.3f s (seed %llu)", summary.evaluations, summary.seconds, seed))
            if let out { print("map written to \(out)") }
            if let overlay { print("overlay written to \(overlay)") }
        }
    }
}

/// One forward pass on the prepared input, so an image the model cannot take fails here with the
/// image's size named instead of deep inside an explainer.
func checkModelTakes(_ net: any Layer, _ x: Tensor, image: String, preprocessed: Bool) throws {
    do { _ = try net.predict(x) } catch let error as GlassboxError {
        guard case .shapeMismatch = error else { throw error }
        throw GlassboxError.badFile(path: image, location: "", problem: "image \(Array(x.shape.dropFirst())) (C, H, W) does not fit the model: it cannot take this image as \(x.shape[1])×\(x.shape[2])×\(x.shape[3]) (C×H×W)"
            + (preprocessed ? "" : "; the model stores no preprocessing, so give an image of the size it was trained on") + " (\(error))")
    }
}

func parseRemoval(_ name: String, normalizer: ChannelNormalizer, height: Int, width: Int) throws -> Removal {
    switch name {
    case "zero": return .constant(0)
    case "black": return .black(normalizer)
    case "mean": return .imageMean
    case "noise": return .uniformNoise
    case "blur": return .defaultBlur(height: height, width: width)
    case "ad": return .activationDeactivation(.strict)
    case "ad-checkpoint": return .activationDeactivation(.checkpoint)
    default: throw GlassboxError.invalidArgument("unknown removal '\(name)'; use zero, black, mean, noise, blur, ad or ad-checkpoint")
    }
}
