"""`toontalker train` as a real process with DataLoader workers, stopped the ways people stop it: Ctrl-C in a
terminal and ``timeout --signal=INT`` (both signal the whole process group, workers included) and a job
scheduler's SIGTERM. Each must checkpoint the step reached, exit 130 (interrupted: README "Exit codes"),
and ``--resume`` must continue from it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shared_clips import import_clips
from toontalker.train.checkpoint import list_checkpoints

REPO_ROOT = Path(__file__).resolve().parents[2]
# Start the CLI with Python's own Ctrl-C handler, as from a terminal: a shell that runs pytest in the
# background hands its children SIGINT ignored, which would hide a worker that dies of Ctrl-C.
LAUNCH = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'toontalker'; runpy.run_module('toontalker', run_name='__main__')"
)
PREFETCHED = 2 * 4  # batches in flight: num_workers x the loader's prefetch_factor
STOPPED = re.compile(r"stop requested: checkpointed step (\d+); continue with --resume")


def _start(args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOONTALKER_DEBUG": "1"}
    with open(log, "w", encoding="utf-8") as out:  # stdout to a file, not a terminal (as in the bug report)
        return subprocess.Popen(
            [sys.executable, "-c", LAUNCH, *args],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _steps_logged(run: Path) -> int:
    metrics = run / "metrics.jsonl"
    lines = metrics.read_text().splitlines() if metrics.is_file() else []
    return json.loads(lines[-1])["step"] if lines else 0


def _wait_for_step(proc: subprocess.Popen, run: Path, step: int, log: Path, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while _steps_logged(run) < step:
        assert proc.poll() is None, f"training exited ({proc.returncode}) before step {step}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no step {step} after {timeout:.0f} s:\n{log.read_text()}"
        time.sleep(0.2)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _stop(proc: subprocess.Popen, sig: signal.Signals, log: Path) -> int:
    """Send ``sig`` to the whole process group; the step the run says it checkpointed."""
    os.killpg(proc.pid, sig)
    try:
        code = proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail(f"training did not exit within 90 s of {sig.name}:\n{log.read_text()}")
    text = log.read_text()
    assert code == 130, f"exit code {code} after {sig.name}:\n{text}"
    stopped = STOPPED.search(text)
    assert stopped, text
    return int(stopped.group(1))


@pytest.mark.slow
def test_group_sigint_and_sigterm_checkpoint_with_workers_and_resume(
    cli_runner, shared_data: Path, tmp_path: Path
) -> None:
    dataset = import_clips(cli_runner, shared_data, tmp_path, cartoon=False)
    run = tmp_path / "run"
    train = ["train", "--stage", "1", "--data", str(dataset), "--out", str(run), "--device", "cpu"]
    settings = ["--set", "num_workers=2", "--set", "iterations=100000", "--set", "checkpoint_every=0"]
    log = tmp_path / "first.log"
    proc = _start([*train, "--preset", "tiny", "--perceptual", "dfm", *settings], log)
    try:
        _wait_for_step(proc, run, 1, log)
        workers = _children(proc.pid)
        assert len(workers) == 2, workers
        # the workers' share of a process-group signal: they must leave stopping to the main process and
        # keep serving batches (before the fix they died of it and the loader broke)
        for pid in workers:
            os.kill(pid, signal.SIGINT)
            os.kill(pid, signal.SIGTERM)
        reached = _steps_logged(run)
        _wait_for_step(proc, run, reached + PREFETCHED + 1, log)  # past what was loaded before the signals
        assert sorted(_children(proc.pid)) == sorted(workers)
        stopped = _stop(proc, signal.SIGINT, log)  # Ctrl-C: the main process and its workers
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert [s for s, _ in list_checkpoints(run)] == [stopped]

    log = tmp_path / "resumed.log"
    proc = _start([*train, "--resume"], log)
    try:
        _wait_for_step(proc, run, stopped + 1, log)
        resumed_stop = _stop(proc, signal.SIGTERM, log)  # a job scheduler
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert f"resumed {run} at step {stopped}" in log.read_text()
    assert resumed_stop > stopped
    assert [s for s, _ in list_checkpoints(run)] == [stopped, resumed_stop]
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, resumed_stop + 1))  # every step once: the resumed run took over at `stopped`
