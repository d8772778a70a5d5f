#!/usr/bin/env python3
"""Golden values for TransformerBlock: PyTorch's nn.TransformerEncoderLayer(batch_first=True,
norm_first=True, dropout=0) forward output and gradients for a fixed upstream gradient, with
its state_dict under PyTorch's names (which TransformerBlock uses too).

Run once with Debian's PyTorch: /usr/bin/python3 benchmarks/tools/make_golden_transformer.py
Writes Tests/GlassboxNNTests/Golden/transformer_block.json.
"""
import json, os
import torch

torch.manual_seed(13)


def stored(t):
    t = t.detach().double()
    return {"shape": list(t.shape), "data": [float(f"{v:.7g}") for v in t.flatten().tolist()]}


cases = []
for (n, t, e, h, f, act) in [(2, 3, 4, 2, 8, "relu"), (3, 5, 8, 4, 16, "gelu"), (1, 4, 6, 1, 5, "relu")]:
    layer = torch.nn.TransformerEncoderLayer(e, h, dim_feedforward=f, dropout=0.0, activation=act,
                                             batch_first=True, norm_first=True)
    with torch.no_grad():
        # Non-trivial norms and biases, so every parameter's role is checked.
        for name, p in layer.named_parameters():
            if name.endswith("bias") or name.startswith("norm"):
                p.uniform_(-0.5, 0.5) if name.endswith("bias") else p.uniform_(0.5, 1.5)
    layer.train()
    x = torch.randn(n, t, e, requires_grad=True)
    y = layer(x)
    g = torch.randn_like(y)
    y.backward(g)
    tensors = {"x": stored(x), "y": stored(y), "grad_y": stored(g), "grad_x": stored(x.grad)}
    for name, p in layer.named_parameters():
        tensors["param:" + name] = stored(p)
        tensors["grad:" + name] = stored(p.grad)
    cases.append({"name": f"block_n{n}_t{t}_e{e}_h{h}_f{f}_{act}",
                  "attrs": {"heads": h, "ffn": f, "gelu": 1 if act == "gelu" else 0}, "tensors": tensors})

out = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "GlassboxNNTests", "Golden", "transformer_block.json")
with open(out, "w") as f:
    json.dump({"cases": cases}, f, separators=(",", ":"))
print("wrote", os.path.normpath(out), len(cases), "cases")
