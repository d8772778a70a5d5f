#!/usr/bin/env python3
"""Golden values for the optimisers, learning-rate schedules and gradient clipping.

Writes Tests/GlassboxNNTests/Golden/optim.json (format: Tests/GlassboxNNTests/Support/Golden.swift).
Run once with Debian's PyTorch: /usr/bin/python3 benchmarks/tools/make_golden_optim.py

Optimiser cases minimise the fixed quadratic L(p) = ½·Σ a ⊙ (p − c)², whose gradient a ⊙ (p − c)
is recomputed from the current parameter at each step, so momentum and moment estimates are
exercised along a real trajectory. Stored: p0, a, c and the parameter after each step
("trajectory", [steps, n]).
"""
import json
import math
import pathlib

import torch

STEPS = 6
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/GlassboxNNTests/Golden/optim.json"


def r7(values):
    return [float(f"{v:.7g}") for v in values]


def stored(t):
    t = t.detach().double()
    return {"shape": list(t.shape), "data": r7(t.flatten().tolist())}


def optimiser_case(name, make, attrs):
    g = torch.Generator().manual_seed(len(name))
    p0 = (torch.rand(2, 3, generator=g) * 4 - 2)
    a = torch.rand(2, 3, generator=g) * 2 + 0.25
    c = torch.rand(2, 3, generator=g) * 2 - 1
    # Round the inputs to what the JSON stores so both sides start from identical float32 values.
    p0, a, c = (torch.tensor(r7(t.flatten().tolist()), dtype=torch.float32).reshape(2, 3) for t in (p0, a, c))
    p = p0.clone().requires_grad_(True)
    opt = make([p])
    rows = []
    for _ in range(STEPS):
        opt.zero_grad()
        p.grad = a * (p.detach() - c)
        opt.step()
        rows.append(p.detach().clone().flatten())
    return {"name": name, "tensors": {"p0": stored(p0), "a": stored(a), "c": stored(c),
                                      "trajectory": stored(torch.stack(rows))}, "attrs": attrs}


def schedule_case(name, base, epochs, make, attrs):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base)
    sched = make(opt)
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return {"name": name, "tensors": {"lr": stored(torch.tensor(lrs, dtype=torch.float64))},
            "attrs": dict(attrs, base=base, epochs=epochs)}


def clip_case(name, max_norm):
    g = torch.Generator().manual_seed(7)
    grads = [torch.randn(3, 4, generator=g), torch.randn(5, generator=g)]
    grads = [torch.tensor(r7(t.flatten().tolist()), dtype=torch.float32).reshape(t.shape) for t in grads]
    params = [torch.zeros_like(t, requires_grad=True) for t in grads]
    for p, t in zip(params, grads):
        p.grad = t.clone()
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return {"name": name,
            "tensors": {"g0": stored(grads[0]), "g1": stored(grads[1]),
                        "clipped0": stored(params[0].grad), "clipped1": stored(params[1].grad),
                        "norm": stored(norm.reshape(1))},
            "attrs": {"max_norm": max_norm}}


def main():
    sgd = torch.optim.SGD
    cases = [
        optimiser_case("sgd_plain", lambda ps: sgd(ps, lr=0.1), {"lr": 0.1}),
        optimiser_case("sgd_momentum", lambda ps: sgd(ps, lr=0.1, momentum=0.9), {"lr": 0.1, "momentum": 0.9}),
        optimiser_case("sgd_nesterov", lambda ps: sgd(ps, lr=0.1, momentum=0.9, nesterov=True),
                       {"lr": 0.1, "momentum": 0.9, "nesterov": 1}),
        optimiser_case("sgd_weight_decay", lambda ps: sgd(ps, lr=0.1, momentum=0.5, weight_decay=0.2),
                       {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.2}),
        optimiser_case("adam_default", lambda ps: torch.optim.Adam(ps, lr=0.1), {"lr": 0.1}),
        optimiser_case("adam_options", lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.5, 0.9), eps=1e-3,
                                                                   weight_decay=0.1),
                       {"lr": 0.05, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "weight_decay": 0.1}),
        optimiser_case("adamw_default", lambda ps: torch.optim.AdamW(ps, lr=0.1), {"lr": 0.1}),
        optimiser_case("adamw_options", lambda ps: torch.optim.AdamW(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-6,
                                                                     weight_decay=0.5),
                       {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.5}),
        schedule_case("step_lr", 0.1, 10, lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
                      {"step_size": 3, "gamma": 0.5}),
        schedule_case("cosine_lr", 0.1, 12,
                      lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.0),
                      {"t_max": 10, "eta_min": 0.0}),
        schedule_case("cosine_lr_restart", 0.05, 14,
                      lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.001),
                      {"t_max": 4, "eta_min": 0.001}),
        clip_case("clip_above", 1.0),
        clip_case("clip_below", 100.0),
    ]
    OUT.write_text(json.dumps({"cases": cases}, indent=1) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
