"""``dataset merge``: the folders of a sharded build (or any builds/imports) -> one dataset folder.

Per input folder, every finished video (its result in ``videos/<key>.json``) has its clips copied (or hard
linked) into OUT_DIR and then its result written, as a build would have written them, so the merged folder
equals one build over all the videos: same clip ids and paths, same manifest, the same ``build-<domain>.json``
(a later ``dataset build`` with the same options resumes it, skipping every merged video). A killed merge
loses nothing: a rerun skips the videos already merged.

Checks before anything is written: the builds of one domain used the same settings; the shards of a
sharded build are all there (``allow_partial`` merges what exists); no video appears in two inputs. Splits:
the inputs' splits are kept when every identity has one split across them; ``test``/``val`` re-split the
merged dataset by identity (the way to split a sharded build: shards are built without ``--test``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from toontalker.dataset.build import clean_leftovers, collect_results, result_to_json
from toontalker.dataset.manifest import MANIFEST_PARQUET, read_manifest, records_to_frame, write_manifest
from toontalker.dataset.pipeline import BuildConfig, VideoResult
from toontalker.dataset.shards import read_shard, shard_file
from toontalker.dataset.split import assign_splits
from toontalker.dataset.storage import remove_path
from toontalker.errors import InputError, UsageError
from toontalker.io_utils import atomic_write_text, ensure_parent_writable

MergeProgress = Callable[[VideoResult, int, int], None]


@dataclass(frozen=True)
class MergeSummary:
    """What a merge did: ``merged`` videos copied now, ``skipped`` already in OUT_DIR; totals of OUT_DIR."""

    out_dir: Path
    inputs: int
    videos: int
    merged: int
    skipped: int
    clips: int
    identities: int
    shards: tuple[str, ...]  # per sharded domain: "real: 8 of 8"
    resplit: bool
    manifest: Path | None


@dataclass(frozen=True)
class _Input:
    folder: Path
    results: dict[str, VideoResult]
    splits: dict[str, str]


def _settings(folders: Sequence[Path], out_dir: Path) -> dict[str, BuildConfig]:
    """The one build config per domain shared by all inputs (and OUT_DIR, if it holds one already)."""
    found: dict[str, tuple[Path, BuildConfig]] = {}
    for folder in [*folders, out_dir]:
        for file in sorted(folder.glob("build-*.json")):
            config = BuildConfig.load(file)
            if config.domain not in found:
                found[config.domain] = (file, config)
                continue
            first, other = found[config.domain]
            if other != config:
                changed = [k for k, v in config.to_dict().items() if other.to_dict().get(k) != v]
                raise UsageError(
                    f"{file} and {first}: {config.domain} builds with other settings "
                    f"({', '.join(changed)} differ); only builds with the same options merge"
                )
    return {domain: config for domain, (_, config) in found.items()}


def _check_shards(folders: Sequence[Path], domains: Sequence[str], allow_partial: bool) -> tuple[str, ...]:
    notes = []
    for domain in domains:
        held = {folder: read_shard(folder, domain) for folder in folders}
        shards = {f: s for f, s in held.items() if s is not None}
        if not shards:
            continue
        counts = {s.count for s in shards.values()}
        if len(counts) > 1:
            raise UsageError(
                f"{domain}: shards of different partitions ({', '.join(f'{f}: {s}' for f, s in shards.items())})"
            )
        count = counts.pop()
        seen: dict[int, Path] = {}
        for folder, shard in shards.items():
            if shard.index in seen:
                raise UsageError(f"{folder} and {seen[shard.index]} both hold {domain} shard {shard}")
            seen[shard.index] = folder
        missing = [f"{k}/{count}" for k in range(count) if k not in seen]
        if missing and not allow_partial:
            raise UsageError(
                f"{domain}: shard(s) {', '.join(missing)} not given; merge all shards, or allow a partial merge"
            )
        notes.append(f"{domain}: {len(seen)} of {count} shards")
    return tuple(notes)


def _read_input(folder: Path) -> _Input:
    results = collect_results(folder)
    splits: dict[str, str] = {}
    if (folder / MANIFEST_PARQUET).is_file() or (folder / "manifest.csv").is_file():
        frame = read_manifest(folder)
        splits = dict(zip(frame["id"], frame["split"]))
    return _Input(folder, results, splits)


def _place(src: Path, dst: Path, link: bool) -> None:
    """Copy (or hard-link, falling back to a copy across file systems) a clip file or frame folder to
    ``dst`` atomically: built under a hidden temporary name, renamed into place when complete."""
    tmp = dst.with_name(f".{dst.name}.merge")
    remove_path(tmp)

    def put(a: str, b: str) -> None:
        if link:
            try:
                os.link(a, b)
                return
            except OSError:
                pass
        shutil.copy2(a, b)

    if src.is_dir():
        shutil.copytree(src, tmp, copy_function=put)
    else:
        put(str(src), str(tmp))
    remove_path(dst)
    os.replace(tmp, dst)


def _merge_video(source: _Input, key: str, result: VideoResult, out_dir: Path, link: bool) -> None:
    for record in result.records:
        if Path(record.path).is_absolute():  # a clip registered in place stays where it is
            continue
        src = source.folder / record.path
        if not src.exists():
            raise InputError(f"{src}: clip {record.id} of {source.folder} is missing (verify that folder)")
        dst = out_dir / record.path
        ensure_parent_writable(dst)
        _place(src, dst, link)
    atomic_write_text(out_dir / "videos" / f"{key}.json", result_to_json(result))


def _splits(frame: pd.DataFrame, inputs: Sequence[_Input], out_dir: Path) -> pd.DataFrame:
    """The inputs' splits on the merged rows; UsageError if an identity would be in two splits."""
    known: dict[str, str] = {}
    if (out_dir / MANIFEST_PARQUET).is_file():
        previous = read_manifest(out_dir)
        known.update(zip(previous["id"], previous["split"]))
    for item in inputs:
        known.update(item.splits)
    frame = frame.copy()
    frame["split"] = [known.get(i, s) for i, s in zip(frame["id"], frame["split"])]
    per_identity = frame.groupby(["domain", "identity"])["split"].nunique()
    mixed = per_identity[per_identity > 1]
    if len(mixed):
        domain, identity = mixed.index[0]
        raise UsageError(
            f"{domain} identity {identity!r} is in several splits across the merged folders "
            f"({len(mixed)} such identities); re-split the merged dataset (test/val)"
        )
    return frame


def merge_datasets(
    inputs: Sequence[Path],
    out_dir: Path,
    *,
    link: bool = True,
    allow_partial: bool = False,
    test: float | None = None,
    val: float = 0.0,
    seed: int = 0,
    progress: MergeProgress | None = None,
) -> MergeSummary:
    """Merge the dataset folders ``inputs`` (shards of one build, or any builds/imports) into ``out_dir``."""
    folders = [Path(f) for f in inputs]
    out_dir = Path(out_dir)
    if not folders:
        raise UsageError("nothing to merge: give the dataset folders")
    for folder in folders:
        if not folder.is_dir():
            raise InputError(f"{folder}: not a folder")
        if folder.resolve() == out_dir.resolve() or folder.resolve() in out_dir.resolve().parents:
            raise UsageError(f"{out_dir}: the merged folder must not be (inside) the input {folder}")
    if len({f.resolve() for f in folders}) < len(folders):
        raise UsageError("a folder is given twice")
    configs = _settings(folders, out_dir)
    notes = _check_shards(folders, sorted(configs), allow_partial)
    for domain in configs:
        if read_shard(out_dir, domain) is not None:
            raise UsageError(f"{shard_file(out_dir, domain)}: {out_dir} is a shard build; merge into another folder")
    sources = [_read_input(f) for f in folders]
    owner: dict[str, Path] = {}
    for item in sources:
        for key in item.results:
            if key in owner:
                raise UsageError(f"video {item.results[key].rel} ({key}) is in both {owner[key]} and {item.folder}")
            owner[key] = item.folder

    ensure_parent_writable(out_dir / "videos" / "x")
    for config in configs.values():
        config.save(out_dir / f"build-{config.domain}.json")
    clean_leftovers(out_dir)
    done = collect_results(out_dir)
    todo = [
        (item, key, r)
        for item in sources
        for key, r in item.results.items()
        if key not in done or result_to_json(done[key]) != result_to_json(r)
    ]
    for n, (item, key, result) in enumerate(todo, 1):
        _merge_video(item, key, result, out_dir, link)
        if progress is not None:
            progress(result, n, len(todo))

    results = collect_results(out_dir)
    records = [r for result in results.values() for r in result.records]
    manifest = None
    identities = 0
    if records:
        frame = records_to_frame(records)
        frame = assign_splits(frame, test, val, seed) if test is not None else _splits(frame, sources, out_dir)
        manifest = write_manifest(frame, out_dir)
        identities = int(frame.groupby("domain")["identity"].nunique().sum())
    return MergeSummary(
        out_dir=out_dir,
        inputs=len(folders),
        videos=len(owner),
        merged=len(todo),
        skipped=len(owner) - len(todo),
        clips=len(records),
        identities=identities,
        shards=notes,
        resplit=test is not None,
        manifest=manifest,
    )
