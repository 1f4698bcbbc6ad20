"""Computing clip landmarks: for the clips ``dataset build`` / ``import`` write, and ``dataset landmarks``
(:func:`add_landmarks`), which adds them to every clip of an existing dataset.

FaceMesh runs on the stored clip frames (so points are in clip pixels), in video mode, reset at the start of
every clip. One FaceMesh per process, made on first use. A clip whose landmarks fail is still a clip: its
failure is reported, no file is left for it, and ``dataset landmarks`` can try it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path

from toontalker.dataset.landmarks import (
    LandmarkCoverage,
    clean_landmark_leftovers,
    compute_clip_landmarks,
    landmark_coverage,
    landmarks_path,
    write_clip_landmarks,
)
from toontalker.dataset.manifest import ClipRecord, clip_path, dataset_root, read_manifest
from toontalker.dataset.pipeline import VideoResult
from toontalker.dataset.storage import ClipReader
from toontalker.errors import BackendUnavailableError, ToonTalkerError, UsageError
from toontalker.faces.landmarks import FaceMesh

_MESH: list[FaceMesh] = []  # this process's FaceMesh (at most one)


def process_mesh(optional: bool = False) -> FaceMesh:
    """This process's FaceMesh (video mode), made on first use; BackendUnavailableError without a usable
    mediapipe (``optional``: the message adds that landmarks can be switched off)."""
    if not _MESH:
        try:
            _MESH.append(FaceMesh(video=True))
        except BackendUnavailableError as exc:
            hint = "; clip landmarks are optional (landmarks=False builds without them)" if optional else ""
            raise BackendUnavailableError(f"clip landmarks: {exc}{hint}") from exc
    return _MESH[0]


@dataclass(frozen=True)
class ClipLandmarkResult:
    """What became of one clip's landmarks: ``frames`` stored, ``detected`` of them with a face, or ``error``."""

    clip_id: str
    frames: int
    detected: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def landmark_clip(root: Path, clip_id: str, path: str, fmt: str) -> ClipLandmarkResult:
    """Compute and store the landmarks of the clip at ``path`` (as in the manifest) inside dataset ``root``.

    A clip that cannot be read, or on which FaceMesh fails, gives a result with ``error`` and no file."""
    root = Path(root)
    try:
        reader = ClipReader(clip_path(root, path), fmt)
        marks = compute_clip_landmarks(reader, process_mesh())
    except BackendUnavailableError:
        raise  # no clip can be done: stop rather than fail every clip
    except (ToonTalkerError, RuntimeError, ValueError, IndexError) as exc:
        landmarks_path(root, clip_id).unlink(missing_ok=True)  # no stale file for a clip that failed now
        return ClipLandmarkResult(clip_id, 0, 0, f"{type(exc).__name__}: {exc}")
    write_clip_landmarks(root, clip_id, marks)
    return ClipLandmarkResult(clip_id, len(marks), int(marks.detected.sum()))


def landmark_result(result: VideoResult, out_dir: Path) -> VideoResult:
    """``result`` of a build or import after computing the landmarks of its clips (written after each clip);
    failures go to ``result.landmark_errors`` as (clip id, reason)."""
    errors = []
    for record in result.records:
        outcome = landmark_clip(out_dir, record.id, record.path, record.format)
        if not outcome.ok:
            errors.append((record.id, outcome.error))
    return replace(result, landmark_errors=tuple(errors))


def records_coverage(root: Path, records: Sequence[ClipRecord]) -> tuple[LandmarkCoverage, ...]:
    return landmark_coverage(root, ((r.id, r.domain) for r in records))


@dataclass(frozen=True)
class LandmarkOptions:
    """``dataset landmarks``: ``workers`` processes; ``overwrite`` recomputes clips that have a file."""

    workers: int = 1
    overwrite: bool = False

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise UsageError(f"workers must be >= 1, got {self.workers}")


@dataclass(frozen=True)
class LandmarkSummary:
    """What ``dataset landmarks`` did: clips ``done`` now, ``skipped`` (had a file), ``failed`` (clip id,
    reason); ``frames`` processed now; ``coverage`` per domain over the whole dataset afterwards."""

    dataset: Path
    clips: int
    done: int
    skipped: int
    failed: tuple[tuple[str, str], ...]
    frames: int
    seconds: float
    coverage: tuple[LandmarkCoverage, ...]

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


LandmarkProgress = Callable[[ClipLandmarkResult, int, int], None]


def _run(
    root: Path, todo: Sequence[tuple[str, str, str]], workers: int, on_done: Callable[[ClipLandmarkResult], None]
) -> None:
    """Run :func:`landmark_clip` on every (id, path, format) of ``todo``, in ``workers`` processes. On an
    interrupt, queued clips are cancelled and the running ones finish (each file is written atomically)."""
    if workers == 1 or len(todo) <= 1:
        for clip_id, path, fmt in todo:
            on_done(landmark_clip(root, clip_id, path, fmt))
        return
    pool = ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=get_context("spawn"))
    try:
        futures = {pool.submit(landmark_clip, root, *item): item[0] for item in todo}
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except BackendUnavailableError:
                raise
            except Exception as exc:  # noqa: BLE001 - a dead worker fails its clip, not the run
                outcome = ClipLandmarkResult(
                    futures[future], 0, 0, f"worker process failed: {type(exc).__name__}: {exc}"
                )
            on_done(outcome)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def add_landmarks(
    dataset: Path, options: LandmarkOptions = LandmarkOptions(), progress: LandmarkProgress | None = None
) -> LandmarkSummary:
    """Compute the landmarks of every clip of the dataset at ``dataset`` (folder or manifest) that has none
    (every clip with ``options.overwrite``). Resumable: an interrupted run keeps every finished file."""
    frame = read_manifest(dataset)
    root = dataset_root(dataset)
    clean_landmark_leftovers(root)
    todo = [
        (row.id, row.path, row.format)
        for row in frame.itertuples()
        if options.overwrite or not landmarks_path(root, row.id).is_file()
    ]
    if todo:
        process_mesh()  # fails here, once, when mediapipe is missing
    start = time.perf_counter()
    outcomes: list[ClipLandmarkResult] = []

    def on_done(outcome: ClipLandmarkResult) -> None:
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome, len(outcomes), len(todo))

    _run(root, todo, options.workers, on_done)
    seconds = time.perf_counter() - start
    coverage = landmark_coverage(root, zip(frame["id"], frame["domain"]))
    return LandmarkSummary(
        dataset=Path(dataset),
        clips=len(frame),
        done=sum(o.ok for o in outcomes),
        skipped=len(frame) - len(todo),
        failed=tuple((o.clip_id, o.error) for o in outcomes if not o.ok),
        frames=sum(o.frames for o in outcomes),
        seconds=seconds,
        coverage=coverage,
    )
