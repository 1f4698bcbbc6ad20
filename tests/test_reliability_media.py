"""Media faults (docs/reliability.md): a full disk while writing videos and images, damaged and
variable-frame-rate drivers. Each test failed before its fix."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from toontalker.errors import MediaError
from toontalker.video import VideoWriter

sys.path.insert(0, str(Path(__file__).parent))
from faults import TINY, make_driver, make_image, run_cli, small_disk  # noqa: E402


def _noise(n: int, size: int = 64) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def test_video_writer_on_a_full_disk_raises_and_publishes_nothing(tmp_path: Path) -> None:
    """ffmpeg exits 0 after "Error writing trailer: No space left on device"; the writer must not rename
    the broken file onto the target."""
    with small_disk(tmp_path / "disk", "100k") as disk:
        target = disk / "out.mp4"
        with pytest.raises(MediaError, match="out.mp4"), VideoWriter(target, 25) as writer:
            for _ in range(10):
                writer.write(_noise(5))
        assert sorted(p.name for p in disk.iterdir()) == []


def test_animate_on_a_full_disk_exits_1_and_says_no_wrote(tmp_path: Path) -> None:
    source, driver = make_image(tmp_path / "src.png"), make_driver(tmp_path / "drv.mp4", seconds=4.0)
    with small_disk(tmp_path / "disk", "36k") as disk:
        run = run_cli("animate", source, driver, "-o", disk / "out.mp4", *TINY)
        assert run.returncode == 1, run.stdout + run.stderr
        assert "wrote" not in run.stdout
        errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "No space left on device" in errors[0], run.stderr
        assert "Traceback" not in run.stderr
        assert sorted(p.name for p in disk.iterdir()) == []


def _fill(disk: Path) -> Path:
    """Fill ``disk`` up to its last byte with one file."""
    import os

    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 1024):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def test_png_frames_and_image_on_a_full_disk_are_one_line(tmp_path: Path) -> None:
    """PIL's OSError (ENOSPC) used to surface as an 80-line traceback."""
    source, driver = make_image(tmp_path / "src.png"), make_driver(tmp_path / "drv.mp4", audio=False)
    with small_disk(tmp_path / "disk", "64k") as disk:
        filler = _fill(disk)
        for output, driving in ((disk / "frames", driver), (disk / "one.png", source)):
            run = run_cli("animate", source, driving, "-o", output, *TINY)
            assert run.returncode == 1, run.stdout + run.stderr
            assert "Traceback" not in run.stderr
            errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
            assert len(errors) == 1 and "No space left on device" in errors[0], run.stderr
            assert sorted(p.name for p in disk.iterdir()) == [filler.name]


def test_partly_decodable_driver_is_an_error_not_a_short_video(tmp_path: Path) -> None:
    """A truncated mp4 (index up front, second half missing) decodes 44 of its 100 frames; ffmpeg exits 0."""
    from faults import ffmpeg

    whole = tmp_path / "whole.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=s=96x96:r=25:d=4",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        str(whole),
    )
    data = whole.read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(data[: len(data) // 2])
    source, out = make_image(tmp_path / "src.png"), tmp_path / "new" / "deeper" / "out.mp4"
    run = run_cli("animate", source, truncated, "-o", out, *TINY)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "truncated.mp4: only" in run.stderr and "of its 100 frames could be decoded" in run.stderr, run.stderr
    assert "wrote" not in run.stdout
    assert not (tmp_path / "new").exists()  # nor the folders it made for the output
    ok = run_cli("animate", source, whole, "-o", out, *TINY, "--max-frames", "30")
    assert ok.returncode == 0 and "30 frames" in ok.stdout, ok.stdout + ok.stderr


def _vfr_driver(tmp_path: Path) -> Path:
    """90 flat grey frames (level 20 + 2 i): frames 0-29 at 10 fps (0-3 s), 30-89 at 30 fps (3-5 s); a tone."""
    from faults import ffmpeg

    cfr = tmp_path / "levels.mp4"
    with VideoWriter(cfr, 30, crf=0) as writer:
        writer.write(np.stack([np.full((64, 64, 3), 20 + 2 * i, np.uint8) for i in range(90)]))
    vfr = tmp_path / "vfr.mp4"
    ffmpeg(
        "-i",
        str(cfr),
        "-f",
        "lavfi",
        "-i",
        "sine=d=5",
        "-vf",
        "setpts='if(lt(N,30),N*3,60+N)/(30*TB)'",
        "-fps_mode",
        "passthrough",
        "-c:v",
        "libx264",
        "-crf",
        "0",
        "-pix_fmt",
        "yuv444p",
        "-c:a",
        "aac",
        "-t",
        "5",
        str(vfr),
    )
    return vfr


def test_variable_frame_rate_driver_keeps_timing(tmp_path: Path) -> None:
    """Output frame k must show what the driver shows at k / fps (the audio is the driver's own): before the
    fix frame k was the driver's k-th frame, evenly spaced, and sync drifted by a second here."""
    from toontalker.video import probe, read_frames
    from toontalker.video_checks import frame_times, is_variable_rate

    driver = _vfr_driver(tmp_path)
    times = frame_times(driver)
    assert is_variable_rate(times) and len(times) == 90
    source, out = make_image(tmp_path / "src.png", 64), tmp_path / "out.mp4"
    run = run_cli("animate", source, driver, "-o", out, *TINY, "--side-by-side")
    assert run.returncode == 0, run.stdout + run.stderr
    info = probe(out)
    assert info.has_audio and abs(info.duration - 5.0) < 0.15, info
    frames = read_frames(out)
    panel = frames[:, :, 64:128].reshape(len(frames), -1).mean(axis=1)  # the driving panel
    shown = np.searchsorted(times, np.arange(len(frames)) / info.fps + 1e-6, side="right") - 1
    expected = 20 + 2 * shown
    assert np.abs(panel - expected).max() <= 5, np.c_[panel.round(), expected][::10]
    assert "variable frame rate" in run.stderr
    assert "━" not in run.stderr  # stderr is a pipe here: no progress bar drawn into logs


def test_driver_with_no_decodable_frame_names_the_cause(tmp_path: Path) -> None:
    """The error used to be ffmpeg's last line, "Error marking filters as finished"."""
    from faults import ffmpeg
    from toontalker.video import read_frames

    whole = tmp_path / "whole.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=s=96x96:r=25:d=2",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        str(whole),
    )
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: data.find(b"mdat") + 200])  # the index and a sliver of the first frame
    with pytest.raises(MediaError, match=r"cut.mp4: no frame could be decoded \(truncated or damaged: ") as error:
        read_frames(cut)
    assert "marking filters" not in str(error.value)


def test_audio_shorter_than_the_video_is_padded_not_the_video_cut(tmp_path: Path) -> None:
    """`-shortest` alone cut the video to the audio's length: 600 frames encoded, 90 in the file, no error."""
    from faults import ffmpeg
    from toontalker.video import probe

    audio = tmp_path / "short.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=d=3", "-c:a", "aac", str(audio))
    out = tmp_path / "out.mp4"
    with VideoWriter(out, 30, audio_from=audio) as writer:
        for i in range(20):
            writer.write(np.full((30, 64, 64, 3), 10 * i, np.uint8))
    info = probe(out)
    assert (info.frames, info.has_audio) == (600, True) and abs(info.duration - 20.0) < 0.1, info
