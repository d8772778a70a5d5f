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
// Register tile: up to 14 output pixels of one row × 32 output channels, i.e. 28 zmm
// accumulators, 2 weight vectors and 1 broadcast (31 of 32 registers). Per k step: 2 vector
// loads and 14 broadcasts feed 28 FMAs. Tiles are sized per layer to split a row evenly
// (28 columns → 2 × 14, 32 → 11 + 11 + 10), so a row never ends in a sliver of a tile.
//
// Determinism: every output is one accumulator lane summed in increasing (tap, channel) order,
// plus the bias, whatever tile or panel it lands in: masked loads and stores only decide which
// lanes are kept. Blocks of the depth (layers deeper than 320) are added through the output
// in block order.

#include "CKernels.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define DC_X86 1
#include <immintrin.h>
#else
#define DC_X86 0
#endif

#define DC_MIN(x, y) ((x) < (y) ? (x) : (y))
#define DC_MAX(x, y) ((x) > (y) ? (x) : (y))
#define DC_UNROLL _Pragma("clang loop unroll(full)")
#define DC_INLINE static inline __attribute__((always_inline))

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
// Portable kernel: the same arithmetic order in plain C (vectorised over channels by the compiler).
// ---------------------------------------------------------------------------------------------
static void dc_generic(const dc_tile *p, long mr, long width) {
    float acc[DC_MAX_TILE][DC_PANEL];
    for (long i = 0; i < mr; i++)
        for (long j = 0; j < width; j++) acc[i][j] = 0.0f;
    const float *bp = p->bp;
    for (long t = p->t0; t < p->t1; t++) {
        const float *at = p->a + p->taps[t];
        for (long c = p->c0; c < p->c1; c++) {
            for (long i = 0; i < mr; i++) {
                const float ai = at[i * p->a_rs + c];
                for (long j = 0; j < width; j++) acc[i][j] = fmaf(ai, bp[j], acc[i][j]);
            }
            bp += width;
        }
    }
    for (long i = 0; i < mr; i++) {
        float *dst = p->c + i * p->c_rs;
        for (long j = 0; j < p->nr; j++) {
            float x = acc[i][j];
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

#if DC_X86
#define DC_AVX512 __attribute__((target("avx512f")))

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
#endif

enum { DC_ISA_GENERIC = 0, DC_ISA_AVX512 = 2 };

static int dc_best_isa = DC_ISA_GENERIC;
static pthread_once_t dc_once = PTHREAD_ONCE_INIT;

static void dc_init(void) {
#if DC_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) dc_best_isa = DC_ISA_AVX512;
#endif
}

static int dc_isa_supported(int isa) {
    pthread_once(&dc_once, dc_init);
    return isa == DC_ISA_GENERIC || (isa == DC_ISA_AVX512 && dc_best_isa == DC_ISA_AVX512);
}

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
    const long tiles_per_row = (cols + max_tile - 1) / max_tile;
    const long narrow = cols / tiles_per_row, wide = cols - narrow * tiles_per_row;

    for (long b = 0; b < blocks; b++) {
        const long t0 = taps > 1 ? b * taps_per_block : 0;
        const long t1 = taps > 1 ? DC_MIN(taps, t0 + taps_per_block) : 1;
        const long c0 = taps > 1 ? 0 : b * channels_per_block;
        const long c1 = taps > 1 ? cg : DC_MIN(cg, c0 + channels_per_block);
        for (long g = 0; g < d->groups; g++) {
            for (long o0 = 0, panel = 0; o0 < padded; o0 += DC_PANEL, panel++) {
                const long width = dc_panel_width(d->og, panel);
                dc_tile p;
                p.a_rs = in_cs;
                p.taps = d->tap_offsets;
                p.t0 = t0, p.t1 = t1, p.c0 = c0, p.c1 = c1;
                p.bp = d->weights + g * k * padded + o0 * k + (t0 * cg + c0) * width;
                p.c_rs = out_cs;
                p.nr = DC_MIN(width, d->og - o0);
                p.bias = b == 0 && d->bias ? d->bias + g * padded + o0 : NULL;
                p.first = b == 0;
                p.last = b == blocks - 1;
                p.act = d->activation;
                p.slope = d->slope;
                for (long r = 0; r < rows; r++) {
#if DC_X86
                    if (isa == DC_ISA_AVX512) {
                        // Each run of equal tiles in one call.
                        p.a = in + r * in_rs + g * cg;
                        p.c = out + r * out_rs + g * d->og + o0;
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
                    for (long t = 0, q0 = 0; t < tiles_per_row; t++) {
                        const long mr = t < wide ? narrow + 1 : narrow;
                        p.a = in + r * in_rs + q0 * in_cs + g * cg;
                        p.c = out + r * out_rs + q0 * out_cs + g * d->og + o0;
                        dc_generic(&p, mr, width);
                        q0 += mr;
                    }
                }
            }
        }
    }
}

void gb_conv_apply(const gb_conv_desc *d, long rows, long cols, const float *in, long in_rs,
                   long in_cs, float *out, long out_rs, long out_cs) {
    pthread_once(&dc_once, dc_init);
    dc_run(dc_best_isa, DC_MAX_TILE, d, rows, cols, in, in_rs, in_cs, out, out_rs, out_cs);
}

int gb_conv_apply_variant(int isa, long max_tile, const gb_conv_desc *d, long rows, long cols,
                          const float *in, long in_rs, long in_cs, float *out, long out_rs,
                          long out_cs) {
    if (!dc_isa_supported(isa)) return 0;
    dc_run(isa, DC_MAX(1, DC_MIN(DC_MAX_TILE, max_tile)), d, rows, cols, in, in_rs, in_cs, out,
           out_rs, out_cs);
    return 1;
}
