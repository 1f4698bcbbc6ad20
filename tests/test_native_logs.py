"""mediapipe's native log lines stay off stderr; Python's own stderr (and a real error) still gets through."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from faults import ffmpeg, run_cli  # noqa: E402

pytest.importorskip("mediapipe")

# glog/absl lines ("W0000 00:00:... file.cc:114] ..."), TFLite's "INFO: Created TensorFlow Lite ...", absl's
# "WARNING: All log messages before absl::InitializeLog() ...", and protobuf-7's GetPrototype complaint.
NATIVE = re.compile(
    r"^(?:[WIEF]\d{4} |INFO: |WARNING: All log messages)|GetPrototype|inference_feedback_manager", re.MULTILINE
)

# The graphs are left idle after they are built (sleep): their calculators open, and log, on the graph's own
# threads after the constructor has returned, so muting only the constructor and the calls is not enough.
SCRIPT = """
import sys, time
import numpy as np
from toontalker.faces.detectors import get_detector
from toontalker.faces.landmarks import FaceMesh
from toontalker.video import read_image
image = read_image(sys.argv[1]).rgb
with FaceMesh() as mesh:
    time.sleep(0.5)
    found = [mesh.detect(image) is not None for _ in range(3)]
detector = get_detector("mediapipe")
time.sleep(0.5)
boxes = detector.detect(image)
time.sleep(0.5)
print("found", all(found), len(boxes) > 0, file=sys.stderr)
"""


def _native_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if NATIVE.search(line)]


def test_mediapipe_runs_without_native_log_noise(examples):
    env = {k: v for k, v in os.environ.items() if k != "TOONTALKER_DEBUG"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(examples / "real_portrait.jpg")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "found True True" in result.stderr  # the graphs ran and found the face; Python's stderr is kept
    assert _native_lines(result.stderr) == [], result.stderr


def test_native_pattern_matches_the_lines_mediapipe_prints():
    seen = (
        "W0000 00:00:1796165582.794263   19714 inference_feedback_manager.cc:114] Feedback manager ...\n"
        "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n"
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1796165582.8 12 gl_context.cc:357] GL version: 2.1\n"
    )
    assert len(_native_lines(seen)) == 4
    assert _native_lines("error: examples/x.png: no cartoon face found\nWARNING: low light\n") == []


def test_animate_on_the_examples_prints_no_native_log_lines(examples, tmp_path):
    """The user's first command (shipped weights; both mediapipe detectors, the driving one on the decode
    thread): a successful run writes no native log line (nor a traceback) to stderr."""
    out = tmp_path / "x.mp4"
    result = run_cli(
        "animate",
        examples / "cartoon_portrait.jpg",
        examples / "real_driver.mp4",
        "-o",
        out,
        "--max-frames",
        "10",
        "--batch-size",
        "4",
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert out.is_file() and "wrote" in result.stdout
    assert _native_lines(result.stderr) == [], result.stderr
    assert "Traceback" not in result.stderr and "Error" not in result.stderr, result.stderr


def test_animate_errors_still_reach_stderr_while_mediapipe_is_muted(examples, tmp_path):
    """A source without a face: mediapipe runs (muted, still warming up), then the real error is printed."""
    blank = tmp_path / "blank.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=128x128", "-frames:v", "1", str(blank))
    result = run_cli(
        "animate",
        blank,
        examples / "real_driver.mp4",
        "-o",
        tmp_path / "x.mp4",
        "--max-frames",
        "4",
        "--detector",
        "mediapipe",
        timeout=300,
    )
    assert result.returncode == 1, result.stderr
    assert "no cartoon face found" in result.stderr, result.stderr
    assert _native_lines(result.stderr) == [], result.stderr
