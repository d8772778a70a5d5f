#ifndef GLASSBOX_CPU_H
#define GLASSBOX_CPU_H

// The one CPU-feature dispatch of the C kernels. Every kernel family (GEMM, direct convolution,
// small and masked dense layers, channels-last loops, pointwise maths) asks gb_cpu_isa() which
// instruction-set path to run; nothing else in the module detects CPU features.
//
// Paths: GB_ISA_AVX512 (x86-64 with AVX-512F), GB_ISA_AVX2 (x86-64 with AVX2 + FMA), GB_ISA_NEON
// (every arm64 CPU), GB_ISA_GENERIC (plain C the compiler vectorises for the baseline target:
// SSE2 on x86-64, NEON on arm64). Kernels are compiled per path with function-level target
// attributes and chosen by a switch at call time, so no ifunc / target_clones support is needed
// (Mach-O has none) and no compiler flags are required.
//
// Which path runs:
//   1. a path forced on the calling thread with gb_cpu_force_isa (tests) — it also applies to the
//      gb_parallel_for tasks that thread starts;
//   2. else the process default: the environment variable GLASSBOX_ISA = avx512 | avx2 | neon |
//      generic, read once; a path this CPU cannot run, or an unknown name, is reported once on
//      stderr ("glassbox: GLASSBOX_ISA=avx512: this CPU has no AVX-512F; using avx2") and the
//      best available path is used instead;
//   3. else the best path the CPU runs (detected with cpuid + xgetbv on x86-64, so AVX state
//      disabled by the OS counts as absent).

#ifdef __cplusplus
extern "C" {
#endif

enum { GB_ISA_GENERIC = 0, GB_ISA_AVX2 = 1, GB_ISA_AVX512 = 2, GB_ISA_NEON = 3, GB_ISA_COUNT = 4 };

/// The best path this CPU can run.
int gb_cpu_best_isa(void);
/// Whether this CPU can run `isa` (GB_ISA_GENERIC always).
int gb_cpu_isa_supported(int isa);
/// The path kernels called on this thread run: the forced one, else the process default.
int gb_cpu_isa(void);
/// The process default: GLASSBOX_ISA's path when this CPU runs it, else the best path.
int gb_cpu_default_isa(void);
/// "generic", "avx2", "avx512" or "neon"; "unknown" for other values.
const char *gb_cpu_isa_name(int isa);
/// Forces `isa` for kernels called on the calling thread and the gb_parallel_for tasks it
/// starts; -1 returns the thread to the process default. Returns the previous forced value
/// (-1 for none), or -2, changing nothing, when this CPU cannot run `isa`.
int gb_cpu_force_isa(int isa);
/// The thread's forced path, -1 for none (gb_parallel_for carries it to its workers).
int gb_cpu_forced_isa(void);
/// Whether the generic path fuses multiply-adds (1 on arm64, where it then gives the vector
/// paths' bits; 0 on x86-64, whose baseline has no FMA, so its results may differ from the
/// AVX paths' in the last bits).
int gb_cpu_generic_fused(void);

#ifdef __cplusplus
}
#endif

#endif
