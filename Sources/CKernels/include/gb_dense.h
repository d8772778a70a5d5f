#ifndef GLASSBOX_DENSE_H
#define GLASSBOX_DENSE_H

// Two dense-layer kernels for shapes the direct convolution kernel (gb_conv.h) serves badly:
//
// - gb_dense_narrow: a layer with few outputs (a classifier head: 2 logits from 32 features).
//   gb_conv_apply puts output channels in vector lanes, so a 2-output layer fills 2 of 16 lanes
//   and pays a full FMA per input feature per row. Here the input features are in the lanes
//   instead: per row and output, ⌈k/16⌉ FMAs and a share of a 16-row reduction tree.
//
// - gb_masked_dense: the first dense layer of a model evaluated on rows that mix two known rows
//   column by column (the coalitions of a Shapley game). With base = W·b + bias for a background
//   row b and delta = x − b, the pre-activation of the row taking x's values on the columns
//   `cols` is base + Σ_{j ∈ cols} delta_j · W[:, j]: |cols| FMAs per output instead of `in`. The caller
//   picks the smaller side (the columns from x, or those from b against base = W·x + bias and
//   sign −1).
//
// Determinism: each output's arithmetic depends on its own row's data and the layer only — the
// same operations in the same order whatever tile, batch or path computes it (AVX-512, AVX2 and
// NEON agree bit for bit, as does the generic path where it fuses multiply-adds, on arm64), so
// results never depend on how a caller splits its rows.

#ifdef __cplusplus
extern "C" {
#endif

/// Floats of a weight matrix packed for gb_dense_narrow: og rows of ⌈k/16⌉·16 (zero-padded).
long gb_dense_narrow_packed_size(long k, long og);

/// Packs w (row-major [og, k]) into dst (gb_dense_narrow_packed_size floats).
void gb_dense_narrow_pack(const float *w, long k, long og, float *dst);

/// Whether gb_dense_narrow should replace gb_conv_apply for a dense layer of this shape: when its
/// estimated cost, og · (⌈k/16⌉ + 3) vector operations per row, is below the k FMAs per row of
/// the channel-in-lanes kernel.
int gb_dense_narrow_preferred(long k, long og);

/// y[r·y_rs + o] = act(bias[o] + Σ_{c<k} x[r·x_rs + c] · W[o][c]) for r < rows, o < og, with W
/// packed by gb_dense_narrow_pack and bias NULL for none. Per row and output the 16 lanes of
/// Σ_blocks x_block ⊙ W_block (one FMA per 16 features, in increasing block order) are summed by
/// a fixed pairwise tree: lanes (j, j+8), then (j, j+4), (j, j+2), (j, j+1).
void gb_dense_narrow(long rows, long k, long og, const float *x, long x_rs, const float *w,
                     const float *bias, int activation, float slope, float *y, long y_rs);

/// out[r·out_rs + h] = act(base[r·base_rs + h] + Σ_{t<n} delta[r·delta_rs + c] · (sign ·
/// wt[c·wt_rs + h])), c = cols[t], for r < rows, h < width: one FMA per listed column, in list
/// order, after the base (base_rs = 0 shares one base row). sign is +1 or −1 (negating the
/// weight is exact); delta holds x − b per background row b; wt holds Wᵀ (row j is input column
/// j's weights).
void gb_masked_dense(long rows, long width, const float *base, long base_rs, float sign,
                     const float *delta, long delta_rs, const long *cols, long n, const float *wt,
                     long wt_rs, int activation, float slope, float *out, long out_rs);

/// gb_masked_dense over the rows of a run of coalitions, each covering k consecutive rows (one per
/// background row): row s (first ≤ s < first + rows) belongs to coalition i = s / k and background
/// row b = s mod k and is written at out + (s − first)·out_rs. Coalition i lists its columns at
/// cols[starts[i]] ..< cols[starts[i + 1]]: the columns taken from x (base = u + b·hp, sign +1)
/// when absent[i] == 0, else the columns taken from the background row (base = v, sign −1). delta row b
/// is at delta + b·delta_rs. Same arithmetic as gb_masked_dense per row.
void gb_masked_dense_coalitions(long first, long rows, long k, const long *starts, const unsigned char *absent,
                                const long *cols, long width, const float *u, const float *v, long hp,
                                const float *delta, long delta_rs, const float *wt, long wt_rs, int activation,
                                float slope, float *out, long out_rs);

/// Test hooks: the kernels on a chosen path (GB_ISA_*, gb_cpu.h). They return 0, writing
/// nothing, when this CPU cannot run that path.
int gb_dense_narrow_variant(int isa, long rows, long k, long og, const float *x, long x_rs,
                            const float *w, const float *bias, int activation, float slope,
                            float *y, long y_rs);
int gb_masked_dense_variant(int isa, long rows, long width, const float *base, long base_rs,
                            float sign, const float *delta, long delta_rs, const long *cols,
                            long n, const float *wt, long wt_rs, int activation, float slope,
                            float *out, long out_rs);

#ifdef __cplusplus
}
#endif

#endif
