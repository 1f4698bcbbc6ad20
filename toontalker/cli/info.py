"""`toontalker info`: versions, device, optional backends, cached weights, caches."""

from __future__ import annotations

from rich.table import Table

from toontalker.cli.common import JsonOutput, Quiet, output_mode
from toontalker.console import print_json, stdout_console

HELP = "Show versions, the compute device, which optional backends and cached weights are available, and where the caches are."
EPILOG = "Examples:\n\n  toontalker info\n\n  toontalker info --json | jq .backends"


def info_command(quiet: Quiet = False, json: JsonOutput = False) -> None:
    from toontalker.info import collect_info

    mode = output_mode(quiet, json)
    info = collect_info()
    if mode.json:
        print_json(info)
        return
    if mode.quiet:
        return
    console = stdout_console()
    console.print(f"[bold]toontalker[/bold] {info.toontalker}  python {info.python}  {info.platform}")
    dev = info.device
    gpus = ", ".join(dev.cuda_devices) if dev.cuda_available else "none"
    console.print(f"device: CUDA {gpus}; MPS {'yes' if dev.mps_available else 'no'}; CPU threads {dev.torch_threads}")
    console.print(f"ffmpeg: {info.ffmpeg or 'not found (apt-get install ffmpeg)'}")
    console.print(f"ffprobe: {info.ffprobe or 'not found (apt-get install ffmpeg)'}")

    packages = Table(title="packages", show_header=True)
    packages.add_column("package", overflow="fold")
    packages.add_column("version", overflow="fold")
    for p in info.packages:
        packages.add_row(p.name, p.version or "[dim]not installed[/dim]")
    console.print(packages)

    backends = Table(title="backends", show_header=True)
    for col in ("backend", "for", "available", "detail"):
        backends.add_column(col, overflow="fold")
    for b in info.backends:
        backends.add_row(b.name, b.purpose, "[green]yes[/green]" if b.available else "[red]no[/red]", b.detail)
    console.print(backends)

    weights = Table(title="pretrained weights (torch hub cache)", show_header=True)
    for col in ("file", "used by", "cached"):
        weights.add_column(col, overflow="fold")  # paths and file names in full, wrapped, never cut with "..."
    for w in info.weights:
        weights.add_row(w.filename, w.used_by, "[green]yes[/green]" if w.present else f"[red]missing[/red] ({w.path})")
    console.print(weights)
    console.print(f"default model weights: {info.default_weights or 'none shipped (use --weights DIR_OR_HUB_ID)'}")
    for name, path in info.caches.items():
        console.print(f"cache {name}: {path}")
