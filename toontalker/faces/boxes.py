"""Face boxes and square crops: :class:`Box`, :func:`square_box`, :func:`crop_resize`.

Boxes are in pixel coordinates of the image they were found in (``x1``/``y1`` exclusive). Crops may reach
outside the image; the outside is filled with black so a face near the border keeps its place in the crop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from toontalker.errors import UsageError


@dataclass(frozen=True)
class Box:
    """An axis-aligned face box ``[x0, x1) x [y0, y1)`` in pixels, with a detector score (higher is surer)."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float = 1.0

    def __post_init__(self) -> None:
        if not (self.x1 > self.x0 and self.y1 > self.y0):
            raise ValueError(f"empty box {self.as_tuple()}")

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)

    def iou(self, other: Box) -> float:
        """Intersection over union with ``other`` (0 when they do not overlap)."""
        iw = min(self.x1, other.x1) - max(self.x0, other.x0)
        ih = min(self.y1, other.y1) - max(self.y0, other.y0)
        if iw <= 0 or ih <= 0:
            return 0.0
        inter = iw * ih
        return inter / (self.area + other.area - inter)

    def contains_point(self, x: float, y: float) -> bool:
        return self.x0 <= x < self.x1 and self.y0 <= y < self.y1

    def contains(self, other: Box, tolerance: float = 0.0) -> bool:
        """Whether ``other`` lies inside this box (each side may stick out by ``tolerance`` x its size)."""
        tx, ty = tolerance * other.width, tolerance * other.height
        return (
            other.x0 >= self.x0 - tx
            and other.y0 >= self.y0 - ty
            and other.x1 <= self.x1 + tx
            and other.y1 <= self.y1 + ty
        )

    def scaled(self, factor: float) -> Box:
        """The same box in an image resized by ``factor``."""
        return Box(self.x0 * factor, self.y0 * factor, self.x1 * factor, self.y1 * factor, self.score)

    def shifted(self, dx: float, dy: float) -> Box:
        return Box(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy, self.score)

    @classmethod
    def parse(cls, text: str, what: str = "box") -> Box:
        """``"X0,Y0,X1,Y1"`` (pixels; commas and/or spaces) as a box; :class:`UsageError` naming ``what`` if
        malformed (the one parser of boxes typed by a person: animate's source box, dataset build's box)."""
        parts = [p for p in text.replace(",", " ").split() if p]
        try:
            x0, y0, x1, y1 = (float(p) for p in parts)
            return cls(x0, y0, x1, y1)
        except ValueError as exc:
            raise UsageError(f"{what} {text!r}: expected X0,Y0,X1,Y1 in pixels with X1>X0 and Y1>Y0") from exc


def non_max_suppression(boxes: Sequence[Box], iou_threshold: float = 0.4) -> list[Box]:
    """Boxes sorted by score (best first), dropping any that overlaps a better one by more than the threshold."""
    kept: list[Box] = []
    for box in sorted(boxes, key=lambda b: b.score, reverse=True):
        if all(box.iou(k) <= iou_threshold for k in kept):
            kept.append(box)
    return kept


def square_box(box: Box, scale: float, image_w: int, image_h: int, keep_inside: bool = True) -> Box:
    """A square around ``box``'s centre, ``scale`` x its longer side.

    The side is capped at the image's longer side. With ``keep_inside`` the square is shifted to lie within
    the image along each axis where it fits (less black padding, face slightly off-centre near a border).
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    cx, cy = box.center
    side = min(max(box.width, box.height) * scale, float(max(image_w, image_h)))
    x0, y0 = cx - side / 2, cy - side / 2
    if keep_inside:
        if side <= image_w:
            x0 = min(max(x0, 0.0), image_w - side)
        if side <= image_h:
            y0 = min(max(y0, 0.0), image_h - side)
    return Box(x0, y0, x0 + side, y0 + side, box.score)


def crop_resize(rgb: np.ndarray, box: Box, size: int) -> np.ndarray:
    """Crop ``box`` from ``rgb`` (H, W, 3) uint8 and resize to (size, size, 3); outside the image is black."""
    H, W = rgb.shape[:2]
    x0, y0 = int(round(box.x0)), int(round(box.y0))
    x1, y1 = max(int(round(box.x1)), x0 + 1), max(int(round(box.y1)), y0 + 1)
    ix0, iy0, ix1, iy1 = max(x0, 0), max(y0, 0), min(x1, W), min(y1, H)
    if ix0 == x0 and iy0 == y0 and ix1 == x1 and iy1 == y1:
        patch = rgb[y0:y1, x0:x1]
    else:
        patch = np.zeros((y1 - y0, x1 - x0) + rgb.shape[2:], dtype=rgb.dtype)
        if ix1 > ix0 and iy1 > iy0:
            patch[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0] = rgb[iy0:iy1, ix0:ix1]
    ph, pw = patch.shape[:2]
    if ph == size and pw == size:
        return np.ascontiguousarray(patch)
    interp = cv2.INTER_AREA if max(ph, pw) > size else cv2.INTER_CUBIC
    return cv2.resize(patch, (size, size), interpolation=interp)
