import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `glassbox` executable as a user would, for tests of what the command line does
/// with hostile files, interruptions and failing writes.
enum CLIProcess {
    /// What one run did.
    struct Result: CustomStringConvertible {
        /// Exit status, or the signal number when `signal` is true.
        var status: Int32
        /// Whether the process was ended by a signal (a crash, or a kill after `timedOut`).
        var signal: Bool
        var timedOut: Bool
        var stdout: String
        var stderr: String
        var seconds: Double

        /// Non-empty lines written to standard error.
        var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }

        var description: String {
            "status \(status)\(signal ? " (signal)" : "")\(timedOut ? " (timed out)" : ""), \(String(format: "%.2f", seconds)) s, "
                + "stderr: \(stderr.prefix(600).debugDescription)"
        }
    }

    /// The `glassbox` executable: `$GLASSBOX_CLI`, else the one built next to this test binary
    /// (same configuration), else the package's `.build/release` or `.build/debug` one.
    static let executable: URL? = {
        let fm = FileManager.default
        var candidates: [URL] = []
        if let path = ProcessInfo.processInfo.environment["GLASSBOX_CLI"] { candidates.append(URL(fileURLWithPath: path)) }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        candidates.append(testBinary.deletingLastPathComponent().appendingPathComponent("glassbox"))
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/release/glassbox"))
        candidates.append(root.appendingPathComponent(".build/debug/glassbox"))
        return candidates.first { fm.isExecutableFile(atPath: $0.path) }
    }()

    /// Runs `glassbox arguments…` through `/bin/sh` so limits apply to it alone:
    /// - `memoryLimitKB`: `ulimit -v`, so an allocation sized by a number in a hostile file fails
    ///   loudly (as a crash) instead of passing unnoticed on a machine with memory to spare;
    /// - `fileSizeLimitBlocks`: `ulimit -f` (512-byte blocks) with SIGXFSZ ignored, so a write past
    ///   the limit fails with EFBIG part-way through, as on a full disk.
    /// - `standardOutput`: a path standard output is redirected to instead of the captured file
    ///   (`/dev/full`, to make every write to it fail).
    /// `during` is called with the process id once the process runs `glassbox` itself.
    /// The process is killed after `timeout` seconds.
    static func run(_ arguments: [String], in directory: URL? = nil, memoryLimitKB: Int? = nil,
                    fileSizeLimitBlocks: Int? = nil, standardOutput: String? = nil, timeout: Double = 60,
                    during: ((pid_t) -> Void)? = nil) throws -> Result {
        guard let executable else {
            throw CLIError("the glassbox executable was not found; build it first (swift build -c release)")
        }
        var script = ""
        if let memoryLimitKB { script += "ulimit -v \(memoryLimitKB) || exit 99; " }
        if let fileSizeLimitBlocks { script += "trap '' XFSZ; ulimit -f \(fileSizeLimitBlocks) || exit 99; " }
        if let standardOutput { script += "exec >'\(standardOutput)' || exit 99; " }
        script += "exec \"$0\" \"$@\""

        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("glassbox-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, executable.path] + arguments
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        if let directory { process.currentDirectoryURL = directory }
        let start = Date()
        // The child inherits this thread's signal mask, and the test runner's worker threads block
        // SIGINT: unblock it around the spawn so a Ctrl-C (here, `kill`) reaches glassbox.
        var interrupt = sigset_t(), previousMask = sigset_t()
        sigemptyset(&interrupt)
        sigaddset(&interrupt, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &interrupt, &previousMask)
        defer { pthread_sigmask(SIG_SETMASK, &previousMask, nil) }
        try process.run()
        let pid = process.processIdentifier
        if let during {
            // Wait until the shell has exec'd glassbox, so a signal reaches glassbox's handler.
            while process.isRunning, Date().timeIntervalSince(start) < timeout, commandName(of: pid) != "glassbox" {
                usleep(2_000)
            }
            if process.isRunning { during(pid) }
        }
        var timedOut = false
        while process.isRunning {
            if Date().timeIntervalSince(start) > timeout {
                timedOut = true
                kill(pid, SIGKILL)
                break
            }
            usleep(5_000)
        }
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(start)
        return Result(status: process.terminationStatus, signal: process.terminationReason == .uncaughtSignal,
                      timedOut: timedOut,
                      stdout: String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self),
                      stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self),
                      seconds: seconds)
    }

    /// The process's command name from /proc (Linux), if readable.
    static func commandName(of pid: pid_t) -> String? {
        (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct CLIError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

/// Checks the contract for a rejected input: a non-zero exit status (not a signal, not a
/// timeout), and exactly one line on standard error, starting with `error:` and containing every
/// string in `mentions` (the file's name, the place, the problem).
func expectCleanError(_ result: CLIProcess.Result, mentions: [String], within seconds: Double,
                      sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!result.signal && !result.timedOut, "crashed or hung: \(result)", sourceLocation: sourceLocation)
    #expect(result.status != 0, "exit status 0: \(result)", sourceLocation: sourceLocation)
    #expect(result.status != 99, "the shell could not set the resource limits: \(result)", sourceLocation: sourceLocation)
    let lines = result.stderrLines
    #expect(lines.count == 1, "expected exactly one line on stderr: \(result)", sourceLocation: sourceLocation)
    let line = lines.first ?? ""
    #expect(line.hasPrefix("error: "), "stderr should start with 'error: ': \(result)", sourceLocation: sourceLocation)
    for text in mentions {
        #expect(line.localizedCaseInsensitiveContains(text), "error should mention \(text.debugDescription): \(line)",
                sourceLocation: sourceLocation)
    }
    #expect(result.seconds < seconds, "took \(result.seconds) s (bound \(seconds) s): \(result)", sourceLocation: sourceLocation)
}
