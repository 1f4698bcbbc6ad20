"""Where a training run starts, resolved once before any process group, model or data loader exists: a resume
(the newest checkpoint and its recipe), stage 2 from a stage-1 run (Sec. 3.3), fine-tuning from exported weights,
or a fresh start; and the recipe of a command line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toontalker.errors import ConfigError, TrainingError, UsageError
from toontalker.train import checkpoint as ckpt
from toontalker.train.distributed import DistInfo
from toontalker.train.recipe import TrainRecipe, build_recipe
from toontalker.train.trainer import model_config_for


def resolve_init_weights(name: str) -> str:
    """``init_weights`` as given, with ``default`` meaning the shipped demo weights' folder."""
    if name == "default":
        from toontalker.weights import default_weights

        folder = default_weights()
        if folder is None:
            raise UsageError("init_weights 'default': this installation ships no default weights")
        return str(folder)
    return name


@dataclass(frozen=True)
class RunStart:
    """Where a run starts, resolved once (before any process group, model or data loader exists)."""

    recipe: TrainRecipe
    resume: dict[str, Any] | None = None  # the newest checkpoint's trainer state (``resume``)
    stage1: dict[str, Any] | None = None  # the trainer state of the stage-1 run stage 2 starts from (``init``)

    @property
    def start_step(self) -> int:
        return int(self.resume["step"]) if self.resume is not None else 0


def latest_checkpoint(out: Path) -> Path:
    """The newest complete checkpoint of the run in ``out``; TrainingError when it has none."""
    existing = ckpt.list_checkpoints(out)
    if not existing:
        raise TrainingError(f"{out}: --resume given but the run has no checkpoint yet")
    return existing[-1][1]


def resolve_start(recipe: TrainRecipe, out: Path, *, resume: bool, init: Path | None) -> RunStart:
    """Resume (the newest checkpoint, its recipe compatible with ``recipe``), start stage 2 from the stage-1
    run ``init`` (same model), or start fresh; every inconsistency is an error here, before any work."""
    if resume:
        state = ckpt.load_trainer_state(latest_checkpoint(out))
        recipe.check_resume_compatible(TrainRecipe.from_dict(state["recipe"]))
        return RunStart(recipe, resume=state)
    if ckpt.list_checkpoints(out):
        raise UsageError(f"{out}: already holds checkpoints; pass --resume to continue it or choose another --out")
    if recipe.stage == 2 and init is None and recipe.init_weights is None:
        raise UsageError(
            "stage 2 starts from a stage-1 run (Sec. 3.3): pass --init RUN_DIR_OR_CHECKPOINT "
            "(or fine-tune weights with init_weights)"
        )
    if init is not None and recipe.init_weights is not None:
        raise UsageError("give either a stage-1 run to start stage 2 from or init_weights, not both")
    if recipe.stage == 1 and init is not None:
        raise UsageError("--init is for stage 2 (stage 1 starts from scratch)")
    if init is None:
        return RunStart(recipe)
    stage1 = ckpt.load_trainer_state(init)
    if stage1["model_config"] != model_config_for(recipe).to_dict():
        raise ConfigError(
            f"{init}: the stage-1 run used model {stage1['recipe']['model']!r} with overrides "
            f"{stage1['recipe']['model_overrides']}; stage 2 must use the same (--preset/--set model=...)"
        )
    return RunStart(recipe, stage1=stage1)


def recipe_for_run(
    stage: int,
    *,
    out: Path,
    resume: bool = False,
    init: Path | None = None,
    preset: str | None = None,
    config_file: str | None = None,
    overrides: tuple[str, ...] = (),
) -> TrainRecipe:
    """The recipe of a command line: a resumed run's own recipe (+ allowed overrides), else ``--config`` /
    ``--preset`` (for stage 2 defaulting to the ``--init`` run's model) with ``--set`` overrides."""
    if resume:
        if preset is not None or config_file is not None:
            raise UsageError(
                "--resume continues the run's own recipe: drop --preset/--config (use --set for "
                "iterations and logging options)"
            )
        saved = TrainRecipe.from_dict(ckpt.read_recipe(latest_checkpoint(Path(out))))
        recipe = build_recipe(stage, base=saved, overrides=overrides)
        recipe.check_resume_compatible(saved)
        return recipe
    init_recipe = TrainRecipe.from_dict(ckpt.read_recipe(Path(init))) if init is not None and stage == 2 else None
    return build_recipe(stage, preset=preset, config_file=config_file, overrides=overrides, init_recipe=init_recipe)


def resize_note(state: dict[str, Any], recipe: TrainRecipe, *, info: DistInfo, exact_rng: bool) -> str:
    """What changed when a run resumes on another number of processes (empty when nothing did)."""
    if exact_rng:
        return ""
    saved = len(state["rng"])
    note = f" ({saved} -> {info.world_size} processes; RNG states reseeded"
    before = recipe.batch_size // (int(state["recipe"]["grad_accum"]) * saved)
    now = recipe.micro_batch(info.world_size)
    if before != now:
        keep = (
            recipe.batch_size // (before * info.world_size)
            if recipe.batch_size % (before * info.world_size) == 0
            else None
        )
        note += f"; micro-batch {before} -> {now}" + (f", --set grad_accum={keep} keeps it" if keep else "")
    return note + ")"
