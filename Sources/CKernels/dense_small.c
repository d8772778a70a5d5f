// Narrow dense layers and masked first layers (see include/gb_dense.h for the contracts).

// Paths: AVX-512 (16 features or outputs per zmm), AVX2 + FMA (the same 16-lane arithmetic
// in pairs of ymm), NEON (quads of q registers) and generic C written for the vectoriser. All
// perform each output's operations in the same order, so the fused paths agree bit for bit.

#include "gb_dispatch.h"

#define DK_MIN(x, y) ((x) < (y) ? (x) : (y))
#define DK_UNROLL GB_UNROLL
#define DK_INLINE GB_INLINE
#define DK_X86 GB_X86

DK_INLINE float dk_activate(float v, int act, float slope) {
    if (act == GB_ACT_RELU) return v > 0.0f ? v : 0.0f;
    if (act == GB_ACT_LEAKY_RELU) return v > 0.0f ? v : slope * v;
    return v;
}

// ---------------------------------------------------------------------------------------------
// Narrow dense layer
// ---------------------------------------------------------------------------------------------

long gb_dense_narrow_packed_size(long k, long og) { return og * ((k + 15) / 16) * 16; }

void gb_dense_narrow_pack(const float *w, long k, long og, float *dst) {
    const long kp = (k + 15) / 16 * 16;
    for (long o = 0; o < og; o++)
        for (long c = 0; c < kp; c++) dst[o * kp + c] = c < k ? w[o * k + c] : 0.0f;
}

int gb_dense_narrow_preferred(long k, long og) {
    return og > 0 && og < 16 && og * ((k + 15) / 16 + 3) < k;
}

// The portable version: the vector kernels' 16 lanes (four gb_v4) and reduction tree, one
// (row, output) pair at a time.
static void narrow_generic(long rows, long k, long og, const float *x, long x_rs, const float *w,
                           const float *bias, int act, float slope, float *y, long y_rs) {
    const long blocks = (k + 15) / 16, kp = blocks * 16, tail = kp - 16, rem = k - tail;
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * x_rs;
        // The last block's features, zero beyond k (x may end there).
        float xt[16];
        for (int l = 0; l < 16; l++) xt[l] = l < rem ? xr[tail + l] : 0.0f;
        for (long o = 0; o < og; o++) {
            const float *wo = w + o * kp;
            gb_v4 acc[4];
            const float *x0 = blocks == 1 ? xt : xr;
            DK_UNROLL for (int v = 0; v < 4; v++) acc[v] = gb_v4_load(x0 + 4 * v) * gb_v4_load(wo + 4 * v);
            if (blocks > 1) {
                for (long c = 16; c < tail; c += 16) {
                    DK_UNROLL for (int v = 0; v < 4; v++)
                        acc[v] = gb_v4_fma(gb_v4_load(xr + c + 4 * v), gb_v4_load(wo + c + 4 * v), acc[v]);
                }
                DK_UNROLL for (int v = 0; v < 4; v++) acc[v] = gb_v4_fma(gb_v4_load(xt + 4 * v), gb_v4_load(wo + tail + 4 * v), acc[v]);
            }
            float p[16];
            DK_UNROLL for (int v = 0; v < 4; v++) gb_v4_store(p + 4 * v, acc[v]);
            for (int j = 0; j < 8; j++) p[j] = p[j] + p[j + 8];
            for (int j = 0; j < 4; j++) p[j] = p[j] + p[j + 4];
            for (int j = 0; j < 2; j++) p[j] = p[j] + p[j + 2];
            float v = p[0] + p[1];
            if (bias) v += bias[o];
            y[r * y_rs + o] = dk_activate(v, act, slope);
        }
    }
}

#if DK_X86
#define DK_AVX512 GB_AVX512

DK_INLINE __mmask16 dk_mask(long w) {
    return w >= 16 ? (__mmask16)0xFFFF : w <= 0 ? (__mmask16)0 : (__mmask16)((1u << w) - 1u);
}

// Lane i of the result is the sum of p[i]'s 16 lanes, by the tree (j, j+8), (j, j+4), (j, j+2),
// (j, j+1). Cost: 15 additions and 30 shuffles for 16 sums, plus one permute.
DK_AVX512 DK_INLINE __m512 dk_reduce16(const __m512 p[16]) {
    __m512 q[8], r[4], s[2];
    DK_UNROLL for (int j = 0; j < 8; j++)  // [row 2j: lanes j + (j+8) | row 2j+1: …]
        q[j] = _mm512_add_ps(_mm512_shuffle_f32x4(p[2 * j], p[2 * j + 1], 0x44),
                             _mm512_shuffle_f32x4(p[2 * j], p[2 * j + 1], 0xEE));
    DK_UNROLL for (int j = 0; j < 4; j++)  // 128-bit groups: rows 4j … 4j+3, 4 partial sums each
        r[j] = _mm512_add_ps(_mm512_shuffle_f32x4(q[2 * j], q[2 * j + 1], 0x88),
                             _mm512_shuffle_f32x4(q[2 * j], q[2 * j + 1], 0xDD));
    DK_UNROLL for (int j = 0; j < 2; j++)  // group g: [row 8j+g: 2 sums | row 8j+4+g: 2 sums]
        s[j] = _mm512_add_ps(_mm512_shuffle_ps(r[2 * j], r[2 * j + 1], 0x44),
                             _mm512_shuffle_ps(r[2 * j], r[2 * j + 1], 0xEE));
    // Group g: rows g, 4+g, 8+g, 12+g; lane 4g + m holds row g + 4m.
    const __m512 f = _mm512_add_ps(_mm512_shuffle_ps(s[0], s[1], 0x88), _mm512_shuffle_ps(s[0], s[1], 0xDD));
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm512_permutexvar_ps(order, f);
}

// p[i] = Σ_blocks x_i,block ⊙ w_block for the 16 rows of a tile (rows ≥ mr are zero when the
// tile is partial).
DK_AVX512 DK_INLINE void narrow512_lanes(const int full, long mr, long blocks, __mmask16 last, const float *x,
                                         long x_rs, const float *wo, __m512 p[16]) {
    DK_UNROLL for (int i = 0; i < 16; i++) {
        if (!full && i >= mr) {
            p[i] = _mm512_setzero_ps();
            continue;
        }
        const float *xi = x + i * x_rs;
        const long tail = 16 * (blocks - 1);
        if (blocks == 1) {
            p[i] = _mm512_mul_ps(_mm512_maskz_loadu_ps(last, xi), _mm512_loadu_ps(wo));
        } else {
            __m512 acc = _mm512_mul_ps(_mm512_loadu_ps(xi), _mm512_loadu_ps(wo));
            for (long c = 16; c < tail; c += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(xi + c), _mm512_loadu_ps(wo + c), acc);
            p[i] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(last, xi + tail), _mm512_loadu_ps(wo + tail), acc);
        }
    }
}

// og ∈ {1, 2, 4, 8} outputs stored densely (y_rs = og): 16/og rows' (row, output) pairs share
// one reduction tree, whose lanes are then the pairs in row-major order — one vector store per
// 16/og rows instead of a scatter per output.
DK_AVX512 DK_INLINE void narrow512_packed(const int OG, long rows, long k, const float *x, long x_rs,
                                          const float *w, const float *bias, int act, float slope, float *y) {
    const int G = 16 / OG;
    const long blocks = (k + 15) / 16, kp = blocks * 16, tail = 16 * (blocks - 1);
    const __mmask16 last = dk_mask(k - tail);
    const __m512 zero = _mm512_setzero_ps(), vslope = _mm512_set1_ps(slope);
    float pattern[16];
    for (int q = 0; q < 16; q++) pattern[q] = bias ? bias[q % OG] : 0.0f;
    const __m512 vbias = _mm512_loadu_ps(pattern);
    for (long r0 = 0; r0 < rows; r0 += G) {
        const long mr = DK_MIN(G, rows - r0);
        __m512 p[16];
        DK_UNROLL for (int i = 0; i < G; i++) {
            if (i >= mr) {
                DK_UNROLL for (int o = 0; o < OG; o++) p[i * OG + o] = zero;
                continue;
            }
            const float *xi = x + (r0 + i) * x_rs;
            const __m512 x0 = blocks == 1 ? _mm512_maskz_loadu_ps(last, xi) : _mm512_loadu_ps(xi);
            DK_UNROLL for (int o = 0; o < OG; o++) p[i * OG + o] = _mm512_mul_ps(x0, _mm512_loadu_ps(w + o * kp));
            for (long c = 16; c < kp; c += 16) {
                const __m512 xc = c == tail ? _mm512_maskz_loadu_ps(last, xi + c) : _mm512_loadu_ps(xi + c);
                DK_UNROLL for (int o = 0; o < OG; o++)
                    p[i * OG + o] = _mm512_fmadd_ps(xc, _mm512_loadu_ps(w + o * kp + c), p[i * OG + o]);
            }
        }
        __m512 v = dk_reduce16(p);
        if (bias) v = _mm512_add_ps(v, vbias);
        if (act == GB_ACT_RELU) v = _mm512_max_ps(v, zero);
        else if (act == GB_ACT_LEAKY_RELU)
            v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), _mm512_mul_ps(vslope, v), v);
        if (mr == G) _mm512_storeu_ps(y + r0 * OG, v);
        else _mm512_mask_storeu_ps(y + r0 * OG, dk_mask(mr * OG), v);
    }
}

// narrow512_packed for a depth of BLOCKS·16 or less known at compile time (a head after a hidden
// layer of up to 64 units), two trees per iteration: the weights stay in registers, the
// per-row loop over blocks unrolls, and the two reductions overlap. The same arithmetic, so the
// same bits. Rows beyond the last whole pair of trees go to narrow512_packed.
DK_AVX512 DK_INLINE void narrow512_fixed(const int OG, const int BLOCKS, long rows, long k, const float *x, long x_rs,
                                         const float *w, const float *bias, int act, float slope, float *y) {
    const int G = 16 / OG;
    const long kp = BLOCKS * 16, tail = 16 * (BLOCKS - 1);
    const __mmask16 last = dk_mask(k - tail);
    __m512 wv[8][4];
    DK_UNROLL for (int o = 0; o < OG; o++) {
        DK_UNROLL for (int b = 0; b < BLOCKS; b++) wv[o][b] = _mm512_loadu_ps(w + o * kp + 16 * b);
    }
    float pattern[16];
    for (int q = 0; q < 16; q++) pattern[q] = bias ? bias[q % OG] : 0.0f;
    const __m512 vbias = _mm512_loadu_ps(pattern), zero = _mm512_setzero_ps(), vslope = _mm512_set1_ps(slope);
    long r0 = 0;
    for (; r0 + 2 * G <= rows; r0 += 2 * G) {
        __m512 p[2][16];
        DK_UNROLL for (int t = 0; t < 2; t++) {
            DK_UNROLL for (int i = 0; i < G; i++) {
                const float *xi = x + (r0 + t * G + i) * x_rs;
                __m512 xb[4];
                DK_UNROLL for (int b = 0; b < BLOCKS; b++)
                    xb[b] = b == BLOCKS - 1 ? _mm512_maskz_loadu_ps(last, xi + 16 * b) : _mm512_loadu_ps(xi + 16 * b);
                DK_UNROLL for (int o = 0; o < OG; o++) {
                    __m512 acc = _mm512_mul_ps(xb[0], wv[o][0]);
                    DK_UNROLL for (int b = 1; b < BLOCKS; b++) acc = _mm512_fmadd_ps(xb[b], wv[o][b], acc);
                    p[t][i * OG + o] = acc;
                }
            }
        }
        DK_UNROLL for (int t = 0; t < 2; t++) {
            __m512 v = dk_reduce16(p[t]);
            if (bias) v = _mm512_add_ps(v, vbias);
            if (act == GB_ACT_RELU) v = _mm512_max_ps(v, zero);
            else if (act == GB_ACT_LEAKY_RELU)
                v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), _mm512_mul_ps(vslope, v), v);
            _mm512_storeu_ps(y + (r0 + t * G) * OG, v);
        }
    }
    if (r0 < rows) narrow512_packed(OG, rows - r0, k, x + r0 * x_rs, x_rs, w, bias, act, slope, y + r0 * OG);
}

DK_AVX512 static void narrow512(long rows, long k, long og, const float *x, long x_rs,
                                const float *w, const float *bias, int act, float slope, float *y,
                                long y_rs) {
    const long nblocks = (k + 15) / 16;
    // Registers: OG·BLOCKS ≤ 8 weight vectors beside the two trees' 32 partial products.
    if (y_rs == og && og <= 2 && nblocks <= 4) {
        switch (og * 8 + nblocks) {
        case 9: narrow512_fixed(1, 1, rows, k, x, x_rs, w, bias, act, slope, y); return;
        case 10: narrow512_fixed(1, 2, rows, k, x, x_rs, w, bias, act, slope, y); return;
        case 11: narrow512_fixed(1, 3, rows, k, x, x_rs, w, bias, act, slope, y); return;
        case 12: narrow512_fixed(1, 4, rows, k, x, x_rs, w, bias, act, slope, y); return;
        case 17: narrow512_fixed(2, 1, rows, k, x, x_rs, w, bias, act, slope, y); return;
        case 18: narrow512_fixed(2, 2, rows, k, x, x_rs, w, bias, act, slope, y); return;
        case 19: narrow512_fixed(2, 3, rows, k, x, x_rs, w, bias, act, slope, y); return;
        case 20: narrow512_fixed(2, 4, rows, k, x, x_rs, w, bias, act, slope, y); return;
        default: break;
        }
    }
    if (y_rs == og) {
        switch (og) {
        case 1: narrow512_packed(1, rows, k, x, x_rs, w, bias, act, slope, y); return;
        case 2: narrow512_packed(2, rows, k, x, x_rs, w, bias, act, slope, y); return;
        case 4: narrow512_packed(4, rows, k, x, x_rs, w, bias, act, slope, y); return;
        case 8: narrow512_packed(8, rows, k, x, x_rs, w, bias, act, slope, y); return;
        default: break;
        }
    }
    const long blocks = (k + 15) / 16, kp = blocks * 16;
    const __mmask16 last = dk_mask(k - 16 * (blocks - 1));
    const __m512 zero = _mm512_setzero_ps(), vslope = _mm512_set1_ps(slope);
    for (long r0 = 0; r0 < rows; r0 += 16) {
        const long mr = DK_MIN(16, rows - r0);
        const float *xt = x + r0 * x_rs;
        for (long o = 0; o < og; o++) {
            __m512 p[16];
            if (mr == 16) narrow512_lanes(1, 16, blocks, last, xt, x_rs, w + o * kp, p);
            else narrow512_lanes(0, mr, blocks, last, xt, x_rs, w + o * kp, p);
            __m512 v = dk_reduce16(p);
            if (bias) v = _mm512_add_ps(v, _mm512_set1_ps(bias[o]));
            if (act == GB_ACT_RELU) v = _mm512_max_ps(v, zero);
            else if (act == GB_ACT_LEAKY_RELU)
                v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), _mm512_mul_ps(vslope, v), v);
            // Lane i is row r0 + i: a strided scatter of the valid lanes.
            const __m512i rowsAt = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                                      _mm512_set1_epi32((int)y_rs));
            _mm512_mask_i32scatter_ps(y + r0 * y_rs + o, dk_mask(mr), rowsAt, v, 4);
        }
    }
}
#endif

#if DK_X86
// ---- AVX2 + FMA: one (row, output) pair's 16 lanes are two ymm, lo = lanes 0–7, hi = 8–15. ----
//
// Eight pairs, taken in row-major (row, output) order, share one reduction: per pair
// s = lo + hi (the tree's (j, j+8) step), then 8 × 8 sums are transposed and reduced by
// (j, j+4), (j, j+2), (j, j+1) into one vector whose lane q is pair q. With y_rs = og the pairs
// are consecutive floats of y, so the 8 results go out in one store. Registers: 8 sums, 2
// accumulators, 2 features and the weights streamed from L1.

GB_AVX2 DK_INLINE __m256i dk256_mask(long n) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 0 ? 0 : n > 8 ? 8 : n)), idx);
}

// Σ_blocks x_block ⊙ w_block for one pair, lanes folded (j, j+8): 8 lanes.
GB_AVX2 DK_INLINE __m256 dk256_pair(const float *xi, const float *wo, long blocks, __m256i last_lo, __m256i last_hi) {
    const long tail = 16 * (blocks - 1);
    __m256 lo, hi;
    if (blocks == 1) {
        lo = _mm256_mul_ps(_mm256_maskload_ps(xi, last_lo), _mm256_loadu_ps(wo));
        hi = _mm256_mul_ps(_mm256_maskload_ps(xi + 8, last_hi), _mm256_loadu_ps(wo + 8));
    } else {
        lo = _mm256_mul_ps(_mm256_loadu_ps(xi), _mm256_loadu_ps(wo));
        hi = _mm256_mul_ps(_mm256_loadu_ps(xi + 8), _mm256_loadu_ps(wo + 8));
        for (long c = 16; c < tail; c += 16) {
            lo = _mm256_fmadd_ps(_mm256_loadu_ps(xi + c), _mm256_loadu_ps(wo + c), lo);
            hi = _mm256_fmadd_ps(_mm256_loadu_ps(xi + c + 8), _mm256_loadu_ps(wo + c + 8), hi);
        }
        lo = _mm256_fmadd_ps(_mm256_maskload_ps(xi + tail, last_lo), _mm256_loadu_ps(wo + tail), lo);
        hi = _mm256_fmadd_ps(_mm256_maskload_ps(xi + tail + 8, last_hi), _mm256_loadu_ps(wo + tail + 8), hi);
    }
    return _mm256_add_ps(lo, hi);
}

// Lane q of the result is the (j, j+4), (j, j+2), (j, j+1) tree over s[q]'s 8 lanes.
GB_AVX2 DK_INLINE __m256 dk256_reduce8(const __m256 s[8]) {
    __m256 t[4], u[2];
    DK_UNROLL for (int j = 0; j < 4; j++)  // [row 2j: 4 sums | row 2j+1: 4 sums]
        t[j] = _mm256_add_ps(_mm256_permute2f128_ps(s[2 * j], s[2 * j + 1], 0x20),
                             _mm256_permute2f128_ps(s[2 * j], s[2 * j + 1], 0x31));
    DK_UNROLL for (int j = 0; j < 2; j++)  // [4j: 2, 4j+2: 2 | 4j+1: 2, 4j+3: 2]
        u[j] = _mm256_add_ps(_mm256_shuffle_ps(t[2 * j], t[2 * j + 1], 0x44),
                             _mm256_shuffle_ps(t[2 * j], t[2 * j + 1], 0xEE));
    // [0, 2, 4, 6 | 1, 3, 5, 7]
    const __m256 f = _mm256_add_ps(_mm256_shuffle_ps(u[0], u[1], 0x88), _mm256_shuffle_ps(u[0], u[1], 0xDD));
    return _mm256_permutevar8x32_ps(f, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

GB_AVX2 static void narrow256(long rows, long k, long og, const float *x, long x_rs, const float *w,
                              const float *bias, int act, float slope, float *y, long y_rs) {
    const long blocks = (k + 15) / 16, kp = blocks * 16, rem = k - 16 * (blocks - 1);
    const __m256i last_lo = dk256_mask(rem), last_hi = dk256_mask(rem - 8);
    const __m256 zero = _mm256_setzero_ps(), vslope = _mm256_set1_ps(slope);
    const long pairs = rows * og;
    // Pair q0's output index, carried from chunk to chunk.
    long r = 0, o = 0;
    for (long q0 = 0; q0 < pairs; q0 += 8) {
        const long n = DK_MIN(8, pairs - q0);
        __m256 s[8];
        float vb[8];
        long rr = r, oo = o;
        DK_UNROLL for (int l = 0; l < 8; l++) {
            if (l < n) {
                s[l] = dk256_pair(x + rr * x_rs, w + oo * kp, blocks, last_lo, last_hi);
                vb[l] = bias ? bias[oo] : 0.0f;
                if (++oo == og) oo = 0, rr++;
            } else {
                s[l] = zero;
                vb[l] = 0.0f;
            }
        }
        __m256 v = dk256_reduce8(s);
        if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(vb));
        if (act == GB_ACT_RELU) v = _mm256_max_ps(v, zero);
        else if (act == GB_ACT_LEAKY_RELU)
            v = _mm256_blendv_ps(_mm256_mul_ps(vslope, v), v, _mm256_cmp_ps(v, zero, _CMP_GT_OQ));
        if (y_rs == og) {
            if (n == 8) _mm256_storeu_ps(y + q0, v);
            else _mm256_maskstore_ps(y + q0, dk256_mask(n), v);
        } else {
            float lanes[8];
            _mm256_storeu_ps(lanes, v);
            for (long l = 0; l < n; l++) {
                y[r * y_rs + o] = lanes[l];
                if (++o == og) o = 0, r++;
            }
            continue;
        }
        r = rr, o = oo;
    }
}
#endif

#if GB_ARM64
// ---- NEON: a pair's 16 lanes are four q registers; the tree's first two steps are vector
// additions, the last two scalar (3 additions per pair against k/4 FMAs). ----
static void narrow_neon(long rows, long k, long og, const float *x, long x_rs, const float *w,
                        const float *bias, int act, float slope, float *y, long y_rs) {
    const long blocks = (k + 15) / 16, kp = blocks * 16, tail = kp - 16, rem = k - tail;
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * x_rs;
        float xt[16];
        for (int l = 0; l < 16; l++) xt[l] = l < rem ? xr[tail + l] : 0.0f;
        for (long o = 0; o < og; o++) {
            const float *wo = w + o * kp;
            float32x4_t p[4];
            const float *x0 = blocks == 1 ? xt : xr;
            DK_UNROLL for (int v = 0; v < 4; v++) p[v] = vmulq_f32(vld1q_f32(x0 + 4 * v), vld1q_f32(wo + 4 * v));
            if (blocks > 1) {
                for (long c = 16; c < tail; c += 16) {
                    DK_UNROLL for (int v = 0; v < 4; v++)
                        p[v] = vfmaq_f32(p[v], vld1q_f32(xr + c + 4 * v), vld1q_f32(wo + c + 4 * v));
                }
                DK_UNROLL for (int v = 0; v < 4; v++)
                    p[v] = vfmaq_f32(p[v], vld1q_f32(xt + 4 * v), vld1q_f32(wo + tail + 4 * v));
            }
            const float32x4_t u = vaddq_f32(vaddq_f32(p[0], p[2]), vaddq_f32(p[1], p[3]));
            float v = (vgetq_lane_f32(u, 0) + vgetq_lane_f32(u, 2)) + (vgetq_lane_f32(u, 1) + vgetq_lane_f32(u, 3));
            if (bias) v += bias[o];
            y[r * y_rs + o] = dk_activate(v, act, slope);
        }
    }
}
#endif

static int narrow_run(int isa, long rows, long k, long og, const float *x, long x_rs, const float *w,
                      const float *bias, int act, float slope, float *y, long y_rs) {
    if (!gb_cpu_isa_supported(isa)) return 0;
    if (rows <= 0 || og <= 0) return 1;
    if (k <= 0) {
        for (long r = 0; r < rows; r++)
            for (long o = 0; o < og; o++) y[r * y_rs + o] = dk_activate(bias ? bias[o] : 0.0f, act, slope);
        return 1;
    }
#if DK_X86
    if (isa == GB_ISA_AVX512) {
        narrow512(rows, k, og, x, x_rs, w, bias, act, slope, y, y_rs);
        return 1;
    }
    if (isa == GB_ISA_AVX2) {
        narrow256(rows, k, og, x, x_rs, w, bias, act, slope, y, y_rs);
        return 1;
    }
#endif
#if GB_ARM64
    if (isa == GB_ISA_NEON) {
        narrow_neon(rows, k, og, x, x_rs, w, bias, act, slope, y, y_rs);
        return 1;
    }
#endif
    narrow_generic(rows, k, og, x, x_rs, w, bias, act, slope, y, y_rs);
    return 1;
}

void gb_dense_narrow(long rows, long k, long og, const float *x, long x_rs, const float *w,
                     const float *bias, int activation, float slope, float *y, long y_rs) {
    narrow_run(gb_cpu_isa(), rows, k, og, x, x_rs, w, bias, activation, slope, y, y_rs);
}

int gb_dense_narrow_variant(int isa, long rows, long k, long og, const float *x, long x_rs,
                            const float *w, const float *bias, int activation, float slope,
                            float *y, long y_rs) {
    return narrow_run(isa, rows, k, og, x, x_rs, w, bias, activation, slope, y, y_rs);
}

// ---------------------------------------------------------------------------------------------
// Masked first layer
// ---------------------------------------------------------------------------------------------

// Portable: 4 rows × 16 outputs (four gb_v4) per tile: 16 accumulators, which fill x86-64's 16
// xmm (the weights are reloaded) and 21 of arm64's 32 with the weights. A last partial block of
// outputs goes through zero-padded copies. sign · w is exact.
#define DK_GENERIC_MR 4

DK_INLINE void masked_generic_tile(const int MR, long wn, const float *base, long base_rs, float sign,
                                   const float *delta, long delta_rs, const long *cols, long n, const float *wt,
                                   long wt_rs, int act, float slope, float *out, long out_rs) {
    gb_v4 acc[4][4];
    float pad[16];
    DK_UNROLL for (int i = 0; i < MR; i++) {
        const float *b = base + i * base_rs;
        if (wn < 16) {
            for (int j = 0; j < 16; j++) pad[j] = j < wn ? b[j] : 0.0f;
            b = pad;
        }
        DK_UNROLL for (int v = 0; v < 4; v++) acc[i][v] = gb_v4_load(b + 4 * v);
    }
    const gb_v4 vsign = gb_v4_splat(sign);
    for (long t = 0; t < n; t++) {
        const long c = cols[t];
        const float *w = wt + c * wt_rs;
        if (wn < 16) {
            for (int j = 0; j < 16; j++) pad[j] = j < wn ? w[j] : 0.0f;
            w = pad;
        }
        gb_v4 wv[4];
        DK_UNROLL for (int v = 0; v < 4; v++) wv[v] = vsign * gb_v4_load(w + 4 * v);
        DK_UNROLL for (int i = 0; i < MR; i++) {
            const gb_v4 d = gb_v4_splat(delta[i * delta_rs + c]);
            DK_UNROLL for (int v = 0; v < 4; v++) acc[i][v] = gb_v4_fma(d, wv[v], acc[i][v]);
        }
    }
    DK_UNROLL for (int i = 0; i < MR; i++) {
        float lanes[16];
        DK_UNROLL for (int v = 0; v < 4; v++) gb_v4_store(lanes + 4 * v, acc[i][v]);
        for (long j = 0; j < wn; j++) out[i * out_rs + j] = dk_activate(lanes[j], act, slope);
    }
}

static void masked_generic(long rows, long width, const float *base, long base_rs, float sign,
                           const float *delta, long delta_rs, const long *cols, long n,
                           const float *wt, long wt_rs, int act, float slope, float *out,
                           long out_rs) {
    for (long h0 = 0; h0 < width; h0 += 16) {
        const long wn = DK_MIN(16, width - h0);
        long r0 = 0;
        for (; r0 + DK_GENERIC_MR <= rows; r0 += DK_GENERIC_MR)
            masked_generic_tile(DK_GENERIC_MR, wn, base + r0 * base_rs + h0, base_rs, sign, delta + r0 * delta_rs,
                                delta_rs, cols, n, wt + h0, wt_rs, act, slope, out + r0 * out_rs + h0, out_rs);
        for (; r0 < rows; r0++)
            masked_generic_tile(1, wn, base + r0 * base_rs + h0, base_rs, sign, delta + r0 * delta_rs, delta_rs, cols, n,
                                wt + h0, wt_rs, act, slope, out + r0 * out_rs + h0, out_rs);
    }
}

#if DK_X86
#define DK_MAX_TILE 14
#define DK_PANEL_VECTORS 4

typedef struct {
    const float *base;   // at the tile's first row and the panel's first output
    long base_rs;
    const float *delta;  // at the tile's first row
    long delta_rs;
    const long *cols;
    long n;
    const float *wt;     // at the panel's first output
    long wt_rs;
    float *out;          // at the tile's first row and the panel's first output
    long out_rs;
    __mmask16 last;      // lanes of the panel's last vector
    int negate, act;
    float slope;
    long tiles;          // consecutive tiles of MR rows to compute
} dk_masked_tile;

typedef void (*dk_masked_fn)(const dk_masked_tile *p);

// MR rows × NV vectors of outputs in registers (MR·NV ≤ 28). Per listed column: NV weight
// vectors loaded (negated once for sign −1, which is exact) and MR differences broadcast from
// memory feed MR·NV FMAs. Only a partial last vector uses masked loads and stores (masked
// stores cost several cycles on some CPUs). Loops over p->tiles tiles itself: one call and one
// descriptor read per run of tiles instead of per tile.
// The listed columns' FMAs of one tile; NEGATE (a compile-time constant) flips the weights'
// signs, which is exact.
DK_AVX512 DK_INLINE void masked512_columns(const int MR, const int NV, const int NEGATE, const dk_masked_tile *p,
                                           const float *delta, __m512 acc[DK_MAX_TILE][DK_PANEL_VECTORS]) {
    const __mmask16 last = p->last;
    const int full = last == 0xFFFF;
    const __m512i flip = _mm512_set1_epi32((int)0x80000000u);
    const long n = p->n, wt_rs = p->wt_rs, delta_rs = p->delta_rs;
    for (long t = 0; t < n; t++) {
        const long c = p->cols[t];
        const float *w = p->wt + c * wt_rs;
        __m512 wv[DK_PANEL_VECTORS];
        DK_UNROLL for (int v = 0; v < NV; v++) {
            const __m512 raw = v == NV - 1 && !full ? _mm512_maskz_loadu_ps(last, w + 16 * v) : _mm512_loadu_ps(w + 16 * v);
            wv[v] = NEGATE ? _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(raw), flip)) : raw;
        }
        DK_UNROLL for (int i = 0; i < MR; i++) {
            const __m512 d = _mm512_set1_ps(delta[i * delta_rs + c]);
            DK_UNROLL for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(d, wv[v], acc[i][v]);
        }
    }
}

DK_AVX512 DK_INLINE void masked512(const int MR, const int NV, const dk_masked_tile *p) {
    const long base_rs = p->base_rs, delta_rs = p->delta_rs, out_rs = p->out_rs;
    const __mmask16 last = p->last;
    const int full = last == 0xFFFF, act = p->act, negate = p->negate;
    const __m512 zero = _mm512_setzero_ps(), slope = _mm512_set1_ps(p->slope);
    for (long tile = 0; tile < p->tiles; tile++) {
        const float *base = p->base + tile * MR * base_rs, *delta = p->delta + tile * MR * delta_rs;
        float *out = p->out + tile * MR * out_rs;
        __m512 acc[DK_MAX_TILE][DK_PANEL_VECTORS];
        DK_UNROLL for (int i = 0; i < MR; i++) {
            DK_UNROLL for (int v = 0; v < NV; v++)
                acc[i][v] = v == NV - 1 && !full ? _mm512_maskz_loadu_ps(last, base + i * base_rs + 16 * v)
                                                 : _mm512_loadu_ps(base + i * base_rs + 16 * v);
        }
        if (negate) masked512_columns(MR, NV, 1, p, delta, acc);
        else masked512_columns(MR, NV, 0, p, delta, acc);
        DK_UNROLL for (int i = 0; i < MR; i++) {
            DK_UNROLL for (int v = 0; v < NV; v++) {
                __m512 y = acc[i][v];
                if (act == GB_ACT_RELU) y = _mm512_max_ps(y, zero);
                else if (act == GB_ACT_LEAKY_RELU)
                    y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(y, zero, _CMP_GT_OQ), _mm512_mul_ps(slope, y), y);
                if (v == NV - 1 && !full) _mm512_mask_storeu_ps(out + i * out_rs + 16 * v, last, y);
                else _mm512_storeu_ps(out + i * out_rs + 16 * v, y);
            }
        }
    }
}

#define MASKED512_FN(MR)                                                                             \
    DK_AVX512 static void masked512_##MR##_1(const dk_masked_tile *p) { masked512(MR, 1, p); }      \
    DK_AVX512 static void masked512_##MR##_2(const dk_masked_tile *p) { masked512(MR, 2, p); }      \
    DK_AVX512 static void masked512_##MR##_3(const dk_masked_tile *p) { masked512(MR, 3, p); }      \
    DK_AVX512 static void masked512_##MR##_4(const dk_masked_tile *p) { masked512(MR, 4, p); }
MASKED512_FN(1) MASKED512_FN(2) MASKED512_FN(3) MASKED512_FN(4) MASKED512_FN(5) MASKED512_FN(6)
MASKED512_FN(7) MASKED512_FN(8) MASKED512_FN(9) MASKED512_FN(10) MASKED512_FN(11)
MASKED512_FN(12) MASKED512_FN(13) MASKED512_FN(14)

#define MASKED512_ROW(MR) {masked512_##MR##_1, masked512_##MR##_2, masked512_##MR##_3, masked512_##MR##_4}
// [rows][vectors − 1]
static const dk_masked_fn masked512_table[DK_MAX_TILE + 1][DK_PANEL_VECTORS] = {
    {NULL, NULL, NULL, NULL}, MASKED512_ROW(1), MASKED512_ROW(2), MASKED512_ROW(3), MASKED512_ROW(4),
    MASKED512_ROW(5), MASKED512_ROW(6), MASKED512_ROW(7), MASKED512_ROW(8), MASKED512_ROW(9),
    MASKED512_ROW(10), MASKED512_ROW(11), MASKED512_ROW(12), MASKED512_ROW(13), MASKED512_ROW(14),
};
// Most rows per tile for a panel of v vectors: accumulators within 28 registers.
static const long masked512_rows[DK_PANEL_VECTORS + 1] = {0, 14, 12, 8, 6};

// ---- AVX2 + FMA: MR rows × NV ≤ 4 ymm (32 outputs per panel), MR·NV ≤ 12 accumulators; with
// NV weight vectors and 1 broadcast at most 17 values, the weights folding into the FMAs'
// memory operands when 16 registers run out. Same per-row order as masked512. ----
#define DK256_MAX_TILE 12

typedef struct {
    const float *base;
    long base_rs;
    const float *delta;
    long delta_rs;
    const long *cols;
    long n;
    const float *wt;
    long wt_rs;
    float *out;
    long out_rs;
    long nlast;          // valid outputs in the panel's last vector (1…8)
    int negate, act;
    float slope;
    long tiles;
} dk256_tile;

typedef void (*dk256_fn)(const dk256_tile *p);

GB_AVX2 DK_INLINE void masked256_columns(const int MR, const int NV, const int NEGATE, const dk256_tile *p,
                                         const float *delta, __m256i last, __m256 acc[DK256_MAX_TILE][4]) {
    const int full = p->nlast == 8;
    const __m256 flip = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
    const long n = p->n, wt_rs = p->wt_rs, delta_rs = p->delta_rs;
    for (long t = 0; t < n; t++) {
        const long c = p->cols[t];
        const float *w = p->wt + c * wt_rs;
        __m256 wv[4];
        DK_UNROLL for (int v = 0; v < NV; v++) {
            const __m256 raw = v == NV - 1 && !full ? _mm256_maskload_ps(w + 8 * v, last) : _mm256_loadu_ps(w + 8 * v);
            wv[v] = NEGATE ? _mm256_xor_ps(raw, flip) : raw;
        }
        DK_UNROLL for (int i = 0; i < MR; i++) {
            const __m256 d = _mm256_broadcast_ss(delta + i * delta_rs + c);
            DK_UNROLL for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(d, wv[v], acc[i][v]);
        }
    }
}

GB_AVX2 DK_INLINE void masked256(const int MR, const int NV, const dk256_tile *p) {
    const long base_rs = p->base_rs, delta_rs = p->delta_rs, out_rs = p->out_rs;
    const int full = p->nlast == 8, act = p->act;
    const __m256i last = dk256_mask(p->nlast);
    const __m256 zero = _mm256_setzero_ps(), slope = _mm256_set1_ps(p->slope);
    for (long tile = 0; tile < p->tiles; tile++) {
        const float *base = p->base + tile * MR * base_rs, *delta = p->delta + tile * MR * delta_rs;
        float *out = p->out + tile * MR * out_rs;
        __m256 acc[DK256_MAX_TILE][4];
        DK_UNROLL for (int i = 0; i < MR; i++) {
            DK_UNROLL for (int v = 0; v < NV; v++)
                acc[i][v] = v == NV - 1 && !full ? _mm256_maskload_ps(base + i * base_rs + 8 * v, last)
                                                 : _mm256_loadu_ps(base + i * base_rs + 8 * v);
        }
        if (p->negate) masked256_columns(MR, NV, 1, p, delta, last, acc);
        else masked256_columns(MR, NV, 0, p, delta, last, acc);
        DK_UNROLL for (int i = 0; i < MR; i++) {
            DK_UNROLL for (int v = 0; v < NV; v++) {
                __m256 y = acc[i][v];
                if (act == GB_ACT_RELU) y = _mm256_max_ps(y, zero);
                else if (act == GB_ACT_LEAKY_RELU)
                    y = _mm256_blendv_ps(_mm256_mul_ps(slope, y), y, _mm256_cmp_ps(y, zero, _CMP_GT_OQ));
                if (v == NV - 1 && !full) _mm256_maskstore_ps(out + i * out_rs + 8 * v, last, y);
                else _mm256_storeu_ps(out + i * out_rs + 8 * v, y);
            }
        }
    }
}

#define MASKED256_FN(MR)                                                                             \
    GB_AVX2 static void masked256_##MR##_1(const dk256_tile *p) { masked256(MR, 1, p); }            \
    GB_AVX2 static void masked256_##MR##_2(const dk256_tile *p) { masked256(MR, 2, p); }            \
    GB_AVX2 static void masked256_##MR##_3(const dk256_tile *p) { masked256(MR, 3, p); }            \
    GB_AVX2 static void masked256_##MR##_4(const dk256_tile *p) { masked256(MR, 4, p); }
MASKED256_FN(1) MASKED256_FN(2) MASKED256_FN(3) MASKED256_FN(4) MASKED256_FN(5) MASKED256_FN(6)
MASKED256_FN(7) MASKED256_FN(8) MASKED256_FN(9) MASKED256_FN(10) MASKED256_FN(11) MASKED256_FN(12)

#define MASKED256_ROW(MR) {masked256_##MR##_1, masked256_##MR##_2, masked256_##MR##_3, masked256_##MR##_4}
// [rows][vectors − 1]; entries beyond a panel's register budget are never called.
static const dk256_fn masked256_table[DK256_MAX_TILE + 1][4] = {
    {NULL, NULL, NULL, NULL}, MASKED256_ROW(1), MASKED256_ROW(2), MASKED256_ROW(3), MASKED256_ROW(4),
    MASKED256_ROW(5), MASKED256_ROW(6), MASKED256_ROW(7), MASKED256_ROW(8), MASKED256_ROW(9),
    MASKED256_ROW(10), MASKED256_ROW(11), MASKED256_ROW(12),
};
static const long masked256_rows[5] = {0, 12, 6, 4, 3};
#endif

#if GB_ARM64
// ---- NEON: MR ≤ 6 rows × 4 q registers (16 outputs) = 24 accumulators + 4 weights + 1
// broadcast. A partial last block of outputs goes through zero-padded copies. ----
#define DKNEON_TILE 6

DK_INLINE void masked_neon_tile(const int MR, long wn, const float *base, long base_rs, int negate, const float *delta,
                                long delta_rs, const long *cols, long n, const float *wt, long wt_rs, int act,
                                float slope, float *out, long out_rs) {
    float32x4_t acc[DKNEON_TILE][4];
    float pad[16];
    DK_UNROLL for (int i = 0; i < MR; i++) {
        const float *b = base + i * base_rs;
        if (wn < 16) {
            for (int j = 0; j < 16; j++) pad[j] = j < wn ? b[j] : 0.0f;
            b = pad;
        }
        DK_UNROLL for (int v = 0; v < 4; v++) acc[i][v] = vld1q_f32(b + 4 * v);
    }
    for (long t = 0; t < n; t++) {
        const long c = cols[t];
        const float *w = wt + c * wt_rs;
        if (wn < 16) {
            for (int j = 0; j < 16; j++) pad[j] = j < wn ? w[j] : 0.0f;
            w = pad;
        }
        float32x4_t wv[4];
        DK_UNROLL for (int v = 0; v < 4; v++) wv[v] = negate ? vnegq_f32(vld1q_f32(w + 4 * v)) : vld1q_f32(w + 4 * v);
        DK_UNROLL for (int i = 0; i < MR; i++) {
            const float32x4_t d = vld1q_dup_f32(delta + i * delta_rs + c);
            DK_UNROLL for (int v = 0; v < 4; v++) acc[i][v] = vfmaq_f32(acc[i][v], d, wv[v]);
        }
    }
    const float32x4_t zero = vdupq_n_f32(0.0f), vslope = vdupq_n_f32(slope);
    DK_UNROLL for (int i = 0; i < MR; i++) {
        float lanes[16];
        DK_UNROLL for (int v = 0; v < 4; v++) {
            float32x4_t y = acc[i][v];
            const uint32x4_t positive = vcgtq_f32(y, zero);
            if (act == GB_ACT_RELU) y = vbslq_f32(positive, y, zero);
            else if (act == GB_ACT_LEAKY_RELU) y = vbslq_f32(positive, y, vmulq_f32(vslope, y));
            if (wn == 16) vst1q_f32(out + i * out_rs + 4 * v, y);
            else vst1q_f32(lanes + 4 * v, y);
        }
        if (wn < 16)
            for (long j = 0; j < wn; j++) out[i * out_rs + j] = lanes[j];
    }
}

static void masked_neon(long rows, long width, const float *base, long base_rs, float sign, const float *delta,
                        long delta_rs, const long *cols, long n, const float *wt, long wt_rs, int act, float slope,
                        float *out, long out_rs) {
    const int negate = sign < 0;
    for (long h0 = 0; h0 < width; h0 += 16) {
        const long wn = DK_MIN(16, width - h0);
        long r0 = 0;
        for (; r0 + DKNEON_TILE <= rows; r0 += DKNEON_TILE)
            masked_neon_tile(DKNEON_TILE, wn, base + r0 * base_rs + h0, base_rs, negate, delta + r0 * delta_rs, delta_rs,
                             cols, n, wt + h0, wt_rs, act, slope, out + r0 * out_rs + h0, out_rs);
        for (; r0 < rows; r0++)
            masked_neon_tile(1, wn, base + r0 * base_rs + h0, base_rs, negate, delta + r0 * delta_rs, delta_rs, cols, n,
                             wt + h0, wt_rs, act, slope, out + r0 * out_rs + h0, out_rs);
    }
}
#endif

static int masked_run(int isa, long rows, long width, const float *base, long base_rs, float sign,
                      const float *delta, long delta_rs, const long *cols, long n, const float *wt,
                      long wt_rs, int act, float slope, float *out, long out_rs) {
    if (!gb_cpu_isa_supported(isa)) return 0;
    if (rows <= 0 || width <= 0) return 1;
#if DK_X86
    if (isa == GB_ISA_AVX512) {
        dk_masked_tile p;
        p.base_rs = base_rs, p.delta_rs = delta_rs, p.cols = cols, p.n = n, p.wt_rs = wt_rs;
        p.out_rs = out_rs, p.negate = sign < 0, p.act = act, p.slope = slope;
        for (long h0 = 0; h0 < width; h0 += 16 * DK_PANEL_VECTORS) {
            const long left = width - h0, nv = DK_MIN(DK_PANEL_VECTORS, (left + 15) / 16);
            p.last = dk_mask(left - 16 * (nv - 1));
            p.wt = wt + h0;
            const long max_tile = masked512_rows[nv];
            // Rows split evenly: `wide` tiles of `narrow + 1` rows, then tiles of `narrow`
            // (100 rows → 15 × 6 + 2 × 5), each run of equal tiles in one call.
            const long tiles = (rows + max_tile - 1) / max_tile;
            const long narrow = rows / tiles, wide = rows - narrow * tiles;
            p.base = base + h0, p.delta = delta, p.out = out + h0;
            if (wide > 0) {
                p.tiles = wide;
                masked512_table[narrow + 1][nv - 1](&p);
                const long r0 = wide * (narrow + 1);
                p.base = base + r0 * base_rs + h0, p.delta = delta + r0 * delta_rs, p.out = out + r0 * out_rs + h0;
            }
            p.tiles = tiles - wide;
            if (p.tiles > 0) masked512_table[narrow][nv - 1](&p);
        }
        return 1;
    }
    if (isa == GB_ISA_AVX2) {
        dk256_tile p;
        p.base_rs = base_rs, p.delta_rs = delta_rs, p.cols = cols, p.n = n, p.wt_rs = wt_rs;
        p.out_rs = out_rs, p.negate = sign < 0, p.act = act, p.slope = slope;
        for (long h0 = 0; h0 < width; h0 += 32) {
            const long left = width - h0, nv = DK_MIN(4, (left + 7) / 8);
            p.nlast = left - 8 * (nv - 1) > 8 ? 8 : left - 8 * (nv - 1);
            p.wt = wt + h0;
            const long max_tile = masked256_rows[nv];
            const long tiles = (rows + max_tile - 1) / max_tile;
            const long narrow = rows / tiles, wide = rows - narrow * tiles;
            p.base = base + h0, p.delta = delta, p.out = out + h0;
            if (wide > 0) {
                p.tiles = wide;
                masked256_table[narrow + 1][nv - 1](&p);
                const long r0 = wide * (narrow + 1);
                p.base = base + r0 * base_rs + h0, p.delta = delta + r0 * delta_rs, p.out = out + r0 * out_rs + h0;
            }
            p.tiles = tiles - wide;
            if (p.tiles > 0) masked256_table[narrow][nv - 1](&p);
        }
        return 1;
    }
#endif
#if GB_ARM64
    if (isa == GB_ISA_NEON) {
        masked_neon(rows, width, base, base_rs, sign, delta, delta_rs, cols, n, wt, wt_rs, act, slope, out, out_rs);
        return 1;
    }
#endif
    masked_generic(rows, width, base, base_rs, sign, delta, delta_rs, cols, n, wt, wt_rs, act, slope, out, out_rs);
    return 1;
}

void gb_masked_dense(long rows, long width, const float *base, long base_rs, float sign,
                     const float *delta, long delta_rs, const long *cols, long n, const float *wt,
                     long wt_rs, int activation, float slope, float *out, long out_rs) {
    masked_run(gb_cpu_isa(), rows, width, base, base_rs, sign, delta, delta_rs, cols, n, wt, wt_rs, activation,
               slope, out, out_rs);
}

int gb_masked_dense_variant(int isa, long rows, long width, const float *base, long base_rs,
                            float sign, const float *delta, long delta_rs, const long *cols,
                            long n, const float *wt, long wt_rs, int activation, float slope,
                            float *out, long out_rs) {
    return masked_run(isa, rows, width, base, base_rs, sign, delta, delta_rs, cols, n, wt, wt_rs, activation,
                      slope, out, out_rs);
}

void gb_masked_dense_coalitions(long first, long rows, long k, const long *starts, const unsigned char *absent,
                                const long *cols, long width, const float *u, const float *v, long hp,
                                const float *delta, long delta_rs, const float *wt, long wt_rs, int activation,
                                float slope, float *out, long out_rs) {
    const int isa = gb_cpu_isa();
    if (rows <= 0 || k <= 0) return;
    long s = first;
    const long end = first + rows;
    while (s < end) {
        const long i = s / k, b = s % k;
        const long count = DK_MIN(k - b, end - s);
        const long *list = cols + starts[i];
        const long n = starts[i + 1] - starts[i];
        float *dst = out + (s - first) * out_rs;
        if (absent[i]) {
            masked_run(isa, count, width, v, 0, -1.0f, delta + b * delta_rs, delta_rs, list, n, wt, wt_rs,
                       activation, slope, dst, out_rs);
        } else {
            masked_run(isa, count, width, u + b * hp, hp, 1.0f, delta + b * delta_rs, delta_rs, list, n, wt,
                       wt_rs, activation, slope, dst, out_rs);
        }
        s += count;
    }
}
