"""``dataset stats`` (counts, frames, durations per split and domain, landmark coverage; a contact sheet) and
``dataset verify``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toontalker.dataset.landmarks import LandmarkCoverage, landmark_coverage, read_clip_landmarks
from toontalker.dataset.manifest import clip_path, dataset_root, read_manifest
from toontalker.dataset.storage import ClipReader
from toontalker.errors import ToonTalkerError
from toontalker.video import write_image


@dataclass(frozen=True)
class StatsRow:
    domain: str
    split: str
    clips: int
    identities: int
    sources: int
    frames: int
    seconds: float
    mean_clip_frames: float


@dataclass(frozen=True)
class DatasetStats:
    dataset: Path
    rows: tuple[StatsRow, ...]
    total_clips: int
    total_frames: int
    contact_sheet: Path | None
    landmarks: tuple[LandmarkCoverage, ...] = ()  # per domain


def _stats_rows(frame: pd.DataFrame) -> tuple[StatsRow, ...]:
    rows = []
    for (domain, split), part in frame.groupby(["domain", "split"], sort=True):
        seconds = float((part["frames"] / part["fps"].where(part["fps"] > 0, 25.0)).sum())
        rows.append(
            StatsRow(
                str(domain),
                str(split),
                len(part),
                int(part["identity"].nunique()),
                int(part["source"].nunique()),
                int(part["frames"].sum()),
                round(seconds, 2),
                round(float(part["frames"].mean()), 1),
            )
        )
    return tuple(rows)


def contact_sheet(frame: pd.DataFrame, root: Path, out: Path, count: int = 24, tile: int = 128, seed: int = 0) -> Path:
    """A grid PNG of the middle frame of ``count`` clips (spread over domains), ``tile`` px each."""
    import cv2

    rng = np.random.default_rng(seed)
    picks = frame.iloc[np.sort(rng.permutation(len(frame))[:count])] if len(frame) > count else frame
    tiles = []
    for row in picks.itertuples():
        try:
            reader = ClipReader(clip_path(root, row.path), row.format)
            image = reader.read(len(reader) // 2)
        except (ToonTalkerError, IndexError):
            image = np.zeros((tile, tile, 3), np.uint8)
            image[..., 0] = 160  # red tile: unreadable clip
        tiles.append(cv2.resize(image, (tile, tile), interpolation=cv2.INTER_AREA))
    cols = min(8, max(1, len(tiles)))
    rows = (len(tiles) + cols - 1) // cols
    sheet = np.zeros((rows * tile, cols * tile, 3), np.uint8)
    for k, image in enumerate(tiles):
        r, c = divmod(k, cols)
        sheet[r * tile : (r + 1) * tile, c * tile : (c + 1) * tile] = image
    return write_image(out, sheet)


def dataset_stats(dataset: Path, sheet: Path | None = None, sheet_count: int = 24, seed: int = 0) -> DatasetStats:
    """Counts per (domain, split), landmark coverage per domain; with ``sheet`` also a contact-sheet PNG."""
    frame = read_manifest(dataset)
    root = dataset_root(dataset)
    sheet_path = contact_sheet(frame, root, sheet, sheet_count, seed=seed) if sheet is not None and len(frame) else None
    coverage = landmark_coverage(root, zip(frame["id"], frame["domain"]))
    return DatasetStats(Path(dataset), _stats_rows(frame), len(frame), int(frame["frames"].sum()), sheet_path, coverage)


@dataclass(frozen=True)
class VerifyReport:
    """``problems``: (clip id, what is wrong) for every row that is not fully readable, or whose landmark file
    is unreadable or does not match the clip; ``without_landmarks``: clips with no landmark file (not a
    problem: landmarks are optional)."""

    dataset: Path
    clips: int
    frames_checked: int
    problems: tuple[tuple[str, str], ...]
    landmarks_checked: int = 0
    without_landmarks: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_dataset(
    dataset: Path, all_frames: bool = False, progress: Callable[[int, int], None] | None = None
) -> VerifyReport:
    """Open every clip of the manifest; check its frame count and size and decode its first, middle and
    last frame (every frame with ``all_frames``); read its landmark file if it has one (frame count, flags)."""
    frame = read_manifest(dataset)
    root = dataset_root(dataset)
    problems: list[tuple[str, str]] = []
    without: list[str] = []
    checked = 0
    for k, row in enumerate(frame.itertuples()):
        try:
            reader = ClipReader(clip_path(root, row.path), row.format)
            if len(reader) != row.frames:
                problems.append((row.id, f"{len(reader)} frames on disk, manifest says {row.frames}"))
            n = len(reader)
            indices = range(n) if all_frames else sorted({0, n // 2, n - 1})
            for i in indices:
                image = reader.read(i)
                checked += 1
                if image.shape[:2] != (row.size, row.size):
                    problems.append(
                        (row.id, f"frame {i} is {image.shape[1]}x{image.shape[0]}, manifest size {row.size}")
                    )
                    break
        except ToonTalkerError as exc:
            problems.append((row.id, str(exc)))
        landmarks = _check_landmarks(root, row.id, row.frames)
        if landmarks is None:
            without.append(row.id)
        elif landmarks:
            problems.append((row.id, landmarks))
        if progress is not None:
            progress(k + 1, len(frame))
    return VerifyReport(Path(dataset), len(frame), checked, tuple(problems), len(frame) - len(without), tuple(without))


def _check_landmarks(root: Path, clip_id: str, frames: int) -> str | None:
    """What is wrong with clip ``clip_id``'s landmark file ("" if nothing), or None when it has none."""
    try:
        marks = read_clip_landmarks(root, clip_id)
    except ToonTalkerError as exc:
        return str(exc)
    if marks is None:
        return None
    if len(marks) != frames:
        return f"landmarks for {len(marks)} frames, the clip has {frames}"
    disagree = int((np.isfinite(marks.points).all(axis=(1, 2)) != marks.detected).sum())
    if disagree:
        return f"landmarks: {disagree} frames whose points and detected flag disagree"
    return ""
