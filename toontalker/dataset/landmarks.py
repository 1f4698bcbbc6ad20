"""Per-frame face landmarks stored next to a dataset's clips (FaceMesh, offline, both domains).

Layout: ``landmarks/<clip id>.npz`` inside the dataset folder, one file per clip, holding

- ``points``: ``(N, 468, 3)`` float16, FaceMesh points in pixels of the stored clip frames (NaN where missed),
- ``detected``: ``(N,)`` bool, whether FaceMesh found the face in that frame.

Landmarks are optional: datasets without them keep working (training features that need them say so).
Files are written atomically, so an interrupted run never leaves a half-written file under its final name.
They are stored uncompressed (``np.savez``): 2.8 KB a frame (2.3 compressed), and over twice as fast to
read as compressed files (docs/dataset.md), which matters to a training loader that reads one per sample;
compressed files read the same.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toontalker.dataset.storage import ClipReader, remove_path
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
    np.savez(buffer, points=landmarks.points.astype(np.float16), detected=landmarks.detected)
    path = landmarks_path(root, clip_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_bytes(path, buffer.getvalue())


def _load(path: Path, *keys: str) -> list[np.ndarray]:
    """The arrays ``keys`` of the .npz file ``path``; InputError naming it if it is not one holding them."""
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("a single array, not an .npz archive")
        with data:
            return [data[key] for key in keys]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path}: not a landmarks file ({type(exc).__name__}: {exc})") from exc


def read_clip_landmarks(root: Path, clip_id: str) -> FrameLandmarks | None:
    """The stored landmarks of clip ``clip_id`` (points as float32), or None when the clip has none."""
    path = landmarks_path(root, clip_id)
    if not path.is_file():
        return None
    points, detected = _load(path, "points", "detected")
    points, detected = points.astype(np.float32), detected.astype(bool)
    if points.ndim != 3 or points.shape[1:] != (MESH_POINTS, 3) or detected.shape != points.shape[:1]:
        raise InputError(
            f"{path}: landmarks of shape {points.shape} / {detected.shape}, expected (N, {MESH_POINTS}, 3) / (N,)"
        )
    return FrameLandmarks(points=points, detected=detected)


def read_clip_detected(root: Path, clip_id: str) -> np.ndarray | None:
    """Only the ``(N,)`` detected flags of clip ``clip_id`` (cheaper than the points), or None without a file."""
    path = landmarks_path(root, clip_id)
    if not path.is_file():
        return None
    (detected,) = _load(path, "detected")
    if detected.ndim != 1:
        raise InputError(f"{path}: detected flags of shape {detected.shape}, expected (N,)")
    return detected.astype(bool)


def compute_clip_landmarks(reader: ClipReader, mesh: FaceMesh) -> FrameLandmarks:
    """FaceMesh on every frame of a stored clip, in order (``mesh`` in video mode tracks between frames;
    it is reset first, so no face carries over from the previous clip)."""
    mesh.reset()
    return mesh.detect_frames(reader.read(i) for i in range(len(reader)))


def remove_clip_landmarks(root: Path, pattern: str) -> None:
    """Delete the landmark files of the clips whose id matches the glob ``pattern`` (e.g. ``key-*``)."""
    folder = Path(root) / LANDMARKS_DIR
    if folder.is_dir():
        for path in folder.glob(f"{pattern}.npz"):
            path.unlink(missing_ok=True)


def clean_landmark_leftovers(root: Path) -> None:
    """Remove temporary files an interrupted run left in the landmarks folder."""
    folder = Path(root) / LANDMARKS_DIR
    if folder.is_dir():
        for entry in folder.iterdir():
            if entry.name.startswith("."):
                remove_path(entry)


@dataclass(frozen=True)
class LandmarkCoverage:
    """Landmarks of one domain's clips: how many clips have a file, and in how many of their frames the face
    was found (``detection_rate`` = detected / frames, 0 without frames)."""

    domain: str
    clips: int
    with_landmarks: int
    frames: int
    detected: int
    detection_rate: float


def landmark_coverage(root: Path, clips: Iterable[tuple[str, str]]) -> tuple[LandmarkCoverage, ...]:
    """Coverage per domain of the ``(clip id, domain)`` pairs ``clips``, sorted by domain. Reads only the
    detected flags; an unreadable file counts as missing (``dataset verify`` names it)."""
    counts: dict[str, list[int]] = {}
    for clip_id, domain in clips:
        entry = counts.setdefault(domain, [0, 0, 0, 0])
        entry[0] += 1
        try:
            detected = read_clip_detected(root, clip_id)
        except InputError:
            detected = None
        if detected is not None:
            entry[1] += 1
            entry[2] += len(detected)
            entry[3] += int(detected.sum())
    return tuple(
        LandmarkCoverage(domain, clips, have, frames, found, round(found / frames, 4) if frames else 0.0)
        for domain, (clips, have, frames, found) in sorted(counts.items())
    )
