"""Processes and signals (docs/reliability.md): exit codes of stopped runs, no orphans, no leftovers.
Every test runs the real command line as its own process and signals it as people and schedulers do."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from faults import TINY, ffmpeg, make_driver, make_image, popen_cli, run_cli  # noqa: E402


def _wait_for(condition, proc: subprocess.Popen, log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"exited ({proc.returncode}) too early:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"gave up after {timeout:.0f} s:\n{log.read_text()}"
        time.sleep(0.1)


def _finish(proc: subprocess.Popen, log: Path, timeout: float = 90.0) -> int:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail(f"still running {timeout:.0f} s after the signal:\n{log.read_text()}")


@pytest.fixture(scope="module")
def clip_dataset(tmp_path_factory) -> Path:
    """A real-domain dataset of two 64 px synthetic clips (``dataset import`` of ffmpeg test patterns)."""
    root = tmp_path_factory.mktemp("ds")
    for i, pattern in enumerate(("testsrc", "testsrc2")):
        (root / "src" / f"person{i}").mkdir(parents=True)
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            f"{pattern}=s=64x64:r=25:d=1",
            "-pix_fmt",
            "yuv420p",
            str(root / "src" / f"person{i}" / "clip.mp4"),
        )
    run = run_cli("dataset", "import", root / "src", root / "dataset", "--domain", "real", "--size", "64", "-q")
    assert run.returncode == 0, run.stderr
    return root / "dataset"


def _train_args(dataset: Path, out: Path, iterations: int) -> list[str]:
    return [
        "train",
        "--stage",
        "1",
        "--data",
        str(dataset),
        "--out",
        str(out),
        "--preset",
        "tiny",
        "--perceptual",
        "dfm",
        "--device",
        "cpu",
        "--set",
        f"iterations={iterations}",
        "--set",
        "num_workers=0",
        "--set",
        "checkpoint_every=0",
        "--set",
        "log_every=1",
    ]


def _steps(run: Path) -> list[int]:
    metrics = run / "metrics.jsonl"
    return [json.loads(line)["step"] for line in metrics.read_text().splitlines()] if metrics.is_file() else []


def test_train_stopped_by_sigterm_exits_130_and_a_finished_run_0(clip_dataset: Path, tmp_path: Path) -> None:
    """`train && weights convert` must not go on with a partial model: a stop is 130, not 0."""
    run, log = tmp_path / "run", tmp_path / "train.log"
    proc = popen_cli(*_train_args(clip_dataset, run, 100000), log=log)
    try:
        _wait_for(lambda: len(_steps(run)) >= 1, proc, log)
        proc.send_signal(signal.SIGTERM)
        code = _finish(proc, log)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    text = log.read_text()
    assert code == 130, f"exit {code}:\n{text}"
    assert "stopped early: continue with --resume" in text
    finished = run_cli(*_train_args(clip_dataset, tmp_path / "done", 1), "-q")
    assert finished.returncode == 0, finished.stderr


def _workers_of(pid: int) -> list[int]:
    """The pool worker processes (``multiprocessing.spawn``) whose parent is ``pid``."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and "spawn_main" in cmdline:
            found.append(int(proc.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_dataset_build_workers_die_with_a_killed_parent(tmp_path: Path, sig: signal.Signals) -> None:
    """`dataset build -j 2` killed (kill -9, the OOM killer, timeout): its workers must not keep writing
    clips into the dataset and hang afterwards."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for i in range(6):
        ffmpeg("-f", "lavfi", "-i", "testsrc=s=96x96:r=25:d=12", "-pix_fmt", "yuv420p", str(raw / f"v{i}.mp4"))
    out, log = tmp_path / "out", tmp_path / "build.log"
    proc = popen_cli(
        "dataset",
        "build",
        raw,
        out,
        "-j",
        "2",
        "--box",
        "0,0,96,96",
        "--scenes",
        "none",
        "--size",
        "32",
        "--min-frames",
        "1",
        "--format",
        "npy",
        log=log,
    )
    workers: list[int] = []
    try:
        _wait_for(
            lambda: len(_workers_of(proc.pid)) == 2 and (out / "clips").is_dir() and any((out / "clips").iterdir()),
            proc,
            log,
            timeout=240,
        )
        workers = _workers_of(proc.pid)
        proc.send_signal(sig)
        code = _finish(proc, log, timeout=30)
        deadline = time.monotonic() + 15
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.2)
        alive = [pid for pid in workers if _alive(pid)]
        assert not alive, f"workers {alive} outlived their parent ({sig.name}):\n{log.read_text()}"
        if sig == signal.SIGTERM:
            assert code == 130, log.read_text()
    finally:
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) if folder.is_dir() else []


def test_animate_sigterm_exits_130_and_sigkill_leftovers_are_removed_next_run(tmp_path: Path) -> None:
    source, driver = make_image(tmp_path / "src.png"), make_driver(tmp_path / "drv.mp4", seconds=60.0)
    outdir = tmp_path / "out"
    outdir.mkdir()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        log = tmp_path / f"{sig.name}.log"
        proc = popen_cli("animate", source, driver, "-o", outdir / "out.mp4", *TINY, log=log)
        try:
            _wait_for(lambda: bool(_hidden(outdir)), proc, log)  # the encoder's temporary file exists
            proc.send_signal(sig)
            code = _finish(proc, log)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        if sig == signal.SIGTERM:  # handled like Ctrl-C: cleaned up, 130
            assert code == 130, log.read_text()
            assert _hidden(outdir) == [] and not (outdir / "out.mp4").exists()
        else:  # nothing runs in a SIGKILLed process: the next run into the same place removes its leftovers
            assert len(_hidden(outdir)) == 1
            short = run_cli("animate", source, driver, "-o", outdir / "out.mp4", *TINY, "--max-frames", "5")
            assert short.returncode == 0, short.stderr
            assert _hidden(outdir) == [] and (outdir / "out.mp4").is_file()


def test_train_resume_after_sigkill_leaves_no_leftovers_or_duplicate_steps(clip_dataset: Path, tmp_path: Path) -> None:
    run, log = tmp_path / "run", tmp_path / "killed.log"
    args = _train_args(clip_dataset, run, 100000)
    args[args.index("checkpoint_every=0")] = "checkpoint_every=2"
    proc = popen_cli(*args, log=log)
    try:
        _wait_for(lambda: len(_steps(run)) >= 3, proc, log)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    from toontalker.train.checkpoint import list_checkpoints

    last = list_checkpoints(run)[-1][0]
    logged = _steps(run)
    assert max(logged) > last  # steps past the checkpoint were logged: the resumed run logs them again
    (run / "checkpoints" / f".step-{last + 2:08d}.half").mkdir()  # as a kill during a checkpoint write leaves
    end = max(logged) + 2
    resume = [
        "train",
        "--stage",
        "1",
        "--data",
        str(clip_dataset),
        "--out",
        str(run),
        "--device",
        "cpu",
        "--resume",
        "--set",
        f"iterations={end}",
        "-q",
    ]
    resumed = run_cli(*resume)
    assert resumed.returncode == 0, resumed.stderr
    assert _steps(run) == list(range(1, end + 1))  # every step once
    assert _hidden(run / "checkpoints") == []
    newest = sorted((run / "tb").glob("events.out.tfevents.*"), key=lambda p: p.stat().st_mtime)[-1]
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    purges = [e.step for e in EventFileLoader(str(newest)).Load() if e.HasField("session_log")]
    assert purges == [last + 1]  # TensorBoard drops the killed run's events from the resumed step on
