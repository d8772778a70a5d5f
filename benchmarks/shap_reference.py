#!/usr/bin/env python3
"""Glassbox Kernel SHAP against the reference `shap` package's KernelExplainer, on the same function.

Both sides explain the same model file: Glassbox through `glassbox explain --json`, shap through a NumPy
forward pass of the file's weights (this script reads the safetensors file itself), with the same
background rows and explained rows and the same coalition budget. shap runs with l1_reg=False, the
plain constrained regression that Glassbox computes by default (shap's own default selects 10 features).

  benchmarks/shap_reference.py            agreement: correlation of the attributions (target ≥ 0.99)
  benchmarks/shap_reference.py --speed    the paper's setting (16 features, 100-row background, 500 rows,
                                          budget 2·16 + 2048): wall and CPU time of each and the ratios
                                          (target ≥ 50× in wall time; a loaded machine distorts wall time,
                                          so the load average is reported with them)
  … --speed --repeat 3                    each side timed 3 times, alternating; medians and every run

Without --model/--data it builds the setting itself: make_classification data (16 features, 5 informative),
an sklearn MLP (64, 32) trained on it, saved as a Glassbox model file (weights, architecture, standardiser).
Needs: pip install shap scikit-learn; a release build of glassbox (swift build -c release).
Optional and outside the test suite.
"""
import argparse, json, os, resource, struct, subprocess, sys, tempfile, time, warnings

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        buffer = f.read()
    metadata = header.pop("__metadata__", {})
    dtypes = {"F32": np.float32, "F64": np.float64}
    tensors = {name: np.frombuffer(buffer[s["data_offsets"][0]:s["data_offsets"][1]], dtype=dtypes[s["dtype"]]).reshape(s["shape"])
               for name, s in header.items()}
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, t in tensors.items():
        data = np.ascontiguousarray(t, dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def model_function(path):
    """f(raw rows) = softmax(MLP(standardise(rows))), from the model file alone."""
    tensors, metadata = read_safetensors(path)
    spec = json.loads(metadata["glassbox.architecture"])
    scaler = json.loads(metadata["glassbox.standardizer"]) if "glassbox.standardizer" in metadata else None
    layers = spec["layers"] if spec["type"] == "Sequential" else [spec]
    steps = []
    for i, layer in enumerate(layers):
        kind = layer["type"]
        if kind == "Linear":
            steps.append(("linear", tensors[f"{i}.weight"].astype(np.float32), tensors.get(f"{i}.bias")))
        elif kind in ("ReLU", "LeakyReLU"):
            steps.append(("relu", layer.get("negative_slope", 0.0) if kind == "LeakyReLU" else 0.0, None))
        elif kind != "Dropout":
            sys.exit(f"unsupported layer {kind} for the NumPy forward pass")

    def f(x):
        h = np.asarray(x, dtype=np.float32)
        if scaler:
            h = (h - np.asarray(scaler["mean"], np.float32)) / np.asarray(scaler["std"], np.float32)
        for kind, a, b in steps:
            if kind == "linear":
                h = h @ a.T + (b if b is not None else 0)
            else:
                h = np.where(h > 0, h, a * h)
        h = h - h.max(axis=1, keepdims=True)
        e = np.exp(h)
        return e / e.sum(axis=1, keepdims=True)
    names = json.loads(metadata["glassbox.feature_names"])
    return f, names, metadata.get("glassbox.target")


def build_setting(directory, features, seed):
    """Synthetic classification data and a trained (64, 32) MLP saved as a Glassbox model file."""
    from sklearn.datasets import make_classification
    from sklearn.neural_network import MLPClassifier
    x, y = make_classification(n_samples=1200, n_features=features, n_informative=5, n_redundant=0,
                               random_state=seed)
    x = x.astype(np.float32)
    train, rest = slice(0, 600), slice(600, 1200)
    mean, std = x[train].mean(0), x[train].std(0)
    clf = MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=300, random_state=seed).fit((x[train] - mean) / std, y[train])
    w, b = clf.coefs_, clf.intercepts_
    # sklearn's binary output is one logit z; logits [0, z] give the same probabilities through a softmax.
    last_w = np.vstack([np.zeros(w[2].shape[0]), w[2][:, 0]])
    last_b = np.array([0.0, b[2][0]])
    names = [f"f{i}" for i in range(features)]
    tensors = {"0.weight": w[0].T, "0.bias": b[0], "2.weight": w[1].T, "2.bias": b[1], "4.weight": last_w, "4.bias": last_b}
    arch = {"type": "Sequential", "layers": [
        {"type": "Linear", "in_features": features, "out_features": 64}, {"type": "ReLU"},
        {"type": "Linear", "in_features": 64, "out_features": 32}, {"type": "ReLU"},
        {"type": "Linear", "in_features": 32, "out_features": 2}]}
    metadata = {"glassbox.architecture": json.dumps(arch), "glassbox.format": "1",
                "glassbox.feature_names": json.dumps(names), "glassbox.class_names": json.dumps(["0", "1"]),
                "glassbox.target": "target",
                "glassbox.standardizer": json.dumps({"mean": mean.tolist(), "std": std.tolist()})}
    model = os.path.join(directory, "model.safetensors")
    write_safetensors(model, tensors, metadata)
    data = os.path.join(directory, "data.csv")
    write_csv(data, x[rest], names, y[rest])
    return model, data


def write_csv(path, rows, names, labels=None):
    with open(path, "w") as f:
        f.write(",".join(names + (["target"] if labels is not None else [])) + "\n")
        for i, row in enumerate(rows):
            cells = [repr(float(v)) for v in row] + ([str(int(labels[i]))] if labels is not None else [])
            f.write(",".join(cells) + "\n")


def read_rows(path, names):
    with open(path) as f:
        header = f.readline().strip().split(",")
        columns = [header.index(n) for n in names]
        return np.array([[float(line.split(",")[j]) for j in columns] for line in f if line.strip()], dtype=np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model"); parser.add_argument("--data")
    parser.add_argument("--rows", type=int); parser.add_argument("--background", type=int, default=100)
    parser.add_argument("--budget", type=int); parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--repeat", type=int, default=1,
                        help="time each side this many times, alternating (Glassbox, shap, Glassbox, …), and report medians")
    parser.add_argument("--glassbox", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "glassbox"))
    args = parser.parse_args()
    import shap
    warnings.filterwarnings("ignore")
    rows = args.rows or (500 if args.speed else 50)

    with tempfile.TemporaryDirectory() as tmp:
        model, data = (args.model, args.data) if args.model else build_setting(tmp, 16, args.seed)
        f, names, _ = model_function(model)
        x = read_rows(data, names)
        rng = np.random.default_rng(args.seed)
        picked = rng.permutation(len(x))
        background, explained = x[picked[:args.background]], x[picked[args.background:args.background + rows]]
        budget = args.budget or 2 * len(names) + 2048
        bg_csv, rows_csv = os.path.join(tmp, "background.csv"), os.path.join(tmp, "rows.csv")
        write_csv(bg_csv, background, names)
        write_csv(rows_csv, explained, names)

        def children_cpu():
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            return usage.ru_utime + usage.ru_stime

        def run_glassbox():
            cpu_before = children_cpu()
            start = time.perf_counter()
            out = subprocess.run([args.glassbox, "explain", "--model", model, "--data", rows_csv, "--background-data", bg_csv,
                                  "--method", "kernel-shap", "--budget", str(budget), "--seed", str(args.seed), "--json"],
                                 check=True, capture_output=True, text=True).stdout
            process = time.perf_counter() - start
            report = json.loads(out)
            return report, process, children_cpu() - cpu_before

        explainer = shap.KernelExplainer(f, background)

        def run_shap():
            np.random.seed(args.seed)
            cpu_start, start = time.process_time(), time.perf_counter()
            values = explainer.shap_values(explained, nsamples=budget, l1_reg=False, silent=True)
            return values, time.perf_counter() - start, time.process_time() - cpu_start

        # Alternating runs, so a slow spell of a shared machine falls on both sides.
        timings = {"glassbox_explain": [], "glassbox_process": [], "glassbox_cpu": [], "shap": [], "shap_cpu": []}
        for _ in range(max(1, args.repeat)):
            report, process, cpu = run_glassbox()
            timings["glassbox_explain"].append(report["audit"]["wall_seconds"])
            timings["glassbox_process"].append(process)
            timings["glassbox_cpu"].append(cpu)
            values, seconds, cpu = run_shap()
            timings["shap"].append(seconds)
            timings["shap_cpu"].append(cpu)
        median = {key: float(np.median(v)) for key, v in timings.items()}
        ours = np.array(report["attributions"])[:, 1, :]          # class 1, [rows, features]
        theirs = np.asarray(values[1] if isinstance(values, list) else np.asarray(values)[:, :, 1])

        result = {"shap_version": shap.__version__, "rows": rows, "features": len(names), "background": len(background),
                  "budget": budget,
                  "pearson": float(np.corrcoef(ours.ravel(), theirs.ravel())[0, 1]),
                  "max_abs_difference": float(np.abs(ours - theirs).max()),
                  "mean_abs_attribution": float(np.abs(theirs).mean()),
                  "glassbox_completeness_gap": report["audit"]["max_completeness_gap"],
                  "runs_per_side": max(1, args.repeat),
                  "glassbox_explain_seconds": median["glassbox_explain"],
                  "glassbox_process_seconds": median["glassbox_process"],
                  "glassbox_cpu_seconds": median["glassbox_cpu"],
                  "shap_seconds": median["shap"],
                  "shap_cpu_seconds": median["shap_cpu"],
                  "all_runs": timings,
                  "load_average_1min": os.getloadavg()[0]}
        ours_rank = np.argsort(-np.abs(ours).mean(0)); theirs_rank = np.argsort(-np.abs(theirs).mean(0))
        result["same_top5"] = sorted(ours_rank[:5].tolist()) == sorted(theirs_rank[:5].tolist())
        if not args.speed:
            # The noise floor: shap against itself with another seed.
            np.random.seed(args.seed + 1)
            again = explainer.shap_values(explained, nsamples=budget, l1_reg=False, silent=True)
            again = np.asarray(again[1] if isinstance(again, list) else np.asarray(again)[:, :, 1])
            result["shap_vs_shap_pearson"] = float(np.corrcoef(again.ravel(), theirs.ravel())[0, 1])
        # Ratios of the medians (with one run each, of the single runs).
        result["speedup_explain"] = median["shap"] / median["glassbox_explain"]
        result["speedup_process"] = median["shap"] / median["glassbox_process"]
        # CPU time is what a loaded machine cannot distort as much as wall time: both sides' work in core-seconds.
        result["speedup_cpu"] = median["shap_cpu"] / median["glassbox_cpu"]
        print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
