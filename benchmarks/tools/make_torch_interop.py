#!/usr/bin/python3
"""Writes the PyTorch interoperability fixtures that Glassbox's TorchInteropTests check.

For a small MLP and a small CNN (conv, batch norm, ReLU, max-pool, flatten, linear; nested
`nn.Sequential`s with named children) it writes, into
Tests/GlassboxTests/Reference/TorchInterop/:

  <name>.safetensors       the model's state_dict, exactly PyTorch's names and shapes
                           (conv weights OIHW, linear weights out x in, BN running statistics and
                           the int64 num_batches_tracked), in the dtype given in the name
  <name>.spec.json         the Glassbox architecture spec describing the same network (the MLP's
                           dtype variants share mlp.spec.json)
  <name>.logits.json       inputs and the logits PyTorch computed for them (float32, eval mode)

Variants: the MLP also in F16, BF16 and F64 (logits are those of the model whose weights were
rounded to that dtype, so a correct reader reproduces them to float32 precision).

The safetensors format is written by hand (8-byte little-endian header length, JSON header, raw
little-endian data) so only torch and numpy are needed:  /usr/bin/python3 (torch 1.13).

Usage:  /usr/bin/python3 benchmarks/tools/make_torch_interop.py [output-directory]
Deterministic: torch.manual_seed fixes every weight and input.
"""
import collections
import json
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "Tests", "GlassboxTests", "Reference", "TorchInterop")

DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
          torch.int64: "I64", torch.int32: "I32"}


def tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: reinterpret the 16-bit patterns
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()


def write_safetensors(path, tensors, metadata=None):
    """tensors: ordered name -> torch.Tensor. Layout as the reference implementation writes it."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        data = tensor_bytes(t)
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


def mlp():
    # Parameter-free layers (ReLU, Dropout, Tanh) keep their indices: weights are 0.*, 3.*, 5.*.
    return nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3))


MLP_SPEC = {
    "architecture": {"type": "Sequential", "layers": [
        {"type": "Linear", "in_features": 5, "out_features": 16},
        {"type": "ReLU"},
        {"type": "Dropout", "p": 0.1},
        {"type": "Linear", "in_features": 16, "out_features": 8},
        {"type": "Tanh"},
        {"type": "Linear", "in_features": 8, "out_features": 3},
    ]},
    "input_shape": [5],
    "feature_names": ["age", "dose", "weight", "height", "score"],
    "class_names": ["low", "medium", "high"],
}


def cnn():
    features = nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, kernel_size=3), nn.ReLU())
    classifier = nn.Sequential(nn.Flatten(), nn.Linear(6 * 2 * 2, 3))
    return nn.Sequential(collections.OrderedDict([("features", features), ("classifier", classifier)]))


CNN_SPEC = {
    "architecture": {"type": "Sequential", "names": ["features", "classifier"], "layers": [
        {"type": "Sequential", "layers": [
            {"type": "Conv2d", "in_channels": 1, "out_channels": 4, "kernel_size": 3, "padding": 1},
            {"type": "BatchNorm2d", "num_features": 4},
            {"type": "ReLU"},
            {"type": "MaxPool2d", "kernel_size": 2},
            {"type": "Conv2d", "in_channels": 4, "out_channels": 6, "kernel_size": 3},
            {"type": "ReLU"},
        ]},
        {"type": "Sequential", "layers": [
            {"type": "Flatten"},
            {"type": "Linear", "in_features": 24, "out_features": 3},
        ]},
    ]},
    "input_shape": [1, 8, 8],
    "class_names": ["circle", "square", "cross"],
    "normalizer": {"mean": [0.5], "std": [0.25]},
}


def save(name, model, spec, inputs, dtype=torch.float32):
    state = collections.OrderedDict()
    for key, t in model.state_dict().items():
        state[key] = t.to(dtype) if t.is_floating_point() else t
    write_safetensors(os.path.join(OUT, name + ".safetensors"), state)
    # The logits of exactly the stored weights: round-trip through the dtype, compute in float32.
    reference = model
    rounded = {k: (v.to(torch.float32) if v.is_floating_point() else v) for k, v in state.items()}
    reference.load_state_dict(rounded)
    reference.eval()
    with torch.no_grad():
        logits = reference(inputs)
    with open(os.path.join(OUT, name + ".logits.json"), "w") as f:
        json.dump({"torch_version": torch.__version__, "dtype": DTYPES[dtype], "input_shape": list(inputs.shape),
                   "inputs": inputs.reshape(-1).tolist(), "logits": logits.tolist()}, f, indent=1)
        f.write("\n")
    if spec is not None:
        with open(os.path.join(OUT, name + ".spec.json"), "w") as f:
            json.dump(spec, f, indent=2)
            f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(7)
    net = mlp()
    x = torch.randn(6, 5)
    for dtype, suffix in [(torch.float32, ""), (torch.float16, "_f16"), (torch.bfloat16, "_bf16"), (torch.float64, "_f64")]:
        copy = mlp()
        copy.load_state_dict(net.state_dict())
        save("mlp" + suffix, copy, MLP_SPEC if suffix == "" else None, x, dtype)

    torch.manual_seed(11)
    net = cnn()
    # A few training-mode passes give the batch norm non-trivial running statistics and a
    # num_batches_tracked of 3, as a trained network has.
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.rand(16, 1, 8, 8) * 2 + 0.3)
    images = torch.rand(4, 1, 8, 8)
    save("cnn", net, CNN_SPEC, images)
    print("wrote fixtures to", os.path.abspath(OUT))


if __name__ == "__main__":
    main()
