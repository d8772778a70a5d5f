#!/usr/bin/env python3
"""NumPy (OpenBLAS) float32 GEMM reference for Glassbox's SGEMM.

Times `a @ b` for square float32 matrices at n = 256, 512 and 1024 with 2 BLAS threads and
prints one JSON object {"numpy_gemm_gflops_<n>": GFLOP/s, ...}. Each figure is the median of
REPEATS timed repetitions after warm-up; a repetition loops until it has run for at least
MIN_SECONDS so that timer resolution does not matter at n = 256. FLOP count: 2·n³.
"""
import os

# The thread count must be fixed before numpy (and its BLAS) is imported.
os.environ["OPENBLAS_NUM_THREADS"] = "2"
os.environ["OMP_NUM_THREADS"] = "2"

import json
import time

import numpy as np

SIZES = (256, 512, 1024)
REPEATS = 11
WARMUP = 3
MIN_SECONDS = 0.02


def gflops(n: int) -> float:
    rng = np.random.default_rng(n)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    for _ in range(WARMUP):
        np.matmul(a, b, out=out)
    # Calls per repetition: enough to last MIN_SECONDS.
    start = time.perf_counter()
    np.matmul(a, b, out=out)
    once = max(time.perf_counter() - start, 1e-6)
    inner = max(1, int(MIN_SECONDS / once))
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(inner):
            np.matmul(a, b, out=out)
        times.append((time.perf_counter() - start) / inner)
    times.sort()
    return 2.0 * n**3 / times[len(times) // 2] / 1e9


def main() -> None:
    print(json.dumps({f"numpy_gemm_gflops_{n}": round(gflops(n), 1) for n in SIZES}))


if __name__ == "__main__":
    main()
