"""Issue #20: why does a cartoon driver move the output's head the wrong way vertically? Prints the evidence table.

Candidate causes, each probed with inputs whose vertical motion is known (``--only`` picks the letters):

(a) measurement: a still driver crop (cartoon and real) shifted up/down by a known number of pixels, and
    THA2's ``head_x`` sample (a pure nod, looking up near frame 30, down near frame 90: checked by eye),
    measured with the FaceMesh signals of ``bench motion`` (``y``, ``pitch``) and, independently, with
    optical flow (median vertical flow in the face box of frame 0);
(b) the model's cartoon path: the domain weights compared, and the same frames encoded as "cartoon" and
    "real" (any flip applied only to cartoons would show here);
(c) the learned motion space: the shifted stills drive a real source (pure translation, whole crop in the
    model); (n) the nod drives it, as whole frames and as animate's tracked crop (translation removed);
(d) the held-out cartoon->real pairs of ``bench motion``, the driver read as animate's tracked crop (what
    the bench does) and as whole frames; (e) the control: held-out real drivers, tracked crop, same rows.

    PYTHONPATH=$PWD python scripts/vertical_motion_probe.py ../shared/data [--weights DIR] [--frames 64]

r = Pearson correlation with the known motion (or with the driver's series); slope = least-squares gain
(signal units per pixel of shift, or per unit of the driver's series). About 20 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from toontalker.bench.frames import to_tensor
from toontalker.bench.motion_inputs import MotionPair, read_pair
from toontalker.bench.motion_signals import SIGNALS, detect_clip, mesh_box, signal_table
from toontalker.bench.quality import reenact_clip
from toontalker.faces.landmarks import FaceMesh
from toontalker.metrics.base import to_uint8

Y, PITCH = SIGNALS.index("y"), SIGNALS.index("pitch")
SIZE = 256
CARTOON_DRIVER, REAL_DRIVER = "yuuhi_riri", "dagan_driving.mp4"  # held-out identities (bench/motion_heldout.py)
REAL_SOURCE = "lia_taylor.png"
CARTOON_PAIRS = (
    ("yuuhi_riri", "lia_taylor.png"),
    ("yuuki_chihiro", "dualstylegan_019706.jpg"),
    ("yuukoku_robel", "liveportrait_s11.jpg"),
    ("yuzuki_choko", "tpsmm_source.png"),
)
REAL_PAIRS = (
    ("dagan_driving.mp4", "vtoonify_038648.jpg"),
    ("liax_driving2.mp4", "liveportrait_s1.jpg"),
    ("actalker_video.mp4", "jojogan_iu.jpeg"),
    ("fomm_08.mp4", "sadtalker_happy.png"),
)


def stats(truth: np.ndarray, measured: np.ndarray) -> tuple[float, float, int]:
    """(r, slope, frames) over the frames finite in both (N,) series; NaN when fewer than 3 or constant."""
    ok = np.isfinite(truth) & np.isfinite(measured)
    t, m = truth[ok], measured[ok]
    if ok.sum() < 3 or t.std() < 1e-9 or m.std() < 1e-9:
        return float("nan"), float("nan"), int(ok.sum())
    return float(np.corrcoef(t, m)[0, 1]), float(np.polyfit(t, m, 1)[0]), int(ok.sum())


def shifted(frame: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """frame (H, W, 3) uint8 moved down by each of ``offsets`` pixels (negative = up), edges replicated
    -> (N, H, W, 3)."""
    H, W = frame.shape[:2]
    out = [
        cv2.warpAffine(
            frame, np.float32([[1, 0, 0], [0, 1, dy]]), (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        for dy in offsets
    ]
    return np.stack(out)


def signals(frames: np.ndarray) -> tuple[np.ndarray, int]:
    """FaceMesh signal table (N, len(SIGNALS)) of frames (N, S, S, 3) in tracking mode, and frames found."""
    with FaceMesh(video=True) as mesh:
        marks = detect_clip(mesh, frames)
    return signal_table(marks, (frames.shape[2], frames.shape[1])), int(marks.detected.sum())


def flow_dy(frames: np.ndarray) -> np.ndarray:
    """(N, S, S, 3) -> (N,) median vertical optical flow (pixels, + = down) from frame 0 inside frame 0's face
    box (FaceMesh's box of frame 0; the central half of the image when none)."""
    with FaceMesh(video=False) as still:
        points = still.detect(frames[0])
    S = frames.shape[1]
    box = mesh_box(points, (S, S)) if points is not None else None
    x0, y0, x1, y1 = box or (S // 4, S // 4, 3 * S // 4, 3 * S // 4)
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    out = []
    for g in grey:
        flow = cv2.calcOpticalFlowFarneback(grey[0], g, None, 0.5, 4, 21, 3, 5, 1.1, 0)
        out.append(float(np.median(flow[y0:y1, x0:x1, 1])))
    return np.array(out)


def reenact(
    model: torch.nn.Module, source: np.ndarray, source_domain: str, driving: np.ndarray, driving_domain: str
) -> np.ndarray:
    """bench motion's reenactment (Eq. 5, frame 0 the reference): uint8 (N, S, S, 3)."""
    with torch.no_grad():
        out = reenact_clip(
            model, to_tensor(source), source_domain, to_tensor(driving), driving_domain=driving_domain, batch_size=16
        )
    return to_uint8(out)


HEADER = "| probe | measured | r | slope | frames | faces |\n| --- | --- | ---: | ---: | ---: | ---: |"


def row(
    table: list[dict], probe: str, what: str, truth: np.ndarray, measured: np.ndarray, found: int | str = ""
) -> None:
    """Add one line to ``table`` and print it at once (a full run takes many minutes on a CPU)."""
    r, slope, n = stats(truth, measured)
    add(table, {"probe": probe, "measured": what, "r": r, "slope": slope, "frames": n, "faces": found})


def add(table: list[dict], line: dict) -> None:
    table.append(line)
    print(
        f"| {line['probe']} | {line['measured']} | {line['r']:+.3f} | {line['slope']:+.4f} | {line['frames']} "
        f"| {line['faces']} |",
        flush=True,
    )


def pair_frames(root: Path, driver: str, source: str, frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A held-out cartoon->real pair: source crop (1, S, S, 3), animate's tracked driver crops and the whole
    driver frames resized (each (N, S, S, 3))."""
    from toontalker.bench.frames import read_frames

    driving = root / "cartoon/videos/tha2_characters" / f"{driver}.mp4"
    pair = MotionPair(
        source=root / "real/images" / source, driving=driving, source_domain="real", driving_domain="cartoon"
    )
    read = read_pair(pair, SIZE, frames)
    return read.source, read.driving, read_frames(driving, SIZE, count=frames)


def probe_measurement(root: Path, stills: dict[str, np.ndarray], offsets: np.ndarray, table: list[dict]) -> None:
    """(a) FaceMesh y / pitch on stills shifted by known offsets, and on THA2's head_x nod."""
    for name, frame in stills.items():
        sig, found = signals(shifted(frame, offsets))
        row(table, f"a: {name} still shifted", "FaceMesh y vs shift (px)", offsets, sig[:, Y], found)
        row(table, f"a: {name} still shifted", "FaceMesh pitch vs shift (px)", offsets, sig[:, PITCH], found)
    from toontalker.bench.frames import read_frames

    nod = read_frames(root / "cartoon/videos/tha2_motion_samples/souya_ichika_head_x.mp4", SIZE, count=120)
    truth = np.sin(2 * np.pi * np.arange(len(nod)) / 120)  # + = looking up (frames 30 up, 90 down, by eye)
    sig, found = signals(nod)
    row(table, "a: THA2 head_x nod (+ = up)", "FaceMesh pitch vs nod", truth, sig[:, PITCH], found)
    row(table, "a: THA2 head_x nod (+ = up)", "FaceMesh y vs nod", truth, sig[:, Y], found)
    row(table, "a: THA2 head_x nod (+ = up)", "flow dy (px) vs nod", truth, flow_dy(nod), "-")


def probe_domains(model: torch.nn.Module, driving: np.ndarray, table: list[dict]) -> None:
    """(b) are the cartoon and real paths the same computation? weights and codes compared."""
    state = model.state_dict()
    diff = max(
        float((v.float() - state[k.replace("domains.real.", "domains.cartoon.")].float()).abs().max())
        for k, v in state.items()
        if k.startswith("domains.real.")
    )
    with torch.no_grad():
        codes = {d: model.encode_driving(to_tensor(driving[:8]), d) for d in ("real", "cartoon")}
    code_diff = float((codes["real"] - codes["cartoon"]).abs().max())
    add(
        table,
        {
            "probe": "b: domain weights",
            "measured": "max abs(real - cartoon) parameter",
            "r": diff,
            "slope": float("nan"),
            "frames": 0,
            "faces": "",
        },
    )
    add(
        table,
        {
            "probe": "b: cartoon crop as both domains",
            "measured": "max abs(w_r2d real - cartoon)",
            "r": code_diff,
            "slope": float("nan"),
            "frames": 8,
            "faces": "",
        },
    )


def probe_model_shift(
    model: torch.nn.Module, source: np.ndarray, stills: dict[str, np.ndarray], offsets: np.ndarray, table: list[dict]
) -> None:
    """(c) a real source driven by the shifted stills (whole crop in the model, no tracking)."""
    for name, frame in stills.items():
        out = reenact(model, source, "real", shifted(frame, offsets), name)
        sig, found = signals(out)
        probe = f"c: {name} still shifted -> real source"
        row(table, probe, "output FaceMesh y vs shift (px)", offsets, sig[:, Y], found)
        row(table, probe, "output flow dy vs shift (px)", offsets, flow_dy(out), "-")
        row(table, probe, "output FaceMesh pitch vs shift (px)", offsets, sig[:, PITCH], found)


def nod_frames(root: Path, frames: int, tracked: bool) -> tuple[np.ndarray, np.ndarray]:
    """THA2's head_x nod, ``frames`` of its 120 evenly, as whole frames or animate's tracked crops, and the
    nod's known series (+1 looking up, -1 looking down)."""
    from toontalker.bench.frames import read_frames

    path = root / "cartoon/videos/tha2_motion_samples/souya_ichika_head_x.mp4"
    if tracked:
        pair = MotionPair(
            source=root / "real/images" / REAL_SOURCE, driving=path, source_domain="real", driving_domain="cartoon"
        )
        video = read_pair(pair, SIZE, 120).driving
    else:
        video = read_frames(path, SIZE, count=120)
    index = np.linspace(0, len(video) - 1, frames).round().astype(int)
    return video[index], np.sin(2 * np.pi * index / 120)


def probe_model_nod(root: Path, model: torch.nn.Module, source: np.ndarray, frames: int, table: list[dict]) -> None:
    """(c) a real source driven by THA2's nod, as whole frames and as animate's tracked crop."""
    for tracked in (False, True):
        nod, truth = nod_frames(root, frames, tracked)
        probe = f"c: THA2 nod ({'tracked crop' if tracked else 'whole frame'}) -> real source"
        _, d_found = signals(nod)
        row(table, probe, "driver flow dy vs nod", truth, flow_dy(nod), d_found)
        out = reenact(model, source, "real", nod, "cartoon")
        sig, found = signals(out)
        row(table, probe, "output FaceMesh pitch vs nod", truth, sig[:, PITCH], found)
        row(table, probe, "output FaceMesh y vs nod", truth, sig[:, Y], found)
        row(table, probe, "output flow dy vs nod", truth, flow_dy(out), "-")


def confounders(table: list[dict], probe: str, driver: np.ndarray, output: np.ndarray, found: str) -> None:
    """Rows: the output's y against the driver's other signals (which driver motion does the output's vertical
    motion follow?)."""
    eyes = (driver[:, SIGNALS.index("eye_right")] + driver[:, SIGNALS.index("eye_left")]) / 2
    others = {"eyes (mean)": eyes, **{name: driver[:, SIGNALS.index(name)] for name in ("mouth", "yaw", "roll")}}
    for name, series in others.items():
        row(table, probe, f"output y vs driver {name}", series, output[:, Y], found)


def probe_real_control(root: Path, model: torch.nn.Module, frames: int, table: list[dict]) -> None:
    """(e) the control: held-out real drivers (animate's tracked crop) -> real sources, the same rows as (d)."""
    for driver, source in REAL_PAIRS:
        pair = MotionPair(
            source=root / "real/images" / source,
            driving=root / "real/videos" / driver,
            source_domain="real",
            driving_domain="real",
        )
        read = read_pair(pair, SIZE, frames)
        d_sig, d_found = signals(read.driving)
        out = reenact(model, read.source, "real", read.driving, "real")
        o_sig, o_found = signals(out)
        probe = f"e: {Path(driver).stem} (tracked crop) -> {Path(source).stem}"
        row(table, probe, "driver flow dy vs driver y", flow_dy(read.driving), d_sig[:, Y], d_found)
        row(table, probe, "output y vs driver y", d_sig[:, Y], o_sig[:, Y], f"{d_found}/{o_found}")
        row(table, probe, "output pitch vs driver pitch", d_sig[:, PITCH], o_sig[:, PITCH], f"{d_found}/{o_found}")
        row(table, probe, "output flow dy vs driver flow dy", flow_dy(read.driving), flow_dy(out), "-")
        confounders(table, probe, d_sig, o_sig, f"{d_found}/{o_found}")


def probe_pairs(root: Path, model: torch.nn.Module, frames: int, table: list[dict]) -> None:
    """(d) held-out cartoon->real pairs, driver read as animate's tracked crop and as the whole frame."""
    for driver, source in CARTOON_PAIRS:
        src, tracked, whole = pair_frames(root, driver, source, frames)
        for crop, driving in (("tracked crop", tracked), ("whole frame", whole)):
            d_sig, d_found = signals(driving)
            out = reenact(model, src, "real", driving, "cartoon")
            o_sig, o_found = signals(out)
            probe = f"d: {driver} ({crop}) -> {Path(source).stem}"
            row(table, probe, "driver flow dy vs driver y", flow_dy(driving), d_sig[:, Y], d_found)
            row(table, probe, "output y vs driver y", d_sig[:, Y], o_sig[:, Y], f"{d_found}/{o_found}")
            row(table, probe, "output pitch vs driver pitch", d_sig[:, PITCH], o_sig[:, PITCH], f"{d_found}/{o_found}")
            row(table, probe, "output flow dy vs driver flow dy", flow_dy(driving), flow_dy(out), "-")
            confounders(table, probe, d_sig, o_sig, f"{d_found}/{o_found}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="the sample data folder (../shared/data)")
    parser.add_argument("--weights", default=None, help="weights folder (default: the shipped weights)")
    parser.add_argument("--frames", type=int, default=64, help="frames per reenactment")
    parser.add_argument("--amplitude", type=float, default=12.0, help="largest shift in pixels (at 256 px)")
    parser.add_argument("--only", default="abcnde", help="which probes to run: a b c n (the nod) d e")
    args = parser.parse_args()
    from toontalker.bench.runner import load_model
    from toontalker.weights.default import default_weights

    torch.set_num_threads(2)
    model = load_model(str(args.weights or default_weights()), "cpu").float()
    offsets = args.amplitude * np.sin(2 * np.pi * np.arange(args.frames) / args.frames)
    source, cartoon_tracked, _ = pair_frames(args.data, CARTOON_DRIVER, REAL_SOURCE, 2)  # the real source crop
    real_pair = MotionPair(
        source=args.data / "real/images" / REAL_SOURCE,
        driving=args.data / "real/videos" / REAL_DRIVER,
        source_domain="real",
        driving_domain="real",
    )
    real_read = read_pair(real_pair, SIZE, 2)
    stills = {"cartoon": cartoon_tracked[0], "real": real_read.driving[0]}
    table: list[dict] = []
    print(HEADER, flush=True)
    if "a" in args.only:
        probe_measurement(args.data, stills, offsets, table)
    if "b" in args.only:
        probe_domains(model, shifted(stills["cartoon"], offsets), table)
    if "c" in args.only:
        probe_model_shift(model, source, stills, offsets, table)
    if "n" in args.only:
        probe_model_nod(args.data, model, source, args.frames, table)
    if "d" in args.only:
        probe_pairs(args.data, model, args.frames, table)
    if "e" in args.only:
        probe_real_control(args.data, model, args.frames, table)


if __name__ == "__main__":
    main()
