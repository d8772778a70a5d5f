#ifndef GLASSBOX_POINTWISE_H
#define GLASSBOX_POINTWISE_H

// Vectorised transcendental loops behind GlassboxNN's elementwise, softmax and loss ops.
// Each is plain C compiled for AVX-512, AVX2+FMA and the baseline (SSE2 on x86-64, NEON on arm64),
// picked per call by gb_cpu_isa() (gb_cpu.h). Arrays are contiguous; outputs must not overlap inputs. Results may differ in the
// last bit between instruction sets (FMA contraction) but never between calls or thread counts.
//
// Accuracy: exp within 2 ulp (0 below −87.34 where it would be subnormal, +inf above 88.72);
// sigmoid and tanh within a few ulp; erf-based GELU within 5e-7 absolute.

#ifdef __cplusplus
extern "C" {
#endif

/// y[i] = exp(x[i]).
void gb_exp(const float *x, float *y, long n);
/// y[i] = exp(x[i] − shift); returns Σ y[i], summed in 16 interleaved lanes combined in a fixed
/// order (the same on every instruction set). The softmax and cross-entropy inner loop.
float gb_exp_shifted_sum(const float *x, float shift, float *y, long n);
/// max(x[0..<n]) (−inf when n = 0; NaNs are skipped).
float gb_max(const float *x, long n);
/// Σ x[i], and Σ a[i]·b[i]: 16 interleaved lanes combined in a fixed order, as gb_exp_shifted_sum.
float gb_sum(const float *x, long n);
float gb_dot(const float *a, const float *b, long n);
/// y[i] = 1 / (1 + exp(−x[i])), evaluated from exp(−|x|) so it never overflows.
void gb_sigmoid(const float *x, float *y, long n);
/// y[i] = tanh(x[i]).
void gb_tanh(const float *x, float *y, long n);
/// y[i] = GELU(x[i]): x·Φ(x) with erf (tanh_form = 0) or PyTorch's tanh approximation (≠ 0).
void gb_gelu(const float *x, float *y, long n, int tanh_form);
/// dx[i] = g[i] · GELU′(x[i]) for the same two forms.
void gb_gelu_backward(const float *g, const float *x, float *dx, long n, int tanh_form);

/// Whether every x[i] is finite (no NaN or ±inf).
int gb_all_finite(const float *x, long n);
/// Replaces each of `rows` rows of `width` values at x (row-major) by its softmax: subtract the
/// row maximum, exp, divide by the row sum accumulated in column order.
void gb_softmax_rows(float *x, long rows, long width);
/// out[g·o + j] = Σ_{b<k} w[b] · y[(g·k + b)·o + j] in double precision for g < groups, j < o:
/// weighted sums over consecutive blocks of k rows (a Shapley game's background average), each
/// accumulated from 0 in increasing b, every product rounded before it is added, so results are
/// identical on every instruction set.
void gb_weighted_group_sums(const float *y, long groups, long k, long o, const double *w, double *out);

#ifdef __cplusplus
}
#endif

#endif
