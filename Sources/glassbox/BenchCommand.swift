import ArgumentParser
import Foundation
import Glassbox

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the engine's speed: GEMM, MLP training, CNN training and inference.",
        discussion: """
            Each figure is the median of --repeats timed runs after a warm-up, with --threads workers.
            Compare with the NumPy, PyTorch and onnxruntime references measured in the same session:
              benchmarks/run.sh
            Example: glassbox bench --json
            """
    )

    @Option(help: "Worker threads for the kernels.") var threads = 2
    @Option(help: "Timed runs per figure (the median is reported).") var repeats = 5
    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Flag(help: "Measure only the inference figures (CNN and MLP).") var inferenceOnly = false
    @Option(help: ArgumentHelp("Write the benchmark CNN and MLP as cnn.safetensors and mlp.safetensors into this directory and exit.",
                               valueName: "directory"))
    var writeModels: String?

    struct Figures: Codable {
        var threads: Int
        var gemm_gflops_256: Double?
        var gemm_gflops_512: Double?
        var gemm_gflops_1024: Double?
        var mlp_train_rows_per_s: Double?
        var cnn_train_images_per_s: Double?
        var cnn_infer_images_per_s_64: Double
        var cnn_infer_images_per_s_256: Double
        var cnn_infer_plan_images_per_s_64: Double
        var cnn_infer_plan_images_per_s_256: Double
        var mlp_infer_rows_per_s_1024: Double
        var mlp_infer_call_us_1: Double
    }

    func run() throws {
        guard threads >= 1, repeats >= 1 else {
            throw ValidationError("--threads and --repeats must be at least 1")
        }
        try reportingErrors {
            if let writeModels {
                try Benchmarks.writeModels(to: URL(fileURLWithPath: writeModels))
                return
            }
            Compute.threads = threads
            let training = !inferenceOnly
            let figures = Figures(
                threads: threads,
                gemm_gflops_256: training ? Benchmarks.gemmGFLOPs(n: 256, repeats: repeats) : nil,
                gemm_gflops_512: training ? Benchmarks.gemmGFLOPs(n: 512, repeats: repeats) : nil,
                gemm_gflops_1024: training ? Benchmarks.gemmGFLOPs(n: 1024, repeats: repeats) : nil,
                mlp_train_rows_per_s: training ? try Benchmarks.mlpTrainingRowsPerSecond(repeats: repeats) : nil,
                cnn_train_images_per_s: training ? try Benchmarks.cnnTrainingImagesPerSecond(repeats: repeats) : nil,
                cnn_infer_images_per_s_64: try Benchmarks.cnnInferenceImagesPerSecond(batch: 64, repeats: repeats),
                cnn_infer_images_per_s_256: try Benchmarks.cnnInferenceImagesPerSecond(batch: 256, repeats: repeats),
                cnn_infer_plan_images_per_s_64: try Benchmarks.cnnInferencePlanImagesPerSecond(batch: 64, repeats: repeats),
                cnn_infer_plan_images_per_s_256: try Benchmarks.cnnInferencePlanImagesPerSecond(batch: 256, repeats: repeats),
                mlp_infer_rows_per_s_1024: try Benchmarks.mlpInferenceRowsPerSecond(batch: 1024, repeats: repeats),
                mlp_infer_call_us_1: try Benchmarks.mlpInferenceMicrosecondsPerCall(batch: 1, repeats: repeats))
            if json {
                try printJSON(figures)
                return
            }
            print("threads: \(threads), median of \(repeats) runs")
            func row(_ label: String, _ value: Double?, _ unit: String, _ format: String = "%10.0f") {
                if let value { print(label.padding(toLength: 36, withPad: " ", startingAt: 0) + String(format: format, value) + " " + unit) }
            }
            row("GEMM n=256", figures.gemm_gflops_256, "GFLOP/s", "%10.1f")
            row("GEMM n=512", figures.gemm_gflops_512, "GFLOP/s", "%10.1f")
            row("GEMM n=1024", figures.gemm_gflops_1024, "GFLOP/s", "%10.1f")
            row("MLP training", figures.mlp_train_rows_per_s, "rows/s")
            row("CNN training", figures.cnn_train_images_per_s, "images/s")
            row("CNN inference (predict), batch 64", figures.cnn_infer_images_per_s_64, "images/s")
            row("CNN inference (predict), batch 256", figures.cnn_infer_images_per_s_256, "images/s")
            row("CNN inference (plan), batch 64", figures.cnn_infer_plan_images_per_s_64, "images/s")
            row("CNN inference (plan), batch 256", figures.cnn_infer_plan_images_per_s_256, "images/s")
            row("MLP inference (plan), batch 1024", figures.mlp_infer_rows_per_s_1024, "rows/s")
            row("MLP inference (plan), batch 1", figures.mlp_infer_call_us_1, "µs/call", "%10.2f")
        }
    }
}
