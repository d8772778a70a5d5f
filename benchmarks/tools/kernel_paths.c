// Times the inference kernels at every path this CPU runs, interleaved (path A, path B, A, B …
// for each repeat) so load changes on a shared machine hit every path alike; prints the median
// and every repeat. Shapes: the benchmark CNN's second convolution (3×3, 32 → 64 channels on a
// 14 × 14 output), a masked first layer (100 rows, 64 outputs, 8 of 16 columns), a classifier
// head (1,024 rows, 32 → 2).
//   clang -O2 -ISources/CKernels/include Sources/CKernels/*.c benchmarks/tools/kernel_paths.c \
//       -o /tmp/kernel_paths -lm -lpthread && /tmp/kernel_paths
#include "CKernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { REPEATS = 7 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static float *filled(long n, int mod, float scale) {
    float *p = malloc((size_t)n * sizeof(float));
    for (long i = 0; i < n; i++) p[i] = (float)(i % mod) * scale - 0.5f;
    return p;
}

// Shared state of the three workloads.
static gb_conv_desc conv;
static long conv_off[9];
static float *conv_in, *conv_out, *m_base, *m_delta, *m_wt, *m_out, *n_x, *n_w, *n_y;
static long m_cols[8] = {0, 2, 4, 6, 8, 10, 12, 14};

static void run(int workload, int isa) {
    switch (workload) {
    case 0: gb_conv_apply_variant(isa, 14, &conv, 14, 14, conv_in, 16 * 32, 32, conv_out, 14 * 64, 64); break;
    case 1: gb_masked_dense_variant(isa, 100, 64, m_base, 64, 1, m_delta, 16, m_cols, 8, m_wt, 64, GB_ACT_RELU, 0, m_out, 64); break;
    default: gb_dense_narrow_variant(isa, 1024, 32, 2, n_x, 32, n_w, NULL, GB_ACT_NONE, 0, n_y, 2); break;
    }
}

int main(void) {
    conv_in = filled(16 * 16 * 32, 17, 0.05f);
    float *w = filled(64 * 9 * 32, 13, 0.05f), *b = filled(64, 5, 0.1f);
    for (int t = 0; t < 9; t++) conv_off[t] = ((t / 3) * 16 + t % 3) * 32;
    float *pw = malloc((size_t)gb_conv_packed_size(9, 32, 64, 1) * sizeof(float));
    float *pb = malloc((size_t)gb_conv_bias_size(64, 1) * sizeof(float));
    gb_conv_pack(w, 9, 32, 64, 1, pw);
    gb_conv_pack_bias(b, 64, 1, pb);
    conv = (gb_conv_desc){9, 32, 64, 1, conv_off, pw, pb, GB_ACT_RELU, 0};
    conv_out = malloc(14 * 14 * 64 * sizeof(float));
    m_base = filled(100 * 64, 7, 0.01f), m_delta = filled(100 * 16, 5, 0.02f), m_wt = filled(16 * 64, 11, 0.03f);
    m_out = malloc(100 * 64 * sizeof(float));
    n_x = filled(1024 * 32, 9, 0.01f);
    float *nw = filled(2 * 32, 3, 0.1f);
    n_w = malloc((size_t)gb_dense_narrow_packed_size(32, 2) * sizeof(float));
    gb_dense_narrow_pack(nw, 32, 2, n_w);
    n_y = malloc(1024 * 2 * sizeof(float));

    const char *names[3] = {"conv 3x3 32->64, 14x14 out", "masked dense 100 rows x 64, 8 cols", "narrow dense 1024 x 32->2"};
    const double flops[3] = {2.0 * 14 * 14 * 64 * 9 * 32, 2.0 * 100 * 64 * 8, 2.0 * 1024 * 32 * 2};
    int paths[GB_ISA_COUNT], count = 0;
    for (int isa = 0; isa < GB_ISA_COUNT; isa++)
        if (gb_cpu_isa_supported(isa)) paths[count++] = isa;
    for (int wl = 0; wl < 3; wl++) {
        double t[GB_ISA_COUNT][REPEATS];
        for (int r = 0; r < REPEATS; r++) {
            for (int p = 0; p < count; p++) {
                // Calls per timing: about 20 ms of work at the slowest path.
                const int calls = wl == 0 ? 20 : 400;
                run(wl, paths[p]);
                const double t0 = now();
                for (int c = 0; c < calls; c++) run(wl, paths[p]);
                t[p][r] = (now() - t0) / calls;
            }
        }
        printf("%s\n", names[wl]);
        for (int p = 0; p < count; p++) {
            double sorted[REPEATS];
            for (int r = 0; r < REPEATS; r++) sorted[r] = t[p][r];
            qsort(sorted, REPEATS, sizeof(double), cmp);
            printf("  %-8s median %9.1f us  %6.2f GFLOP/s  runs:", gb_cpu_isa_name(paths[p]), sorted[REPEATS / 2] * 1e6,
                   flops[wl] / sorted[REPEATS / 2] / 1e9);
            for (int r = 0; r < REPEATS; r++) printf(" %.1f", t[p][r] * 1e6);
            printf("\n");
        }
    }
    return 0;
}
