"""The driving side of animate: stream frames, track the face with a smoothed box, crop each frame.

Tracking, streaming with bounded memory (the tracker itself, :class:`~toontalker.faces.tracking.FaceTrackState`
and :class:`~toontalker.faces.tracking.BoxSmoother`, lives in :mod:`toontalker.faces.tracking` with its
parameters, :data:`~toontalker.faces.tracking.ANIMATE_TRACKING`):

* detection every ``detect_every`` frames; of the faces found, the one overlapping the current box most
  is taken; a face elsewhere replaces it only after 5 detections in a row disagree (a cut to another
  shot), so a passer-by never steals the track;
* frames where detection finds no face keep the last good box (counted as *lost*; the run never stops);
* before the first detection the box comes from a quick low-resolution scan of the opening seconds;
  a driver with no face at all is cropped as the whole frame (counted lost);
* the crop box is a centred moving average over ``2 * lookahead + 1`` frames (only ``lookahead`` frames
  are held back), which removes detector jitter without lag.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toontalker.animation.frame_pool import FramePool
from toontalker.animation.options import AnimateOptions
from toontalker.conventions import CROP_SCALE
from toontalker.faces import Box, FaceDetector, crop_resize, get_detector, square_box
from toontalker.faces.tracking import BoxSmoother, FaceTrackState
from toontalker.video import VideoInfo, is_image_path, iter_frames, probe, read_image
from toontalker.video_checks import frame_times, is_variable_rate

DEFAULT_IMAGE_FPS = 25.0  # the frame rate of a driving image's one-frame "video"


@dataclass
class Driver:
    """The driving input: a video (streamed) or one image."""

    path: Path
    info: VideoInfo | None  # None for an image
    image: np.ndarray | None
    fps: float
    frames: int
    constant_rate: float | None = None  # a variable-frame-rate video is resampled to this even rate

    def batches(self, batch_size: int, max_frames: int | None) -> Iterator[np.ndarray]:
        if self.image is not None:
            yield self.image[None]
            return
        yield from iter_frames(
            self.path, batch_size, max_frames=max_frames, info=self.info, constant_rate=self.constant_rate
        )


def open_driver(path: Path, max_frames: int | None) -> Driver:
    """The driver; a variable-frame-rate video is read on an even grid at its average rate following its
    timestamps, so output frame i shows what the driver shows at i / fps and its audio stays in sync."""
    if is_image_path(path):
        return Driver(path, info=None, image=read_image(path).on_background(), fps=DEFAULT_IMAGE_FPS, frames=1)
    info = probe(path)
    rate = info.fps if is_variable_rate(frame_times(path)) else None
    total = max(1, int(round(info.duration * info.fps))) if rate is not None else info.frames
    frames = total if max_frames is None else min(total, max_frames)
    return Driver(path, info=info, image=None, fps=info.fps, frames=frames, constant_rate=rate)


@dataclass(frozen=True)
class DrivingBatch:
    """A batch of consecutive driving frames, cropped for the model."""

    start: int  # index of the first frame in the (selected) driving video
    crops: np.ndarray  # (N, S, S, 3) uint8
    boxes: tuple[Box, ...]  # the crop box of each frame (full-frame pixels)
    lost: tuple[bool, ...]  # whether each frame's face was lost (box held)
    frames: np.ndarray | None  # (N, H, W, 3) uint8 full frames, only when asked for (side-by-side)
    views: np.ndarray | None = None  # (N, S, S, 3) uint8 crops moved inside the frame (driver panel), when asked

    def __len__(self) -> int:
        return len(self.crops)


def view_box(box: Box, image_w: int, image_h: int) -> Box:
    """``box`` (square) moved inside the frame, and shrunk to fit where it is larger: the driver panel's view.

    The model's crop keeps the face centred and pads past the frame's edge with black; the panel shows the
    same face from pixels that exist, so it has no black band.
    """
    side = min(box.width, float(image_w), float(image_h))
    cx, cy = box.center
    inner = Box(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2, box.score)
    return square_box(inner, 1.0, image_w, image_h, keep_inside=True)


def first_face_box(
    path: Path, info: VideoInfo, detector: FaceDetector, seconds: float = 10.0, stride: int = 5, scan_side: int = 480
) -> Box | None:
    """The first face in the opening ``seconds`` (every ``stride``-th frame, decoded small), in full-frame pixels."""
    factor = min(1.0, scan_side / max(info.width, info.height))
    size = (max(2, int(info.width * factor) // 2 * 2), max(2, int(info.height * factor) // 2 * 2))
    max_frames = max(1, int(seconds * info.fps))
    index = 0
    for batch in iter_frames(path, 32, size=size, max_frames=max_frames, info=info):
        for frame in batch:
            if index % stride == 0:
                faces = detector.detect(frame)
                if faces:
                    return Box(
                        faces[0].x0 * info.width / size[0],
                        faces[0].y0 * info.height / size[1],
                        faces[0].x1 * info.width / size[0],
                        faces[0].y1 * info.height / size[1],
                    )
            index += 1
    return None


def _with_detections(
    batches: Iterator[np.ndarray], pool: FramePool, detect_every: int, ahead: int
) -> Iterator[tuple[np.ndarray, list[Future[list[Box]] | None]]]:
    """Each decoded batch with the detections of its frames (every ``detect_every``-th, else None) as
    futures, handed on ``ahead`` batches after they were asked for, so a pool detects while tracking goes on."""
    window: deque[tuple[np.ndarray, list[Future[list[Box]] | None]]] = deque()
    index = 0
    for frames in batches:
        futures = [pool.detect(f) if (index + i) % detect_every == 0 else None for i, f in enumerate(frames)]
        index += len(frames)
        window.append((frames, futures))
        if len(window) > ahead:
            yield window.popleft()
    while window:
        yield window.popleft()


def track_and_crop(
    batches: Iterator[np.ndarray],
    detector: FaceDetector | None,
    size: int,
    batch_size: int,
    crop_scale: float = CROP_SCALE,
    detect_every: int = 1,
    lookahead: int = 4,
    initial_box: Box | None = None,
    keep_frames: bool = False,
    keep_views: bool = False,
    pool: FramePool | None = None,
) -> Iterator[DrivingBatch]:
    """Crop the face of every frame of ``batches`` to ``size`` x ``size``, in batches of ``batch_size``.

    ``detector=None`` means the frames are pre-cropped: the whole frame is the crop (``no_crop``).
    ``keep_frames`` adds the full frames, ``keep_views`` the panel crops of :func:`view_box` to each batch.
    ``pool`` (:class:`~toontalker.animation.frame_pool.FramePool`) runs detection and crop + resize on its
    threads, with its own detectors; without it both run inline with ``detector``. Same output either way.
    """
    pool = pool if pool is not None else FramePool(0, detector=detector)
    state = FaceTrackState(box=initial_box)
    smoother = BoxSmoother(lookahead)
    pending: deque[tuple[np.ndarray, bool]] = deque()  # frames waiting for their smoothed box
    out_crops: list[Future[np.ndarray]] = []
    out_boxes: list[Box] = []
    out_lost: list[bool] = []
    out_frames: list[np.ndarray] = []
    out_views: list[Future[np.ndarray]] = []
    start = 0
    frame_size: tuple[int, int] | None = None

    def emit(smoothed: list[Box]) -> None:
        assert frame_size is not None
        W, H = frame_size
        for face_box in smoothed:
            frame, lost = pending.popleft()
            box = square_box(face_box, crop_scale, W, H, keep_inside=False)
            out_crops.append(pool.submit(crop_resize, frame, box, size))
            out_boxes.append(box)
            out_lost.append(lost)
            if keep_frames:
                out_frames.append(frame)
            if keep_views:
                out_views.append(pool.submit(crop_resize, frame, view_box(box, W, H), size))

    def take(n: int) -> DrivingBatch:
        nonlocal start
        batch = DrivingBatch(
            start=start,
            crops=np.stack([f.result() for f in out_crops[:n]]),
            boxes=tuple(out_boxes[:n]),
            lost=tuple(out_lost[:n]),
            frames=np.stack(out_frames[:n]) if keep_frames else None,
            views=np.stack([f.result() for f in out_views[:n]]) if keep_views else None,
        )
        del out_crops[:n], out_boxes[:n], out_lost[:n], out_frames[:n], out_views[:n]
        start += n
        return batch

    stream: Iterator[tuple[np.ndarray, list[Future[list[Box]] | None] | None]]
    if detector is not None:
        stream = _with_detections(batches, pool, detect_every, ahead=1)
    else:
        stream = ((frames, None) for frames in batches)
    for frames, detections in stream:
        for i, frame in enumerate(frames):
            H, W = frame.shape[:2]
            frame_size = (W, H)
            if detections is None:
                pending.append((frame, False))
                emit(
                    [Box(0.0, 0.0, float(W), float(H))]
                    if W == H
                    else [square_box(Box(0.0, 0.0, float(W), float(H)), 1.0, W, H, keep_inside=False)]
                )
            else:
                lost = False
                found = detections[i]
                if found is not None:
                    box, lost = state.update(found.result())
                else:
                    box = state.box
                if box is None:  # no face seen yet and none found in the opening scan: whole frame
                    box, lost = square_box(Box(0.0, 0.0, float(W), float(H)), 1.0 / crop_scale, W, H), True
                pending.append((frame, lost))
                emit(smoother.push(box))
            while len(out_crops) >= batch_size:
                yield take(batch_size)
    if detector is not None and frame_size is not None:
        emit(smoother.flush())
    while out_crops:
        yield take(min(batch_size, len(out_crops)))


@dataclass(frozen=True)
class DrivingCrops:
    """How the driving frames are tracked and cropped; ``stream`` can be opened more than once (reference)."""

    driver: Driver
    detector: FaceDetector | None  # None: pre-cropped driver (no_crop_driving)
    initial_box: Box | None
    size: int
    options: AnimateOptions
    pool: FramePool

    def stream(
        self, max_frames: int | None, keep_frames: bool = False, keep_views: bool = False
    ) -> Iterator[DrivingBatch]:
        o = self.options
        return track_and_crop(
            self.driver.batches(o.batch_size, max_frames),
            self.detector,
            size=self.size,
            batch_size=o.batch_size,
            crop_scale=o.crop_scale,
            detect_every=o.detect_every,
            lookahead=o.smooth_frames,
            initial_box=self.initial_box,
            keep_frames=keep_frames,
            keep_views=keep_views,
            pool=self.pool,
        )


def _driving_detector(options: AnimateOptions) -> FaceDetector:
    detector = get_detector(options.detector, options.driving_domain)
    detector.max_side = min(detector.max_side, options.detect_side)
    return detector


def driving_crops(
    driver: Driver, driving: Path, *, size: int, options: AnimateOptions, warnings: list[str], pool_workers: int
) -> DrivingCrops:
    """The driving detector, the threads that detect and crop (``pool_workers``; close ``pool`` after use) and
    the box tracking starts from (the first face of the opening seconds)."""
    detector = None if options.no_crop_driving else _driving_detector(options)
    pool = FramePool(pool_workers, make_detector=lambda: _driving_detector(options), detector=detector)
    initial_box = None
    if detector is not None:
        if driver.image is not None:
            faces = detector.detect(driver.image)
            initial_box = faces[0] if faces else None
        else:
            assert driver.info is not None
            initial_box = first_face_box(driving, driver.info, detector)
        if initial_box is None:
            warnings.append(
                f"{driving}: no {options.driving_domain} face found in the opening seconds; "
                "cropping the whole frame until one appears"
            )
    return DrivingCrops(
        driver=driver, detector=detector, initial_box=initial_box, size=size, options=options, pool=pool
    )
