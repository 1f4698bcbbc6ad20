"""`bench motion`: does the output open its mouth, blink and turn its head when the driver does?

For each SOURCE DRIVER pair the model reenacts the driver's first ``max_frames`` frames exactly as
``bench quality`` does (:func:`toontalker.bench.quality.reenact_clip`: source encoded once, the first
driving frame is the reference of relative motion, paper Eq. 5). MediaPipe's legacy FaceMesh then finds
468 landmarks on every driver and output frame (and the source), and :mod:`toontalker.bench.motion_signals`
turns them into series (mouth, eyes, head yaw/pitch/roll, face position) and compares them: Pearson r and
amplitude ratio per signal, detection rates, a sharpness ratio, and for same-identity pairs the offline
``akd-mesh`` next to L1/PSNR/SSIM. Results are aggregated per setting (direction) with NaN-aware means
that say how many pairs contributed. docs/bench.md explains every number and its failure modes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from toontalker.animation.core import Reenactor
from toontalker.bench.frames import to_tensor
from toontalker.bench.motion_inputs import (
    MotionPair,
    PairFrames,
    cache_key,
    load_prepared,
    read_pair,
    save_prepared,
)
from toontalker.bench.motion_render import ClipRenderer, choose_backend
from toontalker.bench.motion_signals import (
    SIGNALS,
    SignalComparison,
    akd_mesh,
    compare_signals,
    detect_clip,
    driver_blinks,
    nan_mean,
    sharpness_ratio,
    signal_table,
)
from toontalker.bench.options import MotionOptions  # re-exported: its home is bench/options.py
from toontalker.errors import FaceNotFoundError, UsageError
from toontalker.faces.landmarks import FaceMesh, FrameLandmarks
from toontalker.metrics.base import to_uint8

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PairMotion:
    """One pair's numbers. Detection counts are frames where FaceMesh found a face; each signal's
    comparison says how many frames (face on both sides) it used. ``note`` explains a pair left out."""

    pair_id: str
    setting: str
    source: str
    driving: str
    frames: int
    driver_detected: int
    output_detected: int
    source_detected: bool
    signals: tuple[SignalComparison, ...]
    sharpness: float
    akd_mesh: float | None = None
    akd_frames: int = 0
    l1: float | None = None
    psnr: float | None = None
    ssim: float | None = None
    note: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    driver_blinks: int = 0  # blinks in the driver (motion_signals.driver_blinks)

    def signal(self, name: str) -> SignalComparison:
        return next(s for s in self.signals if s.signal == name)

    @property
    def eye_r(self) -> float:
        """Mean r of both eyes (NaN when neither has one)."""
        values = [self.signal(e).r for e in ("eye_right", "eye_left")]
        return nan_mean(values)[0]


@dataclass(frozen=True)
class SignalSummary:
    """A signal over a setting's pairs: mean r over ``r_pairs`` pairs, mean amplitude over ``amplitude_pairs``."""

    signal: str
    r: float
    r_pairs: int
    amplitude: float
    amplitude_pairs: int


@dataclass(frozen=True)
class SettingMotion:
    """Aggregates of one setting (direction): NaN-aware means; ``pairs`` counted, ``pairs_without_face``
    left out because the driver had no face in any frame. ``blink_eye_r``: mean eye r (both eyes) over the
    ``blink_pairs`` pairs whose driver blinks (NaN, 0 when none does)."""

    setting: str
    pairs: int
    pairs_without_face: int
    frames: int
    driver_detection: float
    output_detection: float
    signals: tuple[SignalSummary, ...]
    sharpness: float
    akd_mesh: float | None = None
    l1: float | None = None
    psnr: float | None = None
    ssim: float | None = None
    blink_eye_r: float = float("nan")
    blink_pairs: int = 0

    def signal(self, name: str) -> SignalSummary:
        return next(s for s in self.signals if s.signal == name)


@dataclass(frozen=True)
class MotionReport:
    label: str
    settings: tuple[SettingMotion, ...]
    pairs: tuple[PairMotion, ...]
    files: dict[str, str]
    warnings: tuple[str, ...] = ()
    backend: str = "torch"  # how the model ran: torch or onnx (motion_render.py)

    def setting(self, name: str) -> SettingMotion:
        return next(s for s in self.settings if s.setting == name)


@dataclass(frozen=True)
class ClipAnalysis:
    """Frames, landmarks and signal tables of one reenacted pair (what the plots and the table need)."""

    source: np.ndarray  # (1, S, S, 3) uint8
    driving: np.ndarray  # (N, S, S, 3)
    output: np.ndarray  # (N, S, S, 3)
    truth: np.ndarray | None
    source_marks: FrameLandmarks
    driving_marks: FrameLandmarks
    output_marks: FrameLandmarks
    driver_signals: np.ndarray  # (N, len(SIGNALS))
    output_signals: np.ndarray


def analyse_clip(
    source: np.ndarray,
    driving: np.ndarray,
    output: np.ndarray,
    truth: np.ndarray | None = None,
    driving_marks: FrameLandmarks | None = None,
) -> ClipAnalysis:
    """Landmarks and signals of an already reenacted clip (uint8 frames, all the same size);
    ``driving_marks`` when the driver's landmarks are known already."""
    size = (driving.shape[2], driving.shape[1])
    with FaceMesh(video=False) as still:
        source_marks = detect_clip(still, source)
    if driving_marks is None:
        with FaceMesh(video=True) as mesh:  # one tracker per clip: tracking state must not cross clips
            driving_marks = detect_clip(mesh, driving)
    with FaceMesh(video=True) as mesh:
        output_marks = detect_clip(mesh, output)
    return ClipAnalysis(
        source,
        driving,
        output,
        truth,
        source_marks,
        driving_marks,
        output_marks,
        signal_table(driving_marks, size),
        signal_table(output_marks, size),
    )


def _reconstruction(output: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    from toontalker.metrics.pixel import l1_distance, psnr, ssim

    n = min(len(output), len(truth))
    means = []
    for fn in (l1_distance, psnr, ssim):  # in chunks: SSIM's float64 maps of 100 frames take gigabytes
        v = torch.cat([fn(to_tensor(output[i : i + 16]), to_tensor(truth[i : i + 16])) for i in range(0, n, 16)])
        finite = v[torch.isfinite(v)]
        # PSNR of identical frames is inf: the mean of the others, inf when every frame is identical
        means.append(float(finite.mean()) if finite.numel() else float(v.mean()))
    return means[0], means[1], means[2]


def score_clip(pair_id: str, setting: str, names: tuple[str, str], clip: ClipAnalysis) -> PairMotion:
    """The per-pair numbers of an analysed clip."""
    comparisons = compare_signals(clip.driver_signals, clip.output_signals)
    sharp = sharpness_ratio(clip.output, clip.output_marks, clip.source, clip.source_marks)
    akd = l1 = ps = ss = None
    akd_frames = 0
    if clip.truth is not None:
        with FaceMesh(video=True) as mesh:
            truth_marks = clip.driving_marks if clip.truth is clip.driving else detect_clip(mesh, clip.truth)
        akd, akd_frames = akd_mesh(clip.output_marks, truth_marks)
        l1, ps, ss = _reconstruction(clip.output, clip.truth)
    n_driver = int(clip.driving_marks.detected.sum())
    note = None if n_driver else f"FaceMesh found no face in any of the {len(clip.driving)} driver frames"
    return PairMotion(
        pair_id,
        setting,
        names[0],
        names[1],
        len(clip.driving),
        n_driver,
        int(clip.output_marks.detected.sum()),
        bool(clip.source_marks.detected[0]),
        comparisons,
        sharp,
        akd,
        akd_frames,
        l1,
        ps,
        ss,
        note,
        driver_blinks=driver_blinks(clip.driver_signals),
    )


def reenact_pair(
    model: Reenactor, pair: MotionPair, options: MotionOptions, renderer: ClipRenderer | None = None
) -> ClipAnalysis:
    """Read the pair, reenact it like ``bench quality`` (with ``renderer``, else a torch one) and analyse
    the result."""
    size = int(getattr(getattr(model, "config", None), "image_size", 256))
    frames, driving_marks = prepare_pair(pair, size, options)
    if renderer is None:
        renderer = ClipRenderer(
            model, "torch", batch_size=options.batch_size, motion=options.motion, motion_gain=options.motion_gain
        )
    generated = renderer(
        to_tensor(frames.source, options.device),
        pair.source_domain,
        to_tensor(frames.driving, options.device),
        pair.driving_domain,
    )
    return analyse_clip(frames.source, frames.driving, to_uint8(generated), frames.truth, driving_marks)


def prepare_pair(pair: MotionPair, size: int, options: MotionOptions) -> tuple[PairFrames, FrameLandmarks]:
    """The pair's model input and the driver's landmarks, from ``options.cache_dir`` when there."""
    path = None
    if options.cache_dir is not None:
        key = cache_key(pair, size, options.max_frames, options.crop_scale)
        path = Path(options.cache_dir) / f"{key}.npz"
        if path.is_file():
            frames, points, detected = load_prepared(path)
            return frames, FrameLandmarks(points, detected)
    frames = read_pair(pair, size, options.max_frames, options.crop_scale)
    with FaceMesh(video=True) as mesh:
        marks = detect_clip(mesh, frames.driving)
    if path is not None:
        save_prepared(path, frames, marks.points, marks.detected)
    return frames, marks


def _mean_or_none(values: Sequence[float | None]) -> float | None:
    """Mean of the values that are not None/NaN (inf counts: PSNR of exact copies), None when there are none."""
    present = [v for v in values if v is not None and not np.isnan(v)]
    return float(np.mean(present)) if present else None


def aggregate(setting: str, rows: Sequence[PairMotion]) -> SettingMotion:
    """NaN-aware means over the pairs of one setting whose driver had a face in some frame."""
    used = [r for r in rows if r.driver_detected > 0]
    signals = []
    for name in SIGNALS:
        r, n_r = nan_mean([p.signal(name).r for p in used])
        amp, n_amp = nan_mean([p.signal(name).amplitude for p in used])
        signals.append(SignalSummary(name, r, n_r, amp, n_amp))
    frames = sum(p.frames for p in used)
    blink_eye_r, blink_pairs = nan_mean([p.eye_r for p in used if p.driver_blinks > 0])
    return SettingMotion(
        setting,
        len(used),
        len(rows) - len(used),
        frames,
        sum(p.driver_detected for p in used) / max(frames, 1),
        sum(p.output_detected for p in used) / max(frames, 1),
        tuple(signals),
        nan_mean([p.sharpness for p in used])[0],
        _mean_or_none([p.akd_mesh for p in used]),
        _mean_or_none([p.l1 for p in used]),
        _mean_or_none([p.psnr for p in used]),
        _mean_or_none([p.ssim for p in used]),
        blink_eye_r=blink_eye_r,
        blink_pairs=blink_pairs,
    )


def check_faces(rows: Sequence[PairMotion], pairs: Sequence[MotionPair]) -> None:
    """Raise FaceNotFoundError naming the drivers when no pair's driver had a face in any frame."""
    if rows and all(r.driver_detected == 0 for r in rows):
        names = ", ".join(sorted({str(p.driving) for p in pairs})[:5])
        raise FaceNotFoundError(
            f"{names}: FaceMesh found no face in any driver frame of the {len(rows)} pair(s); "
            "motion cannot be measured (is the face small, cut off, or not a face?)"
        )


def run_motion_bench(
    weights: str | Path | None = None,
    pairs: Sequence[MotionPair] = (),
    out: str | Path = "bench-motion",
    options: MotionOptions = MotionOptions(),
    *,
    baseline: str | None = None,
    model: Reenactor | None = None,
    label: str | None = None,
    progress: Progress | None = None,
    **option_fields: object,
) -> MotionReport:
    """Reenact every pair and measure how the output follows the driver; writes the report under ``out``.

    The model is ``model`` if given, else ``baseline`` ('copy-source', at 256 px), else ``weights`` (a folder
    or hub id; None = the package's default weights). ``option_fields`` override fields of ``options``
    (``max_frames=100, device="cpu"``). Returns per-pair rows and per-setting aggregates.
    """
    import dataclasses

    from toontalker.bench.motion_report import fmt, write_motion_report, write_pair_figures

    unknown = set(option_fields) - {f.name for f in dataclasses.fields(MotionOptions)}
    if unknown:
        raise UsageError(f"unknown motion option(s): {', '.join(sorted(unknown))}")
    options = dataclasses.replace(options, **option_fields)  # type: ignore[arg-type]  # names checked above, values by MotionOptions

    if not pairs:
        raise UsageError("no pairs given: pass SOURCE DRIVER pairs or a protocol CSV")
    model, label = _resolve_model(weights, baseline, model, label, options.device)
    # the ONNX graph is Eq. 5 as exported (gain 1): 'auto' picks torch for another gain
    backend = "torch" if options.motion_gain != 1.0 and options.backend == "auto" else options.backend
    renderer = ClipRenderer(
        model,
        choose_backend(backend, model, options.device),
        batch_size=options.batch_size,
        motion=options.motion,
        motion_gain=options.motion_gain,
    )
    if progress:
        progress(f"{label}: model on the {renderer.backend} backend, {len(pairs)} pair(s)")
    out = Path(out)
    rows: list[PairMotion] = []
    for index, pair in enumerate(pairs):
        clip = reenact_pair(model, pair, options, renderer)
        row = score_clip(pair.label, pair.setting, (str(pair.source), str(pair.driving)), clip)
        if options.plots:
            row = write_pair_figures(row, clip, out)
        rows.append(row)
        if progress:
            progress(
                f"pair {index + 1}/{len(pairs)} {pair.label}: driver faces {row.driver_detected}/{row.frames}, "
                f"output faces {row.output_detected}/{row.frames}, mouth r {fmt(row.signal('mouth').r)}"
            )
    check_faces(rows, pairs)
    settings = tuple(aggregate(s, [r for r in rows if r.setting == s]) for s in dict.fromkeys(r.setting for r in rows))
    warnings = tuple(f"{r.pair_id}: {r.note} ({r.driving}); left out of the aggregates" for r in rows if r.note)
    report = MotionReport(label, settings, tuple(rows), {}, warnings, renderer.backend)
    return write_motion_report(report, out, options)


def _resolve_model(
    weights: str | Path | None, baseline: str | None, model: Reenactor | None, label: str | None, device: str
) -> tuple[Reenactor, str]:
    if model is not None:
        return model, label or "model passed in"
    if baseline is not None:
        from toontalker.bench.baselines import BASELINE_LABELS, make_baseline

        if weights is not None:
            raise UsageError("give weights or a baseline, not both")
        return make_baseline(baseline), label or BASELINE_LABELS[baseline]
    if weights is None:
        from toontalker.weights import default_weights

        weights = default_weights()
        if weights is None:
            raise UsageError("no weights given and the package has no default weights")
    from toontalker.bench.runner import load_model

    return load_model(str(weights), device), label or f"weights {weights}"
