"""Measure clip storage formats for training-side reads: random frame pairs per second, bytes per frame.

    toontalker bench storage ../shared/data/cartoon/videos/tha2_characters --clips 8

Writes each clip (first ``--frames`` frames at ``--size``) in every format to a temporary folder, then reads
``--pairs`` random frame pairs from random clips, each time from a fresh reader cache of ``--cache`` clips
(a training loader sees many more clips than it can cache, so mostly cold opens).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toontalker.dataset.storage import FORMATS, ClipCache, ClipWriter, clip_relpath
from toontalker.errors import InputError
from toontalker.video import is_video_path, read_frames


@dataclass(frozen=True)
class StorageResult:
    fmt: str
    frames_per_s: float  # frames decoded per second in random-pair reading
    kib_per_frame: float
    write_frames_per_s: float


def bench_formats(
    videos: Sequence[Path], size: int = 256, frames: int = 150, pairs: int = 200, cache: int = 2, seed: int = 0
) -> list[StorageResult]:
    clips = [read_frames(v, size=size, max_frames=frames) for v in videos]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for fmt in FORMATS:
            start = time.perf_counter()
            paths = []
            for k, clip in enumerate(clips):
                path = root / fmt / clip_relpath(f"c{k}", fmt)
                with ClipWriter(path, fmt, fps=25.0) as writer:
                    writer.write(clip)
                paths.append(path)
            write_fps = sum(len(c) for c in clips) / (time.perf_counter() - start)
            nbytes = sum(f.stat().st_size for f in (root / fmt).rglob("*") if f.is_file())
            rng = np.random.default_rng(seed)
            reader_cache = ClipCache(cache)
            start = time.perf_counter()
            for _ in range(pairs):
                k = int(rng.integers(len(paths)))
                reader = reader_cache.get(paths[k], fmt)
                i, j = rng.integers(len(reader), size=2)
                reader.read(int(i))
                reader.read(int(j))
            read_fps = 2 * pairs / (time.perf_counter() - start)
            results.append(StorageResult(fmt, read_fps, nbytes / 1024 / sum(len(c) for c in clips), write_fps))
    return results


def pick_videos(folder: Path, clips: int) -> list[Path]:
    """The first ``clips`` videos of ``folder`` (by name); InputError when there is none."""
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    videos = sorted(p for p in folder.iterdir() if is_video_path(p))[:clips]
    if not videos:
        raise InputError(f"{folder}: no videos in this folder")
    return videos
