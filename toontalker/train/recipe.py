"""The training recipe: one frozen config for both stages of the paper (Sec. 3.3, Sec. 4.1).

Presets are named ``<model preset>-stage<N>``: ``paper-256-stage1`` is the paper's stage 1 (Adam 5e-4,
batch 64, 450K iterations), ``paper-256-stage2`` its stage 2 (Adam 1e-4, batch 8, 10K iterations);
``small-256-*`` train within minutes on one GPU and ``tiny-*`` run the CPU tests. ``TrainRecipe.for_stage``
maps the CLI's ``--preset paper-256 --stage 1`` onto them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from toontalker.config import ConfigBase
from toontalker.errors import ConfigError
from toontalker.model.toontalker import part_components

Precision = Literal["auto", "bf16", "fp32"]
Perceptual = Literal["vgg19", "dfm"]
TrainCompileMode = Literal["default", "reduce-overhead", "max-autotune-no-cudagraphs"]  # torch.compile modes
# each domain's Ea, Em, p, T_B, G; shared: T_{s->r}, T_{r->d}; motion: both domains' Em, p and the shared ones;
# renderer: both domains' Ea, T_B, G
Part = Literal["real", "cartoon", "shared", "motion", "renderer"]
# held-out scores keep_best can pick by ("flow" and "flow_shape": lower is better; the others: higher)
BestScore = Literal["", "copy_gain", "region_copy_gain", "sharpness", "flow", "flow_shape"]

_PAPER_STAGE1: dict[str, Any] = {"stage": 1, "model": "paper-256", "batch_size": 64, "iterations": 450_000, "lr": 5e-4}
_PAPER_STAGE2: dict[str, Any] = {"stage": 2, "model": "paper-256", "batch_size": 8, "iterations": 10_000, "lr": 1e-4}
_SMALL_RUN = {
    "model": "small-256",
    "warp_pairs": 0.25,
    "log_every": 20,
    "image_every": 200,
    "checkpoint_every": 500,
    "keep_last": 2,
}
_TINY_RUN = {
    "model": "tiny",
    "batch_size": 2,
    "iterations": 4,
    "precision": "fp32",
    "channels_last": False,
    "num_workers": 0,
    "log_every": 1,
    "image_every": 0,
    "checkpoint_every": 2,
    "keep_last": 2,
    "perceptual_scales": 2,  # 64 px images: VGG19's relu5_1 needs >= 16 px at the coarsest level
}

# Fields a resumed run may change: they do not alter the optimisation (or, for iterations, only extend it).
# grad_accum keeps the global batch (and the data stream) and may follow a change in the number of processes,
# e.g. 8 GPUs x grad_accum 1 -> 1 GPU x grad_accum 8 keeps every micro-batch the same size.
RESUMABLE_FIELDS = frozenset(
    {
        "iterations",
        "log_every",
        "image_every",
        "checkpoint_every",
        "keep_last",
        "num_workers",
        "compile",
        "compile_mode",
        "export_dtype",
        "export_max_shard",
        "grad_accum",
    }
)


@dataclass(frozen=True)
class TrainRecipe(ConfigBase):
    """Everything that defines a training run (the model config comes from the ``model`` preset).

    ``batch_size`` is the global batch per optimiser step: it is split over ``world_size`` processes and
    ``grad_accum`` micro-steps, so one recipe gives the same optimisation on 1 GPU or N.
    """

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "paper-256-stage1": {**_PAPER_STAGE1},
        "paper-256-stage2": {**_PAPER_STAGE2},
        "small-256-stage1": {**_PAPER_STAGE1, **_SMALL_RUN, "batch_size": 32, "iterations": 3_000, "lr": 5e-4},
        "small-256-stage2": {**_PAPER_STAGE2, **_SMALL_RUN, "iterations": 1_000},
        "tiny-stage1": {**_PAPER_STAGE1, **_TINY_RUN},
        "tiny-stage2": {**_PAPER_STAGE2, **_TINY_RUN},
    }

    stage: int = 1
    model: str = "paper-256"
    model_overrides: tuple[str, ...] = ()
    # optimisation (Sec. 4.1); betas follow the backbone's StyleGAN2-style Adam (reference facts)
    batch_size: int = 64
    grad_accum: int = 1
    iterations: int = 450_000
    lr: float = 5e-4
    d_lr: float | None = None
    betas: tuple[float, float] = (0.0, 0.99)
    # loss weights (Eq. 11, Eq. 12)
    lambda_l1: float = 1.0
    lambda_per: float = 10.0
    lambda_adv: float = 1.0
    lambda_m: float = 20.0
    analogy: bool = True
    perceptual: Perceptual = "vgg19"
    perceptual_scales: int = 4
    r1_gamma: float = 0.0
    r1_every: int = 16
    # execution
    precision: Precision = "auto"
    channels_last: bool = True
    compile: bool = False
    # torch.compile's mode when compile is on; "reduce-overhead" also captures the compiled graphs as CUDA graphs
    # (on CUDA: one launch per graph instead of thousands of kernel launches per step)
    compile_mode: TrainCompileMode = "default"
    num_workers: int = 4
    seed: int = 0
    # bookkeeping
    log_every: int = 50
    image_every: int = 1_000
    checkpoint_every: int = 5_000
    keep_last: int = 3
    export_dtype: Literal["fp32", "bf16", "fp16"] = "fp32"
    export_max_shard: str = "2GB"  # e.g. "15MiB" to keep every exported file small
    # start: model weights to fine-tune from (a weights folder or hub id, e.g. the shipped demo weights);
    # discriminators and optimisers start fresh. None = the paper's start (stage 1 from scratch, stage 2 from
    # a stage-1 run given as ``init``)
    init_weights: str | None = None
    # with init_weights: start the discriminators from a checkpoint folder's discriminator-<domain>.safetensors
    # (a run's own, or copied from another machine) instead of fresh; None = fresh
    init_discriminators: str | None = None
    # data
    data_split: str | None = "train"
    augment: bool = False
    # not in the paper: this fraction of each batch's pairs drives the source by an affine warp of itself
    # (train/warp_pairs.py); 0 = the paper's recipe
    warp_pairs: float = 0.0
    # not in the paper (docs/training.md "Expression-aimed training"): L1 on the driving frame's mouth and eye
    # boxes (from the dataset's landmarks) with this weight, added to Eq. 11 in each domain; 0 = off
    lambda_region: float = 0.0
    # not in the paper: this fraction of pairs takes, of 8 random frames, the one whose mouth/eye opening
    # differs most from the source frame's (needs landmarks); 0 = uniform pairs (the paper's)
    expression_pairs: float = 0.0
    # not in the paper: this fraction of the pairs of clips with closed-eye frames (a blink: the eye opening below
    # 60 % of the clip's median) is one closed and one open frame, drawn before expression_pairs (real clips
    # close their eyes in ~2 % of frames); needs landmarks; 0 = off
    blink_pairs: float = 0.0
    # not in the paper: L1 between the output's and the driving frame's image gradients (finite differences in
    # x and y, the gradient difference loss of Mathieu et al. 2016) with this weight, added to Eq. 11 in each
    # domain against blur (train/edges.py); 0 = off
    lambda_edge: float = 0.0
    # not in the paper (train/flow_landmarks.py): for same-identity pairs, G's last flow at the driving frame's
    # FaceMesh points should sample the source at the source's points (L1 in [-1, 1] coordinates, all points and
    # mouth/eye points averaged), with this weight, added to Eq. 11 in each domain (needs landmarks); 0 = off
    lambda_flow: float = 0.0
    # not in the paper (train/flow_landmarks.py): the same flow error with each group's mean error removed, per
    # group of mouth, right eye and left eye points: what the flow gets wrong in the shape of the mouth and eyes
    # (an opening mouth), not in where they are; with this weight, in each domain (needs landmarks); 0 = off
    lambda_flow_shape: float = 0.0
    # not in the paper (train/motion_anchor.py, stage 2): L1 between the cartoon and the real motion path's code
    # differences of each batch's real pairs, the real path's detached, with this weight: the cartoon Em and p keep
    # moving with faces outside the cartoon training style; 0 = off
    lambda_motion_anchor: float = 0.0
    # not in the paper: model parts kept at their initial values, e.g. ("real", "shared") fine-tunes only the
    # cartoon side of given weights, so that real->real output stays exactly what it was, ("motion",) keeps
    # every motion code w and trains only the renderers (Ea, T_B, G), ("renderer",) the reverse; () = train all
    frozen_parts: tuple[Part, ...] = ()
    # not in the paper: keep an exponential moving average of G's weights, updated after every G step with this
    # decay (StyleGAN2's generator EMA; e.g. 0.999), and export it (checkpoints' weights files) instead of the
    # last step's weights; 0 = off (the paper's)
    ema_decay: float = 0.0
    # not in the paper: every heldout_every steps (0 = never) score the exported weights (and G itself when
    # ema_decay is on) on heldout_pairs expressive pairs per test-split clip of the training data folders
    # (train/heldout.py: copy gain, region copy gain, sharpness, landmark flow and shape), into heldout.jsonl
    heldout_every: int = 0
    heldout_pairs: int = 8
    # not in the paper: with heldout_every, also keep the exported weights (and discriminators) of the evaluation
    # that scored best on this held-out score, averaged over the scored domains, in <out>/best/ (best.json: its
    # step and scores), so a run that peaks early is not lost to keep_last; "" = off
    keep_best: BestScore = ""

    def __post_init__(self) -> None:
        self._check(self.stage in (1, 2), f"stage must be 1 or 2, got {self.stage}")
        self._check(self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}")
        self._check(self.grad_accum >= 1, f"grad_accum must be >= 1, got {self.grad_accum}")
        self._check(
            self.batch_size % self.grad_accum == 0,
            f"batch_size {self.batch_size} must be divisible by grad_accum {self.grad_accum}",
        )
        self._check(self.iterations >= 1, f"iterations must be >= 1, got {self.iterations}")
        self._check(self.lr > 0 and (self.d_lr is None or self.d_lr > 0), "learning rates must be > 0")
        self._check(all(0.0 <= b < 1.0 for b in self.betas), f"betas must be in [0, 1), got {self.betas}")
        for name in (
            "lambda_l1",
            "lambda_per",
            "lambda_adv",
            "lambda_m",
            "r1_gamma",
            "lambda_region",
            "lambda_edge",
            "lambda_flow",
            "lambda_flow_shape",
            "lambda_motion_anchor",
        ):
            self._check(getattr(self, name) >= 0, f"{name} must be >= 0, got {getattr(self, name)}")
        self._check(1 <= self.perceptual_scales <= 6, f"perceptual_scales must be 1..6, got {self.perceptual_scales}")
        self._check(self.r1_every >= 1, f"r1_every must be >= 1, got {self.r1_every}")
        self._check(self.num_workers >= 0, f"num_workers must be >= 0, got {self.num_workers}")
        for name in ("log_every", "image_every", "checkpoint_every", "heldout_every"):
            self._check(getattr(self, name) >= 0, f"{name} must be >= 0 (0 = never), got {getattr(self, name)}")
        self._check(
            self.stage == 2 or self.lambda_motion_anchor == 0,
            "lambda_motion_anchor applies to stage 2 only (stage 1 has no cartoon motion path to train)",
        )
        self._check(0.0 <= self.warp_pairs <= 1.0, f"warp_pairs must be in [0, 1], got {self.warp_pairs}")
        self._check(
            0.0 <= self.expression_pairs <= 1.0, f"expression_pairs must be in [0, 1], got {self.expression_pairs}"
        )
        self._check(0.0 <= self.blink_pairs <= 1.0, f"blink_pairs must be in [0, 1], got {self.blink_pairs}")
        self._check(
            self.init_discriminators is None or self.init_weights is not None,
            "init_discriminators needs init_weights (a stage-1 init or a resume restores the discriminators itself)",
        )
        self._check(
            len(set(self.frozen_parts)) == len(self.frozen_parts), f"frozen_parts repeats a part: {self.frozen_parts}"
        )
        trainable = {*part_components("real"), *part_components("shared")}
        if self.stage == 2:
            trainable |= set(part_components("cartoon"))
        frozen = {path for part in self.frozen_parts for path in part_components(part)}
        self._check(
            bool(trainable - frozen),
            f"frozen_parts={list(self.frozen_parts)} leaves nothing to train at stage {self.stage}",
        )
        self._check(0.0 <= self.ema_decay < 1.0, f"ema_decay must be in [0, 1), got {self.ema_decay}")
        self._check(self.heldout_pairs >= 1, f"heldout_pairs must be >= 1, got {self.heldout_pairs}")
        self._check(
            not self.keep_best or self.heldout_every > 0,
            f"keep_best={self.keep_best!r} picks by held-out scores: it needs heldout_every > 0",
        )
        self._check(self.keep_last >= 1, f"keep_last must be >= 1, got {self.keep_last}")

    @classmethod
    def for_stage(cls, preset: str, stage: int, /, **overrides: Any) -> TrainRecipe:
        """``--preset paper-256 --stage 2`` -> the ``paper-256-stage2`` preset (full names work too)."""
        name = preset if preset in cls.PRESETS else f"{preset}-stage{stage}"
        if name not in cls.PRESETS:
            bases = sorted({n.rsplit("-stage", 1)[0] for n in cls.PRESETS})
            raise ConfigError(f"unknown training preset {preset!r}; choose one of: {', '.join(bases)}")
        recipe = cls.from_name(name, **overrides)
        if recipe.stage != stage:
            raise ConfigError(f"preset {name!r} is a stage-{recipe.stage} recipe, but stage {stage} was asked for")
        return recipe

    @property
    def discriminator_lr(self) -> float:
        return self.lr if self.d_lr is None else self.d_lr

    def micro_batch(self, world_size: int) -> int:
        """Images per process per micro-step; raises if the global batch does not split evenly."""
        per_step = self.batch_size // self.grad_accum
        if per_step % world_size:
            raise ConfigError(
                f"batch_size {self.batch_size} / grad_accum {self.grad_accum} = {per_step} is not divisible by "
                f"the {world_size} processes; choose a batch_size (or, when resuming, a grad_accum or a number of "
                "processes) that divides evenly"
            )
        return per_step // world_size

    def check_resume_compatible(self, saved: TrainRecipe) -> None:
        """A resumed run may change only :data:`RESUMABLE_FIELDS`; anything else would not be a resume."""
        mine, theirs = self.to_dict(), saved.to_dict()
        changed = sorted(k for k in mine if mine[k] != theirs[k] and k not in RESUMABLE_FIELDS)
        if changed:
            raise ConfigError(
                f"a resumed run cannot change {', '.join(changed)} (the checkpoint was trained with "
                + ", ".join(f"{k}={theirs[k]!r}" for k in changed)
                + f"); only {', '.join(sorted(RESUMABLE_FIELDS))} may change"
            )


def build_recipe(
    stage: int,
    *,
    preset: str | None = None,
    config_file: str | None = None,
    overrides: tuple[str, ...] = (),
    base: TrainRecipe | None = None,
    init_recipe: TrainRecipe | None = None,
) -> TrainRecipe:
    """The recipe a command line asks for: ``base`` (a resumed run's), else ``--config`` file, else the
    ``--preset`` for ``stage`` (default: the ``--init`` run's model, else paper-256); then ``--set KEY=VALUE``
    overrides (flags such as ``--no-analogy`` arrive here as overrides too)."""
    if base is not None:
        recipe = base
    elif config_file is not None:
        recipe = TrainRecipe.load(config_file)
        if recipe.stage != stage:
            raise ConfigError(f"{config_file}: a stage-{recipe.stage} recipe, but stage {stage} was asked for")
        if preset is not None:
            raise ConfigError(f"{config_file}: give either a config file or a preset ({preset!r}), not both")
    elif preset is None and init_recipe is not None:
        recipe = TrainRecipe.for_stage(init_recipe.model, stage).replace(model_overrides=init_recipe.model_overrides)
    else:
        recipe = TrainRecipe.for_stage(preset or "paper-256", stage)
    recipe = recipe.with_overrides(list(overrides))
    if recipe.stage != stage:
        raise ConfigError(f"the recipe is for stage {recipe.stage}, but stage {stage} was asked for")
    return recipe
