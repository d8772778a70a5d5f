#!/usr/bin/env bash
# Measures Glassbox and its references in one session on this machine and prints a comparison.
#   glassbox bench --json            (this package, release build)
#   benchmarks/gemm_reference.py     (NumPy / OpenBLAS sgemm)
#   benchmarks/reference_torch.py    (PyTorch on CPU: MLP and CNN training, CNN inference)
#   benchmarks/onnx_reference.py     (onnxruntime on CPU: the inference plan's CNN and MLP, same weights)
# The bench also times the masked (ConvAD) forward pass against the plain plan and ReX maps on a CNN it
# trains for one epoch on the bundled Fashion-MNIST sample (Glassbox-only rows at the end).
# Kernel SHAP against the shap package is separate (minutes of shap time): benchmarks/shap_reference.py --speed
# Usage: benchmarks/run.sh [repeats]    — needs python3 with numpy (and onnxruntime + onnx for the
# last rows: pip install onnxruntime onnx; skipped when missing), and Debian's python3-torch.
set -euo pipefail
cd "$(dirname "$0")/.."
repeats="${1:-5}"
out="${BENCH_OUT:-/tmp/glassbox-bench}"
mkdir -p "$out"
swift build -c release --product glassbox >/dev/null
./.build/release/glassbox bench --json --threads 2 --repeats "$repeats" >"$out/glassbox.json"
python3 benchmarks/gemm_reference.py >"$out/numpy.json"
TORCH_PY="${TORCH_PY:-/usr/bin/python3}"
"$TORCH_PY" benchmarks/reference_torch.py --threads 2 --repeats "$repeats" >"$out/torch.json"
rm -f "$out/ort.json"
if python3 -c 'import onnxruntime, onnx' 2>/dev/null; then
  ./.build/release/glassbox bench --write-models "$out/models" --overwrite
  python3 benchmarks/onnx_reference.py --models "$out/models" --threads 2 --repeats "$repeats" >"$out/ort.json"
fi
python3 - "$out" <<'PY'
import json, os, platform, sys, datetime
d = sys.argv[1]
g = json.load(open(os.path.join(d, "glassbox.json")))
n = json.load(open(os.path.join(d, "numpy.json")))
t = json.load(open(os.path.join(d, "torch.json")))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"{datetime.date.today()} · {cpu} · {os.cpu_count()} cores · 2 threads · PyTorch {t['torch_version']}")
print()
print("| figure | Glassbox | reference | ratio | target |")
print("|---|---|---|---|---|")
rows = [
    ("GEMM n=256 (GFLOP/s)", g["gemm_gflops_256"], n["numpy_gemm_gflops_256"], "NumPy", "≥ 0.8×"),
    ("GEMM n=512 (GFLOP/s)", g["gemm_gflops_512"], n["numpy_gemm_gflops_512"], "NumPy", "≥ 0.8×"),
    ("GEMM n=1024 (GFLOP/s)", g["gemm_gflops_1024"], n["numpy_gemm_gflops_1024"], "NumPy", "≥ 0.8×"),
    ("MLP training (rows/s)", g["mlp_train_rows_per_s"], t["torch_mlp_train_rows_per_s"], "PyTorch", "≥ 3×"),
    ("CNN training (images/s)", g["cnn_train_images_per_s"], t["torch_cnn_train_images_per_s"], "PyTorch", "≥ 1×"),
    ("CNN inference, batch 64 (images/s)", g["cnn_infer_images_per_s_64"], t["torch_cnn_infer_images_per_s_64"], "PyTorch", "≥ 1.5×"),
    ("CNN inference, batch 256 (images/s)", g["cnn_infer_images_per_s_256"], t["torch_cnn_infer_images_per_s_256"], "PyTorch", "≥ 1.5×"),
]
for name, ours, ref, who, target in rows:
    print(f"| {name} | {ours:,.0f} | {ref:,.0f} ({who}) | {ours / ref:.2f}× | {target} |")
ort_path = os.path.join(d, "ort.json")
if os.path.exists(ort_path):
    o = json.load(open(ort_path))
    who = f"onnxruntime {o['onnxruntime_version']}"
    plan_rows = [
        ("CNN inference plan, batch 64 (images/s)", g["cnn_infer_plan_images_per_s_64"], o["ort_cnn_images_per_s_64"], "≥ 0.8×"),
        ("CNN inference plan, batch 256 (images/s)", g["cnn_infer_plan_images_per_s_256"], o["ort_cnn_images_per_s_256"], "≥ 0.8×"),
        ("MLP inference plan, batch 1024 (rows/s)", g["mlp_infer_rows_per_s_1024"], o["ort_mlp_rows_per_s_1024"], "≥ 2M rows/s"),
    ]
    for name, ours, ref, target in plan_rows:
        print(f"| {name} | {ours:,.0f} | {ref:,.0f} ({who}) | {ours / ref:.2f}× | {target} |")
    # Lower is better: the ratio is theirs over ours.
    ours, ref = g["mlp_infer_call_us_1"], o["ort_mlp_call_us_1"]
    print(f"| MLP inference plan, batch 1 (µs/call) | {ours:.2f} | {ref:.2f} ({who}) | {ref / ours:.2f}× | ≤ 5 µs |")
print()
print("| masked forward and ReX (Glassbox only) | value | against | target |")
print("|---|---|---|---|")
plain = g["convad_plain_plan_images_per_s_64"]
for variant in ("strict", "checkpoint"):
    rate = g[f"convad_{variant}_images_per_s_64"]
    print(f"| ConvAD {variant}, batch 64 (images/s) | {rate:,.0f} | plain plan {plain:,.0f} → cost {plain / rate:.2f}× | ≤ 1.3× |")
if g.get("rex_map_seconds") is not None:
    print(f"| ReX map, 28×28, 20 iterations, trained CNN ({100 * g['rex_model_test_accuracy']:.1f} % test) | {g['rex_map_seconds']:.3f} s | | < 1 s |")
    print(f"| ReX mutant evaluation (images/s) | {g['rex_mutants_per_s']:,.0f} | plain plan, batch 64: {plain:,.0f} | |")
    print(f"| ReX map with strict ConvAD removal | {g['rex_ad_map_seconds']:.3f} s ({g['rex_ad_mutants_per_s']:,.0f} mutants/s) | | |")
PY
