"""The numbers of `bench motion`: landmark signal series of a clip and how well an output's follow a driver's.

Signals (one column each, computed by :mod:`toontalker.faces.landmarks`, the one home of landmark signals):

==========  ===========================================================  ===============
signal      what                                                         unit
==========  ===========================================================  ===============
mouth       inner-lip gap / face height                                  ratio
eye_right   eye aspect ratio of the image-left eye (subject's right)     ratio
eye_left    eye aspect ratio of the image-right eye (subject's left)     ratio
yaw         head yaw (landmark proxy, uncalibrated)                      degrees
pitch       head pitch (landmark proxy, constant offset)                 degrees
roll        head roll (eye/mouth line tilt)                              degrees
x, y        mesh centroid offset from the image centre / face height     face heights
==========  ===========================================================  ===============

Relative motion (paper Eq. 5) transfers the driver's motion *relative to its start frame*, so the output
should follow ``driver - driver[start]`` added to the source's own pose, not the driver's absolute values.
Pearson r and the amplitude ratio (std output / std driver) do not change when a constant is added to a
series, so both compare the output with exactly that relative driver series; the plots draw it as
``output[start] + driver - driver[start]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from toontalker.faces.landmarks import (
    MESH_POINTS,
    FaceMesh,
    FrameLandmarks,
    blink_onsets,
    closed_eyes,
    eye_openings,
    face_centre,
    head_pose,
    mouth_opening,
)

SIGNALS = ("mouth", "eye_right", "eye_left", "yaw", "pitch", "roll", "x", "y")
SIGNAL_UNITS = {
    "mouth": "ratio",
    "eye_right": "ratio",
    "eye_left": "ratio",
    "yaw": "deg",
    "pitch": "deg",
    "roll": "deg",
    "x": "face heights",
    "y": "face heights",
}
MIN_FRAMES = 3  # fewer frames with a face on both sides: no r, no amplitude
CONSTANT_STD = 1e-9  # a series whose std is at most this is constant (r undefined)


def detect_clip(mesh: FaceMesh, frames: np.ndarray) -> FrameLandmarks:
    """FaceMesh on ``frames`` (N, H, W, 3) uint8, in order. A frame identical to the previous one gets the
    previous frame's landmarks: in tracking mode FaceMesh jitters by a pixel or two on repeated frames,
    which would make a still output (copy-source) look as if it moved."""
    rows: list[np.ndarray] = []
    found: list[bool] = []
    previous: np.ndarray | None = None
    for frame in frames:
        if previous is not None and np.array_equal(frame, previous):
            rows.append(rows[-1])
            found.append(found[-1])
            continue
        points = mesh.detect(frame)
        found.append(points is not None)
        rows.append(points if points is not None else np.full((MESH_POINTS, 3), np.nan, np.float32))
        previous = frame
    points = np.stack(rows) if rows else np.zeros((0, MESH_POINTS, 3), np.float32)
    return FrameLandmarks(points=points, detected=np.array(found, dtype=bool))


def signal_table(landmarks: FrameLandmarks, image_size: tuple[int, int]) -> np.ndarray:
    """Landmarks of N frames -> ``(N, len(SIGNALS))`` float64 series, NaN rows where no face was found."""
    points = landmarks.points.astype(np.float64)
    columns = [
        mouth_opening(points)[..., None],
        eye_openings(points),
        head_pose(points),
        face_centre(points, image_size),
    ]
    return np.concatenate(columns, axis=-1).astype(np.float64)


@dataclass(frozen=True)
class SignalComparison:
    """How one output series follows one driver series over the frames with a face on both sides.

    ``r`` (Pearson) and ``amplitude`` (std output / std driver) are NaN when undefined; ``note`` says why
    (too few frames, a constant series). ``frames`` is how many frames were used."""

    signal: str
    r: float
    amplitude: float
    frames: int
    driver_std: float
    output_std: float
    note: str | None = None


def compare_series(signal: str, driver: np.ndarray, output: np.ndarray) -> SignalComparison:
    """Compare two (N,) series (NaN = no face in that frame); only frames finite on both sides count."""
    both = np.isfinite(driver) & np.isfinite(output)
    n = int(both.sum())
    if n < MIN_FRAMES:
        return SignalComparison(
            signal,
            float("nan"),
            float("nan"),
            n,
            float("nan"),
            float("nan"),
            f"only {n} frame(s) with a face on both sides (need {MIN_FRAMES})",
        )
    d, o = driver[both], output[both]
    d_std, o_std = float(d.std()), float(o.std())
    if d_std <= CONSTANT_STD:
        return SignalComparison(signal, float("nan"), float("nan"), n, d_std, o_std, "driver constant")
    if o_std <= CONSTANT_STD:  # a still output: amplitude 0 (float noise of a repeated value ignored)
        return SignalComparison(signal, float("nan"), 0.0, n, d_std, o_std, "output constant")
    amplitude = o_std / d_std
    r = float(np.corrcoef(d, o)[0, 1])
    return SignalComparison(signal, r, amplitude, n, d_std, o_std)


def compare_signals(driver: np.ndarray, output: np.ndarray) -> tuple[SignalComparison, ...]:
    """``(N, S)`` driver and output signal tables -> one comparison per signal of :data:`SIGNALS`."""
    return tuple(compare_series(name, driver[:, i], output[:, i]) for i, name in enumerate(SIGNALS))


def relative_driver(driver: np.ndarray, output: np.ndarray) -> np.ndarray:
    """The driver's motion as Eq. 5 transfers it: ``output[start] + driver - driver[start]`` per column,
    ``start`` = the first frame with a face on both sides (NaN columns where there is none)."""
    both = np.isfinite(driver).all(axis=1) & np.isfinite(output).all(axis=1)
    if not both.any():
        return np.full_like(driver, np.nan)
    start = int(np.argmax(both))
    return output[start] + driver - driver[start]


def mesh_box(points: np.ndarray, image_size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """The (468, 2|3) points' bounding box, clipped to the image, as ints; None when NaN or empty."""
    if not np.isfinite(points[:, :2]).all():
        return None
    W, H = image_size
    x0, y0 = np.floor(points[:, :2].min(axis=0)).astype(int)
    x1, y1 = np.ceil(points[:, :2].max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, W), min(y1, H)
    return (x0, y0, x1, y1) if x1 - x0 >= 4 and y1 - y0 >= 4 else None


def laplacian_variance(rgb: np.ndarray, box: tuple[int, int, int, int] | None) -> float:
    """Variance of the Laplacian of the grey image inside ``box`` (whole image when None): sharpness."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float64)
    if box is not None:
        x0, y0, x1, y1 = box
        grey = grey[y0:y1, x0:x1]
    return float(cv2.Laplacian(grey, cv2.CV_64F, ksize=3).var())


def sharpness_ratio(
    output: np.ndarray, output_marks: FrameLandmarks, source: np.ndarray, source_marks: FrameLandmarks
) -> float:
    """Median over output frames of var(Laplacian) in the output's face box / the same in the source's.

    ``output`` (N, H, W, 3), ``source`` (1, H, W, 3) uint8. The face box is the mesh's bounding box; an
    output frame without a face uses the source's box (the whole image if the source has none either)."""
    H, W = source.shape[1:3]
    src_box = mesh_box(source_marks.points[0], (W, H)) if source_marks.detected[0] else None
    reference = laplacian_variance(source[0], src_box)
    if reference <= 0:
        return float("nan")
    ratios = []
    for frame, points, found in zip(output, output_marks.points, output_marks.detected):
        box = mesh_box(points, (W, H)) if found else None
        ratios.append(laplacian_variance(frame, box or src_box) / reference)
    return float(np.median(ratios)) if ratios else float("nan")


def akd_mesh(output_marks: FrameLandmarks, truth_marks: FrameLandmarks) -> tuple[float, int]:
    """Offline AKD: mean 2D distance (pixels) between the 468 mesh points of the output and the
    ground-truth frame, averaged over frames with a face in both; returns (value, frames used)."""
    n = min(len(output_marks), len(truth_marks))
    both = output_marks.detected[:n] & truth_marks.detected[:n]
    if not both.any():
        return float("nan"), 0
    diff = output_marks.points[:n][both, :, :2] - truth_marks.points[:n][both, :, :2]
    return float(np.linalg.norm(diff, axis=-1).mean()), int(both.sum())


def extreme_frames(driver: np.ndarray) -> dict[str, int]:
    """Frame indices where the driver is at its extremes: mouth max, eyes min (mean of both), yaw min/max.
    Signals without any finite value are left out."""
    picks: dict[str, int] = {}
    columns = {name: driver[:, i] for i, name in enumerate(SIGNALS)}
    eyes = (columns["eye_right"] + columns["eye_left"]) / 2  # both come from one mesh: NaN together
    for label, series, pick in (
        ("mouth max", columns["mouth"], np.nanargmax),
        ("eyes min", eyes, np.nanargmin),
        ("yaw min", columns["yaw"], np.nanargmin),
        ("yaw max", columns["yaw"], np.nanargmax),
    ):
        if np.isfinite(series).any():
            picks[label] = int(pick(series))
    return picks


def driver_blinks(driver: np.ndarray) -> int:
    """Blinks in a driver's ``(N, S)`` signal table: runs of closed-eye frames
    (:func:`~toontalker.faces.landmarks.closed_eyes`). Most talking-head clips hold few or none, and the eye
    r of a driver that never blinks is the correlation of landmark jitter: the eye scores over drivers that
    blink are the ones that say whether eyes follow."""
    eyes = (driver[:, SIGNALS.index("eye_right")] + driver[:, SIGNALS.index("eye_left")]) / 2
    if np.isfinite(eyes).sum() < MIN_FRAMES:
        return 0
    return len(blink_onsets(closed_eyes(eyes)))


def nan_mean(values: Sequence[float]) -> tuple[float, int]:
    """Mean of the finite values and how many there were (NaN, 0 when none)."""
    finite = [v for v in values if np.isfinite(v)]
    return (float(np.mean(finite)), len(finite)) if finite else (float("nan"), 0)
