"""What `bench motion` reenacts: SOURCE DRIVER pairs (from a list or a protocol CSV) and how their frames are read.

Two ways to turn files into model input (:class:`MotionPair` ``crop``):

* ``animate`` (the default for files a user gives): what ``toontalker animate`` does with its default options:
  the source face is found and cropped (:func:`toontalker.animation.source.prepare_source`), the driving
  face is tracked with a smoothed box and every frame cropped
  (:func:`toontalker.animation.driving.track_and_crop`), both at ``crop_scale`` :data:`toontalker.faces.CROP_SCALE`;
* ``none``: the whole image / frame resized to the model's size, as ``bench quality`` reads dataset items
  that are already face crops (protocol CSVs made by ``bench protocol``).

Videos are decoded with OpenCV (as :mod:`toontalker.bench.frames` does), so no ffmpeg binary is needed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import cv2
import numpy as np
import pandas as pd

from toontalker.bench.frames import read_frames
from toontalker.bench.protocols import read_protocol
from toontalker.conventions import CROP_SCALE, DOMAINS, Domain
from toontalker.errors import InputError, MediaError, UsageError
from toontalker.video import IMAGE_SUFFIXES

Crop = Literal["animate", "none"]
CROPS = ("animate", "none")
CROSS_SETTINGS = {
    ("real", "real"): "cross-identity-real",
    ("cartoon", "cartoon"): "cross-identity-cartoon",
    ("real", "cartoon"): "real-to-cartoon",
    ("cartoon", "real"): "cartoon-to-real",
}


@dataclass(frozen=True)
class MotionPair:
    """One reenactment to measure: ``driving`` (a video) animates ``source`` (an image, or frame ``frame`` of
    a clip). ``same_identity``: the source is the driving clip's own frame ``frame`` and the driving clip is
    the ground truth (reconstruction). ``ground_truth``: a clip of the expected output, if any."""

    source: Path
    driving: Path
    source_domain: Domain = "cartoon"
    driving_domain: Domain = "real"
    frame: int = 0
    same_identity: bool = False
    pair_id: str = ""
    ground_truth: Path | None = None
    crop: Crop = "animate"

    def __post_init__(self) -> None:
        for name in ("source_domain", "driving_domain"):
            if getattr(self, name) not in DOMAINS:
                raise UsageError(f"{name} must be 'real' or 'cartoon', not {getattr(self, name)!r}")
        if self.crop not in CROPS:
            raise UsageError(f"crop must be one of {', '.join(CROPS)}, not {self.crop!r}")
        if self.frame < 0:
            raise UsageError(f"frame must be >= 0, got {self.frame}")

    @property
    def setting(self) -> str:
        """The protocol setting name of this pair's direction (``same-identity``, ``real-to-cartoon``, ...)."""
        if self.same_identity:
            return "same-identity"
        return CROSS_SETTINGS[(self.driving_domain, self.source_domain)]

    @property
    def label(self) -> str:
        return self.pair_id or f"{Path(self.source).stem}--{Path(self.driving).stem}"


def split_domain(text: str, default: Domain) -> tuple[Path, Domain]:
    """``"real:path"`` / ``"cartoon:path"`` -> (path, domain); a plain path gets ``default``."""
    head, sep, tail = text.partition(":")
    if sep and head in DOMAINS and tail:
        return Path(tail), head
    return Path(text), default


def pairs_from_protocol(path: Path, crop: Crop | None = None) -> list[MotionPair]:
    """The pairs of a protocol CSV (``bench protocol``'s format, or a held-out motion protocol). ``crop`` None:
    each row's ``crop`` column where the CSV has one (held-out protocols: ``animate``, their files are whole
    videos and photos), else ``none`` (``bench protocol``'s dataset items are face crops already)."""
    rows = read_protocol(path)
    pairs = []
    for _, row in rows.iterrows():
        truth = row.get("ground_truth_path")
        written = row.get("crop")
        row_crop = crop or (str(written) if isinstance(written, str) and written else "none")
        if row_crop not in CROPS:
            raise InputError(
                f"{path}: crop must be one of {', '.join(CROPS)}, not {row_crop!r} (pair {row['pair_id']})"
            )
        pairs.append(
            MotionPair(
                source=Path(str(row["source_path"])),
                driving=Path(str(row["driving_path"])),
                source_domain=cast(Domain, str(row["source_domain"])),  # MotionPair checks both
                driving_domain=cast(Domain, str(row["driving_domain"])),
                frame=int(row["frame"]),
                same_identity=str(row["setting"]) == "same-identity",
                pair_id=str(row["pair_id"]),
                ground_truth=Path(truth) if isinstance(truth, str) and truth else None,
                crop=cast(Crop, row_crop),
            )
        )
    return pairs


def protocol_rows(pairs: Sequence[MotionPair], max_frames: int) -> pd.DataFrame:
    """Pairs -> a protocol frame (``bench protocol``'s columns and each pair's ``crop``, which
    :func:`pairs_from_protocol` reads back); identities are the file stems."""
    from toontalker.bench.protocols import PROTOCOL_COLUMNS

    rows = []
    for pair in pairs:
        rows.append(
            {
                "pair_id": pair.label,
                "setting": pair.setting,
                "source": Path(pair.source).stem,
                "source_path": str(pair.source),
                "source_domain": pair.source_domain,
                "source_identity": Path(pair.source).stem,
                "frame": pair.frame,
                "driving": Path(pair.driving).stem,
                "driving_path": str(pair.driving),
                "driving_domain": pair.driving_domain,
                "driving_identity": Path(pair.driving).stem,
                "driving_frames": max_frames,
                "crop": pair.crop,
            }
        )
    return pd.DataFrame(rows, columns=[*PROTOCOL_COLUMNS, "crop"])


def _video_batches(path: Path, count: int, batch: int = 16) -> Iterator[np.ndarray]:
    """Frames 0 .. count-1 of a video at full resolution, ``(n, H, W, 3)`` uint8 RGB batches (OpenCV)."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise MediaError(f"{path}: cannot open video")
    try:
        frames: list[np.ndarray] = []
        for _ in range(count):
            ok, bgr = capture.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            if len(frames) == batch:
                yield np.stack(frames)
                frames = []
        if frames:
            yield np.stack(frames)
    finally:
        capture.release()


def _tracked_crops(path: Path, domain: str, size: int, count: int, crop_scale: float) -> np.ndarray:
    """Animate's driving crops of the first ``count`` frames: ``(N, size, size, 3)`` uint8."""
    from toontalker.animation.driving import track_and_crop
    from toontalker.faces import get_detector

    detector = get_detector("auto", domain)
    detector.max_side = min(detector.max_side, 384)  # animate's detect_side
    initial = None
    for batch in _video_batches(path, min(count, 60)):  # the opening frames, as animate's first scan
        for frame in batch[::5]:
            faces = detector.detect(frame)
            if faces:
                initial = faces[0]
                break
        if initial is not None:
            break
    crops = [
        b.crops
        for b in track_and_crop(_video_batches(path, count), detector, size, 16, crop_scale, initial_box=initial)
    ]
    if not crops:
        raise MediaError(f"{path}: no frames decoded")
    return np.concatenate(crops)


@dataclass(frozen=True)
class PairFrames:
    """A pair's model input: ``source`` (1, S, S, 3), ``driving`` (N, S, S, 3), ``truth`` (N, S, S, 3) or None."""

    source: np.ndarray
    driving: np.ndarray
    truth: np.ndarray | None


def _is_image(path: Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def read_pair(pair: MotionPair, size: int, max_frames: int, crop_scale: float = CROP_SCALE) -> PairFrames:
    """Read (and, for ``crop == "animate"``, crop) the pair's frames at ``size`` x ``size``."""
    for what, path in (("source", pair.source), ("driving", pair.driving)):
        if not Path(path).exists():
            raise InputError(f"{path}: {what} file not found (pair {pair.label})")
    if _is_image(pair.driving):
        raise InputError(f"{pair.driving}: the driver must be a video or clip, not an image (pair {pair.label})")
    if pair.crop == "none":
        driving = read_frames(pair.driving, size, count=max_frames)
        source = read_frames(pair.source, size, start=pair.frame, count=1)[:1]
    else:
        driving = _tracked_crops(Path(pair.driving), pair.driving_domain, size, max_frames, crop_scale)
        if pair.same_identity or not _is_image(pair.source):
            if Path(pair.source).resolve() != Path(pair.driving).resolve() or pair.frame >= len(driving):
                raise InputError(
                    f"{pair.source}: with crop 'animate' a video source must be the driving clip "
                    f"itself (same identity) and frame {pair.frame} among its first {len(driving)}"
                )
            source = driving[pair.frame : pair.frame + 1]
        else:
            from toontalker.animation.source import prepare_source

            source = prepare_source(Path(pair.source), size, pair.source_domain, crop_scale=crop_scale).crop[None]
    truth = None
    if pair.ground_truth is not None:
        truth = read_frames(pair.ground_truth, size, count=max_frames)
    elif pair.same_identity:
        truth = driving
    return PairFrames(source, driving, truth)


def _file_stamp(path: Path | None) -> str:
    if path is None:
        return ""
    stat = Path(path).stat()
    return f"{Path(path).resolve()}:{stat.st_size}:{int(stat.st_mtime)}"


def cache_key(pair: MotionPair, size: int, max_frames: int, crop_scale: float) -> str:
    """What the prepared frames of a pair depend on: its files (path, size, mtime), crop and frame counts."""
    import hashlib

    blob = "|".join(
        [
            _file_stamp(pair.source),
            _file_stamp(pair.driving),
            _file_stamp(pair.ground_truth),
            pair.source_domain,
            pair.driving_domain,
            str(pair.frame),
            str(pair.same_identity),
            pair.crop,
            str(size),
            str(max_frames),
            f"{crop_scale:.4f}",
            "v1",
        ]
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]


def save_prepared(path: Path, frames: PairFrames, points: np.ndarray, detected: np.ndarray) -> None:
    """Store a pair's model input and the driver's landmarks (npz, atomically)."""
    from toontalker.io_utils import atomic_path

    arrays: dict[str, Any] = {
        "source": frames.source,
        "driving": frames.driving,
        "points": points,
        "detected": detected,
    }
    if frames.truth is not None and frames.truth is not frames.driving:
        arrays["truth"] = frames.truth
    arrays["truth_is_driving"] = np.array(frames.truth is frames.driving)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, **arrays)


def load_prepared(path: Path) -> tuple[PairFrames, np.ndarray, np.ndarray]:
    """The inverse of :func:`save_prepared`: (frames, driver points, driver detected)."""
    with np.load(path) as data:
        driving = data["driving"]
        truth = driving if bool(data["truth_is_driving"]) else data.get("truth")
        return PairFrames(data["source"], driving, truth), data["points"], data["detected"]
