#!/usr/bin/env python3
"""PyTorch-on-CPU reference figures for `glassbox bench` (optional; outside the test suite).

Runs the same workloads as `glassbox bench` with 2 threads and prints one JSON object:
  torch_mlp_train_rows_per_s       16→64→32→2 MLP, batch 64, Adam, 3,750 rows × 20 epochs
  torch_cnn_train_images_per_s     Conv(1→32)-ReLU-Pool-Conv(32→64)-ReLU-Pool-Linear(3136→128)-ReLU-Linear(128→10), batch 64
  torch_cnn_infer_images_per_s_64  same CNN, inference, batch 64
  torch_cnn_infer_images_per_s_256 same CNN, inference, batch 256
Each figure is the median of --repeats timed runs after a warm-up. Use Debian's python3-torch
(`/usr/bin/python3 benchmarks/reference_torch.py`).
"""
import argparse, json, statistics, time
import torch
import torch.nn as nn


def mlp_train(repeats):
    torch.manual_seed(0)
    x = torch.randn(3750, 16)
    y = (x[:, 0] + x[:, 1] > 0).long()
    rates = []
    for r in range(repeats + 1):
        model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 2))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        epochs = 20 if r > 0 else 2
        start = time.perf_counter()
        for _ in range(epochs):
            perm = torch.randperm(3750)
            for i in range(0, 3750, 64):
                idx = perm[i:i + 64]
                opt.zero_grad()
                loss = loss_fn(model(x[idx]), y[idx])
                loss.backward()
                opt.step()
        elapsed = time.perf_counter() - start
        if r > 0:
            rates.append(3750 * epochs / elapsed)
    return statistics.median(rates)


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def cnn_train(repeats, steps=30):
    torch.manual_seed(0)
    model = cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(64, 1, 28, 28)
    y = torch.randint(0, 10, (64,))
    rates = []
    for r in range(repeats + 1):
        start = time.perf_counter()
        for _ in range(steps if r > 0 else 3):
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
        if r > 0:
            rates.append(64 * steps / (time.perf_counter() - start))
    return statistics.median(rates)


def cnn_infer(batch, repeats, images=4096):
    torch.manual_seed(0)
    model = cnn().eval()
    x = torch.randn(batch, 1, 28, 28)
    rates = []
    with torch.no_grad():
        for r in range(repeats + 1):
            n = max(1, images // batch) if r > 0 else 2
            start = time.perf_counter()
            for _ in range(n):
                model(x)
            if r > 0:
                rates.append(n * batch / (time.perf_counter() - start))
    return statistics.median(rates)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = {
        "torch_version": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_mlp_train_rows_per_s": mlp_train(args.repeats),
        "torch_cnn_train_images_per_s": cnn_train(args.repeats),
        "torch_cnn_infer_images_per_s_64": cnn_infer(64, args.repeats),
        "torch_cnn_infer_images_per_s_256": cnn_infer(256, args.repeats),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
