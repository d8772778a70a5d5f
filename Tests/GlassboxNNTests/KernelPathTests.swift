import CKernels
import Foundation
import Synchronization
import Testing
@testable import GlassboxNN

/// The kernel-path dispatch (CKernels/include/gb_cpu.h): what the CPU offers, forcing a path on
/// one thread, and its hand-over to the worker pool. The kernels themselves are checked at every
/// path in DenseKernelTests, RowKernelTests, TranscendentalAccuracyTests and InferencePlanTests.
/// Where another thread reports the path it sees.
final class ISABox: Sendable {
    static let shared = ISABox()
    let value = Atomic<Int32>(-1)
}

@Suite struct KernelPathTests {
    @Test func theCPUOffersGenericAndItsBestPath() {
        let available = KernelPath.available
        #expect(available.first == .generic)
        #expect(available.contains(KernelPath.best))
        #expect(KernelPath.best.isAvailable)
        #if arch(x86_64)
        #expect(!KernelPath.neon.isAvailable)
        #expect(KernelPath.genericFusesMultiplyAdd == false)
        #elseif arch(arm64)
        #expect(KernelPath.best == .neon && !KernelPath.avx2.isAvailable && !KernelPath.avx512.isAvailable)
        #expect(KernelPath.genericFusesMultiplyAdd)
        #endif
        // AVX-512 kernels are only chosen alongside AVX2 (their tails use it).
        if KernelPath.avx512.isAvailable { #expect(KernelPath.avx2.isAvailable) }
        // Unforced, a thread runs the process default: the best path unless GLASSBOX_ISA names another.
        let expectedDefault = ProcessInfo.processInfo.environment["GLASSBOX_ISA"]
            .flatMap(KernelPath.init(rawValue:)).flatMap { $0.isAvailable ? $0 : nil } ?? KernelPath.best
        #expect(KernelPath.active == expectedDefault)
    }

    @Test func forcingIsScopedNestedAndRefusesPathsTheCPULacks() {
        let before = KernelPath.active
        for path in KernelPath.available {
            let inner: KernelPath? = KernelPath.forced(path) {
                #expect(KernelPath.active == path)
                let nested = KernelPath.forced(.generic) { KernelPath.active }
                #expect(nested == .generic)
                return KernelPath.active
            }
            #expect(inner == path)
            #expect(KernelPath.active == before)
        }
        for path in KernelPath.allCases where !path.isAvailable {
            var ran = false
            #expect(KernelPath.forced(path) { ran = true } == nil)
            #expect(!ran && KernelPath.active == before)
        }
        #expect(gb_cpu_force_isa(99) == -2 && KernelPath.active == before)
    }

    /// Worker tasks run the path of the thread that started them; other threads are unaffected.
    @Test func workersInheritTheForcedPathOtherThreadsDoNot() throws {
        let tasks = 64
        let seen = UnsafeMutablePointer<Int32>.allocate(capacity: tasks)
        defer { seen.deallocate() }
        for path in KernelPath.available {
            seen.initialize(repeating: -1, count: tasks)
            _ = KernelPath.forced(path) {
                gb_parallel_for(tasks, 2, { ctx, task in
                    // Long enough that the second worker takes some of the tasks.
                    var spin = 0.0
                    for i in 0..<20_000 { spin += Double(i) }
                    if spin < 0 { return }
                    ctx!.assumingMemoryBound(to: Int32.self)[task] = gb_cpu_isa()
                }, seen)
            }
            #expect((0..<tasks).allSatisfy { seen[$0] == path.code }, "\(path)")
        }
        let done = DispatchSemaphore(value: 0)
        _ = KernelPath.forced(.generic) {
            let thread = Thread {
                ISABox.shared.value.store(gb_cpu_isa(), ordering: .releasing)
                done.signal()
            }
            thread.start()
            done.wait()
        }
        #expect(ISABox.shared.value.load(ordering: .acquiring) == gb_cpu_default_isa())
    }
}
