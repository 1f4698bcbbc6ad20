"""``dataset split``: assign train/test (and val) by identity, never one identity in two splits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toontalker.dataset.manifest import read_manifest, write_manifest
from toontalker.errors import UsageError

GROUP_BY = ("identity", "source")


@dataclass(frozen=True)
class SplitSummary:
    """Clips and groups (identities or sources) per split, per domain: ``rows`` of (domain, split, groups, clips)."""

    manifest: Path
    group_by: str
    rows: tuple[tuple[str, str, int, int], ...]


def _count(value: float, groups: int, what: str) -> int:
    """``value`` as a number of groups: a fraction in [0, 1) of them, or a whole count >= 1."""
    if value < 0:
        raise UsageError(f"--{what} must be >= 0, got {value}")
    if value < 1:
        return int(round(value * groups))
    if value != int(value):
        raise UsageError(f"--{what} {value}: give a fraction below 1 or a whole number of groups")
    return int(value)


def assign_splits(
    frame: pd.DataFrame, test: float = 0.15, val: float = 0.0, seed: int = 0, group_by: str = "identity"
) -> pd.DataFrame:
    """A copy of ``frame`` with ``split`` set per group, separately per domain.

    ``test`` / ``val``: a fraction of the groups (0 <= x < 1) or a number of groups (>= 1). Groups are
    shuffled with ``seed``; whole groups go to test, then val, the rest to train, so no identity (or source
    video) appears in two splits.
    """
    if group_by not in GROUP_BY:
        raise UsageError(f"group_by {group_by!r}: expected one of {', '.join(GROUP_BY)}")
    frame = frame.copy()
    frame["split"] = "train"
    for domain in sorted(frame["domain"].unique()):
        mask = frame["domain"] == domain
        groups = np.array(sorted(frame.loc[mask, group_by].unique()))
        n_test, n_val = _count(test, len(groups), "test"), _count(val, len(groups), "val")
        if n_test + n_val > len(groups):
            raise UsageError(
                f"{domain}: {n_test} test + {n_val} val groups asked, only {len(groups)} {group_by} groups exist"
            )
        rng = np.random.default_rng([seed, sum(map(ord, domain))])
        order = groups[rng.permutation(len(groups))]
        test_groups, val_groups = set(order[:n_test]), set(order[n_test : n_test + n_val])
        frame.loc[mask & frame[group_by].isin(test_groups), "split"] = "test"
        frame.loc[mask & frame[group_by].isin(val_groups), "split"] = "val"
    return frame


def split_dataset(
    dataset: Path, test: float = 0.15, val: float = 0.0, seed: int = 0, group_by: str = "identity"
) -> SplitSummary:
    """Re-assign the splits of the dataset at ``dataset`` (folder or manifest) and rewrite its manifest."""
    frame = assign_splits(read_manifest(dataset), test, val, seed, group_by)
    folder = Path(dataset) if Path(dataset).is_dir() else Path(dataset).parent
    path = write_manifest(frame, folder)
    rows = []
    for (domain, split), part in frame.groupby(["domain", "split"], sort=True):
        rows.append((str(domain), str(split), int(part[group_by].nunique()), int(len(part))))
    return SplitSummary(path, group_by, tuple(rows))
