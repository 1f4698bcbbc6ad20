"""Reports: the paper's tables with our numbers beside them (markdown + CSV), and contact sheets.

A :class:`TableView` is a titled grid of strings; the CLI renders it with rich, :func:`write_report`
writes it as markdown, and :func:`summary_frame` gives every number of a run as one CSV-able frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from toontalker.bench.paper_numbers import (
    TABLE_TITLES,
    paper_value,
    table_methods,
    table_metrics,
    table_settings,
)
from toontalker.bench.protocols import SETTINGS
from toontalker.io_utils import atomic_path, atomic_write_text
from toontalker.metrics import metric_spec
from toontalker.metrics.base import format_metric

SHEET_LABELS = ("source", "driving", "output", "ground truth")


@dataclass(frozen=True)
class RunResults:
    """The settings one model variant produced (``label`` names it in tables)."""

    label: str
    settings: tuple  # tuple[SettingResult, ...]

    def cell(self, setting: str, metric: str) -> str:
        for result in self.settings:
            if result.setting == setting:
                summary = result.metric(metric)
                return summary.short_text if summary is not None else "not run"
        return "not run"


@dataclass(frozen=True)
class TableView:
    """A titled grid of strings; ``notes`` are footnotes (e.g. how to get a missing metric's weights)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()

    def to_markdown(self) -> str:
        lines = [
            f"### {self.title}",
            "",
            "| " + " | ".join(self.columns) + " |",
            "|" + "|".join(" --- " for _ in self.columns) + "|",
        ]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.notes:
            lines += [""] + [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


def unavailable_notes(runs: Sequence[RunResults], metrics: Sequence[str] | None = None) -> tuple[str, ...]:
    """Each distinct 'unavailable' reason of the runs once, in full (with how to get the weights);
    only for ``metrics`` when given."""
    seen: dict[str, None] = {}
    for run in runs:
        for result in run.settings:
            for summary in result.metrics:
                if summary.unavailable is not None and (metrics is None or summary.name in metrics):
                    seen.setdefault(f"{summary.name}: {summary.unavailable}", None)
    return tuple(seen)


def _arrow(metric: str) -> str:
    return "↑" if metric_spec(metric).higher_is_better else "↓"


def paper_table(table: int, runs: Sequence[RunResults]) -> TableView:
    """Paper table ``table``: the paper's rows (marked ``(paper)``), then one row per run of ours."""
    columns = [(s, m) for s in table_settings(table) for m in table_metrics(table, s)]
    header = ("method",) + tuple(f"{s} {m.upper()}{_arrow(m)}" for s, m in columns)
    rows = []
    for method in table_methods(table):
        values = [paper_value(table, method, s, m) for s, m in columns]
        rows.append((f"{method} (paper)",) + tuple("" if v is None else format_metric(v) for v in values))
    for run in runs:
        rows.append((f"{run.label} (this run)",) + tuple(run.cell(s, m) for s, m in columns))
    return TableView(TABLE_TITLES[table], header, tuple(rows), unavailable_notes(runs, [m for _, m in columns]))


def main_tables_for(settings: Sequence[str]) -> list[int]:
    """The paper's main tables (1-4) that the run's settings fill; ablations (5-7) are asked for by number."""
    return sorted({t for s in settings if s in SETTINGS for t in SETTINGS[s].tables if t <= 4})


def all_metrics_table(runs: Sequence[RunResults]) -> TableView:
    """Every metric of every setting (paper's and the extras), with frame counts."""
    rows = []
    for run in runs:
        for result in run.settings:
            for summary in result.metrics:
                rows.append(
                    (
                        run.label,
                        result.setting,
                        f"{summary.name}{_arrow(summary.name)}",
                        summary.short_text,
                        str(summary.count),
                        str(summary.skipped),
                        str(result.pairs),
                    )
                )
    return TableView(
        "All metrics",
        ("run", "setting", "metric", "value", "frames", "skipped", "pairs"),
        tuple(rows),
        unavailable_notes(runs),
    )


def summary_frame(runs: Sequence[RunResults]) -> pd.DataFrame:
    records = []
    for run in runs:
        for result in run.settings:
            for s in result.metrics:
                records.append(
                    {
                        "run": run.label,
                        "setting": result.setting,
                        "metric": s.name,
                        "value": s.value,
                        "unavailable": s.unavailable,
                        "frames": s.count,
                        "skipped": s.skipped,
                        "pairs": result.pairs,
                        "higher_is_better": s.higher_is_better,
                    }
                )
    return pd.DataFrame(records)


def write_report(
    views: Sequence[TableView], runs: Sequence[RunResults], out_dir: Path, title: str, notes: Sequence[str] = ()
) -> tuple[Path, Path]:
    """``report.md`` (tables + contact sheets + notes) and ``summary.csv`` under ``out_dir``."""
    out_dir = Path(out_dir)
    parts = [f"# {title}", ""]
    parts += [f"- {note}" for note in notes]
    parts += [""] + [view.to_markdown() for view in views]
    for run in runs:
        for result in run.settings:
            if result.contact_sheet is not None:
                rel = Path(result.contact_sheet).name
                parts.append(f"![{run.label} {result.setting}]({rel})\n")
    markdown = atomic_write_text(out_dir / "report.md", "\n".join(parts))
    csv_path = out_dir / "summary.csv"
    with atomic_path(csv_path) as tmp:
        summary_frame(runs).to_csv(tmp, index=False)
    return markdown, csv_path


def write_contact_sheet(rows: Sequence[tuple[np.ndarray, ...]], path: Path, label_height: int = 18) -> Path:
    """A PNG grid, one row per sample: source, driving, output (and ground truth when given)."""
    tile = rows[0][0].shape[0]
    n_cols = max(len(r) for r in rows)
    sheet = Image.new("RGB", (n_cols * tile, label_height + len(rows) * tile), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for col in range(n_cols):
        draw.text((col * tile + 4, 3), SHEET_LABELS[col], fill=(0, 0, 0))
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            sheet.paste(Image.fromarray(image), (c * tile, label_height + r * tile))
    with atomic_path(path) as tmp:
        sheet.save(tmp, format="PNG")
    return path
