"""Model weights: ``save_pretrained`` / ``from_pretrained`` with safetensors + config.json, and the HF hub.

A weights folder holds

* ``config.json`` -- the :class:`~toontalker.model.ModelConfig` fields, plus ``model_type``, ``torch_dtype``
  and ``toontalker_version`` (ignored when reading; a plain ModelConfig JSON is also accepted);
* ``model.safetensors`` -- the ToonTalker state dict (both domains and the shared transformers, no
  discriminators), or, above ``max_shard_size``, ``model-0000i-of-0000n.safetensors`` shards plus
  ``model.safetensors.index.json`` (``{"metadata": {"total_size": N}, "weight_map": {key: file}}``);
* ``README.md`` -- the model card.

``from_pretrained`` takes a folder or a hub id ``owner/name`` (``owner/name@revision`` pins a revision),
downloads through ``huggingface_hub`` into its normal cache, honours ``HF_HUB_OFFLINE=1`` and loads strictly:
any missing or unexpected key, shape mismatch or corrupted file raises :class:`WeightsError`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from toontalker.errors import ConfigError, InputError, UsageError, WeightsError
from toontalker.hub_http import TIMEOUT_ENV, bound_hub_requests, hub_timeout, is_timeout
from toontalker.io_utils import apply_default_mode, ensure_parent_writable, remove_stale_temps, temp_prefix
from toontalker.model.config import ModelConfig
from toontalker.model.toontalker import ToonTalker
from toontalker.model_card import ModelCard, render_card
from toontalker.weights_integrity import CHECKSUM_KEY, check_finite, checksums, verify_checksums

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
INDEX_NAME = "model.safetensors.index.json"
CARD_NAME = "README.md"
CONFIG_METADATA_KEYS = ("model_type", "torch_dtype", "toontalker_version", CHECKSUM_KEY)
DTYPES: dict[str, torch.dtype] = {
    "fp32": torch.float32, "float32": torch.float32,
    "fp16": torch.float16, "float16": torch.float16,
    "bf16": torch.bfloat16, "bfloat16": torch.bfloat16,
}
DTYPE_NAMES = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}
_HUB_ID = re.compile(r"(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+)(?:@(?P<revision>[\w./-]+))?")
_SHARD = re.compile(r"model-\d{5}-of-\d{5}\.safetensors")


def parse_dtype(value: str | torch.dtype | None) -> torch.dtype | None:
    if value is None or isinstance(value, torch.dtype):
        return value
    if value not in DTYPES:
        raise UsageError(f"unknown dtype {value!r}; choose fp32, fp16 or bf16")
    return DTYPES[value]


def parse_size(value: int | str) -> int:
    """Bytes from an int or a string like '2GB', '15MiB', '500kB'."""
    if isinstance(value, int):
        size = value
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]i?[bB]|[bB])?\s*", value)
        if not match:
            raise UsageError(f"cannot read size {value!r}; write e.g. 2GB or 15MiB")
        unit = (match.group(2) or "B").lower()
        factor = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}[unit]
        size = int(float(match.group(1)) * factor)
    if size <= 0:
        raise UsageError(f"shard size must be positive, got {value!r}")
    return size


# -- saving ----------------------------------------------------------------------------------------------------
def _shards(state: Mapping[str, torch.Tensor], max_bytes: int) -> list[dict[str, torch.Tensor]]:
    shards: list[dict[str, torch.Tensor]] = [{}]
    used = 0
    for key, tensor in state.items():
        size = tensor.numel() * tensor.element_size()
        if shards[-1] and used + size > max_bytes:
            shards.append({})
            used = 0
        shards[-1][key] = tensor
        used += size
    return shards


def save_pretrained(
    model: ToonTalker,
    directory: str | Path,
    *,
    card: ModelCard | None = None,
    dtype: str | torch.dtype | None = None,
    max_shard_size: int | str = "2GB",
) -> Path:
    """Write config.json, model.safetensors (sharded above ``max_shard_size``) and README.md to ``directory``.

    ``dtype`` ('fp16', 'bf16', ...) casts floating tensors for release; default keeps the model's dtype.
    Files are written to a staging folder and moved into place, so a failure leaves no half-written set.
    """
    directory = Path(directory)
    target = parse_dtype(dtype)
    max_bytes = parse_size(max_shard_size)
    state = {
        key: (value.to(target) if target is not None and value.is_floating_point() else value).detach().cpu().contiguous()
        for key, value in model.state_dict().items()
    }
    stored = {DTYPE_NAMES.get(v.dtype, str(v.dtype)) for v in state.values() if v.is_floating_point()}
    dtype_name = ",".join(sorted(stored))
    shards = _shards(state, max_bytes)
    names = [WEIGHTS_NAME] if len(shards) == 1 else [
        f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors" for i in range(len(shards))
    ]
    ensure_parent_writable(directory / CONFIG_NAME)
    from toontalker import __version__

    remove_stale_temps(directory / "staging")  # what a killed save left
    staging = Path(tempfile.mkdtemp(prefix=temp_prefix(directory / "staging"), dir=directory))
    apply_default_mode(staging, directory=True)
    try:
        for name, shard in zip(names, shards):
            save_file(shard, str(staging / name), metadata={"format": "pt"})
        if len(shards) > 1:
            index = {
                "metadata": {"total_size": sum(t.numel() * t.element_size() for t in state.values())},
                "weight_map": {key: name for name, shard in zip(names, shards) for key in shard},
            }
            (staging / INDEX_NAME).write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
        config = {
            "model_type": "toontalker",
            "torch_dtype": dtype_name,
            "toontalker_version": __version__,
            **model.config.to_dict(),
            CHECKSUM_KEY: checksums(staging, names),
        }
        (staging / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        card_text = render_card(card or ModelCard(), model.config, model.parameter_counts(), dtype_name, names)
        (staging / CARD_NAME).write_text(card_text, encoding="utf-8")
        written = set(os.listdir(staging))
        for stale in directory.iterdir():  # weights of an earlier save with another sharding
            if stale.name not in written and (stale.name in (WEIGHTS_NAME, INDEX_NAME) or _SHARD.fullmatch(stale.name)):
                stale.unlink()
        for name in sorted(written, key=lambda n: n == CONFIG_NAME):  # config.json last
            os.replace(staging / name, directory / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


# -- reading -----------------------------------------------------------------------------------------------------
def read_config(path: str | Path) -> ModelConfig:
    """A ModelConfig from a weights/checkpoint ``config.json`` (metadata keys ignored; a nested ``model`` accepted)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: missing {CONFIG_NAME}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WeightsError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise WeightsError(f"{path}: expected a JSON object")
    if "image_size" not in data and isinstance(data.get("model"), dict):
        data = data["model"]
    data = {k: v for k, v in data.items() if k not in CONFIG_METADATA_KEYS}
    # weights saved before ``motion_skip`` existed have the paper's layout, whatever today's default is
    data.setdefault("motion_skip", False)
    try:
        return ModelConfig.from_dict(data)
    except ConfigError as exc:
        raise WeightsError(f"{path}: not a ToonTalker model config: {exc}") from exc


def weight_files(directory: Path) -> list[Path]:
    """The safetensors files of a weights folder (one file, or the shards named by the index)."""
    index = directory / INDEX_NAME
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
            names = sorted(set(weight_map.values()))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise WeightsError(f"{index}: corrupted shard index ({type(exc).__name__}: {exc})") from exc
        missing = [n for n in names if not (directory / n).is_file()]
        if missing:
            raise WeightsError(f"{index}: shard file(s) missing: {', '.join(missing)}")
        return [directory / n for n in names]
    single = directory / WEIGHTS_NAME
    if not single.is_file():
        raise WeightsError(f"{directory}: no {WEIGHTS_NAME} (or {INDEX_NAME}) found")
    return [single]


def read_state(directory: str | Path) -> dict[str, torch.Tensor]:
    """All tensors of a weights folder, on the CPU; corrupted files (a broken header, a NaN/Inf tensor) raise
    WeightsError naming them."""
    state: dict[str, torch.Tensor] = {}
    files = weight_files(Path(directory))
    for file in files:
        try:
            with safe_open(str(file), framework="pt", device="cpu") as handle:
                tensors = {key: handle.get_tensor(key) for key in handle.keys()}
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise WeightsError(f"{file}: corrupted safetensors file ({exc})") from exc
        check_finite(tensors, file)
        for key in tensors:
            if key in state:
                raise WeightsError(f"{file}: tensor {key!r} appears in more than one shard")
        state.update(tensors)
    return state


def _list(keys: list[str], limit: int = 5) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" (+{len(keys) - limit} more)" if len(keys) > limit else "")


def load_state_strict(model: ToonTalker, state: Mapping[str, torch.Tensor], where: str | Path) -> None:
    """Load ``state`` into ``model``; missing/unexpected keys or shape mismatches raise WeightsError."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing key(s): {_list(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s): {_list(unexpected)}")
        raise WeightsError(f"{where}: weights do not match the model: {'; '.join(parts)}")
    wrong = [k for k in expected if tuple(expected[k].shape) != tuple(state[k].shape)]
    if wrong:
        k = wrong[0]
        raise WeightsError(
            f"{where}: config mismatch: {len(wrong)} tensor(s) have other shapes than config.json implies, "
            f"e.g. {k} is {tuple(state[k].shape)} in the file but {tuple(expected[k].shape)} for the config"
        )
    model.load_state_dict(state, strict=True)


def load_folder(directory: str | Path) -> ToonTalker:
    """Build the model of ``directory/config.json`` and load its weights strictly (CPU, float32); every tensor
    must be finite and each file must match the sha256 config.json records for it (where it records one)."""
    directory = Path(directory)
    config = read_config(directory / CONFIG_NAME)
    model = ToonTalker(config)
    load_state_strict(model, read_state(directory), directory)
    verify_checksums(directory, weight_files(directory), directory / CONFIG_NAME)
    return model


# -- the hub -----------------------------------------------------------------------------------------------------
def parse_hub_id(value: str) -> tuple[str, str | None] | None:
    """``owner/name[@revision]`` -> (repo_id, revision); None when ``value`` is not shaped like a hub id."""
    match = _HUB_ID.fullmatch(value)
    return (match.group("repo"), match.group("revision")) if match else None


def _hub_error(repo_id: str, revision: str | None, exc: Exception) -> WeightsError:
    from huggingface_hub import constants
    from huggingface_hub.errors import (
        GatedRepoError, LocalEntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError,
    )

    name = f"{repo_id}@{revision}" if revision else repo_id
    if is_timeout(exc):
        return WeightsError(f"{name}: the hub ({constants.ENDPOINT}) did not answer within {hub_timeout():g} s "
                            f"(set {TIMEOUT_ENV} to wait longer, or HF_HUB_OFFLINE=1 to use the cache)")
    if isinstance(exc, RevisionNotFoundError):
        return WeightsError(f"{name}: revision {revision!r} not found on the hub")
    if isinstance(exc, GatedRepoError):
        return WeightsError(f"{name}: the repository is gated; log in (`hf auth login`) with access to it")
    if isinstance(exc, RepositoryNotFoundError):
        return WeightsError(f"{name}: repository not found on the hub (or private: log in with `hf auth login`)")
    if isinstance(exc, LocalEntryNotFoundError):
        if constants.is_offline_mode():
            return WeightsError(
                f"{name}: not in the Hugging Face cache ({constants.HF_HUB_CACHE}) and HF_HUB_OFFLINE=1 forbids "
                f"downloading; run `toontalker weights pull {name}` with network access first"
            )
        return WeightsError(f"{name}: cannot reach the hub and the weights are not cached ({type(exc).__name__})")
    return WeightsError(f"{name}: download failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")


def pull(
    repo_id: str, revision: str | None = None, *, cache_dir: str | Path | None = None, endpoint: str | None = None
) -> Path:
    """Download (or find in the cache) the weights of hub repo ``repo_id`` at ``revision``; -> local snapshot folder."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    bound_hub_requests()  # no request may wait forever (huggingface_hub sets no timeout on repo metadata)
    try:
        folder = snapshot_download(
            repo_id,
            revision=revision,
            cache_dir=str(cache_dir) if cache_dir is not None else None,
            endpoint=endpoint,
            allow_patterns=[CONFIG_NAME, CARD_NAME, "*.safetensors", INDEX_NAME],
        )
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError, ValueError) as exc:
        raise _hub_error(repo_id, revision, exc) from exc
    return Path(folder)


def resolve_weights(
    name_or_path: str | Path,
    revision: str | None = None,
    *,
    cache_dir: str | Path | None = None,
    endpoint: str | None = None,
) -> Path:
    """A local weights folder for a folder path or a hub id (downloading into the HF cache if needed)."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if revision is not None:
            raise UsageError(f"{path}: --revision applies to hub ids, not to local folders")
        return path
    if path.exists():
        raise InputError(f"{path}: weights must be a folder (config.json + model.safetensors), not a file")
    parsed = parse_hub_id(str(name_or_path))
    if parsed is None:
        raise InputError(f"{name_or_path}: no such folder, and not a hub id of the form owner/name[@revision]")
    repo_id, pinned = parsed
    if pinned and revision and pinned != revision:
        raise UsageError(f"{name_or_path}: revision given twice ({pinned!r} and {revision!r})")
    try:
        return pull(repo_id, revision or pinned, cache_dir=cache_dir, endpoint=endpoint)
    except WeightsError as exc:
        raise WeightsError(f"{exc} (and there is no local folder {str(name_or_path)!r})") from exc


def from_pretrained(
    name_or_path: str | Path,
    revision: str | None = None,
    *,
    device: str | torch.device = "cpu",
    dtype: str | torch.dtype | None = None,
    cache_dir: str | Path | None = None,
    endpoint: str | None = None,
) -> ToonTalker:
    """Load ToonTalker weights from a folder or a hub id (``owner/name[@revision]``), strictly, in eval mode."""
    folder = resolve_weights(name_or_path, revision, cache_dir=cache_dir, endpoint=endpoint)
    model = load_folder(folder)
    target = parse_dtype(dtype)
    model = model.to(device=device, dtype=target) if target is not None else model.to(device)
    return model.eval()


def push(
    directory: str | Path,
    repo_id: str,
    *,
    revision: str | None = None,
    private: bool = False,
    commit_message: str = "Upload ToonTalker weights",
    token: str | None = None,
) -> str:
    """Upload a weights folder (validated by loading it first) to hub repo ``repo_id``; -> the commit URL."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{directory}: not a folder")
    load_folder(directory)  # never publish weights that do not load
    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
        info = api.upload_folder(
            folder_path=str(directory),
            repo_id=repo_id,
            revision=revision,
            commit_message=commit_message,
            allow_patterns=[CONFIG_NAME, CARD_NAME, "*.safetensors", INDEX_NAME],
        )
    except (HfHubHTTPError, OSError) as exc:
        raise WeightsError(f"{repo_id}: upload failed: {type(exc).__name__}: {exc}") from exc
    return str(getattr(info, "commit_url", info))


def convert_checkpoint(
    checkpoint: str | Path,
    out_dir: str | Path,
    *,
    dtype: str | torch.dtype | None = None,
    card: ModelCard | None = None,
    max_shard_size: int | str = "2GB",
) -> Path:
    """A training checkpoint folder (model.safetensors + config.json) -> a release weights folder."""
    checkpoint = Path(checkpoint)
    if not checkpoint.is_dir():
        raise InputError(f"{checkpoint}: a training checkpoint is a folder with {WEIGHTS_NAME} and {CONFIG_NAME}")
    model = load_folder(checkpoint)
    return save_pretrained(model, out_dir, card=card, dtype=dtype, max_shard_size=max_shard_size)


# -- inspection ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WeightFile:
    name: str
    bytes: int


@dataclass(frozen=True)
class WeightsInfo:
    """What ``toontalker weights info`` shows; read from the headers, without loading tensors."""

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


def weights_info(
    name_or_path: str | Path, revision: str | None = None, *, cache_dir: str | Path | None = None,
    endpoint: str | None = None,
) -> WeightsInfo:
    from toontalker.model_card import matching_preset

    folder = resolve_weights(name_or_path, revision, cache_dir=cache_dir, endpoint=endpoint)
    config = read_config(folder / CONFIG_NAME)
    parameters = tensors = 0
    dtypes: set[str] = set()
    paths = weight_files(folder)
    for file in paths:
        try:
            with safe_open(str(file), framework="pt", device="cpu") as handle:
                for key in handle.keys():
                    piece = handle.get_slice(key)
                    numel = 1
                    for dim in piece.get_shape():
                        numel *= dim
                    parameters += numel
                    tensors += 1
                    dtypes.add(piece.get_dtype())
                    check_finite({key: handle.get_tensor(key)}, file)
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise WeightsError(f"{file}: corrupted safetensors file ({exc})") from exc
    verified = verify_checksums(folder, paths, folder / CONFIG_NAME)
    files = tuple(
        WeightFile(p.name, p.stat().st_size) for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")
    )
    return WeightsInfo(
        path=folder, preset=matching_preset(config), config=config, parameters=parameters, tensors=tensors,
        dtype=",".join(sorted(dtypes)), files=files, total_bytes=sum(f.bytes for f in files),
        checksums="verified" if verified else "none recorded",
    )
