import ArgumentParser
import Foundation
import Glassbox

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify an image with an image model: the top classes with names and probabilities.",
        discussion: """
            The image is read as explain-image reads it (PNG, JPEG, PGM/PPM or .npy; through the model's stored
            preprocessing when it has one). --json prints {"image", "logits", "probabilities", "top":
            [{"class", "name", "probability"}]}.
            Example: glassbox predict --model resnet18.safetensors --image cat.jpg --top 5
            """
    )

    @Option(help: "Image model file (train-images or import).") var model: String
    @Option(help: "Image file (.png, .jpg, .pgm, .ppm or .npy).") var image: String
    @Option(help: "How many classes to list.") var top: Int = 5
    @Flag(help: "Print one JSON object instead of text.") var json = false

    struct Output: Codable {
        var image: String
        var logits: [Float]
        var probabilities: [Double]
        var top: [ClassPrediction.Entry]
    }

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1, got \(top)") }
    }

    func run() throws {
        try reportingErrors {
            let contents = try ImageModelFile.loadContents(from: URL(fileURLWithPath: model))
            let photo = try PhotoInput.load(URL(fileURLWithPath: image), normalizer: contents.normalizer, preprocessing: contents.preprocessing)
            try checkModelTakes(contents.model, photo.input, image: image, preprocessed: contents.preprocessing != nil)
            let logits = try contents.model.predict(photo.input)
            let p = ClassPrediction(logits: logits.scalars, classNames: contents.classNames, top: top)
            if json {
                try printJSON(Output(image: image, logits: p.logits, probabilities: p.probabilities, top: p.top))
                return
            }
            print("\(image): \(p.logits.count) classes")
            for (rank, e) in p.top.enumerated() {
                print(String(format: "%3d. %-24@ %.4f  (class %d)", rank + 1, (e.name ?? "class \(e.class)") as NSString, e.probability, e.class))
            }
        }
    }
}
