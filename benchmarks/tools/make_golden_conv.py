#!/usr/bin/env python3
"""Golden values for convolution, pooling and normalisation ops (Tests/GlassboxNNTests/Golden/conv.json).

Run once with Debian's PyTorch: `/usr/bin/python3 benchmarks/tools/make_golden_conv.py`.
Every case stores its inputs, a random output gradient `grad_y`, the forward output `y` and the
gradients of sum(y * grad_y) with respect to every input, in float32 rounded to 7 significant
digits. Window and option values are in `attrs`.
"""
import json
import os
import torch
import torch.nn.functional as F

torch.manual_seed(1234)
cases = []


def stored(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [float("%.7g" % v) for v in t.flatten().tolist()]}


def add(name, tensors, attrs):
    cases.append({"name": name, "tensors": {k: stored(v) for k, v in tensors.items()}, "attrs": attrs})


def with_grads(f, inputs):
    """Forward f(*inputs), backward from a random grad_y; returns y, grad_y, grads."""
    leaves = [t.clone().requires_grad_(True) for t in inputs]
    y = f(*leaves)
    gy = torch.randn_like(y)
    y.backward(gy)
    return y, gy, [leaf.grad for leaf in leaves]


# conv2d: (name, N, C, H, W, O, kernel, stride, padding, dilation, groups, bias)
for name, n, c, h, w, o, k, s, p, d, g, has_bias in [
    ("conv_basic", 2, 3, 7, 6, 4, (3, 3), (1, 1), (0, 0), (1, 1), 1, True),
    ("conv_stride_pad", 2, 3, 7, 7, 4, (3, 3), (2, 2), (1, 1), (1, 1), 1, True),
    ("conv_dilation", 1, 2, 8, 7, 3, (3, 2), (1, 1), (2, 1), (2, 2), 1, True),
    ("conv_groups", 2, 4, 6, 7, 6, (2, 3), (1, 2), (1, 0), (1, 1), 2, True),
    ("conv_depthwise", 2, 3, 5, 5, 3, (3, 3), (1, 1), (1, 1), (1, 1), 3, False),
    ("conv_pointwise", 2, 3, 4, 5, 5, (1, 1), (1, 1), (0, 0), (1, 1), 1, True),
    ("conv_strided_1x1", 1, 2, 5, 5, 3, (1, 1), (2, 2), (0, 0), (1, 1), 1, True),
]:
    x = torch.randn(n, c, h, w)
    weight = torch.randn(o, c // g, *k) * 0.5
    bias = torch.randn(o)
    inputs = [x, weight] + ([bias] if has_bias else [])
    f = lambda x_, w_, *b_: F.conv2d(x_, w_, b_[0] if b_ else None, stride=s, padding=p, dilation=d, groups=g)
    y, gy, grads = with_grads(f, inputs)
    tensors = {"x": x, "weight": weight, "y": y, "grad_y": gy, "grad_x": grads[0], "grad_weight": grads[1]}
    if has_bias:
        tensors.update(bias=bias, grad_bias=grads[2])
    add(name, tensors, {"sh": s[0], "sw": s[1], "ph": p[0], "pw": p[1], "dh": d[0], "dw": d[1], "groups": g})

# max pooling: random inputs have no ties.
for name, shape, k, s, p, d in [
    ("max_k2s2", (2, 3, 6, 6), (2, 2), (2, 2), (0, 0), (1, 1)),
    ("max_k3s2p1", (2, 2, 7, 7), (3, 3), (2, 2), (1, 1), (1, 1)),
    ("max_dilated", (1, 2, 8, 7), (2, 3), (1, 2), (1, 1), (2, 1)),
]:
    x = torch.randn(*shape)
    y, gy, grads = with_grads(lambda x_: F.max_pool2d(x_, k, s, p, d), [x])
    add(name, {"x": x, "y": y, "grad_y": gy, "grad_x": grads[0]},
        {"kh": k[0], "kw": k[1], "sh": s[0], "sw": s[1], "ph": p[0], "pw": p[1], "dh": d[0], "dw": d[1]})

for name, shape, k, s, p, include in [
    ("avg_k2s2", (2, 3, 6, 6), (2, 2), (2, 2), (0, 0), True),
    ("avg_k3s2p1_include", (2, 2, 7, 7), (3, 3), (2, 2), (1, 1), True),
    ("avg_k3s2p1_exclude", (2, 2, 7, 7), (3, 3), (2, 2), (1, 1), False),
    ("avg_k3x2_s1x2_p1", (1, 2, 5, 6), (3, 2), (1, 2), (1, 1), True),
]:
    x = torch.randn(*shape)
    y, gy, grads = with_grads(lambda x_: F.avg_pool2d(x_, k, s, p, count_include_pad=include), [x])
    add(name, {"x": x, "y": y, "grad_y": gy, "grad_x": grads[0]},
        {"kh": k[0], "kw": k[1], "sh": s[0], "sw": s[1], "ph": p[0], "pw": p[1],
         "count_include_pad": 1 if include else 0})

# batch norm: one training step (output, gradients, updated running statistics), then inference
# with the updated statistics on a second input.
for name, shape, momentum, eps in [
    ("bn2d", (4, 3, 5, 5), 0.1, 1e-5),
    ("bn1d", (8, 5), 0.3, 1e-5),
    ("bn1d_3d", (4, 3, 6), 0.1, 1e-3),
]:
    c = shape[1]
    x = torch.randn(*shape) * 3 + 2
    gamma, beta = torch.randn(c), torch.randn(c)
    mean0, var0 = torch.randn(c), torch.rand(c) + 0.5
    rm, rv = mean0.clone(), var0.clone()
    f = lambda x_, g_, b_: F.batch_norm(x_, rm, rv, g_, b_, training=True, momentum=momentum, eps=eps)
    y, gy, grads = with_grads(f, [x, gamma, beta])
    x2 = torch.randn(2, *shape[1:]) * 3 + 2
    f2 = lambda x_, g_, b_: F.batch_norm(x_, rm, rv, g_, b_, training=False, momentum=momentum, eps=eps)
    y2, gy2, grads2 = with_grads(f2, [x2, gamma, beta])
    add(name, {"x": x, "gamma": gamma, "beta": beta, "running_mean": mean0, "running_var": var0,
               "y": y, "grad_y": gy, "grad_x": grads[0], "grad_gamma": grads[1], "grad_beta": grads[2],
               "running_mean_after": rm, "running_var_after": rv,
               "x_eval": x2, "y_eval": y2, "grad_y_eval": gy2, "grad_x_eval": grads2[0],
               "grad_gamma_eval": grads2[1], "grad_beta_eval": grads2[2]},
        {"momentum": momentum, "eps": eps})

for name, shape, normalized, eps in [
    ("ln_last", (3, 4, 5), (5,), 1e-5),
    ("ln_two_axes", (2, 3, 4, 5), (4, 5), 1e-3),
]:
    x = torch.randn(*shape) * 2 + 1
    gamma, beta = torch.randn(*normalized), torch.randn(*normalized)
    y, gy, grads = with_grads(lambda x_, g_, b_: F.layer_norm(x_, normalized, g_, b_, eps), [x, gamma, beta])
    add(name, {"x": x, "gamma": gamma, "beta": beta, "y": y, "grad_y": gy, "grad_x": grads[0],
               "grad_gamma": grads[1], "grad_beta": grads[2]},
        {"eps": eps, "normalized_axes": len(normalized)})

out = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "GlassboxNNTests", "Golden", "conv.json")
with open(out, "w") as fh:
    json.dump({"cases": cases}, fh, separators=(",", ":"))
print(f"wrote {len(cases)} cases to {os.path.normpath(out)} ({os.path.getsize(out)} bytes)")
