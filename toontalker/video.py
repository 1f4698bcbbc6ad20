"""Media in and out: probe, streaming decode, image reading, atomic encoding with audio (ffmpeg/ffprobe).

Frames are ``uint8`` RGB arrays, ``(N, H, W, 3)`` for a batch. Decoding streams through an ffmpeg pipe in
batches, so memory stays flat in video length; encoding pipes frames into ffmpeg and writes to a temporary
file that is renamed onto the target only when the video is complete.

Every failure is a one-line :class:`~toontalker.errors.MediaError` / :class:`~toontalker.errors.InputError`
naming the file.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import ffmpeg
import numpy as np

from toontalker.errors import InputError, MediaError, OutputError
from toontalker.io_utils import atomic_path, ensure_parent_writable

VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".avi", ".mkv", ".m4v", ".gif", ".mpg", ".mpeg", ".flv", ".wmv")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def require_ffmpeg() -> None:
    """Raise MediaError when the ffmpeg/ffprobe binaries are missing."""
    for binary in ("ffmpeg", "ffprobe"):
        if shutil.which(binary) is None:
            raise MediaError(f"{binary} not found on PATH (install ffmpeg, e.g. apt-get install -y ffmpeg)")


# ffmpeg's closing lines after the real failure: they say nothing about the file
_TEARDOWN = (
    "error marking filters as finished",
    "conversion failed",
    "nothing was written into output",
    "cannot determine format of input stream",
)


def _first_error_line(stderr: bytes | str | None) -> str:
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else (stderr or "")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not any(t in ln.lower() for t in _TEARDOWN)] or [
        ln.strip() for ln in text.splitlines() if ln.strip()
    ]
    for line in reversed(lines):  # ffmpeg puts the decisive message last
        if "error" in line.lower() or "invalid" in line.lower() or "no such" in line.lower():
            return line
    return lines[-1] if lines else "unknown error"


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a file")
    if path.stat().st_size == 0:
        raise MediaError(f"{path}: file is empty (0 bytes)")


@dataclass(frozen=True)
class VideoInfo:
    """What ffprobe says about a video (display orientation: rotation already applied)."""

    path: Path
    width: int
    height: int
    fps: float
    frames: int  # exact where the container says so, else estimated from duration * fps
    frames_exact: bool
    duration: float
    codec: str
    has_audio: bool

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height


def _rotation(stream: dict) -> int:
    rotation = 0
    tags = stream.get("tags") or {}
    if "rotate" in tags:
        rotation = int(float(tags["rotate"]))
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            rotation = int(float(side["rotation"]))
    return rotation % 360


def probe(path: str | Path) -> VideoInfo:
    """Probe a video file; MediaError if it is not a decodable video with at least one frame."""
    path = Path(path)
    _check_file(path)
    require_ffmpeg()
    try:
        meta = ffmpeg.probe(str(path))
    except ffmpeg.Error as exc:
        raise MediaError(f"{path}: not a readable video ({_first_error_line(exc.stderr)})") from exc
    streams = meta.get("streams") or []
    video = [
        s for s in streams if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    if not video:
        kinds = sorted({s.get("codec_type", "?") for s in streams})
        what = f"only {', '.join(kinds)} streams" if kinds else "no streams"
        raise MediaError(f"{path}: no video stream ({what})")
    stream = video[0]
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    if width <= 0 or height <= 0:
        raise MediaError(f"{path}: video stream has no frame size")
    if _rotation(stream) in (90, 270):
        width, height = height, width
    fps = 0.0
    for key in ("avg_frame_rate", "r_frame_rate"):
        rate = stream.get(key) or "0/0"
        try:
            value = float(Fraction(rate)) if not rate.endswith("/0") else 0.0
        except (ValueError, ZeroDivisionError):
            value = 0.0
        if 0.0 < value < 1000.0:
            fps = value
            break
    if fps <= 0:
        fps = 25.0
    fmt = meta.get("format") or {}
    duration = float(stream.get("duration") or fmt.get("duration") or 0.0)
    nb = stream.get("nb_frames")
    if nb and str(nb).isdigit() and int(nb) > 0:
        frames, exact = int(nb), True
    else:
        frames, exact = int(round(duration * fps)), False
    if frames <= 0 and duration <= 0:
        raise MediaError(f"{path}: video has zero frames")
    return VideoInfo(
        path=path,
        width=width,
        height=height,
        fps=fps,
        frames=max(frames, 1),
        frames_exact=exact,
        duration=duration,
        codec=str(stream.get("codec_name") or "?"),
        has_audio=any(s.get("codec_type") == "audio" for s in streams),
    )


def _output_size(info: VideoInfo, size: int | tuple[int, int] | None) -> tuple[int, int]:
    if size is None:
        return info.width, info.height
    if isinstance(size, int):
        return size, size
    return int(size[0]), int(size[1])


def iter_frames(
    path: str | Path,
    batch_size: int = 32,
    size: int | tuple[int, int] | None = None,
    start_frame: int = 0,
    max_frames: int | None = None,
    info: VideoInfo | None = None,
    constant_rate: float | None = None,
) -> Iterator[np.ndarray]:
    """Yield batches ``(N, H, W, 3)`` uint8 RGB of the video's frames, streaming.

    ``size`` resizes in ffmpeg (an int for square, or ``(width, height)``); ``start_frame`` /
    ``max_frames`` select a frame range. ``constant_rate`` resamples a variable-frame-rate video onto an
    even grid of that many frames per second following its timestamps (frames repeated or dropped), so
    frame ``i`` is what shows at ``i / constant_rate`` s. The last batch may be shorter. Raises MediaError
    if the video cannot be decoded, yields no frame in the requested range, or (container frame count
    known) decodes to clearly fewer frames than it states.
    """
    path = Path(path)
    info = info or probe(path)
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    width, height = _output_size(info, size)
    stream = ffmpeg.input(str(path))
    video = stream.video
    if constant_rate is not None:
        video = video.filter("fps", fps=constant_rate)
    if start_frame > 0:
        video = video.filter("trim", start_frame=start_frame).filter("setpts", "PTS-STARTPTS")
    if (width, height) != (info.width, info.height):
        video = video.filter("scale", width, height, flags="area")
    out_kwargs: dict[str, str | int] = {"format": "rawvideo", "pix_fmt": "rgb24", "fps_mode": "passthrough"}
    if max_frames is not None:
        out_kwargs["frames:v"] = int(max_frames)
    cmd = ffmpeg.output(video, "pipe:", **out_kwargs).global_args("-nostdin", "-loglevel", "error").compile()
    frame_bytes = width * height * 3
    ran_out = False  # the decoder stopped giving frames before the consumer stopped asking
    with tempfile.TemporaryFile() as stderr_file:
        process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr_file)
        yielded = 0
        try:
            assert process.stdout is not None
            while True:
                want = batch_size if max_frames is None else min(batch_size, max_frames - yielded)
                if want <= 0:
                    break
                data = process.stdout.read(frame_bytes * want)
                n = len(data) // frame_bytes
                if n < want:
                    ran_out = True
                if n == 0:
                    break
                batch = np.frombuffer(data[: n * frame_bytes], dtype=np.uint8).reshape(n, height, width, 3)
                yielded += n
                yield batch
                if n < want:
                    break
        finally:
            if process.stdout is not None:
                process.stdout.close()
            if process.poll() is None:
                process.terminate()
            code = process.wait()
        stderr_file.seek(0)
        stderr = stderr_file.read()
    if code not in (0, -15) and yielded == 0:
        raise MediaError(f"{path}: no frame could be decoded (truncated or damaged: {_first_error_line(stderr)})")
    if yielded == 0:
        raise MediaError(f"{path}: no frames decoded (from frame {start_frame})")
    if ran_out and constant_rate is None:
        from toontalker.video_checks import check_complete

        check_complete(path, info, start_frame, max_frames, yielded, stderr)


def read_frames(
    path: str | Path,
    size: int | tuple[int, int] | None = None,
    start_frame: int = 0,
    max_frames: int | None = None,
) -> np.ndarray:
    """All (selected) frames at once, ``(N, H, W, 3)`` uint8. For short clips only."""
    return np.concatenate(list(iter_frames(path, 256, size, start_frame, max_frames)), axis=0)


@dataclass(frozen=True)
class ImageRGBA:
    """A decoded image: RGB plus the alpha channel where the file has one."""

    rgb: np.ndarray  # (H, W, 3) uint8
    alpha: np.ndarray | None  # (H, W) uint8

    def on_background(self, color: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
        """RGB composited over a flat background (transparent pixels become ``color``)."""
        if self.alpha is None:
            return self.rgb
        a = self.alpha[..., None].astype(np.float32) / 255.0
        bg = np.asarray(color, dtype=np.float32)
        return np.clip(self.rgb * a + bg * (1.0 - a) + 0.5, 0, 255).astype(np.uint8)


def read_image(path: str | Path) -> ImageRGBA:
    """Read png/jpg/webp/... of any mode (grayscale, palette, RGBA, 16-bit); EXIF orientation applied."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    _check_file(path)
    try:
        with Image.open(path) as opened:
            img = ImageOps.exif_transpose(opened)
            img.load()
    except UnidentifiedImageError as exc:
        raise InputError(f"{path}: not an image (unrecognised format)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"{path}: cannot read image ({exc})") from exc
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        img = Image.fromarray(np.clip(arr / max(arr.max(), 1.0) * 255.0, 0, 255).astype(np.uint8))
    rgba = img.convert("RGBA") if has_alpha else img.convert("RGB")
    arr = np.asarray(rgba, dtype=np.uint8)
    if has_alpha:
        return ImageRGBA(np.ascontiguousarray(arr[..., :3]), np.ascontiguousarray(arr[..., 3]))
    return ImageRGBA(np.ascontiguousarray(arr), None)


def write_image(path: str | Path, rgb: np.ndarray) -> Path:
    """Write an RGB (or RGBA) uint8 image atomically; format by suffix."""
    from PIL import Image

    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise OutputError(f"{path}: unsupported image type (use one of {', '.join(IMAGE_SUFFIXES)})")
    with atomic_path(path) as tmp:
        Image.fromarray(np.ascontiguousarray(rgb)).save(tmp, format=Image.registered_extensions()[path.suffix.lower()])
    return path


def is_video_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def is_image_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


class VideoWriter:
    """Encode frames into a video file atomically, optionally muxing the audio of another file.

    ``.mp4/.mov/.mkv`` get H.264 (yuv420p, even sizes padded), ``.webm`` VP9, ``.gif`` a palette GIF.
    ``audio_from`` (a media file) contributes its first audio stream, starting at ``audio_offset`` seconds
    and cut to the video's length. Use as a context manager; on an exception nothing is left at ``path``.
    """

    def __init__(
        self,
        path: str | Path,
        fps: float,
        audio_from: str | Path | None = None,
        audio_offset: float = 0.0,
        crf: int = 18,
        preset: str = "veryfast",
    ) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in (".mp4", ".mov", ".mkv", ".m4v", ".webm", ".gif"):
            raise OutputError(f"{self.path}: unsupported video type (use .mp4, .mov, .mkv, .webm or .gif)")
        if fps <= 0:
            raise ValueError("fps must be positive")
        require_ffmpeg()
        ensure_parent_writable(self.path)
        self.fps = fps
        self.audio_from = Path(audio_from) if audio_from is not None else None
        self.audio_offset = audio_offset
        self.crf = crf
        self.preset = preset
        self.frames_written = 0
        self._process: subprocess.Popen | None = None
        self._size: tuple[int, int] | None = None
        self._atomic = atomic_path(self.path)
        self._tmp: Path | None = None
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - open for the writer's life, closed in __exit__

    def __enter__(self) -> VideoWriter:
        self._tmp = self._atomic.__enter__()
        return self

    def _start(self, width: int, height: int) -> None:
        assert self._tmp is not None, "use VideoWriter as a context manager"
        self._size = (width, height)
        video = ffmpeg.input("pipe:", format="rawvideo", pix_fmt="rgb24", s=f"{width}x{height}", r=self.fps).video
        suffix = self.path.suffix.lower()
        streams = []
        kwargs: dict[str, object] = {}
        if suffix == ".gif":
            split = video.filter_multi_output("split")
            palette = split[0].filter("palettegen", stats_mode="diff")
            streams.append(ffmpeg.filter([split[1], palette], "paletteuse", dither="bayer"))
        else:
            if width % 2 or height % 2:
                video = video.filter("pad", "ceil(iw/2)*2", "ceil(ih/2)*2")
            streams.append(video)
            if suffix == ".webm":
                kwargs.update({"c:v": "libvpx-vp9", "crf": self.crf + 12, "b:v": 0, "pix_fmt": "yuv420p"})
            else:
                kwargs.update(
                    {
                        "c:v": "libx264",
                        "crf": self.crf,
                        "preset": self.preset,
                        "pix_fmt": "yuv420p",
                        "movflags": "+faststart",
                    }
                )
            if self.audio_from is not None and _has_audio(self.audio_from):
                audio_in = (
                    ffmpeg.input(str(self.audio_from), ss=self.audio_offset)
                    if self.audio_offset > 0
                    else ffmpeg.input(str(self.audio_from))
                )
                # padded with silence and cut at the video's end: every frame is kept even when the audio is shorter
                streams.append(audio_in.audio.filter("apad"))
                kwargs.update({"c:a": "libopus" if suffix == ".webm" else "aac", "shortest": None})
        cmd = (
            ffmpeg.output(*streams, str(self._tmp), **kwargs)
            .global_args("-nostdin", "-loglevel", "error")
            .overwrite_output()
            .compile()
        )
        self._process = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=self._stderr)

    def write(self, frames: np.ndarray) -> None:
        """Append frames: ``(N, H, W, 3)`` or ``(H, W, 3)`` uint8 RGB, all of one size."""
        if frames.ndim == 3:
            frames = frames[None]
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"expected (N, H, W, 3) uint8 frames, got {frames.shape} {frames.dtype}")
        n, height, width, _ = frames.shape
        if self._process is None:
            self._start(width, height)
        elif self._size != (width, height):
            raise ValueError(f"frame size changed from {self._size} to {(width, height)}")
        assert self._process is not None and self._process.stdin is not None
        try:
            self._process.stdin.write(np.ascontiguousarray(frames).tobytes())
        except BrokenPipeError as exc:
            raise MediaError(f"{self.path}: ffmpeg stopped while encoding ({self._error()})") from exc
        self.frames_written += n

    def _error(self) -> str:
        self._stderr.seek(0)
        line = _first_error_line(self._stderr.read())
        return line.replace(str(self._tmp), str(self.path)) if self._tmp is not None else line

    def close(self) -> None:
        """Finish the encode and check the file before it is published (see :func:`verify_video`)."""
        if self._process is None:
            raise MediaError(f"{self.path}: no frames were written")
        assert self._process.stdin is not None and self._tmp is not None
        self._process.stdin.close()
        if self._process.wait() != 0:
            raise MediaError(f"{self.path}: ffmpeg failed while encoding ({self._error()})")
        self._stderr.seek(0)
        if self._stderr.read().strip():  # ffmpeg runs at -loglevel error and can exit 0 after one (a trailer)
            raise MediaError(f"{self.path}: ffmpeg reported an error while encoding ({self._error()})")
        audio = self.audio_from is not None and self.path.suffix.lower() != ".gif" and _has_audio(self.audio_from)
        from toontalker.video_checks import verify_video

        verify_video(self._tmp, frames=self.frames_written, fps=self.fps, audio=audio, name=self.path)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is None:
                self.close()
        except BaseException as error:
            self._abort()
            self._atomic.__exit__(type(error), error, error.__traceback__)
            raise
        else:
            if exc_type is not None:
                self._abort()
            self._atomic.__exit__(exc_type, exc, tb)
        finally:
            self._stderr.close()

    def _abort(self) -> None:
        if self._process is not None and self._process.poll() is None:
            if self._process.stdin is not None:
                with contextlib.suppress(BrokenPipeError):
                    self._process.stdin.close()
            self._process.kill()
            self._process.wait()


def _has_audio(path: Path) -> bool:
    try:
        meta = ffmpeg.probe(str(path))
    except ffmpeg.Error:
        return False
    return any(s.get("codec_type") == "audio" for s in meta.get("streams") or [])
