"""The source side of animate: read the image (any mode, alpha flattened), find and crop the face."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toontalker.conventions import CROP_SCALE
from toontalker.errors import FaceNotFoundError, InputError, UsageError
from toontalker.faces import Box, crop_resize, get_detector, square_box
from toontalker.video import is_video_path, read_image


@dataclass(frozen=True)
class SourceFace:
    """The source image and its face crop (the model's input)."""

    path: Path
    image: np.ndarray  # (H, W, 3) uint8, alpha composited over the background colour
    alpha: np.ndarray | None  # (H, W) uint8 where the file had transparency
    box: Box  # the square crop box, in the image's pixels (may reach outside it)
    crop: np.ndarray  # (S, S, 3) uint8
    found_by: str  # detector name, "source-box" or "no-crop"

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the full source image."""
        return self.image.shape[1], self.image.shape[0]


def whole_image_box(width: int, height: int) -> Box:
    """The square around the whole image (the shorter side padded), for pre-cropped inputs."""
    return square_box(Box(0.0, 0.0, float(width), float(height)), 1.0, width, height, keep_inside=False)


def prepare_source(
    path: Path,
    size: int,
    domain: str,
    detector: str = "auto",
    source_box: Box | None = None,
    no_crop: bool = False,
    crop_scale: float = CROP_SCALE,
    background: tuple[int, int, int] = (255, 255, 255),
) -> SourceFace:
    """Read ``path`` and crop its face to ``size`` x ``size``.

    The face is ``source_box`` when given (pixels, enlarged by ``crop_scale`` into a square like a
    detection), else the best detection of ``detector`` for ``domain``; ``no_crop`` uses the whole image.
    Raises FaceNotFoundError (suggesting ``--source-box``) when no face is found.
    """
    if is_video_path(path):
        raise InputError(f"{path}: the source must be an image (png/jpg/webp), not a video")
    image = read_image(path)
    rgb = image.on_background(background)
    H, W = rgb.shape[:2]
    if no_crop:
        box, found_by = whole_image_box(W, H), "no-crop"
    elif source_box is not None:
        if source_box.x1 <= 0 or source_box.y1 <= 0 or source_box.x0 >= W or source_box.y0 >= H:
            raise UsageError(f"--source-box {source_box.as_tuple()} lies outside {path} ({W}x{H})")
        box, found_by = square_box(source_box, crop_scale, W, H), "source-box"
    else:
        face_detector = get_detector(detector, domain)
        faces = face_detector.detect(rgb)
        if not faces:
            raise FaceNotFoundError(
                f"{path}: no {domain} face found (detector {face_detector.name}); give the face with "
                "--source-box X0,Y0,X1,Y1 (pixels), try --detector, or use --no-crop for a pre-cropped face"
            )
        box, found_by = square_box(faces[0], crop_scale, W, H), face_detector.name
    crop = crop_resize(rgb, box, size)
    return SourceFace(path=path, image=rgb, alpha=image.alpha, box=box, crop=crop, found_by=found_by)
