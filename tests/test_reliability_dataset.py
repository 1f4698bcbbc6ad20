"""Dataset faults (docs/reliability.md): a finished video's clips deleted between two builds."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from faults import ffmpeg, run_cli  # noqa: E402
from toontalker.dataset.manifest import clip_path, read_manifest  # noqa: E402

BUILD = ("--box", "0,0,64,64", "--scenes", "none", "--size", "32", "--min-frames", "1", "--format", "npy", "-q")


def test_rebuild_notices_deleted_clip_folders_and_restores_them(tmp_path: Path) -> None:
    """Before: the rerun kept the dead manifest row, --retry-failed did not restore it, and training
    stopped at step 1 with "clip not found"."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    for i, pattern in enumerate(("testsrc", "testsrc2")):
        ffmpeg("-f", "lavfi", "-i", f"{pattern}=s=64x64:r=25:d=1", "-pix_fmt", "yuv420p", str(raw / f"v{i}.mp4"))
    first = run_cli("dataset", "build", raw, out, *BUILD)
    assert first.returncode == 0, first.stderr
    manifest = read_manifest(out)
    assert len(manifest) == 2
    gone = clip_path(out, manifest.iloc[0]["path"])
    shutil.rmtree(gone) if gone.is_dir() else gone.unlink()
    again = run_cli("dataset", "build", raw, out, *BUILD)
    assert again.returncode == 0, again.stderr
    rebuilt = read_manifest(out)
    assert sorted(rebuilt["id"]) == sorted(manifest["id"])
    assert all(clip_path(out, p).exists() for p in rebuilt["path"])
    verify = run_cli("dataset", "verify", out)
    assert verify.returncode == 0, verify.stdout + verify.stderr
