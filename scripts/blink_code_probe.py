"""Do the motion codes move when the eyes close? A diagnostic (ours) for the eye targets of issue #20.

For each blink onset c in the clips of a dataset split (a closed-eye frame after an open one,
:func:`toontalker.faces.landmarks.closed_eyes`), the mean absolute difference of the driving codes w_{r->d}
(and of Em's descriptor) between c and an open frame 3-6 frames away, against the same difference between two
open frames of the same clip 3-6 frames apart. A ratio near 1: a blink moves the codes no more than the
talking around it, so the renderer cannot be told to close the eyes.

    python scripts/blink_code_probe.py DATASET WEIGHTS_DIR [WEIGHTS_DIR ...] --split train
    python scripts/blink_code_probe.py DATASET --split train --pair-stats    # how many training pairs hold a blink
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from toontalker.dataset.torch_data import FramePairDataset, to_tensor
from toontalker.faces.landmarks import blink_onsets
from toontalker.weights import from_pretrained


def blink_frames(ds: FramePairDataset, seed: int = 0) -> list[tuple[int, int, int, int, int]]:
    """(clip, closed, open near it, open a, open b) per blink onset with an open frame 3-6 frames away."""
    clips, rng, out = ds.clips, np.random.default_rng(seed), []
    for k in range(len(clips)):
        sig = clips.expression(k)
        if sig is None:
            continue
        opened = np.flatnonzero(~sig.closed & np.isfinite(sig.eyes))
        pairs = [(a, b) for a in opened for b in opened if 3 <= b - a <= 6]  # the clip's open-open pairs
        for c in blink_onsets(sig.closed):
            near = [o for o in opened if 3 <= abs(o - c) <= 6]
            if near and pairs:
                a, b = pairs[rng.integers(len(pairs))]
                out.append((k, int(c), int(near[rng.integers(len(near))]), int(a), int(b)))
    return out


def code_differences(weights: str, ds: FramePairDataset, quads: list) -> dict[str, np.ndarray]:
    """Per feature kind, (n, 2): the blink difference and the open-open difference of each onset."""
    model = from_pretrained(weights).float().eval()
    features = {
        "codes": lambda t: model.encode_driving(t, "real").flatten(1),
        "descriptor": lambda t: model.domains["real"].motion_encoder(t).flatten(1),
    }
    out: dict[str, list] = {name: [] for name in features}
    with torch.inference_mode():
        for start in range(0, len(quads), 16):
            chunk = quads[start : start + 16]
            frames = [torch.stack([to_tensor(ds.clips.read(q[0], q[j]), False) for q in chunk]) for j in (1, 2, 3, 4)]
            for name, fn in features.items():
                c, o, a, b = (fn(x) for x in frames)
                out[name].append(torch.stack([(c - o).abs().mean(1), (a - b).abs().mean(1)], 1).numpy())
    return {name: np.concatenate(v) for name, v in out.items()}


def blink_pair_fraction(dataset: str, split: str, per_clip: int = 40, **sampling: float) -> float:
    """Fraction of the pairs ``FramePairDataset`` draws (``per_clip`` per clip, with ``sampling``: expression_pairs,
    blink_pairs) whose two frames differ in closed eyes, over clips with landmarks."""
    clips = len(FramePairDataset(dataset, split=split, domain="real"))
    ds = FramePairDataset(dataset, split=split, domain="real", length=clips * per_clip, **sampling)  # type: ignore[arg-type]
    with_blink = drawn = 0
    for index in range(len(ds)):
        clip = index % clips
        sig = ds.clips.expression(clip)
        if sig is None:
            continue
        i, j = ds._indices(clip, ds._rng(index))
        drawn += 1
        with_blink += bool(sig.closed[i] != sig.closed[j])
    return with_blink / max(drawn, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset")
    parser.add_argument("weights", nargs="*")
    parser.add_argument("--split", default="test")
    parser.add_argument("--pair-stats", action="store_true", help="the fraction of drawn pairs that hold a blink")
    args = parser.parse_args()
    if args.pair_stats:
        for sampling in ({}, {"expression_pairs": 0.5}, {"expression_pairs": 1.0}, {"blink_pairs": 0.5}):
            print(
                f"pairs with a blink, {sampling or 'uniform'}: {100 * blink_pair_fraction(args.dataset, args.split, **sampling):.1f} %"
            )
    ds = FramePairDataset(args.dataset, split=args.split, domain="real", size=256)
    quads = blink_frames(ds)
    print(f"{args.split}: {len(quads)} blink onsets in {len({q[0] for q in quads})} clips")
    for weights in args.weights:
        for name, v in code_differences(weights, ds, quads).items():
            ratio = v[:, 0] / v[:, 1]
            print(
                f"{weights} {name}: blink {v[:, 0].mean():.4f} vs open-open {v[:, 1].mean():.4f}; ratio median "
                f"{np.median(ratio):.2f}, blink larger in {100 * (ratio > 1).mean():.0f} % of onsets"
            )


if __name__ == "__main__":
    main()
