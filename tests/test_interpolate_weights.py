"""scripts/interpolate_weights.py: per-part weight-space interpolation of two weights folders (docs/training.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

from toontalker.model import ModelConfig, ToonTalker
from toontalker.weights import from_pretrained, save_pretrained

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "interpolate_weights.py"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False)


def _mix(tmp_path: Path, seed: int, *alphas: str) -> tuple[dict, dict, dict]:
    """Two random tiny models A and B saved, mixed with the given alpha options: (A, B, mix) state dicts."""
    torch.manual_seed(seed)
    a, b = ToonTalker(ModelConfig.from_name("tiny")), ToonTalker(ModelConfig.from_name("tiny"))
    save_pretrained(a, tmp_path / "a")
    save_pretrained(b, tmp_path / "b")
    done = _run(str(tmp_path / "a"), str(tmp_path / "b"), str(tmp_path / "mix"), *alphas)
    assert done.returncode == 0, done.stderr
    return a.state_dict(), b.state_dict(), from_pretrained(tmp_path / "mix", dtype=torch.float32).state_dict()


def test_each_part_takes_its_own_alpha(tmp_path: Path) -> None:
    sa, sb, mixed = _mix(tmp_path, 0, "--alpha-real", "0", "--alpha-cartoon", "1", "--alpha-shared", "0.5")
    seen = {"real": 0, "cartoon": 0, "shared": 0}
    for name, value in mixed.items():
        if not value.is_floating_point():
            continue
        part = "real" if ".real." in name else "cartoon" if ".cartoon." in name else "shared"
        expected = {"real": sa[name], "cartoon": sb[name], "shared": (sa[name] + sb[name]) / 2}[part]
        torch.testing.assert_close(value, expected.half().float(), rtol=0, atol=1e-3)  # written in fp16
        seen[part] += 1
    assert all(seen.values()), seen
    assert any(not torch.equal(sa[k], sb[k]) for k in sa)  # the two inputs differ, so the test can fail


def test_different_model_configs_are_refused(tmp_path: Path) -> None:
    save_pretrained(ToonTalker(ModelConfig.from_name("tiny")), tmp_path / "a")
    other = ModelConfig.from_name("tiny").with_overrides(["sft=false"])
    save_pretrained(ToonTalker(other), tmp_path / "b")
    done = _run(str(tmp_path / "a"), str(tmp_path / "b"), str(tmp_path / "mix"))
    assert done.returncode != 0 and "different model configs" in done.stderr
    assert not (tmp_path / "mix").exists()


def test_alpha_motion_takes_the_motion_path_from_one_side(tmp_path: Path) -> None:
    """v3r-style start: A's real renderer (Ea, T_B, G), everything else (both motion paths, shared, cartoon) B's."""
    alphas = ("--alpha-real", "0", "--alpha-cartoon", "1", "--alpha-shared", "1", "--alpha-motion", "1")
    sa, sb, mixed = _mix(tmp_path, 1, *alphas)
    motion = {name for name, _ in ToonTalker(ModelConfig.from_name("tiny")).named_part_parameters("motion")}
    assert any(".real.motion_encoder." in n for n in motion) and any(n.startswith("source_query.") for n in motion)
    from_a = [n for n in mixed if n.startswith("domains.real.") and n not in motion and mixed[n].is_floating_point()]
    assert from_a and all(
        ".appearance_encoder." in n or ".backward_transformer." in n or ".generator." in n for n in from_a
    )
    for name, value in mixed.items():
        if value.is_floating_point():
            expected = sa[name] if name in from_a else sb[name]
            torch.testing.assert_close(value, expected.half().float(), rtol=0, atol=1e-3)


def test_copy_real_to_cartoon_makes_the_cartoon_domain_the_mixed_real_one(tmp_path: Path) -> None:
    """How v4 was put together: A's renderers, B's motion path, then cartoon := real (both halves of real mixed)."""
    alphas = ("--alpha-real", "0", "--alpha-cartoon", "0", "--alpha-shared", "1", "--alpha-motion", "1")
    sa, sb, mixed = _mix(tmp_path, 2, *alphas, "--copy-real-to-cartoon")
    cartoon = [n for n in mixed if n.startswith("domains.cartoon.")]
    assert cartoon
    for name in cartoon:
        real = "domains.real." + name.removeprefix("domains.cartoon.")
        assert torch.equal(mixed[name], mixed[real])
    encoder = [n for n in cartoon if ".motion_encoder." in n and mixed[n].is_floating_point()]
    generator = [n for n in cartoon if ".generator." in n and mixed[n].is_floating_point()]
    assert encoder and generator
    for name in encoder:  # the real motion encoder came from B, so the cartoon one is B's real one now
        torch.testing.assert_close(
            mixed[name], sb[name.replace(".cartoon.", ".real.")].half().float(), rtol=0, atol=1e-3
        )
    for name in generator:  # the real renderer came from A
        torch.testing.assert_close(
            mixed[name], sa[name.replace(".cartoon.", ".real.")].half().float(), rtol=0, atol=1e-3
        )
