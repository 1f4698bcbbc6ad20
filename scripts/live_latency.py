"""Per-frame latency of live animate (batch 1): a driving frame in memory -> the animated face on the CPU.

Decodes CLIP into memory first (as a camera hands over frames), then feeds the frames one at a time, back
to back, to :class:`toontalker.animation.live.LiveAnimator` and times each call (face box from the
detector running beside the frames, crop, the per-frame core, copy back). The first WARMUP frames
(compilation, cuDNN autotuning) are reported apart. Prints JSON.

  python scripts/live_latency.py --source examples/cartoon_portrait.jpg --clip examples/real_driver.mp4 \
      --preset paper-256 --random-weights --device cuda --compile-mode reduce-overhead
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--clip", type=Path, required=True, help="the driving video (decoded into memory)")
    parser.add_argument("--frames", type=int, default=300, help="timed frames (the clip is looped)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--preset", default=None)
    parser.add_argument("--random-weights", action="store_true")
    parser.add_argument("--weights", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--compile-mode", default=None, help="e.g. reduce-overhead (CUDA graphs)")
    parser.add_argument("--detection", choices=("async", "sync"), default="async")
    parser.add_argument("--detect-every", type=int, default=1)
    parser.add_argument("--detector", default="auto")
    parser.add_argument(
        "--no-autotune", action="store_true", help="cuDNN heuristics (batch 1 has one shape: autotuned once)"
    )
    parser.add_argument("--source-domain", default="cartoon")
    parser.add_argument("--driving-domain", default="real")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's toontalker

    import torch

    from toontalker.animation.live import LiveAnimator, LiveOptions
    from toontalker.animation.source import prepare_source
    from toontalker.devices import dtype_name, enable_fast_kernels, resolve_device, resolve_dtype
    from toontalker.faces import get_detector
    from toontalker.video import read_frames
    from toontalker.weights.default import load_model

    device = resolve_device(args.device)
    dtype = resolve_dtype(args.dtype, device)
    enable_fast_kernels(device, autotune=not args.no_autotune)
    model, _ = load_model(args.weights, args.preset, args.random_weights, 0)
    model = model.to(device).eval()
    frames = read_frames(args.clip)
    source = prepare_source(args.source, model.config.image_size, args.source_domain)
    options = LiveOptions(
        driving_domain=args.driving_domain,
        detection=args.detection,
        detect_every=args.detect_every,
        compile_mode=args.compile_mode,
    )
    detector = get_detector(args.detector, args.driving_domain)
    times = []
    t_start = time.perf_counter()
    with LiveAnimator(
        model, source, detector=detector, device=device, dtype=dtype, source_domain=args.source_domain, options=options
    ) as live:
        setup_s = time.perf_counter() - t_start
        lost = 0
        for i in range(args.warmup + args.frames):
            frame = frames[i % len(frames)]
            t = time.perf_counter()
            out = live(frame)
            times.append(time.perf_counter() - t)
            lost += int(out.lost) if i >= args.warmup else 0
    warm = np.array(times[: args.warmup]) * 1e3
    ms = np.array(times[args.warmup :]) * 1e3
    print(
        json.dumps(
            {
                "device": str(device),
                "gpu": torch.cuda.get_device_name() if device.type == "cuda" else None,
                "dtype": dtype_name(dtype),
                "preset": args.preset,
                "weights": args.weights,
                "driving_frame": list(frames.shape[1:3]),
                "output": model.config.image_size,
                "options": {k: getattr(options, k) for k in ("detection", "detect_every", "compile_mode")},
                "setup_s": round(setup_s, 2),
                "first_frame_ms": round(float(warm[0]), 1) if len(warm) else None,
                "warmup_ms_total": round(float(warm.sum()), 1),
                "frames": len(ms),
                "ms_mean": round(float(ms.mean()), 2),
                "ms_p50": round(float(np.percentile(ms, 50)), 2),
                "ms_p90": round(float(np.percentile(ms, 90)), 2),
                "ms_p99": round(float(np.percentile(ms, 99)), 2),
                "ms_max": round(float(ms.max()), 2),
                "frames_per_second": round(1e3 / float(ms.mean()), 1),
                "frames_lost": lost,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
