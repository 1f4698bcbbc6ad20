"""Training checkpoints: periodic, atomic, keep-last-N, full state, each with a release-style export.

A checkpoint is a folder ``RUN/checkpoints/step-00001000/`` holding

* ``model.safetensors`` + ``config.json`` -- the ToonTalker weights alone (no discriminators), written by
  :func:`toontalker.weights.save_pretrained`: what ``toontalker weights convert`` and ``from_pretrained`` read;
* ``trainer_state.pt`` -- everything a bit-exact ``--resume`` needs: model and discriminator weights in
  fp32, both optimisers, the step, the RNG states of every process (python, numpy, torch, CUDA), the data
  stream position and dataset sizes, and the resolved recipe (read back with ``weights_only=True``);
* ``discriminator-<domain>.safetensors`` -- each domain's discriminator alone, in the export dtype: small
  enough to carry to another machine, so a later run can start from trained D_R/D_C (``init_discriminators``)
  instead of fresh ones (its feature-matching perceptual loss and L_adv are only as good as D);
* ``recipe.yaml`` -- the resolved recipe, for people.

The folder is written under a temporary name and renamed into place, so a crash never leaves a
half-written checkpoint; the newest complete one is what ``--resume`` and ``--init`` pick.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from toontalker.errors import TrainingError
from toontalker.io_utils import apply_default_mode, ensure_parent_writable

STATE_FILE = "trainer_state.pt"
DISCRIMINATOR_FILE = "discriminator-{domain}.safetensors"
BEST_DIR = "best"  # recipe keep_best: the exported weights of the best held-out evaluation, and best.json
BEST_RECORD = "best.json"
_STEP_DIR = re.compile(r"^step-(\d+)$")


def checkpoint_dir(run_dir: Path, step: int) -> Path:
    return run_dir / "checkpoints" / f"step-{step:08d}"


def list_checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints of a run, oldest first."""
    root = run_dir / "checkpoints"
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        match = _STEP_DIR.match(child.name)
        if match and (child / STATE_FILE).is_file():
            found.append((int(match.group(1)), child))
    return sorted(found)


def resolve_checkpoint(path: Path) -> Path:
    """A checkpoint folder, or a run folder (-> its newest checkpoint); TrainingError if there is none."""
    path = Path(path)
    if (path / STATE_FILE).is_file():
        return path
    found = list_checkpoints(path)
    if not found:
        raise TrainingError(f"{path}: no checkpoint found (expected {path}/checkpoints/step-*/{STATE_FILE})")
    return found[-1][1]


# -- RNG states ---------------------------------------------------------------------------------------------
def capture_rng_state() -> dict[str, Any]:
    """This process's RNG states as plain types and tensors (loadable with ``weights_only=True``)."""
    # the legacy tuple (get_state's default); numpy's stubs type the result as that tuple or a dict
    kind, keys, pos, has_gauss, cached = cast("tuple[str, np.ndarray, int, int, float]", np.random.get_state())
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        # This process's own GPU only: under torchrun every process sees all GPUs of its node, and a list
        # over all of them could not be restored on a machine with fewer.
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        cuda = state["cuda"]
        if isinstance(cuda, (list, tuple)):  # older checkpoints: one state per visible GPU
            current = torch.cuda.current_device()
            cuda = cuda[current] if current < len(cuda) else cuda[0]
        torch.cuda.set_rng_state(cuda)


def resume_rng_state(saved: list[dict[str, Any]], *, rank: int, world_size: int, seed: int, step: int) -> bool:
    """Set this process's RNG states for a run resumed at ``step``; True if they continue bit-exactly.

    ``saved`` holds one state per process of the run that wrote the checkpoint. With the same number of
    processes each takes its own (the resumed run continues exactly). With another number the per-process
    random streams cannot continue; every process is then seeded from ``(seed, step, rank)``: distinct per
    rank (two processes never draw the same warp pairs) and the same on a rerun. The data stream does not
    depend on these states (it is a function of ``(seed, position)``), only in-step draws such as warp pairs.
    """
    if len(saved) == world_size:
        restore_rng_state(saved[rank])
        return True
    derived = int(np.random.SeedSequence([seed, step, rank]).generate_state(1, dtype=np.uint64)[0])
    random.seed(derived)
    np.random.seed(derived % 2**32)
    torch.manual_seed(derived)
    return False


# -- save / load --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SavedCheckpoint:
    step: int
    path: Path


def save_checkpoint(
    run_dir: Path, step: int, trainer_state: dict[str, Any], export: Any, recipe_yaml: str, keep_last: int
) -> SavedCheckpoint:
    """Write ``step``'s checkpoint folder atomically, then prune to the newest ``keep_last``.

    ``export(folder)`` writes the release files (model.safetensors + config.json) into ``folder``.
    """
    final = checkpoint_dir(run_dir, step)

    def write(tmp: Path) -> None:
        export(tmp)
        torch.save(trainer_state, tmp / STATE_FILE)
        (tmp / "recipe.yaml").write_text(recipe_yaml, encoding="utf-8")

    _write_folder(final, write)
    for _, old_path in list_checkpoints(run_dir)[:-keep_last]:
        shutil.rmtree(old_path, ignore_errors=True)
    return SavedCheckpoint(step, final)


def _write_folder(final: Path, write: Callable[[Path], None]) -> None:
    """Fill a temporary sibling of ``final`` with ``write(folder)`` and rename it into place: a crash leaves the
    old folder or the new one, never a half-written one (``.``-prefixed leftovers go with remove_leftovers)."""
    ensure_parent_writable(final)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    apply_default_mode(tmp, directory=True)
    try:
        write(tmp)
        if final.exists():  # written again (a resumed run, a better score): swap, never leave neither
            old = final.with_name(f".{final.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def save_best(run_dir: Path, export: Callable[[Path], None], record: dict[str, Any]) -> Path:
    """Replace ``run_dir/best/`` atomically with ``export(folder)``'s files and ``best.json`` (``record``: the
    step, the score picked by and the held-out scores; recipe ``keep_best``)."""
    final = run_dir / BEST_DIR

    def write(tmp: Path) -> None:
        export(tmp)
        (tmp / BEST_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")

    _write_folder(final, write)
    return final


def read_best(run_dir: Path) -> dict[str, Any] | None:
    """``run_dir/best/best.json`` (what :func:`save_best` wrote), or None before the first one."""
    path = run_dir / BEST_DIR / BEST_RECORD
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TrainingError(f"{path}: unreadable ({exc}); remove the best/ folder to start picking afresh") from exc


def save_discriminators(discriminators: torch.nn.ModuleDict, folder: Path, dtype: torch.dtype | None) -> None:
    """Write each domain's discriminator to ``folder/discriminator-<domain>.safetensors`` (cast to ``dtype``)."""
    from safetensors.torch import save_file

    for domain, module in discriminators.items():
        state = {k: v.detach().to("cpu", dtype=dtype or v.dtype).contiguous() for k, v in module.state_dict().items()}
        save_file(state, str(folder / DISCRIMINATOR_FILE.format(domain=domain)))


def load_discriminators(discriminators: torch.nn.ModuleDict, folder: Path) -> None:
    """Load ``folder``'s ``discriminator-<domain>.safetensors`` into ``discriminators`` (strict, cast to each
    module's dtype). A domain without its file takes the real one's (stage 2 from stage-1 discriminators, as
    Sec. 3.3 initialises D_C from D_R)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    for domain, module in discriminators.items():
        path = folder / DISCRIMINATOR_FILE.format(domain=domain)
        if not path.is_file() and domain != "real":
            path = folder / DISCRIMINATOR_FILE.format(domain="real")
        if not path.is_file():
            raise TrainingError(f"{path}: no such discriminator file (init_discriminators names a checkpoint folder)")
        try:
            state = load_file(str(path))
            module.load_state_dict(state, strict=True)
        except (SafetensorError, RuntimeError) as exc:
            raise TrainingError(f"{path}: cannot load the {domain} discriminator ({exc})") from exc


def remove_leftovers(run_dir: Path) -> list[Path]:
    """Remove the hidden half-written checkpoint and best folders (``.step-*``, ``.best.*``) a killed run left in
    ``run_dir``. Call before a run starts writing checkpoints (only one process trains into a run folder)."""
    root = run_dir / "checkpoints"
    found = [p for p in root.glob(".step-*")] if root.is_dir() else []
    found += list(run_dir.glob(f".{BEST_DIR}.*")) if run_dir.is_dir() else []
    for path in found:
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    return found


def load_trainer_state(checkpoint: Path) -> dict[str, Any]:
    path = resolve_checkpoint(checkpoint) / STATE_FILE
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 -- report any unreadable checkpoint the same way
        raise TrainingError(f"{path}: cannot read checkpoint ({type(exc).__name__}: {exc})") from exc


def read_recipe(checkpoint: Path) -> dict[str, Any]:
    """The resolved recipe stored beside a checkpoint (cheap: reads ``recipe.yaml``, not the weights)."""
    import yaml

    path = resolve_checkpoint(checkpoint) / "recipe.yaml"
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TrainingError(f"{path}: cannot read the checkpoint's recipe ({exc})") from exc
