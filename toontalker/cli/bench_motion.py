"""`toontalker bench motion`: does the output follow the driver's mouth, eyes and head? (toontalker.bench.motion)"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from toontalker.bench.options import MotionOptions
from toontalker.cli import choices
from toontalker.cli.common import Baseline, Device, JsonOutput, Quiet, Weights, option_defaults, output_mode
from toontalker.console import print_json, stderr_console, stdout_console

HELP = (
    "Measure whether outputs follow their driver: FaceMesh mouth / eye / head-pose / position series of "
    "driver and output, Pearson r and amplitude per signal, detection rates, sharpness (CSV, JSON, markdown, plots)."
)
EPILOG = """Pairs are SOURCE DRIVER paths (any number of pairs); prefix a path with real: or cartoon: to set its
domain (default: --source-domain / --driving-domain). A video given as both source and driver is a same-identity
pair (it drives its own first frame; ground truth = the clip).\n\nExamples:\n
  toontalker bench motion cartoon:char.png real:talk.mp4 real:me.jpg cartoon:anime.mp4 --out bench/motion\n
  toontalker bench motion --heldout ../shared/data --baseline copy-source --out bench/motion-copy\n
  toontalker bench motion --heldout ../shared/data --heldout-set wide --out bench/motion-wide\n
  toontalker bench motion -w runs/stage2 --protocol protocols/real-to-cartoon.csv --crop none"""

MOTION = option_defaults(MotionOptions)  # the library's defaults: one home (bench/options.py)

Paths = Annotated[
    list[str] | None,
    typer.Argument(help="SOURCE DRIVER [SOURCE DRIVER ...] ([real:|cartoon:]path).", show_default=False),
]


def motion_command(
    paths: Paths = None,
    protocol: Annotated[
        list[Path] | None,
        typer.Option("--protocol", "-p", help="A protocol CSV (bench protocol's format; repeatable)."),
    ] = None,
    heldout: Annotated[
        Path | None,
        typer.Option(
            "--heldout",
            help="The sample data folder: run a fixed held-out motion protocol (--heldout-set: 20 or 80 pairs of 5 settings, or 20 cartoon -> real pairs).",
        ),
    ] = None,
    heldout_set: Annotated[
        choices.HeldoutSet,
        typer.Option(
            "--heldout-set",
            help="With --heldout: 'standard' (20 pairs, 4 per setting) or 'wide' (80 pairs of the same held-out people and characters, 8-20 per setting; ~4x the time) or 'styles' (20 cartoon -> real pairs, cartoon drivers of other drawing styles than THA2).",
        ),
    ] = "standard",
    weights: Weights = None,
    baseline: Baseline = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (created).")] = Path("bench-motion"),
    source_domain: Annotated[
        choices.Domain, typer.Option("--source-domain", help="Domain of un-prefixed sources: real | cartoon.")
    ] = "cartoon",
    driving_domain: Annotated[
        choices.Domain, typer.Option("--driving-domain", help="Domain of un-prefixed drivers: real | cartoon.")
    ] = "real",
    crop: Annotated[
        choices.MotionCrop | None,
        typer.Option(
            "--crop",
            help="'animate' (find and track the faces as animate does) or 'none' (whole frames, for pre-cropped dataset items). Default: animate, and for --protocol the CSV's crop column (held-out protocols written by toontalker: animate), else none.",
        ),
    ] = None,
    max_frames: Annotated[
        int, typer.Option("--max-frames", min=2, help="Driving frames per pair (from the first).")
    ] = MOTION.max_frames,
    device: Device = "auto",
    batch_size: Annotated[
        int, typer.Option("--batch-size", "-b", min=1, help="Driving frames per model call.")
    ] = MOTION.batch_size,
    motion: Annotated[
        choices.Motion, typer.Option("--motion", help="'relative' (Eq. 5, animate's default) or 'absolute' (Eq. 3).")
    ] = MOTION.motion,
    motion_gain: Annotated[
        float, typer.Option("--motion-gain", min=0.0, max=4.0, help="As animate --motion-gain (ours; 1 = Eq. 5).")
    ] = MOTION.motion_gain,
    backend: Annotated[
        choices.MotionBackend,
        typer.Option(
            "--backend",
            help="How the model runs: torch (the published numbers), onnx (animate's ONNX core on the CPU: about half the CPU time; exports the graph once per weights and domain pair; r on cartoon outputs can differ, see docs/bench.md), or auto (onnx where usable, else torch).",
        ),
    ] = MOTION.backend,
    plots: Annotated[
        bool, typer.Option("--plots/--no-plots", help="A figure, a contact sheet and a series CSV per pair.")
    ] = MOTION.plots,
    cache: Annotated[
        Path | None,
        typer.Option(
            "--cache",
            help="Keep each pair's cropped frames and driver landmarks here (reused by later runs on the same pairs). Default: TOONTALKER_HOME/bench-motion.",
        ),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the cache.")] = False,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    from toontalker.bench.motion import run_motion_bench
    from toontalker.bench.motion_report import report_json
    from toontalker.cli.bench import _resolve_device

    mode = output_mode(quiet, json)
    pairs = collect_pairs(
        paths or [], protocol or [], heldout, source_domain, driving_domain, crop, heldout_set=heldout_set
    )
    options = MotionOptions(
        max_frames=max_frames,
        device=_resolve_device(device),
        batch_size=batch_size,
        motion=motion,
        motion_gain=motion_gain,
        backend=backend,
        plots=plots,
        cache_dir=None if no_cache else (cache or default_cache()),
    )
    console = stderr_console()
    progress = (lambda m: console.print(f"[dim]{m}[/dim]")) if mode.show_progress else None
    report = run_motion_bench(weights, pairs, out, options, baseline=baseline, progress=progress)
    if mode.json:
        print_json(report_json(report))
    elif not mode.quiet:
        render(report)


def default_cache() -> Path:
    from toontalker.cache import toontalker_home

    return toontalker_home() / "bench-motion"


def collect_pairs(
    paths: list[str],
    protocols: list[Path],
    heldout: Path | None,
    source_domain: choices.Domain,
    driving_domain: choices.Domain,
    crop: choices.MotionCrop | None,
    heldout_set: choices.HeldoutSet = "standard",
) -> list:
    """Positional SOURCE DRIVER pairs, protocol CSVs and the held-out protocol, in that order."""
    from toontalker.bench.motion_heldout import heldout_pairs
    from toontalker.bench.motion_inputs import MotionPair, pairs_from_protocol, split_domain
    from toontalker.errors import UsageError

    if len(paths) % 2:
        raise UsageError(f"pairs come as SOURCE DRIVER: got {len(paths)} path(s), the last one has no driver")
    pairs = []
    for i in range(0, len(paths), 2):
        source, s_dom = split_domain(paths[i], source_domain)
        driving, d_dom = split_domain(paths[i + 1], driving_domain)
        same = source.resolve() == driving.resolve()
        pairs.append(
            MotionPair(source, driving, d_dom if same else s_dom, d_dom, same_identity=same, crop=crop or "animate")
        )
    for path in protocols:
        pairs += pairs_from_protocol(path, crop)
    if heldout is not None:
        import dataclasses

        pairs += [dataclasses.replace(p, crop=crop or "animate") for p in heldout_pairs(heldout, protocol=heldout_set)]
    if not pairs:
        raise UsageError("give SOURCE DRIVER pairs, --protocol CSV or --heldout DATA_ROOT")
    return pairs


def render(report) -> None:  # noqa: ANN001 - a MotionReport
    """One column per setting, one row per signal: 'r (amplitude ratio)', then detections and sharpness."""
    from toontalker.bench.motion_report import fmt
    from toontalker.bench.motion_signals import SIGNALS

    console = stdout_console()
    table = Table(title=f"Motion: {report.label}\nr (amplitude ratio), mean over pairs", title_justify="left")
    table.add_column("signal")
    for st in report.settings:
        table.add_column(st.setting, overflow="fold")
    table.add_row("pairs", *(str(st.pairs) for st in report.settings))
    for name in SIGNALS:
        table.add_row(name, *(f"{fmt(st.signal(name).r)} ({fmt(st.signal(name).amplitude)})" for st in report.settings))
    table.add_row(
        "faces drv/out %",
        *(f"{fmt(100 * st.driver_detection, 0)}/{fmt(100 * st.output_detection, 0)}" for st in report.settings),
    )
    table.add_row("sharpness ratio", *(fmt(st.sharpness) for st in report.settings))
    if any(st.akd_mesh is not None for st in report.settings):
        table.add_row("akd-mesh px", *(fmt(st.akd_mesh) for st in report.settings))
    console.print(table)
    for warning in report.warnings:
        console.print(f"  [yellow]{warning}[/yellow]")
    console.print(
        f"report: {report.files['markdown']}\npairs: {report.files['pairs_csv']}\nsummary: {report.files['summary_csv']}"
    )
