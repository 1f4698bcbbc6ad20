"""How much of the driver's expression and pose do the motion codes carry? A linear probe (ours, a diagnostic).

For the test split of a dataset with landmarks (held-out people), up to ``--frames`` frames per clip with a
detected face are encoded into driving codes w_{r->d} = T_{r->d}(Em(x_d), p) (``encode_driving``, K x d
flattened). Both the codes and the FaceMesh signals (mouth opening, mean eye opening, yaw, pitch) are centred
per clip, so identity and the clip's mean pose drop out and what is left is the motion within a clip, which
is what relative motion (Eq. 5) transfers. A ridge regression (linear, or kernel ridge with an RBF kernel)
from codes to each signal is fitted on the other people's clips and scored on each person's
(leave-one-person-out); reported: R^2 per signal, per weights folder and kernel, best over one ridge grid
(the same for every weights). Two references read the image itself: the whole frame and the clip's mouth
box as grey pixels.

    python scripts/motion_code_probe.py DATASET WEIGHTS_DIR [WEIGHTS_DIR ...] --frames 48 --features codes descriptor pixels
"""

from __future__ import annotations

import argparse
import json
from typing import cast

import cv2
import numpy as np
import torch

from toontalker.conventions import check_domain
from toontalker.dataset.landmarks import read_clip_landmarks
from toontalker.dataset.manifest import clip_path, dataset_root, read_manifest
from toontalker.dataset.storage import ClipCache
from toontalker.dataset.torch_data import to_tensor
from toontalker.faces.landmarks import eye_openings, head_pose, mouth_opening, region_boxes
from toontalker.weights import from_pretrained

SIGNALS = ("mouth", "eyes", "yaw", "pitch")
RIDGE = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)


def clip_samples(dataset: str, domain: str, frames: int) -> list[tuple]:
    """(person, frames, signals (n, 4), mouth box) per test clip: up to ``frames`` evenly spaced frames with a
    face, and the clip's median mouth box (x0, y0, x1, y1 pixels)."""
    table, root = read_manifest(dataset), dataset_root(dataset)
    table = table[(table["split"] == "test") & (table["domain"] == domain)]
    cache = ClipCache(2)
    out = []
    for _, row in table.iterrows():
        marks = read_clip_landmarks(root, str(row["id"]))
        if marks is None or len(marks) != int(row["frames"]):
            continue
        found = np.flatnonzero(marks.detected)
        if len(found) < 8:
            continue
        pick = found[np.linspace(0, len(found) - 1, min(frames, len(found))).round().astype(int)]
        points = marks.points[pick]
        signals = np.column_stack([mouth_opening(points), eye_openings(points).mean(axis=-1), head_pose(points)[:, :2]])
        reader = cache.get(clip_path(root, row["path"]), row["format"])
        mouth_box = np.nanmedian(region_boxes(points)[:, 0], axis=0)  # the clip's median mouth box, pixels
        out.append((str(row["identity"]), [reader.read(int(i)) for i in pick], signals.astype(np.float64), mouth_box))
    return out


@torch.no_grad()
def features_of(weights: str, samples: list, domain: str, kind: str) -> list[np.ndarray]:
    """Per clip (n, D): ``codes`` w_{r->d} (K*d), ``descriptor`` Em(x_d) (motion_dim), ``pixels`` (the frame as
    64 x 64 grey values) or ``mouth-pixels`` (the clip's mouth box as 32 x 32 grey values): the last two are
    references for how much a linear read-out gets from the image itself."""
    model = from_pretrained(weights, dtype=torch.float32).eval()
    size = model.config.image_size
    out = []
    for _, images, _, box in samples:
        if kind == "mouth-pixels":
            x0, y0, x1, y1 = (int(round(v)) for v in box)
            crops = [cv2.resize(im[max(y0, 0) : y1, max(x0, 0) : x1].mean(-1), (32, 32)) for im in images]
            out.append(np.stack(crops).reshape(len(crops), -1).astype(np.float64))
            continue
        batch = torch.stack([to_tensor(im) for im in images])
        if batch.shape[-1] != size:
            batch = torch.nn.functional.interpolate(batch, size=(size, size), mode="area")
        if kind == "pixels":
            grey = torch.nn.functional.interpolate(batch.mean(1, keepdim=True), size=(64, 64), mode="area")
            feats = grey.flatten(1)
        elif kind == "descriptor":
            encoder = cast(torch.nn.Module, model.domains[domain].motion_encoder)
            feats = encoder(batch)
        else:
            feats = model.encode_driving(batch, check_domain(domain)).flatten(1)
        out.append(feats.double().numpy())
    return out


def _kernel(a: np.ndarray, b: np.ndarray, kind: str) -> np.ndarray:
    if kind == "linear":
        return a @ b.T
    sq = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T  # rbf, width = the mean distance
    return np.exp(-np.maximum(sq, 0) / (2 * a.shape[1]))


def ridge_r2(x: list[np.ndarray], y: list[np.ndarray], people: list[str], alpha: float, kind: str) -> np.ndarray:
    """Leave-one-person-out R^2 per signal column of a (kernel) ridge regression on clip-centred data,
    features scaled to unit mean standard deviation on the training people."""
    xs = [a - a.mean(0) for a in x]
    ys = [b - b.mean(0) for b in y]
    predicted, truth = [], []
    for person in sorted(set(people)):
        train = [i for i, p in enumerate(people) if p != person]
        test = [i for i, p in enumerate(people) if p == person]
        xtr, ytr = np.concatenate([xs[i] for i in train]), np.concatenate([ys[i] for i in train])
        scale = xtr.std(0).mean() + 1e-12
        xtr = xtr / scale
        dual = np.linalg.solve(_kernel(xtr, xtr, kind) + alpha * len(xtr) * np.eye(len(xtr)), ytr)
        for i in test:
            predicted.append(_kernel(xs[i] / scale, xtr, kind) @ dual)
            truth.append(ys[i])
    pred, true = np.concatenate(predicted), np.concatenate(truth)
    return 1 - ((pred - true) ** 2).sum(0) / ((true - true.mean(0)) ** 2).sum(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset")
    parser.add_argument("weights", nargs="+")
    parser.add_argument("--domain", default="real", choices=["real", "cartoon"])
    parser.add_argument("--frames", type=int, default=48, help="frames per clip")
    parser.add_argument(
        "--features", nargs="+", default=["codes"], choices=["codes", "descriptor", "pixels", "mouth-pixels"]
    )
    parser.add_argument(
        "--kernels", nargs="+", default=["linear", "rbf"], choices=["linear", "rbf"], help="ridge / RBF kernel ridge"
    )
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.manual_seed(0)
    samples = clip_samples(args.dataset, args.domain, args.frames)
    people = [p for p, _, _, _ in samples]
    signals = [s for _, _, s, _ in samples]
    n = sum(len(s) for s in signals)
    print(f"{len(samples)} clips of {len(set(people))} people, {n} frames")
    results: dict[str, dict[str, float]] = {}
    for weights in args.weights:
        for kind in args.features:
            name = kind if kind.endswith("pixels") else f"{weights} {kind}"
            if any(key.endswith(name) for key in results):
                continue  # the pixel references are the same for every weights
            feats = features_of(weights, samples, args.domain, kind)
            for kernel in args.kernels:
                best = np.stack([ridge_r2(feats, signals, people, a, kernel) for a in RIDGE]).max(0)
                key = f"{kernel}: {name}"
                results[key] = {signal: float(v) for signal, v in zip(SIGNALS, best)}
                print(f"{key}: " + "  ".join(f"{k} R2 {v:+.3f}" for k, v in results[key].items()), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"clips": len(samples), "people": len(set(people)), "frames": n, "r2": results}, f, indent=1)


if __name__ == "__main__":
    main()
