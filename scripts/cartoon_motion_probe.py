"""Does the cartoon motion path still move with faces it was not trained on? A diagnostic (ours).

For expressive same-clip pairs of a dataset's test split (``FramePairDataset(..., expression_pairs=1)``: held-out
people), each weights folder encodes the source and the driving frame with both motion paths
(``encode_driving``: w_{r->d} = T_{r->d}(Em(x), p) of each domain) and compares their motion, the code
difference driving minus source (what relative motion, Eq. 5, transfers): its size, mean |w_d - w_s|, for the
real and the cartoon path, their ratio, and the cosine between the two paths' differences. A cartoon path that
learned one drawing style and stopped moving with other faces shows a small ratio; ``lambda_motion_anchor``
(stage 2) trains against exactly that.

    python scripts/cartoon_motion_probe.py data/real WEIGHTS_DIR [WEIGHTS_DIR ...] --pairs 40
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from toontalker.dataset.torch_data import FramePairDataset
from toontalker.weights import from_pretrained


@dataclass(frozen=True)
class PathMotion:
    """Means over the pairs: the real and the cartoon path's motion size, their ratio and cosine."""

    weights: str
    pairs: int
    real_motion: float
    cartoon_motion: float
    ratio: float
    cosine: float


def frame_pairs(
    dataset: str, pairs: int, *, split: str | None = "test", size: int = 256, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``pairs`` expressive pairs of the split's clips (item i from clip i mod clips; the dataset's seeded draws):
    source and driving frames, each (pairs, 3, size, size)."""
    ds = FramePairDataset(dataset, split=split, size=size, expression_pairs=1.0, length=pairs, seed=seed)
    items = [ds[i] for i in range(len(ds))]
    return torch.stack([it.source for it in items]), torch.stack([it.driving for it in items])


def path_motion(weights: str, source: torch.Tensor, driving: torch.Tensor) -> PathMotion:
    """Both motion paths of ``weights`` on the same real frames (N, 3, H, W)."""
    model = from_pretrained(weights).float().eval()
    with torch.inference_mode():
        real, cartoon = (
            (model.encode_driving(driving, d) - model.encode_driving(source, d)).flatten(1) for d in ("real", "cartoon")
        )
    real_size, cartoon_size = real.abs().mean(1), cartoon.abs().mean(1)
    return PathMotion(
        weights=weights,
        pairs=len(source),
        real_motion=float(real_size.mean()),
        cartoon_motion=float(cartoon_size.mean()),
        ratio=float((cartoon_size / real_size.clamp_min(1e-8)).mean()),
        cosine=float(F.cosine_similarity(real, cartoon, dim=1).mean()),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("weights", nargs="+")
    parser.add_argument("--pairs", type=int, default=40)
    parser.add_argument("--split", default="test", help="the dataset split whose clips are drawn (held-out people)")
    parser.add_argument("--size", type=int, default=256, help="frame size: the weights' image size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    source, driving = frame_pairs(args.dataset, args.pairs, split=args.split, size=args.size, seed=args.seed)
    results = [path_motion(w, source, driving) for w in args.weights]
    for r in results:
        print(
            f"{r.weights}: {r.pairs} pairs  real path {r.real_motion:.3f}  cartoon path {r.cartoon_motion:.3f}"
            f"  ratio {r.ratio:.2f}  cosine {r.cosine:+.2f}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump([asdict(r) for r in results], f, indent=1)


if __name__ == "__main__":
    main()
