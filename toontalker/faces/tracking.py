"""Landmark-free face tracking over video frames: link per-frame detections into tracks, smooth them.

:func:`track_boxes` follows one face through a run of frames by box overlap (IoU). A track ends when the
face is lost for more than ``max_lost`` examined frames or jumps (no detection overlaps the last good box by
``iou_threshold``) for that long; lost frames inside a track hold the last good box, frames that were not
examined (``None``, e.g. with a detection stride) are interpolated. :func:`smooth_boxes` then removes
detector jitter with a centred moving average. Used by ``dataset build`` (one clip per track) and by
``animate`` for the driving crop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from toontalker.faces.boxes import Box


@dataclass(frozen=True)
class FaceTrack:
    """One face followed over frames ``[start, end)``; ``boxes[i]`` is the box in frame ``start + i``."""

    start: int
    end: int
    boxes: tuple[Box, ...]
    detected: int  # frames in which the detector actually found this face

    @property
    def length(self) -> int:
        return self.end - self.start

    def median_face_side(self) -> float:
        return float(np.median([max(b.width, b.height) for b in self.boxes]))


def _coords(boxes: Sequence[Box]) -> np.ndarray:
    return np.asarray([b.as_tuple() for b in boxes], dtype=np.float64)


def _to_boxes(coords: np.ndarray, scores: Sequence[float]) -> tuple[Box, ...]:
    return tuple(Box(*map(float, c), score=s) for c, s in zip(coords, scores))


def _fill(frames: list[Box | None], examined: list[bool]) -> list[Box]:
    """Interpolate unexamined frames between known boxes; hold known boxes over the ends and lost frames."""
    known = [i for i, b in enumerate(frames) if b is not None]
    coords = _coords([frames[i] for i in known])  # type: ignore[misc]
    out: list[Box] = []
    for i, box in enumerate(frames):
        if box is not None:
            out.append(box)
            continue
        j = int(np.searchsorted(known, i))
        if examined[i] or j == 0 or j == len(known):  # lost (hold last good), or before/after all known
            src = known[max(j - 1, 0)]
            out.append(frames[src])  # type: ignore[arg-type]
        else:
            a, b = known[j - 1], known[j]
            t = (i - a) / (b - a)
            c = (1 - t) * coords[j - 1] + t * coords[j]
            out.append(Box(*map(float, c), score=0.0))
    return out


def _affinity(a: Box, b: Box) -> float:
    return a.iou(b) + (1.0 if _centres_inside(a, b) else 0.0)


def _centres_inside(a: Box, b: Box) -> bool:
    return a.contains_point(*b.center) and b.contains_point(*a.center)


def _same_face(candidate: Box, last: Box, iou_threshold: float) -> bool:
    """Overlap enough, or one box re-framing the other (detectors on cartoons alternate tight and loose
    boxes of one face: low IoU, but each box's centre lies inside the other)."""
    return candidate.iou(last) >= iou_threshold or _centres_inside(candidate, last)


def track_boxes(
    detections: Sequence[Sequence[Box] | None],
    iou_threshold: float = 0.3,
    max_lost: int = 5,
    start_frame: int = 0,
) -> list[FaceTrack]:
    """Tracks of one face each through ``detections`` (per frame: boxes best first, or None if not examined).

    A track starts at a frame with a detection (the best one), continues with the detection matching its
    last good box (IoU >= ``iou_threshold``, or each box's centre inside the other), and ends after
    ``max_lost`` examined frames in a row without such a detection; trailing lost frames are cut off. Frame numbers are offset by ``start_frame``.
    """
    tracks: list[FaceTrack] = []
    current: list[Box | None] = []
    examined: list[bool] = []
    track_start = 0
    last_good: Box | None = None
    lost = 0

    def close() -> None:
        nonlocal current, examined, last_good, lost
        while current and current[-1] is None:  # cut trailing lost / unexamined frames
            current.pop()
            examined.pop()
        if current:
            boxes = _fill(current, examined)
            detected = sum(1 for b in current if b is not None)
            tracks.append(FaceTrack(start_frame + track_start, start_frame + track_start + len(boxes),
                                    tuple(boxes), detected))
        current, examined, last_good, lost = [], [], None, 0

    for index, found in enumerate(detections):
        if last_good is None:
            if found:
                track_start, current, examined = index, [found[0]], [True]
                last_good = found[0]
            continue
        if found is None:
            current.append(None)
            examined.append(False)
            continue
        best = max(found, key=lambda b: _affinity(b, last_good), default=None)
        if best is not None and _same_face(best, last_good, iou_threshold):
            current.append(best)
            examined.append(True)
            last_good, lost = best, 0
            continue
        current.append(None)
        examined.append(True)
        lost += 1
        if lost > max_lost:
            close()
            if found:  # the face jumped: a new track starts here
                track_start, current, examined = index, [found[0]], [True]
                last_good = found[0]
    if last_good is not None:
        close()
    return tracks


def smooth_boxes(boxes: Sequence[Box], window: int = 5) -> tuple[Box, ...]:
    """Centred moving average of box corners over ``window`` frames (odd; shrinks at the ends)."""
    if window <= 1 or len(boxes) < 2:
        return tuple(boxes)
    coords = _coords(boxes)
    half = window // 2
    cumsum = np.vstack([np.zeros((1, 4)), np.cumsum(coords, axis=0)])
    n = len(boxes)
    lo = np.clip(np.arange(n) - half, 0, n)
    hi = np.clip(np.arange(n) + half + 1, 0, n)
    smoothed = (cumsum[hi] - cumsum[lo]) / (hi - lo)[:, None]
    return _to_boxes(smoothed, [b.score for b in boxes])


def stable_box(boxes: Sequence[Box], coverage: float = 0.95) -> Box:
    """One box covering the face in (nearly) every frame: per-side percentiles of the per-frame boxes.

    ``coverage`` = 1.0 is the plain union; 0.95 ignores the 5% most extreme positions (detector outliers).
    """
    coords = _coords(boxes)
    lo_q, hi_q = 100 * (1 - coverage), 100 * coverage
    x0, y0 = np.percentile(coords[:, 0], lo_q), np.percentile(coords[:, 1], lo_q)
    x1, y1 = np.percentile(coords[:, 2], hi_q), np.percentile(coords[:, 3], hi_q)
    return Box(float(x0), float(y0), float(x1), float(y1), float(np.mean([b.score for b in boxes])))
