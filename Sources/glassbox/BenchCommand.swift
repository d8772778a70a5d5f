import ArgumentParser
import Foundation
import Glassbox

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the engine's speed: GEMM, MLP training, CNN training and inference.",
        discussion: """
            Each figure is the median of --repeats timed runs after a warm-up, with --threads workers.
            Compare with the NumPy and PyTorch references measured in the same session:
              benchmarks/run.sh
            Example: glassbox bench --json
            """
    )

    @Option(help: "Worker threads for the kernels.") var threads = 2
    @Option(help: "Timed runs per figure (the median is reported).") var repeats = 5
    @Flag(help: "Print one JSON object instead of a table.") var json = false

    struct Figures: Codable {
        var threads: Int
        var gemm_gflops_256: Double
        var gemm_gflops_512: Double
        var gemm_gflops_1024: Double
        var mlp_train_rows_per_s: Double
        var cnn_train_images_per_s: Double
        var cnn_infer_images_per_s_64: Double
        var cnn_infer_images_per_s_256: Double
    }

    func run() throws {
        guard threads >= 1, repeats >= 1 else {
            throw ValidationError("--threads and --repeats must be at least 1")
        }
        try reportingErrors {
            Compute.threads = threads
            let figures = Figures(
                threads: threads,
                gemm_gflops_256: Benchmarks.gemmGFLOPs(n: 256, repeats: repeats),
                gemm_gflops_512: Benchmarks.gemmGFLOPs(n: 512, repeats: repeats),
                gemm_gflops_1024: Benchmarks.gemmGFLOPs(n: 1024, repeats: repeats),
                mlp_train_rows_per_s: try Benchmarks.mlpTrainingRowsPerSecond(repeats: repeats),
                cnn_train_images_per_s: try Benchmarks.cnnTrainingImagesPerSecond(repeats: repeats),
                cnn_infer_images_per_s_64: try Benchmarks.cnnInferenceImagesPerSecond(batch: 64, repeats: repeats),
                cnn_infer_images_per_s_256: try Benchmarks.cnnInferenceImagesPerSecond(batch: 256, repeats: repeats))
            if json {
                try printJSON(figures)
            } else {
                print("threads: \(threads), median of \(repeats) runs")
                print(String(format: "GEMM n=256   %10.1f GFLOP/s", figures.gemm_gflops_256))
                print(String(format: "GEMM n=512   %10.1f GFLOP/s", figures.gemm_gflops_512))
                print(String(format: "GEMM n=1024  %10.1f GFLOP/s", figures.gemm_gflops_1024))
                print(String(format: "MLP training %10.0f rows/s", figures.mlp_train_rows_per_s))
                print(String(format: "CNN training %10.0f images/s", figures.cnn_train_images_per_s))
                print(String(format: "CNN inference, batch 64  %10.0f images/s", figures.cnn_infer_images_per_s_64))
                print(String(format: "CNN inference, batch 256 %10.0f images/s", figures.cnn_infer_images_per_s_256))
            }
        }
    }
}
