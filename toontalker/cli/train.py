"""`toontalker train`: stage 1 (real reconstruction) and stage 2 (cross-domain, analogy constraint)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from toontalker.cli import choices
from toontalker.cli.common import ConfigFile, Device, JsonOutput, Overrides, Quiet, Seed, output_mode
from toontalker.console import print_json, stderr_console, stdout_console
from toontalker.errors import EXIT_INTERRUPTED

if TYPE_CHECKING:
    from toontalker.console import OutputMode
    from toontalker.train import TrainResult

HELP = (
    "Train ToonTalker. --stage 1: real-domain reconstruction (L1 + 10 x perceptual + GAN, Eq. 11). "
    "--stage 2: copies the real-domain components into the cartoon ones (Sec. 3.3) and trains both domains "
    "with Eq. 12 (reconstructions, the analogy constraint with lambda_m, adversarial losses on the synthetic "
    "faces). Multi-GPU: the same command under torchrun."
)
EPILOG = """Examples:

  toontalker train --stage 1 --data data/real --preset paper-256 --out runs/s1

  toontalker train --stage 2 --data data/real --cartoon-data data/cartoon --init runs/s1 --out runs/s2

  toontalker train --stage 2 ... --no-analogy --out runs/s2-noanalogy      (Table 5)

  toontalker train --stage 2 ... --lambda-m 40 --out runs/s2-lm40           (Table 6)

  toontalker train --stage 1 --out runs/s1 --data data/real --resume --set iterations=500000

  toontalker train --stage 1 --data data/real --config recipe.yaml --set batch_size=32 --set grad_accum=2

  torchrun --nproc-per-node 8 -m toontalker train --stage 1 --data data/real --out runs/s1
"""

Stage = Annotated[int, typer.Option("--stage", min=1, max=2, help="1: real reconstruction; 2: cross-domain (Eq. 12).")]
Data = Annotated[Path, typer.Option("--data", help="Real-domain dataset folder (toontalker dataset build/import).")]
CartoonData = Annotated[Path | None, typer.Option("--cartoon-data", help="Cartoon dataset folder (stage 2).")]
Out = Annotated[Path, typer.Option("--out", "-o", help="Run folder: checkpoints, metrics.jsonl, tb/ (TensorBoard).")]
Preset = Annotated[
    str | None,
    typer.Option("--preset", help="paper-256 | small-256 | tiny (default: paper-256; stage 2: the --init run's)."),
]
Init = Annotated[Path | None, typer.Option("--init", help="Stage 2: the stage-1 run folder or checkpoint.")]
InitWeights = Annotated[
    str | None,
    typer.Option(
        "--init-weights",
        help="Fine-tune from model weights: a weights folder, a hub id, or 'default' (the shipped "
        "demo weights). Discriminators and optimisers start fresh. Not in the paper.",
    ),
]
Resume = Annotated[bool, typer.Option("--resume", help="Continue the run in --out from its newest checkpoint.")]
NoAnalogy = Annotated[bool, typer.Option("--no-analogy", help="Stage 2 without the analogy constraint (Table 5).")]
LambdaM = Annotated[float | None, typer.Option("--lambda-m", min=0.0, help="Weight of the analogy loss (paper: 20).")]
PerceptualOpt = Annotated[
    choices.Perceptual | None,
    typer.Option("--perceptual", help="vgg19 (default; needs vgg19-dcbb9e9d.pth cached) or dfm (D feature matching)."),
]


def train_command(
    data: Data,
    out: Out,
    stage: Stage = 1,
    cartoon_data: CartoonData = None,
    preset: Preset = None,
    init: Init = None,
    init_weights: InitWeights = None,
    resume: Resume = False,
    config: ConfigFile = None,
    overrides: Overrides = None,
    no_analogy: NoAnalogy = False,
    lambda_m: LambdaM = None,
    perceptual: PerceptualOpt = None,
    seed: Seed = None,  # type: ignore[assignment]
    device: Device = "auto",
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    from toontalker.train import recipe_for_run, train
    from toontalker.train.start import resolve_init_weights

    mode = output_mode(quiet, json)
    sets = list(overrides or [])
    if no_analogy:
        sets.append("analogy=false")
    if lambda_m is not None:
        sets.append(f"lambda_m={lambda_m}")
    if perceptual is not None:
        sets.append(f"perceptual={perceptual}")
    if seed is not None:
        sets.append(f"seed={seed}")
    if init_weights is not None:
        sets.append(f"init_weights={resolve_init_weights(init_weights)}")
    recipe = recipe_for_run(
        stage,
        out=out,
        resume=resume,
        init=init,
        preset=preset,
        config_file=str(config) if config else None,
        overrides=tuple(sets),
    )
    console = stderr_console()
    if mode.quiet or mode.json:
        console.quiet = True
    result = train(
        recipe,
        real=data,
        cartoon=cartoon_data,
        out=out,
        init=init,
        resume=resume,
        device=device,
        console=console,
        show_progress=mode.show_progress,
    )
    if result.rank == 0:  # under torchrun only rank 0 reports
        _report(result, mode)
    if result.stopped_early:  # Ctrl-C / SIGTERM: a partial model, so `train && weights convert` must not go on
        raise typer.Exit(EXIT_INTERRUPTED)


def _report(result: TrainResult, mode: OutputMode) -> None:
    if mode.json:
        print_json(result)
    elif not mode.quiet:
        losses = "  ".join(f"{k} {v:.4g}" for k, v in sorted(result.losses.items()))
        stopped = " (stopped early: continue with --resume)" if result.stopped_early else ""
        stdout_console().print(
            f"stage {result.stage}: step {result.step}/{result.iterations}{stopped} on {result.world_size} x "
            f"{result.device}; last checkpoint {result.last_checkpoint}\n{losses}"
        )
        from toontalker.train.heldout import heldout_line  # torch: imported when a run has reported

        for name, scores in result.heldout.items():
            stdout_console().print(f"held out {name} at step {result.heldout_step}: {heldout_line(scores)}")
        if result.best_step is not None:
            stdout_console().print(f"best held-out weights: step {result.best_step}, in {result.run_dir / 'best'}")
