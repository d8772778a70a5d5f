#!/usr/bin/env python3
"""Exact Shapley against Kernel SHAP's default budget, same run: the cost multiple of exactness.

Builds the 16-feature setting of benchmarks/shap_reference.py (an sklearn MLP (64, 32) saved as a Glassbox
model file), then times, alternating, `glassbox explain --method exact-shapley` and `--method kernel-shap`
(default budget 2·16 + 2048) on the same rows and background, and optionally the exact method of another
glassbox binary (--baseline, e.g. a build of the previous commit). Times are the explainer's wall time
from the audit (model loading and process start excluded). Prints every run, the medians and the
pairwise ratios exact / Kernel SHAP.

  benchmarks/exact_cost.py --rows 4 --background 20 --repeat 3 [--baseline path/to/old/glassbox]
"""
import argparse, json, os, subprocess, sys, tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shap_reference import build_setting, read_rows, write_csv  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--rows", type=int, default=4)
    parser.add_argument("--background", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline")
    parser.add_argument("--glassbox", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "glassbox"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model, data = build_setting(tmp, args.features, args.seed)
        names = [f"f{i}" for i in range(args.features)]
        x = read_rows(data, names)
        picked = np.random.default_rng(args.seed).permutation(len(x))
        bg_csv, rows_csv = os.path.join(tmp, "background.csv"), os.path.join(tmp, "rows.csv")
        write_csv(bg_csv, x[picked[:args.background]], names)
        write_csv(rows_csv, x[picked[args.background:args.background + args.rows]], names)

        def run(binary, method):
            out = subprocess.run([binary, "explain", "--model", model, "--data", rows_csv, "--background-data", bg_csv,
                                  "--method", method, "--json", "--quiet"], check=True, capture_output=True, text=True).stdout
            report = json.loads(out)
            return report["audit"]["wall_seconds"], np.array(report["attributions"])

        sides = [("exact", args.glassbox, "exact-shapley"), ("kernel", args.glassbox, "kernel-shap")]
        if args.baseline:
            sides.append(("baseline_exact", args.baseline, "exact-shapley"))
        times = {name: [] for name, _, _ in sides}
        values = {}
        for _ in range(args.repeat):
            for name, binary, method in sides:
                seconds, values[name] = run(binary, method)
                times[name].append(seconds)
                print(json.dumps({name: seconds}), flush=True)
        result = {"features": args.features, "rows": args.rows, "background": args.background, "runs": times,
                  "medians": {k: float(np.median(v)) for k, v in times.items()},
                  "exact_over_kernel_pairs": [e / k for e, k in zip(times["exact"], times["kernel"])],
                  "load_average_1min": os.getloadavg()[0]}
        result["exact_over_kernel_median"] = float(np.median(result["exact_over_kernel_pairs"]))
        if args.baseline:
            result["baseline_over_exact_pairs"] = [b / e for b, e in zip(times["baseline_exact"], times["exact"])]
            result["max_abs_difference_vs_baseline"] = float(np.abs(values["exact"] - values["baseline_exact"]).max())
        print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
