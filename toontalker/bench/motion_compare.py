"""`bench compare` (ours): two `bench motion` runs over the same pairs, side by side.

The question a motion benchmark is run for is usually "are these weights better than those?". Per-setting means
scatter a lot over 8-20 pairs, but both runs see the same pairs, so the per-pair difference is the sharper
measure: for each setting and signal, the mean r of each run over the pairs both scored, and the mean per-pair
difference of r (candidate - base) with its standard error (sample standard deviation / sqrt(n)). Amplitude
ratios, sharpness and same-identity L1 are given per run. When both runs count their drivers' blinks
(``driver_blinks``), one more signal, ``eyes_blinking``: the mean r of both eyes over the pairs whose driver
blinks (the eye score to read, docs/bench.md). Reads each run's ``motion-pairs.csv``; writes ``compare.csv`` (one
row per setting and signal, plus "all" over every shared pair) and ``compare.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from toontalker.bench.motion_quality import TABLE_SIGNALS
from toontalker.errors import InputError
from toontalker.io_utils import atomic_path, atomic_write_text

PAIRS_CSV = "motion-pairs.csv"
ALL_PAIRS = "all"  # the setting name of the rows over every shared pair
BLINK_EYES = "eyes_blinking"  # both eyes' mean r over the pairs whose driver blinks


@dataclass(frozen=True)
class SignalChange:
    """One signal in one setting: mean r and amplitude of each run and the per-pair difference of r."""

    signal: str
    base_r: float
    candidate_r: float
    base_amplitude: float
    candidate_amplitude: float
    difference: float  # mean over pairs with r in both runs of (candidate r - base r)
    stderr: float  # of that mean; NaN with fewer than 2 such pairs
    pairs: int  # pairs with r in both runs


@dataclass(frozen=True)
class SettingComparison:
    setting: str
    pairs: int  # pairs both runs scored
    signals: tuple[SignalChange, ...]
    base_sharpness: float
    candidate_sharpness: float
    base_l1: float  # same-identity pairs only; NaN elsewhere
    candidate_l1: float

    def signal(self, name: str) -> SignalChange:
        return next(s for s in self.signals if s.signal == name)


@dataclass(frozen=True)
class MotionComparison:
    base: str
    candidate: str
    settings: tuple[SettingComparison, ...]  # in the base run's order, then "all"
    only_base: int  # pairs only one run scored (left out of every number)
    only_candidate: int
    files: dict[str, str] = field(default_factory=dict)

    def setting(self, name: str) -> SettingComparison:
        return next(s for s in self.settings if s.setting == name)

    @property
    def signals(self) -> tuple[str, ...]:
        """The compared signals: the table's, then ``eyes_blinking`` when both runs count blinks."""
        return tuple(change.signal for change in self.settings[0].signals)


def read_pairs(run: Path) -> pd.DataFrame:
    """A `bench motion` output folder's per-pair table (or the CSV itself)."""
    path = run / PAIRS_CSV if run.is_dir() else run
    if not path.is_file():
        raise InputError(f"{path}: no such file (give a `bench motion` output folder or its {PAIRS_CSV})")
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable CSV ({exc})") from exc
    needed = {"pair_id", "setting", "sharpness_ratio", "l1"} | {
        f"{s}_{k}" for s in TABLE_SIGNALS for k in ("r", "amplitude")
    }
    missing = sorted(needed - set(frame.columns))
    if missing:
        raise InputError(f"{path}: not a `bench motion` pairs table (no column {', '.join(missing)})")
    return frame


def _mean(values: pd.Series) -> float:
    values = values.dropna()
    return float(values.mean()) if len(values) else math.nan


def _change(signal: str, rows: pd.DataFrame) -> SignalChange:
    both = rows[[f"{signal}_r_base", f"{signal}_r_cand"]].dropna()
    diff = both[f"{signal}_r_cand"] - both[f"{signal}_r_base"]
    stderr = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else math.nan
    return SignalChange(
        signal=signal,
        base_r=_mean(rows[f"{signal}_r_base"]),
        candidate_r=_mean(rows[f"{signal}_r_cand"]),
        base_amplitude=_mean(rows[f"{signal}_amplitude_base"]),
        candidate_amplitude=_mean(rows[f"{signal}_amplitude_cand"]),
        difference=_mean(diff),
        stderr=stderr,
        pairs=len(diff),
    )


def _setting(name: str, rows: pd.DataFrame) -> SettingComparison:
    signals = TABLE_SIGNALS + ((BLINK_EYES,) if f"{BLINK_EYES}_r_base" in rows else ())
    changes = [_change(signal, rows) for signal in signals]
    return SettingComparison(
        setting=name,
        pairs=len(rows),
        signals=tuple(changes),
        base_sharpness=_mean(rows["sharpness_ratio_base"]),
        candidate_sharpness=_mean(rows["sharpness_ratio_cand"]),
        base_l1=_mean(rows["l1_base"]),
        candidate_l1=_mean(rows["l1_cand"]),
    )


def _with_blink_eyes(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds ``eyes_blinking_r`` / ``_amplitude``: both eyes' mean, on the pairs whose driver blinks (NaN elsewhere)."""
    blinks = frame["driver_blinks"].fillna(0) > 0
    out = frame.copy()
    for kind in ("r", "amplitude"):
        eyes = frame[[f"eye_right_{kind}", f"eye_left_{kind}"]].mean(axis=1, skipna=True)
        out[f"{BLINK_EYES}_{kind}"] = eyes.where(blinks)
    return out


def compare_motion(base: Path, candidate: Path) -> MotionComparison:
    """Compare two `bench motion` runs (output folders) on the pairs both scored (matched by pair id and
    setting)."""
    a, b = read_pairs(Path(base)), read_pairs(Path(candidate))
    if "driver_blinks" in a and "driver_blinks" in b:
        a, b = _with_blink_eyes(a), _with_blink_eyes(b)
    rows = a.merge(b, on=["pair_id", "setting"], suffixes=("_base", "_cand"))
    if rows.empty:
        raise InputError(f"{base} and {candidate}: no pair in common (were they run on the same pairs?)")
    settings = [_setting(str(name), group) for name, group in rows.groupby("setting", sort=False)]
    settings.append(_setting(ALL_PAIRS, rows))
    return MotionComparison(
        base=str(base),
        candidate=str(candidate),
        settings=tuple(settings),
        only_base=len(a) - len(rows),
        only_candidate=len(b) - len(rows),
    )


def comparison_frame(comparison: MotionComparison) -> pd.DataFrame:
    """One row per (setting, signal)."""
    return pd.DataFrame(
        [
            {"setting": st.setting, "pairs": st.pairs, **vars(change)}
            | {
                "base_sharpness": st.base_sharpness,
                "candidate_sharpness": st.candidate_sharpness,
                "base_l1": st.base_l1,
                "candidate_l1": st.candidate_l1,
            }
            for st in comparison.settings
            for change in st.signals
        ]
    )


def fmt_value(value: float, digits: int = 2, sign: bool = True) -> str:
    """A number of the comparison: signed (r and differences) or not, "-" when undefined (NaN)."""
    if not math.isfinite(value):
        return "-"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def change_cell(change: SignalChange) -> str:
    """'base -> candidate [difference +- stderr]', r with its amplitude in brackets."""
    return (
        f"{fmt_value(change.base_r)} ({fmt_value(change.base_amplitude, sign=False)}) -> {fmt_value(change.candidate_r)} "
        f"({fmt_value(change.candidate_amplitude, sign=False)}) [{fmt_value(change.difference)} +- {fmt_value(change.stderr, sign=False)}]"
    )


def comparison_markdown(comparison: MotionComparison) -> str:
    signals = comparison.signals
    blink_note = (
        [f"- {BLINK_EYES}: both eyes' mean r over the pairs whose driver blinks"] if BLINK_EYES in signals else []
    )
    lines = [
        "# Motion comparison",
        "",
        f"- base: {comparison.base}",
        f"- candidate: {comparison.candidate}",
        "- per signal: mean r (amplitude) of base -> candidate [mean per-pair difference of r +- standard error]",
        f"- pairs scored by one run only (left out): base {comparison.only_base}, candidate {comparison.only_candidate}",
        *blink_note,
        "",
        "| setting (pairs) | " + " | ".join(signals) + " | sharpness | L1 |",
        "| --- |" + " --- |" * (len(signals) + 2),
    ]
    for st in comparison.settings:
        cells = [change_cell(st.signal(name)) for name in signals]
        cells.append(f"{fmt_value(st.base_sharpness, sign=False)} -> {fmt_value(st.candidate_sharpness, sign=False)}")
        cells.append(f"{fmt_value(st.base_l1, 4, False)} -> {fmt_value(st.candidate_l1, 4, False)}")
        lines.append(f"| {st.setting} ({st.pairs}) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_comparison(comparison: MotionComparison, out: Path) -> MotionComparison:
    """Write ``compare.csv`` and ``compare.md`` into ``out`` (created); returns the comparison with ``files``."""
    from dataclasses import replace

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = {"csv": out / "compare.csv", "markdown": out / "compare.md"}
    with atomic_path(files["csv"]) as tmp:
        comparison_frame(comparison).to_csv(tmp, index=False)
    atomic_write_text(files["markdown"], comparison_markdown(comparison))
    return replace(comparison, files={k: str(v) for k, v in files.items()})
