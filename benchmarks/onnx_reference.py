#!/usr/bin/env python3
"""onnxruntime reference figures for `glassbox bench`'s inference plan (optional; outside the test suite).

Runs the benchmark CNN and MLP with the very weights Glassbox uses on onnxruntime (CPU, 2 intra-op
threads) and prints one JSON object:
  ort_cnn_images_per_s_64    Conv(1→32)-ReLU-Pool-Conv(32→64)-ReLU-Pool-Linear(3136→128)-ReLU-Linear(128→10), batch 64
  ort_cnn_images_per_s_256   same, batch 256
  ort_mlp_rows_per_s_1024    16→64→32→2 MLP, batch 1,024
  ort_mlp_call_us_1          same MLP, one row per call: microseconds per call
Each figure is the median of --repeats timed runs after a warm-up, the same workloads as
`glassbox bench`. Inputs and outputs are bound once (I/O binding), so a call pays no Python-side
allocation.

The weights come from `glassbox bench --write-models DIR` (safetensors, PyTorch names); the ONNX
graphs are written with the `onnx` helper API and checked against a NumPy forward pass first.
Needs `pip install onnxruntime onnx` (pip's python3). Usage:
  python3 benchmarks/onnx_reference.py --models DIR [--threads 2] [--repeats 5]
"""
import argparse, json, os, statistics, struct, time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper


def read_safetensors(path):
    """{name: float32 array} of a safetensors file (8-byte header length, JSON header, data)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", f"{name}: dtype {entry['dtype']}"
        start, end = entry["data_offsets"]
        out[name] = np.frombuffer(data[base + start:base + end], dtype="<f4").reshape(entry["shape"]).copy()
    return out


def cnn_graph(w):
    init = [numpy_helper.from_array(w[k], k) for k in
            ["0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "9.weight", "9.bias"]]
    nodes = [
        helper.make_node("Conv", ["x", "0.weight", "0.bias"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "3.weight", "3.bias"], ["c2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p2"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "7.weight", "7.bias"], ["h"], transB=1),
        helper.make_node("Relu", ["h"], ["rh"]),
        helper.make_node("Gemm", ["rh", "9.weight", "9.bias"], ["y"], transB=1),
    ]
    graph = helper.make_graph(nodes, "cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1, 28, 28])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 10])], init)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def mlp_graph(w):
    init = [numpy_helper.from_array(w[k], k) for k in
            ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]]
    nodes = [
        helper.make_node("Gemm", ["x", "0.weight", "0.bias"], ["h1"], transB=1),
        helper.make_node("Relu", ["h1"], ["r1"]),
        helper.make_node("Gemm", ["r1", "2.weight", "2.bias"], ["h2"], transB=1),
        helper.make_node("Relu", ["h2"], ["r2"]),
        helper.make_node("Gemm", ["r2", "4.weight", "4.bias"], ["y"], transB=1),
    ]
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])], init)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def numpy_cnn(w, x):
    def conv(x, weight, bias):
        n, c, h, wd = x.shape
        p = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        cols = np.stack([p[:, :, i:i + h, j:j + wd] for i in range(3) for j in range(3)], axis=2)  # n c 9 h w
        return np.einsum("nckhw,ock->nohw", cols, weight.reshape(weight.shape[0], c, 9)) + bias[None, :, None, None]

    def pool(x):
        n, c, h, wd = x.shape
        return x.reshape(n, c, h // 2, 2, wd // 2, 2).max(axis=(3, 5))

    h = pool(np.maximum(conv(x, w["0.weight"], w["0.bias"]), 0))
    h = pool(np.maximum(conv(h, w["3.weight"], w["3.bias"]), 0))
    h = np.maximum(h.reshape(len(x), -1) @ w["7.weight"].T + w["7.bias"], 0)
    return h @ w["9.weight"].T + w["9.bias"]


def numpy_mlp(w, x):
    h = np.maximum(x @ w["0.weight"].T + w["0.bias"], 0)
    h = np.maximum(h @ w["2.weight"].T + w["2.bias"], 0)
    return h @ w["4.weight"].T + w["4.bias"]


class Runner:
    """One session with its input and output bound to fixed NumPy buffers."""

    def __init__(self, model, x, outputs, threads):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        self.x = np.ascontiguousarray(x, dtype=np.float32)
        self.y = np.empty((len(x), outputs), dtype=np.float32)
        self.binding = self.session.io_binding()
        self.binding.bind_cpu_input("x", self.x)
        self.binding.bind_output("y", "cpu", 0, np.float32, list(self.y.shape), self.y.ctypes.data)

    def __call__(self):
        self.session.run_with_iobinding(self.binding)
        return self.y


def rate(run, calls, per_call, repeats):
    """Median samples/s over `repeats` timed runs of `calls` calls, after one untimed run."""
    rates = []
    for r in range(repeats + 1):
        start = time.perf_counter()
        for _ in range(calls):
            run()
        elapsed = time.perf_counter() - start
        if r > 0:
            rates.append(calls * per_call / elapsed)
    return statistics.median(rates)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", required=True, help="directory written by `glassbox bench --write-models`")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    cnn_w = read_safetensors(os.path.join(args.models, "cnn.safetensors"))
    mlp_w = read_safetensors(os.path.join(args.models, "mlp.safetensors"))
    cnn, mlp = cnn_graph(cnn_w), mlp_graph(mlp_w)
    onnx.checker.check_model(cnn)
    onnx.checker.check_model(mlp)
    rng = np.random.default_rng(0)

    # The graphs compute what Glassbox's model computes (checked against NumPy on the same weights).
    x = rng.standard_normal((4, 1, 28, 28)).astype(np.float32)
    got = Runner(cnn, x, 10, args.threads)()
    assert np.allclose(got, numpy_cnn(cnn_w, x), rtol=1e-4, atol=1e-4), "CNN graph disagrees with NumPy"
    x = rng.standard_normal((8, 16)).astype(np.float32)
    assert np.allclose(Runner(mlp, x, 2, args.threads)(), numpy_mlp(mlp_w, x), rtol=1e-4, atol=1e-5)

    out = {"onnxruntime_version": ort.__version__, "ort_threads": args.threads}
    for batch in (64, 256):
        run = Runner(cnn, rng.standard_normal((batch, 1, 28, 28)), 10, args.threads)
        out[f"ort_cnn_images_per_s_{batch}"] = rate(run, max(1, 4096 // batch), batch, args.repeats)
    run = Runner(mlp, rng.standard_normal((1024, 16)), 2, args.threads)
    out["ort_mlp_rows_per_s_1024"] = rate(run, (1 << 18) // 1024, 1024, args.repeats)
    run = Runner(mlp, rng.standard_normal((1, 16)), 2, args.threads)
    out["ort_mlp_call_us_1"] = 1e6 / rate(run, 20000, 1, args.repeats)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
