"""bench motion's signals where the answer is known: synthetic meshes, warped and shifted face images."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from toontalker.bench.motion_signals import (
    SIGNALS,
    akd_mesh,
    compare_series,
    compare_signals,
    detect_clip,
    driver_blinks,
    extreme_frames,
    laplacian_variance,
    relative_driver,
    sharpness_ratio,
    signal_table,
)
from toontalker.faces.landmarks import (
    CHIN,
    EYE_OUTER,
    FOREHEAD,
    MESH_POINTS,
    MOUTH_CORNERS,
    NOSE_TIP,
    FrameLandmarks,
    face_centre,
    head_pose,
)


def synthetic_mesh(seed: int = 0) -> np.ndarray:
    """(468, 3) points of a frontal 'face': the pose points placed, the rest random inside the face."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(-40, 40, (MESH_POINTS, 3))
    points[EYE_OUTER[0]], points[EYE_OUTER[1]] = (-30, 0, 0), (30, 0, 0)
    points[MOUTH_CORNERS[0]], points[MOUTH_CORNERS[1]] = (-20, 40, 0), (20, 40, 0)
    points[NOSE_TIP], points[FOREHEAD], points[CHIN] = (0, 20, 0), (0, -50, 0), (0, 70, 0)
    return points


def rotate(points: np.ndarray, axis: str, degrees: float) -> np.ndarray:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    matrix = {
        "y": [[c, 0, -s], [0, 1, 0], [s, 0, c]],  # x towards +z: the image-right side goes away
        "x": [[1, 0, 0], [0, c, s], [0, -s, c]],  # -y (up) towards +z: forehead leans away
        "z": [[c, -s, 0], [s, c, 0], [0, 0, 1]],
    }[axis]  # x towards +y: the image-right side drops
    return points @ np.array(matrix).T


@pytest.mark.parametrize("angle", [-30.0, -10.0, 5.0, 25.0])
def test_head_pose_recovers_known_rotations(angle):
    mesh = synthetic_mesh()
    base = head_pose(mesh)
    assert np.allclose(base, 0.0, atol=1e-4)  # the synthetic face is built frontal
    for axis, column in (("y", 0), ("x", 1), ("z", 2)):
        pose = head_pose(rotate(mesh, axis, angle))
        assert pose[column] == pytest.approx(angle, abs=1e-3), axis
        others = [i for i in range(3) if i != column]
        assert np.allclose(pose[others], 0.0, atol=1e-3), axis
    # a nose in front of the forehead only offsets pitch; a nod still changes it by the nod's angle
    mesh[NOSE_TIP, 2] = -20.0
    offset = head_pose(mesh)[1]
    assert offset == pytest.approx(math.degrees(math.atan2(20, 70)), abs=1e-3)
    assert head_pose(rotate(mesh, "x", angle))[1] - offset == pytest.approx(angle, abs=1e-3)


def test_head_pose_is_nan_without_points_and_needs_3d():
    assert np.isnan(head_pose(np.full((MESH_POINTS, 3), np.nan))).all()
    with pytest.raises(ValueError, match="3D"):
        head_pose(synthetic_mesh()[:, :2])


def test_face_centre_moves_with_the_face_in_face_heights():
    mesh = synthetic_mesh() + np.array([128.0, 128.0, 0.0])
    height = float(np.linalg.norm(mesh[FOREHEAD, :2] - mesh[CHIN, :2]))
    moved = mesh + np.array([12.0, -6.0, 0.0])
    delta = face_centre(moved, (256, 256)) - face_centre(mesh, (256, 256))
    assert delta == pytest.approx([12.0 / height, -6.0 / height], abs=1e-5)


def test_compare_series_known_answers():
    t = np.linspace(0, 4 * np.pi, 50)
    driver = np.sin(t)
    same = compare_series("mouth", driver, 0.5 * driver + 3.0)
    assert same.r == pytest.approx(1.0) and same.amplitude == pytest.approx(0.5) and same.frames == 50
    flipped = compare_series("y", driver, -driver)
    assert flipped.r == pytest.approx(-1.0)
    still = compare_series("mouth", driver, np.full(50, 0.02))
    assert math.isnan(still.r) and still.amplitude == 0.0 and still.note == "output constant"
    holes = driver.copy()
    holes[:48] = np.nan
    few = compare_series("yaw", holes, driver)
    assert math.isnan(few.r) and few.frames == 2 and "only 2 frame" in few.note


def test_relative_driver_starts_at_the_output_and_moves_like_the_driver():
    driver = np.array([[1.0, 5.0], [2.0, 7.0], [0.0, 4.0]])
    output = np.array([[10.0, -1.0], [10.5, -1.0], [9.0, -1.0]])
    moved = relative_driver(driver, output)
    assert moved == pytest.approx(np.array([[10.0, -1.0], [11.0, 1.0], [9.0, -2.0]]))


def test_driver_blinks_counts_runs_of_closed_eyes():
    table = np.zeros((12, len(SIGNALS)))
    eyes = np.array([0.3, 0.3, 0.1, 0.1, 0.3, 0.3, 0.3, 0.12, 0.3, np.nan, 0.3, 0.3])
    table[:, SIGNALS.index("eye_right")] = table[:, SIGNALS.index("eye_left")] = eyes
    assert driver_blinks(table) == 2  # frames 2-3 and 7; the frame without a face is not a blink
    table[0, SIGNALS.index("eye_right")] = table[0, SIGNALS.index("eye_left")] = 0.1
    assert driver_blinks(table) == 3  # closed at the first frame counts
    table[:, SIGNALS.index("eye_right")] = table[:, SIGNALS.index("eye_left")] = 0.3 + 0.01 * np.sin(np.arange(12))
    assert driver_blinks(table) == 0  # jitter is not a blink
    assert driver_blinks(np.full((12, len(SIGNALS)), np.nan)) == 0


def test_akd_mesh_and_extremes_on_synthetic_sequences():
    mesh = synthetic_mesh() + 128
    truth = FrameLandmarks(np.stack([mesh, mesh]).astype(np.float32), np.array([True, True]))
    shifted = FrameLandmarks(np.stack([mesh + [3, 4, 0], mesh]).astype(np.float32), np.array([True, False]))
    value, frames = akd_mesh(shifted, truth)
    assert value == pytest.approx(5.0, abs=1e-4) and frames == 1
    table = np.zeros((5, len(SIGNALS)))
    table[:, SIGNALS.index("mouth")] = [0, 0.1, 0.3, 0.2, 0]
    table[:, SIGNALS.index("eye_right")] = table[:, SIGNALS.index("eye_left")] = [0.3, 0.3, 0.3, 0.1, 0.3]
    table[:, SIGNALS.index("yaw")] = [0, -9, 4, 2, 8]
    assert extreme_frames(table) == {"mouth max": 2, "eyes min": 3, "yaw min": 1, "yaw max": 4}


def test_sharpness_ratio_drops_for_a_blurred_output():
    rng = np.random.default_rng(0)
    source = (rng.uniform(0, 255, (1, 64, 64, 3))).astype(np.uint8)
    blurred = cv2.GaussianBlur(source[0], (7, 7), 2.0)[None]
    none = FrameLandmarks(np.full((1, MESH_POINTS, 3), np.nan, np.float32), np.array([False]))
    assert sharpness_ratio(source, none, source, none) == pytest.approx(1.0)
    assert sharpness_ratio(blurred, none, source, none) < 0.2
    assert laplacian_variance(source[0], (0, 0, 32, 32)) > 0


# --- real FaceMesh on a real face (../shared/data) -------------------------------------------------------


@pytest.fixture(scope="module")
def face_image(shared_data):
    from toontalker.bench.frames import read_frames

    return read_frames(shared_data / "real/videos/eamm_happy.mp4", 256, count=1)[0]


def _open_mouth(image: np.ndarray, points: np.ndarray, pixels: float) -> np.ndarray:
    """Move everything below the lip line down by up to ``pixels`` (a smooth ramp that fades out at the
    chin): the lips part as the gap fills with the stretched lip line."""
    H, W = image.shape[:2]
    lip_y = float((points[13, 1] + points[14, 1]) / 2)
    chin_y = float(points[CHIN, 1])
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    ramp = np.clip((ys - lip_y) / 4.0, 0, 1) * np.clip((chin_y + 20 - ys) / (chin_y + 20 - lip_y), 0, 1)
    mouth_x = points[[61, 291], 0]
    across = np.clip(1 - np.abs(xs - mouth_x.mean()) / (np.ptp(mouth_x) * 1.2), 0, 1)
    return cv2.remap(image, xs, ys - pixels * ramp * across, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def test_mouth_opening_grows_when_the_mouth_region_is_stretched(face_image):
    from toontalker.faces.landmarks import FaceMesh, mouth_opening

    with FaceMesh(video=False) as mesh:
        points = mesh.detect(face_image)
        assert points is not None
        openings = []
        for pixels in (0, 8, 16):
            found = mesh.detect(_open_mouth(face_image, points, pixels))
            assert found is not None
            openings.append(float(mouth_opening(found)))
    assert openings[0] < openings[1] < openings[2], openings
    assert openings[2] - openings[0] > 0.03, openings


def test_horizontal_shift_follows_x_and_a_shuffled_copy_does_not(face_image):
    from toontalker.faces.landmarks import FaceMesh

    shifts = np.round(20 * np.sin(np.linspace(0, 3 * np.pi, 24)))
    frames = np.stack([np.roll(face_image, int(s), axis=1) for s in shifts])
    with FaceMesh(video=True) as mesh:
        marks = detect_clip(mesh, frames)
    assert marks.detected.all()
    table = signal_table(marks, (256, 256))
    x = table[:, SIGNALS.index("x")]
    assert compare_series("x", shifts, x).r > 0.99
    assert compare_series("x", x, x).r == pytest.approx(1.0)
    shuffled = x[np.random.default_rng(3).permutation(len(x))]
    assert abs(compare_series("x", x, shuffled).r) < 0.3
    # the same frames repeated give the same landmarks, so a still sequence scores amplitude exactly 0
    with FaceMesh(video=True) as mesh:
        still = detect_clip(mesh, np.stack([face_image] * 6))
    comparisons = compare_signals(table[:6], signal_table(still, (256, 256)))
    assert all(c.amplitude == 0.0 and c.note == "output constant" for c in comparisons)


# --- real FaceMesh on anime faces (issue #20: is a cartoon driver's vertical motion measured with its sign?) --


def _tha2_clip(shared_data, path: str, count: int) -> np.ndarray:
    from toontalker.bench.frames import read_frames

    return read_frames(shared_data / "cartoon/videos" / path, 256, count=count)


def test_vertical_shift_of_an_anime_face_follows_y_and_leaves_pitch_alone(shared_data):
    from toontalker.faces.landmarks import FaceMesh

    face = _tha2_clip(shared_data, "tha2_characters/yuuhi_riri.mp4", 1)[0]
    shifts = np.round(12 * np.sin(np.linspace(0, 2 * np.pi, 24)))  # + = down, pixels
    frames = np.stack([np.roll(face, int(s), axis=0) for s in shifts])  # black background rolls in
    with FaceMesh(video=True) as mesh:
        marks = detect_clip(mesh, frames)
    assert marks.detected.all()
    table = signal_table(marks, (256, 256))
    assert compare_series("y", shifts, table[:, SIGNALS.index("y")]).r > 0.98
    assert abs(compare_series("pitch", shifts, table[:, SIGNALS.index("pitch")]).r) < 0.5


def test_an_anime_nod_reads_pitch_up_and_y_up_when_the_head_looks_up(shared_data):
    # THA2's head_x sample: one nod, looking up around frame 30 and down around frame 90 (checked by eye)
    from toontalker.faces.landmarks import FaceMesh

    frames = _tha2_clip(shared_data, "tha2_motion_samples/souya_ichika_head_x.mp4", 120)
    with FaceMesh(video=True) as mesh:
        marks = detect_clip(mesh, frames)
    assert marks.detected.sum() >= 30
    table = signal_table(marks, (256, 256))
    looking_up = np.sin(2 * np.pi * np.arange(len(frames)) / 120)
    assert compare_series("pitch", looking_up, table[:, SIGNALS.index("pitch")]).r > 0.8  # pitch grows looking up
    assert compare_series("y", looking_up, table[:, SIGNALS.index("y")]).r < -0.8  # and the face rises (y down)
