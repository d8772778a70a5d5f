import Foundation

/// Where a training run is after a mini-batch.
public struct BatchProgress: Sendable, Equatable {
    /// 1-based epoch and batch numbers, and their totals.
    public var epoch: Int, epochs: Int, batch: Int, batches: Int
    /// Rows processed so far in this epoch, out of `rows`.
    public var rowsDone: Int, rows: Int
    /// Mean training loss over the epoch's rows so far.
    public var loss: Float
}

/// Receives training progress. Both methods default to doing nothing; the trainer calls them
/// synchronously, so they must be cheap (``ProgressBar`` throttles its redraws).
public protocol TrainingObserver: AnyObject {
    /// After each optimiser step.
    func batchEnded(_ progress: BatchProgress)
    /// After each epoch's validation, with its history row.
    func epochEnded(_ record: EpochRecord, epochs: Int)
    /// Checked after every batch: `true` stops training like Ctrl-C does (``GlassboxError/cancelled(_:)``,
    /// last completed epoch's weights kept).
    var stopRequested: Bool { get }
}

extension TrainingObserver {
    /// Does nothing by default.
    public func batchEnded(_ progress: BatchProgress) {}
    /// Does nothing by default.
    public func epochEnded(_ record: EpochRecord, epochs: Int) {}
    /// Never stops by default.
    public var stopRequested: Bool { false }
}

/// A one-line progress bar on standard error with rate and time remaining:
/// `epoch 3/20 [██████████··········] 1920/3750 rows  245k rows/s  ETA 0:01  loss 0.4312`.
///
/// It draws only when enabled (by default: when standard error is a terminal), at most ten times
/// a second, so calling ``update(_:detail:)`` per item is cheap.
public final class ProgressBar {
    /// Items in the whole task.
    public let total: Int
    /// Text before the bar (e.g. `epoch 3/20`).
    public let label: String
    /// What is counted (`rows`, `images`…), shown with counts and rates.
    public let unit: String
    /// Whether the bar draws at all.
    public let isEnabled: Bool
    /// The first update (time, count): the rate is measured from there, so a bar created after
    /// some work was already done does not report an absurd rate.
    private var first: (time: UInt64, completed: Int)?
    private var lastDraw: UInt64 = 0

    /// Whether standard error is a terminal (where redrawing a line in place works).
    public static var standardErrorIsTerminal: Bool { isatty(2) != 0 }

    /// Makes a bar for `total` items; `enabled` nil means: when standard error is a terminal.
    public init(total: Int, label: String = "", unit: String = "items", enabled: Bool? = nil) {
        self.total = max(0, total)
        self.label = label
        self.unit = unit
        self.isEnabled = enabled ?? ProgressBar.standardErrorIsTerminal
    }

    /// Records that `completed` items are done; redraws when 0.1 s passed since the last draw
    /// or the work is complete (`detail` is only evaluated then).
    public func update(_ completed: Int, detail: @autoclosure () -> String = "") {
        guard isEnabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard let first else {
            first = (now, completed)
            lastDraw = now
            ProgressBar.writeStandardError("\r\u{1B}[2K" + line(completed: completed, rate: nil, detail: detail()))
            return
        }
        guard now - lastDraw >= 100_000_000 || completed >= total else { return }
        lastDraw = now
        let rate = now > first.time && completed > first.completed
            ? Double(completed - first.completed) / (Double(now - first.time) * 1e-9) : nil
        ProgressBar.writeStandardError("\r\u{1B}[2K" + line(completed: completed, rate: rate, detail: detail()))
    }

    /// Ends the bar: replaces it with `message` (or leaves the last drawing) and moves to a new line.
    public func finish(_ message: String? = nil) {
        guard isEnabled else { return }
        if let message { ProgressBar.writeStandardError("\r\u{1B}[2K" + message + "\n") }
        else if first != nil { ProgressBar.writeStandardError("\n") }
    }

    /// The text of the bar after `completed` items, progressing at `rate` items per second.
    func line(completed: Int, rate: Double?, detail: String) -> String {
        let width = 20
        let fraction = total > 0 ? min(1, Double(completed) / Double(total)) : 1
        let filled = Int((fraction * Double(width)).rounded(.down))
        var text = label.isEmpty ? "" : label + " "
        text += "[" + String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled) + "] "
        text += "\(completed)/\(total) \(unit)"
        if let rate, rate > 0 {
            text += "  \(ProgressBar.compact(rate)) \(unit)/s"
            if completed < total { text += "  ETA \(ProgressBar.duration(Double(total - completed) / rate))" }
        }
        if !detail.isEmpty { text += "  " + detail }
        return text
    }

    /// `245k`, `1.2M`, `850`.
    static func compact(_ x: Double) -> String {
        switch x {
        case 1e6...: return String(format: "%.1fM", x / 1e6)
        case 1e4...: return String(format: "%.0fk", x / 1e3)
        case 1e3...: return String(format: "%.1fk", x / 1e3)
        default: return String(format: "%.0f", x)
        }
    }

    /// `0:07`, `12:34`, `1:02:03`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.up))
        let (h, m, r) = (s / 3600, s / 60 % 60, s % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, r) : String(format: "%d:%02d", m, r)
    }

    static func writeStandardError(_ text: String) {
        StandardStreams.writeError(text)
    }
}

/// Shows a progress bar per epoch on a terminal, replaced by the epoch's summary line when it
/// ends; silent when standard error is not a terminal.
public final class TerminalProgress: TrainingObserver {
    private let enabled: Bool
    private var bar: ProgressBar?

    /// Makes the observer; `enabled` nil means: when standard error is a terminal.
    public init(enabled: Bool? = nil) { self.enabled = enabled ?? ProgressBar.standardErrorIsTerminal }

    /// Redraws the epoch's bar (rows done, rate, time remaining, running loss).
    public func batchEnded(_ progress: BatchProgress) {
        guard enabled else { return }
        if progress.batch == 1 || bar == nil {
            bar = ProgressBar(total: progress.rows, label: "epoch \(progress.epoch)/\(progress.epochs)",
                              unit: "rows", enabled: true)
        }
        bar?.update(progress.rowsDone, detail: String(format: "loss %.4f", Double(progress.loss)))
    }

    /// Replaces the bar with the epoch's summary line.
    public func epochEnded(_ record: EpochRecord, epochs: Int) {
        guard enabled else { return }
        bar?.finish(record.summary(epochs: epochs))
        bar = nil
    }
}

/// Writes one summary line per epoch (to standard error unless told otherwise): for logs and
/// non-interactive runs.
public final class LineLogger: TrainingObserver {
    private let sink: (String) -> Void

    /// `sink` receives each line without its newline (nil: write it to standard error).
    public init(sink: ((String) -> Void)? = nil) {
        self.sink = sink ?? { ProgressBar.writeStandardError($0 + "\n") }
    }

    /// Writes the epoch's summary line.
    public func epochEnded(_ record: EpochRecord, epochs: Int) {
        sink(record.summary(epochs: epochs))
    }
}
