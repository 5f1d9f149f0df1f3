"""Zennit 0.5.1 reference relevance for the LRP golden tests (run in its OWN venv, never with TF).

Usage (torch and Zennit must never be imported next to TensorFlow):

    python -m venv /tmp/kv/venv-zennit
    /tmp/kv/venv-zennit/bin/pip install --find-links /opt/wheels torch zennit==0.5.1 numpy
    python tests/relevance/twins.py                       # kerasviz env: weights + images
    /tmp/kv/venv-zennit/bin/python scripts/zennit_reference.py tests/relevance/fixtures

For each `<name>_weights.npz` it builds the PyTorch twin of the Keras model
(`tests/relevance/twins.py`: same layers, Keras weights transposed to PyTorch's layout, BatchNorm
merged by Zennit's `SequentialMergeBatchNorm` canonizer (see `ExactMergeBatchNorm`), the residual sum as `zennit.layer.Sum`),
runs every composite with relevance starting at the target logit (`one_hot * output`), and
writes `<name>_zennit.npz`: `<composite>` -> relevance `(N, H, W)` summed over colours, and
`logits` `(N, 10)`. The pixels are divided by 255 before the network (the Keras models'
Rescaling layer), so ZBox's bounds are `[0, 1]` there.

`--time SIZE REPEATS THREADS` instead prints the best seconds of one Zennit EpsilonPlusFlat
pass on VGG16 (random weights, one image) for `benchmarks/lrp.py`.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn


def _torchvision_shim() -> None:
    """Let `import zennit` work when the installed torchvision does not fit the CPU torch wheel.

    Zennit imports torchvision only for the two ResNet block classes its torchvision
    canonizers test with `isinstance`; no rule or composite used here touches them.
    """
    try:
        import torchvision.models.resnet  # noqa: F401
    except Exception:  # a torchvision built for another torch: replace it by its two names
        import types

        for key in [k for k in sys.modules if k.startswith("torchvision")]:
            del sys.modules[key]
        resnet = types.ModuleType("torchvision.models.resnet")
        resnet.Bottleneck = type("Bottleneck", (nn.Module,), {})
        resnet.BasicBlock = type("BasicBlock", (nn.Module,), {})
        models = types.ModuleType("torchvision.models")
        models.resnet = resnet
        package = types.ModuleType("torchvision")
        package.models = models
        sys.modules.update({"torchvision": package, "torchvision.models": models,
                            "torchvision.models.resnet": resnet})


_torchvision_shim()

from zennit.attribution import Gradient  # noqa: E402
from zennit.canonizers import SequentialMergeBatchNorm  # noqa: E402
from zennit.composites import (  # noqa: E402
    EpsilonAlpha2Beta1,
    EpsilonAlpha2Beta1Flat,
    EpsilonGammaBox,
    EpsilonPlus,
    EpsilonPlusFlat,
    LayerMapComposite,
    layer_map_base,
)
from zennit.layer import Sum  # noqa: E402
from zennit.rules import Epsilon  # noqa: E402
from zennit.types import Convolution  # noqa: E402


def conv_bn(prefix: str, cin: int, cout: int, relu: bool = True) -> list:
    layers = [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout, eps=1e-3)]
    for layer in layers:
        layer.keras_name = f"{prefix}_{'conv' if isinstance(layer, nn.Conv2d) else 'bn'}"
    return layers + ([nn.ReLU()] if relu else [])


class Residual(nn.Module):
    """`x + branch(x)` through zennit's Sum layer (so the Norm rule applies, as Add in Keras)."""

    def __init__(self) -> None:
        super().__init__()
        self.branch = nn.Sequential(*conv_bn("res_a", 8, 8), *conv_bn("res_b", 8, 8, relu=False))
        self.sum = Sum()

    def forward(self, x):
        return self.sum(torch.stack([x, self.branch(x)], dim=-1))


def named(layer: nn.Module, name: str) -> nn.Module:
    layer.keras_name = name
    return layer


def bn_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Sequential(*conv_bn("block1", 3, 8)), nn.MaxPool2d(2),
        nn.Sequential(*conv_bn("block2", 8, 16)), nn.MaxPool2d(2),
        nn.Sequential(*conv_bn("block3", 16, 16)), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        named(nn.Linear(16, 32), "fc1"), nn.ReLU(), named(nn.Linear(32, 10), "fc2"),
    )


def residual_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Sequential(*conv_bn("stem", 3, 8)), Residual(), nn.ReLU(), nn.MaxPool2d(2),
        named(nn.Conv2d(8, 16, 3, padding=1), "head_conv"), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), named(nn.Linear(16, 10), "fc"),
    )


TWINS = {"bn_cnn": bn_cnn, "residual_cnn": residual_cnn}


def load_weights(model: nn.Module, data) -> None:
    """Copy Keras weights (`"<layer>/<i>"`) into the twin, transposed to PyTorch's layout."""
    with torch.no_grad():
        for module in model.modules():
            name = getattr(module, "keras_name", None)
            if name is None:
                continue
            if isinstance(module, nn.Conv2d):
                module.weight.copy_(torch.from_numpy(data[f"{name}/0"].transpose(3, 2, 0, 1)))
                module.bias.copy_(torch.from_numpy(data[f"{name}/1"]))
            elif isinstance(module, nn.Linear):
                module.weight.copy_(torch.from_numpy(data[f"{name}/0"].T))
                module.bias.copy_(torch.from_numpy(data[f"{name}/1"]))
            elif isinstance(module, nn.BatchNorm2d):
                gamma, beta, mean, var = (data[f"{name}/{i}"] for i in range(4))
                module.weight.copy_(torch.from_numpy(gamma))
                module.bias.copy_(torch.from_numpy(beta))
                module.running_mean.copy_(torch.from_numpy(mean))
                module.running_var.copy_(torch.from_numpy(var))


class ExactMergeBatchNorm(SequentialMergeBatchNorm):
    """Zennit's SequentialMergeBatchNorm without its one deviation from the plain network.

    Zennit 0.5.1 merges a BatchNorm into the layer before it and leaves the BatchNorm as an
    "identity" with mean 0, variance 1, but keeps its `eps`, so it still divides by
    `sqrt(1 + eps)`: relevance and logits shrink by that factor per merged BatchNorm (0.05 %
    for Keras' eps=1e-3). Setting `eps` to 0 while merged makes it the identity it is meant to be;
    the rules are untouched.
    """

    def merge_batch_norm(self, modules, batch_norm):
        super().merge_batch_norm(modules, batch_norm)
        self.original_eps = getattr(self, "original_eps", {})
        self.original_eps[batch_norm] = batch_norm.eps
        batch_norm.eps = 0.0

    def remove(self):
        for batch_norm, eps in getattr(self, "original_eps", {}).items():
            batch_norm.eps = eps
        super().remove()


def composites():
    """name -> a fresh Zennit composite (BatchNorm merged, ZBox bounds of pixels / 255)."""
    merge = [ExactMergeBatchNorm()]
    epsilon_map = layer_map_base() + [(Convolution, Epsilon(1e-6)), (nn.Linear, Epsilon(1e-6))]
    return {
        "epsilon": LayerMapComposite(layer_map=epsilon_map, canonizers=merge),
        "epsilon_plus": EpsilonPlus(canonizers=merge),
        "epsilon_plus_flat": EpsilonPlusFlat(canonizers=merge),
        "epsilon_gamma_box": EpsilonGammaBox(low=0.0, high=1.0, canonizers=merge),
        "epsilon_alpha2_beta1": EpsilonAlpha2Beta1(canonizers=merge),
        "epsilon_alpha2_beta1_flat": EpsilonAlpha2Beta1Flat(canonizers=merge),
    }


def relevance(model: nn.Module, composite, images: torch.Tensor, targets: torch.Tensor):
    """Zennit relevance `(N, H, W)` summed over colours, starting at the target logits."""

    def start(output):
        return torch.nn.functional.one_hot(targets, output.shape[-1]).to(output) * output

    with Gradient(model=model, composite=composite) as attributor:
        _, rel = attributor(images, start)
    return rel.sum(dim=1).detach().numpy().astype(np.float32)


def write_reference(folder: Path) -> None:
    torch.set_default_dtype(torch.float32)
    for path in sorted(folder.glob("*_weights.npz")):
        name = path.name[: -len("_weights.npz")]
        data = np.load(path)
        model = TWINS[name]().eval()
        load_weights(model, data)
        images = torch.from_numpy(data["images"].transpose(0, 3, 1, 2) / 255.0).float()
        targets = torch.from_numpy(data["targets"])
        result = {"logits": model(images).detach().numpy()}
        for composite_name, composite in composites().items():
            result[composite_name] = relevance(model, composite, images, targets)
        np.savez_compressed(folder / f"{name}_zennit.npz", **result)
        print(name, {k: float(v.sum()) for k, v in result.items() if k != "logits"})


def vgg16() -> nn.Module:
    """torchvision's VGG16 layout (13 convolutions, 3 dense layers), random weights."""
    layers, channels = [], 3
    for width, count in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        for _ in range(count):
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
            channels = width
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(
        *layers, nn.Flatten(), nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Linear(4096, 4096),
        nn.ReLU(), nn.Linear(4096, 1000),
    )


def time_zennit(size: int, repeats: int, threads: int) -> float:
    """Best seconds of one EpsilonPlusFlat pass of VGG16 at `size` x `size` (one image)."""
    torch.set_num_threads(threads)
    model = vgg16().eval()
    images = torch.rand(1, 3, size, size)
    target = torch.tensor([1])
    composite = EpsilonPlusFlat()
    best = float("inf")
    for run in range(repeats + 1):
        begin = time.perf_counter()
        relevance(model, composite, images, target)
        if run:  # the first run warms up
            best = min(best, time.perf_counter() - begin)
    return best


if __name__ == "__main__":
    if sys.argv[1] == "--time":
        print(json.dumps(time_zennit(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))))
    else:
        write_reference(Path(sys.argv[1]))
