"""Per-frame face landmarks stored next to a dataset's clips (FaceMesh, offline, both domains).

Layout: ``landmarks/<clip id>.npz`` inside the dataset folder, one file per clip, holding

- ``points``: ``(N, 468, 3)`` float16, FaceMesh points in pixels of the stored clip frames (NaN where missed),
- ``detected``: ``(N,)`` bool, whether FaceMesh found the face in that frame.

Landmarks are optional: datasets without them keep working (training features that need them say so).
Files are written atomically, so an interrupted run never leaves a half-written file under its final name.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from toontalker.dataset.storage import ClipReader
from toontalker.errors import InputError
from toontalker.faces.landmarks import MESH_POINTS, FaceMesh, FrameLandmarks
from toontalker.io_utils import atomic_write_bytes

LANDMARKS_DIR = "landmarks"


def landmarks_path(root: Path, clip_id: str) -> Path:
    """Where clip ``clip_id``'s landmarks live inside the dataset folder ``root``."""
    return Path(root) / LANDMARKS_DIR / f"{clip_id}.npz"


def write_clip_landmarks(root: Path, clip_id: str, landmarks: FrameLandmarks) -> Path:
    """Store ``landmarks`` for clip ``clip_id`` (atomic)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, points=landmarks.points.astype(np.float16), detected=landmarks.detected)
    path = landmarks_path(root, clip_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_bytes(path, buffer.getvalue())


def read_clip_landmarks(root: Path, clip_id: str) -> FrameLandmarks | None:
    """The stored landmarks of clip ``clip_id`` (points as float32), or None when the clip has none."""
    path = landmarks_path(root, clip_id)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            points = data["points"].astype(np.float32)
            detected = data["detected"].astype(bool)
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{path}: not a landmarks file ({type(exc).__name__}: {exc})") from exc
    if points.ndim != 3 or points.shape[1:] != (MESH_POINTS, 3) or detected.shape != points.shape[:1]:
        raise InputError(f"{path}: landmarks of shape {points.shape} / {detected.shape}, expected "
                         f"(N, {MESH_POINTS}, 3) / (N,)")
    return FrameLandmarks(points=points, detected=detected)


def compute_clip_landmarks(reader: ClipReader, mesh: FaceMesh) -> FrameLandmarks:
    """FaceMesh on every frame of a stored clip, in order (``mesh`` in video mode tracks between frames)."""
    return mesh.detect_frames(reader.read(i) for i in range(len(reader)))
