#!/usr/bin/env python3
"""Writes Tests/GlassboxImageTests/ReXReferenceFixture.swift: responsibility maps computed by
rex-xai 0.4.1 itself (its causal_explanation, ResponsibilityMaps and merge, unchanged) on a tiny
linear classifier, with the random split points replaced by a scripted stream that the Swift test
reproduces. Glassbox's CausalResponsibility search must then give the same maps, the same
evaluation counts and the same combined map.

The scripted stream (both sides): a 64-bit LCG, state ← state·6364136223846793005 +
1442695040888963407 (mod 2⁶⁴), split position = 1 + (state >> 33) mod (area − 1), started at
1000 + iteration for iteration 1, 2, … (rex-xai's `process`).

The classifier: logits = W · x_masked + b on an H×W image (mask value 0), W and b small integers
so every logit is exact in float32 and both sides take the same argmax.

Needs rex-xai 0.4.1 and torch (see benchmarks/rex_reference.sh for the environment):
  $REX_WORK/venv/bin/python benchmarks/tools/make_rex_fixture.py
"""
import json
import os

import numpy as np
import torch

import rex_xai.mutants.box as rex_box
from rex_xai.explanation.rex import predict_target
from rex_xai.input.config import CausalArgs
from rex_xai.input.input_data import Data
from rex_xai.responsibility.prediction import from_pytorch_tensor
from rex_xai.responsibility.resp_maps import ResponsibilityMaps
from rex_xai.responsibility.responsibility import causal_explanation
from rex_xai.utils._utils import ResponsibilityStyle

MASK64 = (1 << 64) - 1


class Stream:
    state = 0

    @classmethod
    def next_position(cls, area):
        cls.state = (cls.state * 6364136223846793005 + 1442695040888963407) & MASK64
        return 1 + (cls.state >> 33) % (area - 1)


def scripted_coords(d, *args, map=None):
    space = args[0]
    if space <= 1:
        return None  # numpy's randint(1, 1) raises, which rex-xai turns into "no split"
    return Stream.next_position(space)


rex_box.random_coords = scripted_coords


def model(h, w):
    """Three classes: 0 a constant, 1 two blobs (one weighted more), 2 the total ink / 4."""
    x = np.array([[((3 * r + 5 * c) % 7) + 1 for c in range(w)] for r in range(h)], np.float32)
    weights = np.zeros((3, h * w), np.float32)
    for r in range(h):
        for c in range(w):
            if 2 <= r < 5 and 3 <= c < 7:
                weights[1, r * w + c] = 3
            if h - 4 <= r < h - 1 and w - 5 <= c < w - 2:
                weights[1, r * w + c] = 2
            weights[2, r * w + c] = 0.25
    bias = np.array([60, 0, 0], np.float32)
    return x, weights, bias


def run_case(name, h, w, iterations, style, min_box, depth, limit):
    x, weights, bias = model(h, w)
    wt, bt = torch.from_numpy(weights), torch.from_numpy(bias)

    def predict(tensor, target=None, raw=False, binary_threshold=None):
        logits = tensor.reshape(tensor.shape[0], -1) @ wt.T + bt
        return from_pytorch_tensor(logits, target=target)

    args = CausalArgs()
    args.progress_bar = False
    args.batch_size = 14
    args.min_box_size, args.tree_depth, args.search_limit = min_box, depth, limit
    args.responsibility_style = style
    data = Data(None, [1, 1, h, w], "cpu", mode="RGB")
    data.data = torch.from_numpy(x).reshape(1, 1, h, w)
    data.set_mask_value(0)
    data.target = predict_target(data, args, predict)
    maps = ResponsibilityMaps(style, h, w)
    local, work = [], []
    # calculate_responsibility's loop, with the scripted stream restarted per iteration
    for i in range(iterations):
        Stream.state = 1000 + i + 1
        local_maps, passing, failing, _, _ = causal_explanation(i + 1, data, args, predict)
        m = local_maps.get(data.target.classification)
        initial = 1.0 if style == ResponsibilityStyle.Multiplicative else 0.0
        local.append(np.full((h, w), initial, np.float32) if m is None else m.copy())
        work.append(passing + failing)
        maps.merge(local_maps)
    final = maps.get(data.target.classification)
    return dict(name=name, h=h, w=w, iterations=iterations,
                aggregation="multiplicative" if style == ResponsibilityStyle.Multiplicative else "additive",
                min_box=min_box, depth=depth, limit=limit, target=int(data.target.classification),
                image=x.ravel(), weights=weights.ravel(), bias=bias, local=[m.ravel() for m in local], work=work,
                final=final.ravel())


def swift_floats(a):
    return "[" + ", ".join(repr(float(v)) for v in np.asarray(a, np.float32)) + "]"


def main():
    cases = [
        run_case("defaults, multiplicative", 10, 13, 4, ResponsibilityStyle.Multiplicative, 10, 10, None),
        run_case("defaults, additive", 10, 13, 4, ResponsibilityStyle.Additive, 10, 10, None),
        run_case("min box 2, depth 4", 10, 13, 3, ResponsibilityStyle.Multiplicative, 2, 4, None),
        run_case("min box 3, depth 10, search limit 50", 10, 13, 3, ResponsibilityStyle.Additive, 3, 10, 50),
        run_case("20x17, min box 4", 20, 17, 5, ResponsibilityStyle.Multiplicative, 4, 10, None),
    ]
    out = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "GlassboxImageTests", "ReXReferenceFixture.swift")
    lines = ["// Generated by benchmarks/tools/make_rex_fixture.py from rex-xai 0.4.1 itself; do not edit.",
             "// Each case: a linear classifier (logits = W·x + b, mask value 0), rex-xai's settings, and the",
             "// maps rex-xai computed with the scripted split stream (see the script).",
             "",
             "enum ReXReferenceFixture {",
             "    struct Case {",
             "        var name: String, height: Int, width: Int, iterations: Int, aggregation: String",
             "        var minBoxSize: Int, treeDepth: Int, searchLimit: Int?, target: Int",
             "        var image: [Float], weights: [Float], bias: [Float]",
             "        var iterationMaps: [[Float]], evaluations: [Int], map: [Float]",
             "    }",
             "    static let cases: [Case] = ["]
    for c in cases:
        lines.append(f"        Case(name: {json.dumps(c['name'])}, "
                     f"height: {c['h']}, width: {c['w']}, iterations: {c['iterations']}, "
                     f"aggregation: \"{c['aggregation']}\", minBoxSize: {c['min_box']}, treeDepth: {c['depth']}, "
                     f"searchLimit: {'nil' if c['limit'] is None else c['limit']}, target: {c['target']},")
        lines.append(f"             image: {swift_floats(c['image'])},")
        lines.append(f"             weights: {swift_floats(c['weights'])},")
        lines.append(f"             bias: {swift_floats(c['bias'])},")
        lines.append("             iterationMaps: [" + ",\n                             ".join(swift_floats(m) for m in c["local"]) + "],")
        lines.append(f"             evaluations: {c['work']},")
        lines.append(f"             map: {swift_floats(c['final'])}),")
    lines += ["    ]", "}", ""]
    open(out, "w").write("\n".join(lines))
    for c in cases:
        print(f"{c['name']}: target {c['target']}, evaluations {c['work']}, map max {c['final'].max():.4f}")
    print(f"wrote {os.path.normpath(out)}")


if __name__ == "__main__":
    main()
