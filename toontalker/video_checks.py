"""Checks on videos beyond probing: a written video before it is published, a decode that ended early, and
variable frame rates (docs/reliability.md)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import ffmpeg
import numpy as np

from toontalker.errors import MediaError
from toontalker.video import VideoInfo, _first_error_line


def verify_video(path: str | Path, *, frames: int, fps: float, audio: bool, name: str | Path | None = None) -> None:
    """Check a freshly written video before it is published: it probes, its video stream holds ``frames``
    packets, it lasts ``frames / fps`` seconds (one frame of slack) and it has an audio stream when ``audio``.

    ``name`` is the path the error names (the target, not the temporary file). MediaError on any mismatch.
    """
    path = Path(path)
    name = Path(name) if name is not None else path
    try:
        meta = ffmpeg.probe(str(path), count_packets=None)
    except ffmpeg.Error as exc:
        raise MediaError(
            f"{name}: the written video is unreadable ({_first_error_line(exc.stderr)}); is the disk full?"
        ) from exc
    streams = meta.get("streams") or []
    video = [s for s in streams if s.get("codec_type") == "video"]
    if not video:
        raise MediaError(f"{name}: the written file has no video stream")
    packets = int(video[0].get("nb_read_packets") or 0)
    if packets != frames:
        raise MediaError(f"{name}: the written video holds {packets} frames, {frames} were encoded")
    duration = float((meta.get("format") or {}).get("duration") or video[0].get("duration") or 0.0)
    expected = frames / fps
    if abs(duration - expected) > max(1.5 / fps, 0.1):
        raise MediaError(f"{name}: the written video lasts {duration:.3f} s, expected {expected:.3f} s")
    if audio and not any(s.get("codec_type") == "audio" for s in streams):
        raise MediaError(f"{name}: the written video lost its audio stream")


def check_complete(
    path: Path, info: VideoInfo, start_frame: int, max_frames: int | None, decoded: int, stderr: bytes
) -> None:
    """MediaError when a video whose container states its frame count decodes to clearly fewer frames (a
    truncated or damaged file whose first part still decodes); 2 frames + 2% of slack for edit lists."""
    if not info.frames_exact:
        return
    expected = max(info.frames - start_frame, 0)
    if max_frames is not None:
        expected = min(expected, max_frames)
    if decoded < expected - max(2, int(0.02 * expected)):
        detail = _first_error_line(stderr) if stderr.strip() else "the file ends early"
        raise MediaError(
            f"{path}: only {decoded} of its {expected} frames could be decoded (truncated or damaged: {detail})"
        )


def frame_times(path: str | Path) -> np.ndarray:
    """Presentation times (s, ascending) of the first video stream's frames, from the packets (no decoding)."""
    path = Path(path)
    try:
        out = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-select_streams",
                "v:0",
                "-show_entries",
                "packet=pts_time",
                "-of",
                "csv=p=0",
                str(path),
            ],
            capture_output=True,
            check=True,
            timeout=600,
        ).stdout
    except subprocess.CalledProcessError as exc:
        raise MediaError(f"{path}: cannot read frame timestamps ({_first_error_line(exc.stderr)})") from exc
    times = []
    for value in out.decode().split():
        try:
            times.append(float(value.strip(",")))
        except ValueError:  # N/A: a packet without a timestamp
            continue
    return np.sort(np.asarray(times, dtype=np.float64))


def is_variable_rate(times: np.ndarray, tolerance: float = 0.25) -> bool:
    """Whether frame intervals differ from their median by more than ``tolerance`` of it (timestamp rounding
    of a constant-rate video stays far below; a variable-rate phone video or a spliced clip does not)."""
    if len(times) < 3:
        return False
    steps = np.diff(times)
    median = float(np.median(steps))
    return median > 0 and bool(np.any(np.abs(steps - median) > tolerance * median))
