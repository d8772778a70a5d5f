import Dispatch
import Foundation
import Synchronization

/// Process-wide compute settings.
///
/// Kernels split work over `Compute.threads` workers. Work is always partitioned so that every
/// output element is produced by exactly one worker with a fixed summation order, so results are
/// bit-identical for a given thread count (and, for the kernels that partition outputs only,
/// across thread counts too).
public enum Compute {
    private static let threadCount = Atomic<Int>(Compute.defaultThreads())

    /// Number of worker threads used by kernels (≥ 1). Defaults to `GLASSBOX_THREADS` or the
    /// number of active processors.
    public static var threads: Int {
        get { threadCount.load(ordering: .relaxed) }
        set { threadCount.store(Swift.max(1, newValue), ordering: .relaxed) }
    }

    static func defaultThreads() -> Int {
        if let text = ProcessInfo.processInfo.environment["GLASSBOX_THREADS"], let n = Int(text), n > 0 {
            return n
        }
        return Swift.max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Runs `body(chunk)` for `chunk` in `0..<chunks`, in parallel when `chunks > 1` and more
    /// than one thread is configured. `body` must write disjoint outputs.
    ///
    /// Cost: one dispatch per call (a few µs); callers only parallelise work of ≳ 50 µs.
    public static func parallelFor(_ chunks: Int, _ body: (Int) -> Void) {
        if chunks <= 1 || threads <= 1 {
            for c in 0..<chunks { body(c) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            let box = UncheckedBox(escapable)
            DispatchQueue.concurrentPerform(iterations: chunks) { box.value($0) }
        }
    }

    /// Splits `0..<n` into at most `threads` contiguous ranges of near-equal length and runs them
    /// in parallel when `n * costPerItem` is large enough to repay the dispatch.
    public static func parallelRanges(_ n: Int, costPerItem: Int = 1, minimumCost: Int = 32_768,
                                      _ body: (Range<Int>) -> Void) {
        let workers = Swift.min(threads, n)
        if workers <= 1 || n * costPerItem < minimumCost {
            if n > 0 { body(0..<n) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            let box = UncheckedBox(escapable)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let lo = n * w / workers, hi = n * (w + 1) / workers
                if lo < hi { box.value(lo..<hi) }
            }
        }
    }
}

/// Carries a closure into `concurrentPerform`. Safe here because callers promise their workers
/// write disjoint memory, which the type system cannot see through raw pointers.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
