"""Where pretrained files live, and which ones the project knows about.

The project never downloads anything behind the user's back at import time. Each third-party weight file
it can use is listed here once (:data:`KNOWN_WEIGHTS`), with the standard cache location that its library
uses; backends and `toontalker info` ask :func:`find_weights` whether it is present.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def torch_hub_dir() -> Path:
    """torch.hub's cache folder (``$TORCH_HOME/hub``, default ``~/.cache/torch/hub``)."""
    torch_home = os.environ.get("TORCH_HOME")
    if torch_home:
        return Path(torch_home).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME", "~/.cache")
    return Path(xdg).expanduser() / "torch" / "hub"


def torch_hub_checkpoints_dir() -> Path:
    return torch_hub_dir() / "checkpoints"


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache (honours ``HF_HUB_CACHE`` and ``HF_HOME``)."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def toontalker_home() -> Path:
    """``$TOONTALKER_HOME`` or ``~/.cache/toontalker``: caches of the project's own (no weights downloads)."""
    return Path(os.environ.get("TOONTALKER_HOME", "~/.cache/toontalker")).expanduser()


@dataclass(frozen=True)
class KnownWeights:
    """A third-party weight file a backend can use, and where its library caches it."""

    key: str
    filename: str
    used_by: str
    url: str
    instructions: str = ""  # overrides the "download URL into ..." hint when there is no direct URL

    @property
    def expected_path(self) -> Path:
        return torch_hub_checkpoints_dir() / self.filename

    def how_to_get(self) -> str:
        if self.instructions:
            return f"{self.instructions}; put it in {self.expected_path.parent}/"
        return f"download {self.url} into {self.expected_path.parent}/"


KNOWN_WEIGHTS: tuple[KnownWeights, ...] = (
    KnownWeights(
        "s3fd",
        "s3fd-619a316812.pth",
        "face-alignment face detector (dataset, animate)",
        "https://www.adrianbulat.com/downloads/python-fan/s3fd-619a316812.pth",
    ),
    KnownWeights(
        "fan-2d",
        "2DFAN4-cd938726ad.zip",
        "face-alignment 68 landmarks (AKD, face backend)",
        "https://www.adrianbulat.com/downloads/python-fan/2DFAN4-cd938726ad.zip",
    ),
    KnownWeights(
        "vgg19",
        "vgg19-dcbb9e9d.pth",
        "perceptual loss (training)",
        "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
    ),
    KnownWeights(
        "alexnet",
        "alexnet-owt-7be5be79.pth",
        "LPIPS backbone (bench)",
        "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
    ),
    KnownWeights(
        "inception-fid",
        "pt_inception-2015-12-05-6726825d.pth",
        "FID (bench)",
        "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",
    ),
    KnownWeights(
        "arcface-ir-se50",
        "model_ir_se50.pth",
        "CSIM / AED identity embedding (bench)",
        "https://github.com/TreB1eN/InsightFace_Pytorch",
        instructions="get the ArcFace IR-SE50 checkpoint model_ir_se50.pth (TreB1eN/InsightFace_Pytorch "
        "'IR-SE50 @ BaiduNetdisk/OneDrive', also linked as 'IR-SE50 Model' in the pixel2style2pixel "
        "README)",
    ),
)


@dataclass(frozen=True)
class PackagedModel:
    """A model file shipped inside an installed Python package (found via importlib, never imported)."""

    key: str
    package: str
    relative_path: str
    used_by: str
    install: str

    @property
    def path(self) -> Path | None:
        import importlib.util

        spec = importlib.util.find_spec(self.package)
        if spec is None or spec.origin is None:
            return None
        path = Path(spec.origin).parent / self.relative_path
        return path if path.is_file() else None

    def how_to_get(self) -> str:
        return f"{self.package}/{self.relative_path} not found ({self.install})"


PACKAGED_MODELS: tuple[PackagedModel, ...] = (
    PackagedModel(
        "lpips-alex-head", "lpips", "weights/v0.1/alex.pth", "LPIPS linear heads (bench)", "pip install --no-deps lpips"
    ),
    PackagedModel(
        "dlib-landmarks-68",
        "face_recognition_models",
        "models/shape_predictor_68_face_landmarks.dat",
        "akd-dlib (bench)",
        "pip install face-recognition-models",
    ),
    PackagedModel(
        "dlib-landmarks-5",
        "face_recognition_models",
        "models/shape_predictor_5_face_landmarks.dat",
        "csim-dlib / aed-dlib face alignment (bench)",
        "pip install face-recognition-models",
    ),
    PackagedModel(
        "dlib-face-recognition",
        "face_recognition_models",
        "models/dlib_face_recognition_resnet_model_v1.dat",
        "csim-dlib / aed-dlib (bench)",
        "pip install face-recognition-models",
    ),
)


def packaged_model(key: str) -> PackagedModel:
    for entry in PACKAGED_MODELS:
        if entry.key == key:
            return entry
    raise KeyError(key)


def known_weights(key: str) -> KnownWeights:
    for entry in KNOWN_WEIGHTS:
        if entry.key == key:
            return entry
    raise KeyError(key)


def find_weights(key: str) -> Path | None:
    """The cached file for ``key`` if present, else None."""
    path = known_weights(key).expected_path
    return path if path.is_file() else None
