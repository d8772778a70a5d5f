#ifndef GLASSBOX_CKERNELS_H
#define GLASSBOX_CKERNELS_H

// C kernels behind GlassboxNN. Plain C with per-function target attributes and run-time CPU
// dispatch (gb_cpu.h: AVX-512, AVX2+FMA, NEON or generic C): the package builds with no
// compiler flags and runs on any x86-64 or arm64 CPU. Matrices are row-major; sizes and strides are in elements.
//
// This is the module's umbrella header (SwiftPM exports only it, because it is named after the
// target): kernel families with a header of their own must be included here to reach Swift.

#include "gb_cpu.h"
#include "gb_pointwise.h"
#include "gb_conv.h"
#include "gb_dense.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---- Threading ------------------------------------------------------------------------------

/// Runs fn(ctx, t) for every t in 0..<tasks on at most `threads` threads, the caller included,
/// and returns when all have finished. Tasks must write disjoint memory. Workers are persistent
/// pthreads that spin (yielding) for ~1 ms after a job before sleeping, so back-to-back jobs
/// start within about a microsecond. One job runs at a time: a call made while the pool is busy
/// (another thread's job, or from inside a task) runs its tasks inline on the calling thread.
void gb_parallel_for(long tasks, long threads, void (*fn)(void *ctx, long task), void *ctx);

// ---- SGEMM: C = alpha · op(A) · op(B) + beta · C ---------------------------------------------
// op(A) is m×k and op(B) is k×n, where op(X) = X, or Xᵀ when trans_x ≠ 0, and lda/ldb/ldc are
// the row strides of A, B and C as stored. beta == 0 overwrites C without reading it; alpha == 0
// or k == 0 only scales C by beta. Each element's summation order depends on k alone, so the
// result is bit-identical however C is split over threads.

/// The whole product, split over at most `threads` threads of the gb_parallel_for pool (the
/// caller included); products under ~3 MFLOP run on the calling thread alone.
void gb_sgemm_threaded(int trans_a, int trans_b, long m, long n, long k, float alpha,
                       const float *a, long lda, const float *b, long ldb, float beta,
                       float *c, long ldc, long threads);

/// One rectangular region of C — rows [row_begin, row_end), columns [col_begin, col_end) — on
/// the calling thread, for callers that parallelise themselves. Uses per-thread scratch that is
/// allocated on first use (at most ~4.3 MiB) and reused.
void gb_sgemm(int trans_a, int trans_b, long k, float alpha, const float *a, long lda,
              const float *b, long ldb, float beta, float *c, long ldc,
              long row_begin, long row_end, long col_begin, long col_end);

/// How gb_sgemm_threaded splits an m×n C for `threads` threads: returns the number of tasks and,
/// when 0 ≤ task < that number and region is non-NULL, stores the task's rows [region[0],
/// region[1]) and columns [region[2], region[3]).
long gb_sgemm_split(long m, long n, long k, long threads, long task, long region[4]);

/// Register tile (rows × columns of C per micro-kernel call) of the kernel chosen for this CPU;
/// regions split at multiples of it avoid partial tiles at their borders.
void gb_sgemm_tile(long *mr, long *nr);

/// Name of the GEMM kernel family on the calling thread's path (gb_cpu_isa()): "avx512f",
/// "avx2+fma" or "generic" (arm64's NEON path runs the generic kernel, vectorised to NEON).
const char *gb_sgemm_isa(void);

/// Test hook: the whole product on the calling thread with a chosen kernel family (GB_ISA_GENERIC,
/// GB_ISA_AVX2 or GB_ISA_AVX512) and optionally smaller cache blocks (mc, kc, nc; 0 keeps the
/// default), so small matrices exercise every blocking loop and the fallbacks can be checked on
/// CPUs that would not pick them. Returns 0, leaving C untouched, when this CPU cannot run that
/// family, and 1 otherwise.
int gb_sgemm_variant(int isa, long mc, long kc, long nc, int trans_a, int trans_b, long m, long n,
                     long k, float alpha, const float *a, long lda, const float *b, long ldb,
                     float beta, float *c, long ldc);

#ifdef __cplusplus
}
#endif

#endif
