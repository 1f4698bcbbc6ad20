"""CPU speed of animate end to end, per backend, and its start-up breakdown (docs/benchmarks.md).

End to end: ``toontalker.animate`` on MAX_FRAMES frames of CLIP driving SOURCE with the given weights (the
shipped small-256 by default), for each configuration in turn, ROUNDS times interleaved (so a busy machine
slows every configuration alike); the process's CPU seconds per frame (decode, tracking, inference; not the
ffmpeg encoder) are reported too, being less sensitive to a busy machine. The model is loaded once and passed in; the ONNX graph is exported (and
cached) before the first timed run. Start-up (``--startup``): a fresh process times imports, weight load,
detector init, source crop + encode, and the first batch of each backend. Like the command line, the script keeps
freed memory in the process (toontalker/allocator.py); ``TOONTALKER_SYSTEM_MALLOC=1`` runs it with glibc's
defaults, the "before" of that change.

  python scripts/animate_cpu_speed.py --source face.png --clip talk.mp4 --max-frames 48 --rounds 2
  python scripts/animate_cpu_speed.py --source face.png --clip talk.mp4 --startup
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = {  # name -> AnimateOptions fields
    "torch": {},  # animate's defaults: dtype auto (bf16 on a CPU with native bf16, else fp32)
    "torch-fp32": {"dtype": "fp32"},
    "torch-bf16": {"dtype": "bf16"},
    "onnx": {"backend": "onnx"},
    "onnx-detect3": {"backend": "onnx", "detect_every": 3},
}


def end_to_end(args: argparse.Namespace) -> dict:
    from toontalker.animation.api import AnimateOptions, animate
    from toontalker.animation.onnx_core import cached_export
    from toontalker.weights import load_model

    model, _ = load_model(args.weights, None, False)
    t0 = time.perf_counter()
    cached_export(model, "cartoon", "real")
    export_s = time.perf_counter() - t0
    runs: dict[str, list[float]] = {name: [] for name in args.configs}
    cpu: dict[str, list[float]] = {name: [] for name in args.configs}  # this process's CPU seconds per frame
    stream: dict[str, list[float]] = {name: [] for name in args.configs}  # frames/s after start-up
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for name in args.configs:
                options = AnimateOptions(
                    max_frames=args.max_frames,
                    batch_size=args.batch_size,
                    side_by_side=args.side_by_side,
                    **CONFIGS[name],
                )
                cpu0 = time.process_time()
                result = animate(args.source, args.clip, Path(tmp) / f"{name}.mp4", options=options, model=model)
                runs[name].append(result.frames / result.seconds)
                cpu[name].append((time.process_time() - cpu0) / result.frames)
                stream[name].append(result.frames_per_second)
                print(
                    f"{name}: {result.frames} frames in {result.seconds:.1f} s = {runs[name][-1]:.2f} frames/s, "
                    f"{cpu[name][-1]:.3f} CPU s/frame, {stream[name][-1]:.2f} frames/s streaming",
                    file=sys.stderr,
                    flush=True,
                )
    return {
        "export_or_cache_s": round(export_s, 1),
        "frames": args.max_frames,
        "frames_per_second": {k: [round(v, 3) for v in vs] for k, vs in runs.items()},
        "median": {k: round(statistics.median(vs), 3) for k, vs in runs.items()},
        "cpu_seconds_per_frame": {k: [round(v, 3) for v in vs] for k, vs in cpu.items()},
        "streaming_frames_per_second": {k: [round(v, 3) for v in vs] for k, vs in stream.items()},
    }


def startup(args: argparse.Namespace) -> dict:
    times: dict[str, float] = {}
    t = time.perf_counter()

    def mark(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        times[name] = round(now - t, 2)
        t = now

    import torch

    mark("import torch")
    from toontalker.animation.api import animate  # noqa: F401
    from toontalker.animation.compose import to_model_tensor
    from toontalker.animation.core import CoreRunner
    from toontalker.animation.driving import first_face_box
    from toontalker.animation.source import prepare_source
    from toontalker.devices import autocast, dtype_name, resolve_dtype
    from toontalker.faces import get_detector
    from toontalker.video import iter_frames, probe
    from toontalker.weights import load_model

    mark("import toontalker (animate, faces, video)")
    model, _ = load_model(args.weights, None, False)
    mark("load weights")
    detector = get_detector("auto", "real")
    detector.detect(next(iter_frames(args.clip, 1))[0])
    mark(f"detector init + first detection ({detector.name})")
    info = probe(args.clip)
    box = first_face_box(args.clip, info, detector)
    mark("opening scan of the driver (first face box)")
    size = model.config.image_size
    face = prepare_source(args.source, size, "cartoon")
    with torch.inference_mode():
        src = model.encode_source(to_model_tensor(face.crop[None], torch.device("cpu")), "cartoon")
    mark("source: detect, crop, encode")
    frames = torch.rand(args.batch_size, 3, size, size) * 2 - 1
    cpu = torch.device("cpu")
    dtype = resolve_dtype("auto", cpu)  # animate's default: bf16 on a CPU with native bf16, else fp32
    runner = CoreRunner(model, src, "real")
    with torch.inference_mode(), autocast(cpu, dtype):
        runner(frames)
    mark(f"first batch of {args.batch_size}, torch {dtype_name(dtype)}")
    runner = CoreRunner(model, src, "real", backend="onnx")
    mark("onnx: weights hash + export (cached after the first run) + session")
    with torch.inference_mode():
        runner(frames)
    mark(f"first batch of {args.batch_size}, onnx")
    return {"seconds": times, "first_face_box": None if box is None else box.as_tuple()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--clip", type=Path, required=True)
    parser.add_argument("--weights", default=None, help="default: the shipped weights")
    parser.add_argument("--max-frames", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--side-by-side", action="store_true")
    parser.add_argument("--startup", action="store_true", help="time the start-up steps in a fresh process")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's toontalker
    from toontalker.allocator import keep_freed_memory

    print(f"freed memory kept in the process: {keep_freed_memory()}", file=sys.stderr)
    if args.startup and not args.in_process:
        out = subprocess.run([sys.executable, *sys.argv, "--in-process"], check=True, capture_output=True, text=True)
        print(out.stdout, end="")
        return
    print(json.dumps(startup(args) if args.startup else end_to_end(args), indent=2))


if __name__ == "__main__":
    main()
