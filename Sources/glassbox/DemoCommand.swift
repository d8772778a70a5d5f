import ArgumentParser
import Foundation
import Glassbox

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train, rank, explain and compare on the bundled data, and write an HTML report.",
        discussion: "With no arguments, in well under a minute on two cores: trains an MLP with a ScoresActivation layer "
            + "on the bundled breast-cancer data with five seeds and ranks the features (mean ± sd over seeds); compares "
            + "the ranking with Kernel SHAP, Integrated Gradients and permutation importance (Spearman, Kendall, top-5 "
            + "overlap); trains a small CNN on the bundled 8×8 digits and explains six test images with ReX causal "
            + "responsibility, removing pixels by Activation-Deactivation and by the masking value 0, with insertion and "
            + "deletion curves. Writes glassbox-report.html (one self-contained page) and glassbox-results.json (the "
            + "numbers; `glassbox report --from` rebuilds the page from it) into --out.\n\n"
            + "Example: glassbox demo --out results --seed 7"
    )

    @Option(help: "Directory for glassbox-report.html and glassbox-results.json (created if missing).") var out = "."
    @Option(help: "Seed for every random choice (ScoresActivation runs use seed, seed+1, …).") var seed: UInt64 = 42
    @Flag(help: "A reduced run (a few seconds): fewer seeds, epochs, rows and images.") var quick = false
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Flag(help: "No progress output.") var quiet = false

    static let reportName = "glassbox-report.html", resultsName = "glassbox-results.json"

    /// `--json`: the demo's summary plus where the files went.
    struct Output: Codable {
        var summary: GlassboxDemo.Summary
        var report: String
        var results: String
    }

    func run() throws {
        try reportingErrors {
            var options = quick ? GlassboxDemo.Options.quick : GlassboxDemo.Options()
            options.seed = seed
            let directory = URL(fileURLWithPath: out, isDirectory: true)
            do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
                throw GlassboxError.io("cannot create the output directory \(out): \((error as NSError).localizedDescription)")
            }
            try OutputGuard.check(outputs: [("--out", directory.appendingPathComponent(Self.reportName).path),
                                            ("--out", directory.appendingPathComponent(Self.resultsName).path)], inputs: [])
            let showProgress = !quiet && !json && ProgressBar.standardErrorIsTerminal
            var command = "glassbox demo" + (seed == 42 ? "" : " --seed \(seed)") + (quick ? " --quick" : "")
            if out != "." { command += " --out \(out)" }
            let (report, summary) = try GlassboxDemo.run(options, generator: command, progress: showProgress ? { line in
                StandardStreams.writeError("· \(line)\n")
            } : nil)
            let reportURL = directory.appendingPathComponent(Self.reportName)
            let resultsURL = directory.appendingPathComponent(Self.resultsName)
            try ReportFile.write(report, to: resultsURL, page: reportURL)
            let reportPath = Self.display(reportURL, relativeTo: out), resultsPath = Self.display(resultsURL, relativeTo: out)
            if json {
                // snake_case keys, as every other command prints (the summary's Swift names are camelCase).
                let encoder = JSONEncoder()
                encoder.keyEncodingStrategy = .convertToSnakeCase
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(Output(summary: summary, report: reportPath, results: resultsPath)), as: UTF8.self))
            } else {
                Self.printSummary(summary, report: reportPath, results: resultsPath)
            }
        }
    }

    /// The path as the user gave the directory (`results/glassbox-report.html`), or bare for ".".
    static func display(_ url: URL, relativeTo directory: String) -> String {
        directory == "." ? url.lastPathComponent : (directory as NSString).appendingPathComponent(url.lastPathComponent)
    }

    static func printSummary(_ s: GlassboxDemo.Summary, report: String, results: String) {
        func pct(_ v: Double) -> String { String(format: "%.1f %%", 100 * v) }
        let accuracies = s.testAccuracy.map(pct).joined(separator: ", ")
        print("Glassbox demo — \(s.dataset): \(s.rows) rows, \(s.features) features")
        print("ScoresActivation MLP, seeds \(s.seeds.map(String.init).joined(separator: ", ")): test accuracy \(accuracies)")
        print("top features: \(s.topFeatures.joined(separator: ", "))"
              + (s.rankStabilitySpearman.map { String(format: " (rank stability across seeds ρ = %.2f)", $0) } ?? ""))
        let width = s.methods.map(\.method.count).max() ?? 0
        for m in s.methods.dropFirst() {
            let rho = m.spearmanWithScores.map { String(format: "%+.2f", $0) } ?? "  – "
            print("  \(m.method.padding(toLength: width, withPad: " ", startingAt: 0))  ρ vs scores \(rho)  "
                  + String(format: "%6.2f s", m.seconds) + "  top: \(m.top.prefix(3).joined(separator: ", "))")
        }
        print(String(format: "CNN on %@: test accuracy %.1f %%; %d test images explained", s.imageDataset, 100 * s.imageTestAccuracy, s.images))
        for m in s.imageMethods {
            print(String(format: "  %@: insertion AUC %.3f, deletion AUC %.3f (%.2f s)", m.method, m.insertionAUC, m.deletionAUC, m.seconds))
        }
        print(String(format: "done in %.1f s", s.seconds))
        print("report:  \(report)")
        print("results: \(results)  (rebuild the page: glassbox report --from \(results))")
    }
}
