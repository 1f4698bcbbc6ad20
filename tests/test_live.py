"""Live animate (batch 1, the webcam path) on the example media with the real model (tiny preset, random
weights) and the real mediapipe detector."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from toontalker.animation.api import AnimateOptions, animate
from toontalker.animation.live import LiveAnimator, LiveOptions
from toontalker.animation.source import prepare_source
from toontalker.faces import get_detector
from toontalker.video import read_frames, read_image
from toontalker.weights.default import load_model

FRAMES = 10


@pytest.fixture(scope="module")
def parts(examples):
    model, _ = load_model(None, "tiny", True, 0)
    source = prepare_source(examples / "cartoon_portrait.jpg", model.config.image_size, "cartoon", detector="mediapipe")
    frames = read_frames(examples / "real_driver.mp4", max_frames=FRAMES)
    return model.eval(), source, frames


def _live(parts, options):
    model, source, frames = parts
    detector = get_detector("mediapipe", "real")
    cpu = torch.device("cpu")
    with LiveAnimator(
        model, source, detector=detector, device=cpu, dtype=torch.float32, source_domain="cartoon", options=options
    ) as live:
        return [live(frame) for frame in frames]


def test_live_sync_equals_animate_without_lookahead(examples, parts, tmp_path):
    """Detection every frame, no smoothing: the faces of animate with no look-ahead (to a grey level)."""
    out = tmp_path / "frames"
    options = AnimateOptions(
        batch_size=1,
        preset="tiny",
        random_weights=True,
        max_frames=FRAMES,
        smooth_frames=0,
        dtype="fp32",
        detector="mediapipe",
    )
    animate(examples / "cartoon_portrait.jpg", examples / "real_driver.mp4", out, options=options)
    expected = np.stack([read_image(p).rgb for p in sorted(out.iterdir())])
    live = _live(parts, LiveOptions(detection="sync", smoothing=1.0))
    assert len(live) == FRAMES and not any(f.lost for f in live)
    diff = np.abs(np.stack([f.image for f in live]).astype(int) - expected.astype(int))
    assert (
        diff.max() <= 1 and diff.mean() < 0.01
    )  # the box's float rounding (centre + side) moves a pixel here and there


def test_live_async_detection_follows_the_face(parts):
    """Detection beside the frames: every output comes back, the boxes stay near the every-frame detections."""
    sync = _live(parts, LiveOptions(detection="sync"))
    beside = _live(parts, LiveOptions(detection="async"))
    assert [f.image.shape for f in beside] == [(64, 64, 3)] * FRAMES
    assert beside[0].box == sync[0].box  # the first frame waits for its detection
    for a, b in zip(sync, beside):
        assert abs(a.box.center[0] - b.box.center[0]) < 0.1 * a.box.width
        assert abs(a.box.width - b.box.width) < 0.1 * a.box.width


def test_live_options_are_checked():
    with pytest.raises(ValueError, match="detection"):
        LiveOptions(detection="later")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="smoothing"):
        LiveOptions(smoothing=0.0)


def test_live_latency_script_reports_its_figures(examples):
    """scripts/live_latency.py (docs/benchmarks.md's live table) on the CPU with the tiny model: its JSON."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "live_latency.py"
    args = ["--source", examples / "cartoon_portrait.jpg", "--clip", examples / "real_driver.mp4", "--preset", "tiny"]
    args += ["--random-weights", "--device", "cpu", "--frames", "6", "--warmup", "2", "--detector", "mediapipe"]
    done = subprocess.run([sys.executable, script, *map(str, args)], capture_output=True, text=True, check=True)
    report = json.loads(done.stdout)
    assert report["frames"] == 6 and report["output"] == 64 and report["frames_lost"] == 0
    assert 0 < report["ms_p50"] <= report["ms_max"] and report["frames_per_second"] > 0
    assert report["driving_frame"] == [320, 320]
