"""The dataset manifest: one row per clip, stored as ``manifest.parquet`` and ``manifest.csv``.

Columns (:data:`COLUMNS`): ``id`` (unique), ``path`` (the clip, relative to the dataset folder, or absolute
for clips registered in place), ``format`` (jpg/png/npy/mp4), ``source`` (the raw video, relative to the
raw folder), ``start_frame``/``end_frame`` (source frames, end exclusive), ``start_s``/``end_s``,
``x0, y0, x1, y1`` (the square crop in source pixels; may reach outside the frame), ``face_size`` (median
face box side in source pixels), ``fps``, ``frames`` (frames in the clip), ``size`` (clip side in pixels),
``domain`` (real/cartoon), ``identity`` (person or character), ``split`` (train/test/val).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import pandas as pd

from toontalker.errors import InputError
from toontalker.io_utils import atomic_path, atomic_write_text

MANIFEST_PARQUET = "manifest.parquet"
MANIFEST_CSV = "manifest.csv"


@dataclass(frozen=True)
class ClipRecord:
    """One clip of the dataset (one manifest row)."""

    id: str
    path: str
    format: str
    source: str
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    x0: float
    y0: float
    x1: float
    y1: float
    face_size: float
    fps: float
    frames: int
    size: int
    domain: str
    identity: str
    split: str = "train"


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(ClipRecord))
_INT_COLUMNS = ("start_frame", "end_frame", "frames", "size")


def records_to_frame(records: Sequence[ClipRecord]) -> pd.DataFrame:
    frame = pd.DataFrame([asdict(r) for r in records], columns=list(COLUMNS))
    return normalize(frame, "<records>")


def normalize(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """Check the columns and types of a manifest table; InputError naming ``where`` if it is not one."""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{where}: not a toontalker manifest (missing columns: {', '.join(missing)})")
    frame = frame[list(COLUMNS)].copy()
    for column in _INT_COLUMNS:
        frame[column] = frame[column].astype("int64")
    for column in ("id", "path", "format", "source", "domain", "identity", "split"):
        frame[column] = frame[column].fillna("").astype(str)
    if frame["id"].duplicated().any():
        dup = frame.loc[frame["id"].duplicated(), "id"].iloc[0]
        raise InputError(f"{where}: duplicate clip id {dup!r}")
    return frame.sort_values("id", kind="stable").reset_index(drop=True)


def write_manifest(frame: pd.DataFrame, dataset_dir: Path) -> Path:
    """Write ``manifest.parquet`` and ``manifest.csv`` into ``dataset_dir`` atomically; returns the parquet."""
    frame = normalize(frame, str(dataset_dir))
    parquet = Path(dataset_dir) / MANIFEST_PARQUET
    with atomic_path(parquet) as tmp:
        frame.to_parquet(tmp, index=False)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    atomic_write_text(Path(dataset_dir) / MANIFEST_CSV, buffer.getvalue())
    return parquet


def manifest_path(path: str | Path) -> Path:
    """The manifest file for a dataset folder or a manifest file given directly."""
    path = Path(path)
    if path.is_dir():
        for name in (MANIFEST_PARQUET, MANIFEST_CSV):
            if (path / name).is_file():
                return path / name
        raise InputError(f"{path}: no {MANIFEST_PARQUET} or {MANIFEST_CSV} (not a toontalker dataset folder)")
    if not path.is_file():
        raise InputError(f"{path}: manifest not found")
    return path


def read_manifest(path: str | Path) -> pd.DataFrame:
    """The manifest of a dataset folder (or a .parquet/.csv manifest file), checked."""
    file = manifest_path(path)
    try:
        frame = pd.read_parquet(file) if file.suffix == ".parquet" else pd.read_csv(file, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"{file}: cannot read manifest ({exc})") from exc
    return normalize(frame, str(file))


def dataset_root(path: str | Path) -> Path:
    """The folder clip paths are relative to (the manifest's folder)."""
    return manifest_path(path).parent


def clip_path(root: Path, record_path: str) -> Path:
    path = Path(record_path)
    return path if path.is_absolute() else root / path
