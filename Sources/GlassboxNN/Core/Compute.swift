import CKernels
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
    /// Runs on the persistent worker pool of the C kernels (`gb_parallel_for`), whose workers
    /// stay awake briefly between jobs: on these VMs `DispatchQueue.concurrentPerform` took up to
    /// 200 µs to wake an idle core, more than many kernels take. A call made from inside a task
    /// runs inline, so nesting never oversubscribes.
    public static func parallelFor(_ chunks: Int, _ body: (Int) -> Void) {
        let workers = threads
        if chunks <= 1 || workers <= 1 {
            for c in 0..<chunks { body(c) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            var task = escapable
            withUnsafeMutablePointer(to: &task) { context in
                gb_parallel_for(chunks, workers, { raw, index in
                    raw!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
                }, context)
            }
        }
    }

    /// Splits `0..<n` into at most `threads` contiguous ranges of near-equal length and runs them
    /// in parallel when `n * costPerItem` is large enough to repay the hand-off.
    public static func parallelRanges(_ n: Int, costPerItem: Int = 1, minimumCost: Int = 32_768,
                                      _ body: (Range<Int>) -> Void) {
        let workers = Swift.min(threads, n)
        if workers <= 1 || n * costPerItem < minimumCost {
            if n > 0 { body(0..<n) }
            return
        }
        parallelFor(workers) { w in
            let lo = n * w / workers, hi = n * (w + 1) / workers
            if lo < hi { body(lo..<hi) }
        }
    }
}

#if os(Linux)
@_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

extension Compute {
    /// Keeps freed tensor memory in the process instead of returning it to the kernel.
    ///
    /// Why: with glibc's defaults every large tensor (≳ 128 KB) is a fresh `mmap`, so each training
    /// step page-faults its activations in again — about a third of a CNN step on these machines.
    /// Raising the mmap and trim thresholds lets `malloc` reuse that memory. Process-wide and
    /// idempotent; the `glassbox` tool calls it at start-up, library users may. No-op off glibc.
    public static func configureAllocator() {
        #if os(Linux)
        _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, 32 << 20)  // glibc accepts at most 32 MiB
        _ = glibcMallopt(-1 /* M_TRIM_THRESHOLD */, 1 << 30)
        #endif
    }
}
