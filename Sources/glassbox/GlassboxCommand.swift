import ArgumentParser
import Foundation
import Glassbox

@main
struct GlassboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glassbox",
        abstract: "Explainable machine learning in Swift: train neural networks and explain them.",
        discussion: """
            Start with `glassbox demo`, which trains on the bundled data.
            Every command accepts --help; most accept --json for one machine-readable JSON object on stdout.
            """,
        subcommands: [DemoCommand.self, TrainCommand.self, RankCommand.self, BenchCommand.self, GenerateCommand.self, TrainImagesCommand.self, ExplainImageCommand.self, ExperimentCommand.self,
                      ExplainCommand.self, CompareCommand.self, ImportCommand.self, ReportCommand.self, PredictCommand.self]
    )

    static func main() {
        Compute.configureAllocator()
        Interruption.installSignalHandler()
        ONNXModels.register()
        StandardStreams.installExitCheck()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
        // Results that could not be written (`> /dev/full`) are a failure, not exit status 0.
        StandardStreams.finish()
        // A Ctrl-C that arrived after the last check still ends the run as cancelled.
        if Interruption.isRequested {
            StandardStreams.writeError("error: cancelled: interrupted\n")
            Foundation.exit(130)
        }
    }
}

/// Prints `value` as one JSON object on stdout (sorted keys, so output is stable).
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Runs `body`, turning a thrown error into a one-line message on stderr and exit code 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as GlassboxError {
        StandardStreams.writeError("error: \(error.description)\n")
        // 130 = 128 + SIGINT, the shell's convention for a run stopped by Ctrl-C.
        if case .cancelled = error { throw ExitCode(130) }
        throw ExitCode(1)
    } catch let error where !(error is ExitCode || error is ValidationError || error is CleanExit) {
        // Foundation and decoding errors too: one line, no debug dump.
        StandardStreams.writeError("error: \(ErrorText.describe(error))\n")
        throw ExitCode(1)
    }
}
