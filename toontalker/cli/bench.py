"""`toontalker bench ...`: quality on the paper's protocols, the paired cartoon benchmark; speed elsewhere.

Commands of other modules join this group with one line at the bottom of this file, e.g.
``register(bench_speed.speed_command, "speed", bench_speed.HELP, bench_speed.EPILOG)``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from toontalker.bench.options import ProtocolOptions, QualityOptions
from toontalker.cli import choices
from toontalker.cli.choices import Setting, values
from toontalker.cli.common import (
    Baseline,
    BaselineSize,
    Device,
    JsonOutput,
    Quiet,
    Seed,
    Weights,
    option_defaults,
    output_mode,
)
from toontalker.console import OutputMode, print_json, stderr_console, stdout_console

if TYPE_CHECKING:
    from toontalker.animation.core import Reenactor

app = typer.Typer(
    help="Benchmarks: speed of the animate core, quality on the paper's protocols.",
    epilog="Examples:\n\n  toontalker bench speed --presets tiny --batch-sizes 1,8\n\n"
    "  toontalker bench protocol --data data/built --out protocols\n\n"
    "  toontalker bench quality -w runs/stage2 --data protocols/ --out bench/quality",
    no_args_is_help=True,
)


PROTOCOL = option_defaults(ProtocolOptions)  # the library's defaults: one home (bench/options.py)
QUALITY = option_defaults(QualityOptions)


def register(command: Callable, name: str, help: str, epilog: str) -> None:
    """Add another module's command to the ``bench`` group."""
    app.command(name, help=help, epilog=epilog)(command)


ALL_SETTINGS = values(Setting)

Out = Annotated[Path, typer.Option("--out", "-o", help="Output folder (created; reruns resume in it).")]
BatchSize = Annotated[int, typer.Option("--batch-size", "-b", min=1, help="Driving frames per model call.")]
MaxPairs = Annotated[
    int | None, typer.Option("--max-pairs", min=1, help="Use only the first N pairs of each protocol.")
]
MaxFrames = Annotated[int | None, typer.Option("--max-frames", min=2, help="Driving frames per pair (from the first).")]
Metrics = Annotated[
    list[str] | None,
    typer.Option(
        "--metric",
        "-m",
        help="Metric to compute (repeatable; default: the setting's paper metrics + offline variants).",
    ),
]
Settings = Annotated[
    list[Setting] | None,
    typer.Option(
        "--setting", "-s", help="Protocol setting (repeatable). Default: all. (paired-cartoon: bench paired.)"
    ),
]


def _progress(mode: OutputMode):
    console = stderr_console()
    return (lambda message: console.print(f"[dim]{message}[/dim]")) if mode.show_progress else None


def _render(report, mode: OutputMode) -> None:
    if mode.json:
        print_json(report)
        return
    if mode.quiet:
        return
    console = stdout_console()
    for view in report.tables:
        table = Table(title=view.title, title_justify="left")
        for column in view.columns:
            table.add_column(column, overflow="fold")
        for row in view.rows:
            table.add_row(*row)
        console.print(table)
        for note in view.notes:
            console.print(f"  [dim]{note}[/dim]")
    console.print(f"report: {report.markdown}\nsummary: {report.csv}")


PROTOCOL_HELP = "Generate pair-list CSVs (source, driving, frame) for the paper's settings from a dataset's test split."
PROTOCOL_EPILOG = """Examples:\n\n  toontalker bench protocol --data data/built --out protocols\n
  toontalker bench protocol --data data/built/manifest.parquet -s real-to-cartoon -s cartoon-to-real --drivers 60 --seed 1"""


@app.command("protocol", help=PROTOCOL_HELP, epilog=PROTOCOL_EPILOG)
def protocol_command(
    data: Annotated[Path, typer.Option("--data", "-d", help="Built dataset folder or its manifest (CSV/parquet).")],
    out: Out = Path("protocols"),
    setting: Settings = None,
    drivers: Annotated[
        int | None, typer.Option("--drivers", min=1, help="Driving clips per setting (default: all test clips).")
    ] = None,
    sources_per_driver: Annotated[
        int, typer.Option("--sources-per-driver", min=1, help="Sources each clip drives (paper: 5).")
    ] = PROTOCOL.sources_per_driver,
    max_frames: MaxFrames = PROTOCOL.max_frames,
    seed: Seed = PROTOCOL.seed,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    from toontalker.bench.runner import make_protocols

    mode = output_mode(quiet, json)
    options = ProtocolOptions(drivers=drivers, sources_per_driver=sources_per_driver, max_frames=max_frames, seed=seed)
    written = make_protocols(data, out, list(values(setting) if setting else ALL_SETTINGS), options)
    if mode.json:
        print_json(written)
    elif not mode.quiet:
        for item in written:
            stdout_console().print(f"{item.setting}: {item.pairs} pairs -> {item.path}")


def _protocol_paths(data: list[Path], out: Path, seed: int, max_frames: int | None) -> list[Path]:
    """CSV files as given; a folder of CSVs expands to them; a dataset (manifest) gets protocols made."""
    from toontalker.bench.runner import make_protocols
    from toontalker.errors import InputError

    paths: list[Path] = []
    for item in data:
        if item.suffix == ".csv" and item.is_file() and "pair_id" in item.open(encoding="utf-8").readline():
            paths.append(item)
        elif item.is_dir() and any(item.glob("*.csv")) and not (item / "manifest.csv").is_file():
            paths += sorted(item.glob("*.csv"))
        elif item.exists():
            options = (
                ProtocolOptions(seed=seed) if max_frames is None else ProtocolOptions(max_frames=max_frames, seed=seed)
            )
            made = make_protocols(item, out / "protocols", ALL_SETTINGS, options)
            paths += [p.path for p in made if p.pairs > 0]
        else:
            raise InputError(f"{item}: not found")
    return paths


QUALITY_HELP = "Run protocols through a model; per-pair parquet, the paper's tables beside ours (markdown + CSV)."
QUALITY_EPILOG = """Examples:\n\n  toontalker bench quality --weights runs/stage2 --data protocols/ --out bench/quality\n
  toontalker bench quality -w runs/stage2 --data data/built --max-pairs 50 --device cuda\n
  toontalker bench quality --baseline copy-source --data protocols/same-identity.csv --out bench/copy-source\n
  toontalker bench quality --table 5 --ablation 'full=runs/full' --ablation 'w/o analogy=runs/noanalogy' \\
      --data protocols/real-to-cartoon.csv --data protocols/cartoon-to-real.csv"""


@app.command("quality", help=QUALITY_HELP, epilog=QUALITY_EPILOG)
def quality_command(
    data: Annotated[
        list[Path],
        typer.Option(
            "--data", "-d", help="Protocol CSV(s), a folder of them, or a built dataset (protocols are made, seeded)."
        ),
    ],
    weights: Weights = None,
    baseline: Baseline = None,
    baseline_size: BaselineSize = 256,
    ablation: Annotated[
        list[str] | None,
        typer.Option(
            "--ablation",
            metavar="LABEL=WEIGHTS",
            help="An ablation variant (repeatable), LABEL a row of --table 5/6/7.",
        ),
    ] = None,
    table: Annotated[
        int | None,
        typer.Option("--table", min=1, max=7, help="Paper table to reproduce (default: those the protocols fill)."),
    ] = None,
    out: Out = Path("bench-quality"),
    metric: Metrics = None,
    device: Device = "auto",
    batch_size: BatchSize = QUALITY.batch_size,
    max_pairs: MaxPairs = None,
    max_frames: MaxFrames = None,
    motion: Annotated[
        choices.Motion, typer.Option("--motion", help="'relative' (Eq. 5, paper default) or 'absolute' (Eq. 3).")
    ] = QUALITY.motion,
    samples: Annotated[int, typer.Option("--samples", min=0, help="Rows in each contact sheet.")] = QUALITY.samples,
    resume: Annotated[
        bool, typer.Option("--resume/--no-resume", help="Reuse finished settings in --out.")
    ] = QUALITY.resume,
    motion_table: Annotated[
        bool,
        typer.Option(
            "--motion-table/--no-motion-table",
            help="FaceMesh motion signals (bench motion) for same-identity and cross-domain settings.",
        ),
    ] = QUALITY.motion_table,
    seed: Seed = 0,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    from toontalker.bench.runner import baseline_variant, load_model, parse_variants, quality_benchmark
    from toontalker.errors import UsageError

    mode = output_mode(quiet, json)
    loader: Callable[[str, str], Reenactor] = load_model
    if baseline is not None:
        if weights is not None or ablation:
            raise UsageError("--baseline replaces --weights/--ablation: give one of them")
        variant, loader = baseline_variant(baseline, baseline_size)
        variants = [variant]
    else:
        variants = parse_variants(weights, ablation or [], table)
    options = QualityOptions(
        device=_resolve_device(device),
        batch_size=batch_size,
        metrics=tuple(metric) if metric else None,
        max_pairs=max_pairs,
        motion=motion,
        samples=samples,
        resume=resume,
        motion_table=motion_table,
    )
    paths = _protocol_paths(data, out, seed=seed, max_frames=max_frames)
    report = quality_benchmark(
        variants, paths, out, options, table=table, progress=_progress(mode), model_loader=loader
    )
    _render(report, mode)


PAIRED_HELP = "The paired cartoon benchmark: reenact THA2 characters and compare with their ground-truth renders."
PAIRED_EPILOG = """Examples:\n\n  toontalker bench paired --weights runs/stage2 --data ../shared/data --out bench/paired\n
  toontalker bench paired -w runs/stage2 --data ../shared/data --source gt-first-frame --max-frames 60\n
  toontalker bench paired --baseline copy-source --data ../shared/data --out bench/paired-copy-source"""


@app.command("paired", help=PAIRED_HELP, epilog=PAIRED_EPILOG)
def paired_command(
    data: Annotated[
        Path, typer.Option("--data", "-d", help="The shared data root (holds cartoon/videos/tha2_compare).")
    ],
    weights: Weights = None,
    baseline: Baseline = None,
    baseline_size: BaselineSize = 256,
    out: Out = Path("bench-paired"),
    source: Annotated[
        choices.PairedSource, typer.Option("--source", help="'face-image' (rest-pose face PNG) or 'gt-first-frame'.")
    ] = "face-image",
    include_self: Annotated[
        bool, typer.Option("--include-self", help="Also score targets driven by their own clip.")
    ] = False,
    metric: Metrics = None,
    device: Device = "auto",
    batch_size: BatchSize = QUALITY.batch_size,
    max_pairs: MaxPairs = None,
    max_frames: MaxFrames = None,
    samples: Annotated[int, typer.Option("--samples", min=0, help="Rows in the contact sheet.")] = QUALITY.samples,
    resume: Annotated[
        bool, typer.Option("--resume/--no-resume", help="Reuse a finished run in --out.")
    ] = QUALITY.resume,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    from toontalker.bench.runner import Variant, baseline_variant, load_model, paired_benchmark
    from toontalker.errors import UsageError

    if (weights is None) == (baseline is None):
        raise UsageError("give --weights (a weights folder or hub id) or --baseline copy-source, not both")
    if baseline is not None:
        variant, loader = baseline_variant(baseline, baseline_size)
    else:
        assert weights is not None  # exactly one of the two: checked above
        variant, loader = Variant("Ours", weights), load_model
    mode = output_mode(quiet, json)
    options = QualityOptions(
        device=_resolve_device(device),
        batch_size=batch_size,
        metrics=tuple(metric) if metric else None,
        max_pairs=max_pairs,
        samples=samples,
        resume=resume,
    )
    report = paired_benchmark(
        variant,
        data,
        out,
        options,
        source=source,
        include_self=include_self,
        max_frames=max_frames,
        progress=_progress(mode),
        model_loader=loader,
    )
    _render(report, mode)


def _resolve_device(device: str) -> str:
    from toontalker.devices import resolve_device

    return str(resolve_device(device))


# -- commands of other modules, one line each ------------------------------------------------------------
from toontalker.cli import bench_compare, bench_loader, bench_motion, bench_speed, bench_storage, bench_train  # noqa: E402

register(bench_speed.speed_command, "speed", bench_speed.HELP, bench_speed.EPILOG)
register(bench_train.train_step_command, "train-step", bench_train.HELP, bench_train.EPILOG)
register(bench_loader.loader_command, "loader", bench_loader.HELP, bench_loader.EPILOG)
register(bench_storage.storage_command, "storage", bench_storage.HELP, bench_storage.EPILOG)
register(bench_motion.motion_command, "motion", bench_motion.HELP, bench_motion.EPILOG)
register(bench_compare.compare_command, "compare", bench_compare.HELP, bench_compare.EPILOG)
