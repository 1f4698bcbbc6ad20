"""One raw video -> face clips: scene cuts, face tracks, stable square crops, clip files.

Two streaming passes over the video, so memory stays flat in its length:

1. analyse: every frame goes to the scene-cut detector (PySceneDetect, fed downscaled frames) and every
   ``detect_every``-th frame to the face detector;
2. write: each planned clip's frames are cropped with its one stable square box and written at ``size``.

A clip is one face track inside one scene (:func:`toontalker.faces.track_boxes`: a new clip when the face
jumps or is lost), kept if it has at least ``min_frames`` frames and its median face side is at least
``min_face`` source pixels. Its crop is the box covering the (smoothed) face in 95% of its frames, made
square and enlarged by ``scale``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from toontalker.dataset.manifest import ClipRecord
from toontalker.dataset.options import BuildConfig  # re-exported: its home is dataset/options.py
from toontalker.dataset.sources import SourceVideo
from toontalker.dataset.storage import ClipWriter, clip_relpath
from toontalker.errors import ToonTalkerError
from toontalker.faces import Box, FaceDetector, crop_resize, smooth_boxes, square_box, stable_box, track_boxes
from toontalker.video import VideoInfo, iter_frames, probe


@dataclass(frozen=True)
class PlannedClip:
    start: int
    end: int  # exclusive
    crop: Box
    face_size: float


@dataclass(frozen=True)
class VideoResult:
    """What became of one source video: ``status`` is ok, no_clips (faceless / all dropped) or failed;
    ``landmark_errors``: (clip id, reason) for its clips whose landmarks failed (the clips are kept)."""

    rel: str
    status: str
    message: str
    records: tuple[ClipRecord, ...]
    frames_in: int
    seconds: float
    landmark_errors: tuple[tuple[str, str], ...] = ()


class SceneCutter:
    """Feeds frames to a PySceneDetect detector one by one; ``finish()`` gives the scene ranges."""

    WIDTH = 256

    def __init__(self, kind: str, threshold: float, fps: float) -> None:
        from scenedetect import AdaptiveDetector, ContentDetector

        self.fps = fps
        self.cuts: list[int] = []
        self.frames = 0
        if kind == "content":
            self._detector = ContentDetector(threshold=threshold, min_scene_len=15)
        elif kind == "adaptive":
            self._detector = AdaptiveDetector(min_scene_len=15)
        else:
            self._detector = None

    def feed(self, rgb: np.ndarray) -> None:
        if self._detector is not None:
            from scenedetect import FrameTimecode

            H, W = rgb.shape[:2]
            small = cv2.resize(rgb, (self.WIDTH, max(1, round(H * self.WIDTH / W))), interpolation=cv2.INTER_AREA)
            cuts = self._detector.process_frame(FrameTimecode(self.frames, self.fps), small[..., ::-1].copy())
            self.cuts.extend(c.frame_num for c in cuts)
        self.frames += 1

    def finish(self) -> list[tuple[int, int]]:
        if self._detector is not None:
            from scenedetect import FrameTimecode

            self.cuts.extend(c.frame_num for c in self._detector.post_process(FrameTimecode(self.frames, self.fps)))
        bounds = [0] + sorted({c for c in self.cuts if 0 < c < self.frames}) + [self.frames]
        return [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _chunks(start: int, end: int, max_frames: int) -> list[tuple[int, int]]:
    if max_frames <= 0 or end - start <= max_frames:
        return [(start, end)]
    return [(a, min(a + max_frames, end)) for a in range(start, end, max_frames) if min(a + max_frames, end) > a]


def plan_clips(
    scenes: Sequence[tuple[int, int]], detections: Sequence[list[Box] | None], info: VideoInfo, config: BuildConfig
) -> tuple[list[PlannedClip], dict[str, int]]:
    """The clips to write, and how many candidate tracks were dropped for each reason."""
    dropped = {"short": 0, "small": 0}
    clips: list[PlannedClip] = []
    W, H = info.width, info.height
    for start, end in scenes:
        if not config.needs_detector:
            if config.box:
                crop = square_box(Box.parse(config.box), 1.0, W, H, keep_inside=False)
            else:
                side = min(W, H)
                crop = Box((W - side) / 2, (H - side) / 2, (W + side) / 2, (H + side) / 2)
            candidates = [(start, end, crop, crop.width)]
        else:
            candidates = []
            for track in track_boxes(detections[start:end], config.tracking, start_frame=start):
                if track.median_face_side() < config.min_face:
                    dropped["small"] += 1
                    continue
                boxes = smooth_boxes(track.boxes, config.smooth)
                for a, b in _chunks(track.start, track.end, config.max_frames):
                    part = boxes[a - track.start : b - track.start]
                    crop = square_box(stable_box(part), config.scale, W, H)
                    candidates.append((a, b, crop, track.median_face_side()))
        for a, b, crop, face in candidates:
            if b - a < config.min_frames:
                dropped["short"] += 1
                continue
            clips.append(PlannedClip(a, b, crop, face))
    return clips, dropped


def analyse(
    source: SourceVideo, info: VideoInfo, config: BuildConfig, detector: FaceDetector | None
) -> tuple[list[tuple[int, int]], list[list[Box] | None]]:
    """Pass 1: scene ranges and per-frame detections (None where not examined)."""
    cutter = SceneCutter(config.scene_detector, config.scene_threshold, info.fps)
    detections: list[list[Box] | None] = []
    for batch in iter_frames(source.path, batch_size=32, info=info):
        for frame in batch:
            index = cutter.frames
            cutter.feed(frame)
            examine = detector is not None and index % config.detect_every == 0
            detections.append(detector.detect(frame) if examine and detector is not None else None)
    return cutter.finish(), detections


def _record(
    source: SourceVideo, clip: PlannedClip, clip_id: str, rel: str, frames: int, info: VideoInfo, config: BuildConfig
) -> ClipRecord:
    end = clip.start + frames
    return ClipRecord(
        id=clip_id,
        path=rel,
        format=config.format,
        source=source.rel,
        start_frame=clip.start,
        end_frame=end,
        start_s=round(clip.start / info.fps, 4),
        end_s=round(end / info.fps, 4),
        x0=round(clip.crop.x0, 2),
        y0=round(clip.crop.y0, 2),
        x1=round(clip.crop.x1, 2),
        y1=round(clip.crop.y1, 2),
        face_size=round(clip.face_size, 2),
        fps=info.fps,
        frames=frames,
        size=config.size,
        domain=config.domain,
        identity=source.identity,
    )


def write_clips(
    source: SourceVideo, info: VideoInfo, clips: Sequence[PlannedClip], config: BuildConfig, out_dir: Path
) -> list[ClipRecord]:
    """Pass 2: crop and write every planned clip (atomically, one after another)."""
    records: list[ClipRecord] = []
    pending = sorted(clips, key=lambda c: c.start)
    if not pending:
        return records
    index = 0
    writer: ClipWriter | None = None
    current: PlannedClip | None = None
    clip_id = rel = ""
    try:
        for batch in iter_frames(source.path, batch_size=32, info=info, max_frames=pending[-1].end):
            for frame in batch:
                if current is None and pending and pending[0].start == index:
                    current = pending.pop(0)
                    clip_id = f"{source.key}-{len(records):03d}"
                    rel = clip_relpath(clip_id, config.format)
                    writer = ClipWriter(out_dir / rel, config.format, info.fps).__enter__()
                if current is not None and writer is not None:
                    writer.write(crop_resize(frame, current.crop, config.size))
                    if index + 1 == current.end:
                        writer.__exit__(None, None, None)
                        records.append(_record(source, current, clip_id, rel, writer.frames_written, info, config))
                        writer, current = None, None
                index += 1
        if writer is not None and current is not None:
            # The video ended before the planned end (its frame count was an estimate).
            if writer.frames_written < config.min_frames:
                raise EOFError("short")
            writer.__exit__(None, None, None)
            records.append(_record(source, current, clip_id, rel, writer.frames_written, info, config))
            writer = None
    except EOFError:
        assert writer is not None
        writer.__exit__(EOFError, None, None)
    except BaseException as exc:
        if writer is not None:
            writer.__exit__(type(exc), exc, exc.__traceback__)
        raise
    return records


def process_video(
    source: SourceVideo, config: BuildConfig, out_dir: Path, detector: FaceDetector | None
) -> VideoResult:
    """Everything for one video; a ToonTalkerError becomes a ``failed`` result naming the problem."""
    start = time.perf_counter()
    frames_in = 0
    try:
        info = probe(source.path)
        scenes, detections = analyse(source, info, config, detector)
        frames_in = len(detections)
        clips, dropped = plan_clips(scenes, detections, info, config)
        if not clips:
            examined = sum(1 for d in detections if d is not None)
            found = sum(1 for d in detections if d)
            if config.needs_detector and found == 0:
                message = f"no face found in {examined} examined frames"
            else:
                message = (
                    f"no clip kept: {dropped['short']} shorter than {config.min_frames} frames, "
                    f"{dropped['small']} with faces under {config.min_face} px"
                )
            return VideoResult(source.rel, "no_clips", message, (), frames_in, time.perf_counter() - start)
        records = write_clips(source, info, clips, config, out_dir)
        message = f"{len(records)} clips from {len(scenes)} scenes"
        return VideoResult(source.rel, "ok", message, tuple(records), frames_in, time.perf_counter() - start)
    except ToonTalkerError as exc:
        return VideoResult(source.rel, "failed", str(exc), (), frames_in, time.perf_counter() - start)
