import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Checked writes to standard output and standard error: output that could not be written (a
/// full disk, `> /dev/full`, a closed descriptor) makes the process exit non-zero with a message
/// instead of 0 with the results silently lost.
///
/// Standard output is written with `print` (buffered by the C library, which records a failed
/// write in the stream's error flag); ``finish()`` flushes it and checks the flag. Standard error
/// is written unbuffered by ``writeError(_:)`` (Foundation's `FileHandle.write` traps on a failed
/// write); a failure there is remembered and reported by ``finish()`` as exit status 1 (the
/// message itself can then only be attempted).
public enum StandardStreams {
    private static let errorWriteFailed = Atomic<Int32>(0)

    /// The C library's `stdout` stream, found by name: Swift 6 refuses to read the global C
    /// variable directly (it is shared mutable state), and only its error flag is read here.
    nonisolated(unsafe) private static let output: UnsafeMutablePointer<FILE>? = {
        #if canImport(Darwin)
        let name = "__stdoutp"
        #else
        let name = "stdout"
        #endif
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, name) else { return nil }
        return symbol.assumingMemoryBound(to: UnsafeMutablePointer<FILE>?.self).pointee
    }()

    /// Flushes standard output; false when that or an earlier write to it failed.
    private static func flushOutput() -> Bool {
        guard let output else { return fflush(nil) == 0 }
        return fflush(output) == 0 && ferror(output) == 0
    }

    /// Writes `text` to standard error at once, retrying short writes and EINTR. A failure (other
    /// than EPIPE's signal) is remembered for ``finish()``.
    public static func writeError(_ text: String) {
        var bytes = Array(text.utf8)
        let ok = bytes.withUnsafeMutableBytes { raw -> Bool in
            guard let base = raw.baseAddress else { return true }
            var offset = 0
            while offset < raw.count {
                let n = write(STDERR_FILENO, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    errorWriteFailed.store(errno == 0 ? EIO : errno, ordering: .relaxed)
                    return false
                }
                offset += n
            }
            return true
        }
        _ = ok
    }

    /// Flushes standard output and reports what could not be written: nil when every write to
    /// standard output and standard error succeeded, else the problem ("cannot write to standard
    /// output: No space left on device").
    public static func problem() -> String? {
        errno = 0
        if !flushOutput() {
            return "cannot write to standard output" + (errno == 0 ? "" : ": " + String(cString: strerror(errno)))
        }
        let code = errorWriteFailed.load(ordering: .relaxed)
        if code != 0 { return "cannot write to standard error: " + String(cString: strerror(code)) }
        return nil
    }

    /// Checks both streams at the end of a run: on a failed write, tries to say so on standard
    /// error and exits with status 1; otherwise returns.
    public static func finish() {
        guard let problem = problem() else { return }
        writeError("error: \(problem)\n")
        // _exit: the streams are already settled, and the atexit check must not report it twice.
        _exit(1)
    }

    /// Registers an `atexit` check of standard output, for exits that do not pass through
    /// ``finish()`` (an argument-parser `exit` after printing help): a failed write turns the
    /// exit status into 1. Call once, early.
    public static func installExitCheck() {
        _ = output
        atexit {
            errno = 0
            if !StandardStreams.flushOutput() {
                let reason = errno == 0 ? "" : ": " + String(cString: strerror(errno))
                StandardStreams.writeError("error: cannot write to standard output\(reason)\n")
                _exit(1)
            }
        }
    }
}
