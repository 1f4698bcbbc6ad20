"""The shipped default weights (toontalker/weights/default) end to end: `toontalker animate` with no --weights.

A cartoon headshot (THA2, a character the demo model trained on; its own rest pose) is driven by 4 frames
of a real video. Checks: the default weights were the ones used, the output is a decodable video with one
frame per driving frame, and the trained model reproduces the source far better than the same architecture
with random weights does -- which fails if the shipped files are missing, not loaded, or broken.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from toontalker.cli import app

pytestmark = pytest.mark.slow

CARTOON_SOURCE = "cartoon/images/tha2_headshots/a_chan.png"
REAL_DRIVER = "real/videos/liveportrait_d0.mp4"
FRAMES = 4


def _animate(cli_runner, shared_data, out, *extra: str, source=None, driver=None) -> dict:
    source = source or shared_data / CARTOON_SOURCE
    driver = driver or shared_data / REAL_DRIVER
    args = [
        "animate",
        str(source),
        str(driver),
        "-o",
        str(out),
        "--no-crop-source",
        "--max-frames",
        str(FRAMES),
        "--device",
        "cpu",
        "--no-audio",
        "--json",
        *extra,
    ]
    result = cli_runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_animate_runs_on_the_shipped_default_weights(shared_data, tmp_path, cli_runner):
    from toontalker.model import ModelConfig
    from toontalker.video import probe, read_frames, read_image
    from toontalker.weights import default_weights, read_config

    shipped = default_weights()
    assert shipped is not None, "the package ships no default weights"
    config = read_config(shipped / "config.json")
    presets = [name for name in ModelConfig.PRESETS if ModelConfig.from_name(name) == config]
    assert presets, "the shipped config is no preset"

    report = _animate(cli_runner, shared_data, tmp_path / "shipped.mp4")
    assert report["weights"] == "default" and report["warnings"] == []
    assert report["frames"] == FRAMES and (report["width"], report["height"]) == (config.image_size,) * 2
    info = probe(tmp_path / "shipped.mp4")
    frames = read_frames(tmp_path / "shipped.mp4")
    assert info.frames == FRAMES and frames.shape == (FRAMES, config.image_size, config.image_size, 3)

    random_report = _animate(
        cli_runner, shared_data, tmp_path / "random.mp4", "--random-weights", "--preset", presets[0], "--seed", "0"
    )
    assert random_report["weights"].startswith("random:")
    random_frames = read_frames(tmp_path / "random.mp4")

    source = read_image(shared_data / CARTOON_SOURCE).on_background().astype(np.float32)
    assert source.shape == frames.shape[1:]
    # the model's first output frame (relative motion, reference = driving frame 0) reconstructs the source
    shipped_l1 = np.abs(frames[0].astype(np.float32) - source).mean() / 255
    random_l1 = np.abs(random_frames[0].astype(np.float32) - source).mean() / 255
    assert shipped_l1 < 0.15, f"shipped weights reconstruct the source badly (L1 {shipped_l1:.3f})"
    assert random_l1 > 2 * shipped_l1, (shipped_l1, random_l1)
    # every frame stays a recognisable version of the source
    assert all(np.abs(f.astype(np.float32) - source).mean() / 255 < 0.2 for f in frames)


def test_shipped_weights_on_the_example_media(examples, tmp_path, cli_runner):
    """The same check on the repository's own media (runs in a plain clone): a 3D-cartoon portrait the model never
    saw, driven by the example real video. Measured: L1 to the source 0.017 (shipped) vs 0.289 (random)."""
    from toontalker.video import read_frames, read_image

    source, driver = examples / "cartoon_portrait.jpg", examples / "real_driver.mp4"
    report = _animate(cli_runner, None, tmp_path / "shipped.mp4", source=source, driver=driver)
    assert report["weights"] == "default" and report["frames"] == FRAMES
    random_report = _animate(
        cli_runner,
        None,
        tmp_path / "random.mp4",
        "--random-weights",
        "--preset",
        "small-256",
        "--seed",
        "0",
        source=source,
        driver=driver,
    )
    assert random_report["weights"] == "random:small-256"
    image = read_image(source).on_background().astype(np.float32)
    shipped_l1 = np.abs(read_frames(tmp_path / "shipped.mp4")[0].astype(np.float32) - image).mean() / 255
    random_l1 = np.abs(read_frames(tmp_path / "random.mp4")[0].astype(np.float32) - image).mean() / 255
    assert shipped_l1 < 0.12, f"shipped weights reconstruct the example portrait badly (L1 {shipped_l1:.3f})"
    assert random_l1 > 1.5 * shipped_l1, (shipped_l1, random_l1)


MOVING_DRIVER = "real/videos/tpsmm_driving.mp4"  # a held-out identity with large head motion


def test_shipped_weights_follow_the_driver(shared_data, tmp_path, cli_runner):
    """The output moves with the driver: the motion collapse of the first demo weights (output change 0.0004 vs
    the driver's 0.13, docs/results.md) fails this; the retrained weights move about as much as the driver."""
    from toontalker.video import read_frames

    frames_used, stride = 12, 10
    args = [
        "animate",
        str(shared_data / "real/images/liveportrait_s12.jpg"),
        str(shared_data / MOVING_DRIVER),
        "-o",
        str(tmp_path / "out.mp4"),
        "--source-domain",
        "real",
        "--driving-domain",
        "real",
        "--max-frames",
        str(frames_used * stride),
        "--device",
        "cpu",
        "--no-audio",
        "--side-by-side",
    ]
    result = cli_runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    video = read_frames(tmp_path / "out.mp4").astype(np.float32)[::stride] / 255  # source | driving | result
    third = video.shape[2] // 3
    driving, output = video[:, :, third : 2 * third], video[:, :, 2 * third :]
    driving_change = np.abs(driving - driving[:1]).mean()
    output_change = np.abs(output - output[:1]).mean()
    assert driving_change > 0.05, driving_change  # the clip really moves
    assert output_change > 0.25 * driving_change, (output_change, driving_change)


def test_shipped_weights_transfer_mouth_motion(shared_data, tmp_path):
    """Expression transfer, not just moving pixels: each of the 8 held-out real clips of the wide held-out
    protocol (people never trained on) drives its own first frame (same identity, relative motion, animate's
    crops, 100 frames), and the output's FaceMesh mouth opening must rise and fall with the driver's, on
    average over the 8. Measured (bench motion --heldout-set wide): mean mouth r +0.31 at 0.26 of the driver's
    amplitude with the shipped v4 weights, +0.20 (0.30) with v3; v2, whose mouth stayed shut, gave r +0.02 on
    the standard protocol's 4 of these clips, and copying the source gives no r at all (a still output). One clip
    alone scatters too much to guard on (liax_driving1: r +0.40 with v3, +0.21 with v4)."""
    from toontalker.bench.motion import MotionOptions, run_motion_bench
    from toontalker.bench.motion_heldout import heldout_pairs

    pairs = heldout_pairs(shared_data, settings=("same-identity",), protocol="wide")
    assert len(pairs) == 8
    report = run_motion_bench(
        pairs=pairs,
        out=tmp_path / "motion",
        options=MotionOptions(max_frames=100, device="cpu", plots=False, cache_dir=tmp_path / "cache"),
    )
    assert all(min(row.driver_detected, row.output_detected) >= 0.95 * row.frames for row in report.pairs)
    mouths = [row.signal("mouth") for row in report.pairs]
    mean_r = float(np.mean([m.r for m in mouths]))
    mean_amplitude = float(np.mean([m.amplitude for m in mouths]))
    assert mean_r > 0.15, f"the outputs' mouths do not follow the drivers' (mean r {mean_r:.2f} over 8 clips)"
    assert mean_amplitude > 0.2, mean_amplitude
