"""`bench motion` outputs: per-pair and per-setting CSVs, JSON, a markdown summary, a figure and a contact
sheet per pair, and the per-frame signal series.

Files under the output folder::

    motion-pairs.csv      one row per pair: r / amplitude / frames used / note per signal, detections, ...
    motion-summary.csv    one row per (setting, signal): mean r and amplitude and how many pairs gave them
    motion.json           the whole report (NaN written as null)
    motion.md             the tables and links to the figures
    series/<pair>.csv     per frame: driver_<signal>, output_<signal> (NaN where no face)
    plots/<pair>.png      driver (relative to its start, Eq. 5) and output series, one panel per signal group
    sheets/<pair>.png     source, then driver/output frames at the driver's extremes (mouth max, eyes min, yaw min/max)
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from toontalker.bench.motion_signals import SIGNAL_UNITS, SIGNALS, extreme_frames, relative_driver
from toontalker.faces.landmarks import BLINK_FRACTION
from toontalker.io_utils import atomic_path, atomic_write_text

PANELS = (
    ("mouth", ("mouth",)),
    ("eyes (EAR)", ("eye_right", "eye_left")),
    ("yaw", ("yaw",)),
    ("pitch", ("pitch",)),
    ("roll", ("roll",)),
    ("position (face heights)", ("x", "y")),
)


def file_stem(pair_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", pair_id).strip("_") or "pair"


def _clean(value):  # noqa: ANN001, ANN202 - JSON values of any kind
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def report_json(report) -> dict:  # noqa: ANN001 - a MotionReport
    """The report as plain JSON values, NaN as None."""
    from toontalker.console import to_jsonable

    return _clean(to_jsonable(report))


def fmt(value: float | None, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.{digits}f}"


def pairs_frame(report) -> pd.DataFrame:  # noqa: ANN001
    rows = []
    for p in report.pairs:
        row = {
            "pair_id": p.pair_id,
            "setting": p.setting,
            "source": p.source,
            "driving": p.driving,
            "frames": p.frames,
            "driver_detected": p.driver_detected,
            "output_detected": p.output_detected,
            "source_detected": p.source_detected,
            "sharpness_ratio": p.sharpness,
            "akd_mesh_px": p.akd_mesh,
            "akd_frames": p.akd_frames,
            "l1": p.l1,
            "psnr": p.psnr,
            "ssim": p.ssim,
            "note": p.note,
            "driver_blinks": p.driver_blinks,
        }
        for s in p.signals:
            row.update(
                {
                    f"{s.signal}_r": s.r,
                    f"{s.signal}_amplitude": s.amplitude,
                    f"{s.signal}_frames": s.frames,
                    f"{s.signal}_note": s.note,
                }
            )
        rows.append(row)
    return pd.DataFrame(rows)


def summary_frame(report) -> pd.DataFrame:  # noqa: ANN001
    rows = []
    for st in report.settings:
        for s in st.signals:
            rows.append(
                {
                    "run": report.label,
                    "setting": st.setting,
                    "signal": s.signal,
                    "unit": SIGNAL_UNITS[s.signal],
                    "r": s.r,
                    "r_pairs": s.r_pairs,
                    "amplitude": s.amplitude,
                    "amplitude_pairs": s.amplitude_pairs,
                    "pairs": st.pairs,
                    "pairs_without_face": st.pairs_without_face,
                    "frames": st.frames,
                    "driver_detection": st.driver_detection,
                    "output_detection": st.output_detection,
                    "sharpness_ratio": st.sharpness,
                    "akd_mesh_px": st.akd_mesh,
                    "l1": st.l1,
                    "psnr": st.psnr,
                    "ssim": st.ssim,
                    "blink_eye_r": st.blink_eye_r,
                    "blink_pairs": st.blink_pairs,
                }
            )
    return pd.DataFrame(rows)


def markdown(report, options) -> str:  # noqa: ANN001
    """The summary: one table of r (amplitude) per setting and signal, one of detections and image numbers."""
    lines = [
        f"# Motion benchmark: {report.label}",
        "",
        f"- {options.max_frames} driving frames per pair at most, {options.motion} motion, device {options.device}, "
        f"{report.backend} backend",
        "- r: Pearson correlation of output and driver series (relative to the driver's start frame, Eq. 5); "
        "amplitude: std output / std driver; mean over pairs, (n) pairs with a defined value",
        "",
    ]
    lines += [f"- warning: {w}" for w in report.warnings]
    head = "| setting | pairs | " + " | ".join(SIGNALS) + " |"
    lines += ["", "## r (amplitude ratio)", "", head, "|" + " --- |" * (len(SIGNALS) + 2)]
    for st in report.settings:
        cells = [f"{fmt(s.r)} ({s.r_pairs}) / {fmt(s.amplitude)}" for s in st.signals]
        lines.append(f"| {st.setting} | {st.pairs} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Detection and image",
        "",
        "| setting | pairs | no driver face | frames | driver faces | output faces | sharpness ratio | akd-mesh px | L1 | PSNR | SSIM |",
        "|" + " --- |" * 11,
    ]
    for st in report.settings:
        lines.append(
            f"| {st.setting} | {st.pairs} | {st.pairs_without_face} | {st.frames} | "
            f"{fmt(100 * st.driver_detection, 0)} % | {fmt(100 * st.output_detection, 0)} % | "
            f"{fmt(st.sharpness)} | {fmt(st.akd_mesh)} | {fmt(st.l1, 3)} | {fmt(st.psnr)} | {fmt(st.ssim, 3)} |"
        )
    lines += [
        "",
        "## Eyes on drivers that blink",
        "",
        "Eye r of a driver that never blinks correlates landmark jitter; the mean eye r (both eyes) over the pairs "
        f"whose driver blinks (eye opening below {BLINK_FRACTION:.0%} of its median) is what says whether eyes follow.",
        "",
        "| setting | pairs | pairs whose driver blinks | eyes r there |",
        "|" + " --- |" * 4,
    ]
    for st in report.settings:
        lines.append(f"| {st.setting} | {st.pairs} | {st.blink_pairs} | {fmt(st.blink_eye_r)} |")
    lines += [
        "",
        "## Pairs",
        "",
        "| pair | setting | faces drv/out | mouth r | eyes r | blinks | yaw r | pitch r | y r | sharpness | figures |",
        "|" + " --- |" * 11,
    ]
    for p in report.pairs:
        links = " ".join(f"[{k}]({v})" for k, v in p.files.items())
        lines.append(
            f"| {p.pair_id} | {p.setting} | {p.driver_detected}/{p.output_detected} of {p.frames} | "
            f"{fmt(p.signal('mouth').r)} | {fmt(p.eye_r)} | {p.driver_blinks} | {fmt(p.signal('yaw').r)} | "
            f"{fmt(p.signal('pitch').r)} | {fmt(p.signal('y').r)} | {fmt(p.sharpness)} | {links} |"
        )
    return "\n".join(lines) + "\n"


def write_motion_report(report, out: Path, options):  # noqa: ANN001, ANN201 - MotionReport in and out
    """Write the CSVs, JSON and markdown; returns the report with its ``files`` filled in."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "pairs_csv": out / "motion-pairs.csv",
        "summary_csv": out / "motion-summary.csv",
        "json": out / "motion.json",
        "markdown": out / "motion.md",
    }
    for key, frame in (("pairs_csv", pairs_frame(report)), ("summary_csv", summary_frame(report))):
        with atomic_path(files[key]) as tmp:
            frame.to_csv(tmp, index=False)
    report = dataclasses.replace(report, files={k: str(v) for k, v in files.items()})
    atomic_write_text(files["markdown"], markdown(report, options))
    atomic_write_text(files["json"], json.dumps(report_json(report), indent=2) + "\n")
    return report


def write_series(path: Path, driver: np.ndarray, output: np.ndarray) -> Path:
    frame = pd.DataFrame({"frame": np.arange(len(driver))})
    for i, name in enumerate(SIGNALS):
        frame[f"driver_{name}"] = driver[:, i]
        frame[f"output_{name}"] = output[:, i]
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
    return path


def plot_series(path: Path, title: str, driver: np.ndarray, output: np.ndarray, comparisons) -> Path:  # noqa: ANN001
    """One figure: per panel the output (solid) and the driver moved to the output's start (dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    moved = relative_driver(driver, output)
    by_name = {c.signal: c for c in comparisons}
    fig, axes = plt.subplots(len(PANELS), 1, figsize=(9, 2.0 * len(PANELS)), sharex=True)
    colours = ("tab:blue", "tab:orange")
    for ax, (panel, names) in zip(axes, PANELS):
        for colour, name in zip(colours, names):
            i = SIGNALS.index(name)
            c = by_name[name]
            ax.plot(output[:, i], color=colour, lw=1.6, label=f"output {name} (r {fmt(c.r)}, amp {fmt(c.amplitude)})")
            ax.plot(moved[:, i], color=colour, lw=1.0, ls="--", label=f"driver {name}, relative")
        ax.set_ylabel(panel, fontsize=8)
        ax.legend(fontsize=6, loc="upper right", ncol=2)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("driving frame")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    plt.close(fig)
    return path


def contact_sheet(path: Path, clip, label_height: int = 16, tile: int = 128) -> Path:  # noqa: ANN001
    """Source | driver/output frames at the driver's extremes (two rows: driver on top, output below)."""
    picks = extreme_frames(clip.driver_signals)
    columns = [("source", clip.source[0], clip.source[0])] + [
        (f"{label} (f{i})", clip.driving[i], clip.output[i]) for label, i in picks.items()
    ]
    sheet = Image.new("RGB", (len(columns) * tile, label_height + 2 * tile), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for c, (label, top, bottom) in enumerate(columns):
        draw.text((c * tile + 3, 2), label, fill=(0, 0, 0))
        for r, image in enumerate((top, bottom)):
            sheet.paste(Image.fromarray(image).resize((tile, tile)), (c * tile, label_height + r * tile))
    with atomic_path(path) as tmp:
        sheet.save(tmp, format="PNG")
    return path


def write_pair_figures(row, clip, out: Path):  # noqa: ANN001, ANN201 - PairMotion, ClipAnalysis
    """Series CSV, figure and contact sheet of one pair; returns ``row`` with their paths (relative to ``out``)."""
    stem = file_stem(row.pair_id)
    files = {
        "series": Path("series") / f"{stem}.csv",
        "plot": Path("plots") / f"{stem}.png",
        "sheet": Path("sheets") / f"{stem}.png",
    }
    for rel in files.values():
        (Path(out) / rel).parent.mkdir(parents=True, exist_ok=True)
    write_series(Path(out) / files["series"], clip.driver_signals, clip.output_signals)
    title = f"{row.pair_id} ({row.setting}): faces driver {row.driver_detected}/{row.frames}, output {row.output_detected}/{row.frames}"
    plot_series(Path(out) / files["plot"], title, clip.driver_signals, clip.output_signals, row.signals)
    contact_sheet(Path(out) / files["sheet"], clip)
    return dataclasses.replace(row, files={k: str(v) for k, v in files.items()})
