"""faces/: boxes, crops, tracking (unit), and the offline detectors on ../shared/data (end to end)."""

from __future__ import annotations

import numpy as np
import pytest

from toontalker.errors import BackendUnavailableError, UsageError
from toontalker.faces import (
    DATASET_TRACKING,
    Box,
    TrackConfig,
    crop_resize,
    get_detector,
    smooth_boxes,
    square_box,
    stable_box,
    track_boxes,
)
from toontalker.faces.detectors import BACKENDS, S3fdDetector


def test_box_iou_and_parse():
    a, b = Box(0, 0, 10, 10), Box(5, 0, 15, 10)
    assert a.iou(b) == pytest.approx(50 / 150)
    assert a.iou(Box(20, 20, 30, 30)) == 0.0
    assert Box.parse("1,2,30,40").as_tuple() == (1, 2, 30, 40)
    with pytest.raises(UsageError, match="X0,Y0,X1,Y1"):
        Box.parse("30,2,1,40")
    assert Box.parse(" 1, 2 30 40").as_tuple() == (1, 2, 30, 40)  # commas and/or spaces
    with pytest.raises(ValueError):
        Box(5, 5, 5, 10)


def test_square_box_centres_caps_and_keeps_inside():
    sq = square_box(Box(40, 40, 60, 80), 2.0, 200, 200)
    assert sq.width == pytest.approx(80) and sq.height == pytest.approx(80)
    assert sq.center == pytest.approx((50, 60))
    edge = square_box(Box(0, 0, 20, 20), 2.0, 100, 100)  # would stick out: shifted inside
    assert (edge.x0, edge.y0) == (0, 0) and edge.width == pytest.approx(40)
    free = square_box(Box(0, 0, 20, 20), 2.0, 100, 100, keep_inside=False)
    assert free.x0 == pytest.approx(-10)
    capped = square_box(Box(0, 0, 90, 60), 3.0, 100, 60)
    assert capped.width == pytest.approx(100)


def test_crop_resize_pads_outside_with_black():
    rgb = np.full((50, 50, 3), 200, np.uint8)
    out = crop_resize(rgb, Box(-50, 0, 50, 100), 20)
    assert out.shape == (20, 20, 3)
    assert out[5, 2].max() == 0 and out[5, 17].min() == 200  # left half outside -> black
    assert np.all(out[15, 12] == 0)  # below the image -> black
    same = crop_resize(rgb, Box(0, 0, 50, 50), 50)
    assert np.array_equal(same, rgb)


def _box_at(x: float) -> list[Box]:
    return [Box(x, 10, x + 20, 30, 0.9)]


def test_track_follows_moving_face_and_breaks_on_jump():
    dets = [_box_at(10 + i) for i in range(20)] + [_box_at(200) for _ in range(20)]
    tracks = track_boxes(dets, TrackConfig(min_iou=0.3, nested_centres=True, patience=2))
    assert [(t.start, t.end) for t in tracks] == [(0, 20), (22, 40)]  # new track after max_lost jumped frames
    assert tracks[0].boxes[5].x0 == 15 and tracks[1].boxes[0].x0 == 200


def test_track_holds_lost_frames_interpolates_unexamined_and_trims_tail():
    dets: list = [_box_at(10), None, _box_at(14), [], _box_at(14), [], [], [], [], []]
    (track,) = track_boxes(dets, DATASET_TRACKING, start_frame=100)
    assert (track.start, track.end) == (100, 105)  # trailing lost frames cut off
    assert track.boxes[1].x0 == pytest.approx(12)  # not examined: interpolated
    assert track.boxes[3].x0 == pytest.approx(14)  # examined, missed: last good box held
    assert track.detected == 3
    assert track_boxes([[], None, []]) == []


def test_smoothing_and_stable_box():
    rng = np.random.default_rng(0)
    boxes = [Box(50 + j, 50, 100 + j, 100) for j in rng.normal(0, 3, 200)]
    smoothed = smooth_boxes(boxes, 9)
    assert len(smoothed) == len(boxes)
    inner = slice(4, -4)  # full windows: noise std drops by about 1/sqrt(9)
    assert np.std([b.x0 for b in smoothed[inner]]) < 0.5 * np.std([b.x0 for b in boxes[inner]])
    stable = stable_box(boxes, coverage=1.0)
    assert all(stable.contains(b) for b in boxes)


def test_get_detector_errors():
    with pytest.raises(UsageError, match="unknown face detector"):
        get_detector("nope")
    with pytest.raises(UsageError, match="unknown domain"):
        get_detector("auto", domain="anime")


def test_s3fd_missing_weights_names_the_file(monkeypatch, tmp_path):
    pytest.importorskip("face_alignment")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(BackendUnavailableError, match=r"s3fd-619a316812\.pth.*" + str(tmp_path)):
        S3fdDetector()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["haar", "mediapipe", "dlib-hog"])
def test_offline_detectors_find_real_face(examples, name):
    from toontalker.video import read_image

    try:
        detector = BACKENDS[name]()
    except BackendUnavailableError as exc:
        pytest.skip(str(exc))
    rgb = read_image(examples / "real_portrait.jpg").rgb
    boxes = detector.detect(rgb)
    assert boxes, f"{name} found no face"
    H, W = rgb.shape[:2]
    cx, cy = boxes[0].center
    assert 0.2 * W < cx < 0.8 * W and 0.1 * H < cy < 0.8 * H
    assert 0.1 * W < boxes[0].width < 0.9 * W
    assert boxes == sorted(boxes, key=lambda b: b.score, reverse=True)


@pytest.mark.slow
def test_auto_cartoon_detector_finds_anime_faces(shared_data):
    from toontalker.video import read_image

    detector = get_detector("auto", domain="cartoon")
    if detector.name != "mediapipe":
        pytest.skip(f"mediapipe unavailable; auto picked {detector.name}")
    names = ["a_chan.png", "aduchi_momo.png", "aiba_uiha.png", "aizono_manami.png"]
    hits = 0
    for n in names:
        rgb = read_image(shared_data / "cartoon/images/tha2_headshots" / n).on_background()
        boxes = detector.detect(rgb)
        hits += bool(boxes) and Box(48, 32, 208, 240).contains_point(*boxes[0].center)
    assert hits >= 3


def test_haar_on_an_opencv_build_without_cascades_is_unavailable_not_a_crash(monkeypatch) -> None:
    """Some OpenCV builds (5.x, minimal builds on GPU images) lack CascadeClassifier: a clear error, and
    "auto" moves on to the next backend instead of crashing."""
    import cv2

    from toontalker.faces.detectors import HaarCascadeDetector

    monkeypatch.delattr(cv2, "CascadeClassifier")
    with pytest.raises(BackendUnavailableError, match="has no Haar cascades"):
        HaarCascadeDetector()
