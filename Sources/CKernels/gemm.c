// Packed single-precision GEMM (Goto / BLIS blocking) with run-time instruction-set dispatch.
//
// C = alpha · op(A) · op(B) + beta · C, all row-major. Loop nest for one region of C:
//
//   for jc in columns, step NC         packed B block (KC × NC)       — L3 / L2
//     for pc in 0..<k, step KC         (blocks depend on k only → fixed summation order)
//       pack op(B)[pc.., jc..] into NR-wide micro-panels
//       for ic in rows, step MC        A block (MC × KC)              — L2
//         for jr in block, step NR     B micro-panel (KC × NR)        — L1, reused across ir
//           for ir in block, step MR   micro-kernel: MR × NR tile of C held in registers
//
// op(B) is always packed: the micro-kernel loads NR contiguous floats per k step, and reading B
// rows in place would hit the same few L1 sets whenever ldb is a multiple of 1 KiB.
// op(A) is normally *not* packed: the kernel only broadcasts single A elements, a broadcast can
// come from any address, and the MC × KC block stays in L2 by itself. So plain A is read along
// its rows and Aᵀ along its columns, where they lie. Two exceptions are copied to scratch: the
// last partial MR-row strip (zero-padded, so the kernel never reads past A), and the whole A
// block when lda puts the MR rows of a strip into the same L1 sets (lda = 256, 512, 1024…),
// which measured 2× slower on two threads at n = 1024.
//
// Determinism: every element is accumulated with the same vector-lane arithmetic — one FMA per k
// in increasing k, then alpha/beta applied once per k block — whatever tile, strip, panel width
// or thread region it lands in (partial tiles use masked loads/stores of the same lanes, zero
// padding adds exact zeros). Results therefore do not depend on how C is split over threads.

#include "gb_dispatch.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GB_MIN(x, y) ((x) < (y) ? (x) : (y))
#define GB_MAX(x, y) ((x) > (y) ? (x) : (y))

// Micro-kernel: C[0..<mr][0..<nr] = alpha · Σ_p A(i, p) · Bp[p][j] + beta · C, where Bp is one
// packed micro-panel and beta == 0 means C is not read. Rows mr..<MR of A must be readable (the
// driver passes zero-padded copies for partial strips); columns nr..<NR are masked off.
// "rows" kernels read A(i, p) = a[i * stride + p] (plain A), "cols" kernels a[p * stride + i]
// (Aᵀ, and the packed partial strip).
typedef void (*gb_kernel_fn)(long kc, const float *a, long stride, const float *bp, float *c,
                             long ldc, long mr, long nr, float alpha, float beta);

// Packs op(B)[0..<kc][0..<nc] (b points at its first element) into micro-panels of kc × NR,
// each stored k-major, zero-padding the last panel (to NR/2 when the ISA has half kernels and
// the last panel is that narrow).
typedef void (*gb_packb_fn)(long kc, long nc, const float *b, long ldb, int trans, float *dst);

typedef struct {
    const char *name;
    long mr, nr;                      // register tile
    long mc, kc, nc;                  // cache blocks (mc multiple of mr, nc multiple of nr)
    gb_kernel_fn rows, cols;
    // Optional MR × NR/2 kernels for a last column panel at most NR/2 wide (n = 10, 16, 48…):
    // half the FMAs of a zero-padded full tile.
    gb_kernel_fn rows_half, cols_half;
    gb_packb_fn pack_b;
} gb_arch;

#if GB_X86

// ---------------------------------------------------------------------------------------------
// AVX-512: 12 × 32 tile. 24 zmm accumulators + 2 B vectors + 1 broadcast = 27 of 32 registers.
// Per k step: 24 FMAs against 2 vector loads and 12 broadcasts — enough independent FMAs to
// cover the 4-cycle latency on two FMA pipes without saturating the load ports.
// ---------------------------------------------------------------------------------------------

// Stores the accumulators of a 12 × (16·nv) tile; nv is a compile-time 1 or 2.
GB_AVX512 GB_INLINE void k512_store(__m512 acc[12][2], int nv, float *c, long ldc, long mr,
                                   long nr, float alpha, float beta) {
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    if (mr == 12 && nr == 16 * nv) {
        GB_UNROLL for (int i = 0; i < 12; i++) {
            GB_UNROLL for (int v = 0; v < nv; v++) {
                float *r = c + i * ldc + 16 * v;
                if (beta == 0.0f) {
                    _mm512_storeu_ps(r, _mm512_mul_ps(va, acc[i][v]));
                } else {
                    _mm512_storeu_ps(r, _mm512_fmadd_ps(va, acc[i][v], _mm512_mul_ps(vb, _mm512_loadu_ps(r))));
                }
            }
        }
        return;
    }
    // Partial tile: the same lane arithmetic, masked so nothing outside the tile is touched.
    __mmask16 mask[2];
    GB_UNROLL for (int v = 0; v < 2; v++) {
        const long w = nr - 16 * v;
        mask[v] = w >= 16 ? (__mmask16)0xFFFF : w <= 0 ? (__mmask16)0 : (__mmask16)((1u << w) - 1u);
    }
    GB_UNROLL for (int i = 0; i < 12; i++) {
        if (i >= mr) break;
        GB_UNROLL for (int v = 0; v < nv; v++) {
            float *r = c + i * ldc + 16 * v;
            if (beta == 0.0f) {
                _mm512_mask_storeu_ps(r, mask[v], _mm512_mul_ps(va, acc[i][v]));
            } else {
                const __m512 old = _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(mask[v], r));
                _mm512_mask_storeu_ps(r, mask[v], _mm512_fmadd_ps(va, acc[i][v], old));
            }
        }
    }
}

// The C tile is prefetched before the k loop so its cache misses overlap the FMAs instead of
// stalling the stores at the end.
#define K512_BODY(NV, AEXPR, ADVANCE)                                                          \
    __m512 acc[12][2];                                                                         \
    GB_UNROLL for (int i = 0; i < 12; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();        \
    GB_UNROLL for (int i = 0; i < 12; i++) {                                                   \
        if (i >= mr) break;                                                                    \
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);                                \
        _mm_prefetch((const char *)(c + i * ldc + 16 * NV - 1), _MM_HINT_T0);                  \
    }                                                                                          \
    for (long p = 0; p < kc; p++) {                                                            \
        __m512 bv[2];                                                                          \
        GB_UNROLL for (int v = 0; v < NV; v++) bv[v] = _mm512_load_ps(bp + 16 * v);            \
        bp += 16 * NV;                                                                         \
        GB_UNROLL for (int i = 0; i < 12; i++) {                                               \
            const __m512 ai = _mm512_set1_ps(AEXPR);                                           \
            GB_UNROLL for (int v = 0; v < NV; v++)                                             \
                acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);                             \
        }                                                                                      \
        ADVANCE;                                                                               \
    }                                                                                          \
    k512_store(acc, NV, c, ldc, mr, nr, alpha, beta);

GB_AVX512 static void k512_rows(long kc, const float *a, long stride, const float *bp, float *c,
                                long ldc, long mr, long nr, float alpha, float beta) {
    K512_BODY(2, a[i * stride], a += 1)
}

GB_AVX512 static void k512_cols(long kc, const float *a, long stride, const float *bp, float *c,
                                long ldc, long mr, long nr, float alpha, float beta) {
    K512_BODY(2, a[i], a += stride)
}

GB_AVX512 static void k512_rows_half(long kc, const float *a, long stride, const float *bp,
                                     float *c, long ldc, long mr, long nr, float alpha, float beta) {
    K512_BODY(1, a[i * stride], a += 1)
}

GB_AVX512 static void k512_cols_half(long kc, const float *a, long stride, const float *bp,
                                     float *c, long ldc, long mr, long nr, float alpha, float beta) {
    K512_BODY(1, a[i], a += stride)
}

// In-register transpose of a 16 × 16 block: r[i] holds row i on entry, column i on exit.
GB_AVX512 GB_INLINE void k512_transpose16(__m512 r[16]) {
    __m512 t[16];
    GB_UNROLL for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // Now r[4g + q], 128-bit lane L = column 4L + q of rows 4g..4g+3.
    GB_UNROLL for (int g = 0; g < 4; g++) {
        r[4 * g] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    // A 4 × 4 transpose of 128-bit lanes across r[q], r[4 + q], r[8 + q], r[12 + q].
    GB_UNROLL for (int q = 0; q < 4; q++) {
        const __m512 t1 = _mm512_shuffle_f32x4(r[q], r[4 + q], 0x88);
        const __m512 t2 = _mm512_shuffle_f32x4(r[q], r[4 + q], 0xdd);
        const __m512 t3 = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0x88);
        const __m512 t4 = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0xdd);
        t[q] = _mm512_shuffle_f32x4(t1, t3, 0x88);
        t[8 + q] = _mm512_shuffle_f32x4(t1, t3, 0xdd);
        t[4 + q] = _mm512_shuffle_f32x4(t2, t4, 0x88);
        t[12 + q] = _mm512_shuffle_f32x4(t2, t4, 0xdd);
    }
    GB_UNROLL for (int i = 0; i < 16; i++) r[i] = t[i];
}

static inline __mmask16 k512_mask(long w) {
    return w >= 16 ? (__mmask16)0xFFFF : w <= 0 ? (__mmask16)0 : (__mmask16)((1u << w) - 1u);
}

GB_AVX512 static void pack_b512(long kc, long nc, const float *b, long ldb, int trans, float *dst) {
    for (long jp = 0; jp < nc; jp += 32) {
        const long w = GB_MIN(32, nc - jp);
        const long width = w <= 16 ? 16 : 32;  // a narrow last panel feeds the half kernels
        if (!trans) {
            const float *s = b + jp;
            if (w == 32) {
                for (long p = 0; p < kc; p++) {
                    _mm512_store_ps(dst + 32 * p, _mm512_loadu_ps(s + p * ldb));
                    _mm512_store_ps(dst + 32 * p + 16, _mm512_loadu_ps(s + p * ldb + 16));
                }
            } else {
                const __mmask16 m0 = k512_mask(w), m1 = k512_mask(w - 16);
                for (long p = 0; p < kc; p++) {
                    _mm512_store_ps(dst + width * p, _mm512_maskz_loadu_ps(m0, s + p * ldb));
                    if (width == 32) _mm512_store_ps(dst + 32 * p + 16, _mm512_maskz_loadu_ps(m1, s + p * ldb + 16));
                }
            }
        } else {
            // op(B)[p][jp + j] = b[(jp + j) * ldb + p]: 16 × 16 blocks transposed in registers.
            for (long j0 = 0; j0 < width; j0 += 16) {
                for (long p0 = 0; p0 < kc; p0 += 16) {
                    const long h = GB_MIN(16, kc - p0);
                    const __mmask16 pm = k512_mask(h);
                    __m512 r[16];
                    GB_UNROLL for (int i = 0; i < 16; i++) {
                        r[i] = j0 + i < w ? _mm512_maskz_loadu_ps(pm, b + (jp + j0 + i) * ldb + p0)
                                          : _mm512_setzero_ps();
                    }
                    k512_transpose16(r);
                    GB_UNROLL for (int q = 0; q < 16; q++) {
                        if (q < h) _mm512_store_ps(dst + (p0 + q) * width + j0, r[q]);
                    }
                }
            }
        }
        dst += width * kc;
    }
}

// ---------------------------------------------------------------------------------------------
// AVX2 + FMA: 6 × 16 tile, the classic Haswell shape (12 ymm accumulators + 2 B + 1 broadcast
// of 16 registers).
// ---------------------------------------------------------------------------------------------
GB_AVX2 GB_INLINE __m256i k256_mask(long n) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), idx);
}

GB_AVX2 GB_INLINE void k256_store(__m256 acc[6][2], float *c, long ldc, long mr, long nr,
                                 float alpha, float beta) {
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    const __m256i m0 = k256_mask(GB_MIN(nr, 8)), m1 = k256_mask(GB_MAX(nr - 8, 0));
    GB_UNROLL for (int i = 0; i < 6; i++) {
        if (i >= mr) break;
        float *r = c + i * ldc;
        if (nr == 16) {
            if (beta == 0.0f) {
                _mm256_storeu_ps(r, _mm256_mul_ps(va, acc[i][0]));
                _mm256_storeu_ps(r + 8, _mm256_mul_ps(va, acc[i][1]));
            } else {
                _mm256_storeu_ps(r, _mm256_fmadd_ps(va, acc[i][0], _mm256_mul_ps(vb, _mm256_loadu_ps(r))));
                _mm256_storeu_ps(r + 8, _mm256_fmadd_ps(va, acc[i][1], _mm256_mul_ps(vb, _mm256_loadu_ps(r + 8))));
            }
        } else if (beta == 0.0f) {
            _mm256_maskstore_ps(r, m0, _mm256_mul_ps(va, acc[i][0]));
            _mm256_maskstore_ps(r + 8, m1, _mm256_mul_ps(va, acc[i][1]));
        } else {
            _mm256_maskstore_ps(r, m0, _mm256_fmadd_ps(va, acc[i][0], _mm256_mul_ps(vb, _mm256_maskload_ps(r, m0))));
            _mm256_maskstore_ps(r + 8, m1, _mm256_fmadd_ps(va, acc[i][1], _mm256_mul_ps(vb, _mm256_maskload_ps(r + 8, m1))));
        }
    }
}

#define K256_BODY(AEXPR, ADVANCE)                                                              \
    __m256 acc[6][2];                                                                          \
    GB_UNROLL for (int i = 0; i < 6; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();         \
    for (long p = 0; p < kc; p++) {                                                            \
        const __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8);                     \
        bp += 16;                                                                              \
        GB_UNROLL for (int i = 0; i < 6; i++) {                                                \
            const __m256 ai = _mm256_broadcast_ss(&(AEXPR));                                   \
            acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);                                    \
            acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);                                    \
        }                                                                                      \
        ADVANCE;                                                                               \
    }                                                                                          \
    k256_store(acc, c, ldc, mr, nr, alpha, beta);

GB_AVX2 static void k256_rows(long kc, const float *a, long stride, const float *bp, float *c,
                              long ldc, long mr, long nr, float alpha, float beta) {
    K256_BODY(a[i * stride], a += 1)
}

GB_AVX2 static void k256_cols(long kc, const float *a, long stride, const float *bp, float *c,
                              long ldc, long mr, long nr, float alpha, float beta) {
    K256_BODY(a[i], a += stride)
}

GB_AVX2 static void pack_b256(long kc, long nc, const float *b, long ldb, int trans, float *dst) {
    for (long jp = 0; jp < nc; jp += 16, dst += 16 * kc) {
        const long w = GB_MIN(16, nc - jp);
        if (!trans) {
            const float *s = b + jp;
            const __m256i m0 = k256_mask(GB_MIN(w, 8)), m1 = k256_mask(GB_MAX(w - 8, 0));
            for (long p = 0; p < kc; p++) {
                _mm256_store_ps(dst + 16 * p, _mm256_maskload_ps(s + p * ldb, m0));
                _mm256_store_ps(dst + 16 * p + 8, _mm256_maskload_ps(s + p * ldb + 8, m1));
            }
        } else {
            for (long jj = 0; jj < 16; jj++) {
                const float *s = b + (jp + jj) * ldb;
                for (long p = 0; p < kc; p++) dst[16 * p + jj] = jj < w ? s[p] : 0.0f;
            }
        }
    }
}
#endif // GB_X86

// ---------------------------------------------------------------------------------------------
// Portable fallback: 4 × 8 tile in plain C (the compiler vectorises the j loops with SSE2/NEON).
// ---------------------------------------------------------------------------------------------
#define KG_MR 4
#define KG_NR 8

#define KG_BODY(AEXPR, ADVANCE)                                                                \
    float acc[KG_MR][KG_NR] = {{0}};                                                           \
    for (long p = 0; p < kc; p++) {                                                            \
        GB_UNROLL for (int i = 0; i < KG_MR; i++) {                                            \
            const float ai = AEXPR;                                                            \
            GB_UNROLL for (int j = 0; j < KG_NR; j++) acc[i][j] += ai * bp[j];                 \
        }                                                                                      \
        bp += KG_NR;                                                                           \
        ADVANCE;                                                                               \
    }                                                                                          \
    for (int i = 0; i < mr; i++) {                                                             \
        float *r = c + i * ldc;                                                                \
        for (int j = 0; j < nr; j++)                                                           \
            r[j] = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * r[j];         \
    }

static void kg_rows(long kc, const float *a, long stride, const float *bp, float *c, long ldc,
                    long mr, long nr, float alpha, float beta) {
    KG_BODY(a[i * stride], a += 1)
}

static void kg_cols(long kc, const float *a, long stride, const float *bp, float *c, long ldc,
                    long mr, long nr, float alpha, float beta) {
    KG_BODY(a[i], a += stride)
}

static void pack_bg(long kc, long nc, const float *b, long ldb, int trans, float *dst) {
    for (long jp = 0; jp < nc; jp += KG_NR, dst += KG_NR * kc) {
        const long w = GB_MIN(KG_NR, nc - jp);
        for (long p = 0; p < kc; p++)
            for (long jj = 0; jj < KG_NR; jj++)
                dst[KG_NR * p + jj] = jj < w ? (trans ? b[(jp + jj) * ldb + p] : b[p * ldb + jp + jj]) : 0.0f;
    }
}

// ---------------------------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------------------------
//
// Cache blocks for AVX-512 (per core on the Zen 5 reference machine: 48 KiB L1d, 1 MiB L2; the
// same ratios hold on recent Intel cores):
//   KC = 256: the KC × 32 B micro-panel (32 KiB) stays in L1 while the A strips stream past it,
//        and 256 k steps amortise loading and storing the C tile ~20×.
//   MC = 240: the MC × KC A block (240 KiB) sits in L2 next to the streaming B panels, and is
//        reused once per 32 columns.
//   NC = 4096: the packed KC × NC B block (4 MiB) is reused once per MC rows from L2/L3; the
//        bound keeps per-thread scratch ≤ 4.3 MiB.
// The AVX2 and portable blocks are scaled to their smaller tiles. Measured on the reference
// machine, KC 256–512 and MC 144–384 were all within noise of each other.
// Kernel families by gb_cpu.h path (GB_ISA_GENERIC, GB_ISA_AVX2, GB_ISA_AVX512); arm64's NEON
// path runs the portable kernel, which the compiler vectorises to NEON.
#define GB_GEMM_FAMILIES 3

static gb_arch gb_archs[GB_GEMM_FAMILIES];
static pthread_once_t gb_arch_once = PTHREAD_ONCE_INIT;

static void gb_arch_init(void) {
    gb_archs[GB_ISA_GENERIC] = (gb_arch){"generic", KG_MR, KG_NR, 128, 256, 1024,
                                         kg_rows, kg_cols, NULL, NULL, pack_bg};
    gb_archs[GB_ISA_AVX2] = gb_archs[GB_ISA_AVX512] = gb_archs[GB_ISA_GENERIC];
#if GB_X86
    gb_archs[GB_ISA_AVX2] = (gb_arch){"avx2+fma", 6, 16, 144, 256, 2048,
                                      k256_rows, k256_cols, NULL, NULL, pack_b256};
    gb_archs[GB_ISA_AVX512] = (gb_arch){"avx512f", 12, 32, 240, 256, 4096,
                                        k512_rows, k512_cols, k512_rows_half, k512_cols_half, pack_b512};
#endif
}

static const gb_arch *gb_arch_for(int isa) {
    pthread_once(&gb_arch_once, gb_arch_init);
    return &gb_archs[isa == GB_ISA_AVX2 || isa == GB_ISA_AVX512 ? isa : GB_ISA_GENERIC];
}

static const gb_arch *gb_arch_get(void) { return gb_arch_for(gb_cpu_isa()); }

void gb_sgemm_tile(long *mr, long *nr) {
    const gb_arch *g = gb_arch_get();
    *mr = g->mr;
    *nr = g->nr;
}

const char *gb_sgemm_isa(void) { return gb_arch_get()->name; }

// ---------------------------------------------------------------------------------------------
// Per-thread scratch: grown on demand and kept for the thread's lifetime (the key's destructor
// frees it at thread exit), so steady-state calls never allocate.
// ---------------------------------------------------------------------------------------------
static pthread_key_t gb_scratch_key;
static pthread_once_t gb_scratch_once = PTHREAD_ONCE_INIT;
static _Thread_local float *gb_scratch_ptr;
static _Thread_local size_t gb_scratch_cap;

static void gb_scratch_key_init(void) { pthread_key_create(&gb_scratch_key, free); }

static float *gb_scratch(size_t floats) {
    if (floats <= gb_scratch_cap) return gb_scratch_ptr;
    pthread_once(&gb_scratch_once, gb_scratch_key_init);
    free(gb_scratch_ptr);
    gb_scratch_ptr = NULL;
    gb_scratch_cap = 0;
    void *p = NULL;
    if (posix_memalign(&p, 64, floats * sizeof(float)) != 0) abort();
    gb_scratch_ptr = p;
    gb_scratch_cap = floats;
    pthread_setspecific(gb_scratch_key, p);
    return gb_scratch_ptr;
}

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------
static void gb_scale(float beta, float *c, long ldc, long r0, long r1, long c0, long c1) {
    for (long i = r0; i < r1; i++) {
        float *r = c + i * ldc;
        if (beta == 0.0f) {
            memset(r + c0, 0, (size_t)(c1 - c0) * sizeof(float));
        } else {
            for (long j = c0; j < c1; j++) r[j] *= beta;
        }
    }
}

// Whether reading MR rows of plain A in place puts more than two distinct cache lines of them
// into one L1 set (48 KiB, 12 ways → 64 sets of 64 B: rows 4 KiB apart all collide, 1 KiB apart
// three to a set). Then the A block is copied to a buffer whose row stride is an odd number of
// cache lines.
static int gb_rows_collide(long lda, long mr) {
    int seen[64] = {0};
    long previous = -1;
    for (long i = 0; i < mr; i++) {
        const long line = (i * lda * (long)sizeof(float)) >> 6;
        if (line == previous) continue;  // rows sharing a line (tiny lda) cost nothing extra
        previous = line;
        if (++seen[line & 63] > 2) return 1;
    }
    return 0;
}

static void gb_sgemm_arch(const gb_arch *g, int trans_a, int trans_b, long k, float alpha,
                          const float *a, long lda, const float *b, long ldb, float beta,
                          float *c, long ldc, long row_begin, long row_end, long col_begin,
                          long col_end) {
    if (row_begin >= row_end || col_begin >= col_end) return;
    if (k <= 0 || alpha == 0.0f) {
        gb_scale(beta, c, ldc, row_begin, row_end, col_begin, col_end);
        return;
    }
    const long MR = g->mr, NR = g->nr;

    // Equal k blocks: a function of k alone, so the summation order of every element is fixed.
    const long kblocks = (k + g->kc - 1) / g->kc;
    const long KC = (k + kblocks - 1) / kblocks;
    const long NC = GB_MIN(g->nc, (col_end - col_begin + NR - 1) / NR * NR);
    const long MC = GB_MIN(g->mc, (row_end - row_begin + MR - 1) / MR * MR);

    const int copy_a = !trans_a && gb_rows_collide(lda, MR);
    const long astride = (KC + 15) / 16 * 16 + 16;  // whole lines + 1: an odd number of lines
    float *bpack = gb_scratch((size_t)(KC * NC + (copy_a ? MC * astride : MR * KC)));
    float *abuf = bpack + KC * NC;

    // A(i, p) = a[i * a_rs + p * a_cs]: plain A is walked along rows, Aᵀ along columns.
    const long a_rs = trans_a ? 1 : lda, a_cs = trans_a ? lda : 1;

    for (long jc = col_begin; jc < col_end; jc += NC) {
        const long nc = GB_MIN(NC, col_end - jc);
        for (long pc = 0; pc < k; pc += KC) {
            const long kc = GB_MIN(KC, k - pc);
            const float beta_eff = pc == 0 ? beta : 1.0f;  // later k blocks accumulate
            g->pack_b(kc, nc, trans_b ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, trans_b, bpack);
            for (long ic = row_begin; ic < row_end; ic += MC) {
                const long mc = GB_MIN(MC, row_end - ic);
                const float *ablock = a + ic * a_rs + pc * a_cs;
                // `strips` MR-row strips are read from (astrip, astep) with the rows or cols
                // kernel; without the copy, a partial last strip comes from abuf instead.
                const float *astrip;
                long astep, strips;
                int rows_layout;
                if (copy_a) {
                    // Rows mc..<round_up(mc, MR) are zero, so the last strip needs no special case.
                    strips = (mc + MR - 1) / MR;
                    for (long i = 0; i < strips * MR; i++) {
                        float *d = abuf + i * astride;
                        if (i < mc) memcpy(d, ablock + i * lda, (size_t)kc * sizeof(float));
                        else memset(d, 0, (size_t)kc * sizeof(float));
                    }
                    astrip = abuf, astep = astride, rows_layout = 1;
                } else {
                    strips = mc / MR;
                    if (mc % MR) {
                        // Zero-padded MR × kc strip in the cols layout: abuf[p * MR + i].
                        const long tail = mc % MR;
                        const float *src = ablock + strips * MR * a_rs;
                        if (trans_a) {
                            for (long p = 0; p < kc; p++) {
                                float *d = abuf + p * MR;
                                const float *r = src + p * lda;
                                for (long i = 0; i < tail; i++) d[i] = r[i];
                                for (long i = tail; i < MR; i++) d[i] = 0.0f;
                            }
                        } else {
                            memset(abuf, 0, (size_t)(MR * kc) * sizeof(float));
                            for (long i = 0; i < tail; i++)
                                for (long p = 0; p < kc; p++) abuf[p * MR + i] = src[i * lda + p];
                        }
                    }
                    astrip = ablock, astep = lda, rows_layout = !trans_a;
                }
                for (long jr = 0; jr < nc; jr += NR) {
                    const long nr = GB_MIN(NR, nc - jr);
                    const int half = g->rows_half && nr <= NR / 2;
                    const gb_kernel_fn krows = half ? g->rows_half : g->rows;
                    const gb_kernel_fn kcols = half ? g->cols_half : g->cols;
                    const gb_kernel_fn kernel = rows_layout ? krows : kcols;
                    const float *bp = bpack + jr * kc;
                    float *cc = c + ic * ldc + jc + jr;
                    for (long s = 0; s < strips; s++) {
                        const long ir = s * MR;
                        kernel(kc, astrip + ir * (rows_layout ? astep : 1), astep, bp, cc + ir * ldc,
                               ldc, GB_MIN(MR, mc - ir), nr, alpha, beta_eff);
                    }
                    if (!copy_a && mc % MR) {
                        const long ir = strips * MR;
                        kcols(kc, abuf, MR, bp, cc + ir * ldc, ldc, mc - ir, nr, alpha, beta_eff);
                    }
                }
            }
        }
    }
}

void gb_sgemm(int trans_a, int trans_b, long k, float alpha, const float *a, long lda,
              const float *b, long ldb, float beta, float *c, long ldc,
              long row_begin, long row_end, long col_begin, long col_end) {
    gb_sgemm_arch(gb_arch_get(), trans_a, trans_b, k, alpha, a, lda, b, ldb, beta, c, ldc,
                  row_begin, row_end, col_begin, col_end);
}

int gb_sgemm_variant(int isa, long mc, long kc, long nc, int trans_a, int trans_b, long m, long n,
                     long k, float alpha, const float *a, long lda, const float *b, long ldb,
                     float beta, float *c, long ldc) {
    if (isa < 0 || isa >= GB_GEMM_FAMILIES || !gb_cpu_isa_supported(isa)) return 0;
    gb_arch g = *gb_arch_for(isa);
    if (mc > 0) g.mc = GB_MAX(1, mc / g.mr) * g.mr;
    if (kc > 0) g.kc = kc;
    if (nc > 0) g.nc = GB_MAX(1, nc / g.nr) * g.nr;
    gb_sgemm_arch(&g, trans_a, trans_b, k, alpha, a, lda, b, ldb, beta, c, ldc, 0, m, 0, n);
    return 1;
}

// ---------------------------------------------------------------------------------------------
// Multi-threaded entry: split C into per-task regions and run them on the gb_parallel_for pool.
// ---------------------------------------------------------------------------------------------

// Below this many FLOP per task (≈ 8 µs on one AVX-512 core) a split saves less than the
// hand-off costs: ≈ 1 µs to spinning workers, and a sleeping worker arrives too late to help.
#define GB_MIN_FLOPS_PER_TASK 1500000.0

typedef struct {
    long tasks, tiles, tile;
    int split_cols;
} gb_split_plan;

// A 1-D split at tile boundaries. Columns are preferred: each task then packs only its own part
// of op(B) and all tasks read A in place, so nothing is packed twice. Rows are split instead when
// there are too few column tiles to share evenly (skinny outputs such as im2col convolutions with
// 16–32 channels), at the price of each task packing the (then narrow) op(B) in full.
static gb_split_plan gb_plan(long m, long n, long k, long threads) {
    const gb_arch *g = gb_arch_get();
    const double flops = 2.0 * (double)m * (double)n * (double)GB_MAX(k, 1);
    const long col_tiles = (n + g->nr - 1) / g->nr, row_tiles = (m + g->mr - 1) / g->mr;
    long tasks = (long)GB_MIN((double)threads, flops / GB_MIN_FLOPS_PER_TASK);
    tasks = GB_MAX(1, GB_MIN(tasks, GB_MAX(col_tiles, row_tiles)));
    // Largest per-task share relative to a perfect split, for each direction.
    const double col_imbalance = (double)((col_tiles + tasks - 1) / tasks * tasks) / (double)col_tiles;
    const double row_imbalance = (double)((row_tiles + tasks - 1) / tasks * tasks) / (double)row_tiles;
    gb_split_plan p;
    p.tasks = tasks;
    p.split_cols = col_imbalance <= row_imbalance * 1.1;
    p.tiles = p.split_cols ? col_tiles : row_tiles;
    p.tile = p.split_cols ? g->nr : g->mr;
    return p;
}

static void gb_plan_region(const gb_split_plan *p, long m, long n, long task, long region[4]) {
    const long extent = p->split_cols ? n : m;
    const long lo = GB_MIN(extent, p->tiles * task / p->tasks * p->tile);
    const long hi = GB_MIN(extent, p->tiles * (task + 1) / p->tasks * p->tile);
    region[0] = p->split_cols ? 0 : lo;
    region[1] = p->split_cols ? m : hi;
    region[2] = p->split_cols ? lo : 0;
    region[3] = p->split_cols ? hi : n;
}

long gb_sgemm_split(long m, long n, long k, long threads, long task, long region[4]) {
    const gb_split_plan p = gb_plan(m, n, k, threads);
    if (region && task >= 0 && task < p.tasks) gb_plan_region(&p, m, n, task, region);
    return p.tasks;
}

typedef struct {
    int trans_a, trans_b;
    long m, n, k;
    float alpha, beta;
    const float *a, *b;
    float *c;
    long lda, ldb, ldc;
    gb_split_plan plan;
} gb_sgemm_job;

static void gb_sgemm_task(void *ctx, long task) {
    const gb_sgemm_job *j = ctx;
    long r[4];
    gb_plan_region(&j->plan, j->m, j->n, task, r);
    gb_sgemm(j->trans_a, j->trans_b, j->k, j->alpha, j->a, j->lda, j->b, j->ldb, j->beta, j->c,
             j->ldc, r[0], r[1], r[2], r[3]);
}

void gb_sgemm_threaded(int trans_a, int trans_b, long m, long n, long k, float alpha,
                       const float *a, long lda, const float *b, long ldb, float beta,
                       float *c, long ldc, long threads) {
    if (m <= 0 || n <= 0) return;
    gb_sgemm_job job = {trans_a, trans_b, m, n, k, alpha, beta, a, b, c, lda, ldb, ldc,
                        gb_plan(m, n, k, threads)};
    if (job.plan.tasks == 1) {
        gb_sgemm(trans_a, trans_b, k, alpha, a, lda, b, ldb, beta, c, ldc, 0, m, 0, n);
        return;
    }
    gb_parallel_for(job.plan.tasks, threads, gb_sgemm_task, &job);
}
