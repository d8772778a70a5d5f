"""onnxruntime's logits for the models benchmarks/onnx_models_export.py wrote, on real photos
(scikit-image's coffee, chelsea, astronaut, rocket: resize the short side to 256, centre-crop
224, (x − 127)/128 as EfficientNet-Lite expects) plus two seeded random images.
Writes WORKDIR/inputs.npy and WORKDIR/<model>.ort.npy. Usage: python3 benchmarks/onnx_models_reference.py WORKDIR
Needs: pip install onnxruntime numpy pillow scikit-image
"""
import os
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image
from skimage import data

work = sys.argv[1]


def prepare(rgb):
    img = Image.fromarray(rgb)
    w, h = img.size
    s = 256 / min(w, h)
    img = img.resize((max(256, round(w * s)), max(256, round(h * s))), Image.BILINEAR)
    w, h = img.size
    left, top = (w - 224) // 2, (h - 224) // 2
    x = np.asarray(img.crop((left, top, left + 224, top + 224)), dtype=np.float32)
    return ((x - 127) / 128).transpose(2, 0, 1)


photos = [prepare(getattr(data, n)()) for n in ["coffee", "chelsea", "astronaut", "rocket"]]
rng = np.random.default_rng(16)
noise = [rng.standard_normal((3, 224, 224)).astype(np.float32) for _ in range(2)]
x = np.stack(photos + noise).astype(np.float32)
np.save(os.path.join(work, "inputs.npy"), x)
for name in ["efficientnet_lite0", "resnet18_random", "mobilenet_v2_random"]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    sess = ort.InferenceSession(os.path.join(work, name + ".onnx"), options, providers=["CPUExecutionProvider"])
    y = sess.run(None, {"input": x})[0]
    np.save(os.path.join(work, name + ".ort.npy"), y.astype(np.float32))
    print(name, y.shape, "top-1:", y.argmax(1).tolist())
