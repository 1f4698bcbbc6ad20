"""Held-out scores (ours, not in the paper): same-identity reconstruction on a dataset's test split, with an eye on
the expression regions, for weights on disk and for a run as it trains (recipe ``heldout_every``).

Each pair is two frames of one held-out clip; the driving frame is the one of 8 random frames whose mouth/eye
opening differs most from the source frame's (``expression_pairs=1``, fixed seed: the same pairs for every
weights). The model reconstructs the driving frame as in training, x_{s->d} = G(Ea(x_s), w_{s->d}) (Eq. 3), and:

* ``l1``, ``copy_l1``, ``copy_gain = 1 - l1 / copy_l1``: full-frame L1 against the driving frame, the source itself
  being the "copy" baseline (above 0: the output is closer to the driver than the source is);
* ``region_l1``, ``region_copy_l1``, ``region_copy_gain``: the same inside the driving frame's mouth and eye boxes
  (train/regions.py), where expressions live;
* ``sharpness``: variance of the Laplacian of the output / of the driving frame (whole 8-bit crops), averaged;
* ``flow``, ``flow_shape`` and their copy values (a zero flow): the landmark flow terms of training
  (train/flow_landmarks.py): how far G's flow at the driver's FaceMesh points lands from the source's points,
  and the mouth's and eyes' part of it with each group's mean error removed (does the mouth open?).

Region and flow scores need landmarks in the dataset: without them the region L1s and flow errors are 0 and the
region copy gain NaN.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch.utils.data import DataLoader

from toontalker.bench.motion_signals import laplacian_variance
from toontalker.conventions import Domain
from toontalker.dataset.torch_data import FramePairDataset
from toontalker.errors import TrainingError, UsageError
from toontalker.metrics.base import to_uint8
from toontalker.model.toontalker import ToonTalker
from toontalker.train import checkpoint as ckpt
from toontalker.train.flow_landmarks import flow_landmark_terms
from toontalker.train.regions import masked_mean, region_mask

if TYPE_CHECKING:
    from toontalker.train.monitor import RunMonitor
    from toontalker.train.recipe import TrainRecipe
    from toontalker.train.trainer import Trainer

PAIR_SEED = 1234  # the held-out pairs are the same for every weights and every step


@dataclass(frozen=True)
class HeldoutScores:
    """Means over ``pairs`` held-out pairs (see the module docstring)."""

    l1: float
    copy_l1: float
    region_l1: float
    region_copy_l1: float
    sharpness: float
    flow: float
    copy_flow: float
    flow_shape: float
    copy_flow_shape: float
    pairs: int

    @property
    def copy_gain(self) -> float:
        return 1.0 - self.l1 / self.copy_l1

    @property
    def region_copy_gain(self) -> float:
        return 1.0 - self.region_l1 / self.region_copy_l1 if self.region_copy_l1 > 0 else float("nan")

    def as_dict(self) -> dict[str, float]:
        return {**dataclasses.asdict(self), "copy_gain": self.copy_gain, "region_copy_gain": self.region_copy_gain}

    def summary(self) -> str:
        return (
            f"pairs {self.pairs}  L1 {self.l1:.4f} (copy {self.copy_l1:.4f}, gain {self.copy_gain:+.3f})  "
            f"regions L1 {self.region_l1:.4f} (copy {self.region_copy_l1:.4f}, gain {self.region_copy_gain:+.3f})  "
            f"sharpness {self.sharpness:.2f}  landmark flow {self.flow:.4f} (copy {self.copy_flow:.4f})  "
            f"shape {self.flow_shape:.4f} (copy {self.copy_flow_shape:.4f})"
        )


def heldout_pairs(dataset: str | Path, *, domain: Domain, image_size: int, pairs_per_clip: int) -> FramePairDataset:
    """``pairs_per_clip`` expressive same-identity pairs of each test-split clip of ``domain`` in ``dataset``."""
    clips = len(FramePairDataset(dataset, split="test", domain=domain, size=image_size))
    return FramePairDataset(
        dataset,
        split="test",
        domain=domain,
        size=image_size,
        seed=PAIR_SEED,
        expression_pairs=1.0,
        length=clips * pairs_per_clip,
    )


def _sharpness_sum(output: torch.Tensor, driving: torch.Tensor) -> float:
    """Sum over the batch of var(Laplacian) of the output / the same of the driving frame."""
    return float(
        sum(
            laplacian_variance(out, None) / max(laplacian_variance(drv, None), 1e-8)
            for out, drv in zip(to_uint8(output), to_uint8(driving))
        )
    )


@torch.no_grad()
def evaluate_heldout(
    model: ToonTalker,
    pairs: FramePairDataset,
    *,
    domain: Domain,
    device: torch.device | str,
    batch_size: int = 32,
    num_workers: int = 0,
) -> HeldoutScores:
    """Score ``model`` (float32, on ``device``) on ``pairs`` (:func:`heldout_pairs`); the model's train/eval mode
    is restored afterwards and the global random generators are left as they were."""
    was_training = model.training
    model.eval()
    names = ("l1", "copy_l1", "region_l1", "region_copy_l1", "sharpness", "flow", "copy_flow", "flow_shape")
    sums = dict.fromkeys((*names, "copy_flow_shape"), 0.0)
    count = 0
    try:
        # its own generator: without one, every pass draws the workers' seed from torch's global generator and a
        # run that scores itself (heldout_every) would train on a different random stream than one that does not
        loader = DataLoader(pairs, batch_size=batch_size, num_workers=num_workers, generator=torch.Generator())
        for batch in loader:
            source, driving = batch.source.to(device), batch.driving.to(device)  # (B, 3, H, W) in [-1, 1]
            B, _, H, W = source.shape
            encoded = model.encode_source(source, domain)
            w_s2d = model.absolute_motion(encoded, model.encode_driving(driving, domain))
            output, flow = model.render_with_flow(encoded, w_s2d)
            mask = region_mask(batch.driving_regions.to(device), H, W)
            sums["l1"] += float((output - driving).abs().mean()) * B
            sums["copy_l1"] += float((source - driving).abs().mean()) * B
            sums["region_l1"] += float(masked_mean((output - driving).abs(), mask)) * B
            sums["region_copy_l1"] += float(masked_mean((source - driving).abs(), mask)) * B
            sums["sharpness"] += _sharpness_sum(output, driving)
            points = batch.points.to(device)
            for prefix, field in (("", flow), ("copy_", torch.zeros_like(flow))):  # copy: a zero flow
                landmark, shape = flow_landmark_terms(field, points)
                sums[f"{prefix}flow"] += float(landmark) * B
                sums[f"{prefix}flow_shape"] += float(shape) * B
            count += B
    finally:
        model.train(was_training)
    return HeldoutScores(**{k: v / count for k, v in sums.items()}, pairs=count)


def training_heldout_sets(
    recipe: TrainRecipe, *, real: Any, cartoon: Any, image_size: int
) -> dict[Domain, FramePairDataset]:
    """The held-out pairs a run scores every ``recipe.heldout_every`` steps: each data folder's test split, per
    domain (none when ``heldout_every`` is 0). Built before the first step, so a folder without a test split
    stops the run at once."""
    if recipe.heldout_every == 0:
        return {}
    sets: dict[Domain, FramePairDataset] = {}
    domains: tuple[tuple[Domain, Any], ...] = (("real", real), ("cartoon", cartoon))
    for domain, data in domains:
        if data is None:
            continue
        if not isinstance(data, (str, Path)):
            raise UsageError(
                f"heldout_every scores the test split of a dataset folder; the {domain} data is a {type(data).__name__}"
            )
        sets[domain] = heldout_pairs(data, domain=domain, image_size=image_size, pairs_per_clip=recipe.heldout_pairs)
    return sets


def score_heldout(
    trainer: Trainer, sets: dict[Domain, FramePairDataset], *, step: int, monitor: RunMonitor, num_workers: int
) -> dict[str, dict[str, float]]:
    """Score the exported weights ("ema" with ``ema_decay``) and G itself on each held-out set and log them;
    returns the scores by ``"<domain> (<weights>)"``."""
    models = {"G": trainer.model} if trainer.ema is None else {"ema": trainer.export_model, "G": trainer.model}
    scored = {}
    for weights, model in models.items():
        for domain, pairs in sets.items():
            scores = evaluate_heldout(model, pairs, domain=domain, device=trainer.device, num_workers=num_workers)
            monitor.heldout(step, weights=weights, domain=domain, scores=scores.as_dict())
            scored[f"{domain} ({weights})"] = scores.as_dict()
    return scored


LOWER_IS_BETTER = ("flow", "flow_shape")


def exported_score(scored: dict[str, dict[str, float]], name: str) -> float:
    """The exported weights' held-out ``name`` (:func:`score_heldout`'s output: "ema" with ``ema_decay``, else
    "G"), averaged over the scored domains; negated where lower is better, so higher is always better."""
    weights = "ema" if any(key.endswith("(ema)") for key in scored) else "G"
    values = [scores[name] for key, scores in scored.items() if key.endswith(f"({weights})")]
    if not values:
        raise TrainingError(f"no held-out scores of the exported weights in {sorted(scored)}")
    mean = sum(values) / len(values)
    return -mean if name in LOWER_IS_BETTER else mean


def keep_if_best(
    scored: dict[str, dict[str, float]],
    metric: str,
    *,
    step: int,
    best: float | None,
    out: Path,
    export: Callable[[Path], None],
    monitor: RunMonitor,
) -> float | None:
    """Recipe ``keep_best``: when ``scored`` (this evaluation) beats ``best`` on ``metric``, write ``export``'s
    files into ``out/best/`` with best.json and return the new best value; else None."""
    value = exported_score(scored, metric)
    if math.isnan(value) or (best is not None and value <= best):  # NaN: e.g. region scores without landmarks
        return None
    ckpt.save_best(out, export, {"step": step, "keep_best": metric, "value": value, "scores": scored})
    monitor.message(f"best held-out {metric} so far: step {step}, kept in {out / ckpt.BEST_DIR}")
    return value


def heldout_line(scores: dict[str, float]) -> str:
    """The held-out scores in one console line."""
    return (
        f"copy gain {scores['copy_gain']:+.3f}, regions {scores['region_copy_gain']:+.3f}, "
        f"sharpness {scores['sharpness']:.2f}, flow {scores['flow']:.4f}, "
        f"shape {scores['flow_shape']:.4f} (copy {scores['copy_flow_shape']:.4f})"
    )
