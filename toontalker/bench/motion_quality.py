"""`bench quality`'s motion table: bench motion's signals on the outputs a quality run has already made.

For the settings in :data:`toontalker.bench.quality.MOTION_SETTINGS` (same-identity and the two cross-domain
ones) each pair's source, driving and generated frames go through FaceMesh as in ``bench motion``
(:mod:`toontalker.bench.motion`); the per-pair numbers join the pairs parquet as ``motion_*`` columns and a
per-setting summary joins the report as the "Motion" table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from toontalker.bench.motion import PairMotion, SettingMotion, SignalSummary, analyse_clip, score_clip
from toontalker.bench.motion_report import fmt

if TYPE_CHECKING:
    from toontalker.bench.report import TableView

TABLE_SIGNALS = ("mouth", "eye_right", "eye_left", "yaw", "pitch", "roll", "y")


@dataclass(frozen=True)
class QualityPairMotion:
    row: PairMotion
    columns: dict[str, object]


def pair_motion(
    pair: pd.Series, source: np.ndarray, driving: np.ndarray, generated: np.ndarray, truth: np.ndarray | None
) -> QualityPairMotion:
    """bench motion's numbers for one quality pair (uint8 frames at the model's size)."""
    clip = analyse_clip(source, driving, generated, truth)
    row = score_clip(
        str(pair["pair_id"]), str(pair["setting"]), (str(pair["source_path"]), str(pair["driving_path"])), clip
    )
    columns: dict[str, object] = {
        "motion_driver_detected": row.driver_detected,
        "motion_output_detected": row.output_detected,
        "motion_sharpness_ratio": row.sharpness,
        "motion_akd_mesh": row.akd_mesh,
    }
    for s in row.signals:
        columns[f"motion_{s.signal}_r"] = s.r
        columns[f"motion_{s.signal}_amplitude"] = s.amplitude
        columns[f"motion_{s.signal}_frames"] = s.frames
    return QualityPairMotion(row, columns)


def _number(value: object) -> float:
    return float("nan") if value is None else float(value)  # type: ignore[arg-type]


def setting_motion_from_json(data: dict) -> SettingMotion:
    """The inverse of ``to_jsonable(SettingMotion)`` (resumed quality runs)."""
    signals = tuple(
        SignalSummary(s["signal"], _number(s["r"]), s["r_pairs"], _number(s["amplitude"]), s["amplitude_pairs"])
        for s in data["signals"]
    )
    fields = {k: v for k, v in data.items() if k != "signals"}
    fields["sharpness"] = _number(fields["sharpness"])
    if "blink_eye_r" in fields:  # absent from runs written before it
        fields["blink_eye_r"] = _number(fields["blink_eye_r"])
    return SettingMotion(**{**fields, "signals": signals})


def motion_table(runs: Sequence) -> TableView | None:  # noqa: ANN001 - RunResults in, TableView out
    """The "Motion" table of a quality report: r (amplitude ratio) per signal, or None when no setting has one."""
    from toontalker.bench.report import TableView

    rows = []
    for run in runs:
        for result in run.settings:
            motion = getattr(result, "motion", None)
            if motion is None:
                continue
            cells = [f"{fmt(motion.signal(n).r)} ({fmt(motion.signal(n).amplitude)})" for n in TABLE_SIGNALS]
            rows.append(
                (
                    run.label,
                    result.setting,
                    str(motion.pairs),
                    f"{fmt(100 * motion.driver_detection, 0)}/{fmt(100 * motion.output_detection, 0)} %",
                    *cells,
                    fmt(motion.sharpness),
                    fmt(motion.akd_mesh),
                )
            )
    if not rows:
        return None
    columns = (
        "run",
        "setting",
        "pairs",
        "faces drv/out",
        *(f"{n} r (amp)" for n in TABLE_SIGNALS),
        "sharpness ratio",
        "akd-mesh px",
    )
    notes = (
        "Motion: FaceMesh signals of output vs driver (bench motion, docs/bench.md): Pearson r and "
        "amplitude ratio std(output)/std(driver), mean over pairs; n/a where undefined (a still output "
        "has no r and amplitude 0); sharpness ratio = Laplacian variance in the face, output / source",
    )
    return TableView("Motion (does the output follow the driver?)", columns, tuple(rows), notes)
