"""Evaluation protocols as data: pair lists (CSV) generated from a dataset's test split with a seed.

A protocol CSV has one row per (source, driving clip) pair in DaGAN's spirit (``source, driving, frame``):
``source``/``driving`` are manifest ids, ``frame`` is the frame of the source item used as the source
image (0 for still images), ``driving_frames`` how many driving frames (from the first) are reenacted.
Paths and domains are repeated so that a CSV is self-contained. An optional ``ground_truth_path`` column
names a clip of the expected output (the paired cartoon benchmark); reconstruction metrics compare with it.

Settings (paper Sec. 4):

========================  ==============================  ========================================
setting                   pairs                           paper table
========================  ==============================  ========================================
same-identity             a real clip drives its frame 0   Table 2 (reconstruction, ground truth)
cross-identity-real       real clip -> other real person   Table 3
cross-identity-cartoon    cartoon clip -> other cartoon    Table 4
real-to-cartoon           real clip -> cartoon image       Table 1 (left), Tables 5-7
cartoon-to-real           cartoon clip -> real image       Table 1 (right), Tables 5-7
========================  ==============================  ========================================
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toontalker.bench.options import ProtocolOptions  # re-exported: its home is bench/options.py
from toontalker.errors import InputError, UsageError
from toontalker.io_utils import atomic_path

MANIFEST_COLUMNS = ("id", "path", "domain", "identity", "split", "frames")
PROTOCOL_COLUMNS = (
    "pair_id",
    "setting",
    "source",
    "source_path",
    "source_domain",
    "source_identity",
    "frame",
    "driving",
    "driving_path",
    "driving_domain",
    "driving_identity",
    "driving_frames",
)


@dataclass(frozen=True)
class SettingSpec:
    """Which domains drive which, and whether source and driver share an identity."""

    name: str
    driving_domain: str
    source_domain: str
    same_identity: bool
    tables: tuple[int, ...]


SETTINGS: dict[str, SettingSpec] = {
    s.name: s
    for s in (
        SettingSpec("same-identity", "real", "real", True, (2,)),
        SettingSpec("cross-identity-real", "real", "real", False, (3,)),
        SettingSpec("cross-identity-cartoon", "cartoon", "cartoon", False, (4,)),
        SettingSpec("real-to-cartoon", "real", "cartoon", False, (1, 5, 6, 7)),
        SettingSpec("cartoon-to-real", "cartoon", "real", False, (1, 5, 6, 7)),
        # not in the paper: THA2 renders of characters performing a driver's motion (toontalker.bench.paired)
        SettingSpec("paired-cartoon", "cartoon", "cartoon", False, ()),
    )
}


def setting_spec(name: str) -> SettingSpec:
    if name not in SETTINGS:
        raise UsageError(f"unknown protocol setting {name!r}; choose from: {', '.join(SETTINGS)}")
    return SETTINGS[name]


def load_manifest(path: Path) -> pd.DataFrame:
    """A dataset manifest (CSV or parquet) with absolute ``path``s (relative ones resolve beside it)."""
    path = Path(path)
    if path.is_dir():
        for name in ("manifest.parquet", "manifest.csv"):
            if (path / name).is_file():
                path = path / name
                break
        else:
            raise InputError(f"{path}: no manifest.parquet or manifest.csv in this dataset folder")
    if not path.is_file():
        raise InputError(f"{path}: manifest not found")
    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read manifest: {exc}") from exc
    missing = [c for c in MANIFEST_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: manifest lacks column(s) {', '.join(missing)}")
    frame = frame.copy()
    frame["path"] = [str(p if Path(p).is_absolute() else (path.parent / p)) for p in frame["path"].astype(str)]
    frame["frames"] = frame["frames"].fillna(1).astype(int)
    return frame


def _pick_frame(rng: np.random.Generator, frames: int) -> int:
    return int(rng.integers(0, frames)) if frames > 1 else 0


def generate_pairs(manifest: pd.DataFrame, setting: str, options: ProtocolOptions) -> pd.DataFrame:
    """The pair list of one ``setting`` from the manifest's ``split == "test"`` rows, seeded."""
    spec = setting_spec(setting)
    # one stream per setting, so adding a setting never changes another's pairs
    rng = np.random.default_rng([options.seed, list(SETTINGS).index(setting)])
    test = manifest[manifest["split"] == "test"].sort_values("id")
    drivers = test[(test["domain"] == spec.driving_domain) & (test["frames"] >= 2)]
    if options.drivers is not None and len(drivers) > options.drivers:
        drivers = drivers.iloc[np.sort(rng.choice(len(drivers), options.drivers, replace=False))]
    sources = test[test["domain"] == spec.source_domain]
    rows: list[dict[str, Any]] = []
    for _, driver in drivers.iterrows():
        n_frames = (
            int(driver["frames"]) if options.max_frames is None else min(int(driver["frames"]), options.max_frames)
        )
        if spec.same_identity:
            chosen = [(driver, 0)]
        else:
            pool = sources[sources["identity"].astype(str) != str(driver["identity"])]
            if pool.empty:
                continue
            picks = rng.choice(len(pool), min(options.sources_per_driver, len(pool)), replace=False)
            chosen = [(pool.iloc[int(i)], _pick_frame(rng, int(pool.iloc[int(i)]["frames"]))) for i in picks]
        for source, frame in chosen:
            rows.append(
                {
                    "pair_id": f"{setting}-{len(rows):05d}",
                    "setting": setting,
                    "source": source["id"],
                    "source_path": source["path"],
                    "source_domain": source["domain"],
                    "source_identity": str(source["identity"]),
                    "frame": frame,
                    "driving": driver["id"],
                    "driving_path": driver["path"],
                    "driving_domain": driver["domain"],
                    "driving_identity": str(driver["identity"]),
                    "driving_frames": n_frames,
                }
            )
    return pd.DataFrame(rows, columns=list(PROTOCOL_COLUMNS))


@dataclass(frozen=True)
class ProtocolFile:
    setting: str
    path: Path
    pairs: int


def generate_protocols(
    manifest: pd.DataFrame, settings: list[str], options: ProtocolOptions, out_dir: Path
) -> list[ProtocolFile]:
    """Write ``<out_dir>/<setting>.csv`` for each setting (an empty setting still gets its header)."""
    written = []
    for setting in settings:
        pairs = generate_pairs(manifest, setting, options)
        path = Path(out_dir) / f"{setting}.csv"
        with atomic_path(path) as tmp:
            pairs.to_csv(tmp, index=False)
        written.append(ProtocolFile(setting, path, len(pairs)))
    return written


def read_protocol(path: Path) -> pd.DataFrame:
    """A protocol CSV, checked for its columns and a single setting."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: protocol file not found")
    try:
        pairs = pd.read_csv(path, dtype={"source_identity": str, "driving_identity": str})
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read protocol CSV: {exc}") from exc
    missing = [c for c in PROTOCOL_COLUMNS if c not in pairs.columns]
    if missing:
        raise InputError(f"{path}: not a protocol CSV (missing column(s) {', '.join(missing)})")
    if pairs.empty:
        raise InputError(f"{path}: protocol has no pairs")
    settings = pairs["setting"].unique()
    if len(settings) != 1:
        raise InputError(f"{path}: one setting per protocol file, found {', '.join(map(str, settings))}")
    setting_spec(str(settings[0]))
    return pairs
