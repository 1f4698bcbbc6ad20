"""AKD, average keypoint distance (paper Table 2): how well the generated face follows the driving pose.

Per frame: the mean Euclidean distance (pixels, at the evaluated resolution) between the 68 landmarks of
the generated frame and those of the driving (ground-truth) frame. Frames where either face is not
detected are skipped and counted. Backends:

* ``akd`` -- face-alignment's 2D FAN with the S3FD detector (the field's convention); needs
  ``s3fd-619a316812.pth`` and ``2DFAN4-cd938726ad.zip`` in the torch hub cache;
* ``akd-dlib`` -- dlib's HOG detector + its 68-point shape predictor as shipped by face-recognition-models
  (offline; a different landmark model, so its numbers are not comparable with the paper's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from toontalker.cache import find_weights, known_weights, packaged_model
from toontalker.metrics.base import MetricUnavailable

N_LANDMARKS = 68


class LandmarkBackend(Protocol):
    name: str

    def landmarks(self, rgb: np.ndarray) -> np.ndarray | None:
        """``(H, W, 3)`` uint8 -> ``(68, 2)`` float (x, y) of the most prominent face, or None."""


@dataclass(frozen=True)
class KeypointDistance:
    """Per-frame AKD ``(N,)`` with NaN where a face was not found in either frame."""

    per_frame: np.ndarray

    @property
    def scored(self) -> int:
        return int(np.isfinite(self.per_frame).sum())

    @property
    def skipped(self) -> int:
        return int(self.per_frame.size - self.scored)


def keypoint_distance(generated: np.ndarray, driving: np.ndarray) -> KeypointDistance:
    """``(N, K, 2)`` landmark sets (NaN rows = not detected) -> per-frame mean point distance."""
    generated, driving = np.asarray(generated, np.float64), np.asarray(driving, np.float64)
    if generated.shape != driving.shape or generated.ndim != 3 or generated.shape[2] != 2:
        raise ValueError(f"AKD: expected two (N, K, 2) landmark arrays, got {generated.shape} and {driving.shape}")
    per_point = np.linalg.norm(generated - driving, axis=2)  # (N, K); NaN propagates
    per_frame = per_point.mean(axis=1)
    return KeypointDistance(per_frame)


def detect_all(backend: LandmarkBackend, frames: np.ndarray) -> np.ndarray:
    """``(N, H, W, 3)`` uint8 -> ``(N, 68, 2)`` with NaN for frames without a face."""
    out = np.full((len(frames), N_LANDMARKS, 2), np.nan)
    for i, frame in enumerate(frames):
        points = backend.landmarks(frame)
        if points is not None:
            out[i] = points
    return out


class FanLandmarks:
    """face-alignment (FAN 2D, S3FD detector): the landmarks the paper's AKD uses."""

    name = "akd"

    def __init__(self, device: str = "cpu") -> None:
        for key in ("s3fd", "fan-2d"):
            if find_weights(key) is None:
                raise MetricUnavailable.missing_weights("akd", known_weights(key))
        try:
            import face_alignment
        except ImportError as exc:
            raise MetricUnavailable(
                "akd", f"face-alignment not importable ({exc}); pip install --no-deps face-alignment"
            ) from exc
        # the weights are in the torch hub cache (checked above), so this loads them without downloading
        self._model = face_alignment.FaceAlignment(
            face_alignment.LandmarksType.TWO_D, device=device, face_detector="sfd"
        )

    def landmarks(self, rgb: np.ndarray) -> np.ndarray | None:
        found = self._model.get_landmarks_from_image(rgb)
        if not found:
            return None
        return np.asarray(found[0], dtype=np.float64)[:, :2]


class DlibFaceFinder:
    """dlib's HOG frontal face detector (built into dlib, no weight file): the largest face, or None."""

    def __init__(self, metric: str) -> None:
        try:
            import dlib
        except ImportError as exc:
            raise MetricUnavailable(metric, f"dlib not importable ({exc}); pip install dlib-bin") from exc
        self.dlib = dlib
        self._detector = dlib.get_frontal_face_detector()

    def largest_face(self, rgb: np.ndarray):
        rects = self._detector(np.ascontiguousarray(rgb), 1)
        if len(rects) == 0:
            return None
        return max(rects, key=lambda r: r.width() * r.height())

    def shape_predictor(self, key: str, metric: str):
        model = packaged_model(key)
        if model.path is None:
            raise MetricUnavailable(metric, model.how_to_get())
        return self.dlib.shape_predictor(str(model.path))


class DlibLandmarks:
    """dlib HOG detector + the 68-point predictor from face-recognition-models (offline ``akd-dlib``)."""

    name = "akd-dlib"

    def __init__(self) -> None:
        self._faces = DlibFaceFinder(self.name)
        self._predictor = self._faces.shape_predictor("dlib-landmarks-68", self.name)

    def landmarks(self, rgb: np.ndarray) -> np.ndarray | None:
        face = self._faces.largest_face(rgb)
        if face is None:
            return None
        shape = self._predictor(np.ascontiguousarray(rgb), face)
        return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)


def load_landmark_backend(name: str, device: str = "cpu") -> LandmarkBackend:
    if name == "akd":
        return FanLandmarks(device)
    if name == "akd-dlib":
        return DlibLandmarks()
    raise ValueError(f"unknown landmark metric {name!r}")
