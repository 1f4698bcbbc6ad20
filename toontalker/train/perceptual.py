"""Perceptual loss L_per (Eq. 11): a VGG19 feature pyramid, or discriminator feature matching when chosen.

The VGG19 feature extractor is our own module whose parameter names match torchvision's ImageNet file
``vgg19-dcbb9e9d.pth`` (``features.0.weight`` ... ``features.34.bias``), so that file loads into it
directly from the torch hub cache without torchvision. L_per compares relu1_1, relu2_1, relu3_1, relu4_1
and relu5_1 features of output and target at 4 image scales (1, 1/2, 1/4, 1/8) with L1 (reference facts:
4 scales x 5 layers; the weight lambda_per = 10 is applied by the objective).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from toontalker.cache import find_weights, known_weights
from toontalker.errors import BackendUnavailableError, WeightsError

# torchvision's VGG19 ("E") layout: ints are 3x3 conv widths, "M" a 2x2 max-pool.
_VGG19_LAYOUT: tuple[int | str, ...] = (
    64,
    64,
    "M",
    128,
    128,
    "M",
    256,
    256,
    256,
    256,
    "M",
    512,
    512,
    512,
    512,
    "M",
    512,
    512,
    512,
    512,
    "M",
)
# indices in ``features`` of relu1_1, relu2_1, relu3_1, relu4_1, relu5_1
VGG19_TAPS: tuple[int, ...] = (1, 6, 11, 20, 29)
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class VGG19Features(nn.Module):
    """The convolutional trunk of VGG19 up to relu5_1, frozen, returning the five tap activations.

    Input ``(B, 3, H, W)`` RGB in [-1, 1]; output a tuple of 5 tensors ``(B, C_i, H / 2^i, W / 2^i)``.
    """

    mean: Tensor  # (1, 3, 1, 1) buffers, registered in __init__
    std: Tensor

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for item in _VGG19_LAYOUT:
            if item == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers.append(nn.Conv2d(channels, int(item), kernel_size=3, padding=1))
                layers.append(nn.ReLU(inplace=False))
                channels = int(item)
        self.features = nn.Sequential(*layers[: VGG19_TAPS[-1] + 1])
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGG19Features:  # frozen: always in eval mode
        return super().train(False)

    def forward(self, image: Tensor) -> tuple[Tensor, ...]:
        B, C, H, W = image.shape
        x = ((image + 1.0) * 0.5 - self.mean.to(image.dtype)) / self.std.to(image.dtype)
        taps: list[Tensor] = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in VGG19_TAPS:
                taps.append(x)
        return tuple(taps)


def load_vgg19_state(path: str | Path) -> dict[str, Tensor]:
    """The ``features.*`` tensors of a torchvision-layout VGG19 file (``torch.load(weights_only=True)``)."""
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 -- any unpickling failure means the file is not a VGG19 state dict
        raise WeightsError(f"{path}: cannot read VGG19 weights ({type(exc).__name__}: {exc})") from exc
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: expected a state dict, got {type(state).__name__}")
    return {k: v for k, v in state.items() if k.startswith("features.")}


def vgg19_features(weights: str | Path | None = None, device: torch.device | str = "cpu") -> VGG19Features:
    """A frozen :class:`VGG19Features` with ImageNet weights from ``weights`` or the torch hub cache.

    Raises :class:`BackendUnavailableError` naming the file and where to put it when it is not cached, and
    :class:`WeightsError` when the file does not hold VGG19's feature tensors.
    """
    entry = known_weights("vgg19")
    path = Path(weights) if weights is not None else find_weights("vgg19")
    if path is None or not path.is_file():
        where = path if path is not None else entry.expected_path
        raise BackendUnavailableError(
            f"{where}: VGG19 weights for the perceptual loss not found; {entry.how_to_get()} "
            "(or choose discriminator feature matching explicitly: perceptual 'dfm')"
        )
    module = VGG19Features()
    state = load_vgg19_state(path)
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    if missing:
        raise WeightsError(f"{path}: not a torchvision VGG19 file, missing {', '.join(missing[:4])}")
    for key, tensor in expected.items():
        if state[key].shape != tensor.shape:
            raise WeightsError(f"{path}: {key} has shape {tuple(state[key].shape)}, expected {tuple(tensor.shape)}")
    module.load_state_dict({k: state[k] for k in expected})
    return module.to(device)


def image_pyramid(image: Tensor, scales: int) -> list[Tensor]:
    """``image`` at 1, 1/2, ... 1/2^(scales-1) resolution (area-averaged)."""
    levels = [image]
    for _ in range(scales - 1):
        levels.append(F.avg_pool2d(levels[-1], kernel_size=2, stride=2))
    return levels


def feature_l1(outputs: Sequence[Tensor], targets: Sequence[Tensor]) -> Tensor:
    """Sum over layers of the mean absolute difference; targets carry no gradient."""
    total = outputs[0].new_zeros((), dtype=torch.float32)
    for out, tgt in zip(outputs, targets, strict=True):
        total = total + (out.float() - tgt.detach().float()).abs().mean()
    return total


class VGGPerceptualLoss(nn.Module):
    """L_per: sum over ``scales`` pyramid levels and the 5 VGG19 taps of the L1 feature distance.

    ``output``, ``target``: ``(B, 3, H, W)`` in [-1, 1]; returns a scalar (fp32).
    """

    def __init__(self, vgg: VGG19Features, scales: int = 4) -> None:
        super().__init__()
        self.vgg = vgg
        self.scales = scales

    def forward(self, output: Tensor, target: Tensor) -> Tensor:
        B, C, H, W = output.shape
        total = output.new_zeros((), dtype=torch.float32)
        with torch.no_grad():  # the target side needs no graph: no activations kept, no backward through it
            targets = [self.vgg(level) for level in image_pyramid(target, self.scales)]
        for out_level, tgt_features in zip(image_pyramid(output, self.scales), targets):
            total = total + feature_l1(self.vgg(out_level), tgt_features)
        return total
