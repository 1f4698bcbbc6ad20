"""video.py: probe, streaming decode, images, atomic encoding with audio, bad inputs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from toontalker.errors import InputError, MediaError, OutputError
from toontalker.video import VideoWriter, iter_frames, probe, read_frames, read_image, write_image


def _lavfi(out: Path, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(out)], check=True)
    return out


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("media")
    return {
        "av": _lavfi(
            d / "av.mp4",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=96x64:rate=25:duration=2",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=2",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-shortest",
        ),
        "audio": _lavfi(d / "audio.m4a", "-f", "lavfi", "-i", "sine=duration=1"),
        "webm": _lavfi(d / "v.webm", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=10:duration=1", "-c:v", "libvpx"),
    }


def test_probe_and_stream(synth) -> None:
    info = probe(synth["av"])
    assert (info.width, info.height, info.fps, info.frames, info.has_audio) == (96, 64, 25.0, 50, True)
    batches = list(iter_frames(synth["av"], batch_size=16))
    assert [len(b) for b in batches] == [16, 16, 16, 2]
    assert batches[0].shape == (16, 64, 96, 3) and batches[0].dtype == np.uint8
    part = read_frames(synth["av"], size=(48, 32), start_frame=10, max_frames=7)
    assert part.shape == (7, 32, 48, 3)
    # frame 10 of the full decode equals the first frame of the trimmed decode (same content, smaller)
    full = np.concatenate(batches)
    ref = np.asarray(Image.fromarray(full[10]).resize((48, 32), Image.BILINEAR), dtype=np.float32)
    assert np.abs(part[0].astype(np.float32) - ref).mean() < 12


def test_webm_frame_count_estimated(synth) -> None:
    info = probe(synth["webm"])
    assert info.frames == len(read_frames(synth["webm"]))


def test_bad_inputs(tmp_path: Path, synth) -> None:
    with pytest.raises(InputError, match="missing.mp4: file not found"):
        probe(tmp_path / "missing.mp4")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(MediaError, match="empty.mp4: file is empty"):
        probe(empty)
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    with pytest.raises(MediaError, match="notes.mp4: not a readable video"):
        probe(text)
    with pytest.raises(MediaError, match="audio.m4a: no video stream"):
        probe(synth["audio"])
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(synth["av"].read_bytes()[:2000])
    with pytest.raises(MediaError, match="corrupt.mp4"):
        list(iter_frames(corrupt))


def test_writer_muxes_audio_and_is_atomic(tmp_path: Path, synth) -> None:
    out = tmp_path / "o" / "out.mp4"
    frames = read_frames(synth["av"])
    with VideoWriter(out, fps=25, audio_from=synth["av"]) as writer:
        for i in range(0, len(frames), 20):
            writer.write(frames[i : i + 20])
    info = probe(out)
    assert (info.frames, info.fps, info.has_audio, info.width) == (50, 25.0, True, 96)
    assert [p.name for p in out.parent.iterdir()] == ["out.mp4"]

    failed = tmp_path / "failed.mp4"
    with pytest.raises(RuntimeError), VideoWriter(failed, fps=25) as writer:
        writer.write(frames[:5])
        raise RuntimeError("crash mid-video")
    assert not failed.exists() and not list(tmp_path.glob(".failed*"))


def test_writer_gif_odd_size_and_errors(tmp_path: Path) -> None:
    frames = np.random.default_rng(0).integers(0, 255, (6, 33, 45, 3), dtype=np.uint8)
    with VideoWriter(tmp_path / "a.gif", fps=5) as w:
        w.write(frames)
    assert probe(tmp_path / "a.gif").frames == 6
    with VideoWriter(tmp_path / "odd.mp4", fps=5) as w:
        w.write(frames)
    assert probe(tmp_path / "odd.mp4").size == (46, 34)  # padded to even for yuv420p
    with pytest.raises(OutputError, match="unsupported video type"):
        VideoWriter(tmp_path / "a.txt", fps=5)
    with pytest.raises(MediaError, match="no frames were written"), VideoWriter(tmp_path / "none.mp4", fps=5):
        pass
    assert not (tmp_path / "none.mp4").exists()


def test_read_image_modes(tmp_path: Path) -> None:
    gray = tmp_path / "g.png"
    Image.fromarray(np.full((10, 12), 77, np.uint8), "L").save(gray)
    img = read_image(gray)
    assert img.rgb.shape == (10, 12, 3) and img.alpha is None and int(img.rgb[0, 0, 0]) == 77
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:4, :, 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    img = read_image(tmp_path / "a.png")
    assert img.alpha is not None and img.alpha[0, 0] == 255 and img.alpha[7, 0] == 0
    flat = img.on_background((0, 0, 255))
    assert tuple(flat[0, 0]) == (200, 0, 0) and tuple(flat[7, 0]) == (0, 0, 255)
    (tmp_path / "x.png").write_text("not an image")
    with pytest.raises(InputError, match="x.png: not an image"):
        read_image(tmp_path / "x.png")
    write_image(tmp_path / "w.webp", img.rgb)
    assert read_image(tmp_path / "w.webp").rgb.shape == (8, 8, 3)


@pytest.mark.slow
def test_real_media(shared_data: Path, tmp_path: Path) -> None:
    mov = shared_data / "real/videos/lia_vox_obama.mov"
    info = probe(mov)
    assert info.has_audio and info.fps == 25.0
    frames = read_frames(mov, max_frames=30)
    assert frames.shape == (30, 256, 256, 3)
    webm = sorted((shared_data / "cartoon/videos").glob("tha1_*.webm"))[0]
    assert read_frames(webm, max_frames=4).shape[0] == 4
    head = sorted((shared_data / "cartoon/images/tha2_headshots").iterdir())[0]
    img = read_image(head)
    assert img.alpha is not None and img.rgb.shape[:2] == img.alpha.shape
    out = tmp_path / "clip.mp4"
    with VideoWriter(out, fps=info.fps, audio_from=mov) as w:
        w.write(frames)
    got = probe(out)
    assert got.frames == 30 and got.has_audio and abs(got.duration - 1.2) < 0.15
