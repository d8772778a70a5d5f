// Private helpers shared by the kernel files: target attributes, the per-path multiversioning
// macro and the fused-multiply-add rule of the portable code. The public side of the dispatch is
// include/gb_cpu.h.
#ifndef GLASSBOX_DISPATCH_H
#define GLASSBOX_DISPATCH_H

#include "CKernels.h"

#include <math.h>

#if defined(__x86_64__) || defined(__i386__)
#define GB_X86 1
#include <immintrin.h>
// Function-level targets: the file is compiled for the baseline, each kernel for its path.
#define GB_AVX512 __attribute__((target("avx512f")))
#define GB_AVX2 __attribute__((target("avx2,fma")))
#else
#define GB_X86 0
#endif

#if defined(__aarch64__)
#define GB_ARM64 1
#include <arm_neon.h>
#else
#define GB_ARM64 0
#endif

#define GB_INLINE static inline __attribute__((always_inline))
// Register tiles live in arrays indexed by constant loops; they only become registers when those
// loops are fully unrolled, which -O2 (SwiftPM's release level) does not always do on its own.
#define GB_UNROLL _Pragma("clang loop unroll(full)")

// The portable kernels' multiply-add. Where the baseline instruction set fuses (arm64) it is
// fmaf, which vectorises to fmla and gives the vector paths' bits. On baseline x86-64 (SSE2) a
// fused fmaf is a library call per element that cannot be widened, so there the portable path
// rounds the product first: 4-wide SSE2 code, last-bit differences from the FMA paths.
#if defined(__FP_FAST_FMAF) || defined(__ARM_FEATURE_FMA)
#define GB_FMA(a, b, c) __builtin_fmaf((a), (b), (c))
#define GB_GENERIC_FUSED 1
#else
#define GB_FMA(a, b, c) ((a) * (b) + (c))
#define GB_GENERIC_FUSED 0
#endif

// Four floats in the compiler's portable vector type (GCC/Clang vector extensions): lowered to
// one SSE2 register on x86-64 and one NEON register on arm64, scalar code elsewhere. The
// register-tiled portable kernels use it because the SLP vectoriser keeps fully unrolled scalar
// tiles only partly in vector registers (measured: 0.7 GFLOP/s for the portable convolution).
typedef float gb_v4 __attribute__((vector_size(16)));

GB_INLINE gb_v4 gb_v4_load(const float *p) {
    gb_v4 v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}
GB_INLINE void gb_v4_store(float *p, gb_v4 v) { __builtin_memcpy(p, &v, sizeof v); }
GB_INLINE gb_v4 gb_v4_splat(float x) { return (gb_v4){x, x, x, x}; }
// a · b + c per lane, fused exactly where GB_FMA is.
GB_INLINE gb_v4 gb_v4_fma(gb_v4 a, gb_v4 b, gb_v4 c) {
#if GB_GENERIC_FUSED && defined(__clang__) && __has_builtin(__builtin_elementwise_fma)
    return __builtin_elementwise_fma(a, b, c);
#elif GB_GENERIC_FUSED
    return (gb_v4){__builtin_fmaf(a[0], b[0], c[0]), __builtin_fmaf(a[1], b[1], c[1]),
                   __builtin_fmaf(a[2], b[2], c[2]), __builtin_fmaf(a[3], b[3], c[3])};
#else
    return a * b + c;
#endif
}

// GB_MULTIVERSION(ret, name, params, args): `name` runs name##_impl (an always-inline body of
// plain loops) compiled once per path — AVX-512, AVX2+FMA and baseline on x86-64 (NEON is the
// baseline on arm64) — chosen by gb_cpu_isa() at each call. Loops written for the vectoriser
// thus become 16-, 8- and 4-wide code from one source.
#if GB_X86
#define GB_MULTIVERSION(ret, name, params, args)                                                  \
    GB_AVX512 static ret name##_avx512 params { return name##_impl args; }                         \
    GB_AVX2 static ret name##_avx2 params { return name##_impl args; }                             \
    static ret name##_generic params { return name##_impl args; }                                  \
    ret name params {                                                                              \
        switch (gb_cpu_isa()) {                                                                    \
        case GB_ISA_AVX512: return name##_avx512 args;                                             \
        case GB_ISA_AVX2: return name##_avx2 args;                                                 \
        default: return name##_generic args;                                                       \
        }                                                                                          \
    }
#else
#define GB_MULTIVERSION(ret, name, params, args)                                                  \
    ret name params { return name##_impl args; }
#endif

#endif
