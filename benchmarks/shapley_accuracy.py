#!/usr/bin/env python3
"""Time to accuracy of Shapley estimators: Glassbox Kernel SHAP and permutation SHAP against
shap.KernelExplainer and shap.PermutationExplainer, on the same model and the same game.

For each feature count (default 8, 16, 32, 64) it builds the setting of benchmarks/shap_reference.py
(make_classification data, an sklearn MLP (64, 32) trained on it and saved as a Glassbox model file),
draws a background and rows to explain, and computes reference Shapley values of class 1:

  - up to 16 features: exact enumeration (`glassbox explain --method exact-shapley`);
  - above: the mean of several very long Glassbox Kernel SHAP runs (different seeds); their own
    standard error, relative to the values, is printed as `reference_relative_se` (it should be far
    below the 1 % target).

Then each method runs on a doubling ladder of budgets (coalitions per row for Glassbox and
KernelExplainer's nsamples, max_evals for PermutationExplainer) until the relative L2 error
‖φ̂ − φ‖₂ / ‖φ‖₂ over all explained rows falls to the target (default 1 %); the time of that run is the
method's time to accuracy. Glassbox's time is the explainer's own wall time from the audit (model
loading and process start excluded); shap's is the `shap_values`/`__call__` wall time (explainer
construction excluded). Both use all cores. A method that does not reach the target before a run
takes longer than --cap-seconds is reported as not reached, with the last error.

  benchmarks/shapley_accuracy.py                       # all four sizes, JSON lines and a Markdown table
  benchmarks/shapley_accuracy.py --features 16 --rows 4

Needs: pip install shap scikit-learn; a release build of glassbox (swift build -c release).
Optional and outside the test suite.
"""
import argparse, json, os, subprocess, sys, tempfile, time, warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shap_reference import build_setting, model_function, read_rows, write_csv  # noqa: E402


def relative_error(estimate, exact):
    return float(np.linalg.norm(estimate - exact) / np.linalg.norm(exact))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--features", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--rows", type=int, default=3)
    parser.add_argument("--background", type=int, default=10)
    parser.add_argument("--target", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reference-budget", type=int, default=1 << 20)
    parser.add_argument("--reference-runs", type=int, default=4)
    parser.add_argument("--cap-seconds", type=float, default=300)
    parser.add_argument("--methods", nargs="+",
                        default=["glassbox-kernel", "glassbox-permutation", "shap-kernel", "shap-permutation"])
    parser.add_argument("--glassbox", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "glassbox"))
    args = parser.parse_args()
    import shap
    warnings.filterwarnings("ignore")
    table = []
    for d in args.features:
        with tempfile.TemporaryDirectory() as tmp:
            model, data = build_setting(tmp, d, args.seed)
            f, names, _ = model_function(model)
            x = read_rows(data, names)
            picked = np.random.default_rng(args.seed).permutation(len(x))
            background, explained = x[picked[:args.background]], x[picked[args.background:args.background + args.rows]]
            bg_csv, rows_csv = os.path.join(tmp, "background.csv"), os.path.join(tmp, "rows.csv")
            write_csv(bg_csv, background, names)
            write_csv(rows_csv, explained, names)

            def glassbox(method, budget=None, seed=0):
                command = [args.glassbox, "explain", "--model", model, "--data", rows_csv, "--background-data", bg_csv,
                           "--method", method, "--seed", str(seed), "--json", "--quiet"]
                if budget is not None:
                    command += ["--budget", str(budget)]
                report = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
                values = np.array(report["attributions"])[:, 1, :]
                se = report.get("standard_errors")
                return values, report["audit"]["wall_seconds"], (None if se is None else np.array(se, dtype=float)[:, 1, :])

            start = time.perf_counter()
            if d <= 16:
                exact, seconds, _ = glassbox("exact-shapley")
                reference = {"kind": "exact enumeration", "seconds": seconds, "relative_se": 0.0}
            else:
                runs = [glassbox("kernel-shap", args.reference_budget, seed=1000 + s)[0] for s in range(args.reference_runs)]
                exact = np.mean(runs, axis=0)
                spread = np.std(runs, axis=0, ddof=1) / np.sqrt(len(runs))
                reference = {"kind": f"mean of {len(runs)} Kernel SHAP runs of {args.reference_budget} coalitions",
                             "seconds": time.perf_counter() - start,
                             "relative_se": float(np.linalg.norm(spread) / np.linalg.norm(exact))}
            print(json.dumps({"features": d, "reference": reference}), flush=True)

            kernel = shap.KernelExplainer(f, background)
            permutation = shap.PermutationExplainer(f, shap.maskers.Independent(background, max_samples=len(background)))

            def run(method, budget):
                se = None
                if method == "glassbox-kernel":
                    values, seconds, se = glassbox("kernel-shap", budget, seed=args.seed)
                elif method == "glassbox-permutation":
                    values, seconds, se = glassbox("permutation-shap", budget, seed=args.seed)
                elif method == "shap-kernel":
                    np.random.seed(args.seed)
                    start = time.perf_counter()
                    out = kernel.shap_values(explained, nsamples=budget, l1_reg=False, silent=True)
                    seconds = time.perf_counter() - start
                    values = np.asarray(out[1] if isinstance(out, list) else np.asarray(out)[:, :, 1])
                else:
                    np.random.seed(args.seed)
                    start = time.perf_counter()
                    out = permutation(explained, max_evals=budget, silent=True)
                    seconds = time.perf_counter() - start
                    values = np.asarray(out.values)[:, :, 1]
                return values, seconds, se

            row = {"features": d, "reference": reference["kind"], "reference_relative_se": reference["relative_se"]}
            for method in args.methods:
                budget = 2 * d + 2 if method != "shap-permutation" else 2 * (2 * d + 1)
                budget = 1 << int(np.ceil(np.log2(budget)))
                ladder = []
                reached = None
                while budget <= (1 << 20):
                    try:
                        values, seconds, se = run(method, budget)
                    except subprocess.CalledProcessError as error:
                        ladder.append({"budget": budget, "failed": error.stderr.strip()[-200:]})
                        break
                    error = relative_error(values, exact)
                    ladder.append({"budget": budget, "seconds": seconds, "error": error})
                    if se is not None:
                        # Glassbox's own error estimate: the relative L2 norm of the standard errors,
                        # and how many sampled attributions lie within two of them.
                        sampled = np.isfinite(se) & (se > 0)
                        ladder[-1]["estimated_error"] = float(np.linalg.norm(np.nan_to_num(se)) / np.linalg.norm(exact))
                        if sampled.any():
                            ladder[-1]["within_2se"] = float(np.mean(np.abs(values - exact)[sampled] <= 2 * se[sampled]))
                    print(json.dumps({"features": d, "method": method, **ladder[-1]}), flush=True)
                    if error <= args.target:
                        reached = ladder[-1]
                        break
                    if seconds > args.cap_seconds:
                        break
                    budget *= 2
                row[method] = {"reached": reached, "last": ladder[-1] if ladder else None}
            table.append(row)
            print(json.dumps(row), flush=True)

    def cell(entry):
        if entry["reached"]:
            return f"{entry['reached']['seconds']:.3g} s (budget {entry['reached']['budget']}, error {entry['reached']['error']:.2%})"
        last = entry["last"] or {}
        return f"not reached (> {last.get('seconds', 0):.3g} s at budget {last.get('budget')}, error {last.get('error', float('nan')):.2%})"

    print()
    print(f"Time to {args.target:.0%} relative L2 error, {args.rows} rows, {args.background} background rows, "
          f"shap {shap.__version__}, load average {os.getloadavg()[0]:.1f}")
    print("| features | reference | " + " | ".join(args.methods) + " | shap / Glassbox (Kernel) | shap / Glassbox (permutation) |")
    print("|" + "---|" * (len(args.methods) + 4))
    for row in table:
        def time_of(method):
            entry = row.get(method)
            return entry["reached"]["seconds"] if entry and entry["reached"] else None
        ratios = []
        for ours, theirs in [("glassbox-kernel", "shap-kernel"), ("glassbox-permutation", "shap-permutation")]:
            a, b = time_of(ours), time_of(theirs)
            ratios.append(f"{b / a:.2g}×" if a and b else ("≥ " + f"{row[theirs]['last']['seconds'] / a:.2g}×" if a and row.get(theirs) and row[theirs]["last"] and "seconds" in row[theirs]["last"] else "—"))
        print(f"| {row['features']} | {row['reference']} (rel. se {row['reference_relative_se']:.2%}) | "
              + " | ".join(cell(row[m]) for m in args.methods) + " | " + " | ".join(ratios) + " |")


if __name__ == "__main__":
    main()
