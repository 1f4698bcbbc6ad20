"""Measure each face detector's hit rate on a media folder laid out like ../shared/data.

A *hit* is an image (or sampled video frame) in which the detector returns at least one face. Every item
in these folders shows one face, so the hit rate is the detector's recall there (false positives would
only add to it; the crops written by ``dataset build`` show whether the hits are faces).

    toontalker dataset detectors --measure ../shared/data --max-items 40 --frames-per-video 3
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toontalker.errors import BackendUnavailableError, ToonTalkerError
from toontalker.faces.detectors import BACKENDS, FaceDetector
from toontalker.video import is_image_path, is_video_path, iter_frames, probe, read_image

# (label, folder under the data root, "image" or "video", recurse into sub-folders)
GROUPS: tuple[tuple[str, str, str, bool], ...] = (
    ("real images", "real/images", "image", False),
    ("real video frames", "real/videos", "video", False),
    ("cartoon images", "cartoon/images", "image", False),
    ("tha2 headshots", "cartoon/images/tha2_headshots", "image", False),
    ("cartoon video frames", "cartoon/videos", "video", True),
)


@dataclass(frozen=True)
class HitRate:
    """One detector on one group of items."""

    detector: str
    group: str
    items: int
    hits: int
    ms_per_item: float

    @property
    def rate(self) -> float:
        return self.hits / self.items if self.items else 0.0


def spread(items: Sequence[Path], limit: int) -> list[Path]:
    """At most ``limit`` items spread evenly over the sorted list (deterministic)."""
    items = sorted(items)
    if len(items) <= limit:
        return list(items)
    idx = np.linspace(0, len(items) - 1, limit).round().astype(int)
    return [items[i] for i in idx]


def sample_video_frames(path: Path, count: int) -> Iterator[np.ndarray]:
    """``count`` frames evenly spread over the video (one decoding pass)."""
    info = probe(path)
    wanted = set(np.linspace(0, max(info.frames - 1, 0), count).round().astype(int).tolist())
    index = 0
    for batch in iter_frames(path, batch_size=32, info=info):
        for frame in batch:
            if index in wanted:
                yield frame
            index += 1


def group_items(
    root: Path, folder: str, kind: str, recurse: bool, max_items: int, frames_per_video: int
) -> list[np.ndarray]:
    base = root / folder
    pattern = "**/*" if recurse else "*"
    if kind == "image":
        paths = spread([p for p in base.glob(pattern) if p.is_file() and is_image_path(p)], max_items)
        return [read_image(p).on_background() for p in paths]
    paths = spread(
        [p for p in base.glob(pattern) if p.is_file() and is_video_path(p)], max(1, max_items // frames_per_video)
    )
    frames: list[np.ndarray] = []
    for p in paths:
        try:
            frames.extend(sample_video_frames(p, frames_per_video))
        except ToonTalkerError:
            continue
    return frames


def measure(detector: FaceDetector, group: str, images: Sequence[np.ndarray]) -> HitRate:
    start = time.perf_counter()
    hits = sum(1 for img in images if detector.detect(img))
    elapsed = time.perf_counter() - start
    return HitRate(detector.name, group, len(images), hits, 1000.0 * elapsed / max(len(images), 1))


def measure_all(
    root: Path, backends: Sequence[str], max_items: int = 40, frames_per_video: int = 3
) -> tuple[list[HitRate], dict[str, str]]:
    """Hit rates of each usable backend on each group; also the backends that could not load and why."""
    data = {
        label: group_items(root, folder, kind, recurse, max_items, frames_per_video)
        for label, folder, kind, recurse in GROUPS
    }
    results: list[HitRate] = []
    unavailable: dict[str, str] = {}
    for name in backends:
        try:
            detector = BACKENDS[name]()
        except BackendUnavailableError as exc:
            unavailable[name] = str(exc)
            continue
        for label, images in data.items():
            if images:
                results.append(measure(detector, label, images))
    return results, unavailable


def markdown_table(results: Sequence[HitRate]) -> str:
    groups = list(dict.fromkeys(r.group for r in results))
    detectors = list(dict.fromkeys(r.detector for r in results))
    cell = {(r.detector, r.group): r for r in results}
    lines = [
        "| detector | " + " | ".join(f"{g} (n={cell[(detectors[0], g)].items})" for g in groups) + " | ms/item |",
        "|---" * (len(groups) + 2) + "|",
    ]
    for d in detectors:
        rows = [cell[(d, g)] for g in groups]
        ms = sum(r.ms_per_item * r.items for r in rows) / max(sum(r.items for r in rows), 1)
        lines.append(f"| {d} | " + " | ".join(f"{100 * r.rate:.0f}%" for r in rows) + f" | {ms:.0f} |")
    return "\n".join(lines)
