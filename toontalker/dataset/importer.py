"""``dataset import``: register already-cropped clips (videos or folders of frames) without face cropping.

Each video file, and each folder holding image files (the frames of one clip, in name order), becomes one
clip: centre-cropped to a square if it is not one, resized to ``size`` and stored in the dataset's clip
format, so training reads every clip the same way. Like ``build``: parallel-safe logging in ``videos/``,
resumable, atomic, bad inputs reported and skipped.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from toontalker.conventions import DOMAINS
from toontalker.dataset.build import (
    BuildSummary,
    ProgressCallback,
    clean_leftovers,
    collect_results,
    landmark_summary,
    remove_partial_clips,
    result_to_json,
    write_full_manifest,
)
from toontalker.dataset.landmark_pass import landmark_result, process_mesh
from toontalker.dataset.manifest import ClipRecord
from toontalker.dataset.options import ImportOptions  # re-exported: its home is dataset/options.py
from toontalker.dataset.pipeline import VideoResult
from toontalker.dataset.sources import SourceVideo, check_identity_options, scan_sources
from toontalker.dataset.storage import ClipWriter, check_format, clip_relpath
from toontalker.errors import InputError, ToonTalkerError, UsageError
from toontalker.faces import Box, crop_resize
from toontalker.io_utils import atomic_write_text
from toontalker.video import is_image_path, is_video_path, iter_frames, probe, read_image


def _is_frame_folder(path: Path) -> bool:
    try:
        return any(p.is_file() and is_image_path(p) for p in path.iterdir())
    except OSError:
        return False


def _accept(path: Path, is_dir: bool) -> bool:
    return _is_frame_folder(path) if is_dir else is_video_path(path)


def _frames_of(source: SourceVideo, fps: float) -> tuple[Iterator[np.ndarray], int, int, float]:
    """(batches of frames, width, height, fps) of a video or a frame folder."""
    if source.path.is_dir():
        files = sorted(p for p in source.path.iterdir() if p.is_file() and is_image_path(p))
        first = read_image(files[0]).on_background()
        H, W = first.shape[:2]

        def batches() -> Iterator[np.ndarray]:
            for f in files:
                image = read_image(f).on_background()
                if image.shape[:2] != (H, W):
                    raise InputError(
                        f"{f}: frame size {image.shape[1]}x{image.shape[0]} differs from the "
                        f"folder's first frame ({W}x{H})"
                    )
                yield image[None]

        return batches(), W, H, fps
    info = probe(source.path)
    return iter_frames(source.path, batch_size=32, info=info), info.width, info.height, info.fps


def import_one(source: SourceVideo, options: ImportOptions, out_dir: Path) -> VideoResult:
    start = time.perf_counter()
    clip_id = f"{source.key}-000"
    rel = clip_relpath(clip_id, options.format)
    frames = 0
    try:
        batches, W, H, fps = _frames_of(source, options.fps)
        side = min(W, H)
        crop = Box((W - side) / 2, (H - side) / 2, (W + side) / 2, (H + side) / 2)
        with ClipWriter(out_dir / rel, options.format, fps) as writer:
            for batch in batches:
                writer.write(np.stack([crop_resize(f, crop, options.size) for f in batch]))
            frames = writer.frames_written
            if frames < options.min_frames:
                raise InputError(f"{source.path}: {frames} frames, fewer than {options.min_frames}")
        record = ClipRecord(
            id=clip_id,
            path=rel,
            format=options.format,
            source=source.rel,
            start_frame=0,
            end_frame=frames,
            start_s=0.0,
            end_s=round(frames / fps, 4),
            x0=crop.x0,
            y0=crop.y0,
            x1=crop.x1,
            y1=crop.y1,
            face_size=0.0,
            fps=fps,
            frames=frames,
            size=options.size,
            domain=options.domain,
            identity=source.identity,
        )
        note = "" if W == H else f" (centre-cropped {W}x{H} to square)"
        return VideoResult(
            source.rel, "ok", f"imported {frames} frames{note}", (record,), frames, time.perf_counter() - start
        )
    except ToonTalkerError as exc:
        return VideoResult(source.rel, "failed", str(exc), (), frames, time.perf_counter() - start)


def import_clips(
    src_dir: Path, out_dir: Path, options: ImportOptions, progress: ProgressCallback | None = None
) -> BuildSummary:
    """Import every clip under ``src_dir`` into the dataset at ``out_dir`` (created or extended)."""
    if options.domain not in DOMAINS:
        raise UsageError(f"domain {options.domain!r}: expected one of {', '.join(DOMAINS)}")
    check_format(options.format)
    check_identity_options(options.identity_from, options.identity_pattern)
    if options.size < 16 or options.fps <= 0:
        raise UsageError(f"size must be >= 16 and fps > 0, got size {options.size} and fps {options.fps}")
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    scan = scan_sources(
        src_dir, options.identity_from, options.identity_pattern, namespace=f"import:{options.domain}", accept=_accept
    )
    clean_leftovers(out_dir)
    done = collect_results(out_dir)
    todo = [s for s in scan.videos if s.key not in done]
    if options.landmarks and todo:
        process_mesh(optional=True)  # fails early if mediapipe is unusable
    start = time.perf_counter()
    new: list[VideoResult] = []
    for source in todo:
        remove_partial_clips(out_dir, source)
        result = import_one(source, options, out_dir)
        if options.landmarks:
            result = landmark_result(result, out_dir)
        atomic_write_text(out_dir / "videos" / f"{source.key}.json", result_to_json(result))
        done[source.key] = result
        new.append(result)
        if progress is not None:
            progress(result, len(new), len(todo))
    manifest = write_full_manifest(out_dir, list(done.values()))
    mine = [done[s.key] for s in scan.videos if s.key in done]
    return BuildSummary(
        out_dir=out_dir,
        detector="none",
        videos=len(scan.videos),
        processed=len(new),
        skipped=len(scan.videos) - len(todo),
        clips=sum(len(r.records) for r in mine),
        clip_frames=sum(c.frames for r in mine for c in r.records),
        frames_in=sum(r.frames_in for r in new),
        seconds=time.perf_counter() - start,
        failed=tuple((r.rel, r.message) for r in mine if r.status == "failed"),
        no_clips=(),
        ignored=scan.ignored,
        unreadable=scan.unreadable,
        manifest=manifest,
        **landmark_summary(out_dir, mine, options.landmarks),
    )
