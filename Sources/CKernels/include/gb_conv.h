#ifndef GLASSBOX_CONV_H
#define GLASSBOX_CONV_H

// Inference kernels behind GlassboxNN's InferencePlan: a direct ("implicit GEMM") convolution /
// dense-layer kernel with pre-packed weights and a fused bias + activation epilogue, and the
// channels-last (NHWC) pooling, layout and per-channel loops around it.
//
// Layouts. Activations are channels-last: pixel (y, x) of an image starts at
// base + y·row_stride + x·pixel_stride and holds its channels contiguously. Strides are in floats,
// so a buffer with a zero border (the padding a convolution reads) is addressed by pointing base
// at the first interior pixel. A dense layer is the same kernel on a 1 × m "image" whose pixels
// are the rows of a row-major [m, in] matrix.

#ifdef __cplusplus
extern "C" {
#endif

/// Activation applied by the epilogue of gb_conv_apply.
enum { GB_ACT_NONE = 0, GB_ACT_RELU = 1, GB_ACT_LEAKY_RELU = 2 };

/// A convolution whose weights were packed by gb_conv_pack. Per group g and output channel o:
///   out[p][g·og + o] = act(bias[g·og + o] + Σ_{t < taps} Σ_{c < cg} in_p[tap_offsets[t] + g·cg + c] · W[g·og + o][t·cg + c])
/// where in_p is the input address of output pixel p. Dense layers have taps = 1, offset 0.
typedef struct {
    long taps;                 // kernel positions (kh·kw)
    long cg;                   // input channels per group (the depth summed per tap)
    long og;                   // output channels per group
    long groups;
    const long *tap_offsets;   // `taps` offsets (floats) from a pixel's window origin
    const float *weights;      // gb_conv_pack layout
    const float *bias;         // gb_conv_pack_bias layout, or NULL for no bias
    int activation;            // GB_ACT_*
    float slope;               // negative slope of GB_ACT_LEAKY_RELU
} gb_conv_desc;

/// Floats gb_conv_pack writes for this shape (output channels padded to whole 16/32-wide panels).
long gb_conv_packed_size(long taps, long cg, long og, long groups);

/// Packs w[(g·og + o)·(taps·cg) + t·cg + c] (row-major [groups·og, taps·cg], tap-major within a
/// row) into the kernel's panels: per group, output channels in panels of 32 (the last of 16 when
/// at most 16 remain), each panel stored k-major and zero-padded. dst has gb_conv_packed_size floats.
void gb_conv_pack(const float *w, long taps, long cg, long og, long groups, float *dst);

/// Floats of a packed bias (groups × padded og), and the packing itself.
long gb_conv_bias_size(long og, long groups);
void gb_conv_pack_bias(const float *bias, long og, long groups, float *dst);

/// Applies the convolution to a grid of rows × cols output pixels: output pixel (r, q) reads its
/// window from in + r·in_rs + q·in_cs (+ tap offsets) and is written at out + r·out_rs + q·out_cs
/// (groups·og channels, contiguous). For a strided convolution in_cs = stride·pixel stride of
/// the input. Everything read must exist: padding is a zero border the caller provides.
///
/// Output pixels go in tiles along a row and channels in panels of 32, each tile's accumulators
/// held in registers (AVX-512: 14 × 32; AVX2 and NEON: 6 × 16; generic: 2 or 4 × 16); the
/// summation order of every output depends only on the layer (taps, cg), never on the tile, the
/// grid or the path, so results do not depend on how the caller splits pixels or images. Depths over 320 are blocked (~256 per block, in whole taps
/// when taps > 1) so a panel block stays in L1; later blocks accumulate through the output.
void gb_conv_apply(const gb_conv_desc *d, long rows, long cols, const float *in, long in_rs,
                   long in_cs, float *out, long out_rs, long out_cs);

/// Test hook: gb_conv_apply on a chosen path (GB_ISA_*, gb_cpu.h) and the largest tile width
/// (1…14; the AVX2 and NEON kernels stop at 6). Returns 0, writing nothing, when this CPU cannot
/// run that path.
int gb_conv_apply_variant(int isa, long max_tile, const gb_conv_desc *d, long rows, long cols,
                          const float *in, long in_rs, long in_cs, float *out, long out_rs,
                          long out_cs);

// ---- Channels-last loops ---------------------------------------------------------------------
// One image each. Input pixel (y, x) is at in + y·in_rs + x·in_cs, output (y, x) at
// out + y·out_rs + x·out_cs; c channels contiguous in both.

/// Max pooling (PyTorch's rule: padding is −∞, the first maximum in window order wins, NaN
/// propagates). Windows: kernel kh × kw, stride, padding (at most half the kernel), dilation.
void gb_maxpool_nhwc(const float *in, long h, long w, long c, long in_rs, long in_cs, float *out,
                     long ho, long wo, long out_rs, long out_cs, long kh, long kw, long sh,
                     long sw, long ph, long pw, long dh, long dw);

/// Average pooling; the divisor is kh·kw when count_include_pad, else the in-bounds count.
void gb_avgpool_nhwc(const float *in, long h, long w, long c, long in_rs, long in_cs, float *out,
                     long ho, long wo, long out_rs, long out_cs, long kh, long kw, long sh,
                     long sw, long ph, long pw, int count_include_pad);

/// out[ch] = mean over the h × w pixels of channel ch (pixels summed in row-major order).
void gb_channel_mean_nhwc(const float *in, long h, long w, long c, long in_rs, long in_cs,
                          float *out);

/// out(y, x)[ch] = in(y, x)[ch] · scale[ch] + shift[ch] (batch norm in inference).
void gb_channel_affine_nhwc(const float *in, long h, long w, long c, long in_rs, long in_cs,
                            const float *scale, const float *shift, float *out, long out_rs,
                            long out_cs);

/// NCHW image [c, h, w] (dense) → channels-last at (out, out_rs, out_cs), and back.
void gb_nchw_to_nhwc(const float *in, long c, long h, long w, float *out, long out_rs, long out_cs);
void gb_nhwc_to_nchw(const float *in, long c, long h, long w, long in_rs, long in_cs, float *out);

#ifdef __cplusplus
}
#endif

#endif
