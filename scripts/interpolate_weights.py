"""Weight-space interpolation of two weights folders of one lineage (ours, not in the paper): per domain,
``(1 - alpha) * A + alpha * B`` for every floating tensor, written as a new weights folder (fp16, 15 MiB shards).

Two fine-tunings of the same start sit in one basin, so the average keeps much of both (WiSE-FT style): here
the sharper v3 (A) and the pose-following stage-2 run (B). ``--alpha-real``/``--alpha-cartoon`` weigh each
domain's components (and ``--alpha-shared`` the shared ones) separately; ``--alpha-motion``, when given,
overrides them for the motion path (both domains' Em and p, T_{s->r}, T_{r->d}), e.g. ``--alpha-real 0
--alpha-cartoon 1 --alpha-shared 1 --alpha-motion 1`` takes A's real renderer (Ea, T_B, G) and all else from B.

    python scripts/interpolate_weights.py A_DIR B_DIR OUT_DIR --alpha-real 0.5 --alpha-cartoon 1 --alpha-shared 0.5

``--copy-real-to-cartoon`` then sets the cartoon domain to a copy of the mixed real one (Sec. 3.3's init, as the
shipped stage-1 weights have it). The default weights v4 are v3 with a stage-1 run's motion path this way:

    python scripts/interpolate_weights.py V3_DIR RUN/checkpoints/step-00002292 v4 --alpha-real 0 --alpha-cartoon 0 \
      --alpha-shared 1 --alpha-motion 1 --copy-real-to-cartoon
"""

from __future__ import annotations

import argparse

import torch

from toontalker.conventions import DOMAINS
from toontalker.weights import from_pretrained, save_pretrained


def weight_of(name: str, alphas: dict[str, float], motion: set[str]) -> float:
    if name in motion and "motion" in alphas:
        return alphas["motion"]
    for domain in DOMAINS:
        if f"domains.{domain}." in name:
            return alphas[domain]
    return alphas["shared"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("out")
    for part in ("real", "cartoon", "shared"):
        parser.add_argument(f"--alpha-{part}", type=float, default=0.5, help=f"weight of B for the {part} components")
    parser.add_argument("--alpha-motion", type=float, help="weight of B for the motion path (default: per part)")
    parser.add_argument(
        "--copy-real-to-cartoon", action="store_true", help="then make the cartoon domain a copy of the real one"
    )
    args = parser.parse_args()
    alphas = {"real": args.alpha_real, "cartoon": args.alpha_cartoon, "shared": args.alpha_shared}
    if args.alpha_motion is not None:
        alphas["motion"] = args.alpha_motion
    a = from_pretrained(args.a, dtype=torch.float32)
    b = from_pretrained(args.b, dtype=torch.float32)
    if a.config.to_dict() != b.config.to_dict():
        raise SystemExit(f"{args.a} and {args.b} have different model configs")
    state_b = b.state_dict()
    motion = {name for name, _ in a.named_part_parameters("motion")}
    mixed = {}
    for name, tensor in a.state_dict().items():
        w = weight_of(name, alphas, motion)
        mixed[name] = torch.lerp(tensor, state_b[name], w) if tensor.is_floating_point() else state_b[name]
    a.load_state_dict(mixed)
    if args.copy_real_to_cartoon:
        a.copy_domain("real", "cartoon")
    save_pretrained(a, args.out, dtype="fp16", max_shard_size="15MiB")
    print(f"{args.out}: {len(mixed)} tensors, alphas {alphas}")


if __name__ == "__main__":
    main()
