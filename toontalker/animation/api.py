"""``animate(source, driving, output)``: reenact the face of a source image with a driving video or image.

The source (cartoon or real) is read, its face found and cropped, and encoded once. The driver streams
through a pipeline -- decode + track + crop (thread) -> batched motion encoding, motion transfer and
rendering (this thread, GPU or CPU) -> paste-back / side-by-side + encoding (thread) -- so memory stays
flat in the video's length. Motion is relative (Eq. 5) to a reference driving frame by default
(``start_frame``, or ``find_best_start``: the frame whose motion code w_{r->d} is nearest to the source's
w_{r->s}), or absolute (Eq. 3).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch

from toontalker.animation.compose import PasteBack, PendingFrames, side_by_side, to_model_tensor
from toontalker.animation.core import CoreRunner
from toontalker.animation.driving import Driver, DrivingBatch, DrivingCrops, driving_crops, open_driver
from toontalker.animation.frame_pool import auto_workers
from toontalker.animation.options import AnimateOptions  # re-exported: its home is animation/options.py
from toontalker.animation.pipeline import PipelineRun, run_pipeline
from toontalker.animation.sinks import open_sink, output_kind
from toontalker.animation.source import SourceFace, prepare_source
from toontalker.conventions import Domain
from toontalker.devices import autocast, dtype_name, enable_fast_kernels, resolve_device, resolve_dtype
from toontalker.errors import InputError, OutputError, UsageError
from toontalker.faces import Box
from toontalker.io_utils import ensure_parent_writable, folders_removed_on_error
from toontalker.model.toontalker import SourceEncoding, ToonTalker
from toontalker.weights.default import WeightsChoice, load_model


@dataclass(frozen=True)
class AnimateResult:
    """What ``animate`` made."""

    output: Path
    output_kind: str  # video | gif | png-sequence | image
    frames: int
    fps: float  # of the output (the driver's)
    seconds: float  # wall time of the whole call
    frames_per_second: float  # throughput of the streaming part (decode -> infer -> encode)
    width: int
    height: int
    audio: bool  # whether the driver's audio was muxed in
    motion: str  # relative | absolute
    reference_frame: int | None  # the driving frame of Eq. 5 ('1'), for relative motion
    source_box: tuple[float, float, float, float]
    source_face_found_by: str
    driving_frames_lost: int  # frames where the driving face was not detected (previous box held)
    device: str
    dtype: str
    weights: str
    warnings: tuple[str, ...] = field(default=())
    backend: str = "torch"  # torch | torch+compile | onnx
    first_frame_seconds: float | None = None  # from the call's start until the first frames went to the encoder
    steady_frames_per_second: float | None = None  # after the first batch (start-up, compilation, autotuning excluded)
    stage_seconds: dict[str, float] = field(default_factory=dict)  # busy seconds: decode+track+crop, infer, encode
    workers: int = 0  # threads for driving-face detection + cropping (0: inline)


ProgressCallback = Callable[[int, int], None]  # (frames done, frames expected)


def _check_paths(source: Path, driving: Path, output: Path) -> None:
    for what, path in (("source", source), ("driving", driving)):
        if not path.exists():
            raise InputError(f"{path}: {what} file not found")
        if path.is_dir():
            raise InputError(f"{path}: {what} is a folder, not a file")
    if output.resolve() in (source.resolve(), driving.resolve()):
        raise OutputError(f"{output}: the output would overwrite an input")
    output_kind(output)
    ensure_parent_writable(output)


def animate(
    source: str | Path,
    driving: str | Path,
    output: str | Path,
    weights: str | Path | None = None,
    options: AnimateOptions = AnimateOptions(),
    on_progress: ProgressCallback | None = None,
    model: ToonTalker | None = None,
) -> AnimateResult:
    """Animate the face in ``source`` (an image) with the motion of ``driving`` (a video or an image).

    ``output``'s suffix picks the format: .mp4/.mov/.mkv/.webm (driver audio muxed), .gif, an image suffix
    (a driving image), or no suffix for a folder of PNG frames. ``weights`` is a folder or hub id; without
    it the package's default weights (see :func:`toontalker.weights.default_weights`); or pass
    an already loaded ``model`` (a ToonTalker) to reuse it across calls.
    Raises a :class:`~toontalker.errors.ToonTalkerError` subclass naming the file on bad input; nothing is
    left at ``output`` unless the call succeeds (not even the folders made for it).
    """
    with folders_removed_on_error(output):
        return _animate(
            Path(source),
            Path(driving),
            Path(output),
            weights=weights,
            options=options,
            on_progress=on_progress,
            model=model,
        )


@dataclass(frozen=True)
class _Plan:
    """What a call will do, resolved from the arguments before any weights load (errors come first)."""

    kind: str  # output kind
    device: torch.device
    dtype: torch.dtype
    driver: Driver
    motion: Literal["relative", "absolute"]  # absolute for a single driving image


@dataclass
class _StreamCounts:
    """What the encode side has written so far."""

    frames: int = 0
    lost: int = 0
    width: int = 0
    height: int = 0
    first_frame_at: float | None = None  # time.perf_counter() when the first frames were handed to the encoder
    first_batch: int = 0  # frames in that first batch
    last_frame_at: float | None = None
    stages: PipelineRun | None = None


def _animate(
    source: Path,
    driving: Path,
    output: Path,
    *,
    weights: str | Path | None,
    options: AnimateOptions,
    on_progress: ProgressCallback | None,
    model: ToonTalker | None,
) -> AnimateResult:
    t0 = time.perf_counter()
    warnings: list[str] = []
    plan = _plan(source, driving, output, options=options, warnings=warnings)
    model, choice = _model(model, weights, options=options, warnings=warnings)
    model = model.to(plan.device)
    size = model.config.image_size
    src_face: SourceFace = prepare_source(
        source,
        size,
        options.source_domain,
        detector=options.detector,
        source_box=Box(*options.source_box) if options.source_box is not None else None,
        no_crop=options.no_crop_source,
        crop_scale=options.crop_scale,
    )
    workers = options.workers if options.workers is not None else auto_workers(plan.device.type == "cpu")
    crops = driving_crops(plan.driver, driving, size=size, options=options, warnings=warnings, pool_workers=workers)
    with crops.pool:
        return _animate_stream(
            driving,
            output,
            plan=plan,
            model=model,
            choice=choice,
            src_face=src_face,
            crops=crops,
            options=options,
            warnings=warnings,
            on_progress=on_progress,
            t0=t0,
        )


def _animate_stream(
    driving: Path,
    output: Path,
    *,
    plan: _Plan,
    model: ToonTalker,
    choice: WeightsChoice,
    src_face: SourceFace,
    crops: DrivingCrops,
    options: AnimateOptions,
    warnings: list[str],
    on_progress: ProgressCallback | None,
    t0: float,
) -> AnimateResult:
    """Encode the source, pick the reference, stream the driver through the model into the output."""
    with torch.inference_mode(), autocast(plan.device, plan.dtype):
        src = model.encode_source(to_model_tensor(src_face.crop[None], plan.device), options.source_domain)
        reference_frame, reference = _reference(model, src, crops=crops, plan=plan, options=options)
    runner = CoreRunner(
        model,
        src,
        options.driving_domain,
        motion=plan.motion,
        reference=reference,
        backend=options.backend,
        compile_mode="default" if options.compile else None,
        batch_size=options.batch_size,
        onnx_path=options.onnx_model,
        motion_gain=options.motion_gain,
    )
    audio = options.audio and plan.kind == "video" and plan.driver.info is not None and plan.driver.info.has_audio
    t_stream = time.perf_counter()
    counts = _stream(
        plan,
        crops,
        runner=runner,
        src_face=src_face,
        output=output,
        options=options,
        audio=audio,
        on_progress=on_progress,
    )
    stream_seconds = time.perf_counter() - t_stream
    if counts.lost:
        warnings.append(f"{driving}: the face was lost in {counts.lost} of {counts.frames} frames (previous box held)")
    return AnimateResult(
        output=output,
        output_kind=plan.kind,
        frames=counts.frames,
        fps=plan.driver.fps,
        seconds=time.perf_counter() - t0,
        frames_per_second=counts.frames / max(stream_seconds, 1e-9),
        width=counts.width,
        height=counts.height,
        audio=audio,
        motion=plan.motion,
        reference_frame=reference_frame,
        source_box=src_face.box.as_tuple(),
        source_face_found_by=src_face.found_by,
        driving_frames_lost=counts.lost,
        device=str(plan.device),
        dtype=dtype_name(plan.dtype),
        weights=choice.source,
        warnings=tuple(warnings),
        backend=options.backend + ("+compile" if options.compile else ""),
        first_frame_seconds=None if counts.first_frame_at is None else counts.first_frame_at - t0,
        steady_frames_per_second=_steady_rate(counts),
        stage_seconds=_stage_seconds(counts.stages),
        workers=crops.pool.workers,
    )


def _steady_rate(counts: _StreamCounts) -> float | None:
    if counts.first_frame_at is None or counts.last_frame_at is None or counts.frames <= counts.first_batch:
        return None
    return (counts.frames - counts.first_batch) / max(counts.last_frame_at - counts.first_frame_at, 1e-9)


def _stage_seconds(run: PipelineRun | None) -> dict[str, float]:
    if run is None:
        return {}
    return {
        "decode_track_crop": round(run.produce_seconds, 3),
        "infer": round(run.infer_seconds, 3),
        "compose_encode": round(run.consume_seconds, 3),
    }


def _plan(source: Path, driving: Path, output: Path, *, options: AnimateOptions, warnings: list[str]) -> _Plan:
    """Paths, device and dtype, the driver and the motion mode; every error the arguments alone show."""
    _check_paths(source, driving, output)
    kind = output_kind(output)
    device = resolve_device("cpu" if options.backend == "onnx" and options.device == "auto" else options.device)
    dtype = resolve_dtype(options.dtype, device, cpu_bf16=options.backend == "torch")  # onnx: fp32 graphs
    if options.backend == "onnx" and (device.type != "cpu" or dtype != torch.float32):
        raise UsageError(f"the onnx backend runs on the CPU in fp32 (asked: {device}, {dtype_name(dtype)})")
    enable_fast_kernels(device, autotune=options.autotune)
    driver = open_driver(driving, options.max_frames)
    if driver.constant_rate is not None:
        warnings.append(
            f"{driving}: variable frame rate; resampled to {driver.constant_rate:g} fps following its "
            "timestamps (audio stays in sync)"
        )
    motion = options.motion
    if driver.image is not None and motion == "relative":
        motion = "absolute"
        warnings.append("the driver is a single image: using absolute motion (Eq. 3)")
    if driver.info is not None and options.start_frame >= driver.frames:
        raise InputError(f"{driving}: --start-frame {options.start_frame} is past its last frame ({driver.frames - 1})")
    if kind == "image" and driver.frames > 1:
        raise UsageError(
            f"{output}: an image output holds one frame, but {driving} has {driver.frames} "
            "(write a video, a .gif, or a folder name for a PNG sequence)"
        )
    return _Plan(kind=kind, device=device, dtype=dtype, driver=driver, motion=motion)


def _model(
    model: ToonTalker | None, weights: str | Path | None, *, options: AnimateOptions, warnings: list[str]
) -> tuple[ToonTalker, WeightsChoice]:
    """The model passed in, or the one ``weights`` / the options name (see :func:`load_model`)."""
    if model is None:
        model, choice = load_model(weights, options.preset, options.random_weights, options.seed)
    else:
        choice = WeightsChoice("model passed in", None, False)
    if choice.warning:
        warnings.append(choice.warning)
    return model, choice


def _reference(
    model: ToonTalker, src: SourceEncoding, *, crops: DrivingCrops, plan: _Plan, options: AnimateOptions
) -> tuple[int | None, torch.Tensor | None]:
    """Relative motion's reference frame ('1' of Eq. 5) and its code w_{r->1} (1, K, d); None for the code
    means the first streamed frame (encoded with its batch), None for both means absolute motion."""
    if plan.motion != "relative":
        return None, None
    if options.find_best_start:
        return _best_start(
            model, src, crops.stream(options.max_frames), device=plan.device, domain=options.driving_domain
        )
    if options.start_frame > 0:
        stream = crops.stream(options.start_frame + options.smooth_frames + 1)
        code = _code_at(model, stream, options.start_frame, device=plan.device, domain=options.driving_domain)
        return options.start_frame, code
    return 0, None


def _stream(
    plan: _Plan,
    crops: DrivingCrops,
    *,
    runner: CoreRunner,
    src_face: SourceFace,
    output: Path,
    options: AnimateOptions,
    audio: bool,
    on_progress: ProgressCallback | None,
) -> _StreamCounts:
    """decode + track + crop (thread) -> the per-batch step (this thread) -> compose + encode (thread)."""
    keep_full_frames = options.side_by_side and options.paste_back
    paste = PasteBack(src_face.image, src_face.box, options.feather) if options.paste_back else None
    source_panel = src_face.image if options.paste_back else src_face.crop
    counts = _StreamCounts()
    sink = open_sink(output, plan.driver.fps, plan.driver.path if audio else None)

    def infer(batch: DrivingBatch) -> tuple[DrivingBatch, PendingFrames]:
        with torch.inference_mode(), autocast(plan.device, plan.dtype):
            rendered = runner(to_model_tensor(batch.crops, plan.device))
            return batch, PendingFrames(rendered)  # copied to the CPU while the next batch runs

    def consume(item: tuple[DrivingBatch, PendingFrames]) -> None:
        batch, pending = item
        faces = pending.result()
        frames = paste(faces) if paste is not None else faces
        if options.side_by_side:
            panels = batch.frames if keep_full_frames else batch.views
            assert panels is not None, "the driving stream keeps the frames or views side_by_side needs"
            frames = side_by_side(source_panel, panels, frames)
        counts.width, counts.height = frames.shape[2], frames.shape[1]
        sink.write(frames)
        counts.last_frame_at = time.perf_counter()
        if counts.frames == 0:
            counts.first_frame_at, counts.first_batch = counts.last_frame_at, len(batch)
        counts.lost += sum(batch.lost)
        counts.frames += len(batch)
        if on_progress is not None:
            on_progress(counts.frames, max(plan.driver.frames, counts.frames))

    with sink:
        stream = crops.stream(
            options.max_frames, keep_full_frames, keep_views=options.side_by_side and not keep_full_frames
        )
        counts.stages = run_pipeline(stream, infer, consume)
    return counts


def _code_at(
    model: ToonTalker, stream: Iterator[DrivingBatch], frame: int, *, device: torch.device, domain: Domain
) -> torch.Tensor:
    """w_{r->d} of driving frame ``frame``, cropped exactly as the main stream will crop it."""
    for batch in stream:
        if batch.start <= frame < batch.start + len(batch):
            i = frame - batch.start
            return model.encode_driving(to_model_tensor(batch.crops[i : i + 1], device), domain)
    raise InputError(f"driving frame {frame} could not be decoded")


def _best_start(
    model: ToonTalker, src: SourceEncoding, stream: Iterator[DrivingBatch], *, device: torch.device, domain: Domain
) -> tuple[int, torch.Tensor]:
    """The driving frame whose w_{r->d} is nearest (L2) to the source's w_{r->s}: its index and code."""
    target = src.w_r2s.float().flatten(1)
    best: tuple[float, int, torch.Tensor] | None = None
    for batch in stream:
        codes = model.encode_driving(to_model_tensor(batch.crops, device), domain)
        dist = (codes.float().flatten(1) - target).norm(dim=1)
        i = int(dist.argmin())
        if best is None or float(dist[i]) < best[0]:
            best = (float(dist[i]), batch.start + i, codes[i : i + 1].clone())
    if best is None:
        raise InputError("the driving video yielded no frames")
    return best[1], best[2]
