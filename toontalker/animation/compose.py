"""Frames between uint8 arrays and model tensors, paste-back with a feathered blend, side-by-side panels."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from toontalker.faces import Box


def to_model_tensor(frames: np.ndarray, device: torch.device) -> torch.Tensor:
    """``(N, H, W, 3)`` uint8 -> ``(N, 3, H, W)`` float32 in ``[-1, 1]`` on ``device``."""
    frames = np.ascontiguousarray(frames)
    t = torch.from_numpy(frames if frames.flags.writeable else frames.copy())
    if device.type == "cuda":
        t = t.pin_memory().to(device, non_blocking=True)
    t = t.permute(0, 3, 1, 2).float()
    return t.div_(127.5).sub_(1.0)


class PendingFrames:
    """Model outputs on their way to the CPU as uint8 frames: converted on their device and copied without
    waiting (CUDA: into pinned memory, behind an event), so the next batch can start; :meth:`result` waits."""

    def __init__(self, images: torch.Tensor) -> None:
        """``images`` ``(N, 3, H, W)`` in ``[-1, 1]``, any float dtype/device."""
        x = images.detach().float().clamp(-1.0, 1.0).add_(1.0).mul_(127.5).round_()
        x = x.to(torch.uint8).permute(0, 2, 3, 1).contiguous()
        self._event: torch.cuda.Event | None = None
        if x.device.type == "cuda":
            self._host = torch.empty(x.shape, dtype=torch.uint8, pin_memory=True)
            self._host.copy_(x, non_blocking=True)
            self._event = torch.cuda.Event()
            self._event.record()
        else:
            self._host = x.cpu()

    def result(self) -> np.ndarray:
        """``(N, H, W, 3)`` uint8 on the CPU."""
        if self._event is not None:
            self._event.synchronize()
        return self._host.numpy()


def to_uint8_frames(images: torch.Tensor) -> np.ndarray:
    """``(N, 3, H, W)`` in ``[-1, 1]`` (any float dtype/device) -> ``(N, H, W, 3)`` uint8 on the CPU."""
    return PendingFrames(images).result()


def feather_mask(size: int, feather: float) -> np.ndarray:
    """A ``(size, size)`` float32 mask: 1 inside, a smooth (cosine) ramp to 0 over ``feather`` x size at the edges."""
    ramp = max(1, int(round(feather * size)))
    d = np.minimum(np.arange(size), np.arange(size)[::-1]).astype(np.float32)  # distance to the nearest edge
    edge = np.clip(d / ramp, 0.0, 1.0)
    edge = 0.5 - 0.5 * np.cos(np.pi * edge)
    return np.outer(edge, edge).astype(np.float32)


@dataclass(frozen=True)
class PasteBack:
    """Puts animated face crops back into the full source image at the crop box, blended by a feathered mask.

    The output is always the source image's size; the parts of the box outside the image are dropped.
    """

    background: np.ndarray  # (H, W, 3) uint8, the full source image
    box: Box  # the square crop box in the source image's pixels
    feather: float = 0.12

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        """``(N, S, S, 3)`` uint8 crops -> ``(N, H, W, 3)`` uint8 full images."""
        H, W = self.background.shape[:2]
        x0, y0 = int(round(self.box.x0)), int(round(self.box.y0))
        side = max(1, int(round(self.box.x1)) - x0)
        ix0, iy0, ix1, iy1 = max(x0, 0), max(y0, 0), min(x0 + side, W), min(y0 + side, H)
        out = np.repeat(self.background[None], len(crops), axis=0)
        if ix1 <= ix0 or iy1 <= iy0:
            return out
        mask = feather_mask(side, self.feather)[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0, None]
        bg = self.background[iy0:iy1, ix0:ix1].astype(np.float32)
        for i, crop in enumerate(crops):
            interp = cv2.INTER_CUBIC if side > crop.shape[0] else cv2.INTER_AREA
            face = cv2.resize(crop, (side, side), interpolation=interp)[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0]
            blended = face.astype(np.float32) * mask + bg * (1.0 - mask)
            out[i, iy0:iy1, ix0:ix1] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
        return out


def fit_height(image: np.ndarray, height: int) -> np.ndarray:
    """Resize ``(H, W, 3)`` to ``height`` keeping the aspect ratio (width rounded to even)."""
    h, w = image.shape[:2]
    if h == height:
        return image
    width = max(2, int(round(w * height / h / 2)) * 2)
    interp = cv2.INTER_AREA if h > height else cv2.INTER_CUBIC
    return cv2.resize(image, (width, height), interpolation=interp)


def side_by_side(source: np.ndarray, driving: np.ndarray, results: np.ndarray) -> np.ndarray:
    """Panels ``source | driving | result`` at the result's height: ``(N, H, W_s + W_d + W_r, 3)`` uint8.

    ``source`` is one image ``(h, w, 3)``; ``driving`` and ``results`` are ``(N, ., ., 3)`` batches.
    """
    N, H = results.shape[:2]
    src = fit_height(source, H)
    rows = []
    for i in range(N):
        rows.append(np.concatenate([src, fit_height(driving[i], H), results[i]], axis=1))
    return np.stack(rows)
