"""Training-side readers: torch Datasets over a toontalker dataset's manifest.

- :class:`FramePairDataset` -- two frames (source, driving) of one clip: within-domain reconstruction.
- :class:`CrossDomainTupleDataset` -- two frames of one clip of the *motion* domain plus one frame of the
  other domain: the tuples of the analogy constraint (Sec. 3.3; real->cartoon and, with
  ``motion_domain="cartoon"``, the reverse).

Items are float tensors ``(3, H, W)`` in ``[-1, 1]`` inside small NamedTuples (the default collate batches
them to ``(B, 3, H, W)``, and the string fields to lists). Sampling is deterministic: item ``i`` of epoch
``e`` depends only on ``(seed, e, i)``, so every worker count gives the same data; call ``set_epoch`` each
epoch for new pairs. ``augment=True`` adds a light augmentation (horizontal flip and small brightness /
contrast / saturation change), identical for the frames of one clip so the motion between them is kept.

With per-frame landmarks in the dataset (``landmarks/``, :mod:`toontalker.dataset.landmarks`), a
:class:`FramePair` also carries the driving frame's mouth and eye boxes (``driving_regions``, for the
region-weighted loss), and ``expression_pairs`` picks driving frames whose mouth/eye opening differs most
from the source's (both ours, not in the paper; docs/training.md).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from toontalker.conventions import check_domain, other_domain
from toontalker.dataset.landmarks import read_clip_landmarks
from toontalker.dataset.manifest import clip_path, dataset_root, read_manifest
from toontalker.dataset.storage import ClipCache
from toontalker.errors import InputError, UsageError
from toontalker.faces.landmarks import MESH_POINTS, closed_eyes, eye_openings, mouth_opening, region_boxes

REGIONS_PER_FRAME = 3  # mouth, image-left eye, image-right eye (faces.landmarks.REGIONS)
EXPRESSION_CACHE_CLIPS = 512  # clips whose landmark signals a reader keeps in memory (per loader worker)


class FramePair(NamedTuple):
    source: torch.Tensor  # (3, H, W) in [-1, 1]
    driving: torch.Tensor  # (3, H, W) in [-1, 1]
    domain: str
    clip_id: str
    # (3, 4) boxes x0, y0, x1, y1 in [0, 1] of the driving frame's mouth and eyes; NaN where unknown
    driving_regions: torch.Tensor = torch.full((REGIONS_PER_FRAME, 4), float("nan"))
    # (2, 468, 2) FaceMesh points x, y in [0, 1] of the source, then the driving frame; NaN where unknown
    points: torch.Tensor = torch.full((2, MESH_POINTS, 2), float("nan"))


def no_regions() -> torch.Tensor:
    """The ``driving_regions`` of a frame without landmarks: (3, 4) NaN."""
    return torch.full((REGIONS_PER_FRAME, 4), float("nan"))


def no_points() -> torch.Tensor:
    """The ``points`` of a pair without landmarks: (2, 468, 2) NaN."""
    return torch.full((2, MESH_POINTS, 2), float("nan"))


class ClipExpression(NamedTuple):
    """Per-frame landmark signals of one clip: ``boxes`` (N, 3, 4) in [0, 1] (NaN where FaceMesh missed),
    ``mouth`` (N,) and ``eyes`` (N,) openings (NaN where missed), ``points`` (N, 468, 2) x, y in [0, 1] (float16)."""

    boxes: np.ndarray
    mouth: np.ndarray
    eyes: np.ndarray
    points: np.ndarray
    closed: np.ndarray  # (N,) bool: eyes closed (faces.landmarks.closed_eyes)


class CrossDomainTuple(NamedTuple):
    motion_source: torch.Tensor  # (3, H, W): frame of a motion-domain clip
    motion_driving: torch.Tensor  # (3, H, W): another frame of the same clip
    other: torch.Tensor  # (3, H, W): a frame of a clip of the other domain
    motion_domain: str
    other_domain: str


def to_tensor(rgb: np.ndarray, uint8: bool = False) -> torch.Tensor:
    """(H, W, 3) uint8 -> (3, H, W) float32 in [-1, 1] (``uint8=True``: (3, H, W) uint8, see :func:`to_unit`)."""
    chw = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)
    return chw.contiguous() if uint8 else to_unit(chw)


def to_unit(frames: torch.Tensor) -> torch.Tensor:
    """uint8 frames (any shape) -> float32 in [-1, 1], the same values wherever it runs (x / 127.5 - 1)."""
    return frames.float().div_(127.5).sub_(1.0)


class _ClipFrames:
    """Clips of one manifest selection and random access to their frames (one reader cache per process)."""

    def __init__(self, frame: pd.DataFrame, root: Path, size: int | None, min_frames: int) -> None:
        frame = frame[frame["frames"] >= min_frames].reset_index(drop=True)
        self.frame = frame
        # the columns a sample reads, as plain lists: a pandas row lookup costs ~0.1 ms, several per sample
        self.ids: list[str] = [str(v) for v in frame["id"]]
        self.paths: list[str] = [str(v) for v in frame["path"]]
        self.formats: list[str] = [str(v) for v in frame["format"]]
        self.domains: list[str] = [str(v) for v in frame["domain"]]
        self.frames: list[int] = [int(v) for v in frame["frames"]]
        self.sizes: list[float] = [float(v) for v in frame["size"]]
        self.root = root
        self.size = size
        self._cache: ClipCache | None = None
        self._expressions: OrderedDict[int, ClipExpression | None] = OrderedDict()

    def __len__(self) -> int:
        return len(self.frame)

    def expression(self, clip: int) -> ClipExpression | None:
        """The clip's landmark signals, or None when the dataset has no landmarks for it. The last
        ``EXPRESSION_CACHE_CLIPS`` clips' signals stay in memory (the points of a 250-frame clip take ~0.5 MB)."""
        if clip in self._expressions:
            self._expressions.move_to_end(clip)
            return self._expressions[clip]
        marks = read_clip_landmarks(self.root, self.ids[clip])
        signals = None
        if marks is not None and len(marks) == self.frames[clip]:
            side = self.sizes[clip]  # landmarks are in pixels of the stored (size x size) frames
            eyes = eye_openings(marks.points).mean(axis=-1)
            signals = ClipExpression(
                boxes=region_boxes(marks.points) / side,
                mouth=mouth_opening(marks.points),
                eyes=eyes,
                closed=closed_eyes(np.where(marks.detected, eyes, np.nan)),
                points=np.where(marks.detected[:, None, None], marks.points[..., :2] / side, np.nan).astype(np.float16),
            )
        self._expressions[clip] = signals
        if len(self._expressions) > EXPRESSION_CACHE_CLIPS:
            self._expressions.popitem(last=False)
        return signals

    def landmark_coverage(self) -> float:
        """Fraction of the clips that have landmarks (reads every clip's file once)."""
        return float(np.mean([self.expression(c) is not None for c in range(len(self))])) if len(self) else 0.0

    def read(self, clip: int, index: int) -> np.ndarray:
        if self._cache is None:  # created lazily, so each DataLoader worker has its own
            self._cache = ClipCache(8)
        image = self._cache.get(clip_path(self.root, self.paths[clip]), self.formats[clip]).read(index)
        if self.size is not None and image.shape[:2] != (self.size, self.size):
            image = cv2.resize(image, (self.size, self.size), interpolation=cv2.INTER_AREA)
        return image


def _select(
    dataset: str | Path | pd.DataFrame, root: Path | None, split: str | None, domain: str | None
) -> tuple[pd.DataFrame, Path]:
    if isinstance(dataset, pd.DataFrame):
        if root is None:
            raise UsageError("a manifest DataFrame needs root= (the folder its clip paths are relative to)")
        frame = dataset
    else:
        frame, root = read_manifest(dataset), dataset_root(dataset)
    if domain is not None:
        frame = frame[frame["domain"] == check_domain(domain)]
    if split is not None:
        frame = frame[frame["split"] == split]
    return frame.reset_index(drop=True), root


def _flip_regions(boxes: torch.Tensor) -> torch.Tensor:
    """(3, 4) boxes of a horizontally flipped frame: x mirrored, the two eyes swapped."""
    x0, y0, x1, y1 = boxes.unbind(-1)
    flipped = torch.stack([1.0 - x1, y0, 1.0 - x0, y1], dim=-1)
    return flipped[[0, 2, 1]]


def _flip_points(points: torch.Tensor) -> torch.Tensor:
    """(..., 2) points x, y in [0, 1] of a horizontally flipped frame: x mirrored (each point keeps its index,
    the same in both frames of a pair, so correspondences hold)."""
    return torch.stack([1.0 - points[..., 0], points[..., 1]], dim=-1)


def _augment(images: list[np.ndarray], rng: np.random.Generator, flip: bool | None = None) -> list[np.ndarray]:
    """The same flip and colour change for every image in ``images`` (``flip`` drawn from ``rng`` unless given).

    Saturation ``s`` (x -> gray + s (x - gray), gray the channel mean), then contrast ``c`` and brightness
    ``b`` about the image mean m (x -> (x - m) c + m b): one affine colour map c S x + m (b - c), with
    S = s I + (1 - s) / 3 (saturation keeps m), applied by ``cv2.transform`` in one pass on uint8 (rounded
    and clipped to [0, 255]; ~16x less CPU than the same maths in float32 numpy).
    """
    flip = _augment_flips(rng) if flip is None else flip
    brightness, contrast, saturation = rng.uniform(0.9, 1.1, size=3)
    colour = contrast * (saturation * np.eye(3) + (1.0 - saturation) / 3.0)
    out = []
    for image in images:
        x = np.ascontiguousarray(image[:, ::-1] if flip else image)
        offset = float(np.mean(cv2.mean(x)[:3])) * (brightness - contrast)
        out.append(cv2.transform(x, np.concatenate([colour, np.full((3, 1), offset)], axis=1)))
    return out


def _augment_flips(rng: np.random.Generator) -> bool:
    return bool(rng.random() < 0.5)


class _SeededDataset(Dataset):
    def __init__(self, seed: int, length: int) -> None:
        self.seed = seed
        self.epoch = 0
        self.length = length

    def set_epoch(self, epoch: int) -> None:
        """Sample other pairs in the next epoch (deterministically from seed and epoch)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def _rng(self, index: int) -> np.random.Generator:
        if not 0 <= index < self.length:
            raise IndexError(index)
        return np.random.default_rng([self.seed, self.epoch, index])


def _two_indices(clips: _ClipFrames, clip: int, rng: np.random.Generator) -> tuple[int, int]:
    n = clips.frames[clip]
    i, j = rng.choice(n, size=2, replace=False) if n >= 2 else (0, 0)
    return int(i), int(j)


def _two_frames(clips: _ClipFrames, clip: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    i, j = _two_indices(clips, clip, rng)
    return clips.read(clip, i), clips.read(clip, j)


def expressive_driving_index(signals: ClipExpression, source: int, candidates: np.ndarray) -> int:
    """Among ``candidates`` (frame indices), the frame whose mouth and eye openings differ most from frame
    ``source``'s (each signal divided by its spread over the clip); frames FaceMesh missed score 0."""

    def spread(x: np.ndarray) -> float:
        s = float(np.nanstd(x)) if np.isfinite(x).any() else 0.0
        return s if s > 1e-6 else 1.0

    score = np.abs(signals.mouth[candidates] - signals.mouth[source]) / spread(signals.mouth) + np.abs(
        signals.eyes[candidates] - signals.eyes[source]
    ) / spread(signals.eyes)
    score = np.nan_to_num(score, nan=0.0)
    return int(candidates[int(np.argmax(score))])


class FramePairDataset(_SeededDataset):
    """Two distinct frames of one clip. Item ``i`` uses clip ``i mod clips`` (each clip once an epoch when
    ``length`` is None, the default).

    Args: ``dataset`` a dataset folder, manifest file, or manifest DataFrame (then ``root``); ``split`` and
    ``domain`` filter rows (None keeps all); ``size`` resizes frames (None keeps the stored size).

    ``expression_pairs`` (0..1, ours): for that fraction of items the driving frame is the one of
    ``expression_candidates`` random frames whose mouth/eye opening differs most from the source frame's
    (needs landmarks; clips without them keep uniform pairs). ``blink_pairs`` (0..1, ours): for that fraction
    of the items of clips with closed-eye frames (:func:`~toontalker.faces.landmarks.closed_eyes`), one frame
    has its eyes closed and the other open (which one is the driver: random), before ``expression_pairs``. ``driving_regions`` is filled from the
    landmarks when the dataset has them (NaN otherwise). ``uint8=True``: ``source`` and ``driving`` stay
    (3, H, W) uint8, 4x fewer bytes from loader workers; :func:`to_unit` converts them where they are used
    (the trainer does so on its device).
    """

    def __init__(
        self,
        dataset: str | Path | pd.DataFrame,
        split: str | None = "train",
        domain: str | None = None,
        size: int | None = None,
        seed: int = 0,
        augment: bool = False,
        length: int | None = None,
        root: Path | None = None,
        expression_pairs: float = 0.0,
        expression_candidates: int = 8,
        uint8: bool = False,
        blink_pairs: float = 0.0,
    ) -> None:
        frame, root = _select(dataset, root, split, domain)
        self.clips = _ClipFrames(frame, root, size, min_frames=2)
        if len(self.clips) == 0:
            raise InputError(
                f"{dataset if not isinstance(dataset, pd.DataFrame) else 'manifest'}: no clip with "
                f"2+ frames for split={split!r}, domain={domain!r}"
            )
        if not 0.0 <= blink_pairs <= 1.0:
            raise UsageError(f"blink_pairs must be in [0, 1], got {blink_pairs}")
        if not 0.0 <= expression_pairs <= 1.0 or expression_candidates < 2:
            raise UsageError(
                f"expression_pairs must be in [0, 1] and expression_candidates >= 2, got "
                f"{expression_pairs} and {expression_candidates}"
            )
        super().__init__(seed, length if length is not None else len(self.clips))
        self.augment = augment
        self.expression_pairs = expression_pairs
        self.expression_candidates = expression_candidates
        self.uint8 = uint8
        self.blink_pairs = blink_pairs

    def _indices(self, clip: int, rng: np.random.Generator) -> tuple[int, int]:
        i, j = _two_indices(self.clips, clip, rng)
        if self.blink_pairs > 0 and rng.random() < self.blink_pairs:
            signals = self.clips.expression(clip)
            if signals is not None and 0 < signals.closed.sum() < len(signals.closed):
                closed = int(rng.choice(np.flatnonzero(signals.closed)))
                opened = int(rng.choice(np.flatnonzero(~signals.closed)))
                return (opened, closed) if rng.random() < 0.5 else (closed, opened)
        if self.expression_pairs > 0 and rng.random() < self.expression_pairs:
            signals = self.clips.expression(clip)
            n = self.clips.frames[clip]
            if signals is not None and n > 2:
                candidates = rng.choice(
                    np.delete(np.arange(n), i), size=min(self.expression_candidates, n - 1), replace=False
                )
                j = expressive_driving_index(signals, i, candidates)
        return i, j

    def __getitem__(self, index: int) -> FramePair:
        rng = self._rng(index)
        clip = index % len(self.clips)
        i, j = self._indices(clip, rng)
        images = [self.clips.read(clip, i), self.clips.read(clip, j)]
        signals = self.clips.expression(clip)
        regions = no_regions() if signals is None else torch.from_numpy(signals.boxes[j].astype(np.float32))
        points = no_points() if signals is None else torch.from_numpy(signals.points[[i, j]].astype(np.float32))
        if self.augment:
            flip = _augment_flips(rng)
            if flip:
                regions, points = _flip_regions(regions), _flip_points(points)
            images = _augment(images, rng, flip)
        domain, clip_id = self.clips.domains[clip], self.clips.ids[clip]
        source, driving = (to_tensor(image, self.uint8) for image in images)
        return FramePair(source, driving, domain, clip_id, regions, points)


class CrossDomainTupleDataset(_SeededDataset):
    """Two frames of one ``motion_domain`` clip and one frame of a random clip of the other domain.

    Item ``i`` uses motion clip ``i mod clips``; the other-domain clip and all frames are drawn from
    ``(seed, epoch, i)``. ``length`` defaults to the number of motion-domain clips.
    """

    def __init__(
        self,
        dataset: str | Path | pd.DataFrame,
        motion_domain: str = "real",
        split: str | None = "train",
        size: int | None = None,
        seed: int = 0,
        augment: bool = False,
        length: int | None = None,
        root: Path | None = None,
    ) -> None:
        self.motion_domain = check_domain(motion_domain, "motion_domain")
        self.other_domain = other_domain(self.motion_domain)
        frame, root = _select(dataset, root, split, None)
        self.motion = _ClipFrames(frame[frame["domain"] == motion_domain], root, size, min_frames=2)
        self.other = _ClipFrames(frame[frame["domain"] == self.other_domain], root, size, min_frames=1)
        if len(self.motion) == 0 or len(self.other) == 0:
            raise InputError(
                f"cross-domain tuples need clips of both domains in split={split!r}: "
                f"{len(self.motion)} {motion_domain}, {len(self.other)} {self.other_domain}"
            )
        super().__init__(seed, length if length is not None else len(self.motion))
        self.augment = augment

    def __getitem__(self, index: int) -> CrossDomainTuple:
        rng = self._rng(index)
        clip = index % len(self.motion)
        src, drv = _two_frames(self.motion, clip, rng)
        other_clip = int(rng.integers(len(self.other)))
        other = self.other.read(other_clip, int(rng.integers(self.other.frames[other_clip])))
        if self.augment:
            src, drv = _augment([src, drv], rng)
            (other,) = _augment([other], rng)
        return CrossDomainTuple(to_tensor(src), to_tensor(drv), to_tensor(other), self.motion_domain, self.other_domain)
