"""`toontalker animate SOURCE DRIVING -o OUT`: reenact a source face with a driving video or image."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toontalker.animation.options import AnimateOptions
from toontalker.cli.choices import Detector, Domain, InferenceBackend
from toontalker.cli.common import Device, Dtype, JsonOutput, Quiet, Seed, option_defaults, output_mode
from toontalker.console import print_json, stderr_console, stdout_console

HELP = (
    "Animate the face in SOURCE (an image: png/jpg/webp, any size, alpha or grayscale) with the motion of "
    "DRIVING (a video: mp4/mov/webm/avi/gif, or an image). The output's suffix picks its format: "
    ".mp4/.mov/.mkv/.webm (with the driver's audio), .gif, an image, or a folder name for PNG frames."
)
EPILOG = """Examples:

  toontalker animate examples/cartoon_portrait.jpg examples/real_driver.mp4 -o animated.mp4 --side-by-side

  toontalker animate character.png speech.mp4 -o out.mp4

  toontalker animate portrait.jpg anime.mp4 -o out.mp4 --source-domain real --driving-domain cartoon

  toontalker animate poster.png talk.mov -o out.mp4 --paste-back --side-by-side

  toontalker animate face.png talk.mp4 -o frames/ --no-crop --find-best-start

  toontalker animate char.png talk.mp4 -o out.mp4 --source-box 120,80,360,320 --weights runs/release

  toontalker animate char.png talk.mp4 -o out.mp4 --weights owner/toontalker-small-256@v1
  (owner/...: an example hub id; no toontalker weights are published on the hub yet)

  toontalker animate char.png talk.mp4 -o test.mp4 --preset tiny --random-weights   (pipeline test only)
"""


DEFAULTS = option_defaults(AnimateOptions)  # the library's defaults: one home (animation/options.py)

AnimateWeights = Annotated[
    str | None,
    typer.Option(
        "--weights",
        "-w",
        help="Weights folder or Hugging Face hub id (OWNER/NAME or OWNER/NAME@REVISION). "
        "Default: the demo weights shipped with the package (toontalker/weights/default).",
    ),
]


def animate_command(
    source: Annotated[Path, typer.Argument(help="Source image with the face to animate.")],
    driving: Annotated[Path, typer.Argument(help="Driving video (or image) giving the motion.")],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Output file (.mp4 .mov .mkv .webm .gif .png ...) or folder for PNG frames."
        ),
    ],
    source_domain: Annotated[
        Domain, typer.Option("--source-domain", case_sensitive=False, help="Domain of SOURCE: cartoon or real.")
    ] = DEFAULTS.source_domain,
    driving_domain: Annotated[
        Domain, typer.Option("--driving-domain", case_sensitive=False, help="Domain of DRIVING: real or cartoon.")
    ] = DEFAULTS.driving_domain,
    weights: AnimateWeights = None,
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset",
            help="Architecture for --random-weights: tiny, small-256, paper-256; without it, the weights must be this preset (else exit 2).",
        ),
    ] = None,
    random_weights: Annotated[
        bool,
        typer.Option("--random-weights", help="Untrained model: tests the pipeline, the pictures are MEANINGLESS."),
    ] = DEFAULTS.random_weights,
    detector: Annotated[
        Detector,
        typer.Option("--detector", help="Face detector: auto (per domain), s3fd, mediapipe, haar, dlib-hog, dlib-cnn."),
    ] = DEFAULTS.detector,
    source_box: Annotated[
        str | None,
        typer.Option("--source-box", metavar="X0,Y0,X1,Y1", help="The source face box in pixels (skips detection)."),
    ] = None,
    no_crop: Annotated[
        bool, typer.Option("--no-crop", help="Both inputs are already face crops: use whole frames.")
    ] = False,
    no_crop_source: Annotated[bool, typer.Option("--no-crop-source", help="SOURCE is already a face crop.")] = False,
    no_crop_driving: Annotated[
        bool, typer.Option("--no-crop-driving", help="DRIVING is already cropped to the face.")
    ] = False,
    crop_scale: Annotated[
        float, typer.Option("--crop-scale", help="Crop side as a multiple of the face box's longer side.")
    ] = DEFAULTS.crop_scale,
    detect_every: Annotated[
        int, typer.Option("--detect-every", min=1, help="Detect the driving face every N frames.")
    ] = DEFAULTS.detect_every,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=0,
            help="Threads that detect and crop the driving face (0: in the decoding thread). Default: none when the model runs on the CPU, else the CPU cores minus 2, at most 8.",
        ),
    ] = DEFAULTS.workers,
    smooth_frames: Annotated[
        int, typer.Option("--smooth-frames", min=0, help="Average the driving box over 2N+1 frames.")
    ] = DEFAULTS.smooth_frames,
    start_frame: Annotated[
        int,
        typer.Option("--start-frame", min=0, help="Relative motion: the driving frame that maps to the source's pose."),
    ] = DEFAULTS.start_frame,
    find_best_start: Annotated[
        bool,
        typer.Option(
            "--find-best-start",
            help="Relative motion: use the driving frame whose motion code is nearest the source's.",
        ),
    ] = DEFAULTS.find_best_start,
    absolute: Annotated[
        bool, typer.Option("--absolute", help="Absolute motion (Eq. 3) instead of relative (Eq. 5).")
    ] = False,
    motion_gain: Annotated[
        float,
        typer.Option(
            "--motion-gain",
            min=0.0,
            max=4.0,
            help="Relative motion scaled by this (ours; 1 = the paper's Eq. 5): above 1 exaggerates the driver's expression and head motion, below 1 damps it. Torch backend.",
        ),
    ] = DEFAULTS.motion_gain,
    max_frames: Annotated[
        int | None, typer.Option("--max-frames", min=1, help="Animate only the first N driving frames.")
    ] = DEFAULTS.max_frames,
    paste_back: Annotated[
        bool, typer.Option("--paste-back", help="Blend the animated face back into the full source image.")
    ] = DEFAULTS.paste_back,
    feather: Annotated[
        float, typer.Option("--feather", help="Paste-back blend ramp, fraction of the crop side.")
    ] = DEFAULTS.feather,
    side_by_side: Annotated[
        bool, typer.Option("--side-by-side", help="Write source | driving | result panels.")
    ] = DEFAULTS.side_by_side,
    no_audio: Annotated[bool, typer.Option("--no-audio", help="Do not copy the driver's audio.")] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", "-b", min=1, help="Driving frames per inference batch.")
    ] = DEFAULTS.batch_size,
    backend: Annotated[
        InferenceBackend,
        typer.Option(
            "--backend",
            case_sensitive=False,
            help="Inference backend: torch, or onnx (onnxruntime on the CPU, fp32; exports and caches the graph on first use; needs the onnx extra).",
        ),
    ] = DEFAULTS.backend,
    onnx_model: Annotated[
        Path | None,
        typer.Option(
            "--onnx-model",
            help="With --backend onnx: a graph from `toontalker weights export-onnx` (else the cached export).",
        ),
    ] = None,
    compile_core: Annotated[
        bool,
        typer.Option(
            "--compile",
            help="torch.compile the per-frame core (torch backend): faster batches after a one-off compile before the first batch. Compiling small-256 took 22 minutes on a busy 2-core CPU (needs a C++ compiler), 1-2 minutes on a GPU; for long drivers only.",
        ),
    ] = DEFAULTS.compile,
    autotune: Annotated[
        bool,
        typer.Option(
            "--autotune",
            help="CUDA: let cuDNN benchmark conv algorithms for each batch shape first (measured on an H200: a 27-40 s longer start at batch 128-256 and slower batches end to end; kept for other GPUs).",
        ),
    ] = DEFAULTS.autotune,
    device: Device = DEFAULTS.device,
    dtype: Dtype = DEFAULTS.dtype,
    seed: Seed = DEFAULTS.seed,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    from toontalker.animation.api import animate
    from toontalker.faces import Box

    mode = output_mode(quiet, json)
    box = Box.parse(source_box, "--source-box").as_tuple() if source_box else None
    options = AnimateOptions(
        source_domain=source_domain,
        driving_domain=driving_domain,
        detector=detector,
        source_box=box,
        no_crop_source=no_crop or no_crop_source,
        no_crop_driving=no_crop or no_crop_driving,
        crop_scale=crop_scale,
        detect_every=detect_every,
        workers=workers,
        smooth_frames=smooth_frames,
        motion="absolute" if absolute else "relative",
        motion_gain=motion_gain,
        start_frame=start_frame,
        find_best_start=find_best_start,
        max_frames=max_frames,
        paste_back=paste_back,
        feather=feather,
        side_by_side=side_by_side,
        audio=not no_audio,
        batch_size=batch_size,
        device=device,
        dtype=dtype,
        preset=preset,
        backend=backend,
        onnx_model=str(onnx_model) if onnx_model is not None else None,
        compile=compile_core,
        autotune=autotune,
        random_weights=random_weights,
        seed=seed,
    )
    err = stderr_console()
    if random_weights and not mode.json:
        err.print(
            f"[bold red]RANDOM WEIGHTS ({preset or 'tiny'}): the output tests the pipeline; "
            "its pictures are meaningless.[/bold red]"
        )
    if mode.show_bars:
        from toontalker.cli.progress import frame_progress

        with frame_progress(err, f"animating {driving.name}") as on_progress:
            result = animate(source, driving, output, weights=weights, options=options, on_progress=on_progress)
    else:
        result = animate(source, driving, output, weights=weights, options=options)
    if mode.json:
        print_json(result)
        return
    for warning in result.warnings:
        style = "bold red" if warning.startswith("RANDOM WEIGHTS") else "yellow"
        err.print(f"[{style}]warning: {warning}[/{style}]")
    if mode.quiet:
        return
    out = stdout_console()
    audio = ", audio" if result.audio else ""
    out.print(
        f"wrote [bold]{result.output}[/bold] ({result.output_kind}, {result.frames} frames, "
        f"{result.width}x{result.height}, {result.fps:g} fps{audio}) in {result.seconds:.1f} s "
        f"({result.frames_per_second:.1f} frames/s on {result.device} {result.dtype}"
        f"{'' if result.backend == 'torch' else ', ' + result.backend})"
    )
    ref = f", reference frame {result.reference_frame}" if result.reference_frame is not None else ""
    out.print(
        f"motion {result.motion}{ref}; source face by {result.source_face_found_by}; "
        f"driving face lost in {result.driving_frames_lost} frames; weights {result.weights}"
    )
