"""`bench quality`: run protocols through a model and score the outputs.

Per pair: the source image is encoded once (``encode_source``), the first driving frame is the motion
reference, and driving frames go through animate's per-batch step
(:class:`~toontalker.animation.core.CoreRunner`) with relative motion (paper Eq. 5):
``w_{s->d} = (w_{s->r} + w_{r->s}) + (w_{r->d} - w_{r->start})``. Outputs are scored by a
:class:`~toontalker.bench.scoring.MetricSuite`; per-pair rows go to parquet, summaries to the report.

Each setting's results are written as soon as it finishes, so an interrupted run resumes where it stopped
(a finished setting whose pair ids match the protocol is loaded, not recomputed).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from toontalker.animation.core import CoreRunner, Motion, Reenactor
from toontalker.animation.options import Backend
from toontalker.bench.frames import read_frames, to_tensor
from toontalker.bench.options import QualityOptions  # re-exported: its home is bench/options.py
from toontalker.bench.protocols import read_protocol, setting_spec
from toontalker.bench.scoring import Clip, MetricSuite, compute_fid
from toontalker.conventions import Domain
from toontalker.io_utils import atomic_path, atomic_write_text
from toontalker.metrics import MetricSummary
from toontalker.metrics.base import to_uint8

DEFAULT_METRICS: dict[str, tuple[str, ...]] = {
    "same-identity": ("l1", "psnr", "ssim", "lpips", "cpbd", "akd", "akd-dlib", "aed", "aed-dlib"),
    "cross-identity-real": ("fid", "csim", "csim-dlib", "cpbd"),
    "cross-identity-cartoon": ("fid", "cpbd"),
    "real-to-cartoon": ("fid", "cpbd"),
    "cartoon-to-real": ("fid", "csim", "csim-dlib", "cpbd"),
    "paired-cartoon": ("l1", "psnr", "ssim", "lpips", "cpbd"),
}

MOTION_SETTINGS = ("same-identity", "real-to-cartoon", "cartoon-to-real")  # settings that get the motion table

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SettingResult:
    """One protocol's outcome: ``pairs`` pairs, ``frames`` generated frames, a summary per metric."""

    setting: str
    pairs: int
    frames: int
    metrics: tuple[MetricSummary, ...]
    pairs_path: Path
    contact_sheet: Path | None
    motion: object | None = None  # a toontalker.bench.motion.SettingMotion for MOTION_SETTINGS

    def metric(self, name: str) -> MetricSummary | None:
        return next((m for m in self.metrics if m.name == name), None)


@torch.inference_mode()
def reenact_clip(
    model: Reenactor,
    source: torch.Tensor,
    source_domain: Domain,
    driving: torch.Tensor,
    *,
    driving_domain: Domain,
    batch_size: int,
    motion: Motion = "relative",
    backend: Backend = "torch",
    motion_gain: float = 1.0,
) -> torch.Tensor:
    """Animate ``source`` ``(1, 3, H, W)`` with ``driving`` ``(N, 3, H, W)`` (both in ``[-1, 1]``).

    The source is encoded once; ``driving[0]`` (encoded on its own) is the start frame of relative motion;
    each batch runs animate's step (:class:`~toontalker.animation.core.CoreRunner`, eager torch or the cached
    ONNX graph in onnxruntime with ``backend="onnx"``). Returns
    ``(N, 3, H, W)`` on the CPU, clamped to ``[-1, 1]``.
    """
    src = model.encode_source(source, source_domain)
    reference = model.encode_driving(driving[:1], driving_domain) if motion == "relative" else None
    runner = CoreRunner(
        model,
        src,
        driving_domain,
        motion=motion,
        reference=reference,
        batch_size=batch_size,
        backend=backend,
        motion_gain=motion_gain,
    )
    outputs = [
        runner(driving[begin : begin + batch_size]).float().clamp(-1, 1).cpu()
        for begin in range(0, driving.shape[0], batch_size)
    ]
    return torch.cat(outputs)


def _model_size(model: object) -> int:
    config = getattr(model, "config", None)
    return int(getattr(config, "image_size", 256))


@dataclass
class _Accumulator:
    rows: list[dict]
    per_frame: dict[str, list[np.ndarray]]
    samples: list[tuple[np.ndarray, ...]]


def _pair_row(pair: pd.Series, scores: dict[str, np.ndarray], frames: int) -> dict:
    row = pair.to_dict()
    row["frames_scored"] = frames
    for name, values in scores.items():
        finite = values[np.isfinite(values)]
        row[name] = float(finite.mean()) if finite.size else float("nan")
        row[f"{name}_skipped"] = int(values.size - finite.size)
    return row


def _ground_truth(pair: pd.Series, driving_u8: np.ndarray, size: int) -> np.ndarray | None:
    """The frames the output should equal: the pair's ``ground_truth_path`` clip if it has one, the driving
    clip itself in ``same-identity`` reconstruction, else None."""
    path = pair.get("ground_truth_path")
    if isinstance(path, str) and path:
        return read_frames(path, size, count=int(pair["driving_frames"]))
    return driving_u8 if pair["setting"] == "same-identity" else None


def run_setting(
    model: Reenactor,
    pairs: pd.DataFrame,
    suite: MetricSuite,
    *,
    options: QualityOptions,
    out_dir: Path,
    progress: Progress | None = None,
) -> SettingResult:
    """Reenact and score every pair of one protocol; writes ``pairs-<setting>.parquet`` and a contact sheet."""
    from toontalker.bench.report import write_contact_sheet

    setting = str(pairs["setting"].iloc[0])
    size = _model_size(model)
    device = options.device
    acc = _Accumulator([], {}, [])
    reference_frames: list[np.ndarray] = []
    motion_rows: list = []
    measure_motion = options.motion_table and setting in MOTION_SETTINGS
    for index, (_, pair) in enumerate(pairs.iterrows()):
        source_u8 = read_frames(pair["source_path"], size, start=int(pair["frame"]), count=1)[:1]
        driving_u8 = read_frames(pair["driving_path"], size, count=int(pair["driving_frames"]))
        generated = reenact_clip(
            model,
            to_tensor(source_u8, device),
            pair["source_domain"],
            to_tensor(driving_u8, device),
            driving_domain=pair["driving_domain"],
            batch_size=options.batch_size,
            motion=options.motion,
        )
        target_u8 = _ground_truth(pair, driving_u8, size)
        separate_truth = target_u8 is not None and target_u8 is not driving_u8
        if target_u8 is not None:
            n = min(len(target_u8), len(generated))
            target_u8, generated, driving_u8 = target_u8[:n], generated[:n], driving_u8[:n]
        generated_u8 = to_uint8(generated)
        clip = Clip(
            generated=generated,
            generated_u8=generated_u8,
            driving_u8=driving_u8,
            source_u8=source_u8,
            target=None if target_u8 is None else to_tensor(target_u8),
            target_u8=target_u8,
        )
        scores = suite.score_clip(clip)
        for name, values in scores.items():
            acc.per_frame.setdefault(name, []).append(values)
        acc.rows.append(_pair_row(pair, scores, len(generated)))
        if measure_motion:
            from toontalker.bench.motion_quality import pair_motion

            motion_rows.append(
                pair_motion(pair, source=source_u8, driving=driving_u8, generated=generated_u8, truth=target_u8)
            )
            acc.rows[-1].update(motion_rows[-1].columns)
        reference_frames.append(source_u8)
        if len(acc.samples) < options.samples:
            mid = len(generated_u8) // 2
            acc.samples.append(
                (
                    source_u8[0],
                    driving_u8[mid],
                    generated_u8[mid],
                    *((target_u8[mid],) if separate_truth and target_u8 is not None else ()),
                )
            )
        if progress:
            progress(f"{setting}: pair {index + 1}/{len(pairs)} ({len(generated)} frames)")

    fid_value, fid_count = None, 0
    generated_features = suite.take_generated_features()
    if generated_features is not None:
        # FID reference: the source images of the protocol (the distribution the outputs should match)
        reference = np.concatenate(reference_frames)[: options.fid_reference_frames]
        reference_features = suite.reference_features(to_tensor(reference, device))
        fid_value, fid_count = compute_fid(generated_features, reference_features), len(generated_features)
    summaries = suite.summarise(acc.per_frame, fid_value, fid_count)

    pairs_path = out_dir / f"pairs-{setting}.parquet"
    with atomic_path(pairs_path) as tmp:
        pd.DataFrame(acc.rows).to_parquet(tmp, index=False)
    sheet = write_contact_sheet(acc.samples, out_dir / f"contact-{setting}.png") if acc.samples else None
    motion = None
    if measure_motion:
        from toontalker.bench.motion import aggregate

        motion = aggregate(setting, [m.row for m in motion_rows])
    return SettingResult(
        setting=setting,
        pairs=len(acc.rows),
        frames=sum(r["frames_scored"] for r in acc.rows),
        metrics=tuple(summaries.values()),
        pairs_path=pairs_path,
        contact_sheet=sheet,
        motion=motion,
    )


def run_key(pairs: pd.DataFrame, metrics: tuple[str, ...], *, options: QualityOptions, model_id: str) -> str:
    """What a finished setting must match to be reused: the pairs, metrics, motion mode and model."""
    blob = json.dumps(
        {
            "pairs": pairs.astype(str).to_dict(orient="records"),
            "metrics": list(metrics),
            "motion": options.motion,
            "model": model_id,
            **({"motion_table": True} if options.motion_table else {}),
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _save_result(result: SettingResult, out_dir: Path, key: str) -> None:
    from toontalker.console import to_jsonable

    payload = {"result": to_jsonable(result), "run_key": key}
    atomic_write_text(out_dir / f"summary-{result.setting}.json", json.dumps(payload, indent=2) + "\n")


def load_finished(out_dir: Path, setting: str, key: str) -> SettingResult | None:
    """A finished setting's result if it was made from the same pairs, metrics and model (resume)."""
    path = out_dir / f"summary-{setting}.json"
    if not path.is_file():
        return None
    payload = json.loads(path.read_text(encoding="utf-8"))
    if payload.get("run_key") != key:
        return None
    data = payload["result"]
    metrics = tuple(MetricSummary(**m) for m in data["metrics"])
    sheet = Path(data["contact_sheet"]) if data["contact_sheet"] else None
    motion = None
    if data.get("motion"):
        from toontalker.bench.motion_quality import setting_motion_from_json

        motion = setting_motion_from_json(data["motion"])
    return SettingResult(
        setting=data["setting"],
        pairs=data["pairs"],
        frames=data["frames"],
        metrics=metrics,
        pairs_path=Path(data["pairs_path"]),
        contact_sheet=sheet,
        motion=motion,
    )


def run_quality(
    model: Reenactor,
    protocol_paths: list[Path],
    out_dir: Path,
    options: QualityOptions,
    progress: Progress | None = None,
    model_id: str = "",
) -> list[SettingResult]:
    """Run each protocol CSV through ``model`` (``model_id`` names its weights, for resuming); results
    (parquet, sheets, summaries) under ``out_dir``."""
    out_dir = Path(out_dir)
    results = []
    backend_cache: dict[str, object] = {}  # metric backends load once per run, not once per setting
    for path in protocol_paths:
        pairs = read_protocol(path)
        setting = str(pairs["setting"].iloc[0])
        setting_spec(setting)
        if options.max_pairs is not None:
            pairs = pairs.iloc[: options.max_pairs]
        metrics = options.metrics or DEFAULT_METRICS[setting]
        key = run_key(pairs, metrics, options=options, model_id=model_id)
        finished = load_finished(out_dir, setting, key) if options.resume else None
        if finished is not None:
            if progress:
                progress(f"{setting}: already done in {out_dir}, reusing (--no-resume to recompute)")
            results.append(finished)
            continue
        suite = MetricSuite(metrics, options.device, backend_cache=backend_cache)
        result = run_setting(model, pairs, suite, options=options, out_dir=out_dir, progress=progress)
        _save_result(result, out_dir, key)
        results.append(result)
    return results
