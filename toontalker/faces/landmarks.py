"""Dense face landmarks: MediaPipe's legacy FaceMesh (468 points), offline, and the expression signals on them.

FaceMesh's model files ship inside the mediapipe wheel (nothing is downloaded); it works on real faces and on
many anime faces, not all. Points are returned in pixels of the image they were found in, ``(468, 3)`` as
``x, y, z`` (``z`` in the same pixel scale as ``x``, relative depth, smaller = nearer the camera).

Signals (one home for them: dataset landmarks, training region weights and ``bench motion`` all use these):

- ``mouth_opening``: inner-lip gap (points 13-14) / face height (forehead 10 - chin 152).
- ``eye_openings``: eye aspect ratio per eye, (|p2-p6| + |p3-p5|) / (2 |p1-p4|) on the lid and corner points.
- ``head_pose``: yaw / pitch / roll in degrees, a landmark proxy from FaceMesh's own 3D points (below).
- ``face_centre``: the mesh centroid relative to the image centre, in face heights (x right, y down).
- ``region_boxes``: square-ish boxes around the mouth and each eye (for region-weighted losses).

Head pose proxy: no external 3D face model is used. FaceMesh already returns 3D points (``z`` in pixel
scale), so the head's axes are read off rigid points of the mesh: the *across* axis is the sum of the
vectors outer eye corner -> outer eye corner (33 -> 263) and mouth corner -> mouth corner (61 -> 291); the
*up* axis is nose tip -> forehead (1 -> 10), made orthogonal to it (Gram-Schmidt). Then
yaw = atan2(across_z, across_x) (the face turning about the vertical axis moves one side away in depth),
roll = atan2(across_y, across_x) (the eye line tilting in the image) and pitch = atan2(up_z, -up_y) (the
up axis leaning in depth). Angles are uncalibrated: pitch carries a constant offset from the nose's
depth, and every angle depends on how well FaceMesh fits the face; compare them *relative* to a reference
frame (as ``bench motion`` does), not as absolute degrees. Signs (image coordinates, y down, z away from
the camera): yaw > 0 when the image-right side of the face is farther away, roll > 0 when the image-right
eye is lower, pitch grows when the forehead leans away from the camera (head tilted back).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from toontalker.errors import BackendUnavailableError
from toontalker.faces.native_logs import WarmUp, open_graph

MESH_POINTS = 468

# Canonical FaceMesh indices (the image's left/right: "right eye" is the subject's right = image left).
FOREHEAD, CHIN, NOSE_TIP = 10, 152, 1
LIP_UPPER_INNER, LIP_LOWER_INNER = 13, 14
MOUTH_POINTS = (61, 291, 0, 17, 13, 14, 78, 308, 37, 267, 84, 314, 40, 270, 91, 321)
# EAR order p1 (outer/inner corner), p2, p3 (upper lid), p4 (other corner), p5, p6 (lower lid)
RIGHT_EYE_EAR = (33, 160, 158, 133, 153, 144)
LEFT_EYE_EAR = (362, 385, 387, 263, 373, 380)
RIGHT_EYE_POINTS = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE_POINTS = (362, 382, 381, 380, 374, 373, 390, 249, 263, 466, 388, 387, 386, 385, 384, 398)
# rigid points of the head pose proxy: outer eye corners, mouth corners, nose tip, forehead
EYE_OUTER = (33, 263)
MOUTH_CORNERS = (61, 291)
REGIONS: dict[str, tuple[int, ...]] = {
    "mouth": MOUTH_POINTS,
    "right_eye": RIGHT_EYE_POINTS,
    "left_eye": LEFT_EYE_POINTS,
}


@dataclass(frozen=True)
class FrameLandmarks:
    """Landmarks of a sequence of frames: ``points`` (N, 468, 3) float32 pixels (NaN where not detected),
    ``detected`` (N,) bool."""

    points: np.ndarray
    detected: np.ndarray

    def __post_init__(self) -> None:
        if self.points.ndim != 3 or self.points.shape[1:] != (MESH_POINTS, 3):
            raise ValueError(f"points must be (N, {MESH_POINTS}, 3), got {self.points.shape}")
        if self.detected.shape != (self.points.shape[0],):
            raise ValueError(f"detected must be ({self.points.shape[0]},), got {self.detected.shape}")

    def __len__(self) -> int:
        return int(self.points.shape[0])

    @property
    def detection_rate(self) -> float:
        return float(self.detected.mean()) if len(self) else 0.0


def _import_face_mesh():  # noqa: ANN202 - mediapipe has no type stubs
    try:
        from mediapipe.python.solutions import face_mesh
    except Exception as exc:  # noqa: BLE001 - mediapipe fails in many ways (missing, protobuf, numpy ABI)
        raise BackendUnavailableError(
            f"FaceMesh landmarks need mediapipe 0.10.21 (pip install --no-deps mediapipe==0.10.21): "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    return face_mesh


class FaceMesh:
    """MediaPipe's legacy FaceMesh on RGB uint8 frames.

    ``video=True`` runs it in tracking mode (landmarks of the previous frame seed the next: steadier and
    faster on a video); ``video=False`` detects every image afresh. One instance per thread of use.
    """

    def __init__(
        self, *, video: bool = True, min_detection_confidence: float = 0.3, min_tracking_confidence: float = 0.3
    ) -> None:
        face_mesh = _import_face_mesh()
        self._warm_up = WarmUp()
        try:
            self._mesh = open_graph(
                lambda: face_mesh.FaceMesh(
                    static_image_mode=not video,
                    max_num_faces=1,
                    refine_landmarks=False,
                    min_detection_confidence=min_detection_confidence,
                    min_tracking_confidence=min_tracking_confidence,
                )
            )
        except RuntimeError as exc:  # e.g. protobuf 5+: "Failed to parse" its graph config
            raise BackendUnavailableError(
                f"FaceMesh could not start (mediapipe 0.10.21 needs protobuf < 5): {str(exc).splitlines()[0]}"
            ) from exc
        self._lock = threading.Lock()  # mediapipe graphs are not re-entrant

    def detect(self, rgb: np.ndarray) -> np.ndarray | None:
        """rgb (H, W, 3) uint8 -> (468, 3) float32 pixels, or None when no face is found."""
        H, W = rgb.shape[:2]
        with self._lock, self._warm_up.muted():  # mediapipe's native start-up log lines
            result = self._mesh.process(np.ascontiguousarray(rgb))
        self._warm_up.done(bool(result.multi_face_landmarks))
        if not result.multi_face_landmarks:
            return None
        marks = result.multi_face_landmarks[0].landmark
        points = np.array([(p.x, p.y, p.z) for p in marks[:MESH_POINTS]], dtype=np.float32)
        return points * np.array([W, H, W], dtype=np.float32)

    def detect_frames(self, frames: Iterable[np.ndarray]) -> FrameLandmarks:
        """Frames (each (H, W, 3) uint8, in order) -> FrameLandmarks with one row per frame."""
        rows, found = [], []
        for frame in frames:
            points = self.detect(frame)
            found.append(points is not None)
            rows.append(points if points is not None else np.full((MESH_POINTS, 3), np.nan, np.float32))
        points = np.stack(rows) if rows else np.zeros((0, MESH_POINTS, 3), np.float32)
        return FrameLandmarks(points=points, detected=np.array(found, dtype=bool))

    def reset(self) -> None:
        """Forget the tracked face: the next frame is detected afresh (call between unrelated videos)."""
        with self._lock:
            self._mesh.reset()

    def close(self) -> None:
        self._mesh.close()

    def __enter__(self) -> FaceMesh:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _dist(points: np.ndarray, a: int, b: int) -> np.ndarray:
    return np.linalg.norm(points[..., a, :2] - points[..., b, :2], axis=-1)


def face_height(points: np.ndarray) -> np.ndarray:
    """(..., 468, 2|3) -> (...): forehead-to-chin distance in pixels."""
    return _dist(points, FOREHEAD, CHIN)


def mouth_opening(points: np.ndarray) -> np.ndarray:
    """(..., 468, 2|3) -> (...): inner-lip gap / face height (0 = closed, ~0.1-0.3 wide open)."""
    return _dist(points, LIP_UPPER_INNER, LIP_LOWER_INNER) / np.maximum(face_height(points), 1e-6)


def eye_aspect_ratio(points: np.ndarray, eye: tuple[int, ...]) -> np.ndarray:
    """(..., 468, 2|3) -> (...): (|p2-p6| + |p3-p5|) / (2 |p1-p4|) for the six EAR indices ``eye``."""
    p1, p2, p3, p4, p5, p6 = eye
    vertical = _dist(points, p2, p6) + _dist(points, p3, p5)
    return vertical / np.maximum(2.0 * _dist(points, p1, p4), 1e-6)


def eye_openings(points: np.ndarray) -> np.ndarray:
    """(..., 468, 2|3) -> (..., 2): eye aspect ratio of the image-left (subject's right) and image-right eye."""
    return np.stack([eye_aspect_ratio(points, RIGHT_EYE_EAR), eye_aspect_ratio(points, LEFT_EYE_EAR)], axis=-1)


# closed eyes: the eye opening (mean of both eyes) below this fraction of its median over the clip
BLINK_FRACTION = 0.6


def closed_eyes(eyes: np.ndarray) -> np.ndarray:
    """(N,) eye openings of one clip (NaN where FaceMesh missed) -> (N,) bool: the frames whose eyes are
    closed, below :data:`BLINK_FRACTION` of the clip's median opening (missed frames count as open)."""
    finite = np.isfinite(eyes)
    closed = np.zeros(len(eyes), dtype=bool)
    if finite.any():
        closed[finite] = eyes[finite] < BLINK_FRACTION * np.median(eyes[finite])
    return closed


def blink_onsets(closed: np.ndarray) -> np.ndarray:
    """(N,) bool closed-eye frames (:func:`closed_eyes`) -> the indices where a blink starts: closed frames
    after an open one (or closed at the first frame)."""
    return np.flatnonzero(closed & ~np.r_[False, closed[:-1]])


def head_pose(points: np.ndarray) -> np.ndarray:
    """(..., 468, 3) -> (..., 3): yaw, pitch, roll in degrees (the landmark proxy of the module docstring).

    Needs the ``z`` coordinate (FaceMesh's 3D output). NaN where the points are NaN.
    """
    if points.shape[-1] != 3:
        raise ValueError(f"head_pose needs 3D points (..., {MESH_POINTS}, 3), got {points.shape}")
    p = points.astype(np.float64)
    across = (p[..., EYE_OUTER[1], :] - p[..., EYE_OUTER[0], :]) + (
        p[..., MOUTH_CORNERS[1], :] - p[..., MOUTH_CORNERS[0], :]
    )
    across = across / np.maximum(np.linalg.norm(across, axis=-1, keepdims=True), 1e-9)
    up = p[..., FOREHEAD, :] - p[..., NOSE_TIP, :]
    up = up - (up * across).sum(axis=-1, keepdims=True) * across
    up = up / np.maximum(np.linalg.norm(up, axis=-1, keepdims=True), 1e-9)
    yaw = np.degrees(np.arctan2(across[..., 2], across[..., 0]))
    roll = np.degrees(np.arctan2(across[..., 1], across[..., 0]))
    pitch = np.degrees(np.arctan2(up[..., 2], -up[..., 1]))
    return np.stack([yaw, pitch, roll], axis=-1).astype(np.float32)


def face_centre(points: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """(..., 468, 2|3) and the image's (width, height) -> (..., 2): the mesh centroid's offset from the image
    centre, divided by the face height (x right, y down; 0.1 = a tenth of a face height)."""
    W, H = image_size
    centroid = points[..., :2].mean(axis=-2)
    offset = centroid - np.array([W / 2.0, H / 2.0], dtype=np.float64)
    return (offset / np.maximum(face_height(points), 1e-6)[..., None]).astype(np.float32)


def region_boxes(points: np.ndarray, *, margin: float = 0.35, min_side: float = 0.0) -> np.ndarray:
    """(..., 468, 2|3) -> (..., 3, 4) boxes x0, y0, x1, y1 (pixels) of mouth, right eye, left eye.

    Each box is the points' bounding box grown by ``margin`` x its larger side on every side, at least
    ``min_side`` pixels wide and high (centred). NaN where the points are NaN.
    """
    boxes = []
    for indices in REGIONS.values():
        pts = points[..., list(indices), :2]
        lo, hi = pts.min(axis=-2), pts.max(axis=-2)
        grow = margin * (hi - lo).max(axis=-1, keepdims=True)
        centre, half = (lo + hi) / 2, (hi - lo) / 2 + grow
        half = np.maximum(half, min_side / 2)
        boxes.append(np.concatenate([centre - half, centre + half], axis=-1))
    return np.stack(boxes, axis=-2).astype(np.float32)
