#!/usr/bin/env python3
"""Convert scikit-learn's bundled toy datasets into the files committed in
Sources/GlassboxData/Resources/.

Input: the `sklearn/datasets/data` and `sklearn/datasets/descr` folders of a
scikit-learn wheel (1.9.1 was used), unpacked, e.g.
    pip download --no-deps scikit-learn==1.9.1 && unzip scikit_learn-*.whl 'sklearn/datasets/*'
Usage:
    python3 make_sklearn_data.py SKLEARN_DATASETS_DIR OUTPUT_DIR

scikit-learn's CSV files start with an odd line ("n_samples,n_features,class
names...") and end each row with an integer class index. This script writes
ordinary CSV files with a header row of scikit-learn's feature names and the
class as a string column, keeping every value's text exactly as scikit-learn
ships it. Digits becomes two uint8 NPY files (images [1797, 8, 8] with raw
values 0..16, labels [1797]).

Only the standard library and numpy are needed; the output is deterministic.
"""
import csv
import gzip
import io
import os
import sys

import numpy as np

BREAST_CANCER_FEATURES = [
    "mean radius", "mean texture", "mean perimeter", "mean area",
    "mean smoothness", "mean compactness", "mean concavity",
    "mean concave points", "mean symmetry", "mean fractal dimension",
    "radius error", "texture error", "perimeter error", "area error",
    "smoothness error", "compactness error", "concavity error",
    "concave points error", "symmetry error", "fractal dimension error",
    "worst radius", "worst texture", "worst perimeter", "worst area",
    "worst smoothness", "worst compactness", "worst concavity",
    "worst concave points", "worst symmetry", "worst fractal dimension",
]
WINE_FEATURES = [
    "alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium",
    "total_phenols", "flavanoids", "nonflavanoid_phenols", "proanthocyanins",
    "color_intensity", "hue", "od280/od315_of_diluted_wines", "proline",
]
IRIS_FEATURES = [
    "sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)",
]


def convert(src, dst, features, target_column):
    with open(src, newline="") as f:
        rows = list(csv.reader(f))
    n, d, *class_names = rows[0]
    n, d = int(n), int(d)
    body = rows[1:]
    assert d == len(features), (src, d, len(features))
    assert len(body) == n, (src, len(body), n)
    with open(dst, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(features + [target_column])
        for row in body:
            assert len(row) == d + 1
            w.writerow(row[:d] + [class_names[int(row[d])]])
    print(f"{dst}: {n} rows, {d} features, classes {class_names}")


def convert_digits(src, out_dir):
    with gzip.open(src, "rt") as f:
        data = np.loadtxt(f, delimiter=",", dtype=np.int64)
    assert data.shape == (1797, 65), data.shape
    assert data.min() >= 0 and data[:, :64].max() <= 16 and data[:, 64].max() <= 9
    images = data[:, :64].astype(np.uint8).reshape(1797, 8, 8)
    labels = data[:, 64].astype(np.uint8)
    np.save(os.path.join(out_dir, "digits_images.npy"), images)
    np.save(os.path.join(out_dir, "digits_labels.npy"), labels)
    print(f"digits: images {images.shape}, labels {labels.shape}, counts {np.bincount(labels)}")


def main():
    src, out = sys.argv[1], sys.argv[2]
    data = os.path.join(src, "data")
    convert(os.path.join(data, "breast_cancer.csv"), os.path.join(out, "breast_cancer.csv"),
            BREAST_CANCER_FEATURES, "diagnosis")
    convert(os.path.join(data, "wine_data.csv"), os.path.join(out, "wine.csv"),
            WINE_FEATURES, "class")
    convert(os.path.join(data, "iris.csv"), os.path.join(out, "iris.csv"),
            IRIS_FEATURES, "species")
    convert_digits(os.path.join(data, "digits.csv.gz"), out)


if __name__ == "__main__":
    main()
