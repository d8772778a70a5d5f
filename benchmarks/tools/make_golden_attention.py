#!/usr/bin/env python3
"""Golden values for MultiheadSelfAttention and Residual: PyTorch's nn.MultiheadAttention
(batch_first, q = k = v = x) forward output and gradients for a fixed upstream gradient.

Run once with Debian's PyTorch: /usr/bin/python3 benchmarks/tools/make_golden_attention.py
Writes Tests/GlassboxNNTests/Golden/attention.json.
"""
import json, os
import torch

torch.manual_seed(11)


def stored(t):
    t = t.detach().double()
    return {"shape": list(t.shape), "data": [float(f"{v:.7g}") for v in t.flatten().tolist()]}


cases = []
for (n, t, e, h) in [(2, 3, 4, 2), (1, 5, 6, 3), (3, 2, 8, 1)]:
    mha = torch.nn.MultiheadAttention(e, h, batch_first=True)
    with torch.no_grad():
        mha.in_proj_bias.uniform_(-0.5, 0.5)
        mha.out_proj.bias.uniform_(-0.5, 0.5)
    x = torch.randn(n, t, e, requires_grad=True)
    y, _ = mha(x, x, x, need_weights=False)
    g = torch.randn_like(y)
    y.backward(g)
    cases.append({
        "name": f"mha_n{n}_t{t}_e{e}_h{h}",
        "attrs": {"heads": h},
        "tensors": {
            "x": stored(x), "in_proj_weight": stored(mha.in_proj_weight), "in_proj_bias": stored(mha.in_proj_bias),
            "out_proj_weight": stored(mha.out_proj.weight), "out_proj_bias": stored(mha.out_proj.bias),
            "y": stored(y), "grad_y": stored(g), "grad_x": stored(x.grad),
            "grad_in_proj_weight": stored(mha.in_proj_weight.grad), "grad_out_proj_weight": stored(mha.out_proj.weight.grad),
        },
    })

out = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "GlassboxNNTests", "Golden", "attention.json")
with open(out, "w") as f:
    json.dump({"cases": cases}, f, separators=(",", ":"))
print("wrote", os.path.normpath(out), len(cases), "cases")
