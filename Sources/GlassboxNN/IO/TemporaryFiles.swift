import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The temporary files that ``AtomicFile`` is writing right now, kept where a signal handler can
/// remove them: a process ended by SIGTERM, SIGHUP or a second Ctrl-C leaves no `.NAME.tmp-…`
/// file behind.
///
/// Storage is fixed at first use (``capacity`` slots of ``pathCapacity`` bytes, 64 KB) so the
/// handler touches no Swift runtime: it reads a bit mask and calls `unlink` (async-signal-safe).
/// A write that finds every slot busy (more than 32 files staged at once) or a path too long for a
/// slot still works; only its clean-up on a signal is lost.
public enum TemporaryFiles {
    static let capacity = 32
    static let pathCapacity = 2048
    /// Bit i set: slot i holds a live temporary path.
    private static let live = Atomic<UInt64>(0)
    nonisolated(unsafe) private static let paths: UnsafeMutablePointer<CChar> = {
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: capacity * pathCapacity)
        p.initialize(repeating: 0, count: capacity * pathCapacity)
        return p
    }()
    private static let registration = Mutex<Void>(())

    /// Makes the storage exist (call before installing a handler that uses ``removeAllForSignal()``).
    static func prepare() {
        _ = live.load(ordering: .relaxed)
        _ = paths
    }

    /// Records `path` as a live temporary file; returns its slot (nil: not recorded).
    static func register(_ path: String) -> Int? {
        let bytes = Array(path.utf8)
        guard bytes.count < pathCapacity else { return nil }
        return registration.withLock { _ in
            let used = live.load(ordering: .acquiring)
            guard let slot = (0..<capacity).first(where: { used & (1 << UInt64($0)) == 0 }) else { return nil }
            let base = paths + slot * pathCapacity
            for (i, b) in bytes.enumerated() { base[i] = CChar(bitPattern: b) }
            base[bytes.count] = 0
            _ = live.bitwiseOr(1 << UInt64(slot), ordering: .releasing)
            return slot
        }
    }

    /// Forgets a slot (the file was renamed into place or removed).
    static func unregister(_ slot: Int?) {
        guard let slot else { return }
        registration.withLock { _ in _ = live.bitwiseAnd(~(1 << UInt64(slot)), ordering: .releasing) }
    }

    /// Removes every live temporary file. Async-signal-safe: for signal handlers only.
    public static func removeAllForSignal() {
        let used = live.load(ordering: .acquiring)
        guard used != 0 else { return }
        for slot in 0..<capacity where used & (1 << UInt64(slot)) != 0 {
            unlink(paths + slot * pathCapacity)
        }
    }
}
