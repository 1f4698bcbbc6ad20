"""A small benchmark data folder (copied media + ``manifest.csv``) for machines without ../shared/data.

For running the bench on a GPU machine without the sample media: copy a subset of it (the THA2 paired
benchmark, a few real and cartoon test clips, cartoon headshots) into a folder such as ``bench-data`` (ignored
by git) and copy that folder to the GPU machine. Never commit it (the media's licences forbid it).
``manifest.csv`` uses paths relative to itself, so protocols made from it resolve on the other machine.

    python -m toontalker.bench.sample_data ../shared/data bench-data
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd

from toontalker.bench.paired import COMPARE_DIR, FACES_DIR
from toontalker.errors import InputError
from toontalker.io_utils import atomic_path

REAL_CLIPS = (
    "liveportrait_d0.mp4",
    "liveportrait_d10.mp4",
    "liveportrait_d12.mp4",
    "liveportrait_d18.mp4",
    "liveportrait_d20.mp4",
    "lia_vox_driving2.mp4",
    "tpsmm_driving.mp4",
    "animeceleb_vox_example.mp4",
)
CARTOON_CHARACTERS = ("a_chan", "aduchi_momo", "aiba_uiha", "airani_iofifteen", "aizono_manami", "akai_heart")


def _frames(path: Path) -> int:
    import cv2

    capture = cv2.VideoCapture(str(path))
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    return count


def write_sample_dataset(shared: Path, out: Path) -> Path:
    """Copy the subset into ``out`` and write ``out/manifest.csv`` (all rows in the test split)."""
    shared, out = Path(shared), Path(out)
    copies: list[tuple[Path, Path]] = [
        (p, out / p.relative_to(shared)) for p in sorted((shared / COMPARE_DIR).glob("*.mp4"))
    ]
    copies += [(p, out / p.relative_to(shared)) for p in sorted((shared / FACES_DIR).glob("tha2_3dmodel_face_*.png"))]
    rows = []
    for name in REAL_CLIPS:
        src = shared / "real/videos" / name
        copies.append((src, out / "real/videos" / name))
        rows.append((Path(name).stem, f"real/videos/{name}", "real", Path(name).stem, "test", _frames(src)))
    for character in CARTOON_CHARACTERS:
        clip = shared / "cartoon/videos/tha2_characters" / f"{character}.mp4"
        image = shared / "cartoon/images/tha2_headshots" / f"{character}.png"
        copies += [(clip, out / clip.relative_to(shared)), (image, out / image.relative_to(shared))]
        rows.append((f"clip-{character}", str(clip.relative_to(shared)), "cartoon", character, "test", _frames(clip)))
        rows.append((f"img-{character}", str(image.relative_to(shared)), "cartoon", character, "test", 1))
    for src, dst in copies:
        if not src.is_file():
            raise InputError(f"{src}: not found in the shared data folder")
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    manifest = out / "manifest.csv"
    with atomic_path(manifest) as tmp:
        pd.DataFrame(rows, columns=["id", "path", "domain", "identity", "split", "frames"]).to_csv(tmp, index=False)
    return manifest


if __name__ == "__main__":
    print(write_sample_dataset(Path(sys.argv[1]), Path(sys.argv[2])))
