#!/usr/bin/env python3
"""PyTorch reference for the Fashion-MNIST sample test: the same CNN, data, normalisation and
hyper-parameters as `cnnOnFashionSampleMatchesPyTorch` in Tests/GlassboxTests/EndToEndTests.swift.

CNN: Conv(1→16,3×3,pad 1)-ReLU-MaxPool2-Conv(16→32,3×3,pad 1)-ReLU-MaxPool2-Flatten-
Linear(1568→64)-ReLU-Linear(64→10); inputs normalised by the training images' mean and
(population) std; Adam lr 1e-3, batch 64, 8 epochs, shuffled each epoch; trained on the 6,000
bundled training images, scored on the 1,000 bundled test images, for 3 seeds.

Run once with Debian's PyTorch: /usr/bin/python3 benchmarks/tools/fashion_reference.py
Writes Tests/GlassboxTests/Reference/fashion_torch.json.
"""
import gzip, json, os, struct
import numpy as np
import torch
import torch.nn as nn

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
RES = os.path.join(ROOT, "Sources", "GlassboxData", "Resources")
EPOCHS, BATCH, LR = 8, 64, 1e-3


def idx(path):
    data = gzip.open(path).read()
    magic, = struct.unpack(">I", data[:4])
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data[4 + 4 * dims:], dtype=np.uint8).reshape(shape)


def load(part):
    x = idx(os.path.join(RES, f"fashion_sample_{part}_images.idx3.gz")).astype(np.float32) / 255.0
    y = idx(os.path.join(RES, f"fashion_sample_{part}_labels.idx1.gz")).astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


def main():
    torch.set_num_threads(2)
    xtr, ytr = load("train")
    xte, yte = load("test")
    mean, std = xtr.mean().item(), xtr.std(unbiased=False).item()
    xtr, xte = (xtr - mean) / std, (xte - mean) / std
    accuracies = []
    for seed in (1, 2, 3):
        torch.manual_seed(seed)
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(1568, 64), nn.ReLU(), nn.Linear(64, 10))
        opt = torch.optim.Adam(model.parameters(), lr=LR)
        loss_fn = nn.CrossEntropyLoss()
        for _ in range(EPOCHS):
            perm = torch.randperm(len(xtr))
            model.train()
            for i in range(0, len(xtr), BATCH):
                idx_ = perm[i:i + BATCH]
                opt.zero_grad()
                loss_fn(model(xtr[idx_]), ytr[idx_]).backward()
                opt.step()
        model.eval()
        with torch.no_grad():
            acc = (model(xte).argmax(1) == yte).float().mean().item()
        accuracies.append(round(acc, 4))
        print(f"seed {seed}: test accuracy {acc:.4f}")
    out = os.path.join(ROOT, "Tests", "GlassboxTests", "Reference", "fashion_torch.json")
    with open(out, "w") as f:
        json.dump({"torch_version": torch.__version__, "accuracies": accuracies, "epochs": EPOCHS,
                   "batch_size": BATCH, "learning_rate": LR, "train_images": len(xtr), "test_images": len(xte)}, f, indent=1)
    print("wrote", os.path.normpath(out))


if __name__ == "__main__":
    main()
