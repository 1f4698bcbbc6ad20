"""``dataset convert``: the same dataset in another clip format.

mp4 clips are ~10x smaller than jpg frame folders and ~120x smaller than npy, so they are the format to build
and to move between machines; but training reads random frame pairs, for which mp4 is 30-55x slower than
jpg / npy (docs/benchmarks.md, "Training data loader") and needs the ffmpeg binary. Convert on the machine
that trains: every clip is decoded once and written in the new format, landmarks are copied, and the manifest
(same rows: ids, identities, splits) is written last with the new paths. Each clip is written atomically, so a
killed run resumes where it stopped; the output is a dataset only once its manifest exists.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from toontalker.dataset.landmarks import landmarks_path
from toontalker.dataset.manifest import clip_path, dataset_root, read_manifest, write_manifest
from toontalker.dataset.options import ConvertOptions
from toontalker.dataset.storage import ClipReader, ClipWriter, clip_relpath
from toontalker.errors import InputError, UsageError
from toontalker.io_utils import atomic_path


@dataclass(frozen=True)
class ConvertOutcome:
    clip_id: str
    frames: int
    status: str  # "converted" | "skipped"


@dataclass(frozen=True)
class ConvertSummary:
    dataset: str
    out_dir: str
    format: str
    clips: int
    converted: int
    skipped: int
    frames: int
    landmarks: int


def _clip_done(path: Path, fmt: str, frames: int) -> bool:
    if not path.exists():
        return False
    try:
        return len(ClipReader(path, fmt)) == frames
    except InputError:
        return False


def _convert_clip(
    source: Path, source_fmt: str, target: Path, frames: int, fps: float, options: ConvertOptions
) -> None:
    reader = ClipReader(source, source_fmt)
    if len(reader) != frames:
        raise InputError(f"{source}: {len(reader)} frames, the manifest says {frames}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with ClipWriter(target, options.format, fps=fps, jpeg_quality=options.jpeg_quality) as writer:
        for index in range(frames):
            writer.write(reader.read(index))


def _copy_landmarks(root: Path, out_dir: Path, clip_id: str) -> bool:
    source = landmarks_path(root, clip_id)
    if not source.is_file():
        return False
    target = landmarks_path(out_dir, clip_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
    return True


def convert_dataset(
    dataset: str | Path,
    out_dir: str | Path,
    options: ConvertOptions | None = None,
    progress: Callable[[ConvertOutcome, int, int], None] | None = None,
) -> ConvertSummary:
    """Write every clip of ``dataset`` (a folder or manifest) to ``out_dir`` in ``options.format``, with its
    landmarks and a manifest whose rows differ only in ``path`` and ``format``. Resumable."""
    options = options or ConvertOptions()
    frame, root = read_manifest(dataset), dataset_root(dataset)
    out = Path(out_dir)
    if out.resolve() == root.resolve():
        raise UsageError(f"{out}: the output folder must differ from the dataset's")
    converted = skipped = landmarks = 0
    for done, row in enumerate(frame.itertuples(index=False), start=1):
        relpath = clip_relpath(str(row.id), options.format)
        target, frames = out / relpath, int(row.frames)
        if not options.overwrite and _clip_done(target, options.format, frames):
            skipped += 1
            status = "skipped"
        else:
            _convert_clip(clip_path(root, str(row.path)), str(row.format), target, frames, float(row.fps), options)
            converted += 1
            status = "converted"
        landmarks += _copy_landmarks(root, out, str(row.id))
        if progress is not None:
            progress(ConvertOutcome(str(row.id), frames, status), done, len(frame))
    new = frame.assign(path=[clip_relpath(str(i), options.format) for i in frame["id"]], format=options.format)
    write_manifest(new, out)
    return ConvertSummary(
        dataset=str(root),
        out_dir=str(out),
        format=options.format,
        clips=len(frame),
        converted=converted,
        skipped=skipped,
        frames=int(frame["frames"].sum()),
        landmarks=landmarks,
    )
