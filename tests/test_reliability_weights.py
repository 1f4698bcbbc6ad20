"""Weights faults (docs/reliability.md): NaN/Inf inside the tensor data with the header intact, a shard that
differs from its recorded sha256, and a hub that accepts the connection but never answers."""

from __future__ import annotations

import json
import shutil
import socket
import struct
import sys
import time
from pathlib import Path

import pytest
import torch

from toontalker.errors import WeightsError
from toontalker.model import ModelConfig, ToonTalker
from toontalker.weights import CHECKSUM_KEY, from_pretrained, load_folder, save_pretrained, weights_info

sys.path.insert(0, str(Path(__file__).parent))
from faults import make_driver, make_image, run_cli  # noqa: E402


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    return save_pretrained(ToonTalker(ModelConfig.from_name("tiny")).eval(), tmp_path_factory.mktemp("w") / "tiny")


def _flip_tensor_bytes(file: Path) -> None:
    """Overwrite 16 bytes in the middle of the tensor data with 0xFF (NaN in fp32); the header stays intact."""
    data = bytearray(file.read_bytes())
    start = 8 + struct.unpack("<Q", data[:8])[0]
    middle = start + (len(data) - start) // 2
    middle -= (middle - start) % 4
    data[middle : middle + 16] = b"\xff" * 16
    file.write_bytes(bytes(data))


def _damaged(weights_dir: Path, where: Path, keep_checksums: bool) -> Path:
    folder = Path(shutil.copytree(weights_dir, where))
    _flip_tensor_bytes(folder / "model.safetensors")
    if not keep_checksums:  # as in folders saved before checksums existed, or by other tools
        config = json.loads((folder / "config.json").read_text())
        del config[CHECKSUM_KEY]
        (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_save_records_sha256_and_info_verifies_it(weights_dir: Path) -> None:
    recorded = json.loads((weights_dir / "config.json").read_text())[CHECKSUM_KEY]
    assert list(recorded) == ["model.safetensors"] and len(recorded["model.safetensors"]) == 64
    info = weights_info(weights_dir)
    assert (info.checksums, info.finite) == ("verified", True)
    load_folder(weights_dir)


def test_nan_weights_without_checksums_fail_on_load_and_info(weights_dir: Path, tmp_path: Path) -> None:
    bad = _damaged(weights_dir, tmp_path / "nan", keep_checksums=False)
    with pytest.raises(WeightsError, match=r"nan/model.safetensors: tensor '.*' holds \d+ NaN/Inf"):
        from_pretrained(bad)
    with pytest.raises(WeightsError, match="NaN/Inf"):
        weights_info(bad)


def test_shard_that_differs_from_its_sha256_fails(weights_dir: Path, tmp_path: Path) -> None:
    bad = Path(shutil.copytree(weights_dir, tmp_path / "swapped"))
    state = {k: v.clone() for k, v in load_folder(weights_dir).state_dict().items()}
    first = next(k for k, v in state.items() if v.is_floating_point())
    state[first] += 1.0  # finite, well-formed, but not the file that was saved
    from safetensors.torch import save_file

    save_file(state, str(bad / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(WeightsError, match="sha256 differs"):
        load_folder(bad)
    with pytest.raises(WeightsError, match="sha256 differs"):
        weights_info(bad)


def test_cli_info_and_animate_refuse_nan_weights(weights_dir: Path, tmp_path: Path) -> None:
    bad = _damaged(weights_dir, tmp_path / "nan", keep_checksums=False)
    info = run_cli("weights", "info", bad)
    assert info.returncode == 1 and "NaN/Inf" in info.stderr, info.stdout + info.stderr
    source, driver = make_image(tmp_path / "s.png"), make_driver(tmp_path / "d.mp4", seconds=0.4, audio=False)
    out = tmp_path / "out.mp4"
    run = run_cli("animate", source, driver, "-o", out, "--weights", bad, "--no-crop", "--device", "cpu")
    assert run.returncode == 1 and "NaN/Inf" in run.stderr, run.stdout + run.stderr
    assert not out.exists()


@pytest.fixture()
def silent_hub():
    """An endpoint that accepts connections and never answers (a stuck proxy, a hub under load)."""
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for conn in accepted:
        conn.close()


@pytest.mark.parametrize("command", ["pull", "animate"])
def test_hub_that_never_answers_times_out(silent_hub: str, tmp_path: Path, command: str) -> None:
    env = {
        "HF_ENDPOINT": silent_hub,
        "HF_HUB_OFFLINE": "0",
        "HF_HOME": str(tmp_path / "hf"),
        "TOONTALKER_HUB_TIMEOUT": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }
    if command == "pull":
        args = ["weights", "pull", "owner/name"]
    else:
        source, driver = make_image(tmp_path / "s.png"), make_driver(tmp_path / "d.mp4", seconds=0.4, audio=False)
        args = [
            "animate",
            str(source),
            str(driver),
            "-o",
            str(tmp_path / "o.mp4"),
            "--weights",
            "owner/name",
            "--no-crop",
            "--device",
            "cpu",
        ]
    started = time.monotonic()
    run = run_cli(*args, timeout=150, **env)  # a hang fails here (TimeoutExpired)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "did not answer within 1 s" in run.stderr, run.stderr
    assert time.monotonic() - started < 150
