"""Training datasets made from ../shared/data with `toontalker dataset import` (64 px clips, one person per video)."""

from __future__ import annotations

from pathlib import Path

from toontalker.cli import app

REAL_VIDEOS = ("liveportrait_d0.mp4", "lia_vox_driving1.mp4")
CARTOON_VIDEOS = ("a_chan.mp4", "aduchi_momo.mp4")


def import_clips(cli_runner, shared: Path, tmp: Path, cartoon: bool = True) -> Path:
    """A dataset folder under ``tmp`` with the real clips (and the cartoon ones unless ``cartoon=False``)."""
    dataset = tmp / "dataset"
    domains = [("real", shared / "real" / "videos", REAL_VIDEOS)]
    if cartoon:
        domains.append(("cartoon", shared / "cartoon" / "videos" / "tha2_characters", CARTOON_VIDEOS))
    for domain, folder, names in domains:
        src = tmp / f"src-{domain}"
        for i, name in enumerate(names):
            (src / f"person{i}").mkdir(parents=True)
            (src / f"person{i}" / name).symlink_to(folder / name)
        result = cli_runner.invoke(
            app, ["dataset", "import", str(src), str(dataset), "--domain", domain, "--size", "64", "-q"]
        )
        assert result.exit_code == 0, result.output
    return dataset
