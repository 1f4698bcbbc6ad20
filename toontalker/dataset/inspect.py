"""``dataset stats`` (counts, frames, durations per split and domain; a contact sheet) and ``dataset verify``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

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


def _stats_rows(frame: pd.DataFrame) -> tuple[StatsRow, ...]:
    rows = []
    for (domain, split), part in frame.groupby(["domain", "split"], sort=True):
        seconds = float((part["frames"] / part["fps"].where(part["fps"] > 0, 25.0)).sum())
        rows.append(StatsRow(str(domain), str(split), len(part), int(part["identity"].nunique()),
                             int(part["source"].nunique()), int(part["frames"].sum()), round(seconds, 2),
                             round(float(part["frames"].mean()), 1)))
    return tuple(rows)


def contact_sheet(frame: pd.DataFrame, root: Path, out: Path, count: int = 24, tile: int = 128,
                  seed: int = 0) -> Path:
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
        sheet[r * tile:(r + 1) * tile, c * tile:(c + 1) * tile] = image
    return write_image(out, sheet)


def dataset_stats(dataset: Path, sheet: Path | None = None, sheet_count: int = 24, seed: int = 0) -> DatasetStats:
    """Counts per (domain, split); with ``sheet`` also a contact-sheet PNG there."""
    frame = read_manifest(dataset)
    root = dataset_root(dataset)
    sheet_path = contact_sheet(frame, root, sheet, sheet_count, seed=seed) if sheet is not None and len(frame) else None
    return DatasetStats(Path(dataset), _stats_rows(frame), len(frame), int(frame["frames"].sum()), sheet_path)


@dataclass(frozen=True)
class VerifyReport:
    """``problems``: (clip id, what is wrong) for every row that is not fully readable."""

    dataset: Path
    clips: int
    frames_checked: int
    problems: tuple[tuple[str, str], ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_dataset(dataset: Path, all_frames: bool = False,
                   progress: Callable[[int, int], None] | None = None) -> VerifyReport:
    """Open every clip of the manifest; check its frame count and size and decode its first, middle and
    last frame (every frame with ``all_frames``)."""
    frame = read_manifest(dataset)
    root = dataset_root(dataset)
    problems: list[tuple[str, str]] = []
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
                    problems.append((row.id, f"frame {i} is {image.shape[1]}x{image.shape[0]}, "
                                             f"manifest size {row.size}"))
                    break
        except ToonTalkerError as exc:
            problems.append((row.id, str(exc)))
        if progress is not None:
            progress(k + 1, len(frame))
    return VerifyReport(Path(dataset), len(frame), checked, tuple(problems))
