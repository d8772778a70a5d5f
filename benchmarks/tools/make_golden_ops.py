#!/usr/bin/env python3
"""Golden values for the elementwise, softmax, loss and shape ops, from PyTorch.

Writes Tests/GlassboxNNTests/Golden/ops.json (format: Tests/GlassboxNNTests/Support/Golden.swift).
Each case is named "<op>/<variant>" and stores the inputs, the output `y`, the upstream gradient
`gy` (same shape as `y`) and the gradient of sum(y * gy) with respect to every differentiable
input (`gx`, `g_target`, `gx0`…). Integer arguments (labels, indices, permutations, sizes, new
shapes) are stored as float tensors; scalar options go in `attrs`.

Run once with Debian's PyTorch: /usr/bin/python3 benchmarks/tools/make_golden_ops.py
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(20240501)
torch.set_default_dtype(torch.float32)
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "GlassboxNNTests", "Golden", "ops.json")
cases = []


def stored(t):
    t = torch.as_tensor(t, dtype=torch.float32).detach()
    return {"shape": list(t.shape), "data": [float(f"{v:.7g}") for v in t.reshape(-1).tolist()]}


def rand(*shape, lo=-2.0, hi=2.0):
    return lo + (hi - lo) * torch.rand(*shape)


def case(name, fn, inputs, consts=None, attrs=None):
    """Runs fn(**inputs, **consts), back-propagates a random upstream gradient, stores it all."""
    xs = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    y = fn(**xs, **(consts or {}))
    tensors = {k: stored(v) for k, v in inputs.items()}
    for k, v in (consts or {}).items():
        if torch.is_tensor(v):
            tensors[k] = stored(v)
    if isinstance(y, (list, tuple)):
        gys = [torch.randn(p.shape) for p in y]
        torch.autograd.backward(list(y), gys)
        for i, (p, gy) in enumerate(zip(y, gys)):
            tensors[f"y{i}"], tensors[f"gy{i}"] = stored(p), stored(gy)
    else:
        gy = torch.randn(y.shape)
        y.backward(gy)
        tensors["y"], tensors["gy"] = stored(y), stored(gy)
    for k, v in xs.items():
        tensors["g" + k if k.startswith("x") else "g_" + k] = stored(v.grad)
    cases.append({"name": name, "tensors": tensors, "attrs": attrs or {}})


# Elementwise.
case("exp/basic", lambda x: torch.exp(x), {"x": rand(3, 4)})
case("log/basic", lambda x: torch.log(x), {"x": rand(3, 4, lo=0.1, hi=3)})
case("sqrt/basic", lambda x: torch.sqrt(x), {"x": rand(3, 4, lo=0.1, hi=3)})
case("square/basic", lambda x: torch.square(x), {"x": rand(3, 4)})
for p in (3.0, 0.5, -1.5):
    case(f"pow/p{p}", lambda x, p=p: torch.pow(x, p), {"x": rand(2, 5, lo=0.2, hi=2)}, attrs={"p": p})
for slope in (0.01, 0.2):
    case(f"leaky_relu/slope{slope}", lambda x, s=slope: F.leaky_relu(x, s), {"x": rand(3, 4)}, attrs={"slope": slope})
large = torch.tensor([-100.0, -50.0, -20.0, -3.0, -0.5, 0.0, 0.5, 3.0, 20.0, 50.0, 100.0])
case("sigmoid/basic", lambda x: torch.sigmoid(x), {"x": rand(3, 4, lo=-5, hi=5)})
case("sigmoid/large", lambda x: torch.sigmoid(x), {"x": large})
case("tanh/basic", lambda x: torch.tanh(x), {"x": rand(3, 4, lo=-3, hi=3)})
case("tanh/large", lambda x: torch.tanh(x), {"x": large})
for approximate in ("none", "tanh"):
    code = 0.0 if approximate == "none" else 1.0
    case(f"gelu/{approximate}", lambda x, a=approximate: F.gelu(x, approximate=a),
         {"x": torch.cat([rand(20, lo=-5, hi=5), large])}, attrs={"tanh": code})

# Softmax and log-softmax along every axis, plus large magnitudes (stability).
for name, fn in (("softmax", torch.softmax), ("log_softmax", torch.log_softmax)):
    case(f"{name}/2d_axis1", lambda x, f=fn: f(x, 1), {"x": rand(3, 5)}, attrs={"axis": 1})
    case(f"{name}/2d_axis0", lambda x, f=fn: f(x, 0), {"x": rand(3, 5)}, attrs={"axis": 0})
    for axis in (0, 1, -1):
        case(f"{name}/3d_axis{axis}", lambda x, f=fn, a=axis: f(x, a), {"x": rand(2, 3, 4)}, attrs={"axis": axis})
    case(f"{name}/large", lambda x, f=fn: f(x, -1), {"x": rand(3, 6) * 1000}, attrs={"axis": -1})

# Losses.
logits = rand(5, 4, lo=-3, hi=3)
labels = torch.tensor([0, 3, 1, 3, 2])
class_weights = torch.tensor([0.5, 2.0, 1.0, 1.5])
for reduction in ("mean", "sum", "none"):
    case(f"cross_entropy/{reduction}", lambda x, labels, r=reduction: F.cross_entropy(x, labels, reduction=r),
         {"x": logits}, {"labels": labels}, attrs={"reduction": ["mean", "sum", "none"].index(reduction)})
    case(f"cross_entropy/weighted_{reduction}",
         lambda x, labels, weights, r=reduction: F.cross_entropy(x, labels, weight=weights, reduction=r),
         {"x": logits}, {"labels": labels, "weights": class_weights},
         attrs={"reduction": ["mean", "sum", "none"].index(reduction)})
case("cross_entropy/large", lambda x, labels: F.cross_entropy(x, labels),
     {"x": torch.tensor([[1000.0, -1000.0, 0.0], [-500.0, 500.0, 499.0]])}, {"labels": torch.tensor([1, 2])},
     attrs={"reduction": 0})
bce_logits = torch.cat([rand(10, lo=-4, hi=4), torch.tensor([-50.0, 50.0, -50.0, 50.0])])
bce_targets = torch.cat([torch.rand(10), torch.tensor([0.0, 1.0, 1.0, 0.0])])
for reduction in ("mean", "sum", "none"):
    case(f"bce_with_logits/{reduction}",
         lambda x, target, r=reduction: F.binary_cross_entropy_with_logits(x, target, reduction=r),
         {"x": bce_logits, "target": bce_targets}, attrs={"reduction": ["mean", "sum", "none"].index(reduction)})
    case(f"mse/{reduction}", lambda x, target, r=reduction: F.mse_loss(x, target, reduction=r),
         {"x": rand(3, 4), "target": rand(3, 4)}, attrs={"reduction": ["mean", "sum", "none"].index(reduction)})

# Shape ops.
case("reshape/infer", lambda x, shape: x.reshape(*shape.tolist()), {"x": rand(2, 3, 4)}, {"shape": torch.tensor([4, -1])})
case("flatten/start1", lambda x: torch.flatten(x, 1), {"x": rand(2, 3, 2, 2)}, attrs={"start": 1, "end": -1})
case("flatten/start0_end1", lambda x: torch.flatten(x, 0, 1), {"x": rand(2, 3, 4)}, attrs={"start": 0, "end": 1})
case("transpose/0_2", lambda x: x.transpose(0, 2), {"x": rand(2, 3, 4)}, attrs={"axis0": 0, "axis1": 2})
case("transpose/neg", lambda x: x.transpose(-1, -2), {"x": rand(2, 3, 4)}, attrs={"axis0": -1, "axis1": -2})
for shape, perm in (((3, 5), (1, 0)), ((2, 3, 4), (2, 0, 1)), ((2, 3, 4, 5), (0, 2, 1, 3)),
                    ((2, 3, 4, 5), (3, 1, 0, 2)), ((2, 1, 3, 4), (0, 3, 1, 2)), ((40, 35), (1, 0))):
    case("permute/" + "x".join(map(str, shape)) + "_" + "".join(map(str, perm)),
         lambda x, perm: x.permute(*perm.tolist()), {"x": rand(*shape)}, {"perm": torch.tensor(perm)})
for axis, shapes in ((1, ((2, 1, 3), (2, 4, 3), (2, 2, 3))), (-1, ((3, 2), (3, 1))), (0, ((1, 4), (2, 4), (3, 4)))):
    inputs = {f"x{i}": rand(*s) for i, s in enumerate(shapes)}
    case(f"concat/axis{axis}_{len(shapes)}", lambda axis=axis, **xs: torch.cat([xs[k] for k in sorted(xs)], axis),
         inputs, attrs={"axis": axis})
case("slice/axis1", lambda x: x[:, 1:4], {"x": rand(2, 5, 3)}, attrs={"axis": 1, "lo": 1, "hi": 4})
case("slice/axis_neg1", lambda x: x[..., 2:3], {"x": rand(2, 5, 3)}, attrs={"axis": -1, "lo": 2, "hi": 3})
case("split/axis1", lambda x, sizes: torch.split(x, sizes.tolist(), 1), {"x": rand(2, 6, 2)}, {"sizes": torch.tensor([2, 1, 3])},
     attrs={"axis": 1})
case("gather/axis0", lambda x, indices: torch.index_select(x, 0, indices), {"x": rand(5, 3)},
     {"indices": torch.tensor([4, 0, 4, 2, 4])}, attrs={"axis": 0})
case("gather/axis1", lambda x, indices: torch.index_select(x, 1, indices), {"x": rand(2, 4, 3)},
     {"indices": torch.tensor([3, 3, 0])}, attrs={"axis": 1})
case("embedding/duplicates", lambda x, indices: F.embedding(indices, x), {"x": rand(6, 4)},
     {"indices": torch.tensor([1, 5, 1, 0, 1, 3])})

with open(OUT, "w") as f:
    json.dump({"cases": cases}, f, separators=(",", ":"))
print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)")
