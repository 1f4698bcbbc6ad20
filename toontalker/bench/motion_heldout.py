"""The held-out motion protocols over the sample data folder: ``standard``, 20 fixed SOURCE DRIVER pairs (5 settings
x 4), and ``wide``, 80 pairs of the same held-out people and characters (8-20 per setting) for decisions that
4 pairs per setting cannot settle (an r differs by ~0.1-0.2 between two 4-pair samples), and ``styles``, 20
cartoon -> real pairs whose drivers are cartoons of other drawing styles than THA2's (Naver Webtoon characters,
two clips of other animation models): every cartoon driver of the other two is a THA2 character, and a cartoon
motion encoder trained on THA2 clips can follow those and not others.

Nothing here is random: the pairs are listed below, so a rerun measures exactly the same reenactments.
Identities were chosen to stay out of training: a training set built from the sample data must leave out
:data:`HELDOUT_REAL_VIDEOS` (people with no other clip in ``real/videos``) and the THA2 characters of
:data:`HELDOUT_CARTOON_CHARACTERS` (the ten whose names sort last, headshot and video). Real source images
come from ``real/images`` (portrait photos, not used by the video-based training set) and are of other people.

``python -m toontalker.bench.motion_heldout DATA OUT`` copies just the protocol's files (5.7 MB) into ``OUT``
with the same relative paths, so ``--heldout OUT`` works on a machine without the sample data folder (never
commit that copy: the media's licences forbid it).

Drivers were picked for visible mouth / eye / head motion. FaceMesh finds the face in 20-100 % of the THA2
frames (e.g. ``yuzuriha_honami`` about half): the report shows each pair's detection rate.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from toontalker.bench.motion_inputs import MotionPair, protocol_rows
from toontalker.conventions import Domain
from toontalker.errors import InputError, UsageError
from toontalker.io_utils import atomic_path

HELDOUT_REAL_VIDEOS = (
    "headgan_driving.mp4",
    "xportrait_driving_video.mp4",
    "dagan_driving.mp4",
    "liax_driving1.mp4",
    "liax_driving2.mp4",
    "actalker_video.mp4",
    "fomm_08.mp4",
    "eamm_happy.mp4",
)
HELDOUT_CARTOON_CHARACTERS = (
    "yumeno_lilith",
    "yumeoi_kakeru",
    "yunohara_izumi",
    "yuugasaki_umi",
    "yuuhi_riri",
    "yuuki_chihiro",
    "yuukoku_robel",
    "yuzuki_choko",
    "yuzuki_roa",
    "yuzuriha_honami",
)
REAL_SOURCES = (
    "vtoonify_038648.jpg",
    "liveportrait_s1.jpg",
    "jojogan_iu.jpeg",
    "sadtalker_happy.png",
    "lia_taylor.png",
    "dualstylegan_019706.jpg",
    "liveportrait_s11.jpg",
    "tpsmm_source.png",
)

# (setting, driver, source); real drivers are names in real/videos, cartoon ones THA2 character names
HELDOUT_PAIRS: tuple[tuple[str, str, str], ...] = (
    ("same-identity", "headgan_driving.mp4", "headgan_driving.mp4"),
    ("same-identity", "xportrait_driving_video.mp4", "xportrait_driving_video.mp4"),
    ("same-identity", "liax_driving1.mp4", "liax_driving1.mp4"),
    ("same-identity", "eamm_happy.mp4", "eamm_happy.mp4"),
    ("cross-identity-real", "dagan_driving.mp4", "vtoonify_038648.jpg"),
    ("cross-identity-real", "liax_driving2.mp4", "liveportrait_s1.jpg"),
    ("cross-identity-real", "actalker_video.mp4", "jojogan_iu.jpeg"),
    ("cross-identity-real", "fomm_08.mp4", "sadtalker_happy.png"),
    ("real-to-cartoon", "xportrait_driving_video.mp4", "yumeoi_kakeru"),
    ("real-to-cartoon", "actalker_video.mp4", "yuugasaki_umi"),
    ("real-to-cartoon", "eamm_happy.mp4", "yuzuki_roa"),
    ("real-to-cartoon", "dagan_driving.mp4", "yuukoku_robel"),
    ("cartoon-to-real", "yuuhi_riri", "lia_taylor.png"),
    ("cartoon-to-real", "yuuki_chihiro", "dualstylegan_019706.jpg"),
    ("cartoon-to-real", "yuukoku_robel", "liveportrait_s11.jpg"),
    ("cartoon-to-real", "yuzuki_choko", "tpsmm_source.png"),
    ("cross-identity-cartoon", "yuzuki_roa", "yuuhi_riri"),
    ("cross-identity-cartoon", "yuugasaki_umi", "yuuki_chihiro"),
    ("cross-identity-cartoon", "yumeoi_kakeru", "yuzuki_choko"),
    ("cross-identity-cartoon", "yuzuriha_honami", "yuukoku_robel"),
)

# cartoon drivers of other drawing styles (``styles``): names in cartoon/videos, none in a THA2 training set
OTHER_STYLE_DRIVERS = (
    "webtoon_beauty_1_p0.mp4",
    "webtoon_beauty_2_p0.mp4",
    "webtoon_beauty_3_p0.mp4",
    "webtoon_castle_2_p0.mp4",
    "webtoon_duna_1_p0.mp4",
    "webtoon_finger_1_p0.mp4",
    "webtoon_finger_3_p0.mp4",
    "webtoon_office_1_p0.mp4",
    "echomimic_b.mp4",
    "vexpress_gt.mp4",
)

HELDOUT_SETS = ("standard", "wide", "styles")


def wide_rows() -> tuple[tuple[str, str, str], ...]:
    """The ``wide`` protocol's (setting, driver, source) rows, 80 in all: each held-out real video drives itself,
    two real photos and two held-out THA2 characters; each held-out character drives two real photos and two
    other held-out characters. Built from the fixed lists above by index, so nothing is random."""
    real, chars, photos = HELDOUT_REAL_VIDEOS, HELDOUT_CARTOON_CHARACTERS, REAL_SOURCES
    rows = [("same-identity", video, video) for video in real]
    rows += [("cross-identity-real", v, photos[(i + k) % len(photos)]) for i, v in enumerate(real) for k in (0, 3)]
    rows += [("real-to-cartoon", v, chars[(i + k) % len(chars)]) for i, v in enumerate(real) for k in (0, 5)]
    rows += [("cartoon-to-real", c, photos[(j + k) % len(photos)]) for j, c in enumerate(chars) for k in (0, 4)]
    rows += [("cross-identity-cartoon", c, chars[(j + k) % len(chars)]) for j, c in enumerate(chars) for k in (1, 4)]
    return tuple(rows)


def styles_rows() -> tuple[tuple[str, str, str], ...]:
    """The ``styles`` protocol's (setting, driver, source) rows, 20 in all: each driver of
    :data:`OTHER_STYLE_DRIVERS` drives two real photos (as ``wide``'s THA2 drivers do)."""
    photos = REAL_SOURCES
    return tuple(
        ("cartoon-to-real", d, photos[(j + k) % len(photos)]) for j, d in enumerate(OTHER_STYLE_DRIVERS) for k in (0, 4)
    )


_ROWS = {"standard": lambda: HELDOUT_PAIRS, "wide": wide_rows, "styles": styles_rows}

_DRIVER_DOMAIN: dict[str, Domain] = {
    "same-identity": "real",
    "cross-identity-real": "real",
    "real-to-cartoon": "real",
    "cartoon-to-real": "cartoon",
    "cross-identity-cartoon": "cartoon",
}
_SOURCE_DOMAIN: dict[str, Domain] = {
    "same-identity": "real",
    "cross-identity-real": "real",
    "real-to-cartoon": "cartoon",
    "cartoon-to-real": "real",
    "cross-identity-cartoon": "cartoon",
}


def _driver_path(root: Path, domain: str, name: str) -> Path:
    if domain == "real":
        return root / "real/videos" / name
    if name in OTHER_STYLE_DRIVERS:
        return root / "cartoon/videos" / name
    return root / "cartoon/videos/tha2_characters" / f"{name}.mp4"


def _source_path(root: Path, domain: str, name: str, setting: str) -> Path:
    if setting == "same-identity":
        return root / "real/videos" / name
    return root / "real/images" / name if domain == "real" else root / "cartoon/images/tha2_headshots" / f"{name}.png"


def heldout_pairs(
    data_root: str | Path, settings: tuple[str, ...] | None = None, protocol: str = "standard"
) -> list[MotionPair]:
    """The held-out pairs of ``protocol`` (one of :data:`HELDOUT_SETS`) over ``data_root`` (the sample data
    folder), optionally only ``settings``.

    Raises InputError naming the first missing file, UsageError for an unknown protocol."""
    if protocol not in HELDOUT_SETS:
        raise UsageError(f"held-out motion protocol must be one of {', '.join(HELDOUT_SETS)}, got {protocol!r}")
    root = Path(data_root)
    pairs = []
    for index, (setting, driver, source) in enumerate(_ROWS[protocol]()):
        if settings is not None and setting not in settings:
            continue
        d_dom, s_dom = _DRIVER_DOMAIN[setting], _SOURCE_DOMAIN[setting]
        driving, src = _driver_path(root, d_dom, driver), _source_path(root, s_dom, source, setting)
        for path in (driving, src):
            if not path.is_file():
                raise InputError(f"{path}: not found (held-out motion protocol over {root})")
        pairs.append(
            MotionPair(
                source=src,
                driving=driving,
                source_domain=s_dom,
                driving_domain=d_dom,
                same_identity=setting == "same-identity",
                pair_id=f"{setting}-{index:02d}-{Path(source).stem}--{Path(driver).stem}",
            )
        )
    return pairs


def write_heldout_protocols(
    data_root: str | Path, out_dir: str | Path, max_frames: int = 100, protocol: str = "standard"
) -> list[Path]:
    """The held-out pairs as protocol CSVs (``bench protocol``'s format), one file per setting."""
    pairs = heldout_pairs(data_root, protocol=protocol)
    written = []
    for setting in dict.fromkeys(p.setting for p in pairs):
        path = Path(out_dir) / f"motion-heldout-{setting}.csv"
        with atomic_path(path) as tmp:
            protocol_rows([p for p in pairs if p.setting == setting], max_frames).to_csv(tmp, index=False)
        written.append(path)
    return written


def copy_heldout_files(data_root: str | Path, out: str | Path, protocol: str = "standard") -> list[Path]:
    """Copy the files of the held-out pairs to ``out`` under their paths relative to ``data_root``."""
    root, out = Path(data_root), Path(out)
    files = dict.fromkeys(f for p in heldout_pairs(root, protocol=protocol) for f in (p.source, p.driving))
    copied = []
    for path in files:
        target = out / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copied.append(target)
    return copied


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: python -m toontalker.bench.motion_heldout DATA_ROOT OUT [standard|wide|styles]")
    protocol = sys.argv[3] if len(sys.argv) == 4 else "standard"
    print(f"{len(copy_heldout_files(sys.argv[1], sys.argv[2], protocol))} files -> {sys.argv[2]}")
