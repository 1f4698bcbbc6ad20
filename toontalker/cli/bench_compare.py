"""`toontalker bench compare`: two `bench motion` runs over the same pairs (toontalker.bench.motion_compare)"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from toontalker.cli.common import JsonOutput, Quiet, output_mode
from toontalker.console import print_json, stdout_console

HELP = (
    "Compare two `bench motion` runs over the same pairs: per setting and signal, the mean r of each and the mean "
    "per-pair difference of r with its standard error (compare.csv, compare.md)."
)
EPILOG = """Examples:\n
  toontalker bench motion --heldout ../shared/data --heldout-set wide --out bench/motion-default\n
  toontalker bench motion --heldout ../shared/data --heldout-set wide -w runs/s1/best --out bench/motion-mine\n
  toontalker bench compare bench/motion-default bench/motion-mine --out bench/compare"""

SHOWN = ("mouth", "eye_right", "eye_left", "yaw", "pitch", "y")  # the console table; the files have every signal


def compare_command(
    base: Annotated[Path, typer.Argument(help="The reference run: a `bench motion` output folder.")],
    candidate: Annotated[Path, typer.Argument(help="The run to compare with it (the same pairs).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write compare.csv and compare.md here.")] = None,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    from toontalker.bench.motion_compare import compare_motion, write_comparison

    mode = output_mode(quiet, json)
    comparison = compare_motion(base, candidate)
    if out is not None:
        comparison = write_comparison(comparison, out)
    if mode.json:
        print_json(comparison)
    elif not mode.quiet:
        render(comparison)


def render(comparison) -> None:  # noqa: ANN001 - a MotionComparison
    from toontalker.bench.motion_compare import BLINK_EYES, SignalChange, fmt_value

    def cell(change: SignalChange) -> str:
        base, candidate, difference = (fmt_value(v) for v in (change.base_r, change.candidate_r, change.difference))
        return f"{base} -> {candidate}\n({difference} ± {fmt_value(change.stderr, sign=False)})"

    table = Table(
        title=f"r: {comparison.base} -> {comparison.candidate}\n(mean per-pair difference ± standard error)",
        title_justify="left",
    )
    # the eye score of drivers that blink, when both runs have it
    shown = (*SHOWN, BLINK_EYES) if BLINK_EYES in comparison.signals else SHOWN
    for column in ("setting", *shown, "sharpness"):
        table.add_column(column, overflow="fold")
    for st in comparison.settings:
        sharp = f"{fmt_value(st.base_sharpness, sign=False)} -> {fmt_value(st.candidate_sharpness, sign=False)}"
        table.add_row(f"{st.setting} ({st.pairs})", *(cell(st.signal(name)) for name in shown), sharp)
    console = stdout_console()
    console.print(table)
    if comparison.only_base or comparison.only_candidate:
        console.print(
            f"  [yellow]left out: {comparison.only_base} pair(s) only in the base run, "
            f"{comparison.only_candidate} only in the candidate[/yellow]"
        )
    for name, path in comparison.files.items():
        console.print(f"{name}: {path}")
