"""The paired cartoon benchmark: THA2 characters performing another character's motion, with ground truth.

``cartoon/videos/tha2_compare`` (see ../shared/data/MANIFEST.csv) holds 4 driver clips
``driver_row{r}_{character}.mp4`` and, for 8 target characters, ``{target}_row{r}_gt.mp4``: the 3D-rendered
target performing row ``r``'s motion (150 frames, 30 fps, 256x256). The source is the target's rest-pose
face ``cartoon/images/tha2_3dmodel_face_{target}.png`` (RGBA, composited on black like the renders), or
with ``source="gt-first-frame"`` the ground truth's first frame. A model reenacts the target from the
driver; L1/PSNR/SSIM/LPIPS compare its output with the ground truth frame by frame -- a cross-identity
cartoon benchmark with real ground truth, which the paper's cartoon tables (FID/CPBD only) lack.

Pairs whose target is the driver's own character (4 of 36) are same-identity reconstructions; they are
left out unless ``include_self=True``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import pandas as pd

from toontalker.bench.protocols import PROTOCOL_COLUMNS
from toontalker.errors import InputError

COMPARE_DIR = Path("cartoon/videos/tha2_compare")
FACES_DIR = Path("cartoon/images")
DRIVER_RE = re.compile(r"driver_row(?P<row>\d+)_(?P<character>.+)\.mp4$")
TARGET_RE = re.compile(r"(?P<character>.+)_row(?P<row>\d+)_gt\.mp4$")


def paired_cartoon_pairs(
    data_root: Path,
    source: Literal["face-image", "gt-first-frame"] = "face-image",
    include_self: bool = False,
    max_frames: int | None = None,
) -> pd.DataFrame:
    """The protocol (setting ``paired-cartoon``) with a ``ground_truth_path`` column, from ``data_root``."""
    folder = Path(data_root) / COMPARE_DIR
    if not folder.is_dir():
        raise InputError(f"{folder}: paired cartoon benchmark folder not found (give the shared data root)")
    drivers = {
        int(m["row"]): (m["character"], p)
        for p in sorted(folder.glob("driver_row*.mp4"))
        if (m := DRIVER_RE.match(p.name))
    }
    if not drivers:
        raise InputError(f"{folder}: no driver_row*.mp4 clips")
    rows = []
    for gt in sorted(folder.glob("*_gt.mp4")):
        match = TARGET_RE.match(gt.name)
        if match is None or int(match["row"]) not in drivers:
            continue
        target, row = match["character"], int(match["row"])
        driver_character, driver_path = drivers[row]
        if target == driver_character and not include_self:
            continue
        face = Path(data_root) / FACES_DIR / f"tha2_3dmodel_face_{target}.png"
        if source == "face-image" and not face.is_file():
            raise InputError(f"{face}: rest-pose face of {target} not found")
        frames = 150 if max_frames is None else min(150, max_frames)
        rows.append(
            {
                "pair_id": f"paired-cartoon-{target}-row{row}",
                "setting": "paired-cartoon",
                "source": target,
                "source_path": str(face if source == "face-image" else gt),
                "source_domain": "cartoon",
                "source_identity": target,
                "frame": 0,
                "driving": driver_path.stem,
                "driving_path": str(driver_path),
                "driving_domain": "cartoon",
                "driving_identity": driver_character,
                "driving_frames": frames,
                "ground_truth_path": str(gt),
            }
        )
    if not rows:
        raise InputError(f"{folder}: no *_row*_gt.mp4 clip matches a driver row")
    return pd.DataFrame(rows, columns=[*PROTOCOL_COLUMNS, "ground_truth_path"])
