import CKernels

/// The instruction-set path the C kernels run (CKernels/include/gb_cpu.h): AVX-512, AVX2 + FMA,
/// NEON, or generic C vectorised by the compiler for the baseline target.
///
/// The process default is the best path the CPU runs, or the one named by the environment
/// variable `GLASSBOX_ISA` (`avx512`, `avx2`, `neon`, `generic`; a path the CPU cannot run is
/// reported once on stderr and the best one is used). ``forced(_:_:)`` overrides it for one
/// thread's kernel calls — and the worker tasks those calls start — which is how tests check
/// every path in one process without disturbing tests running beside them.
public enum KernelPath: String, CaseIterable, Sendable {
    case generic, avx2, avx512, neon

    var code: Int32 {
        switch self {
        case .generic: Int32(GB_ISA_GENERIC)
        case .avx2: Int32(GB_ISA_AVX2)
        case .avx512: Int32(GB_ISA_AVX512)
        case .neon: Int32(GB_ISA_NEON)
        }
    }

    init?(code: Int32) {
        guard let path = KernelPath.allCases.first(where: { $0.code == code }) else { return nil }
        self = path
    }

    /// The path kernels called from this thread run now.
    public static var active: KernelPath { KernelPath(code: gb_cpu_isa()) ?? .generic }

    /// The best path this CPU runs.
    public static var best: KernelPath { KernelPath(code: gb_cpu_best_isa()) ?? .generic }

    /// Every path this CPU runs, generic first.
    public static var available: [KernelPath] { allCases.filter(\.isAvailable) }

    /// Whether the generic path fuses multiply-adds like the vector paths (arm64), so that all
    /// paths give the same bits; on x86-64 it rounds products first (SSE2 has no FMA).
    public static var genericFusesMultiplyAdd: Bool { gb_cpu_generic_fused() != 0 }

    /// Whether results at this path are bit-identical to the other fused paths' for the kernels
    /// that promise a fixed operation order (convolution, dense, masked dense).
    var fusesMultiplyAdd: Bool { self != .generic || KernelPath.genericFusesMultiplyAdd }

    /// Whether this CPU runs the path.
    public var isAvailable: Bool { gb_cpu_isa_supported(code) != 0 }

    /// Runs `body` with the kernels of this thread (and of the worker tasks it starts) on `path`,
    /// then restores the previous choice. Returns nil, without running `body`, when this CPU
    /// cannot run `path`.
    public static func forced<T>(_ path: KernelPath, _ body: () throws -> T) rethrows -> T? {
        let previous = gb_cpu_force_isa(path.code)
        guard previous != -2 else { return nil }
        defer { _ = gb_cpu_force_isa(previous) }
        return try body()
    }
}
