"""animate end to end on the example media (examples/) with the real model (tiny preset, random weights: the
pipeline is real, the pictures meaningless), the CLI, bad inputs, and reference-frame choice (stand-in model).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from toontalker.animation.api import AnimateOptions, animate
from toontalker.cli import app
from toontalker.devices import cpu_has_native_bf16
from toontalker.errors import UsageError
from toontalker.video import VideoWriter, probe, read_frames, read_image

sys.path.insert(0, str(Path(__file__).parent))
from animate_fakes import FakeToonTalker  # noqa: E402

TINY = ["--preset", "tiny", "--random-weights", "--batch-size", "4"]
CARTOON_SOURCE = "cartoon_portrait.jpg"  # 256^2 3D-cartoon portrait with a detectable face
REAL_DRIVER = "real_driver.mp4"  # 320^2, 25 fps, 100 frames, with audio
REAL_SOURCE = "real_portrait.jpg"  # 256x256 portrait
CARTOON_DRIVER = "cartoon_driver.mp4"  # 256^2, 24 fps, 96 frames, no audio, the face fills the frame


def _invoke(cli_runner, *args: str):
    result = cli_runner.invoke(app, ["animate", *map(str, args)])
    return result


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.slow
def test_cartoon_headshot_driven_by_real_video(examples, tmp_path, cli_runner):
    out = tmp_path / "cartoon.mp4"
    result = _invoke(
        cli_runner, examples / CARTOON_SOURCE, examples / REAL_DRIVER, "-o", out, "--max-frames", "12", "--json", *TINY
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    info = probe(out)
    assert (info.frames, info.fps, info.has_audio) == (12, 25.0, True)
    assert report["frames"] == 12 and report["audio"] is True and report["motion"] == "relative"
    assert report["source_face_found_by"] in ("mediapipe", "haar", "s3fd", "dlib-hog", "dlib-cnn")
    assert any("RANDOM WEIGHTS" in w for w in report["warnings"])
    frames = read_frames(out)
    assert frames.shape == (12, 64, 64, 3) and frames.std() > 1.0  # decodable, not blank
    assert _leftovers(tmp_path) == ["cartoon.mp4"]


@pytest.mark.slow
def test_real_portrait_driven_by_cartoon_video_pasted_back(examples, tmp_path):
    out = tmp_path / "real.mp4"
    options = AnimateOptions(
        source_domain="real",
        driving_domain="cartoon",
        no_crop_driving=True,
        paste_back=True,
        max_frames=10,
        batch_size=4,
        preset="tiny",
        random_weights=True,
    )
    result = animate(examples / REAL_SOURCE, examples / CARTOON_DRIVER, out, options=options)
    source = read_image(examples / REAL_SOURCE).rgb
    info = probe(out)
    assert (info.width, info.height) == (source.shape[1], source.shape[0]) == (result.width, result.height)
    assert (info.frames, info.fps, info.has_audio) == (10, 24.0, False)
    first = read_frames(out, max_frames=1)[0].astype(int)
    x0, y0, x1, y1 = (int(round(v)) for v in result.source_box)
    corner = (slice(0, max(y0, 1)), slice(0, max(x0, 1)))  # outside the face box: the source, untouched
    assert np.abs(first[corner] - source[corner]).mean() < 6  # (only video-coding error)


@pytest.mark.slow
def test_side_by_side_png_sequence_and_gif(examples, tmp_path):
    options = AnimateOptions(
        side_by_side=True, max_frames=5, batch_size=4, preset="tiny", random_weights=True, start_frame=2
    )
    frames_dir = tmp_path / "frames"
    result = animate(examples / CARTOON_SOURCE, examples / REAL_DRIVER, frames_dir, options=options)
    pngs = sorted(frames_dir.iterdir())
    assert [p.name for p in pngs] == [f"{i:06d}.png" for i in range(5)] and result.reference_frame == 2
    assert read_image(pngs[0]).rgb.shape == (64, 3 * 64, 3)  # source | driving | result
    gif = animate(
        examples / CARTOON_SOURCE,
        examples / REAL_DRIVER,
        tmp_path / "a.gif",
        options=options.replace(side_by_side=False),
    )
    assert probe(tmp_path / "a.gif").frames == 5 and gif.audio is False
    assert _leftovers(tmp_path) == ["a.gif", "frames"]


@pytest.mark.slow
def test_driving_image_gives_one_image_with_absolute_motion(examples, tmp_path):
    out = tmp_path / "one.png"
    result = animate(
        examples / CARTOON_SOURCE,
        examples / REAL_SOURCE,
        out,
        options=AnimateOptions(preset="tiny", random_weights=True),
    )
    assert result.motion == "absolute" and result.frames == 1
    assert read_image(out).rgb.shape == (64, 64, 3)
    # dtype auto: bf16 on a CPU with native bf16 (AVX-512 BF16, AMX), fp32 on other CPUs
    assert result.dtype == ("bf16" if cpu_has_native_bf16() else "fp32")


@pytest.mark.slow
def test_driver_whose_face_disappears_completes(examples, tmp_path):
    face = read_frames(examples / REAL_DRIVER, max_frames=8)
    driver = tmp_path / "vanishing.mp4"
    with VideoWriter(driver, 25) as writer:
        writer.write(face)
        writer.write(np.full((8,) + face.shape[1:], 30, np.uint8))  # the face is gone
        writer.write(face[:4])
    out = tmp_path / "out.mp4"
    result = animate(
        examples / CARTOON_SOURCE,
        driver,
        out,
        options=AnimateOptions(batch_size=4, preset="tiny", random_weights=True, smooth_frames=2),
    )
    assert result.frames == 20 == probe(out).frames
    assert 8 <= result.driving_frames_lost <= 10
    assert any("lost in" in w for w in result.warnings)


def test_find_best_start_picks_the_frame_nearest_the_source(tmp_path):
    """Stand-in model whose motion code is a function of the mean colour: the best frame is the one whose
    colour equals the source's."""
    from toontalker.video import write_image

    levels = [20, 60, 100, 140, 180, 220]
    driver = tmp_path / "levels.mp4"
    with VideoWriter(driver, 10, crf=0) as writer:
        writer.write(np.stack([np.full((64, 64, 3), v, np.uint8) for v in levels]))
    source = tmp_path / "source.png"
    write_image(source, np.full((64, 64, 3), 140, np.uint8))
    options = AnimateOptions(no_crop_source=True, no_crop_driving=True, find_best_start=True, batch_size=4)
    result = animate(source, driver, tmp_path / "out.mp4", options=options, model=FakeToonTalker())
    assert result.reference_frame == 3
    model = FakeToonTalker()
    animate(
        source,
        driver,
        tmp_path / "out2.mp4",
        options=AnimateOptions(no_crop_source=True, no_crop_driving=True, batch_size=4),
        model=model,
    )
    assert model.calls["encode_source"] == 1 and model.calls["render"] == 2  # source once, 6 frames in 2 batches


def _bad_input_files(tmp_path: Path, examples: Path) -> dict[str, tuple[Path, Path]]:
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    not_image = tmp_path / "notes.png"
    not_image.write_text("this is not an image\n")
    blank = tmp_path / "blank.png"
    from toontalker.video import write_image

    write_image(blank, np.tile(np.linspace(0, 255, 200, dtype=np.uint8)[None, :, None], (150, 1, 3)))
    zero = tmp_path / "zero.mp4"
    import subprocess

    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=64x64:d=1", "-frames:v", "0", str(zero)],
        check=True,
    )
    src, drv = examples / CARTOON_SOURCE, examples / REAL_DRIVER
    return {
        "source file not found": (tmp_path / "missing.png", drv),
        "driving file not found": (src, tmp_path / "missing.mp4"),
        "not a readable video": (src, corrupt),
        "not an image": (not_image, drv),
        "--source-box": (blank, drv),
        "no video stream": (src, zero),
    }


@pytest.mark.slow
def test_bad_inputs_fail_cleanly_and_write_nothing(examples, tmp_path, cli_runner):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    cases = _bad_input_files(inputs, examples)
    outdir = tmp_path / "out"
    outdir.mkdir()
    for expected, (source, driving) in cases.items():
        result = _invoke(cli_runner, source, driving, "-o", outdir / "o.mp4", *TINY)
        assert result.exit_code == 1, (expected, result.output)
        lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
        assert len(lines) == 1 and expected in lines[0], (expected, result.stderr)
        assert _leftovers(outdir) == [], expected
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = _invoke(cli_runner, examples / CARTOON_SOURCE, examples / REAL_DRIVER, "-o", blocker / "o.mp4", *TINY)
    assert result.exit_code == 1 and "cannot create folder" in result.stderr


def test_usage_errors_exit_2(tmp_path, cli_runner):
    result = _invoke(cli_runner, "a.png", "b.mp4", "-o", tmp_path / "o.mp4", "--source-box", "1,2,3")
    assert result.exit_code == 2 and "--source-box" in result.stderr
    result = _invoke(cli_runner, "a.png", "b.mp4", "-o", tmp_path / "o.mp4", "--start-frame", "3", "--find-best-start")
    assert result.exit_code == 2 and "exclude each other" in result.stderr
    from toontalker.weights import default_weights, load_model

    if default_weights() is None:
        with pytest.raises(UsageError, match="--preset tiny names an architecture"):
            load_model(None, "tiny", random_weights=False)


def test_argument_errors_come_before_the_model_loads(examples, tmp_path, cli_runner, monkeypatch):
    """Errors visible in the arguments alone stop the run before any weights are read."""
    import toontalker.animation.api as api

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(api, "load_model", no_model)
    src, drv = examples / CARTOON_SOURCE, examples / REAL_DRIVER
    cases = {
        "unknown output type '.xyz'": ["-o", tmp_path / "out.xyz"],
        "an image output holds one frame": ["-o", tmp_path / "out.png"],
        "'nope' is not one of": ["-o", tmp_path / "o.mp4", "--detector", "nope"],
        "preset 'huge'": ["-o", tmp_path / "o.mp4", "--preset", "huge", "--random-weights"],
    }
    for expected, args in cases.items():
        result = _invoke(cli_runner, src, drv, *args)
        assert result.exit_code == 2, (expected, result.output)
        assert expected in result.stderr and "the model was loaded" not in result.output, result.output
        assert "animating" not in result.stderr  # no progress bar before the error
    assert _leftovers(tmp_path) == []


@pytest.mark.slow
def test_weights_folder_round_trip(examples, tmp_path):
    """Weights saved with weights.save_pretrained load by folder and drive the same pipeline."""
    import torch

    from toontalker.model import ModelConfig, ToonTalker
    from toontalker.weights import save_pretrained

    torch.manual_seed(1)
    save_pretrained(ToonTalker(ModelConfig.from_name("tiny")), tmp_path / "weights")
    result = animate(
        examples / CARTOON_SOURCE,
        examples / REAL_DRIVER,
        tmp_path / "o.mp4",
        weights=tmp_path / "weights",
        options=AnimateOptions(max_frames=3, batch_size=4),
    )
    assert result.frames == 3 and result.weights == str(tmp_path / "weights") and result.warnings == ()


def test_detect_and_crop_threads_give_the_same_frames(examples, tmp_path):
    """The driving face found and cropped on 2 threads (each with its own mediapipe/OpenCV detector) gives the
    same output as inline, frame for frame; the result reports the threads and each stage's busy time."""
    outputs = {}
    for workers in (0, 2):
        out = tmp_path / f"w{workers}"
        options = AnimateOptions(
            batch_size=4, preset="tiny", random_weights=True, max_frames=14, workers=workers, detector="mediapipe"
        )
        result = animate(examples / CARTOON_SOURCE, examples / REAL_DRIVER, out, options=options)
        assert result.workers == workers and result.frames == 14 and result.driving_frames_lost == 0
        assert set(result.stage_seconds) == {"decode_track_crop", "infer", "compose_encode"}
        assert 0 < result.first_frame_seconds < result.seconds
        outputs[workers] = np.stack([read_image(p).rgb for p in sorted(out.iterdir())])
    assert outputs[0].shape == (14, 64, 64, 3)
    assert np.array_equal(outputs[0], outputs[2])


def test_motion_gain_changes_the_motion_not_the_first_frame(examples, tmp_path, cli_runner):
    """--motion-gain (ours) scales relative motion: frame 0 (the reference, w_{s->s}) is the same, later frames
    differ; gain 0 holds the source's pose on every frame. Only relative motion on the torch backend."""
    runs = {}
    for gain in (1.0, 2.0, 0.0):
        out = tmp_path / f"gain{int(gain * 10)}"
        result = _invoke(
            cli_runner,
            examples / CARTOON_SOURCE,
            examples / REAL_DRIVER,
            "-o",
            out,
            "--max-frames",
            "8",
            "--motion-gain",
            str(gain),
            "--dtype",
            "fp32",
            "-q",
            *TINY,
        )
        assert result.exit_code == 0, result.output
        runs[gain] = np.stack([read_image(p).rgb.astype(int) for p in sorted(out.iterdir())])
    first, later = np.abs(runs[2.0][0] - runs[1.0][0]), np.abs(runs[2.0][1:] - runs[1.0][1:])
    assert first.max() <= 1 and first.mean() < 0.02  # (the random tiny model moves little: small differences)
    assert later.mean() > 5 * max(first.mean(), 0.02)
    assert np.abs(runs[0.0] - runs[0.0][:1]).max() <= 1
    for bad in (["--backend", "onnx"], ["--absolute"]):
        result = _invoke(
            cli_runner,
            examples / CARTOON_SOURCE,
            examples / REAL_DRIVER,
            "-o",
            tmp_path / "x.mp4",
            "--motion-gain",
            "2",
            *bad,
            *TINY,
        )
        assert result.exit_code == 2 and "motion_gain" in result.output
