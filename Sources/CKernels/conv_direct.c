// Direct convolution with pre-packed weights (see include/gb_conv.h).
//
// Why not im2col + GEMM: lowering an image copies every input value kh·kw times into a column
// matrix that is written once and read once — for a 3×3 convolution over 32 channels that copy
// is as large as the image times nine and leaves the caches for every image of a batch — and a
// GEMM then packs that matrix again. Here the GEMM's A operand *is* the image: output pixel p's
// row of the virtual column matrix is its window, read in place through one base address per
// pixel plus a fixed offset per tap, and a broadcast can come from any address. The weights
// (the B operand) never change, so they are packed once when the plan is built.
//
// Loop nest for one layer (every path):
//
//   for depth block b                     (taps or channels; only for depths over 320)
//     for group g, panel of 32 output channels (weights packed k-major per panel)
//       for output row r
//         for tile of MR pixels along the row      ← one kernel call per run of equal tiles
//           for k step (tap t, channel c) in the block
//             acc[MR][panel] += in[pixel i + tap t][c] · W[t, c][panel]
//           epilogue: + bias (first block) or + out (later blocks), activation (last block)
//
// Register tiles per path (accumulators + weight vectors + 1 broadcast ≤ register file):
//   AVX-512: 14 pixels × 32 channels = 28 zmm + 2 + 1 = 31 of 32. Per k step: 2 vector loads
//            and 14 broadcasts feed 28 FMAs.
//   AVX2:    6 pixels × 16 channels (half a panel per call) = 12 ymm + 2 + 1 = 15 of 16, the
//            classic Haswell shape: 2 loads and 6 broadcasts feed 12 FMAs.
//   NEON:    6 pixels × 16 channels = 24 q + 4 + 1 = 29 of 32.
//   generic: 2 (x86-64) or 4 (arm64) pixels × 16 channels in the compiler's portable 4-float
//            vectors (SSE2 or NEON registers), 8 or 16 accumulators.
// Tiles are sized per layer to split a row evenly (28 columns → 2 × 14 at AVX-512, 5 × 6 … at
// AVX2; 32 → 11 + 11 + 10), so a row never ends in a sliver of a tile.
//
// Determinism: every output is one accumulator lane summed in increasing (tap, channel) order,
// plus the bias, whatever tile or panel it lands in: masked loads and stores only decide which
// lanes are kept. Blocks of the depth (layers deeper than 320) are added through the output
// in block order. So the AVX-512, AVX2 and NEON paths give the same bits, as does the generic
// path where the baseline fuses multiply-adds (arm64; see GB_FMA in gb_dispatch.h).

#include "gb_dispatch.h"

#include <stdint.h>
#include <string.h>

#define DC_MIN(x, y) ((x) < (y) ? (x) : (y))
#define DC_MAX(x, y) ((x) > (y) ? (x) : (y))
#define DC_UNROLL GB_UNROLL
#define DC_INLINE GB_INLINE

#define DC_MAX_TILE 14
#define DC_PANEL 32
// Depths up to this many k steps run unblocked: a 320 × 32 panel is 40 KiB, within a 48 KiB L1.
#define DC_MAX_UNBLOCKED_DEPTH 320
#define DC_BLOCK_DEPTH 256

// One register tile: pixels [0, mr) spaced a_rs floats apart, the k steps of taps [t0, t1) ×
// channels [c0, c1), one weight panel (bp at the block's first k step), nr valid channels.
typedef struct {
    const float *a;
    long a_rs;
    const long *taps;
    long t0, t1, c0, c1;
    const float *bp;
    long b_rs;          // floats per k step in the panel (its width); the AVX-512 kernels read all of it
    float *c;
    long c_rs;
    long nr;
    const float *bias;  // the panel's bias on the first depth block, else NULL
    int first, last, act;
    float slope;
    long tiles;         // AVX-512 kernels: consecutive tiles of MR pixels to compute
} dc_tile;

typedef void (*dc_kernel_fn)(const dc_tile *p);

// ---------------------------------------------------------------------------------------------
// Portable kernel: MR pixels × 16 channels (4 gb_v4 per pixel), called per 16-channel half
// panel as the AVX2 kernel. x86-64 baseline: 2 × 4 accumulators + 4 weights + 1 broadcast = 13
// of 16 xmm; arm64: 4 × 4 + 4 + 1 = 21 of 32 NEON registers.
// ---------------------------------------------------------------------------------------------
#define DC_GENERIC_MR (GB_ARM64 ? 4 : 2)

DC_INLINE void dc_generic_tile(const int MR, const dc_tile *p, const float *a, float *c_tile) {
    gb_v4 acc[4][4];
    DC_UNROLL for (int i = 0; i < MR; i++) {
        DC_UNROLL for (int v = 0; v < 4; v++) acc[i][v] = gb_v4_splat(0.0f);
    }
    const float *bp = p->bp;
    const long rs = p->a_rs, b_rs = p->b_rs;
    for (long t = p->t0; t < p->t1; t++) {
        const float *at = a + p->taps[t];
        for (long c = p->c0; c < p->c1; c++) {
            gb_v4 b[4];
            DC_UNROLL for (int v = 0; v < 4; v++) b[v] = gb_v4_load(bp + 4 * v);
            bp += b_rs;
            DC_UNROLL for (int i = 0; i < MR; i++) {
                const gb_v4 ai = gb_v4_splat(at[i * rs + c]);
                DC_UNROLL for (int v = 0; v < 4; v++) acc[i][v] = gb_v4_fma(ai, b[v], acc[i][v]);
            }
        }
    }
    const long nr = p->nr < 16 ? p->nr : 16;
    for (int i = 0; i < MR; i++) {
        float lanes[16];
        DC_UNROLL for (int v = 0; v < 4; v++) gb_v4_store(lanes + 4 * v, acc[i][v]);
        float *dst = c_tile + i * p->c_rs;
        for (long j = 0; j < nr; j++) {
            float x = lanes[j];
            if (p->first) {
                if (p->bias) x += p->bias[j];
            } else {
                x += dst[j];
            }
            if (p->last) {
                if (p->act == GB_ACT_RELU) x = x > 0.0f ? x : 0.0f;
                else if (p->act == GB_ACT_LEAKY_RELU) x = x > 0.0f ? x : p->slope * x;
            }
            dst[j] = x;
        }
    }
}

// One row's pixels [0, mr_total) for one half panel, in tiles of DC_GENERIC_MR and a remainder.
static void dc_generic(const dc_tile *p, long mr_total) {
    long i = 0;
    for (; i + DC_GENERIC_MR <= mr_total; i += DC_GENERIC_MR)
        dc_generic_tile(DC_GENERIC_MR, p, p->a + i * p->a_rs, p->c + i * p->c_rs);
    for (; i < mr_total; i++) dc_generic_tile(1, p, p->a + i * p->a_rs, p->c + i * p->c_rs);
}

#if GB_X86
#define DC_AVX512 GB_AVX512

DC_AVX512 DC_INLINE __mmask16 dc_mask(long w) {
    return w >= 16 ? (__mmask16)0xFFFF : w <= 0 ? (__mmask16)0 : (__mmask16)((1u << w) - 1u);
}

// MR and NV are compile-time constants at every call site, so the loops over them unroll and
// the accumulators stay in registers.
DC_AVX512 DC_INLINE void dc512(const int MR, const int NV, const dc_tile *p) {
    // Loops over p->tiles consecutive tiles: one call and one descriptor read per run of tiles.
    for (long tile = 0; tile < p->tiles; tile++) {
        const float *a = p->a + tile * MR * p->a_rs;
        float *const c_tile = p->c + tile * MR * p->c_rs;
        __m512 acc[DC_MAX_TILE][2];
        DC_UNROLL for (int i = 0; i < MR; i++) {
            DC_UNROLL for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
        }
        const float *bp = p->bp;
        const long rs = p->a_rs;
        for (long t = p->t0; t < p->t1; t++) {
            const float *at = a + p->taps[t];
            for (long c = p->c0; c < p->c1; c++) {
                __m512 b[2];
                DC_UNROLL for (int v = 0; v < NV; v++) b[v] = _mm512_load_ps(bp + 16 * v);
                bp += 16 * NV;
                DC_UNROLL for (int i = 0; i < MR; i++) {
                    const __m512 ai = _mm512_set1_ps(at[i * rs + c]);
                    DC_UNROLL for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(ai, b[v], acc[i][v]);
                }
            }
        }
        __mmask16 mask[2];
        DC_UNROLL for (int v = 0; v < NV; v++) mask[v] = dc_mask(p->nr - 16 * v);
        __m512 bias[2];
        DC_UNROLL for (int v = 0; v < NV; v++) {
            bias[v] = p->bias ? _mm512_load_ps(p->bias + 16 * v) : _mm512_setzero_ps();
        }
        const __m512 zero = _mm512_setzero_ps(), slope = _mm512_set1_ps(p->slope);
        DC_UNROLL for (int i = 0; i < MR; i++) {
            DC_UNROLL for (int v = 0; v < NV; v++) {
                float *dst = c_tile + i * p->c_rs + 16 * v;
                __m512 x = acc[i][v];
                if (p->first) {
                    if (p->bias) x = _mm512_add_ps(x, bias[v]);
                } else {
                    x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask[v], dst));
                }
                if (p->last) {
                    // max(x, 0) returns its second operand for a NaN x: 0, as `x > 0 ? x : 0`.
                    if (p->act == GB_ACT_RELU) x = _mm512_max_ps(x, zero);
                    else if (p->act == GB_ACT_LEAKY_RELU)
                        x = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, zero, _CMP_GT_OQ), _mm512_mul_ps(slope, x), x);
                }
                _mm512_mask_storeu_ps(dst, mask[v], x);
            }
        }
    }
}

#define DC512_FN(MR)                                                                              \
    DC_AVX512 static void dc512_##MR##_1(const dc_tile *p) { dc512(MR, 1, p); }                 \
    DC_AVX512 static void dc512_##MR##_2(const dc_tile *p) { dc512(MR, 2, p); }
DC512_FN(1) DC512_FN(2) DC512_FN(3) DC512_FN(4) DC512_FN(5) DC512_FN(6) DC512_FN(7)
DC512_FN(8) DC512_FN(9) DC512_FN(10) DC512_FN(11) DC512_FN(12) DC512_FN(13) DC512_FN(14)

// [mr][panel width / 16 − 1]
static const dc_kernel_fn dc512_table[DC_MAX_TILE + 1][2] = {
    {NULL, NULL},
    {dc512_1_1, dc512_1_2}, {dc512_2_1, dc512_2_2}, {dc512_3_1, dc512_3_2},
    {dc512_4_1, dc512_4_2}, {dc512_5_1, dc512_5_2}, {dc512_6_1, dc512_6_2},
    {dc512_7_1, dc512_7_2}, {dc512_8_1, dc512_8_2}, {dc512_9_1, dc512_9_2},
    {dc512_10_1, dc512_10_2}, {dc512_11_1, dc512_11_2}, {dc512_12_1, dc512_12_2},
    {dc512_13_1, dc512_13_2}, {dc512_14_1, dc512_14_2},
};

// ---------------------------------------------------------------------------------------------
// AVX2 + FMA: MR ≤ 6 pixels × NV ≤ 2 ymm (16 channels: one half of a 32-wide panel, read with
// stride b_rs). 12 accumulators + 2 weight vectors + 1 broadcast = 15 of 16 registers.
// ---------------------------------------------------------------------------------------------
#define DC_AVX2_TILE 6

GB_AVX2 DC_INLINE __m256i dc256_mask(long w) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(w < 0 ? 0 : w > 8 ? 8 : w)), idx);
}

GB_AVX2 DC_INLINE void dc256(const int MR, const int NV, const dc_tile *p) {
    const long nr = p->nr < 8 * NV ? p->nr : 8 * NV;
    const int full = nr == 8 * NV;
    __m256i mask[2];
    DC_UNROLL for (int v = 0; v < NV; v++) mask[v] = dc256_mask(nr - 8 * v);
    __m256 bias[2];
    DC_UNROLL for (int v = 0; v < NV; v++) bias[v] = p->bias ? _mm256_loadu_ps(p->bias + 8 * v) : _mm256_setzero_ps();
    const __m256 zero = _mm256_setzero_ps(), slope = _mm256_set1_ps(p->slope);
    const long rs = p->a_rs, b_rs = p->b_rs;
    for (long tile = 0; tile < p->tiles; tile++) {
        const float *a = p->a + tile * MR * rs;
        float *const c_tile = p->c + tile * MR * p->c_rs;
        __m256 acc[DC_AVX2_TILE][2];
        DC_UNROLL for (int i = 0; i < MR; i++) {
            DC_UNROLL for (int v = 0; v < NV; v++) acc[i][v] = _mm256_setzero_ps();
        }
        const float *bp = p->bp;
        for (long t = p->t0; t < p->t1; t++) {
            const float *at = a + p->taps[t];
            for (long c = p->c0; c < p->c1; c++) {
                __m256 b[2];
                DC_UNROLL for (int v = 0; v < NV; v++) b[v] = _mm256_loadu_ps(bp + 8 * v);
                bp += b_rs;
                DC_UNROLL for (int i = 0; i < MR; i++) {
                    const __m256 ai = _mm256_broadcast_ss(at + i * rs + c);
                    DC_UNROLL for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(ai, b[v], acc[i][v]);
                }
            }
        }
        DC_UNROLL for (int i = 0; i < MR; i++) {
            DC_UNROLL for (int v = 0; v < NV; v++) {
                float *dst = c_tile + i * p->c_rs + 8 * v;
                __m256 x = acc[i][v];
                if (p->first) {
                    if (p->bias) x = _mm256_add_ps(x, bias[v]);
                } else {
                    x = _mm256_add_ps(x, full ? _mm256_loadu_ps(dst) : _mm256_maskload_ps(dst, mask[v]));
                }
                if (p->last) {
                    // max(x, 0) returns its second operand for a NaN x: 0, as `x > 0 ? x : 0`.
                    if (p->act == GB_ACT_RELU) x = _mm256_max_ps(x, zero);
                    else if (p->act == GB_ACT_LEAKY_RELU)
                        x = _mm256_blendv_ps(_mm256_mul_ps(slope, x), x, _mm256_cmp_ps(x, zero, _CMP_GT_OQ));
                }
                if (full) _mm256_storeu_ps(dst, x);
                else _mm256_maskstore_ps(dst, mask[v], x);
            }
        }
    }
}

#define DC256_FN(MR)                                                                              \
    GB_AVX2 static void dc256_##MR##_1(const dc_tile *p) { dc256(MR, 1, p); }                   \
    GB_AVX2 static void dc256_##MR##_2(const dc_tile *p) { dc256(MR, 2, p); }
DC256_FN(1) DC256_FN(2) DC256_FN(3) DC256_FN(4) DC256_FN(5) DC256_FN(6)

// [mr][ymm vectors − 1]
static const dc_kernel_fn dc256_table[DC_AVX2_TILE + 1][2] = {
    {NULL, NULL}, {dc256_1_1, dc256_1_2}, {dc256_2_1, dc256_2_2}, {dc256_3_1, dc256_3_2},
    {dc256_4_1, dc256_4_2}, {dc256_5_1, dc256_5_2}, {dc256_6_1, dc256_6_2},
};
#endif

#if GB_ARM64
// ---------------------------------------------------------------------------------------------
// NEON: MR ≤ 6 pixels × NV ≤ 4 q registers (16 channels, half a panel). 24 accumulators + 4
// weight vectors + 1 broadcast = 29 of 32 registers.
// ---------------------------------------------------------------------------------------------
#define DC_NEON_TILE 6

DC_INLINE void dcneon(const int MR, const dc_tile *p) {
    const long nr = p->nr < 16 ? p->nr : 16;
    const long rs = p->a_rs, b_rs = p->b_rs;
    for (long tile = 0; tile < p->tiles; tile++) {
        const float *a = p->a + tile * MR * rs;
        float *const c_tile = p->c + tile * MR * p->c_rs;
        float32x4_t acc[DC_NEON_TILE][4];
        DC_UNROLL for (int i = 0; i < MR; i++) {
            DC_UNROLL for (int v = 0; v < 4; v++) acc[i][v] = vdupq_n_f32(0.0f);
        }
        const float *bp = p->bp;
        for (long t = p->t0; t < p->t1; t++) {
            const float *at = a + p->taps[t];
            for (long c = p->c0; c < p->c1; c++) {
                float32x4_t b[4];
                DC_UNROLL for (int v = 0; v < 4; v++) b[v] = vld1q_f32(bp + 4 * v);
                bp += b_rs;
                DC_UNROLL for (int i = 0; i < MR; i++) {
                    const float32x4_t ai = vld1q_dup_f32(at + i * rs + c);
                    DC_UNROLL for (int v = 0; v < 4; v++) acc[i][v] = vfmaq_f32(acc[i][v], ai, b[v]);
                }
            }
        }
        const float32x4_t zero = vdupq_n_f32(0.0f);
        DC_UNROLL for (int i = 0; i < MR; i++) {
            float *dst = c_tile + i * p->c_rs;
            float lanes[16];
            DC_UNROLL for (int v = 0; v < 4; v++) {
                float32x4_t x = acc[i][v];
                if (p->first) {
                    if (p->bias) x = vaddq_f32(x, vld1q_f32(p->bias + 4 * v));
                } else if (nr == 16) {
                    x = vaddq_f32(x, vld1q_f32(dst + 4 * v));
                }
                vst1q_f32(lanes + 4 * v, x);
            }
            if (nr == 16 && p->last && p->act == GB_ACT_RELU) {
                DC_UNROLL for (int v = 0; v < 4; v++) {
                    // fmax would return x for a NaN; the other paths give 0.
                    const float32x4_t x = vld1q_f32(lanes + 4 * v);
                    vst1q_f32(dst + 4 * v, vbslq_f32(vcgtq_f32(x, zero), x, zero));
                }
                continue;
            }
            for (long j = 0; j < nr; j++) {
                float x = lanes[j];
                if (!p->first && nr < 16) x += dst[j];
                if (p->last) {
                    if (p->act == GB_ACT_RELU) x = x > 0.0f ? x : 0.0f;
                    else if (p->act == GB_ACT_LEAKY_RELU) x = x > 0.0f ? x : p->slope * x;
                }
                dst[j] = x;
            }
        }
    }
}

#define DCNEON_FN(MR) static void dcneon_##MR(const dc_tile *p) { dcneon(MR, p); }
DCNEON_FN(1) DCNEON_FN(2) DCNEON_FN(3) DCNEON_FN(4) DCNEON_FN(5) DCNEON_FN(6)
static const dc_kernel_fn dcneon_table[DC_NEON_TILE + 1] = {NULL, dcneon_1, dcneon_2, dcneon_3,
                                                            dcneon_4, dcneon_5, dcneon_6};
#endif

// ---------------------------------------------------------------------------------------------
// Packing
// ---------------------------------------------------------------------------------------------

// Output channels of a group, padded: full 32-wide panels, then a 16- or 32-wide last one.
static long dc_padded_og(long og) {
    const long rem = og % DC_PANEL;
    return og - rem + (rem == 0 ? 0 : rem <= 16 ? 16 : DC_PANEL);
}

static long dc_panel_width(long og, long panel) {
    const long rem = og % DC_PANEL;
    return panel < og / DC_PANEL || rem > 16 ? DC_PANEL : 16;
}

long gb_conv_packed_size(long taps, long cg, long og, long groups) {
    return groups * taps * cg * dc_padded_og(og);
}

long gb_conv_bias_size(long og, long groups) { return groups * dc_padded_og(og); }

void gb_conv_pack(const float *w, long taps, long cg, long og, long groups, float *dst) {
    const long k = taps * cg, padded = dc_padded_og(og);
    for (long g = 0; g < groups; g++) {
        float *group = dst + g * k * padded;
        for (long o0 = 0, panel = 0; o0 < padded; o0 += dc_panel_width(og, panel), panel++) {
            const long width = dc_panel_width(og, panel);
            float *pp = group + o0 * k;
            for (long kk = 0; kk < k; kk++)
                for (long j = 0; j < width; j++)
                    pp[kk * width + j] = o0 + j < og ? w[(g * og + o0 + j) * k + kk] : 0.0f;
        }
    }
}

void gb_conv_pack_bias(const float *bias, long og, long groups, float *dst) {
    const long padded = dc_padded_og(og);
    for (long g = 0; g < groups; g++)
        for (long o = 0; o < padded; o++) dst[g * padded + o] = o < og ? bias[g * og + o] : 0.0f;
}

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------
static void dc_run(int isa, long max_tile, const gb_conv_desc *d, long rows, long cols,
                   const float *in, long in_rs, long in_cs, float *out, long out_rs, long out_cs) {
    if (rows <= 0 || cols <= 0 || d->og <= 0 || d->groups <= 0) return;
    const long taps = d->taps, cg = d->cg, k = taps * cg;
    const long padded = dc_padded_og(d->og);

    // Depth blocks: whole taps when there are several, else ranges of channels.
    long blocks = k <= DC_MAX_UNBLOCKED_DEPTH ? 1 : (k + DC_BLOCK_DEPTH - 1) / DC_BLOCK_DEPTH;
    long taps_per_block = taps, channels_per_block = cg;
    if (blocks > 1 && taps > 1) {
        taps_per_block = (taps + DC_MIN(blocks, taps) - 1) / DC_MIN(blocks, taps);
        blocks = (taps + taps_per_block - 1) / taps_per_block;
    } else if (blocks > 1) {
        channels_per_block = (cg + blocks - 1) / blocks;
        blocks = (cg + channels_per_block - 1) / channels_per_block;
    }
    // Tiles split each row of `cols` pixels evenly: `wide` tiles of `narrow + 1` pixels, then
    // tiles of `narrow` (256 → 9 × 14 + 10 × 13), so no row ends in a sliver of a tile.
    const long path_tile = isa == GB_ISA_AVX2 ? DC_MIN(max_tile, 6) : isa == GB_ISA_NEON ? DC_MIN(max_tile, 6) : max_tile;
    const long tiles_per_row = (cols + path_tile - 1) / path_tile;
    const long narrow = cols / tiles_per_row, wide = cols - narrow * tiles_per_row;

    for (long b = 0; b < blocks; b++) {
        const long t0 = taps > 1 ? b * taps_per_block : 0;
        const long t1 = taps > 1 ? DC_MIN(taps, t0 + taps_per_block) : 1;
        const long c0 = taps > 1 ? 0 : b * channels_per_block;
        const long c1 = taps > 1 ? cg : DC_MIN(cg, c0 + channels_per_block);
        for (long g = 0; g < d->groups; g++) {
            for (long o0 = 0, panel = 0; o0 < padded; o0 += DC_PANEL, panel++) {
                const long width = dc_panel_width(d->og, panel);
                const long panel_nr = DC_MIN(width, d->og - o0);
                const float *panel_bp = d->weights + g * k * padded + o0 * k + (t0 * cg + c0) * width;
                const float *panel_bias = b == 0 && d->bias ? d->bias + g * padded + o0 : NULL;
                dc_tile p;
                p.a_rs = in_cs;
                p.taps = d->tap_offsets;
                p.t0 = t0, p.t1 = t1, p.c0 = c0, p.c1 = c1;
                p.b_rs = width;
                p.c_rs = out_cs;
                p.first = b == 0;
                p.last = b == blocks - 1;
                p.act = d->activation;
                p.slope = d->slope;
                for (long r = 0; r < rows; r++) {
                    const float *row_in = in + r * in_rs + g * cg;
                    float *row_out = out + r * out_rs + g * d->og + o0;
#if GB_X86
                    if (isa == GB_ISA_AVX512) {
                        // The whole panel per call, each run of equal tiles in one call.
                        p.bp = panel_bp, p.nr = panel_nr, p.bias = panel_bias;
                        p.a = row_in, p.c = row_out;
                        if (wide > 0) {
                            p.tiles = wide;
                            dc512_table[narrow + 1][width / 16 - 1](&p);
                            p.a += wide * (narrow + 1) * in_cs;
                            p.c += wide * (narrow + 1) * out_cs;
                        }
                        p.tiles = tiles_per_row - wide;
                        if (p.tiles > 0) dc512_table[narrow][width / 16 - 1](&p);
                        continue;
                    }
#endif
                    // The other paths take 16 channels per call: the halves of a 32-wide panel.
                    for (long h = 0; h < width; h += 16) {
                        p.bp = panel_bp + h, p.nr = panel_nr - h;
                        p.bias = panel_bias ? panel_bias + h : NULL;
                        p.a = row_in, p.c = row_out + h;
                        switch (isa) {
#if GB_X86
                        case GB_ISA_AVX2: {
                            const int nv = p.nr > 8 ? 2 : 1;
                            if (wide > 0) {
                                p.tiles = wide;
                                dc256_table[narrow + 1][nv - 1](&p);
                                p.a += wide * (narrow + 1) * in_cs;
                                p.c += wide * (narrow + 1) * out_cs;
                            }
                            p.tiles = tiles_per_row - wide;
                            if (p.tiles > 0) dc256_table[narrow][nv - 1](&p);
                            break;
                        }
#endif
#if GB_ARM64
                        case GB_ISA_NEON:
                            if (wide > 0) {
                                p.tiles = wide;
                                dcneon_table[narrow + 1](&p);
                                p.a += wide * (narrow + 1) * in_cs;
                                p.c += wide * (narrow + 1) * out_cs;
                            }
                            p.tiles = tiles_per_row - wide;
                            if (p.tiles > 0) dcneon_table[narrow](&p);
                            break;
#endif
                        default:
                            dc_generic(&p, cols);
                            break;
                        }
                    }
                }
            }
        }
    }
}

void gb_conv_apply(const gb_conv_desc *d, long rows, long cols, const float *in, long in_rs,
                   long in_cs, float *out, long out_rs, long out_cs) {
    dc_run(gb_cpu_isa(), DC_MAX_TILE, d, rows, cols, in, in_rs, in_cs, out, out_rs, out_cs);
}

int gb_conv_apply_variant(int isa, long max_tile, const gb_conv_desc *d, long rows, long cols,
                          const float *in, long in_rs, long in_cs, float *out, long out_rs,
                          long out_cs) {
    if (!gb_cpu_isa_supported(isa)) return 0;
    dc_run(isa, DC_MAX(1, DC_MIN(DC_MAX_TILE, max_tile)), d, rows, cols, in, in_rs, in_cs, out,
           out_rs, out_cs);
    return 1;
}
