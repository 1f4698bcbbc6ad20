"""What the page shows before a run: where the face was found and the crop the model will see.

The same pieces as ``animate`` (``prepare_source``, ``first_face_box``, ``square_box``): the preview's crop
is the crop of the run, given the same options.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from toontalker.animation.api import AnimateOptions
from toontalker.animation.driving import first_face_box
from toontalker.animation.source import prepare_source, whole_image_box
from toontalker.errors import FaceNotFoundError
from toontalker.faces import Box, crop_resize, get_detector, square_box
from toontalker.video import is_image_path, iter_frames, probe, read_image

FACE_COLOUR = (40, 200, 60)  # the face box (RGB)
CROP_COLOUR = (255, 140, 0)  # the square crop around it


@dataclass(frozen=True)
class CropPreview:
    """One side's face: the picture with its boxes drawn, the model-size crop, and the boxes in pixels."""

    annotated: np.ndarray  # (H, W, 3) uint8: the image (or the driver's first frame) with the boxes
    crop: np.ndarray  # (S, S, 3) uint8
    face_box: Box | None  # the face (detected or given); None where none was found or no crop is made
    crop_box: Box
    found_by: str  # detector name, "source-box", "no-crop" or "none" (no face: whole frame)
    note: str = ""


def box_text(box: Box | None) -> str:
    """``"X0,Y0,X1,Y1"`` in whole pixels (what the face-box field shows), or "" for None."""
    return "" if box is None else ",".join(str(int(round(v))) for v in box.as_tuple())


def draw_boxes(image: np.ndarray, face: Box | None, crop: Box) -> np.ndarray:
    """A copy of ``image`` (H, W, 3) with the crop square (orange) and the face box (green) drawn."""
    out = np.ascontiguousarray(image.copy())
    thickness = max(2, round(max(image.shape[:2]) / 200))
    for box, colour in ((crop, CROP_COLOUR), (face, FACE_COLOUR)):
        if box is not None:
            cv2.rectangle(out, (int(box.x0), int(box.y0)), (int(box.x1) - 1, int(box.y1) - 1), colour, thickness)
    return out


def preview_source(path: Path, options: AnimateOptions, size: int = 256) -> CropPreview:
    """The source's face as ``animate`` will crop it with ``options`` (FaceNotFoundError where none is found)."""
    face: Box | None = Box(*options.source_box) if options.source_box is not None else None
    found_by = "source-box"
    if face is None and not options.no_crop_source:
        rgb = read_image(path).on_background()
        detector = get_detector(options.detector, options.source_domain)
        faces = detector.detect(rgb)
        if not faces:
            raise FaceNotFoundError(
                f"{path.name}: no {options.source_domain} face found (detector "
                f"{detector.name}); type the face box, or tick 'already a face crop'"
            )
        face, found_by = faces[0], detector.name
    src = prepare_source(
        path, size, options.source_domain, options.detector, face, options.no_crop_source, options.crop_scale
    )
    if options.no_crop_source:
        face, found_by = None, "no-crop"
    return CropPreview(draw_boxes(src.image, face, src.box), src.crop, face, src.box, found_by)


def _first_frame(path: Path) -> np.ndarray:
    if is_image_path(path):
        return read_image(path).on_background()
    return next(iter(iter_frames(path, 1, max_frames=1)))[0]


def preview_driving(path: Path, options: AnimateOptions, size: int = 256) -> CropPreview:
    """The driver's first frame with the face ``animate`` starts tracking from, and its crop."""
    frame = _first_frame(path)
    H, W = frame.shape[:2]
    if options.no_crop_driving:
        box = whole_image_box(W, H)
        return CropPreview(draw_boxes(frame, None, box), crop_resize(frame, box, size), None, box, "no-crop")
    detector = get_detector(options.detector, options.driving_domain)
    detector.max_side = min(detector.max_side, options.detect_side)
    if is_image_path(path):
        faces = detector.detect(frame)
        face = faces[0] if faces else None
    else:
        face = first_face_box(path, probe(path), detector)
    if face is None:
        box = whole_image_box(W, H)
        note = (
            f"no {options.driving_domain} face found in the opening seconds: the whole frame is used until one appears"
        )
        return CropPreview(draw_boxes(frame, None, box), crop_resize(frame, box, size), None, box, "none", note)
    box = square_box(face, options.crop_scale, W, H)
    return CropPreview(draw_boxes(frame, face, box), crop_resize(frame, box, size), face, box, detector.name)
