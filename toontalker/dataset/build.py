"""``dataset build``: raw videos -> face clips + manifest, in parallel, resumable, atomic.

Layout of the output folder::

    OUT_DIR/build-<domain>.json   the BuildConfig used (a re-run with other settings is refused); one
                              folder can hold a real and a cartoon build (and imports)
    OUT_DIR/clips/<clip id>/...   one clip per face track per scene (format per config)
    OUT_DIR/videos/<key>.json     one result per source video: done, faceless or failed (the resume log)
    OUT_DIR/manifest.parquet|csv  one row per clip (rebuilt from videos/ at the end of every run)
    OUT_DIR/landmarks/<clip id>.npz  FaceMesh landmarks of each clip (optional; see dataset/landmarks.py)

A re-run skips every video that has a result file (``retry_failed`` re-tries failed ones). A killed build
loses nothing finished: clips are renamed into place when complete and a video's result is written after
its clips; leftover temporary files are removed at the next start.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from toontalker.dataset.landmark_pass import landmark_result, process_mesh, records_coverage
from toontalker.dataset.landmarks import (
    LANDMARKS_DIR,
    LandmarkCoverage,
    clean_landmark_leftovers,
    landmarks_path,
    remove_clip_landmarks,
)
from toontalker.dataset.manifest import ClipRecord, clip_path, records_to_frame, write_manifest
from toontalker.dataset.pipeline import BuildConfig, VideoResult, process_video
from toontalker.dataset.shards import Shard, claim_shard
from toontalker.dataset.sources import SourceVideo, scan_sources
from toontalker.dataset.storage import remove_path
from toontalker.errors import InputError, UsageError
from toontalker.faces import FaceDetector, get_detector
from toontalker.io_utils import atomic_write_text, ensure_parent_writable
from toontalker.process_pool import worker_pool

ProgressCallback = Callable[[VideoResult, int, int], None]


@dataclass(frozen=True)
class BuildSummary:
    """What a build run did. ``failed`` / ``no_clips``: (source, reason) pairs."""

    out_dir: Path
    detector: str
    videos: int
    processed: int
    skipped: int
    clips: int
    clip_frames: int
    frames_in: int
    seconds: float
    failed: tuple[tuple[str, str], ...]
    no_clips: tuple[tuple[str, str], ...]
    ignored: tuple[str, ...]
    unreadable: tuple[str, ...]
    manifest: Path | None
    landmarks: tuple[LandmarkCoverage, ...] = ()  # per domain, over all clips; () when landmarks are off
    landmark_failed: tuple[tuple[str, str], ...] = ()  # (clip id, reason): clips kept without landmarks
    shard: str = ""  # "K/N" for a sharded build (videos counts this shard's videos only)

    @property
    def input_fps(self) -> float:
        """Input frames processed per second of wall time in this run."""
        return self.frames_in / self.seconds if self.seconds > 0 else 0.0


def result_to_json(result: VideoResult) -> str:
    return json.dumps(
        {
            "rel": result.rel,
            "status": result.status,
            "message": result.message,
            "frames_in": result.frames_in,
            "seconds": result.seconds,
            "records": [asdict(r) for r in result.records],
            "landmark_errors": [list(e) for e in result.landmark_errors],
        },
        indent=1,
    )


def _result_from_json(text: str) -> VideoResult:
    data = json.loads(text)
    return VideoResult(
        data["rel"],
        data["status"],
        data["message"],
        tuple(ClipRecord(**r) for r in data["records"]),
        data["frames_in"],
        data["seconds"],
        tuple((str(a), str(b)) for a, b in data.get("landmark_errors", ())),
    )


def _check_settings(out_dir: Path, config: BuildConfig, overwrite: bool) -> None:
    settings = out_dir / f"build-{config.domain}.json"
    if settings.is_file() and not overwrite:
        try:
            previous = BuildConfig.load(settings)
        except Exception as exc:  # noqa: BLE001 - any unreadable settings file means: start over explicitly
            raise UsageError(
                f"{settings}: unreadable ({exc}); build with overwrite to start this folder again"
            ) from exc
        if previous.replace(landmarks=config.landmarks) != config:  # landmarks on/off: same clips
            changed = [k for k, v in config.to_dict().items() if previous.to_dict().get(k) != v]
            raise UsageError(
                f"{out_dir} was built with other settings ({', '.join(changed)} differ); "
                "use the same options to resume, another OUT_DIR, or --overwrite"
            )
    if overwrite:
        for name in ("clips", "videos", LANDMARKS_DIR, "manifest.parquet", "manifest.csv"):
            if (out_dir / name).exists():
                remove_path(out_dir / name)
        for old in out_dir.glob("build-*.json"):
            old.unlink()
    ensure_parent_writable(settings)
    config.save(settings)


def clean_leftovers(out_dir: Path) -> None:
    for folder in (out_dir / "clips", out_dir / "videos"):
        if folder.is_dir():
            for entry in folder.iterdir():
                if entry.name.startswith("."):
                    remove_path(entry)
    clean_landmark_leftovers(out_dir)


def remove_partial_clips(out_dir: Path, source: SourceVideo) -> None:
    remove_partial_clips_of_key(out_dir, source.key)


def remove_partial_clips_of_key(out_dir: Path, key: str) -> None:
    clips = out_dir / "clips"
    if clips.is_dir():
        for entry in clips.glob(f"{key}-*"):
            remove_path(entry)
    remove_clip_landmarks(out_dir, f"{key}-*")


_WORKER_DETECTORS: dict[tuple[str, str], FaceDetector] = {}


def _worker(source: SourceVideo, config: BuildConfig, out_dir: Path) -> VideoResult:
    """Runs in a worker process: one detector per process, created on first use."""
    detector = None
    if config.needs_detector:
        key = (config.detector, config.domain)
        if key not in _WORKER_DETECTORS:
            _WORKER_DETECTORS[key] = get_detector(config.detector, config.domain)
        detector = _WORKER_DETECTORS[key]
    result = process_video(source, config, out_dir, detector)
    return landmark_result(result, out_dir) if config.landmarks else result


def collect_results(out_dir: Path) -> dict[str, VideoResult]:
    """Every finished video's result in ``out_dir/videos`` by source key.

    A result whose clips are not all on disk any more (a clip folder deleted by hand, a disk cleanup) is
    dropped with its log entry, so the video is processed again instead of leaving dead manifest rows."""
    results: dict[str, VideoResult] = {}
    folder = out_dir / "videos"
    if folder.is_dir():
        for file in sorted(folder.glob("*.json")):
            try:
                result = _result_from_json(file.read_text(encoding="utf-8"))
            except (ValueError, KeyError, TypeError):
                file.unlink()  # a damaged log entry: that video is simply processed again
                continue
            if any(not clip_path(out_dir, record.path).exists() for record in result.records):
                remove_partial_clips_of_key(out_dir, file.stem)
                file.unlink()  # its clips are gone: processed again
                continue
            results[file.stem] = result
    return results


def build_dataset(
    raw_dir: Path,
    out_dir: Path,
    config: BuildConfig,
    workers: int = 1,
    overwrite: bool = False,
    retry_failed: bool = False,
    progress: ProgressCallback | None = None,
    shard: Shard | None = None,
) -> BuildSummary:
    """Build (or resume building) a clip dataset in ``out_dir`` from the videos under ``raw_dir``.

    ``shard``: only the videos of that part of the partition (:mod:`toontalker.dataset.shards`).
    """
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    if workers < 1:
        raise UsageError(f"workers must be >= 1, got {workers}")
    scan = scan_sources(raw_dir, config.identity_from, config.identity_pattern, namespace=config.domain)
    if out_dir.resolve() == raw_dir.resolve() or raw_dir.resolve() in out_dir.resolve().parents:
        raise UsageError(f"{out_dir}: OUT_DIR must not be inside RAW_DIR {raw_dir}")
    detector_name = "none"
    if config.needs_detector:
        detector = get_detector(config.detector, config.domain)  # fails early if the backend is unusable
        detector_name = detector.name
        config = config.replace(detector=detector.name)
    if config.landmarks:
        process_mesh(optional=True)  # fails early if mediapipe is unusable
    claim_shard(out_dir, config.domain, shard, overwrite)
    _check_settings(out_dir, config, overwrite)
    clean_leftovers(out_dir)
    if shard is not None:
        scan = replace(scan, videos=tuple(v for v in scan.videos if shard.holds(v.rel)))
    done = collect_results(out_dir)
    todo = [s for s in scan.videos if s.key not in done or (retry_failed and done[s.key].status == "failed")]
    start = time.perf_counter()
    new_results: list[VideoResult] = []
    crashed: list[tuple[str, str]] = []

    def finish(source: SourceVideo, result: VideoResult) -> None:
        atomic_write_text(out_dir / "videos" / f"{source.key}.json", result_to_json(result))
        done[source.key] = result
        new_results.append(result)
        if progress is not None:
            progress(result, len(new_results), len(todo))

    for source in todo:
        remove_partial_clips(out_dir, source)
    if workers == 1 or len(todo) <= 1:
        for source in todo:
            finish(source, _worker(source, config, out_dir))
    else:
        with worker_pool(min(workers, len(todo))) as pool:  # its workers die with this process
            futures = {pool.submit(_worker, s, config, out_dir): s for s in todo}
            for future in as_completed(futures):
                source = futures[future]
                try:
                    result = future.result()
                except Exception as exc:  # noqa: BLE001 - a dead worker must not stop the build
                    # Not logged as done: the next run tries this video again.
                    crashed.append((source.rel, f"worker process failed: {type(exc).__name__}: {exc}"))
                    continue
                finish(source, result)
    seconds = time.perf_counter() - start
    manifest = write_full_manifest(out_dir, list(done.values()))
    all_results = [done[s.key] for s in scan.videos if s.key in done]
    return BuildSummary(
        out_dir=out_dir,
        detector=detector_name,
        videos=len(scan.videos),
        processed=len(new_results),
        skipped=len(scan.videos) - len(todo),
        clips=sum(len(r.records) for r in all_results),
        clip_frames=sum(c.frames for r in all_results for c in r.records),
        frames_in=sum(r.frames_in for r in new_results),
        seconds=seconds,
        failed=tuple((r.rel, r.message) for r in all_results if r.status == "failed") + tuple(crashed),
        no_clips=tuple((r.rel, r.message) for r in all_results if r.status == "no_clips"),
        ignored=scan.ignored,
        unreadable=scan.unreadable,
        manifest=manifest,
        shard=str(shard or ""),
        **landmark_summary(out_dir, all_results, config.landmarks),
    )


def landmark_summary(out_dir: Path, results: Sequence[VideoResult], enabled: bool) -> dict:
    """The landmark fields of a BuildSummary for the clips of ``results`` (empty when landmarks are off)."""
    if not enabled:
        return {}
    return {
        "landmarks": records_coverage(out_dir, [c for r in results for c in r.records]),
        "landmark_failed": tuple(
            e for r in results for e in r.landmark_errors if not landmarks_path(out_dir, e[0]).is_file()
        ),
    }  # not added since


def write_full_manifest(out_dir: Path, results: Sequence[VideoResult]) -> Path | None:
    """The manifest of all clips in ``results`` (every build and import into ``out_dir``), keeping the splits
    already assigned to existing clips."""
    from toontalker.dataset.manifest import MANIFEST_PARQUET, read_manifest

    records = [r for result in results for r in result.records]
    if not records:
        return None
    frame = records_to_frame(records)
    if (out_dir / MANIFEST_PARQUET).is_file():
        try:
            previous = read_manifest(out_dir).set_index("id")["split"]
            frame["split"] = [previous.get(i, s) for i, s in zip(frame["id"], frame["split"])]
        except InputError:
            pass
    return write_manifest(frame, out_dir)
