"""Data loading speed of training: decoded, augmented frame pairs per second per clip format and worker count.

The loader under test is the training one (:func:`toontalker.train.loop` builds the same): the dataset's
clips through :func:`toontalker.train.data.open_pair_dataset` (``FramePairDataset``: two random frames of a
clip, resized, optionally augmented, as ``(3, H, W)`` floats), the :class:`TrainStream` /
:class:`StreamSampler` positions, and a ``DataLoader`` with ``workers`` processes (prefetch 4 each). The
clips of a dataset folder are first rewritten in each clip format (``jpg``, ``npy``, ``mp4``, ``png``) into a
work folder, so every format serves the same frames.

One pair is one training sample of stage 1 (a stage-2 sample reads two pairs), so the training metric
``images_per_s`` is the pair rate the loaders must sustain. Besides wall-clock pairs/s, the CPU time of the
loader's processes (main + workers, from /proc) gives pairs per CPU-second, the rate of one fully used core,
which holds on a busy machine too; ``cores_needed`` divides a target rate (e.g. 8 GPUs x 450 images/s) by it.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from toontalker.config import ConfigBase
from toontalker.dataset.manifest import (
    ClipRecord,
    clip_path,
    dataset_root,
    read_manifest,
    records_to_frame,
    write_manifest,
)
from toontalker.dataset.storage import FORMATS, ClipCache, ClipWriter, clip_relpath
from toontalker.errors import InputError
from toontalker.train.data import PairOptions, open_pair_dataset
from toontalker.train.stream import StreamSampler, TrainStream


@dataclass(frozen=True)
class LoaderBenchOptions(ConfigBase):
    """What to measure. ``target`` is the training rate to feed in pairs (= images) per second."""

    formats: tuple[str, ...] = ("jpg", "npy", "mp4")
    workers: tuple[int, ...] = (0, 1, 2)
    batch: int = 32
    size: int = 256
    clips: int = 24
    max_frames: int = 0  # frames kept per clip when rewriting (0: all)
    seconds: float = 10.0
    augment: bool = True
    target: float = 3600.0  # 8 GPUs x 450 images/s
    seed: int = 0

    def __post_init__(self) -> None:
        self._check(
            bool(self.formats) and all(f in FORMATS for f in self.formats),
            f"formats must be some of {FORMATS}, got {self.formats}",
        )
        self._check(bool(self.workers) and all(w >= 0 for w in self.workers), "workers must be >= 0")
        for name in ("batch", "size", "clips"):
            self._check(getattr(self, name) >= 1, f"{name} must be >= 1, got {getattr(self, name)}")
        self._check(self.max_frames == 0 or self.max_frames >= 2, "max_frames must be 0 (all) or >= 2")
        self._check(self.seconds > 0 and self.target > 0, "seconds and target must be > 0")


@dataclass(frozen=True)
class LoaderTiming:
    """One (format, workers) measurement: ``pairs_per_s`` of wall time; ``pairs_per_cpu_s`` per CPU-second
    used by the loader's processes (main + workers: the per-core rate, independent of other load on the
    machine); ``cores_busy`` the CPU seconds per wall second they used."""

    format: str
    workers: int
    batches: int
    seconds: float
    pairs_per_s: float
    pairs_per_cpu_s: float
    cores_busy: float
    kib_per_frame: float


@dataclass(frozen=True)
class LoaderBenchResult:
    """All measurements, and per format the loader processes (~ CPU cores) needed to feed ``target``."""

    rows: tuple[LoaderTiming, ...]
    cores_needed: dict[str, int]
    target: float
    cpu_count: int
    clips: int
    frames_per_clip: float
    size: int
    batch: int
    augment: bool


def _pick_clips(dataset: Path, count: int, seed: int) -> list[ClipRecord]:
    frame = read_manifest(dataset)
    frame = frame[frame["frames"] >= 2]
    if frame.empty:
        raise InputError(f"{dataset}: no clip with 2+ frames to benchmark")
    if "real" in set(frame["domain"]):
        frame = frame[frame["domain"] == "real"]
    rows = frame.sample(n=min(count, len(frame)), random_state=seed).sort_values("id")
    return [ClipRecord(**{k: getattr(r, k) for k in ClipRecord.__dataclass_fields__}) for r in rows.itertuples()]


def write_format_copy(
    dataset: Path, records: list[ClipRecord], fmt: str, size: int, max_frames: int, out: Path
) -> float:
    """Rewrite ``records`` of ``dataset`` as ``fmt`` clips at ``size`` into the dataset folder ``out`` (domain
    real, split train); returns KiB per stored frame."""
    root, cache = dataset_root(dataset), ClipCache(1)
    written: list[ClipRecord] = []
    for record in records:
        reader = cache.get(clip_path(root, record.path), record.format)
        frames = len(reader) if max_frames == 0 else min(len(reader), max_frames)
        rel = clip_relpath(record.id, fmt)
        with ClipWriter(out / rel, fmt, fps=record.fps or 25.0) as writer:
            for i in range(frames):
                image = reader.read(i)
                if image.shape[:2] != (size, size):
                    import cv2

                    image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
                writer.write(image)
        written.append(
            replace(record, path=rel, format=fmt, frames=writer.frames_written, size=size, domain="real", split="train")
        )
    write_manifest(records_to_frame(written), out)
    nbytes = sum(f.stat().st_size for f in (out / "clips").rglob("*") if f.is_file())
    return nbytes / 1024 / max(1, sum(r.frames for r in written))


def _batches(folder: Path, workers: int, options: LoaderBenchOptions) -> tuple[DataLoader, Iterator]:
    """The training loader over ``folder`` (as train() builds it for one process)."""
    pairs = open_pair_dataset(
        folder,
        "real",
        options.size,
        PairOptions(split=None, augment=options.augment, seed=options.seed, uint8_frames=True),
    )
    stream = TrainStream(pairs, None, options.seed)
    loader = DataLoader(
        stream,
        batch_size=options.batch,
        sampler=StreamSampler(options.batch, 1, 0, 1),
        num_workers=workers,
        prefetch_factor=4 if workers > 0 else None,
    )
    return loader, iter(loader)


def _cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) used so far by the processes ``pids`` and their finished children (the
    ffmpeg decoders of mp4 clips), from Linux /proc; 0 where unreadable."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime
    return total


def time_loader(folder: Path, fmt: str, workers: int, options: LoaderBenchOptions, kib: float) -> LoaderTiming:
    """Pairs per second of the training loader over ``folder``, and the CPU time all its processes used.

    After start-up (one batch per worker), batches are drawn for at least ``options.seconds`` and whole
    rounds of one batch per worker: the window runs from one batch arrival to another with the workers in
    the same phase, so batches prepared before it (the consumer is faster than the workers: nothing waits
    in the queue) do not inflate the rate.
    """
    threads = torch.get_num_threads()
    if workers == 0:  # as in a DataLoader worker process (idle intra-op threads would be counted as CPU)
        torch.set_num_threads(1)
    try:
        return _time_loader(folder, fmt, workers, options, kib)
    finally:
        torch.set_num_threads(threads)


def _time_loader(folder: Path, fmt: str, workers: int, options: LoaderBenchOptions, kib: float) -> LoaderTiming:
    loader, batches = _batches(folder, workers, options)
    rounds = max(workers, 1)
    for _ in range(1 + workers):  # start-up: worker processes and their first clip opens
        next(batches)
    pids = [os.getpid(), *(w.pid for w in getattr(batches, "_workers", []))]
    count, cpu0, start = 0, _cpu_seconds(pids), time.perf_counter()
    while (elapsed := time.perf_counter() - start) < options.seconds or count % rounds or count == 0:
        next(batches)
        count += 1
    cpu = _cpu_seconds(pids) - cpu0
    del batches, loader  # ends the worker processes
    pairs = count * options.batch
    return LoaderTiming(
        fmt,
        workers,
        count,
        round(elapsed, 2),
        round(pairs / elapsed, 1),
        round(pairs / cpu, 1) if cpu > 0 else 0.0,
        round(cpu / elapsed, 2),
        round(kib, 1),
    )


def cores_for(rows: tuple[LoaderTiming, ...], target: float) -> dict[str, int]:
    """Per format: CPU cores needed for ``target`` pairs/s at the measured per-core rate (the median over
    the worker counts of pairs per CPU-second)."""
    rates: dict[str, list[float]] = {}
    for row in rows:
        rates.setdefault(row.format, []).append(row.pairs_per_cpu_s)
    best = {fmt: float(np.median(values)) for fmt, values in rates.items()}
    return {fmt: math.ceil(target / rate) if rate > 0 else -1 for fmt, rate in best.items()}


def run_loader_bench(
    dataset: Path,
    options: LoaderBenchOptions = LoaderBenchOptions(),
    work_dir: Path | None = None,
    on_row: Callable[[LoaderTiming], None] | None = None,
) -> LoaderBenchResult:
    """Measure the training loader on ``options.clips`` clips of ``dataset`` in each format and worker count."""
    records = _pick_clips(Path(dataset), options.clips, options.seed)
    rows: list[LoaderTiming] = []
    frames: list[int] = []
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        for fmt in options.formats:
            folder = Path(tmp) / fmt
            kib = write_format_copy(Path(dataset), records, fmt, options.size, options.max_frames, folder)
            frames = list(read_manifest(folder)["frames"])
            for workers in options.workers:
                row = time_loader(folder, fmt, workers, options, kib)
                rows.append(row)
                if on_row is not None:
                    on_row(row)
    return LoaderBenchResult(
        rows=tuple(rows),
        cores_needed=cores_for(tuple(rows), options.target),
        target=options.target,
        cpu_count=os.cpu_count() or 1,
        clips=len(records),
        frames_per_clip=round(float(np.mean(frames)), 1),
        size=options.size,
        batch=options.batch,
        augment=options.augment,
    )
