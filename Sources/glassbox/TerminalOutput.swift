import Foundation
import Glassbox

/// How a command reports progress on standard error (standard output carries only results).
///
/// - `bar`: standard error is a terminal — a redrawn progress bar with rate and time remaining;
/// - `lines`: not a terminal (a log file, CI) — one plain line per epoch or step;
/// - `none`: `--quiet`, or `--json` without a terminal (machines reading JSON get a clean stderr).
enum ProgressStyle {
    case bar, lines, none

    static func choose(quiet: Bool, json: Bool) -> ProgressStyle {
        if quiet { return .none }
        if ProgressBar.standardErrorIsTerminal { return .bar }
        return json ? .none : .lines
    }

    /// The training observer for this style: a bar per epoch, a summary line per epoch, or none.
    var trainingObserver: (any TrainingObserver)? {
        switch self {
        case .bar: return TerminalProgress(enabled: true)
        case .lines: return LineLogger()
        case .none: return nil
        }
    }
}

/// Progress over a known number of coarse steps (methods of `compare`, phases of `explain`):
/// a bar with rate and ETA on a terminal, `[2/8] kernel-shap: 0.412 s` lines otherwise.
final class StepProgress {
    let style: ProgressStyle
    let total: Int
    private let bar: ProgressBar?
    private var done = 0
    private var stepStart = Date()

    init(total: Int, label: String, style: ProgressStyle) {
        self.style = style
        self.total = total
        bar = style == .bar ? ProgressBar(total: total, label: label, unit: "steps", enabled: true) : nil
    }

    /// Announces the step about to run (shown in the bar; logged only when it ends).
    func begin(_ name: String) {
        stepStart = Date()
        bar?.update(done, detail: name + "…")
    }

    /// Marks the current step done.
    func end(_ name: String) {
        done += 1
        let seconds = Date().timeIntervalSince(stepStart)
        switch style {
        case .bar: bar?.update(done, detail: name + String(format: " %.2f s", seconds))
        case .lines: writeStandardError("[\(done)/\(total)] \(name): " + String(format: "%.3f s\n", seconds))
        case .none: break
        }
    }

    /// Removes the bar (the results follow on standard output).
    func finish() {
        if style == .bar { writeStandardError("\r\u{1B}[2K") }
    }
}

/// Runs `body` with a one-line status on a terminal (`kernel-shap: explaining 100 rows…`) that is
/// cleared when it returns; in line mode the status and its duration are logged.
func withStatus<T>(_ text: String, style: ProgressStyle, _ body: () throws -> T) rethrows -> T {
    let start = Date()
    switch style {
    case .bar: writeStandardError("\r\u{1B}[2K" + text + "…")
    case .lines: writeStandardError(text + "…\n")
    case .none: break
    }
    defer {
        switch style {
        case .bar: writeStandardError("\r\u{1B}[2K")
        case .lines: writeStandardError(String(format: "done in %.3f s\n", Date().timeIntervalSince(start)))
        case .none: break
        }
    }
    return try body()
}

/// Writes `text` to standard error unbuffered (progress must appear as it happens).
func writeStandardError(_ text: String) {
    StandardStreams.writeError(text)
}
