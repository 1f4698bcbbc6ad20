"""Unit tests of animate's parts: pipeline threads, box tracking/smoothing, compositing, sinks."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch

from toontalker.animation.compose import PasteBack, feather_mask, side_by_side, to_model_tensor, to_uint8_frames
from toontalker.animation.driving import track_and_crop
from toontalker.animation.pipeline import run_pipeline
from toontalker.animation.sinks import ImageSink, PngSequenceSink, output_kind
from toontalker.errors import ConfigError, UsageError
from toontalker.faces import Box
from toontalker.faces.tracking import ANIMATE_TRACKING, DATASET_TRACKING, BoxSmoother, FaceTrackState, TrackConfig


def test_pipeline_keeps_order_and_runs_stages_on_threads():
    seen, threads = [], set()

    def infer(x):
        threads.add(("infer", threading.current_thread().name))
        return x * 10

    def consume(y):
        threads.add(("consume", threading.current_thread().name))
        seen.append(y)

    assert run_pipeline(iter(range(50)), infer, consume, depth=2).items == 50
    assert seen == [i * 10 for i in range(50)]
    assert ("infer", threading.main_thread().name) in threads
    assert ("consume", "toontalker-encode") in threads


def test_pipeline_reports_each_stages_busy_time():
    def slow(seconds):
        def stage(x):
            time.sleep(seconds)
            return x

        return stage

    run = run_pipeline(map(slow(0.004), range(20)), slow(0.0), slow(0.008), depth=2)
    assert run.items == 20
    assert run.produce_seconds >= 20 * 0.004 and run.consume_seconds >= 20 * 0.008
    assert run.infer_seconds < run.produce_seconds < run.consume_seconds


@pytest.mark.parametrize("where", ["produce", "infer", "consume"])
def test_pipeline_reraises_an_error_from_any_stage(where):
    def produce():
        for i in range(100):
            if where == "produce" and i == 7:
                raise ValueError("boom in produce")
            yield i

    def infer(x):
        if where == "infer" and x == 7:
            raise ValueError("boom in infer")
        return x

    def consume(y):
        if where == "consume" and y == 7:
            raise ValueError("boom in consume")

    with pytest.raises(ValueError, match=f"boom in {where}"):
        run_pipeline(produce(), infer, consume, depth=2)


def test_box_smoother_keeps_count_and_removes_jitter():
    rng = np.random.default_rng(0)
    truth = [Box(100 + t, 100, 200 + t, 200) for t in range(60)]
    noisy = [
        Box(b.x0 + rng.normal(0, 4), b.y0 + rng.normal(0, 4), b.x1 + rng.normal(0, 4), b.y1 + rng.normal(0, 4))
        for b in truth
    ]
    smoother = BoxSmoother(lookahead=4)
    out = [s for b in noisy for s in smoother.push(b)] + smoother.flush()
    assert len(out) == 60

    def err(boxes):
        return np.mean([abs(a.center[0] - b.center[0]) + abs(a.width - b.width) for a, b in zip(boxes, truth)][5:-5])

    assert err(out) < 0.6 * err(noisy)  # centred: no lag on a linear motion, less noise


def test_box_smoother_with_no_lookahead_is_identity():
    smoother = BoxSmoother(lookahead=0)
    box = Box(1, 2, 11, 12)
    (out,) = smoother.push(box)
    assert out.center == box.center and out.width == box.width


def test_track_holds_the_last_box_when_lost_and_reacquires_after_a_cut():
    state = FaceTrackState(config=TrackConfig(min_iou=0.1, nested_centres=False, patience=2))
    a, b = Box(0, 0, 10, 10), Box(100, 100, 110, 110)
    assert state.update([a]) == (a, False)
    assert state.update([]) == (a, True)  # lost: hold
    assert state.update([b]) == (a, True)  # another face elsewhere: not yet
    assert state.update([b]) == (a, True)
    assert state.update([b]) == (b, False)  # third disagreement in a row: re-acquire


def test_animate_tracking_keeps_any_overlap_and_reacquires_at_the_fifth_disagreement():
    a, shifted, far = Box(0, 0, 10, 10), Box(7, 0, 17, 10), Box(100, 100, 110, 110)
    assert ANIMATE_TRACKING.match([shifted], a) == shifted  # IoU 0.18: the same face for animate ...
    assert DATASET_TRACKING.match([shifted], a) is None  # ... not for dataset build (IoU >= 0.3 or nested)
    state = FaceTrackState()
    assert state.config == ANIMATE_TRACKING and state.update([a]) == (a, False)
    for _ in range(4):
        assert state.update([far]) == (a, True)
    assert state.update([far]) == (far, False)


class _FakeDetector:
    """Finds a face in frames whose mean is bright (the unit under test is the tracker)."""

    name = "fake"

    def __init__(self):
        self.calls = 0

    def detect(self, rgb):
        self.calls += 1
        return [Box(10, 10, 30, 30)] if rgb.mean() > 100 else []


def test_track_and_crop_streams_batches_with_lost_frames():
    frames = np.zeros((23, 48, 64, 3), np.uint8)
    frames[:10] = 200  # a "face" in the first 10 frames, none afterwards
    detector = _FakeDetector()
    batches = list(track_and_crop(iter(np.array_split(frames, 5)), detector, 32, batch_size=8, lookahead=2))
    assert [len(b) for b in batches] == [8, 8, 7]
    assert [b.start for b in batches] == [0, 8, 16]
    assert all(b.crops.shape[1:] == (32, 32, 3) for b in batches)
    lost = [x for b in batches for x in b.lost]
    assert lost == [False] * 10 + [True] * 13
    assert all(box == batches[0].boxes[0] for b in batches for box in b.boxes)  # held box, no drift
    assert detector.calls == 23


def test_track_and_crop_detect_every_and_no_crop():
    frames = np.full((10, 40, 40, 3), 200, np.uint8)
    detector = _FakeDetector()
    list(track_and_crop(iter([frames]), detector, 16, batch_size=4, detect_every=3))
    assert detector.calls == 4  # frames 0, 3, 6, 9
    (batch,) = list(track_and_crop(iter([frames[:3]]), None, 16, batch_size=4))
    assert batch.crops.shape == (3, 16, 16, 3) and batch.boxes[0].as_tuple() == (0, 0, 40, 40)


def test_tensor_round_trip_is_exact():
    import torch

    frames = np.random.default_rng(1).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    x = to_model_tensor(frames, torch.device("cpu"))
    assert x.shape == (2, 3, 8, 8) and float(x.min()) >= -1 and float(x.max()) <= 1
    assert np.array_equal(to_uint8_frames(x), frames)


def test_feather_mask_is_one_inside_and_falls_to_zero_at_edges():
    m = feather_mask(100, 0.1)
    assert m.shape == (100, 100) and m[50, 50] == 1.0
    assert m[0, 50] == 0.0 and 0 < m[5, 50] < 1


def test_paste_back_output_has_source_size_and_leaves_outside_untouched():
    bg = np.full((120, 90, 3), 50, np.uint8)
    crops = np.full((2, 32, 32, 3), 250, np.uint8)
    out = PasteBack(bg, Box(-10, 20, 50, 80))(crops)  # box sticks out on the left
    assert out.shape == (2, 120, 90, 3)
    assert (out[:, :20] == 50).all() and (out[:, 80:] == 50).all() and (out[:, :, 50:] == 50).all()
    assert out[0, 50, 20, 0] > 240  # centre of the box: the face


def test_side_by_side_panels_match_height():
    src = np.zeros((100, 50, 3), np.uint8)
    out = side_by_side(src, np.zeros((3, 64, 64, 3), np.uint8), np.zeros((3, 64, 64, 3), np.uint8))
    assert out.shape == (3, 64, 32 + 64 + 64, 3)


def test_output_kind_by_suffix(tmp_path):
    assert output_kind(tmp_path / "a.mp4") == "video"
    assert output_kind(tmp_path / "a.gif") == "gif"
    assert output_kind(tmp_path / "a.png") == "image"
    assert output_kind(tmp_path / "frames") == "png-sequence"
    with pytest.raises(UsageError, match="unknown output type"):
        output_kind(tmp_path / "a.xyz")


def test_png_sequence_is_atomic(tmp_path):
    target = tmp_path / "frames"
    frames = np.zeros((3, 8, 8, 3), np.uint8)
    with pytest.raises(RuntimeError), PngSequenceSink(target) as sink:
        sink.write(frames)
        raise RuntimeError("crash mid-way")
    assert list(tmp_path.iterdir()) == []  # nothing half-written, no temp folder left
    with PngSequenceSink(target) as sink:
        sink.write(frames)
    assert sorted(p.name for p in target.iterdir()) == ["000000.png", "000001.png", "000002.png"]
    with PngSequenceSink(target) as sink:  # replacing an existing sequence
        sink.write(frames[:1])
    assert sorted(p.name for p in target.iterdir()) == ["000000.png"]
    assert [p.name for p in tmp_path.iterdir()] == ["frames"]


def test_image_sink_refuses_many_frames(tmp_path):
    with pytest.raises(UsageError, match="holds one frame"), ImageSink(tmp_path / "a.png") as sink:
        sink.write(np.zeros((2, 8, 8, 3), np.uint8))
    assert not (tmp_path / "a.png").exists()


def test_driver_panel_view_has_no_black_band_where_the_crop_runs_past_the_frame():
    from toontalker.animation.driving import view_box

    frames = np.full((6, 48, 64, 3), 200, np.uint8)  # a bright frame; the face box sits at its top-left corner
    detector = _FakeDetector()
    (batch,) = list(
        track_and_crop(iter([frames]), detector, 32, batch_size=8, crop_scale=2.2, lookahead=1, keep_views=True)
    )
    assert batch.views is not None and batch.views.shape == batch.crops.shape == (6, 32, 32, 3)
    assert (batch.crops[0] == 0).all(axis=-1).any()  # the model's crop is padded with black past the edge
    assert batch.views.min() > 150  # the panel shows only real pixels
    box = batch.boxes[0]
    view = view_box(box, 64, 48)
    assert (view.x0, view.y0) == (0.0, 0.0) and view.width == box.width  # moved inside, same size
    big = view_box(Box(-40, -40, 80, 80), 64, 48)  # larger than the frame: shrunk to fit
    assert big.as_tuple()[:4] == (0.0, 0.0, 48.0, 48.0)
    (plain,) = list(track_and_crop(iter([frames]), detector, 32, batch_size=8))
    assert plain.views is None


class _PositionDetector:
    """A face wherever the frame's bright square is (so boxes differ from frame to frame)."""

    name = "position"

    def detect(self, rgb):
        ys, xs = np.nonzero(rgb[..., 0] > 100)
        return [Box(xs.min(), ys.min(), xs.max() + 1, ys.max() + 1, 0.9)] if len(xs) else []


def test_track_and_crop_on_a_pool_of_threads_equals_inline():
    from toontalker.animation.frame_pool import FramePool

    rng = np.random.default_rng(0)
    frames = rng.integers(0, 60, (37, 64, 80, 3), dtype=np.uint8)
    for t, frame in enumerate(frames):  # a face moving right and growing; gone in frames 20-24
        if not 20 <= t < 25:
            frame[10 : 30 + t // 4, 5 + t : 25 + t + t // 4] = 220

    def run(pool):
        return list(
            track_and_crop(
                iter(np.array_split(frames, 6)),
                _PositionDetector(),
                24,
                batch_size=8,
                detect_every=2,
                lookahead=2,
                keep_views=True,
                pool=pool,
            )
        )

    inline = run(None)
    with FramePool(3, make_detector=_PositionDetector) as pool:
        threaded = run(pool)
    assert [len(b) for b in threaded] == [len(b) for b in inline] == [8, 8, 8, 8, 5]
    assert len({b for batch in inline for b in batch.boxes}) > 10  # the box moves
    for a, b in zip(inline, threaded):
        assert (a.start, a.boxes, a.lost) == (b.start, b.boxes, b.lost)
        assert np.array_equal(a.crops, b.crops) and np.array_equal(a.views, b.views)


def test_frame_pool_gives_each_thread_its_own_detector():
    from toontalker.animation.frame_pool import FramePool

    made = []

    def make():
        made.append(threading.current_thread().name)
        return _PositionDetector()

    frame = np.zeros((16, 16, 3), np.uint8)
    frame[4:8, 4:8] = 200
    with FramePool(2, make_detector=make) as pool:
        results = [f.result() for f in [pool.detect(frame) for _ in range(40)]]
    assert all(r == [Box(4, 4, 8, 8, 0.9)] for r in results)
    assert 1 <= len(made) <= 2 and len(set(made)) == len(made)  # at most one per thread
    assert all(name.startswith("toontalker-frames") for name in made)
    with pytest.raises(ValueError, match="workers"):
        FramePool(-1)


def test_pending_frames_equal_the_direct_conversion():
    from toontalker.animation.compose import PendingFrames

    x = torch.rand(3, 3, 8, 8) * 2.4 - 1.2  # past [-1, 1] too
    expected = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    assert np.array_equal(PendingFrames(x).result(), expected)
    low = x.to(torch.bfloat16)  # a bf16 output (autocast) converts from its own values
    expected_low = ((low.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    assert np.array_equal(PendingFrames(low).result(), expected_low)


def test_causal_box_smoother_averages_without_look_ahead():
    from toontalker.faces.tracking import CausalBoxSmoother

    smoother = CausalBoxSmoother(0.5)
    assert smoother.push(Box(0, 0, 10, 10)) == Box(0, 0, 10, 10)  # the first box as it is
    assert smoother.push(Box(20, 0, 30, 10)) == Box(10, 0, 20, 10)  # halfway to the newest
    assert CausalBoxSmoother(1.0).push(Box(0, 0, 10, 20)) == Box(-5, 0, 15, 20)  # centre and longer side
    with pytest.raises(ConfigError, match="smoothing weight"):
        CausalBoxSmoother(0.0)
