"""Options shared by several commands, defined once as ``Annotated`` aliases."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any

import typer

from toontalker.cli import choices
from toontalker.console import OutputMode

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print the result as one JSON document on stdout.")]
Device = Annotated[
    str, typer.Option("--device", help="Torch device: 'auto' (CUDA if present, else CPU), 'cpu', 'cuda', 'cuda:1'.")
]
Dtype = Annotated[
    choices.Dtype,
    typer.Option(
        "--dtype",
        case_sensitive=False,
        help="Compute dtype: 'auto' (bf16 on GPU and on CPUs with native bf16, i.e. AVX-512 BF16 or AMX; fp32 on "
        "other CPUs), 'fp32', 'bf16', 'fp16'.",
    ),
]
Seed = Annotated[int, typer.Option("--seed", help="Random seed (runs are reproducible for a given seed).")]
Workers = Annotated[int, typer.Option("--workers", "-j", min=1, help="Parallel worker processes.")]
Overrides = Annotated[
    list[str] | None,
    typer.Option("--set", metavar="KEY=VALUE", help="Override a config field (repeatable), e.g. --set lr=1e-4."),
]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", exists=False, help="A JSON or YAML config file to start from.")
]
Weights = Annotated[
    str | None,
    typer.Option("--weights", "-w", help="Weights folder or Hugging Face hub id (OWNER/NAME or OWNER/NAME@REVISION)."),
]


Baseline = Annotated[
    choices.BaselineName | None,
    typer.Option(
        "--baseline", help="Score a no-reenactment baseline instead of weights: 'copy-source' (output = source frame)."
    ),
]
BaselineSize = Annotated[
    int,
    typer.Option("--baseline-size", min=8, help="Image size the --baseline works at (a model's own size otherwise)."),
]


def option_defaults(options_class: Any) -> SimpleNamespace:
    """The field defaults of a library options dataclass, read without building one (no checks run), so
    an option's CLI default is the library's: ``DEFAULTS = option_defaults(AnimateOptions)``, then
    ``= DEFAULTS.crop_scale``."""
    return SimpleNamespace(
        **{f.name: f.default for f in dataclasses.fields(options_class) if f.default is not dataclasses.MISSING}
    )


def output_mode(quiet: bool, json: bool) -> OutputMode:
    return OutputMode(quiet=quiet, json=json)


JsonReport = Annotated[Path | None, typer.Option("--output", "-o", help="Also write the results as JSON to this file.")]
