"""The web UI's library side without a browser or gradio: upload checks, examples list, option fields,
crop previews, one job at a time (a second run gets a busy message), and a run end to end (tiny preset,
random weights: the pipeline is real, the pictures meaningless).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from toontalker.animation.api import AnimateOptions
from toontalker.errors import InputError, UsageError
from toontalker.ui.handlers import OptionFields, driving_preview, run_job, source_preview
from toontalker.ui.jobs import Animator, BusyError, UiConfig
from toontalker.ui.media import check_upload, find_examples
from toontalker.ui.preview import box_text, preview_driving, preview_source
from toontalker.video import VideoWriter, probe, read_frames

REAL_DRIVER = "real/videos/liveportrait_d0.mp4"  # MIT, 512^2, 25 fps, 78 frames
CARTOON_SOURCE = "cartoon/images/liveportrait_s7.jpg"  # MIT, 852^2 cartoon headshot


def _png(path: Path, size: tuple[int, int] = (120, 80)) -> Path:
    import cv2

    image = np.zeros((size[1], size[0], 3), np.uint8)
    image[20:60, 30:90] = (200, 120, 40)
    cv2.imwrite(str(path), image)
    return path


def _video(path: Path, frames: int = 6) -> Path:
    rng = np.random.default_rng(0)
    with VideoWriter(path, 25.0) as writer:
        writer.write(rng.integers(0, 255, (frames, 64, 64, 3), dtype=np.uint8))
    return path


@pytest.fixture(scope="module")
def animator(tmp_path_factory) -> Animator:
    work = tmp_path_factory.mktemp("ui-work")
    return Animator(UiConfig(preset="tiny", random_weights=True, device="cpu", max_upload_mb=1, work_dir=str(work)))


def test_check_upload_names_the_problem(tmp_path):
    image, video = _png(tmp_path / "face.png"), _video(tmp_path / "drive.mp4")
    assert check_upload(image, "source", 1) == image
    assert check_upload(video, "driving", 1) == video
    assert check_upload(image, "driving", 1) == image  # a driving image is allowed
    (tmp_path / "fake.png").write_bytes(b"not a picture at all")
    (tmp_path / "fake.mp4").write_bytes(b"not a video at all")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "big.png").write_bytes(bytes(2 * 2**20))
    cases = [
        ("fake.png", "source", "fake.png: not an image"),
        ("fake.mp4", "driving", "fake.mp4: not a readable video"),
        ("notes.txt", "driving", "notes.txt: the driver must be a video"),
        ("drive.mp4", "source", "drive.mp4: the source must be an image"),
        ("big.png", "source", "big.png: 2.0 MB is over the 1 MB upload limit"),
        ("gone.png", "source", "gone.png: the upload is missing"),
    ]
    for name, kind, message in cases:
        with pytest.raises(InputError) as error:
            check_upload(tmp_path / name, kind, 1)
        assert str(error.value).startswith(message), str(error.value)
        assert str(tmp_path) not in str(error.value)  # no temporary folder in the page's message


def test_find_examples_sorts_images_and_videos(tmp_path):
    _png(tmp_path / "b.png")
    (tmp_path / "sub").mkdir()
    _png(tmp_path / "sub" / "a.jpg")
    _video(tmp_path / "drive.mp4")
    (tmp_path / "LICENSE.md").write_text("MIT")
    found = find_examples(tmp_path)
    assert [p.name for p in found.sources] == ["b.png", "a.jpg"]
    assert [p.name for p in found.drivers] == ["drive.mp4"]
    empty = find_examples(tmp_path / "absent")
    assert (empty.folder, empty.sources, empty.drivers) == (None, (), ())


def test_option_fields_make_animate_options():
    options = OptionFields(
        source_box="10, 20, 110, 140", motion="relative", start_frame=3, max_frames=8, paste_back=True, audio=False
    ).to_options()
    assert options.source_box == (10.0, 20.0, 110.0, 140.0)
    assert (options.start_frame, options.max_frames, options.paste_back, options.audio) == (3, 8, True, False)
    absolute = OptionFields(motion="absolute", start_frame=3, find_best_start=True).to_options()
    assert (absolute.motion, absolute.start_frame, absolute.find_best_start) == ("absolute", 0, False)
    assert OptionFields(max_frames=0).to_options().max_frames is None
    assert OptionFields().to_options() == AnimateOptions()  # the page's defaults are animate's
    emptied = OptionFields(start_frame=None, max_frames=None, crop_scale=None, batch_size=None, detector=None)
    assert emptied.to_options() == AnimateOptions()  # a number field left empty is its default
    with pytest.raises(UsageError, match="face box"):
        OptionFields(source_box="10,20,oops").to_options()


def test_source_preview_with_a_given_box(tmp_path):
    image = _png(tmp_path / "face.png", (200, 100))
    preview = preview_source(image, AnimateOptions(source_box=(60.0, 20.0, 100.0, 60.0)), size=32)
    assert preview.found_by == "source-box" and box_text(preview.face_box) == "60,20,100,60"
    assert preview.crop.shape == (32, 32, 3) and preview.annotated.shape == (100, 200, 3)
    assert preview.crop_box.width == pytest.approx(72.0)  # crop_scale 1.8 x the box's 40 px
    plain = preview_source(image, AnimateOptions(no_crop_source=True), size=32)
    assert (preview.annotated != plain.annotated).any()  # the boxes are drawn on a copy
    assert plain.found_by == "no-crop" and plain.face_box is None


def test_previews_report_bad_input_as_a_message(tmp_path):
    (tmp_path / "fake.png").write_bytes(b"nope")
    view = source_preview(str(tmp_path / "fake.png"), OptionFields(), 1, detect=True)
    assert view.annotated is None and view.message.startswith("**Error:** fake.png: not an image")
    view = source_preview(str(_png(tmp_path / "f.png")), OptionFields(source_box="1,2"), 1, detect=False)
    assert view.message.startswith("**Error:** face box '1,2'") and view.box == "1,2"
    drive = driving_preview(str(_video(tmp_path / "d.mp4")), OptionFields(no_crop_driving=True), 1)
    assert drive.message == "face found by no-crop" and drive.crop.shape == (256, 256, 3)


@pytest.mark.slow
def test_previews_find_the_faces_in_the_sample_media(shared_data):
    options = AnimateOptions()
    source = preview_source(shared_data / CARTOON_SOURCE, options, size=64)
    assert source.face_box is not None and source.found_by != "source-box"
    assert source.crop.shape == (64, 64, 3)
    driving = preview_driving(shared_data / REAL_DRIVER, options, size=64)
    assert driving.face_box is not None and driving.note == ""
    info = probe(shared_data / REAL_DRIVER)
    assert driving.annotated.shape == (info.height, info.width, 3)


def test_run_job_animates_and_a_second_job_is_refused(animator, tmp_path):
    source, drive = _png(tmp_path / "face.png"), _video(tmp_path / "drive.mp4", frames=4)
    fields = OptionFields(no_crop_source=True, no_crop_driving=True, side_by_side=True)
    started, release = threading.Event(), threading.Event()
    progress: list[tuple[int, int]] = []

    def slow_progress(done: int, total: int) -> None:
        progress.append((done, total))
        started.set()
        release.wait(30)

    views = []
    worker = threading.Thread(
        target=lambda: views.append(run_job(animator, str(source), str(drive), fields, slow_progress))
    )
    worker.start()
    try:
        assert started.wait(60), "the first job never reported progress"
        assert animator.busy
        busy = run_job(animator, str(source), str(drive), fields)
        assert busy.video is None and "another animation (face.png) is running" in busy.message
        with pytest.raises(BusyError):
            animator.run(source, drive, fields.to_options())
    finally:
        release.set()
        worker.join(60)
    view = views[0]
    assert view.video is not None and view.video.parent.parent == animator.work_dir
    assert view.message.startswith("**Done:** 4 frames, 192x64") and "RANDOM WEIGHTS (tiny)" in view.message
    assert progress[-1] == (4, 4)
    assert read_frames(view.video).shape == (4, 64, 192, 3)
    assert not animator.busy  # the lock was released


def test_run_job_reports_missing_and_bad_inputs(animator, tmp_path):
    assert run_job(animator, None, "x.mp4", OptionFields()).message.startswith("**Error:** give a source image")
    source = _png(tmp_path / "face.png")
    (tmp_path / "bad.mp4").write_bytes(b"nope")
    view = run_job(animator, str(source), str(tmp_path / "bad.mp4"), OptionFields())
    assert view.video is None and view.message.startswith("**Error:** bad.mp4: not a readable video")
    jobs_before = sorted(animator.work_dir.iterdir())
    view = run_job(
        animator,
        str(source),
        str(_video(tmp_path / "d.mp4")),
        OptionFields(no_crop_source=True, no_crop_driving=True, start_frame=50),
    )
    assert view.video is None and "past its last frame" in view.message
    assert sorted(animator.work_dir.iterdir()) == jobs_before  # the failed job left nothing


def test_ui_config_is_validated():
    with pytest.raises(UsageError, match="max_upload_mb"):
        UiConfig(max_upload_mb=0)
    assert UiConfig().host == "127.0.0.1"


def test_the_page_offers_every_option_field():
    pytest.importorskip("gradio", reason="the ui extra is not installed: pip install -e '.[ui]'")
    import dataclasses

    import gradio as gr

    from toontalker.ui.app import _options
    from toontalker.ui.handlers import OptionFields

    with gr.Blocks():
        box = gr.Textbox()
        options = _options(gr, box)
    assert list(options) == [f.name for f in dataclasses.fields(OptionFields)]


def test_cli_ui_is_listed_and_says_what_is_missing(cli_runner, monkeypatch):
    import sys

    from toontalker.cli import app

    assert "ui" in cli_runner.invoke(app, ["--help"]).output
    monkeypatch.setitem(sys.modules, "gradio", None)  # as if the ui extra were not installed
    result = cli_runner.invoke(app, ["ui", "--preset", "tiny", "--random-weights"])
    assert result.exit_code == 1
    assert "error: toontalker ui needs the 'ui' extra: pip install 'toontalker[ui]'" in result.output


def test_cli_ui_on_a_busy_port_is_one_line(cli_runner, tmp_path):
    pytest.importorskip("gradio", reason="the ui extra is not installed: pip install -e '.[ui]'")
    import socket

    from toontalker.cli import app

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli_runner.invoke(
            app,
            ["ui", "--port", str(port), "--preset", "tiny", "--random-weights", "--work-dir", str(tmp_path / "work")],
        )
    assert result.exit_code == 2, result.output
    assert f"error: cannot serve on 127.0.0.1:{port}" in result.output


def test_the_weights_line_names_the_weights():
    from toontalker.ui.jobs import describe_weights
    from toontalker.weights import WeightsChoice

    assert (
        describe_weights(WeightsChoice("default", None, False), 256)
        == "the shipped demo weights (toontalker/weights/default, 256 px)"
    )
    assert describe_weights(WeightsChoice("owner/toontalker@v1", None, False), 256) == "owner/toontalker@v1 (256 px)"
    assert describe_weights(WeightsChoice("random:tiny", "tiny", True), 64).startswith("RANDOM WEIGHTS (tiny)")
