"""Landmark-free face tracking over video frames: the one home of how a face is followed and smoothed.

Both trackers continue a face with :meth:`TrackConfig.match` (the detection overlapping the last good box
by ``min_iou``, or, with ``nested_centres``, one whose centre lies inside it and vice versa) and give up on
it after ``patience`` misses in a row; each caller keeps its own values (:data:`DATASET_TRACKING`,
:data:`ANIMATE_TRACKING`):

* ``dataset build``, offline: :func:`track_boxes` links per-frame detections into tracks (one clip per
  track). A track ends when no detection matches for more than ``patience`` examined frames; lost frames
  inside a track hold the last good box, frames that were not examined (``None``, a detection stride) are
  interpolated. :func:`smooth_boxes` removes detector jitter (centred moving average of the corners) and
  :func:`stable_box` gives the clip one crop box.
* ``animate``, streaming (:mod:`toontalker.animation.driving`): :class:`FaceTrackState` holds the last
  good box while the face is lost (the run never stops) and switches to a face elsewhere only after more
  than ``patience`` detections in a row disagree (a cut to another shot, not a passer-by);
  :class:`BoxSmoother` averages box centre and side over a centred window with bounded look-ahead.
* live animate (:mod:`toontalker.animation.live`): the same :class:`FaceTrackState`, and
  :class:`CausalBoxSmoother` (an exponential moving average of centre and side: no look-ahead, no latency).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from toontalker.errors import ConfigError
from toontalker.faces.boxes import Box


@dataclass(frozen=True)
class TrackConfig:
    """How a face is followed from one detection to the next."""

    min_iou: float  # a detection continues the track when it overlaps the last good box by this much
    nested_centres: bool  # ... or when each box's centre lies inside the other (tight / loose cartoon boxes)
    patience: int  # misses in a row a track survives; one more ends it (dataset) or re-acquires (animate)

    def __post_init__(self) -> None:
        if not (0.0 < self.min_iou < 1.0) or self.patience < 0:
            raise ConfigError(f"TrackConfig: min_iou must be in (0, 1) and patience >= 0, got {self}")

    def affinity(self, candidate: Box, last: Box) -> float:
        """How well ``candidate`` continues ``last``: IoU, + 1 for nested centres when those count."""
        return candidate.iou(last) + (1.0 if self.nested_centres and _centres_inside(candidate, last) else 0.0)

    def match(self, faces: Sequence[Box], last: Box) -> Box | None:
        """The detection of ``faces`` that continues the track of ``last``, or None."""
        best = max(faces, key=lambda b: self.affinity(b, last), default=None)
        if best is None:
            return None
        if best.iou(last) >= self.min_iou or (self.nested_centres and _centres_inside(best, last)):
            return best
        return None


# dataset build: detectors on cartoons alternate tight and loose boxes of one face (low IoU, nested centres)
DATASET_TRACKING = TrackConfig(min_iou=0.3, nested_centres=True, patience=5)
# animate: any overlap keeps the face; the 5th disagreeing detection in a row re-acquires
ANIMATE_TRACKING = TrackConfig(min_iou=0.1, nested_centres=False, patience=4)


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


def _box(corners: np.ndarray, score: float) -> Box:
    """(4,) x0, y0, x1, y1 -> a Box of Python floats."""
    x0, y0, x1, y1 = map(float, corners)
    return Box(x0, y0, x1, y1, score=score)


def _to_boxes(coords: np.ndarray, scores: Sequence[float]) -> tuple[Box, ...]:
    return tuple(_box(c, s) for c, s in zip(coords, scores))


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
            out.append(_box(c, 0.0))
    return out


def _centres_inside(a: Box, b: Box) -> bool:
    return a.contains_point(*b.center) and b.contains_point(*a.center)


def track_boxes(
    detections: Sequence[Sequence[Box] | None],
    config: TrackConfig = DATASET_TRACKING,
    start_frame: int = 0,
) -> list[FaceTrack]:
    """Tracks of one face each through ``detections`` (per frame: boxes best first, or None if not examined).

    A track starts at a frame with a detection (the best one), continues with the detection that
    ``config.match``es its last good box, and ends after more than ``config.patience`` examined frames in a
    row without one; trailing lost frames are cut off. Frame numbers are offset by ``start_frame``.
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
            tracks.append(
                FaceTrack(
                    start=start_frame + track_start,
                    end=start_frame + track_start + len(boxes),
                    boxes=tuple(boxes),
                    detected=detected,
                )
            )
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
        best = config.match(found, last_good)
        if best is not None:
            current.append(best)
            examined.append(True)
            last_good, lost = best, 0
            continue
        current.append(None)
        examined.append(True)
        lost += 1
        if lost > config.patience:
            close()
            if found:  # the face jumped: a new track starts here
                track_start, current, examined = index, [found[0]], [True]
                last_good = found[0]
    if last_good is not None:
        close()
    return tracks


@dataclass
class FaceTrackState:
    """The streaming box follower: association, hold-on-loss and re-acquisition (no smoothing: BoxSmoother).

    ``update`` takes one detection result: a match (``config.match``) moves the box; no face holds it (lost);
    a face elsewhere holds it too, until more than ``config.patience`` such disagreements in a row re-acquire.
    """

    box: Box | None = None
    config: TrackConfig = ANIMATE_TRACKING
    disagreements: int = 0

    def update(self, faces: Sequence[Box]) -> tuple[Box | None, bool]:
        """Feed one detection result (best first); returns (box to use, lost?)."""
        if not faces:
            return self.box, True
        if self.box is None:
            self.box = faces[0]
            return self.box, False
        match = self.config.match(faces, self.box)
        if match is not None:
            self.box, self.disagreements = match, 0
            return self.box, False
        self.disagreements += 1
        if self.disagreements > self.config.patience:
            self.box, self.disagreements = faces[0], 0
            return self.box, False
        return self.box, True


def _centre_side(box: Box) -> np.ndarray:
    """``(cx, cy, longer side)`` of a box: what the smoothers average."""
    cx, cy = box.center
    return np.array([cx, cy, max(box.width, box.height)], dtype=np.float64)


def _square(centre_side: np.ndarray) -> Box:
    """The square box of a ``(cx, cy, side)`` vector."""
    cx, cy, side = centre_side
    return Box(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


class BoxSmoother:
    """Centred moving average of box centre and side over ``2 * lookahead + 1`` frames, streaming."""

    def __init__(self, lookahead: int) -> None:
        self.lookahead = lookahead
        self._history: deque[np.ndarray] = deque(maxlen=2 * lookahead + 1)
        self._emitted = 0
        self._pushed = 0

    def push(self, box: Box) -> list[Box]:
        """Add the next frame's box; returns the smoothed boxes now final (at most one)."""
        self._history.append(_centre_side(box))
        self._pushed += 1
        if self._pushed <= self.lookahead:
            return []
        return [self._emit()]

    def flush(self) -> list[Box]:
        """The remaining smoothed boxes at the end of the video."""
        out = []
        while self._emitted < self._pushed:
            self._history.append(self._history[-1])  # repeat the last box past the end
            out.append(self._emit())
        return out

    def _emit(self) -> Box:
        # the window is centred on frame `_emitted`: frames before it that are still held, and lookahead after
        held_before = min(self._emitted, self.lookahead)
        window = list(self._history)[-(held_before + self.lookahead + 1) :]
        self._emitted += 1
        return _square(np.mean(window, axis=0))


class CausalBoxSmoother:
    """Exponential moving average of box centre and side, ``weight`` on the newest box (1: no smoothing)."""

    def __init__(self, weight: float) -> None:
        if not 0.0 < weight <= 1.0:
            raise ConfigError(f"smoothing weight must be in (0, 1], got {weight}")
        self.weight = weight
        self._state: np.ndarray | None = None

    def push(self, box: Box) -> Box:
        """Add the newest box; returns the smoothed box."""
        vec = _centre_side(box)
        self._state = vec if self._state is None else self.weight * vec + (1.0 - self.weight) * self._state
        return _square(self._state)


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
