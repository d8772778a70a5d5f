import Foundation
import Synchronization

/// A process-wide "please stop" flag that long loops check at safe points (the end of a training
/// batch), so Ctrl-C ends work cleanly instead of killing the process mid-write.
///
/// `installSignalHandler()` makes the first SIGINT set the flag; a second Ctrl-C still terminates
/// at once (after removing the temporary files of any save in progress). A save
/// (``AtomicFile``) that finds the flag set keeps the previous file and throws
/// ``GlassboxError/cancelled(_:)`` (exit status 130).
public enum Interruption {
    private static let flag = Atomic<Bool>(false)

    /// Whether a stop was requested.
    public static var isRequested: Bool { flag.load(ordering: .relaxed) }

    /// Requests a stop (what the SIGINT handler does; also usable from code and tests).
    public static func request() { flag.store(true, ordering: .relaxed) }

    /// Clears a request.
    public static func reset() { flag.store(false, ordering: .relaxed) }

    /// Routes the first SIGINT to ``request()``; a second SIGINT, or a SIGTERM or SIGHUP, removes
    /// the temporary files of saves in progress (``TemporaryFiles``) and then ends the process
    /// with the signal's default action, so no `.NAME.tmp-…` file is left behind.
    public static func installSignalHandler() {
        _ = isRequested  // initialise the flag and the temporary-file table here, not inside a handler
        TemporaryFiles.prepare()
        signal(SIGINT) { _ in
            Interruption.request()
            signal(SIGINT) { sig in
                TemporaryFiles.removeAllForSignal()
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }
        for terminating in [SIGTERM, SIGHUP] {
            signal(terminating) { sig in
                TemporaryFiles.removeAllForSignal()
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }
        // A child inherits its parent's blocked-signal mask (a program spawning glassbox from a
        // libdispatch worker thread passes SIGINT blocked), and a blocked SIGINT never reaches the
        // handler: Ctrl-C would be ignored. Called before any thread starts, so all inherit this.
        var interrupt = sigset_t()
        sigemptyset(&interrupt)
        sigaddset(&interrupt, SIGINT)
        sigprocmask(SIG_UNBLOCK, &interrupt, nil)
    }

    /// Throws ``GlassboxError/cancelled(_:)`` with `place` if a stop was requested.
    public static func check(_ place: @autoclosure () -> String) throws {
        if isRequested { throw GlassboxError.cancelled("interrupted \(place())") }
    }
}
