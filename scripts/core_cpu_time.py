"""CPU time of animate's per-batch step on the shipped weights (1 thread, best of N): the before/after figure
of docs/benchmarks.md ("Folded blur kept between calls").

    python scripts/core_cpu_time.py --batch 8 --rounds 4

Like the command line, it keeps freed memory in the process (toontalker/allocator.py);
``TOONTALKER_SYSTEM_MALLOC=1`` measures with glibc's defaults.
"""

from __future__ import annotations

import argparse
import time

import torch

from toontalker.allocator import keep_freed_memory
from toontalker.weights import default_weights, from_pretrained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    print(f"freed memory kept in the process: {keep_freed_memory()}")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = from_pretrained(str(default_weights()), dtype=torch.float32).eval()
    source = torch.rand(1, 3, 256, 256) * 2 - 1
    driving = torch.rand(args.batch, 3, 256, 256) * 2 - 1
    with torch.inference_mode():
        src = model.encode_source(source, "cartoon")
        reference = model.encode_driving(driving[:1], "real")

        def step() -> torch.Tensor:
            w = model.encode_driving(driving, "real")
            return model.render(src, model.relative_motion(src, w, reference.expand_as(w)))

        step()
        times = []
        for _ in range(args.rounds):
            start = time.process_time()
            step()
            times.append(time.process_time() - start)
    print(f"CPU s per batch of {args.batch}: best {min(times):.3f}, all {[round(t, 3) for t in times]}")


if __name__ == "__main__":
    main()
