"""`toontalker weights ...`: inspect, pull, push and convert model weights."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast

import typer

from toontalker.cli.common import JsonOutput, Quiet, output_mode
from toontalker.console import print_json, stderr_console, stdout_console
from toontalker.conventions import Domain
from toontalker.errors import UsageError

app = typer.Typer(
    help="Model weights: info, pull (from the hub), push, convert (checkpoint -> release).",
    epilog="Examples (owner/...: example hub ids; no toontalker weights are published on the hub yet):\n\n"
    "  toontalker weights convert runs/stage2/checkpoints/step-10000 release/ --dtype fp16\n\n"
    "  toontalker weights info release/\n\n"
    "  toontalker weights push release/ owner/toontalker-small-256\n\n"
    "  toontalker weights pull owner/toontalker-small-256 --revision v1",
    no_args_is_help=True,
)

Revision = Annotated[
    str | None, typer.Option("--revision", "-r", help="Hub branch, tag or commit to use (pins the download).")
]
CacheDir = Annotated[
    Path | None,
    typer.Option("--cache-dir", help="Hugging Face cache folder (default: HF_HUB_CACHE / ~/.cache/huggingface/hub)."),
]


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


@app.command(
    "info",
    help="Show the config, parameter count, stored dtype and files of a weights folder or hub id.",
    epilog="Examples:\n\n  toontalker weights info runs/release\n\n  toontalker weights info owner/toontalker-small-256@v1 --json"
    "\n\n  (owner/...: an example hub id; no toontalker weights are published on the hub yet)",
)
def info_command(
    weights: Annotated[str, typer.Argument(help="Weights folder or hub id OWNER/NAME or OWNER/NAME@REVISION.")],
    revision: Revision = None,
    cache_dir: CacheDir = None,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    from toontalker.weights import weights_info

    mode = output_mode(quiet, json)
    info = weights_info(weights, revision, cache_dir=cache_dir)
    if mode.json:
        print_json(info)
        return
    if mode.quiet:
        return
    console = stdout_console()
    console.print(f"[bold]{info.path}[/bold]")
    console.print(
        f"preset: {info.preset or 'custom'}   parameters: {info.parameters:,} in {info.tensors} tensors   dtype: {info.dtype}"
    )
    cfg = info.config
    console.print(
        f"image {cfg.image_size}^2, channels {list(cfg.channels)}, K={cfg.num_motions}, d={cfg.code_dim}, "
        f"query={cfg.query_transformer}, backward={'on' if cfg.backward_transformer else 'off'}, sft={'on' if cfg.sft else 'off'}, "
        f"motion_skip={'on' if cfg.motion_skip else 'off'}"
    )
    for f in info.files:
        console.print(f"  {f.name:<40} {_size(f.bytes):>10}")
    console.print(f"  {'total':<40} {_size(info.total_bytes):>10}")
    console.print(f"all tensors finite; sha256 {info.checksums}")


@app.command(
    "pull",
    help="Download weights from the Hugging Face hub into the normal HF cache (offline: HF_HUB_OFFLINE=1 checks the cache only).",
    epilog="Examples:\n\n  toontalker weights pull owner/toontalker-small-256\n\n  toontalker weights pull owner/toontalker-small-256 --revision v1"
    "\n\n  (owner/...: an example hub id; no toontalker weights are published on the hub yet)",
)
def pull_command(
    repo_id: Annotated[str, typer.Argument(help="Hub id OWNER/NAME or OWNER/NAME@REVISION.")],
    revision: Revision = None,
    cache_dir: CacheDir = None,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    from toontalker.weights import load_folder, parse_hub_id, resolve_weights

    if parse_hub_id(repo_id) is None:
        raise UsageError(f"{repo_id}: not a hub id of the form owner/name[@revision]")
    mode = output_mode(quiet, json)
    folder = resolve_weights(repo_id, revision, cache_dir=cache_dir)
    load_folder(folder)  # check the download loads strictly
    if mode.json:
        print_json({"repo_id": repo_id, "revision": revision, "path": str(folder)})
    elif not mode.quiet:
        stdout_console().print(f"{repo_id}: weights at {folder}")


@app.command(
    "push",
    help="Upload a weights folder to the Hugging Face hub (it is loaded first: broken weights are never published).",
    epilog="Examples:\n\n  toontalker weights push runs/release owner/toontalker-small-256\n\n  toontalker weights push runs/release owner/toontalker-small-256 --private --branch dev"
    "\n\n  (owner/...: replace with your account; the end-to-end publishing steps are in docs/model.md, 'Hub')",
)
def push_command(
    directory: Annotated[Path, typer.Argument(help="Weights folder (config.json + model.safetensors + README.md).")],
    repo_id: Annotated[str, typer.Argument(help="Hub repo id owner/name (created if missing).")],
    branch: Annotated[str | None, typer.Option("--branch", help="Branch to commit to (default: main).")] = None,
    private: Annotated[bool, typer.Option("--private", help="Create the repo as private.")] = False,
    message: Annotated[str, typer.Option("--message", "-m", help="Commit message.")] = "Upload ToonTalker weights",
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    from toontalker.weights import parse_hub_id, push

    if parse_hub_id(repo_id) is None or "@" in repo_id:
        raise UsageError(f"{repo_id}: not a hub repo id of the form owner/name")
    mode = output_mode(quiet, json)
    url = push(directory, repo_id, revision=branch, private=private, commit_message=message)
    if mode.json:
        print_json({"repo_id": repo_id, "commit": url})
    elif not mode.quiet:
        stdout_console().print(f"pushed {directory} -> {url}")


@app.command(
    "convert",
    help="Turn a training checkpoint folder (model.safetensors + config.json) into release weights with a model card.",
    epilog=(
        "Examples:\n\n  toontalker weights convert runs/stage2/checkpoints/step-10000 release/ --dtype fp16\n\n"
        "  toontalker weights convert ckpt/ release/ --max-shard-size 15MiB --training-data 'VoxCeleb + Disney' "
        "--metric 'FID real->cartoon=28.5'"
    ),
)
def convert_command(
    checkpoint: Annotated[Path, typer.Argument(help="Training checkpoint folder.")],
    out_dir: Annotated[Path, typer.Argument(help="Release weights folder to write.")],
    dtype: Annotated[str, typer.Option("--dtype", help="Stored dtype: fp32, fp16 or bf16.")] = "fp32",
    max_shard_size: Annotated[
        str, typer.Option("--max-shard-size", help="Split into shards above this size, e.g. 2GB, 15MiB.")
    ] = "2GB",
    training_data: Annotated[
        str | None, typer.Option("--training-data", help="Training data, for the model card.")
    ] = None,
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", metavar="NAME=VALUE", help="A metric for the model card (repeatable)."),
    ] = None,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    from toontalker.weights import CardInfo, convert_checkpoint, weights_info

    metrics = []
    for item in metric or []:
        name, sep, value = item.rpartition("=")
        try:
            metrics.append((name.strip(), float(value)))
        except ValueError:
            raise UsageError(f"--metric {item!r}: expected NAME=NUMBER") from None
        if not sep or not name.strip():
            raise UsageError(f"--metric {item!r}: expected NAME=NUMBER")
    card = CardInfo(training_data=training_data or "not stated", metrics=tuple(metrics))
    mode = output_mode(quiet, json)
    out = convert_checkpoint(checkpoint, out_dir, dtype=dtype, card=card, max_shard_size=max_shard_size)
    info = weights_info(out)
    if mode.json:
        print_json(info)
    elif not mode.quiet:
        stderr_console().print(f"converted {checkpoint} -> {out}")
        stdout_console().print(
            f"{out}: {info.parameters:,} parameters, {info.dtype}, {len(info.files)} files, {_size(info.total_bytes)}"
        )


@app.command(
    "export-onnx",
    help=(
        "Export the per-frame animate core (motion encoding, motion transfer, rendering) of a weights folder to "
        "ONNX, for `animate --backend onnx --onnx-model FILE` (onnxruntime on the CPU). The graph is checked "
        "against torch on random inputs. Needs the onnx extra: pip install 'toontalker[onnx]'."
    ),
    epilog=(
        "Examples:\n\n  toontalker weights export-onnx core.onnx\n\n"
        "  toontalker weights export-onnx real-from-cartoon.onnx --weights runs/release --source-domain real "
        "--driving-domain cartoon"
    ),
)
def export_onnx_command(
    output: Annotated[Path, typer.Argument(help="The .onnx file to write.")],
    weights: Annotated[
        str | None, typer.Option("--weights", "-w", help="Weights folder or hub id (default: the shipped weights).")
    ] = None,
    source_domain: Annotated[
        str, typer.Option("--source-domain", help="Domain of the source: cartoon or real.")
    ] = "cartoon",
    driving_domain: Annotated[
        str, typer.Option("--driving-domain", help="Domain of the driver: real or cartoon.")
    ] = "real",
    no_check: Annotated[bool, typer.Option("--no-check", help="Skip the onnxruntime-vs-torch comparison.")] = False,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    from toontalker.animation.onnx_core import OnnxExportConfig, export_onnx

    mode = output_mode(quiet, json)
    config = OnnxExportConfig(
        source_domain=cast(Domain, source_domain.lower()),  # OnnxExportConfig checks it
        driving_domain=cast(Domain, driving_domain.lower()),
        check=not no_check,
    )
    result = export_onnx(weights, output, config)
    if mode.json:
        print_json(result)
    elif not mode.quiet:
        check = (
            "not checked"
            if result.max_abs_difference is None
            else f"max |onnx - torch| = {result.max_abs_difference:.2e}"
        )
        stdout_console().print(
            f"wrote {result.path} ({_size(result.bytes)}, {result.source_domain} from "
            f"{result.driving_domain}) in {result.seconds:.1f} s; {check}"
        )
