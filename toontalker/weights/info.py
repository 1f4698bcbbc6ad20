"""``toontalker weights info``: what a weights folder or hub id holds, read from the headers plus the checks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from safetensors import SafetensorError, safe_open

from toontalker.errors import WeightsError
from toontalker.model.config import ModelConfig
from toontalker.weights.card import matching_preset
from toontalker.weights.hub import resolve_weights
from toontalker.weights.integrity import check_finite, verify_checksums
from toontalker.weights.layout import CONFIG_NAME, read_config, weight_files


@dataclass(frozen=True)
class WeightFile:
    name: str
    bytes: int


@dataclass(frozen=True)
class WeightsInfo:
    """What ``toontalker weights info`` shows; read from the headers, without building the model."""

    path: Path
    preset: str | None
    config: ModelConfig
    parameters: int
    tensors: int
    dtype: str
    files: tuple[WeightFile, ...]
    total_bytes: int
    finite: bool = True  # every floating tensor checked for NaN/Inf (a failure raises WeightsError)
    checksums: str = "none recorded"  # "verified": each file's sha256 matches config.json's


@dataclass
class _Tally:
    parameters: int = 0
    tensors: int = 0
    dtypes: frozenset[str] = frozenset()


def _scan(file: Path, tally: _Tally) -> None:
    """Count ``file``'s tensors and parameters into ``tally``; NaN/Inf or a broken file raise WeightsError."""
    try:
        with safe_open(str(file), framework="pt", device="cpu") as handle:
            for key in handle.keys():  # noqa: SIM118 - safe_open handles are not iterable
                piece = handle.get_slice(key)
                numel = 1
                for dim in piece.get_shape():
                    numel *= dim
                tally.parameters += numel
                tally.tensors += 1
                tally.dtypes |= {piece.get_dtype()}
                check_finite({key: handle.get_tensor(key)}, file)
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise WeightsError(f"{file}: corrupted safetensors file ({exc})") from exc


def weights_info(
    name_or_path: str | Path,
    revision: str | None = None,
    *,
    cache_dir: str | Path | None = None,
    endpoint: str | None = None,
) -> WeightsInfo:
    folder = resolve_weights(name_or_path, revision, cache_dir=cache_dir, endpoint=endpoint)
    config = read_config(folder / CONFIG_NAME)
    tally = _Tally()
    paths = weight_files(folder)
    for file in paths:
        _scan(file, tally)
    verified = verify_checksums(folder, paths, folder / CONFIG_NAME)
    files = tuple(
        WeightFile(p.name, p.stat().st_size)
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.startswith(".")
    )
    return WeightsInfo(
        path=folder,
        preset=matching_preset(config),
        config=config,
        parameters=tally.parameters,
        tensors=tally.tensors,
        dtype=",".join(sorted(tally.dtypes)),
        files=files,
        total_bytes=sum(f.bytes for f in files),
        checksums="verified" if verified else "none recorded",
    )
