#!/usr/bin/env python3
"""Glassbox's ReX responsibility maps against the reference rex-xai 0.4.1, on MNIST.

Run through benchmarks/rex_reference.sh, which installs everything (Debian's python3-torch, a
venv with rex-xai 0.4.1 and its light dependencies, the ccexam MNIST CNN and the MNIST test set)
and then calls this script with that venv's python.

Steps:
  prepare   ccexam's pretrained MNIST CNN (Conv32-Pool-Conv64-Pool-FC128-FC10) is loaded into
            torch, checked on the MNIST test images, exported to ONNX (dynamic batch) for rex-xai
            and saved as a safetensors state_dict + spec for `glassbox import`.
  run       for each of the first N test images and each seed, alternately: rex-xai (its ONNX
            runner on the CPU, masking value 0 in normalised space, defaults otherwise: 20
            iterations, tree depth 10, min box size 10, queue "area" of length 1, multiplicative
            responsibility, global extraction in chunks of 10) and `glassbox explain-image
            --method responsibility --removal zero` (masking value 0 in normalised space).
  report    Spearman correlation and top-50-pixel overlap (Glassbox↔rex, rex↔rex across seeds,
            Glassbox↔Glassbox across seeds), sufficient-explanation sizes, model evaluations for
            the map, and wall time for the map, per image and as medians.

Usage (after the shell wrapper set things up):
  python rex_reference.py --work DIR --glassbox PATH [--images 20] [--seeds 0 1 2] [--label NAME]
Results go to DIR/results-LABEL.json and a Markdown table to standard output.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import time

import numpy as np

MEAN, STD = 0.1307, 0.3081


def read_idx(path):
    b = open(path, "rb").read()
    dims = np.frombuffer(b[4:4 + 4 * b[3]], ">u4")
    return np.frombuffer(b, np.uint8, offset=4 + 4 * b[3]).reshape(dims)


def mnist_net():
    import torch
    from torch import nn

    class MNISTNet(nn.Module):
        """ccexam 1.0.0's MNISTNet (ccexam/models.py), written out so ccexam's torchvision
        dependency is not needed."""

        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                          nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
            self.classifier = nn.Sequential(nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))

        def forward(self, x):
            return self.classifier(torch.flatten(self.features(x), 1))

    return MNISTNet()


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a.tobytes())
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


SPEC = {
    "architecture": {"type": "Sequential", "names": ["features", "flatten", "classifier"], "layers": [
        {"type": "Sequential", "layers": [
            {"type": "Conv2d", "in_channels": 1, "out_channels": 32, "kernel_size": 3, "padding": 1},
            {"type": "ReLU"}, {"type": "MaxPool2d", "kernel_size": 2},
            {"type": "Conv2d", "in_channels": 32, "out_channels": 64, "kernel_size": 3, "padding": 1},
            {"type": "ReLU"}, {"type": "MaxPool2d", "kernel_size": 2}]},
        {"type": "Flatten"},
        {"type": "Sequential", "layers": [
            {"type": "Linear", "in_features": 3136, "out_features": 128}, {"type": "ReLU"},
            {"type": "Linear", "in_features": 128, "out_features": 10}]}]},
    "input_shape": [1, 28, 28],
    "class_names": [str(i) for i in range(10)],
    "normalizer": {"mean": [MEAN], "std": [STD]},
}


def prepare(a):
    import torch
    w = a.work
    x = read_idx(os.path.join(w, "t10k-images.idx3-ubyte"))[:a.images].astype(np.float32) / 255
    y = read_idx(os.path.join(w, "t10k-labels.idx1-ubyte"))[:a.images]
    net = mnist_net()
    net.load_state_dict(torch.load(os.path.join(w, "ccexam", "weights", "mnist.pth"), map_location="cpu"))
    net.eval()
    xn = torch.from_numpy((x - MEAN) / STD).unsqueeze(1)
    with torch.no_grad():
        logits = net(xn).numpy()
    print(f"torch: {int((logits.argmax(1) == y).sum())}/{len(y)} of the first {len(y)} MNIST test images right")
    torch.onnx.export(net, xn[:1], os.path.join(w, "mnist.onnx"), input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
    write_safetensors(os.path.join(w, "mnist_state_dict.safetensors"), net.state_dict())
    json.dump(SPEC, open(os.path.join(w, "mnist_spec.json"), "w"), indent=1)
    os.makedirs(os.path.join(w, "images"), exist_ok=True)
    for i in range(len(y)):
        np.save(os.path.join(w, "images", f"{i:02d}.npy"), x[i])
    np.save(os.path.join(w, "torch_logits.npy"), logits)
    subprocess.run([a.glassbox, "import", "--spec", os.path.join(w, "mnist_spec.json"), "--weights",
                    os.path.join(w, "mnist_state_dict.safetensors"), "--out", os.path.join(w, "mnist_glassbox.safetensors")],
                   check=True, stdout=subprocess.DEVNULL)


class Counter:
    """Wraps a rex-xai prediction function to count the images (model evaluations) it is given."""

    def __init__(self, f):
        self.f, self.n = f, 0

    def __call__(self, tensor, target=None, raw=False, binary_threshold=None):
        self.n += tensor.shape[0] if tensor.dim() == 4 else 1
        return self.f(tensor, target, raw=raw, binary_threshold=binary_threshold)


def run_rex(a, image, seed):
    """rex-xai 0.4.1 through its library API, as its command line runs it."""
    import torch
    from rex_xai.input.config import CausalArgs
    from rex_xai.input.input_data import Data
    from rex_xai.input.onnx import get_prediction_function
    from rex_xai.explanation.rex import calculate_responsibility, predict_target
    from rex_xai.explanation.explanation import Explanation
    args = CausalArgs()
    args.model = os.path.join(a.work, "mnist.onnx")
    args.gpu = False
    args.seed = seed
    args.progress_bar = False
    args.batch_size = 64
    args.mask_value = 0
    f, shape = get_prediction_function(args)
    count = Counter(f)
    data = Data(None, shape, "cpu", mode="RGB")
    data.data = torch.from_numpy(((image - MEAN) / STD).astype(np.float32)).reshape(1, 1, 28, 28)
    data.set_mask_value(args.mask_value)
    data.target = predict_target(data, args, count)
    count.n = 0
    start = time.perf_counter()
    maps, _ = calculate_responsibility(data, args, count)
    seconds = time.perf_counter() - start
    evaluations = count.n
    exp = Explanation(maps, count, data, args, {})
    exp.extract()
    rmap = maps.get(data.target.classification)
    return {"target": int(data.target.classification), "map": np.asarray(rmap, np.float64).reshape(28, 28).tolist(),
            "evaluations": evaluations, "seconds": seconds,
            "size": int(exp.sufficiency_mask.sum().item()), "extraction_evaluations": count.n - evaluations}


def run_glassbox(a, index, seed):
    """One Glassbox map, cached per label so an interrupted run resumes."""
    cached = os.path.join(a.work, "glassbox-cache", a.label, f"{index:02d}-{seed}.json")
    if os.path.exists(cached):
        return json.load(open(cached))
    os.makedirs(os.path.dirname(cached), exist_ok=True)
    result = glassbox_map(a, index, seed)
    json.dump(result, open(cached, "w"))
    return result


def glassbox_map(a, index, seed):
    out = os.path.join(a.work, f"gb_map-{a.label}-{index}-{seed}.json")
    r = subprocess.run([a.glassbox, "explain-image", "--model", os.path.join(a.work, "mnist_glassbox.safetensors"),
                        "--image", os.path.join(a.work, "images", f"{index:02d}.npy"), "--method", "responsibility",
                        "--removal", "zero", "--iterations", "20", "--seed", str(seed), "--out", out, "--json",
                        "--quiet"], check=True, capture_output=True, text=True)
    d = json.load(open(out))
    os.remove(out)
    s = d["summary"]
    return {"target": s["target"], "map": d["map"], "evaluations": s.get("map_evaluations", s["evaluations"]),
            "seconds": s["seconds"], "size": int(round(s["explanation_size"] * 784)),
            "total_evaluations": s["evaluations"]}


def spearman(p, q):
    from scipy.stats import spearmanr
    p, q = np.ravel(p), np.ravel(q)
    if p.std() == 0 or q.std() == 0:
        return float("nan")
    return float(spearmanr(p, q).correlation)


def top_overlap(p, q, k=50):
    tp = set(np.argsort(-np.ravel(p), kind="stable")[:k])
    tq = set(np.argsort(-np.ravel(q), kind="stable")[:k])
    return len(tp & tq) / k


def run(a):
    x = np.stack([np.load(os.path.join(a.work, "images", f"{i:02d}.npy")) for i in range(a.images)])
    cache = os.path.join(a.work, "rex-cache")
    os.makedirs(cache, exist_ok=True)
    results = {"glassbox": a.glassbox, "seeds": a.seeds, "rex_seeds": a.rex_seeds, "jobs": a.jobs, "images": []}
    pool = None
    if a.jobs > 1:
        # Several Glassbox runs at once (each uses every core): faster on a shared machine, but
        # its wall times are then not comparable with rex-xai's; use --jobs 1 to time.
        from concurrent.futures import ThreadPoolExecutor
        pool = ThreadPoolExecutor(a.jobs)
        futures = {(i, s): pool.submit(run_glassbox, a, i, s) for i in range(a.images) for s in a.seeds}
    for i in range(a.images):
        row = {"index": i, "rex": {}, "glassbox": {}}
        for k in range(max(len(a.seeds), len(a.rex_seeds))):
            # alternate the sides so drifts in machine load hit both; rex-xai's maps do not
            # depend on the Glassbox build, so they are computed once and cached
            if k < len(a.rex_seeds):
                s = a.rex_seeds[k]
                path = os.path.join(cache, f"{i:02d}-{s}.json")
                if not os.path.exists(path):
                    json.dump(run_rex(a, x[i], s), open(path, "w"))
                row["rex"][str(s)] = json.load(open(path))
            if k < len(a.seeds):
                s = a.seeds[k]
                row["glassbox"][str(s)] = futures[(i, s)].result() if pool else run_glassbox(a, i, s)
        results["images"].append(row)
        r0, g0 = row["rex"][str(a.rex_seeds[0])], row["glassbox"][str(a.seeds[0])]
        print(f"image {i:2d}: target rex {r0['target']} glassbox {g0['target']}; "
              f"rex {r0['evaluations']} evals {r0['seconds']:.2f} s, glassbox {g0['evaluations']} evals "
              f"{g0['seconds']:.2f} s", file=sys.stderr, flush=True)
    path = os.path.join(a.work, f"results-{a.label}.json")
    json.dump(results, open(path, "w"))
    print(f"wrote {path}", file=sys.stderr)
    return results


def pairs(row, side_a, seeds_a, side_b, seeds_b):
    """Map pairs: all unordered pairs within one side, all pairs across sides."""
    out = []
    for i, s in enumerate(seeds_a):
        for t in (seeds_a[i + 1:] if side_a == side_b else seeds_b):
            out.append((row[side_a][str(s)]["map"], row[side_b][str(t)]["map"]))
    return out


def report(a, results):
    seeds, rex_all = results["seeds"], results["rex_seeds"]
    # rex-xai seeds iteration i with seed + i, so seeds s and s + 1 share 19 of 20 iterations;
    # independent runs need seeds at least `iterations` apart.
    rex_spaced, rex_near = [], []
    for s in rex_all:
        if all(abs(s - t) >= 20 for t in rex_spaced):
            rex_spaced.append(s)
        elif not rex_near:
            rex_near = [next(t for t in rex_spaced if abs(s - t) < 20), s]
    keys = [(f"rex-xai with itself, seeds {'/'.join(map(str, rex_spaced))} (independent)", "rex", rex_spaced, "rex", rex_spaced),
            ("Glassbox with rex-xai", "glassbox", seeds, "rex", rex_spaced),
            (f"Glassbox with itself, seeds {'/'.join(map(str, seeds))}", "glassbox", seeds, "glassbox", seeds)]
    if len(rex_near) == 2:
        keys.insert(0, (f"rex-xai with itself, seeds {rex_near[0]}/{rex_near[1]} (19 of 20 iterations shared)",
                        "rex", rex_near, "rex", rex_near))
    per_image = []
    agg = {k: ([], []) for k, *_ in keys}
    for row in results["images"]:
        cells = {}
        for name, sa, qa, sb, qb in keys:
            ps = pairs(row, sa, qa, sb, qb)
            rho = [spearman(p, q) for p, q in ps]
            ov = [top_overlap(p, q) for p, q in ps]
            agg[name][0].extend(rho)
            agg[name][1].extend(ov)
            cells[name] = (np.median(rho), np.median(ov)) if ps else (float("nan"), float("nan"))
        med = lambda side, ss, key: float(np.median([row[side][str(s)][key] for s in ss]))
        per_image.append((row["index"], cells, med("rex", rex_spaced, "size"), med("glassbox", seeds, "size"),
                          med("rex", rex_spaced, "evaluations"), med("glassbox", seeds, "evaluations"),
                          med("rex", rex_spaced, "seconds"), med("glassbox", seeds, "seconds")))
    print(f"### {a.label}: {len(results['images'])} MNIST test images\n")
    print("| comparison | Spearman, median (min) | top-50-pixel overlap, median (min) |")
    print("|---|---|---|")
    for name, *_ in keys:
        rho, ov = agg[name]
        if not rho:  # e.g. a single seed on that side
            print(f"| {name} | n/a | n/a |")
            continue
        print(f"| {name} | {np.nanmedian(rho):.2f} ({np.nanmin(rho):.2f}) | {np.median(ov):.2f} ({np.min(ov):.2f}) |")
    col = lambda j: [p[j] for p in per_image]
    print()
    print("| | rex-xai 0.4.1 | Glassbox |")
    print("|---|---|---|")
    print(f"| sufficient explanation, median px (range) | {np.median(col(2)):.0f} ({min(col(2)):.0f}–{max(col(2)):.0f}) "
          f"| {np.median(col(3)):.0f} ({min(col(3)):.0f}–{max(col(3)):.0f}) |")
    print(f"| model evaluations for the map, median (range) | {np.median(col(4)):.0f} ({min(col(4)):.0f}–{max(col(4)):.0f}) "
          f"| {np.median(col(5)):.0f} ({min(col(5)):.0f}–{max(col(5)):.0f}) |")
    print(f"| wall time for the map, median s (range) | {np.median(col(6)):.2f} ({min(col(6)):.2f}–{max(col(6)):.2f}) "
          f"| {np.median(col(7)):.2f} ({min(col(7)):.2f}–{max(col(7)):.2f}) |")
    r_per_eval = np.median([p[6] / p[4] for p in per_image]) * 1e3
    g_per_eval = np.median([p[7] / p[5] for p in per_image]) * 1e3
    print(f"| wall time per evaluation, median ms | {r_per_eval:.3f} | {g_per_eval:.3f} |")
    print("\nPer image (medians over seed pairs / seeds; rex-xai's independent seeds):\n")
    short = ["rex↔rex" + (" (0/1)" if "shared" in n else "") if n.startswith("rex") else
             ("GB↔rex" if "rex-xai" in n else "GB↔GB") for n, *_ in keys]
    heads = ["ρ " + n for n in short] + ["top-50 " + n for n in short]
    print("| image | " + " | ".join(heads) + " | size rex | size GB | evals rex | evals GB | s rex | s GB |")
    print("|" + "---|" * (len(heads) + 7))
    for idx, cells, *m in per_image:
        c = [cells[k] for k, *_ in keys]
        print(f"| {idx} | " + " | ".join(f"{v[0]:.2f}" for v in c) + " | " + " | ".join(f"{v[1]:.2f}" for v in c)
              + f" | {m[0]:.0f} | {m[1]:.0f} | {m[2]:.0f} | {m[3]:.0f} | {m[4]:.2f} | {m[5]:.2f} |")


def timing(a):
    """Wall time of single maps, the sides alternating on the same images, one run at a time."""
    x = np.stack([np.load(os.path.join(a.work, "images", f"{i:02d}.npy")) for i in range(a.images)])
    print("| image | seed | rex-xai s | rex-xai evals | Glassbox s | Glassbox evals | rex-xai ms/eval | Glassbox ms/eval |")
    print("|---|---|---|---|---|---|---|---|")
    for i in range(a.images):
        for s in a.seeds:
            r = run_rex(a, x[i], s)
            g = glassbox_map(a, i, s)
            print(f"| {i} | {s} | {r['seconds']:.2f} | {r['evaluations']} | {g['seconds']:.2f} | {g['evaluations']} "
                  f"| {1e3 * r['seconds'] / r['evaluations']:.2f} | {1e3 * g['seconds'] / g['evaluations']:.2f} |", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("step", choices=["prepare", "run", "report", "timing"])
    p.add_argument("--work", required=True)
    p.add_argument("--glassbox", required=True)
    p.add_argument("--images", type=int, default=20)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 100, 200], help="Glassbox seeds")
    p.add_argument("--rex-seeds", type=int, nargs="+", default=[0, 1, 100, 200],
                   help="rex-xai seeds (0 and 1 share 19 of 20 iterations; 0/100/200 are independent)")
    p.add_argument("--label", default="current")
    p.add_argument("--jobs", type=int, default=1, help="Glassbox runs at once (>1 invalidates its wall times)")
    a = p.parse_args()
    if a.step == "prepare":
        prepare(a)
    elif a.step == "run":
        report(a, run(a))
    elif a.step == "timing":
        timing(a)
    else:
        report(a, json.load(open(os.path.join(a.work, f"results-{a.label}.json"))))


if __name__ == "__main__":
    main()
