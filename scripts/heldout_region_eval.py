"""Held-out reconstruction with an eye on the expression regions: for each weights folder, expressive same-identity
pairs of the dataset's test split, in either domain (``--domain``). Prints and writes JSON: L1 and copy gain, the
copy gain inside the mouth + eye boxes, a sharpness ratio, the landmark flow error and its shape part. What each
score is: toontalker/train/heldout.py (training logs the same scores with the recipe's ``heldout_every``).

    python scripts/heldout_region_eval.py DATASET WEIGHTS_DIR [WEIGHTS_DIR ...] --pairs 24 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os

import torch

from toontalker.train.heldout import evaluate_heldout, heldout_pairs
from toontalker.weights import from_pretrained


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
        model = from_pretrained(w, device=args.device, dtype=torch.float32)
        held_out = heldout_pairs(
            args.dataset, domain=args.domain, image_size=model.config.image_size, pairs_per_clip=args.pairs
        )
        workers = min(4, os.cpu_count() or 1)
        scores = evaluate_heldout(model, held_out, domain=args.domain, device=args.device, num_workers=workers)
        results[w] = scores.as_dict()
        print(f"{w}: {scores.summary()}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
