import ArgumentParser
import Foundation
import Glassbox

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the engine's speed: GEMM, training, inference, the masked (ConvAD) forward pass and ReX maps.",
        discussion: """
            Each figure is the median of --repeats timed runs after a warm-up, with --threads workers.
            Compare with the NumPy, PyTorch and onnxruntime references measured in the same session:
              benchmarks/run.sh
            The ConvAD figures time the masked forward pass of the benchmark CNN (batch 64, one random
            keep-rectangle per image) against the plain plan, interleaved. The ReX figures first train the
            plain conv net for one epoch on the bundled Fashion-MNIST sample, then time responsibility
            maps (20 iterations) of 8 test images (--skip-rex leaves them out).
            The kernel path (avx512, avx2, neon, generic) is the best this CPU runs unless GLASSBOX_ISA names
            another; it is printed with the figures.
            Example: glassbox bench --json
            Example: GLASSBOX_ISA=generic glassbox bench --inference-only
            Example: glassbox bench --inference-only --repeats 7
            """
    )

    @Option(help: "Worker threads for the kernels.") var threads = 2
    @Option(help: "Timed runs per figure (the median is reported).") var repeats = 5
    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Flag(help: "Measure only the inference figures (CNN, MLP, ConvAD, ReX).") var inferenceOnly = false
    @Flag(help: "Skip the ReX figures (they train a small CNN on the bundled Fashion-MNIST sample first, a few seconds).")
    var skipRex = false
    @Option(help: ArgumentHelp("Write the benchmark CNN and MLP as cnn.safetensors and mlp.safetensors into this directory and exit.",
                               valueName: "directory"))
    var writeModels: String?
    @Flag(help: "With --write-models: replace cnn.safetensors and mlp.safetensors when they exist (by default that is an error).")
    var overwrite = false

    struct Figures: Codable {
        var threads: Int
        /// The C kernels' instruction-set path (KernelPath: avx512, avx2, neon, generic).
        var kernel_path: String
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
        var convad_plain_plan_images_per_s_64: Double
        var convad_strict_images_per_s_64: Double
        var convad_checkpoint_images_per_s_64: Double
        var convad_strict_cost_ratio_64: Double
        var convad_checkpoint_cost_ratio_64: Double
        var rex_model_test_accuracy: Double?
        var rex_map_seconds: Double?
        var rex_mutants_per_s: Double?
        var rex_ad_map_seconds: Double?
        var rex_ad_mutants_per_s: Double?
    }

    func run() throws {
        try reportingErrors {
            try Limits.checkCount(threads, option: "--threads", maximum: 1024)
            try Limits.checkCount(repeats, option: "--repeats", maximum: 10_000)
            if let writeModels {
                try Benchmarks.writeModels(to: URL(fileURLWithPath: writeModels), replace: overwrite)
                return
            }
            Compute.threads = threads
            let training = !inferenceOnly
            let convAD = try Benchmarks.convADImagesPerSecond(batch: 64, repeats: repeats)
            var rex: (accuracy: Double, zero: (seconds: Double, mutantsPerSecond: Double),
                      ad: (seconds: Double, mutantsPerSecond: Double))?
            if !skipRex {
                let trained = try Benchmarks.rexBenchmarkModel()
                rex = (Double(trained.accuracy), try Benchmarks.rexMapSeconds(model: trained.model, images: trained.images),
                       try Benchmarks.rexMapSeconds(model: trained.model, images: trained.images,
                                                    removal: .activationDeactivation(.strict)))
            }
            let figures = Figures(
                threads: threads,
                kernel_path: KernelPath.active.rawValue,
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
                mlp_infer_call_us_1: try Benchmarks.mlpInferenceMicrosecondsPerCall(batch: 1, repeats: repeats),
                convad_plain_plan_images_per_s_64: convAD.plain,
                convad_strict_images_per_s_64: convAD.strict,
                convad_checkpoint_images_per_s_64: convAD.checkpoint,
                convad_strict_cost_ratio_64: convAD.plain / convAD.strict,
                convad_checkpoint_cost_ratio_64: convAD.plain / convAD.checkpoint,
                rex_model_test_accuracy: rex?.accuracy,
                rex_map_seconds: rex?.zero.seconds,
                rex_mutants_per_s: rex?.zero.mutantsPerSecond,
                rex_ad_map_seconds: rex?.ad.seconds,
                rex_ad_mutants_per_s: rex?.ad.mutantsPerSecond)
            if json {
                try printJSON(figures)
                return
            }
            print("threads: \(threads), kernel path: \(figures.kernel_path), median of \(repeats) runs")
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
            row("CNN plain plan, batch 64 (ConvAD run)", figures.convad_plain_plan_images_per_s_64, "images/s")
            row("CNN ConvAD strict, batch 64", figures.convad_strict_images_per_s_64, "images/s")
            row("CNN ConvAD checkpoint, batch 64", figures.convad_checkpoint_images_per_s_64, "images/s")
            row("ConvAD strict cost / plain", figures.convad_strict_cost_ratio_64, "×", "%10.2f")
            row("ConvAD checkpoint cost / plain", figures.convad_checkpoint_cost_ratio_64, "×", "%10.2f")
            row("ReX model test accuracy", figures.rex_model_test_accuracy.map { $0 * 100 }, "%", "%10.1f")
            row("ReX map, 28×28, 20 iterations", figures.rex_map_seconds, "s", "%10.3f")
            row("ReX mutant evaluation", figures.rex_mutants_per_s, "images/s")
            row("ReX map with strict ConvAD", figures.rex_ad_map_seconds, "s", "%10.3f")
            row("ReX mutant evaluation, ConvAD", figures.rex_ad_mutants_per_s, "images/s")
        }
    }
}
