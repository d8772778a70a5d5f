// Checks the best vector path's kernels (NEON on arm64) against the generic C path and a
// double-precision reference on seeded random shapes and inputs. Built for aarch64 and run under
// qemu-aarch64 by scripts/test-neon; it also builds natively (then it checks AVX2 or AVX-512).
//
// Per kernel family: every case runs at GB_ISA_GENERIC and the best path; both must be within
// 1e-4·scale of the double sum, and bit-identical to each other where the generic path fuses
// multiply-adds in the same order (arm64; see GB_FMA in Sources/CKernels/gb_dispatch.h).

#include "CKernels.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_u64(void) {  // splitmix64
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static float uniform(void) { return (float)((next_u64() >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f; }
static long below(long n) { return (long)(next_u64() % (uint64_t)n); }
static float *randoms(long n) {
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    for (long i = 0; i < n; i++) p[i] = uniform();
    return p;
}

static int failures = 0, checks = 0;
static void expect(int ok, const char *what, long index, double got, double want) {
    checks++;
    if (!ok && failures++ < 20) fprintf(stderr, "FAIL %s at %ld: got %.9g, want %.9g\n", what, index, got, want);
}

static double activate(double v, int act, float slope) {
    if (act == GB_ACT_RELU) return v > 0 ? v : 0;
    if (act == GB_ACT_LEAKY_RELU) return v > 0 ? v : slope * v;
    return v;
}

static int paths[2] = {GB_ISA_GENERIC, GB_ISA_NEON};
static int path_count = 2, bitwise = 1;

// ---- direct convolution: a 3×3-style window over a zero-bordered channels-last image ----
static void check_conv(void) {
    for (int trial = 0; trial < 40; trial++) {
        const long kh = 1 + below(3), kw = 1 + below(3), taps = kh * kw;
        const long groups = 1 + below(2), cg = 1 + below(trial % 5 == 0 ? 120 : 20), og = 1 + below(70);
        const long rows = 1 + below(4), cols = 1 + below(30), channels = cg * groups, outc = og * groups;
        const long in_w = cols + kw - 1, in_h = rows + kh - 1;
        float *in = randoms(in_h * in_w * channels), *w = randoms(outc * taps * cg), *bias = randoms(outc);
        long *offsets = malloc((size_t)taps * sizeof(long));
        for (long t = 0; t < taps; t++) offsets[t] = ((t / kw) * in_w + t % kw) * channels;
        float *packed = malloc((size_t)gb_conv_packed_size(taps, cg, og, groups) * sizeof(float));
        float *pbias = malloc((size_t)gb_conv_bias_size(og, groups) * sizeof(float));
        gb_conv_pack(w, taps, cg, og, groups, packed);
        gb_conv_pack_bias(bias, og, groups, pbias);
        const int act = (int)below(3);
        gb_conv_desc d = {taps, cg, og, groups, offsets, packed, pbias, act, 0.1f};
        float *out[2];
        for (int p = 0; p < path_count; p++) {
            out[p] = malloc((size_t)(rows * cols * outc) * sizeof(float));
            const long tile = 1 + below(14);
            if (!gb_conv_apply_variant(paths[p], tile, &d, rows, cols, in, in_w * channels, channels, out[p], cols * outc, outc)) {
                fprintf(stderr, "FAIL conv: path %s not available\n", gb_cpu_isa_name(paths[p]));
                failures++;
                return;
            }
        }
        for (long r = 0; r < rows; r++)
            for (long q = 0; q < cols; q++)
                for (long o = 0; o < outc; o++) {
                    const long g = o / og;
                    double s = bias[o];
                    for (long t = 0; t < taps; t++)
                        for (long c = 0; c < cg; c++)
                            s += (double)in[(r * in_w + q) * channels + offsets[t] + g * cg + c] * w[o * taps * cg + t * cg + c];
                    const double want = activate(s, act, 0.1f);
                    const long i = (r * cols + q) * outc + o;
                    for (int p = 0; p < path_count; p++)
                        expect(fabs(out[p][i] - want) <= 1e-4 * (1 + fabs(want)), "conv vs double", i, out[p][i], want);
                    if (path_count == 2 && bitwise) expect(out[0][i] == out[1][i], "conv vector vs generic bits", i, out[1][i], out[0][i]);
                }
        for (int p = 0; p < path_count; p++) free(out[p]);
        free(in), free(w), free(bias), free(offsets), free(packed), free(pbias);
    }
}

// ---- narrow dense layer ----
static void check_narrow(void) {
    for (int trial = 0; trial < 60; trial++) {
        const long rows = 1 + below(40), k = 1 + below(100), og = 1 + below(12);
        const long x_rs = k + below(3), y_rs = below(2) ? og : og + 2;
        float *x = randoms(rows * x_rs), *w = randoms(og * k), *bias = randoms(og);
        float *packed = malloc((size_t)gb_dense_narrow_packed_size(k, og) * sizeof(float));
        gb_dense_narrow_pack(w, k, og, packed);
        const int act = (int)below(3);
        float *y[2];
        for (int p = 0; p < path_count; p++) {
            y[p] = malloc((size_t)(rows * y_rs) * sizeof(float));
            for (long i = 0; i < rows * y_rs; i++) y[p][i] = 99.0f;
            gb_dense_narrow_variant(paths[p], rows, k, og, x, x_rs, packed, bias, act, 0.2f, y[p], y_rs);
        }
        for (long r = 0; r < rows; r++)
            for (long o = 0; o < y_rs; o++) {
                const long i = r * y_rs + o;
                double want = 99.0;
                if (o < og) {
                    double s = bias[o];
                    for (long c = 0; c < k; c++) s += (double)x[r * x_rs + c] * w[o * k + c];
                    want = activate(s, act, 0.2f);
                }
                for (int p = 0; p < path_count; p++)
                    expect(fabs(y[p][i] - want) <= 1e-5 * (1 + fabs(want)), "narrow vs double", i, y[p][i], want);
                if (path_count == 2 && bitwise) expect(y[0][i] == y[1][i], "narrow vector vs generic bits", i, y[1][i], y[0][i]);
            }
        for (int p = 0; p < path_count; p++) free(y[p]);
        free(x), free(w), free(bias), free(packed);
    }
}

// ---- masked first layer ----
static void check_masked(void) {
    for (int trial = 0; trial < 60; trial++) {
        const long rows = 1 + below(30), width = 1 + below(80), d = 1 + below(20), n = below(d + 1);
        const long wt_rs = width + below(4), out_rs = width + 1, shared = below(2);
        const float sign = below(2) ? 1.0f : -1.0f;
        float *delta = randoms(rows * d), *wt = randoms(d * wt_rs), *base = randoms(rows * width);
        long *cols = malloc((size_t)(n > 0 ? n : 1) * sizeof(long));
        for (long t = 0; t < n; t++) cols[t] = below(d);
        const int act = (int)below(3);
        float *out[2];
        for (int p = 0; p < path_count; p++) {
            out[p] = malloc((size_t)(rows * out_rs) * sizeof(float));
            for (long i = 0; i < rows * out_rs; i++) out[p][i] = 99.0f;
            gb_masked_dense_variant(paths[p], rows, width, base, shared ? 0 : width, sign, delta, d, cols, n, wt, wt_rs, act,
                                    0.1f, out[p], out_rs);
        }
        for (long r = 0; r < rows; r++)
            for (long h = 0; h < out_rs; h++) {
                const long i = r * out_rs + h;
                double want = 99.0;
                if (h < width) {
                    double s = base[(shared ? 0 : r * width) + h];
                    for (long t = 0; t < n; t++) s += (double)sign * delta[r * d + cols[t]] * wt[cols[t] * wt_rs + h];
                    want = activate(s, act, 0.1f);
                }
                for (int p = 0; p < path_count; p++)
                    expect(fabs(out[p][i] - want) <= 1e-5 * (1 + fabs(want)), "masked vs double", i, out[p][i], want);
                if (path_count == 2 && bitwise) expect(out[0][i] == out[1][i], "masked vector vs generic bits", i, out[1][i], out[0][i]);
            }
        for (int p = 0; p < path_count; p++) free(out[p]);
        free(delta), free(wt), free(base), free(cols);
    }
}

// ---- the multiversioned loops (pointwise, pooling) and GEMM through the forced path ----
static void check_forced_families(void) {
    const long n = 1000;
    float *x = randoms(n), *y = malloc(n * sizeof(float));
    for (int p = 0; p < path_count; p++) {
        gb_cpu_force_isa(paths[p]);
        gb_exp(x, y, n);
        for (long i = 0; i < n; i++) expect(fabsf(y[i] - expf(x[i])) <= 3e-7f * expf(x[i]), "exp", i, y[i], expf(x[i]));
        double s = 0;
        for (long i = 0; i < n; i++) s += x[i];
        expect(fabs(gb_sum(x, n) - s) <= 1e-4, "sum", 0, gb_sum(x, n), s);
        // 2×2 max pool of a 6×6×5 image.
        float *pooled = malloc(3 * 3 * 5 * sizeof(float));
        gb_maxpool_nhwc(x, 6, 6, 5, 6 * 5, 5, pooled, 3, 3, 3 * 5, 5, 2, 2, 2, 2, 0, 0, 1, 1);
        for (long oy = 0; oy < 3; oy++)
            for (long ox = 0; ox < 3; ox++)
                for (long c = 0; c < 5; c++) {
                    float m = -INFINITY;
                    for (long i = 0; i < 2; i++)
                        for (long j = 0; j < 2; j++) {
                            const float v = x[((2 * oy + i) * 6 + 2 * ox + j) * 5 + c];
                            m = v > m ? v : m;
                        }
                    expect(pooled[(oy * 3 + ox) * 5 + c] == m, "maxpool", c, pooled[(oy * 3 + ox) * 5 + c], m);
                }
        free(pooled);
        // GEMM 37×29×53 against double.
        const long m = 37, nn = 29, k = 53;
        float *a = randoms(m * k), *b = randoms(k * nn), *c = malloc(m * nn * sizeof(float));
        gb_sgemm_threaded(0, 0, m, nn, k, 1.0f, a, k, b, nn, 0.0f, c, nn, 2);
        for (long i = 0; i < m; i++)
            for (long j = 0; j < nn; j++) {
                double want = 0;
                for (long q = 0; q < k; q++) want += (double)a[i * k + q] * b[q * nn + j];
                expect(fabs(c[i * nn + j] - want) <= 1e-4, "sgemm", i * nn + j, c[i * nn + j], want);
            }
        free(a), free(b), free(c);
        gb_cpu_force_isa(-1);
    }
    free(x), free(y);
}

int main(void) {
    printf("best path: %s; default path: %s\n", gb_cpu_isa_name(gb_cpu_best_isa()), gb_cpu_isa_name(gb_cpu_default_isa()));
    paths[1] = gb_cpu_best_isa();
    path_count = paths[1] == GB_ISA_GENERIC ? 1 : 2;
    bitwise = gb_cpu_generic_fused();
    printf("checking %s against generic (%s)\n", gb_cpu_isa_name(paths[1]),
           bitwise ? "bit for bit" : "generic rounds products: tolerance only");
    check_conv();
    printf("conv:   %d checks, %d failures\n", checks, failures);
    check_narrow();
    printf("narrow: %d checks, %d failures\n", checks, failures);
    check_masked();
    printf("masked: %d checks, %d failures\n", checks, failures);
    check_forced_families();
    printf("others: %d checks, %d failures\n", checks, failures);
    if (failures) {
        printf("FAILED\n");
        return 1;
    }
    printf("all %d checks passed\n", checks);
    return 0;
}
