import ArgumentParser
import Foundation
import Glassbox

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Rebuild the HTML report from a saved results file.",
        discussion: "Reads the results JSON that `glassbox demo` writes beside its report (glassbox-results.json) and "
            + "writes the self-contained HTML page again (inline CSS and SVG, no scripts). A malformed file is reported "
            + "with the JSON path of the bad value and exit status 1. Without --out the page goes beside the results "
            + "file, with its name and the extension .html.\n\n"
            + "Example: glassbox report --from glassbox-results.json --out report.html"
    )

    @Option(help: "Results file (JSON) saved by `glassbox demo`.") var from: String
    @Option(help: "HTML file to write (default: the results file's name with .html).") var out: String?
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Flag(help: "No progress output.") var quiet = false

    /// `--json`: what was read and written.
    struct Output: Codable {
        var from: String
        var out: String
        var bytes: Int
        var sections: [String]
    }

    func run() throws {
        try reportingErrors {
            let target = out ?? ((from as NSString).deletingPathExtension + ".html")
            try OutputGuard.check(output: target, option: out == nil ? "the default --out" : "--out", inputs: [("--from", from)])
            let data = try ReportFile.load(from: URL(fileURLWithPath: from))
            let html = try HTMLReport.render(data)
            try AtomicFile.write(Data(html.utf8), to: URL(fileURLWithPath: target))
            var sections = ["summary"]
            if let t = data.tabular {
                if t.ranking != nil { sections.append("ranking") }
                if t.trajectory != nil { sections.append("trajectory") }
                if !t.methods.isEmpty { sections.append("methods") }
                if t.attributions != nil { sections.append("attributions") }
                if t.agreement != nil { sections.append("agreement") }
            }
            if let i = data.image, !i.examples.isEmpty { sections.append("images") }
            if json {
                try printJSON(Output(from: from, out: target, bytes: html.utf8.count, sections: sections))
            } else {
                print("report: \(target) (\(html.utf8.count / 1024) kB; sections: \(sections.joined(separator: ", ")))")
            }
        }
    }
}
