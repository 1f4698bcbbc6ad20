"""Held-out reconstruction with an eye on the expression regions: for each weights folder, same-identity pairs
of the test split (the driving frame chosen, of 8, for the largest mouth/eye change: `expression_pairs=1`),
reconstructed as in training (Eq. 3), in either domain (``--domain``). Prints and writes JSON: full-frame L1 and copy gain, the copy gain
inside the driving frame's mouth + eye boxes (1 - L1_regions(output) / L1_regions(source)), a sharpness ratio
(bench motion's variance of the Laplacian, output / driving frame, on the whole 8-bit crop, averaged over pairs)
and the landmark flow error of training's ``lambda_flow`` term (train/flow_landmarks.py: how far G's flow at the
driving frame's FaceMesh points lands from the source's points, [-1, 1] units; ``copy_flow`` is the same for a
zero flow, i.e. the source as it is), and its shape part (``lambda_flow_shape``: the mouth's and eyes' error
with each group's mean error removed).

    python scripts/heldout_region_eval.py DATASET WEIGHTS_DIR [WEIGHTS_DIR ...] --pairs 24 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os

import torch
from torch.utils.data import DataLoader

from toontalker.bench.motion_signals import laplacian_variance
from toontalker.dataset.torch_data import FramePairDataset
from toontalker.metrics.base import to_uint8
from toontalker.train.flow_landmarks import flow_landmark_terms
from toontalker.train.regions import masked_mean, region_mask
from toontalker.weights import from_pretrained


def sharpness(output: torch.Tensor, driving: torch.Tensor) -> float:
    """Sum over the batch of var(Laplacian) of the output / the same of the driving frame (whole 8-bit crops)."""
    ratios = [
        laplacian_variance(out, None) / max(laplacian_variance(drv, None), 1e-8)
        for out, drv in zip(to_uint8(output), to_uint8(driving))
    ]
    return float(sum(ratios))


@torch.no_grad()
def evaluate(dataset: str, weights: str, pairs: int, device: str, domain: str = "real") -> dict[str, float]:
    model = from_pretrained(weights, device=device, dtype=torch.float32).eval()
    size = model.config.image_size
    probe = FramePairDataset(dataset, split="test", domain=domain, size=size)
    data = FramePairDataset(
        dataset, split="test", domain=domain, size=size, seed=1234, expression_pairs=1.0, length=len(probe) * pairs
    )
    sums = dict.fromkeys(
        (
            "l1",
            "copy_l1",
            "region_l1",
            "region_copy_l1",
            "sharpness",
            "flow",
            "copy_flow",
            "flow_shape",
            "copy_flow_shape",
            "n",
        ),
        0.0,
    )
    for batch in DataLoader(data, batch_size=32, num_workers=min(4, os.cpu_count() or 1)):
        source, driving = batch.source.to(device), batch.driving.to(device)
        encoded = model.encode_source(source, domain)
        w_s2d = model.absolute_motion(encoded, model.encode_driving(driving, domain))
        output, flow = model.render_with_flow(encoded, w_s2d)
        points = batch.points.to(device)
        mask = region_mask(batch.driving_regions.to(device), size, size)
        n = source.shape[0]
        sums["l1"] += float((output - driving).abs().mean()) * n
        sums["copy_l1"] += float((source - driving).abs().mean()) * n
        sums["region_l1"] += float(masked_mean((output - driving).abs(), mask)) * n
        sums["region_copy_l1"] += float(masked_mean((source - driving).abs(), mask)) * n
        sums["sharpness"] += sharpness(output, driving)
        for prefix, field in (("", flow), ("copy_", torch.zeros_like(flow))):  # copy: a zero flow
            landmark, shape = flow_landmark_terms(field, points)
            sums[f"{prefix}flow"] += float(landmark) * n
            sums[f"{prefix}flow_shape"] += float(shape) * n
        sums["n"] += n
    n = sums.pop("n")
    out = {k: v / n for k, v in sums.items()}
    out["copy_gain"] = 1 - out["l1"] / out["copy_l1"]
    out["region_copy_gain"] = 1 - out["region_l1"] / out["region_copy_l1"]
    out["pairs"] = int(n)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset")
    parser.add_argument("weights", nargs="+")
    parser.add_argument("--pairs", type=int, default=24, help="pairs per test clip")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--domain", default="real", choices=["real", "cartoon"], help="the dataset's domain")
    parser.add_argument("--json")
    args = parser.parse_args()
    results = {}
    for w in args.weights:
        results[w] = evaluate(args.dataset, w, args.pairs, args.device, args.domain)
        r = results[w]
        print(
            f"{w}: pairs {r['pairs']}  L1 {r['l1']:.4f} (copy {r['copy_l1']:.4f}, gain {r['copy_gain']:+.3f})  "
            f"regions L1 {r['region_l1']:.4f} (copy {r['region_copy_l1']:.4f}, gain {r['region_copy_gain']:+.3f})  "
            f"sharpness {r['sharpness']:.2f}  landmark flow {r['flow']:.4f} (copy {r['copy_flow']:.4f})  "
            f"shape {r['flow_shape']:.4f} (copy {r['copy_flow_shape']:.4f})",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
