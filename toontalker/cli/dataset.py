"""`toontalker dataset ...`: build, import, split, inspect and verify face-video datasets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from toontalker.cli import choices
from toontalker.cli.common import JsonOutput, Quiet, Seed, Workers, option_defaults, output_mode
from toontalker.console import OutputMode, print_json, stderr_console, stdout_console
from toontalker.dataset.options import BuildConfig, ConvertOptions, ImportOptions

BUILD = option_defaults(BuildConfig)  # the library's defaults: one home (dataset/options.py)
IMPORT = option_defaults(ImportOptions)

app = typer.Typer(
    help="Build training-ready face clips from raw videos: build, import, landmarks, merge, convert, split, stats, verify.",
    epilog="Examples:\n\n  toontalker dataset build raw_videos/ data/real --domain real --test 4\n\n"
    "  toontalker dataset import vox/ data/vox --domain real --identity-from parent\n\n"
    "  toontalker dataset landmarks data/real -j 2\n\n  toontalker dataset stats data/real\n\n  toontalker dataset detectors",
    no_args_is_help=True,
)

Domain = Annotated[choices.Domain, typer.Option("--domain", "-d", help="'real' or 'cartoon'.")]
Size = Annotated[int, typer.Option("--size", help="Side of the stored square clips, pixels.")]
Format = Annotated[
    choices.ClipFormat,
    typer.Option("--format", help="Clip storage: jpg (default), png, npy or mp4 (see docs/dataset.md)."),
]
IdentityFrom = Annotated[
    choices.IdentityFrom,
    typer.Option(
        "--identity-from", help="Identity of a clip: 'stem' (file name), 'parent' (folder name) or 'pattern'."
    ),
]
IdentityPattern = Annotated[
    str,
    typer.Option(
        "--identity-pattern", help="With --identity-from pattern: a regex on the file stem; group 1 is the identity."
    ),
]
Landmarks = Annotated[
    bool, typer.Option("--landmarks/--no-landmarks", help="Store FaceMesh landmarks of every clip (needs mediapipe).")
]


def _progress(mode: OutputMode, label: str, describe: Callable[[Any], str] | None = None):
    """A rich progress bar for a per-item loop and its ``update(item_result, done, total)`` callback; the
    bar's last column is ``describe(result)`` (default: the build/merge results' ``rel: status``)."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=stderr_console(),
        disable=not mode.show_bars,
    )
    task = progress.add_task(label, total=None, last="")
    text = describe or (lambda result: f"{result.rel[-40:]}: {result.status}")

    def update(result, done: int, total: int) -> None:
        progress.update(task, completed=done, total=total, last=text(result))

    return progress, update


def _render_summary(summary, mode: OutputMode, what: str) -> None:
    if mode.json:
        print_json({**{k: getattr(summary, k) for k in summary.__dataclass_fields__}, "input_fps": summary.input_fps})
        return
    if mode.quiet:
        return
    console = stdout_console()
    part = f" (shard {summary.shard})" if getattr(summary, "shard", "") else ""
    console.print(
        f"[bold]{what}[/bold] {summary.out_dir}{part}: {summary.clips} clips ({summary.clip_frames} frames) from "
        f"{summary.videos} inputs; {summary.processed} processed now, {summary.skipped} already done; "
        f"detector {summary.detector}"
    )
    if summary.processed:
        console.print(f"{summary.frames_in} input frames in {summary.seconds:.1f} s = {summary.input_fps:.1f} frames/s")
    problems = Table(title="inputs without clips", show_header=True)
    for col in ("input", "status", "reason"):
        problems.add_column(col, overflow="fold")
    for rel, reason in summary.failed:
        problems.add_row(rel, "[red]failed[/red]", reason)
    for rel, reason in summary.no_clips:
        problems.add_row(rel, "[yellow]no clips[/yellow]", reason)
    for entry in summary.unreadable:
        problems.add_row(entry.split(":")[0], "[red]unreadable[/red]", entry.split(":", 1)[-1].strip())
    if problems.row_count:
        console.print(problems)
    if summary.ignored:
        console.print(f"ignored {len(summary.ignored)} non-video files (e.g. {summary.ignored[0]})")
    _render_coverage(console, summary.landmarks)
    _render_failures(console, summary.landmark_failed, "[yellow]no landmarks[/yellow] for clip")
    if summary.manifest is not None:
        console.print(f"manifest: {summary.manifest} (+ .csv)")


def _render_failures(console, failed, label: str, shown: int = 10) -> None:
    for clip_id, reason in failed[:shown]:
        console.print(f"{label} {clip_id}: {reason}")
    if len(failed) > shown:
        console.print(f"... and {len(failed) - shown} more (--json lists all)")


def _render_coverage(console, coverage) -> None:
    for c in coverage:
        found = f", face found in {c.detected}/{c.frames} frames ({100 * c.detection_rate:.1f}%)" if c.frames else ""
        console.print(f"landmarks {c.domain}: {c.with_landmarks}/{c.clips} clips{found}")
    if any(c.with_landmarks < c.clips for c in coverage):
        console.print("clips without landmarks: `toontalker dataset landmarks DATASET` adds them")


BUILD_EPILOG = """Examples:

  toontalker dataset build raw/cartoon data/ --domain cartoon

  toontalker dataset build raw/vox data/ --domain real -j 4 --test 0.1

  toontalker dataset build raw/cropped data/ --no-crop --identity-from parent

  toontalker dataset build raw/one_shot data/ --box 120,40,520,440 --detector haar

  toontalker dataset build raw/vox shards/3 --shard 3/16 -j 8      (machine 3 of 16; then dataset merge)
"""


@app.command("build", epilog=BUILD_EPILOG)
def build_command(
    raw_dir: Annotated[Path, typer.Argument(help="Folder of raw videos (searched recursively).")],
    out_dir: Annotated[Path, typer.Argument(help="Dataset folder to create or resume.")],
    domain: Domain = BUILD.domain,
    size: Size = BUILD.size,
    fmt: Format = BUILD.format,
    detector: Annotated[
        choices.Detector, typer.Option("--detector", help="auto, s3fd, mediapipe, haar, dlib-hog or dlib-cnn.")
    ] = BUILD.detector,
    scale: Annotated[
        float, typer.Option("--scale", help="Crop side / side of the box covering the face over the clip.")
    ] = BUILD.scale,
    min_frames: Annotated[int, typer.Option("--min-frames", help="Drop clips shorter than this.")] = BUILD.min_frames,
    max_frames: Annotated[
        int, typer.Option("--max-frames", help="Split longer clips into pieces (0: no limit).")
    ] = BUILD.max_frames,
    min_face: Annotated[
        int, typer.Option("--min-face", help="Drop clips whose median face box side is below this (source px).")
    ] = BUILD.min_face,
    iou: Annotated[
        float, typer.Option("--iou", help="New clip when the face box overlaps the last one less than this.")
    ] = BUILD.iou_threshold,
    max_lost: Annotated[
        int, typer.Option("--max-lost", help="Frames the face may be missed before its clip ends.")
    ] = BUILD.max_lost,
    detect_every: Annotated[
        int, typer.Option("--detect-every", help="Run the detector on every N-th frame (interpolate between).")
    ] = BUILD.detect_every,
    smooth: Annotated[
        int, typer.Option("--smooth", help="Moving-average window over face boxes, frames (1: off).")
    ] = BUILD.smooth,
    scenes: Annotated[
        choices.SceneDetector, typer.Option("--scenes", help="Scene-cut detector: content, adaptive or none.")
    ] = BUILD.scene_detector,
    scene_threshold: Annotated[
        float, typer.Option("--scene-threshold", help="ContentDetector threshold (lower: more cuts).")
    ] = BUILD.scene_threshold,
    box: Annotated[
        str, typer.Option("--box", help="Manual crop X0,Y0,X1,Y1 (source px) for every video; no detection.")
    ] = BUILD.box,
    no_crop: Annotated[
        bool, typer.Option("--no-crop", help="Already-cropped videos: centre square, no detection.")
    ] = BUILD.no_crop,
    identity_from: IdentityFrom = BUILD.identity_from,
    identity_pattern: IdentityPattern = BUILD.identity_pattern,
    landmarks: Landmarks = BUILD.landmarks,
    workers: Workers = 1,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Delete OUT_DIR's clips and manifest and start again.")
    ] = False,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Process again the videos that failed last time.")
    ] = False,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            help="K/N: build only part K (0..N-1) of a fixed partition of the videos into OUT_DIR; "
            "join the N folders with dataset merge.",
        ),
    ] = None,
    test: Annotated[
        float | None, typer.Option("--test", help="Also split: test identities, fraction (<1) or count.")
    ] = None,
    seed: Seed = 0,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    """Cut raw videos into face clips: scenes, face tracks, one stable square crop per clip, a manifest."""
    from toontalker.dataset.build import build_dataset
    from toontalker.dataset.shards import Shard
    from toontalker.dataset.split import split_dataset
    from toontalker.errors import UsageError

    mode = output_mode(quiet, json)
    if shard is not None and test is not None:
        raise UsageError("--test splits the whole dataset: split after dataset merge (merge --test), not per shard")
    config = BuildConfig(
        domain=domain,
        size=size,
        format=fmt,
        detector=detector,
        scale=scale,  # ConfigError: exit 2
        min_frames=min_frames,
        max_frames=max_frames,
        min_face=min_face,
        iou_threshold=iou,
        max_lost=max_lost,
        detect_every=detect_every,
        smooth=smooth,
        scene_detector=scenes,
        scene_threshold=scene_threshold,
        no_crop=no_crop,
        box=box,
        identity_from=identity_from,
        identity_pattern=identity_pattern,
        landmarks=landmarks,
    )
    progress, update = _progress(mode, "build")
    with progress:
        summary = build_dataset(
            raw_dir,
            out_dir,
            config,
            workers=workers,
            overwrite=overwrite,
            retry_failed=retry_failed,
            progress=update,
            shard=Shard.parse(shard) if shard is not None else None,
        )
    if test is not None and summary.manifest is not None:
        split_dataset(out_dir, test=test, seed=seed)
    _render_summary(summary, mode, "built")
    if summary.manifest is None:
        raise typer.Exit(1)


IMPORT_EPILOG = """Examples:

  toontalker dataset import vox/ data/ --domain real --identity-from parent

  toontalker dataset import frames/ data/ --domain cartoon --fps 30
"""


@app.command("import", epilog=IMPORT_EPILOG)
def import_command(
    src_dir: Annotated[Path, typer.Argument(help="Folder of cropped clips: videos and/or folders of frames.")],
    out_dir: Annotated[Path, typer.Argument(help="Dataset folder to create or extend.")],
    domain: Domain = IMPORT.domain,
    size: Size = IMPORT.size,
    fmt: Format = IMPORT.format,
    fps: Annotated[float, typer.Option("--fps", help="Frame rate of frame folders.")] = IMPORT.fps,
    identity_from: IdentityFrom = IMPORT.identity_from,
    identity_pattern: IdentityPattern = IMPORT.identity_pattern,
    landmarks: Landmarks = IMPORT.landmarks,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    """Register already-cropped clips (videos or frame folders) without face cropping."""
    from toontalker.dataset.importer import import_clips

    mode = output_mode(quiet, json)
    options = ImportOptions(
        domain=domain,
        size=size,
        format=fmt,
        fps=fps,
        identity_from=identity_from,
        identity_pattern=identity_pattern,
        landmarks=landmarks,
    )
    progress, update = _progress(mode, "import")
    with progress:
        summary = import_clips(src_dir, out_dir, options, update)
    _render_summary(summary, mode, "imported")
    if summary.manifest is None:
        raise typer.Exit(1)


@app.command(
    "landmarks",
    epilog="Examples:\n\n  toontalker dataset landmarks data/ -j 2\n\n  toontalker dataset landmarks data/ --overwrite",
)
def landmarks_command(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder (or its manifest).")],
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Recompute clips that already have landmarks.")
    ] = False,
    workers: Workers = 1,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    """Add FaceMesh landmarks (468 points per frame, in clip pixels) to every clip that has none; resumable."""
    from toontalker.dataset.landmark_pass import LandmarkOptions, add_landmarks

    mode = output_mode(quiet, json)
    progress, update = _progress(
        mode, "landmarks", lambda outcome: f"{outcome.clip_id[-40:]}: {'ok' if outcome.ok else 'failed'}"
    )
    with progress:
        summary = add_landmarks(dataset, LandmarkOptions(workers=workers, overwrite=overwrite), update)
    if mode.json:
        print_json(
            {
                **{k: getattr(summary, k) for k in summary.__dataclass_fields__},
                "frames_per_second": summary.frames_per_second,
            }
        )
    elif not mode.quiet:
        console = stdout_console()
        console.print(
            f"[bold]landmarks[/bold] {summary.dataset}: {summary.clips} clips; {summary.done} done now, "
            f"{summary.skipped} already had landmarks, {len(summary.failed)} failed"
        )
        if summary.frames:
            console.print(
                f"{summary.frames} frames in {summary.seconds:.1f} s = {summary.frames_per_second:.1f} frames/s"
            )
        _render_failures(console, summary.failed, "[red]failed[/red]")
        _render_coverage(console, summary.coverage)
    if summary.failed:
        raise typer.Exit(1)


MERGE_EPILOG = """Examples:

  toontalker dataset merge shards/0 shards/1 shards/2 shards/3 data/

  toontalker dataset merge shards/* data/ --test 0.1 --seed 0     (split the merged dataset by identity)
"""


@app.command("merge", epilog=MERGE_EPILOG)
def merge_command(
    folders: Annotated[list[Path], typer.Argument(help="The shard folders (or any dataset folders), then OUT_DIR.")],
    copy: Annotated[bool, typer.Option("--copy", help="Copy the clips (default: hard links where possible).")] = False,
    partial: Annotated[
        bool, typer.Option("--partial", help="Merge even if some shards of a build are missing.")
    ] = False,
    test: Annotated[
        float | None,
        typer.Option("--test", help="Re-split the merged dataset: test identities, fraction (<1) or count."),
    ] = None,
    val: Annotated[float, typer.Option("--val", help="With --test: validation identities, fraction or count.")] = 0.0,
    seed: Seed = 0,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    """Join the folders of a sharded build (dataset build --shard K/N) into one dataset, resumably."""
    from toontalker.dataset.merge import merge_datasets
    from toontalker.errors import UsageError

    if len(folders) < 2:
        raise UsageError("give at least one dataset folder and OUT_DIR")
    mode = output_mode(quiet, json)
    progress, update = _progress(mode, "merge")
    with progress:
        summary = merge_datasets(
            folders[:-1],
            folders[-1],
            link=not copy,
            allow_partial=partial,
            test=test,
            val=val,
            seed=seed,
            progress=update,
        )
    if mode.json:
        print_json(summary)
    elif not mode.quiet:
        shards = f"; {', '.join(summary.shards)}" if summary.shards else ""
        stdout_console().print(
            f"[bold]merged[/bold] {summary.inputs} folders into {summary.out_dir}: {summary.clips} clips of "
            f"{summary.identities} identities from {summary.videos} videos ({summary.merged} merged now, "
            f"{summary.skipped} already there){shards}" + ("; splits re-assigned" if summary.resplit else "")
        )
    if summary.manifest is None:
        raise typer.Exit(1)


CONVERT = option_defaults(ConvertOptions)


@app.command(
    "convert",
    epilog="Examples:\n\n  toontalker dataset convert data/real-mp4 data/real --format jpg     (on the training machine)"
    "\n\n  toontalker dataset convert data/real data/real-npy --format npy",
)
def convert_command(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder (or its manifest).")],
    out_dir: Annotated[Path, typer.Argument(help="New dataset folder.")],
    fmt: Format = CONVERT.format,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Rewrite clips converted before.")] = CONVERT.overwrite,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    """The same dataset in another clip format (e.g. mp4 to move, jpg or npy to train); resumable."""
    from toontalker.dataset.convert import convert_dataset

    mode = output_mode(quiet, json)
    progress, update = _progress(mode, "convert", lambda outcome: f"{outcome.clip_id[-40:]}: {outcome.status}")
    with progress:
        summary = convert_dataset(dataset, out_dir, ConvertOptions(format=fmt, overwrite=overwrite), update)
    if mode.json:
        print_json(summary)
    elif not mode.quiet:
        stdout_console().print(
            f"[bold]converted[/bold] {summary.dataset} -> {summary.out_dir} ({summary.format}): {summary.clips} clips, "
            f"{summary.frames} frames; {summary.converted} converted now, {summary.skipped} already there; "
            f"{summary.landmarks} landmark files"
        )


@app.command(
    "split",
    epilog="Examples:\n\n  toontalker dataset split data/ --test 0.15\n\n"
    "  toontalker dataset split data/ --test 5 --val 2 --by source --seed 1",
)
def split_command(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder (or its manifest).")],
    test: Annotated[float, typer.Option("--test", help="Test groups per domain: a fraction (<1) or a count.")] = 0.15,
    val: Annotated[float, typer.Option("--val", help="Validation groups per domain: a fraction or a count.")] = 0.0,
    by: Annotated[
        choices.SplitBy, typer.Option("--by", help="Group by 'identity' or 'source' video; a group never spans splits.")
    ] = "identity",
    seed: Seed = 0,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    """Assign train/test/val splits by identity (or source video), per domain, reproducibly."""
    from toontalker.dataset.split import split_dataset

    mode = output_mode(quiet, json)
    summary = split_dataset(dataset, test=test, val=val, seed=seed, group_by=by)
    if mode.json:
        print_json(summary)
    elif not mode.quiet:
        table = Table(title=f"splits by {summary.group_by} ({summary.manifest})")
        for col in ("domain", "split", f"{summary.group_by}s", "clips"):
            table.add_column(col)
        for row in summary.rows:
            table.add_row(*map(str, row))
        stdout_console().print(table)


@app.command(
    "stats",
    epilog="Examples:\n\n  toontalker dataset stats data/\n\n"
    "  toontalker dataset stats data/ --sheet sheet.png --count 48",
)
def stats_command(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder (or its manifest).")],
    sheet: Annotated[Path | None, typer.Option("--sheet", help="Write a contact sheet of sample crops (PNG).")] = None,
    count: Annotated[int, typer.Option("--count", help="Clips on the contact sheet.")] = 24,
    seed: Seed = 0,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    """Clips, identities, frames and durations per domain and split; optional contact sheet."""
    from toontalker.dataset.inspect import dataset_stats

    mode = output_mode(quiet, json)
    stats = dataset_stats(dataset, sheet=sheet, sheet_count=count, seed=seed)
    if mode.json:
        print_json(stats)
        return
    if mode.quiet:
        return
    table = Table(title=f"{stats.dataset}: {stats.total_clips} clips, {stats.total_frames} frames")
    for col in ("domain", "split", "clips", "identities", "sources", "frames", "seconds", "frames/clip"):
        table.add_column(col)
    for r in stats.rows:
        table.add_row(
            r.domain,
            r.split,
            str(r.clips),
            str(r.identities),
            str(r.sources),
            str(r.frames),
            f"{r.seconds:.1f}",
            f"{r.mean_clip_frames:.0f}",
        )
    console = stdout_console()
    console.print(table)
    _render_coverage(console, stats.landmarks)
    if stats.contact_sheet:
        console.print(f"contact sheet: {stats.contact_sheet}")


@app.command(
    "verify", epilog="Examples:\n\n  toontalker dataset verify data/\n\n  toontalker dataset verify data/ --all-frames"
)
def verify_command(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder (or its manifest).")],
    all_frames: Annotated[
        bool, typer.Option("--all-frames", help="Decode every frame (default: first, middle, last).")
    ] = False,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    """Check that every manifest row's clip exists, has its frames, and decodes at the right size; and that
    each landmark file present is readable and has one row per clip frame."""
    from toontalker.dataset.inspect import verify_dataset

    mode = output_mode(quiet, json)
    report = verify_dataset(dataset, all_frames)
    if mode.json:
        print_json({**{k: getattr(report, k) for k in report.__dataclass_fields__}, "ok": report.ok})
    elif not mode.quiet or report.problems:
        console = stdout_console() if report.ok else stderr_console()
        console.print(
            f"{report.dataset}: {report.clips} clips, {report.frames_checked} frames decoded, "
            f"{report.landmarks_checked} landmark files read, {len(report.problems)} problems"
        )
        if report.without_landmarks:
            console.print(
                f"{len(report.without_landmarks)} clips without landmarks (e.g. "
                f"{', '.join(report.without_landmarks[:3])}): `toontalker dataset landmarks` adds them"
            )
        for clip_id, problem in report.problems:
            console.print(f"  {clip_id}: {problem}")
    if not report.ok:
        raise typer.Exit(1)


@app.command(
    "detectors",
    epilog="Examples:\n\n  toontalker dataset detectors\n\n"
    "  toontalker dataset detectors --measure ../shared/data --max-items 40 --frames-per-video 2",
)
def detectors_command(
    measure: Annotated[
        Path | None, typer.Option("--measure", help="Measure hit rates on a data folder laid out like ../shared/data.")
    ] = None,
    max_items: Annotated[
        int, typer.Option("--max-items", min=1, help="Items per group when measuring (spread evenly).")
    ] = 40,
    frames_per_video: Annotated[
        int, typer.Option("--frames-per-video", min=1, help="Frames sampled from each video when measuring.")
    ] = 3,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    """List the face detector backends usable here; optionally measure their hit rates."""
    from toontalker.faces import AUTO_ORDER, available_detectors
    from toontalker.faces.hitrate import markdown_table, measure_all

    mode = output_mode(quiet, json)
    status = available_detectors()
    usable = [name for name, state in status.items() if state == "ok"]
    results = measure_all(measure, usable, max_items=max_items, frames_per_video=frames_per_video)[0] if measure else []
    if mode.json:
        print_json({"backends": status, "auto": AUTO_ORDER, "hit_rates": results})
        return
    if mode.quiet:
        return
    console = stdout_console()
    table = Table(title="face detectors")
    table.add_column("backend")
    table.add_column("status", overflow="fold")
    for name, state in status.items():
        table.add_row(name, "[green]ok[/green]" if state == "ok" else f"[red]{state}[/red]")
    console.print(table)
    for domain, order in AUTO_ORDER.items():
        console.print(f"auto for {domain}: first usable of {', '.join(order)}")
    if results:
        console.print(markdown_table(results))
