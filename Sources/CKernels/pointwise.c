// Vectorised transcendental loops (see include/gb_pointwise.h).
//
// Every function is a plain loop over branch-free scalar code: GB_MULTIVERSION (gb_dispatch.h)
// compiles it once per path and the loop vectoriser turns the selects into blends, so one source
// gives 16-wide AVX-512, 8-wide AVX2 and 4-wide SSE2 (x86-64) or NEON (arm64) versions. Bit patterns move through memcpy, which
// the compiler lowers to register moves.

#include "gb_dispatch.h"

#include <stdint.h>
#include <string.h>

GB_INLINE float gb_from_bits(int32_t i) { float f; memcpy(&f, &i, sizeof f); return f; }
GB_INLINE int32_t gb_to_bits(float f) { int32_t i; memcpy(&i, &f, sizeof i); return i; }

// Cephes' expf: n = round(x·log2 e), r = x − n·ln 2 in two parts (exact products), e^r by a
// degree-6 polynomial on [−ln2/2, ln2/2], times 2^n built in the exponent bits.
GB_INLINE float gb_exp1(float x) {
    float c = x < -87.33654f ? -87.33654f : x;
    c = c > 88.72283f ? 88.72283f : c;
    // Adding 1.5·2²³ rounds to the nearest integer n and leaves n in the low mantissa bits.
    float shifted = c * 1.442695041f + 12582912.0f;
    float n = shifted - 12582912.0f;
    int32_t k = gb_to_bits(shifted) - 0x4B400000;
    float r = (c - n * 0.693359375f) + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    // k ∈ [−126, 128]; 2¹²⁸ is not a float, so the top case scales by 2·2¹²⁷.
    int top = k > 127;
    // Shifted as unsigned: a NaN input gives a garbage k (its result is discarded below), and a
    // signed left shift of a negative value is undefined behaviour.
    float scale = gb_from_bits((int32_t)((uint32_t)((top ? k - 1 : k) + 127) << 23));
    float y = (top ? p * 2.0f : p) * scale;
    return x < -87.33654f ? 0.0f : (x > 88.72283f ? INFINITY : (x != x ? x : y));
}

GB_INLINE float gb_sigmoid1(float x) {
    float e = gb_exp1(-fabsf(x));
    float r = 1.0f / (1.0f + e);
    return x >= 0.0f ? r : e * r;
}

// Cephes' tanhf: an odd polynomial below |x| = 0.625, where 1 − 2/(e^{2|x|} + 1) would cancel.
GB_INLINE float gb_tanh1(float x) {
    float a = fabsf(x), z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = p * z * x + x;
    float large = 1.0f - 2.0f / (gb_exp1(2.0f * a) + 1.0f);
    return a < 0.625f ? small : (x < 0.0f ? -large : large);
}

// Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7 before rounding).
GB_INLINE float gb_erf1(float x) {
    float a = fabsf(x);
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    float y = 1.0f - p * t * gb_exp1(-a * a);
    return x < 0.0f ? -y : y;
}

#define GB_INV_SQRT2 0.70710678118654752f
#define GB_INV_SQRT_2PI 0.39894228040143268f
#define GB_SQRT_2_OVER_PI 0.79788456080286536f
#define GB_GELU_CUBIC 0.044715f

GB_INLINE float gb_gelu_tanh_inner(float x) { return GB_SQRT_2_OVER_PI * (x + GB_GELU_CUBIC * x * x * x); }

// Sums 16 lane totals pairwise in a fixed order, so a reduction's result does not depend on the
// vector width the clone runs with.
GB_INLINE float gb_combine(float lanes[16]) {
    for (int width = 8; width >= 1; width /= 2) {
        for (int l = 0; l < width; l++) lanes[l] += lanes[l + width];
    }
    return lanes[0];
}

GB_INLINE void gb_exp_impl(const float *restrict x, float *restrict y, long n) {
    for (long i = 0; i < n; i++) y[i] = gb_exp1(x[i]);
}
GB_MULTIVERSION(void, gb_exp, (const float *restrict x, float *restrict y, long n), (x, y, n))

GB_INLINE float gb_exp_shifted_sum_impl(const float *restrict x, float shift, float *restrict y, long n) {
    float lanes[16] = {0};
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int l = 0; l < 16; l++) {
            float e = gb_exp1(x[i + l] - shift);
            y[i + l] = e;
            lanes[l] += e;
        }
    }
    float tail = 0.0f;
    for (; i < n; i++) {
        y[i] = gb_exp1(x[i] - shift);
        tail += y[i];
    }
    return gb_combine(lanes) + tail;
}
GB_MULTIVERSION(float, gb_exp_shifted_sum, (const float *restrict x, float shift, float *restrict y, long n), (x, shift, y, n))

GB_INLINE float gb_max_impl(const float *restrict x, long n) {
    float lanes[16];
    for (int l = 0; l < 16; l++) lanes[l] = -INFINITY;
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int l = 0; l < 16; l++) lanes[l] = x[i + l] > lanes[l] ? x[i + l] : lanes[l];
    }
    float m = -INFINITY;
    for (int l = 0; l < 16; l++) m = lanes[l] > m ? lanes[l] : m;
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}
GB_MULTIVERSION(float, gb_max, (const float *restrict x, long n), (x, n))

GB_INLINE float gb_sum_impl(const float *restrict x, long n) {
    float lanes[16] = {0};
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int l = 0; l < 16; l++) lanes[l] += x[i + l];
    }
    float tail = 0.0f;
    for (; i < n; i++) tail += x[i];
    return gb_combine(lanes) + tail;
}
GB_MULTIVERSION(float, gb_sum, (const float *restrict x, long n), (x, n))

GB_INLINE float gb_dot_impl(const float *restrict a, const float *restrict b, long n) {
    float lanes[16] = {0};
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int l = 0; l < 16; l++) lanes[l] += a[i + l] * b[i + l];
    }
    float tail = 0.0f;
    for (; i < n; i++) tail += a[i] * b[i];
    return gb_combine(lanes) + tail;
}
GB_MULTIVERSION(float, gb_dot, (const float *restrict a, const float *restrict b, long n), (a, b, n))

GB_INLINE void gb_sigmoid_impl(const float *restrict x, float *restrict y, long n) {
    for (long i = 0; i < n; i++) y[i] = gb_sigmoid1(x[i]);
}
GB_MULTIVERSION(void, gb_sigmoid, (const float *restrict x, float *restrict y, long n), (x, y, n))

GB_INLINE void gb_tanh_impl(const float *restrict x, float *restrict y, long n) {
    for (long i = 0; i < n; i++) y[i] = gb_tanh1(x[i]);
}
GB_MULTIVERSION(void, gb_tanh, (const float *restrict x, float *restrict y, long n), (x, y, n))

GB_INLINE void gb_gelu_impl(const float *restrict x, float *restrict y, long n, int tanh_form) {
    if (tanh_form) {
        for (long i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + gb_tanh1(gb_gelu_tanh_inner(x[i])));
    } else {
        for (long i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + gb_erf1(x[i] * GB_INV_SQRT2));
    }
}
GB_MULTIVERSION(void, gb_gelu, (const float *restrict x, float *restrict y, long n, int tanh_form), (x, y, n, tanh_form))

GB_INLINE void gb_gelu_backward_impl(const float *restrict g, const float *restrict x, float *restrict dx, long n,
                                int tanh_form) {
    if (tanh_form) {
        for (long i = 0; i < n; i++) {
            float v = x[i], t = gb_tanh1(gb_gelu_tanh_inner(v));
            float du = GB_SQRT_2_OVER_PI * (1.0f + 3.0f * GB_GELU_CUBIC * v * v);
            dx[i] = g[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * du);
        }
    } else {
        for (long i = 0; i < n; i++) {
            float v = x[i];
            float cdf = 0.5f * (1.0f + gb_erf1(v * GB_INV_SQRT2));
            float pdf = GB_INV_SQRT_2PI * gb_exp1(-0.5f * v * v);
            dx[i] = g[i] * (cdf + v * pdf);
        }
    }
}
GB_MULTIVERSION(void, gb_gelu_backward, (const float *restrict g, const float *restrict x, float *restrict dx, long n, int tanh_form), (g, x, dx, n, tanh_form))

// ---- Row-wise helpers for batched model outputs ----------------------------------------------

GB_INLINE int gb_all_finite_impl(const float *x, long n) {
    // Integer test of the exponent bits: an OR-reduction the vectoriser handles (a float sum
    // would need reassociation it may not do).
    uint32_t bad = 0;
    for (long i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, x + i, sizeof bits);
        bad |= (bits & 0x7F800000u) == 0x7F800000u;
    }
    return bad == 0;
}
GB_MULTIVERSION(int, gb_all_finite, (const float *x, long n), (x, n))

GB_INLINE void gb_softmax_rows_impl(float *x, long rows, long width) {
    if (width == 2) {
        // The binary case: the larger logit's exp(0) is exactly 1, so one exp per row gives the
        // general loop's bits (exp(a − m), exp(b − m), their sum, the quotients).
        for (long r = 0; r < rows; r++) {
            float a = x[2 * r], b = x[2 * r + 1];
            int second = b >= a;
            float e = gb_exp1(second ? a - b : b - a);
            float s = e + 1.0f;
            x[2 * r] = (second ? e : 1.0f) / s;
            x[2 * r + 1] = (second ? 1.0f : e) / s;
        }
        return;
    }
    for (long r = 0; r < rows; r++) {
        float *row = x + r * width;
        float m = row[0];
        for (long j = 1; j < width; j++) m = row[j] >= m ? row[j] : m;
        float s = 0.0f;
        for (long j = 0; j < width; j++) {
            row[j] = gb_exp1(row[j] - m);
            s += row[j];
        }
        for (long j = 0; j < width; j++) row[j] /= s;
    }
}
GB_MULTIVERSION(void, gb_softmax_rows, (float *x, long rows, long width), (x, rows, width))

// Products are rounded before they are added (no FMA contraction), so the sums are the same on
// every instruction set and equal to `sum += w * Double(y)` written out in Swift. Several groups
// run at once — GROUPS·o independent sums per background row instead of one chain of dependent
// additions — with the common narrow widths unrolled.
enum { GB_SUM_GROUPS = 8, GB_SUM_WIDTH = 16 };

GB_INLINE void gb_group_sums_block(const int O, const float *y, long gn, long k, long o, const double *w,
                                   double *out) {
#pragma STDC FP_CONTRACT OFF
    const long width = O > 0 ? O : o;
    double acc[GB_SUM_GROUPS * GB_SUM_WIDTH] = {0};
    for (long b = 0; b < k; b++) {
        const double wb = w[b];
        if (O > 0 && gn == GB_SUM_GROUPS) {
            for (int t = 0; t < GB_SUM_GROUPS; t++) {
                const float *row = y + (t * k + b) * O;
                for (int j = 0; j < O; j++) acc[t * O + j] += wb * (double)row[j];
            }
        } else {
            for (long t = 0; t < gn; t++) {
                const float *row = y + (t * k + b) * width;
                for (long j = 0; j < width; j++) acc[t * width + j] += wb * (double)row[j];
            }
        }
    }
    for (long t = 0; t < gn; t++)
        for (long j = 0; j < width; j++) out[t * width + j] = acc[t * width + j];
}

GB_INLINE void gb_weighted_group_sums_impl(const float *y, long groups, long k, long o, const double *w, double *out) {
#pragma STDC FP_CONTRACT OFF
    if (o > GB_SUM_WIDTH) {
        for (long g = 0; g < groups; g++)
            for (long j = 0; j < o; j++) {
                double s = 0.0;
                for (long b = 0; b < k; b++) s += w[b] * (double)y[(g * k + b) * o + j];
                out[g * o + j] = s;
            }
        return;
    }
    for (long g0 = 0; g0 < groups; g0 += GB_SUM_GROUPS) {
        const long gn = groups - g0 < GB_SUM_GROUPS ? groups - g0 : GB_SUM_GROUPS;
        const float *block = y + g0 * k * o;
        double *target = out + g0 * o;
        switch (o) {
        case 1: gb_group_sums_block(1, block, gn, k, o, w, target); break;
        case 2: gb_group_sums_block(2, block, gn, k, o, w, target); break;
        default: gb_group_sums_block(0, block, gn, k, o, w, target); break;
        }
    }
}
GB_MULTIVERSION(void, gb_weighted_group_sums, (const float *y, long groups, long k, long o, const double *w, double *out), (y, groups, k, o, w, out))
