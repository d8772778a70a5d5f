#!/usr/bin/env python3
"""Draw the stratified Fashion-MNIST sample committed in Sources/GlassboxData/Resources/.

Usage:
    python3 make_fashion_sample.py [FASHION_MNIST_DIR] [OUTPUT_DIR]
FASHION_MNIST_DIR defaults to /usr/share/datasets/fashion-mnist (Debian package
dataset-fashion-mnist, the official Zalando files); OUTPUT_DIR to the current folder.

How the sample is drawn:
- rng = numpy.random.RandomState(20240601) (the legacy generator, whose stream numpy
  keeps stable across versions);
- for the official training set, for each class c = 0..9 in order:
  take the indices i with label c in increasing order, apply rng.permutation, keep
  the first 600; for the official test set, continue with the same rng and keep 100
  per class the same way;
- the kept indices of each set are sorted increasingly, so the sample keeps the
  official files' order;
- images and labels are written as IDX (magic 0x00000803 / 0x00000801) compressed with
  gzip level 9, mtime 0 and no file name, so the output is byte-for-byte reproducible.

Output: fashion_sample_train_images.idx3.gz, fashion_sample_train_labels.idx1.gz,
fashion_sample_test_images.idx3.gz, fashion_sample_test_labels.idx1.gz, and
fashion_sample_indices.txt (the official indices kept, one line per set).
"""
import gzip
import os
import struct
import sys

import numpy as np

SEED = 20240601
TRAIN_PER_CLASS = 600
TEST_PER_CLASS = 100


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, path
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    assert arr.size == int(np.prod(dims)), path
    return arr.reshape(dims)


def write_idx(path, arr):
    header = struct.pack(">HBB", 0, 0x08, arr.ndim) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as f:
            f.write(header + np.ascontiguousarray(arr, dtype=np.uint8).tobytes())


def stratified(labels, per_class, rng):
    kept = []
    for c in range(10):
        idx = np.flatnonzero(labels == c)
        kept.append(rng.permutation(idx)[:per_class])
    return np.sort(np.concatenate(kept))


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    out = sys.argv[2] if len(sys.argv) > 2 else "."
    rng = np.random.RandomState(SEED)
    lines = []
    for official, name, per_class in (("train", "train", TRAIN_PER_CLASS), ("t10k", "test", TEST_PER_CLASS)):
        images = read_idx(os.path.join(src, f"{official}-images-idx3-ubyte.gz"))
        labels = read_idx(os.path.join(src, f"{official}-labels-idx1-ubyte.gz"))
        keep = stratified(labels, per_class, rng)
        assert np.all(np.bincount(labels[keep], minlength=10) == per_class)
        write_idx(os.path.join(out, f"fashion_sample_{name}_images.idx3.gz"), images[keep])
        write_idx(os.path.join(out, f"fashion_sample_{name}_labels.idx1.gz"), labels[keep])
        lines.append(f"{name}: " + " ".join(str(i) for i in keep))
        print(f"{name}: {len(keep)} images from {official}, first indices {keep[:5].tolist()}")
    with open(os.path.join(out, "fashion_sample_indices.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
