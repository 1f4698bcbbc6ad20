"""torchrun + DistributedDataParallel: 2 CPU processes (gloo) agree with 1 process on the same global batch."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch

from synthetic_clips import SyntheticPairs
from toontalker.train import TrainRecipe, train
from toontalker.train.checkpoint import list_checkpoints, load_trainer_state
from toontalker.train.distributed import DistInfo
from toontalker.train.trainer import Trainer

WORKER = Path(__file__).with_name("ddp_worker.py")
REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_ddp_equals_one_process(tmp_path: Path) -> None:
    # global batch 4: one process with 2 accumulated micro-batches of 2 == two processes with 2 each (the
    # discriminator's minibatch-stddev sees the same 2-image groups either way)
    common = {"iterations": 3, "batch_size": 4, "lambda_per": 0.0, "checkpoint_every": 3}
    single = TrainRecipe.for_stage("tiny", 1, grad_accum=2, **common)
    train(single, real=SyntheticPairs(4), out=tmp_path / "one", device="cpu", show_progress=False)

    multi = TrainRecipe.for_stage("tiny", 1, **common)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        str(_free_port()),
        str(WORKER),
        str(tmp_path / "two"),
        "1",
        json.dumps(multi.to_dict()),
    ]
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]

    one, two = load_trainer_state(tmp_path / "one"), load_trainer_state(tmp_path / "two")
    assert two["world_size"] == 2 and len(two["rng"]) == 2 and one["step"] == two["step"] == 3
    initial = Trainer(single, DistInfo())  # the same seeded initial weights both runs started from
    start = {
        **{f"g.{k}": v for k, v in initial.model.state_dict().items()},
        **{f"d.{k}": v for k, v in initial.discriminators["real"].state_dict().items()},
    }

    def flat(state: dict) -> dict[str, torch.Tensor]:
        return {
            **{f"g.{k}": v for k, v in state["model"].items()},
            **{f"d.{k}": v for k, v in state["discriminators"]["real"].items()},
        }

    a, b = flat(one), flat(two)
    delta_a = torch.cat([(a[k] - start[k]).flatten().double() for k in start])
    delta_b = torch.cat([(b[k] - start[k]).flatten().double() for k in start])
    assert delta_a.abs().max() > 1e-4  # training moved the weights
    # Same updates up to float summation order: Adam turns a rounding-level gradient (e.g. of attention key
    # biases, whose true gradient is 0) into an lr-sized step, so compare the update vectors as a whole.
    cosine = torch.nn.functional.cosine_similarity(delta_a, delta_b, dim=0).item()
    close = ((delta_a - delta_b).abs() <= 2e-5).double().mean().item()
    assert cosine > 0.999 and close > 0.999, (cosine, close)

    # stage 2 under DDP (both discriminators, the analogy passes) runs from the 2-process stage-1 run
    stage2 = TrainRecipe.for_stage("tiny", 2, iterations=2, batch_size=4, lambda_per=0.0)
    cmd = [
        *cmd[:8],
        str(_free_port()),
        str(WORKER),
        str(tmp_path / "two-s2"),
        "2",
        json.dumps(stage2.to_dict()),
        str(tmp_path / "two"),
    ]
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    s2 = load_trainer_state(tmp_path / "two-s2")
    assert s2["step"] == 2 and set(s2["discriminators"]) == {"real", "cartoon"}


def _torchrun(nproc: int, out: Path, recipe: TrainRecipe, *extra: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        str(nproc),
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        str(_free_port()),
        str(WORKER),
        str(out),
        "1",
        json.dumps(recipe.to_dict()),
        *extra,
    ]
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]


def _update(state: dict, start: dict[str, torch.Tensor]) -> torch.Tensor:
    params = {
        **{f"g.{k}": v for k, v in state["model"].items()},
        **{f"d.{k}": v for k, v in state["discriminators"]["real"].items()},
    }
    return torch.cat([(params[k] - start[k]).flatten().double() for k in start])


def test_resume_with_another_number_of_processes(tmp_path: Path) -> None:
    # 8 processes -> 1 process -> 2 processes, one step each, with grad_accum keeping the micro-batch at 1;
    # the result must equal one uninterrupted process running all three steps (8 accumulated micro-batches)
    common = {"batch_size": 8, "lambda_per": 0.0, "checkpoint_every": 1, "keep_last": 3}
    reference = TrainRecipe.for_stage("tiny", 1, grad_accum=8, iterations=3, **common)
    train(reference, real=SyntheticPairs(4), out=tmp_path / "ref", device="cpu", show_progress=False)

    run = tmp_path / "run"
    _torchrun(8, run, TrainRecipe.for_stage("tiny", 1, iterations=1, **common))
    one = train(
        reference.replace(iterations=2), real=SyntheticPairs(4), out=run, resume=True, device="cpu", show_progress=False
    )
    assert (one.start_step, one.step, one.world_size) == (1, 2, 1)
    _torchrun(2, run, reference.replace(grad_accum=4), "--resume")

    states = {step: load_trainer_state(path) for step, path in list_checkpoints(run)}
    assert [states[s]["world_size"] for s in (1, 2, 3)] == [8, 1, 2]
    assert [len(states[s]["rng"]) for s in (1, 2, 3)] == [8, 1, 2]
    assert [states[s]["stream"]["position"] for s in (1, 2, 3)] == [8, 16, 24]
    # the two processes after 1 -> 2 were reseeded apart (not both from the single saved state)
    assert not torch.equal(states[3]["rng"][0]["torch"], states[3]["rng"][1]["torch"])

    initial = Trainer(reference, DistInfo())
    start = {
        **{f"g.{k}": v for k, v in initial.model.state_dict().items()},
        **{f"d.{k}": v for k, v in initial.discriminators["real"].state_dict().items()},
    }
    delta_ref, delta_run = _update(load_trainer_state(tmp_path / "ref"), start), _update(states[3], start)
    assert delta_ref.abs().max() > 1e-4
    cosine = torch.nn.functional.cosine_similarity(delta_ref, delta_run, dim=0).item()
    close = ((delta_ref - delta_run).abs() <= 2e-5).double().mean().item()
    assert cosine > 0.999 and close > 0.999, (cosine, close)
