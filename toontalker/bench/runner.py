"""What the `toontalker bench` commands call: protocols, quality runs (with ablation variants), paired bench.

One function per command; each returns a typed result (:class:`BenchReport`) the CLI renders.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from toontalker.animation.core import Reenactor
from toontalker.bench.baselines import BASELINE_LABELS, make_baseline
from toontalker.bench.paired import paired_cartoon_pairs
from toontalker.bench.paper_numbers import ABLATION_TABLES, table_methods
from toontalker.bench.protocols import ProtocolFile, ProtocolOptions, generate_protocols, load_manifest, setting_spec
from toontalker.bench.quality import QualityOptions, run_quality
from toontalker.bench.report import RunResults, TableView, all_metrics_table, main_tables_for, paper_table, write_report
from toontalker.errors import UsageError
from toontalker.io_utils import atomic_path

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Variant:
    """A model to evaluate: ``label`` in tables (an ablation row name for Tables 5-7) and its weights."""

    label: str
    weights: str


@dataclass(frozen=True)
class BenchReport:
    runs: tuple[RunResults, ...]
    tables: tuple[TableView, ...]
    markdown: Path
    csv: Path


def make_protocols(
    manifest: Path, out_dir: Path, settings: Sequence[str], options: ProtocolOptions
) -> list[ProtocolFile]:
    """`bench protocol`: one pair-list CSV per setting from the manifest's test split."""
    for setting in settings:
        setting_spec(setting)
        if setting == "paired-cartoon":
            raise UsageError("paired-cartoon pairs come from the shared data folder: use `toontalker bench paired`")
    return generate_protocols(load_manifest(manifest), list(settings), options, out_dir)


def load_model(weights: str, device: str) -> Reenactor:
    """A ToonTalker from a weights folder or hub id (toontalker.weights.from_pretrained), in eval mode."""
    try:
        from toontalker.weights import from_pretrained
    except ImportError as exc:
        raise UsageError(f"the model is not part of this build ({exc})") from exc
    from toontalker.devices import enable_fast_kernels

    enable_fast_kernels(torch.device(device))
    return from_pretrained(weights, device=device).eval()


def baseline_variant(name: str, image_size: int = 256) -> tuple[Variant, Callable[[str, str], Reenactor]]:
    """``--baseline NAME``: the variant (labelled e.g. 'Copy source (baseline)') and a loader returning it."""
    baseline = make_baseline(name, image_size)
    return Variant(BASELINE_LABELS[name], f"baseline:{name}@{image_size}"), lambda weights, device: baseline


def slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", label).strip("_") or "run"


def parse_variants(weights: str | None, ablations: Sequence[str], table: int | None) -> list[Variant]:
    """``--weights W`` -> one 'Ours' variant; ``--ablation LABEL=W`` (repeatable) with ``--table 5|6|7``."""
    if ablations:
        if table not in ABLATION_TABLES:
            raise UsageError("ablation variants need table 5, 6 or 7")
        variants = []
        for item in ablations:
            label, sep, path = item.rpartition("=")  # labels may hold "=" (lambda_m=20)
            if not sep or not label or not path:
                raise UsageError(f"ablation {item!r}: expected LABEL=WEIGHTS, e.g. 'w/o analogy=runs/noanalogy'")
            known = table_methods(table)
            if label not in known:
                raise UsageError(f"ablation {item!r}: Table {table} rows are {', '.join(known)}")
            variants.append(Variant(label, path))
        return variants
    if weights is None:
        raise UsageError("give weights (or ablation variants LABEL=WEIGHTS with a table)")
    if table is not None and table in ABLATION_TABLES:
        raise UsageError(f"Table {table} compares variants: give them as ablations LABEL=WEIGHTS")
    return [Variant("Ours", weights)]


def quality_benchmark(
    variants: Sequence[Variant],
    protocol_paths: Sequence[Path],
    out_dir: Path,
    options: QualityOptions,
    table: int | None = None,
    progress: Progress | None = None,
    model_loader: Callable[[str, str], Reenactor] = load_model,
) -> BenchReport:
    """`bench quality`: every variant through every protocol, then the paper's tables beside ours."""
    if not protocol_paths:
        raise UsageError("no protocol CSVs given (make them with `toontalker bench protocol`)")
    out_dir = Path(out_dir)
    runs = []
    for variant in variants:
        if progress:
            progress(f"loading {variant.label}: {variant.weights}")
        model = model_loader(variant.weights, options.device)
        run_dir = out_dir if len(variants) == 1 else out_dir / slug(variant.label)
        results = run_quality(model, list(protocol_paths), run_dir, options, progress, variant.weights)
        runs.append(RunResults(variant.label, tuple(results)))
        del model
    settings = [r.setting for r in runs[0].settings]
    tables = [table] if table is not None else main_tables_for(settings)
    views = [paper_table(t, runs) for t in tables] + [all_metrics_table(runs)]
    from toontalker.bench.motion_quality import motion_table

    motion = motion_table(runs)
    views += [motion] if motion is not None else []
    notes = [f"{v.label}: weights {v.weights}" for v in variants] + [
        f"device {options.device}, batch {options.batch_size}, {options.motion} motion",
        "paper numbers come from the paper's own data (VoxCeleb / its Disney-style set); ours from the "
        "protocol CSVs given, so they compare only in kind",
    ]
    md, csv = write_report(views, runs, out_dir, "ToonTalker quality benchmark", notes)
    return BenchReport(tuple(runs), tuple(views), md, csv)


def paired_benchmark(
    variant: Variant,
    data_root: Path,
    out_dir: Path,
    options: QualityOptions,
    source: str = "face-image",
    include_self: bool = False,
    max_frames: int | None = None,
    progress: Progress | None = None,
    model_loader: Callable[[str, str], Reenactor] = load_model,
) -> BenchReport:
    """`bench paired`: the THA2 paired cartoon benchmark (see :mod:`toontalker.bench.paired`)."""
    pairs = paired_cartoon_pairs(data_root, source, include_self, max_frames)  # type: ignore[arg-type]
    out_dir = Path(out_dir)
    protocol = out_dir / "paired-cartoon.csv"
    with atomic_path(protocol) as tmp:
        pairs.to_csv(tmp, index=False)
    if progress:
        progress(f"loading {variant.label}: {variant.weights}")
    model = model_loader(variant.weights, options.device)
    results = run_quality(model, [protocol], out_dir, options, progress, variant.weights)
    runs = [RunResults(variant.label, tuple(results))]
    views = [all_metrics_table(runs)]
    notes = [
        f"weights {variant.weights}",
        f"{len(pairs)} pairs from {Path(data_root) / 'cartoon/videos/tha2_compare'}",
        f"source: {source}; outputs compared with the THA2 ground-truth renders frame by frame",
    ]
    md, csv = write_report(views, runs, out_dir, "Paired cartoon benchmark (THA2 ground truth)", notes)
    return BenchReport(tuple(runs), tuple(views), md, csv)
