"""Reading protocol media as model input: face-cropped clips and images -> ``uint8`` frames and tensors.

Dataset clips stored as frame folders or ``.npy`` go through :class:`toontalker.dataset.storage.ClipReader`.
Videos are decoded with OpenCV's bundled codecs, not :mod:`toontalker.video`'s ffmpeg pipe, so benches run
on machines without an ffmpeg binary (the lent GPUs); the bench reads only already-cropped dataset items and
benchmark clips. Images go through :func:`toontalker.video.read_image`. Images with
alpha are composited on ``background`` (black by default, as the THA renders are).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from toontalker.errors import InputError, MediaError
from toontalker.video import IMAGE_SUFFIXES, read_image


def _resize(rgb: np.ndarray, size: int) -> np.ndarray:
    H, W = rgb.shape[:2]
    if (H, W) == (size, size):
        return rgb
    interpolation = cv2.INTER_AREA if min(H, W) > size else cv2.INTER_CUBIC
    return cv2.resize(rgb, (size, size), interpolation=interpolation)


def read_image_rgb(path: Path, size: int, background: int = 0) -> np.ndarray:
    """An image file -> ``(size, size, 3)`` uint8 RGB (alpha composited on ``background``)."""
    image = read_image(path)
    return _resize(image.on_background((background, background, background)), size)


def read_video_rgb(path: Path, size: int, start: int = 0, count: int | None = None) -> np.ndarray:
    """Frames ``start .. start+count`` of a video -> ``(N, size, size, 3)`` uint8 RGB."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise MediaError(f"{path}: cannot open video")
    frames: list[np.ndarray] = []
    try:
        index = 0
        while count is None or len(frames) < count:
            ok, bgr = capture.read()
            if not ok:
                break
            if index >= start:
                frames.append(_resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), size))
            index += 1
    finally:
        capture.release()
    if not frames:
        raise MediaError(f"{path}: no frames decoded from frame {start}")
    return np.stack(frames)


def read_stored_clip(path: Path, size: int, start: int = 0, count: int | None = None) -> np.ndarray:
    """A dataset clip stored as a folder of jpg/png frames or an ``.npy`` array (toontalker.dataset.storage)."""
    from toontalker.dataset.storage import ClipReader

    if path.suffix.lower() == ".npy":
        reader = ClipReader(path, "npy")
    else:
        fmt = next((f for f in ("jpg", "png") if any(path.glob(f"*.{f}"))), None)
        if fmt is None:
            raise InputError(f"{path}: folder holds no .jpg or .png frames")
        reader = ClipReader(path, fmt)
    stop = len(reader) if count is None else min(len(reader), start + count)
    if start >= stop:
        raise MediaError(f"{path}: no frames from frame {start} (clip has {len(reader)})")
    return np.stack([_resize(reader.read(i), size) for i in range(start, stop)])


def read_frames(path: str | Path, size: int, start: int = 0, count: int | None = None) -> np.ndarray:
    """Image, video, or stored dataset clip (frame folder / .npy) -> ``(N, size, size, 3)`` uint8 RGB."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir() or path.suffix.lower() == ".npy":
        return read_stored_clip(path, size, start, count)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return read_image_rgb(path, size)[None]
    return read_video_rgb(path, size, start, count)


def to_tensor(frames: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """``(N, H, W, 3)`` uint8 -> ``(N, 3, H, W)`` float32 in ``[-1, 1]``."""
    tensor = torch.from_numpy(np.ascontiguousarray(frames)).to(device).permute(0, 3, 1, 2).float()
    return tensor / 127.5 - 1.0
