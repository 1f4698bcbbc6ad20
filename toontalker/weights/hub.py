"""The Hugging Face hub: hub ids, pull into the normal HF cache, a folder or hub id resolved, load, push.

``from_pretrained`` takes a folder or a hub id ``owner/name`` (``owner/name@revision`` pins a revision),
downloads through ``huggingface_hub`` into its normal cache, honours ``HF_HUB_OFFLINE=1``, bounds every
request by ``TOONTALKER_HUB_TIMEOUT`` (:mod:`toontalker.weights.timeouts`) and loads strictly
(:mod:`toontalker.weights.load`). Hub failures become one-line :class:`~toontalker.errors.WeightsError`\\ s.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import replace
from pathlib import Path

import torch

from toontalker.errors import InputError, UsageError, WeightsError
from toontalker.model.toontalker import ToonTalker
from toontalker.weights.card import CardInfo
from toontalker.weights.layout import HUB_FILES
from toontalker.weights.load import load_folder
from toontalker.weights.save import parse_dtype, save_pretrained
from toontalker.weights.timeouts import TIMEOUT_ENV, bound_hub_requests, hub_timeout, is_timeout

_HUB_ID = re.compile(r"(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+)(?:@(?P<revision>[\w./-]+))?")


def parse_hub_id(value: str) -> tuple[str, str | None] | None:
    """``owner/name[@revision]`` -> (repo_id, revision); None when ``value`` is not shaped like a hub id."""
    match = _HUB_ID.fullmatch(value)
    return (match.group("repo"), match.group("revision")) if match else None


def _hub_error(repo_id: str, revision: str | None, exc: Exception) -> WeightsError:
    from huggingface_hub import constants
    from huggingface_hub.errors import (
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    name = f"{repo_id}@{revision}" if revision else repo_id
    if is_timeout(exc):
        return WeightsError(
            f"{name}: the hub ({constants.ENDPOINT}) did not answer within {hub_timeout():g} s "
            f"(set {TIMEOUT_ENV} to wait longer, or HF_HUB_OFFLINE=1 to use the cache)"
        )
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
    return WeightsError(
        f"{name}: download failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    )


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
            allow_patterns=HUB_FILES,
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
            allow_patterns=HUB_FILES,
        )
    except (HfHubHTTPError, OSError) as exc:
        raise WeightsError(f"{repo_id}: upload failed: {type(exc).__name__}: {exc}") from exc
    return str(getattr(info, "commit_url", info))


def push_model(
    model: ToonTalker,
    repo_id: str,
    *,
    card: CardInfo | None = None,
    dtype: str | torch.dtype | None = None,
    max_shard_size: int | str = "2GB",
    revision: str | None = None,
    private: bool = False,
    commit_message: str = "Upload ToonTalker weights",
    token: str | None = None,
) -> str:
    """Save ``model`` to a temporary folder (``save_pretrained``; the card's usage names ``repo_id``) and
    ``push`` that folder; -> the commit URL."""
    card = replace(card or CardInfo(), repo_id=(card.repo_id if card else None) or repo_id)
    with tempfile.TemporaryDirectory(prefix="toontalker-push-") as folder:
        save_pretrained(model, folder, card=card, dtype=dtype, max_shard_size=max_shard_size)
        return push(folder, repo_id, revision=revision, private=private, commit_message=commit_message, token=token)
