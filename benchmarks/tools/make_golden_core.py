#!/usr/bin/env python3
"""Golden values for the core ops: broadcasting arithmetic, matmul (all transposes, batched),
sum/mean over axes, ReLU, a Linear layer and global average pooling — forward outputs and
gradients for a fixed upstream gradient, from PyTorch.

Run once with Debian's PyTorch: /usr/bin/python3 benchmarks/tools/make_golden_core.py
Writes Tests/GlassboxNNTests/Golden/core.json.
"""
import json, os
import torch

torch.manual_seed(5)


def stored(t):
    t = t.detach().double()
    return {"shape": list(t.shape), "data": [float(f"{v:.7g}") for v in t.flatten().tolist()]}


cases = []


def case(name, inputs, fn, attrs=None):
    ts = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    y = fn(**ts)
    g = torch.randn_like(y)
    y.backward(g)
    tensors = {k: stored(v) for k, v in ts.items()}
    tensors.update({"y": stored(y), "grad_y": stored(g)})
    tensors.update({f"grad_{k}": stored(v.grad) for k, v in ts.items()})
    cases.append({"name": name, "tensors": tensors, "attrs": attrs or {}})


for op in ["add", "sub", "mul", "div"]:
    f = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}[op]
    for sa, sb in [((3, 4), (4,)), ((2, 3, 4), (3, 1)), ((2, 1, 3), (4, 1))]:
        b = torch.rand(sb) + 0.5
        case(f"{op}/{'x'.join(map(str, sa))}_{'x'.join(map(str, sb))}", {"a": torch.randn(sa), "b": b}, lambda a, b: f(a, b))

for ta in (0, 1):
    for tb in (0, 1):
        a = torch.randn((4, 3) if ta else (3, 4))
        b = torch.randn((5, 4) if tb else (4, 5))
        case(f"matmul/t{ta}{tb}", {"a": a, "b": b},
             lambda a, b: (a.t() if ta else a) @ (b.t() if tb else b), {"ta": ta, "tb": tb})
case("matmul/batched", {"a": torch.randn(2, 3, 4), "b": torch.randn(2, 4, 2)}, lambda a, b: a @ b)

for axes, keep in [(None, 0), ((0,), 0), ((1,), 1), ((0, 2), 0), ((-1,), 1)]:
    tag = "all" if axes is None else "_".join(map(str, axes))
    x = torch.randn(2, 3, 4)
    if axes is None:
        case(f"sum/{tag}_k{keep}", {"x": x}, lambda x: x.sum())
        case(f"mean/{tag}_k{keep}", {"x": x}, lambda x: x.mean())
    else:
        case(f"sum/{tag}_k{keep}", {"x": x}, lambda x: x.sum(dim=axes, keepdim=bool(keep)))
        case(f"mean/{tag}_k{keep}", {"x": x}, lambda x: x.mean(dim=axes, keepdim=bool(keep)))

case("relu/basic", {"x": torch.randn(3, 5)}, torch.relu)
case("linear/basic", {"x": torch.randn(4, 3), "weight": torch.randn(5, 3), "bias": torch.randn(5)},
     lambda x, weight, bias: torch.nn.functional.linear(x, weight, bias))
case("global_avg_pool/basic", {"x": torch.randn(2, 3, 4, 5)}, lambda x: x.mean(dim=(2, 3)))

out = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "GlassboxNNTests", "Golden", "core.json")
with open(out, "w") as f:
    json.dump({"cases": cases}, f, separators=(",", ":"))
print("wrote", os.path.normpath(out), len(cases), "cases")
