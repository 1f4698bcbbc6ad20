"""The page: ``build_app(animator, examples)`` -> a ``gradio.Blocks`` (imports gradio; the ``[ui]`` extra).

Layout: the weights line; source and driver side by side (upload or example, the face found and its crop,
the face box to adjust); the options; Animate with a progress bar; the result video and a download link.
All work is in :mod:`toontalker.ui.handlers`; this file only lays out components and wires them to it.
"""

from __future__ import annotations

import contextvars
import dataclasses
from types import SimpleNamespace

from toontalker.animation.api import AnimateOptions
from toontalker.ui.handlers import OptionFields, driving_preview, run_job, source_preview
from toontalker.ui.jobs import Animator
from toontalker.ui.media import ExampleMedia

TITLE = "toontalker: animate a face"
CSS = ".tt-message p { margin: 0.2em 0; } #tt-weights-random { color: #c00; font-weight: bold; }"
DETECTORS = ["auto", "s3fd", "mediapipe", "haar", "dlib-hog", "dlib-cnn"]


def _choices(paths) -> list[tuple[str, str]]:
    return [(p.name, str(p)) for p in paths]


def _source_side(gr, examples: ExampleMedia) -> SimpleNamespace:
    side = SimpleNamespace()
    side.file = gr.File(label="Source image", file_types=["image"], type="filepath", elem_id="tt-source-file")
    side.example = gr.Dropdown(
        _choices(examples.sources), label="or an example source", value=None, elem_id="tt-source-example"
    )
    with gr.Row():
        side.annotated = gr.Image(
            label="Face (green) and crop (orange)", interactive=False, elem_id="tt-source-preview"
        )
        side.crop = gr.Image(label="Model input", interactive=False, elem_id="tt-source-crop")
    side.box = gr.Textbox(label="Face box X0,Y0,X1,Y1 (pixels): edit it, then Update crop", elem_id="tt-source-box")
    with gr.Row():
        side.update = gr.Button("Update crop", elem_id="tt-update-crop")
        side.detect = gr.Button("Detect again", elem_id="tt-detect")
    side.message = gr.Markdown(elem_id="tt-source-message", elem_classes="tt-message")
    side.detected = gr.State("")  # the face box text as detected (an unedited box is detected again)
    return side


def _driving_side(gr, examples: ExampleMedia) -> SimpleNamespace:
    side = SimpleNamespace()
    side.file = gr.File(
        label="Driving video", file_types=["video", "image"], type="filepath", elem_id="tt-driving-file"
    )
    side.example = gr.Dropdown(
        _choices(examples.drivers), label="or an example driver", value=None, elem_id="tt-driving-example"
    )
    with gr.Row():
        side.annotated = gr.Image(label="First frame: face and crop", interactive=False, elem_id="tt-driving-preview")
        side.crop = gr.Image(label="Model input", interactive=False, elem_id="tt-driving-crop")
    side.message = gr.Markdown(elem_id="tt-driving-message", elem_classes="tt-message")
    return side


def _options(gr, source_box) -> dict:
    """The option components by ``OptionFields`` field name (``source_box`` is the source side's)."""
    d = AnimateOptions()
    with gr.Row():
        source_domain = gr.Radio(["cartoon", "real"], value=d.source_domain, label="Source is")
        driving_domain = gr.Radio(["real", "cartoon"], value=d.driving_domain, label="Driver is")
        motion = gr.Radio(
            ["relative", "absolute"],
            value=d.motion,
            label="Motion",
            info="relative: the driver's motion from its start frame (Eq. 5)",
        )
    with gr.Row():
        start_frame = gr.Number(d.start_frame, label="Start frame", precision=0, minimum=0)
        find_best_start = gr.Checkbox(d.find_best_start, label="Find best start frame")
        max_frames = gr.Number(0, label="Max frames (0: all)", precision=0, minimum=0, elem_id="tt-max-frames")
    with gr.Row():
        paste_back = gr.Checkbox(d.paste_back, label="Paste back into the full source image")
        side_by_side = gr.Checkbox(d.side_by_side, label="Side by side (source | driver | result)")
        audio = gr.Checkbox(d.audio, label="Driver's audio")
    with gr.Accordion("Cropping and batching", open=False):  # noqa: SIM117 - the nesting mirrors the page layout
        with gr.Row():
            no_crop_source = gr.Checkbox(d.no_crop_source, label="Source is already a face crop")
            no_crop_driving = gr.Checkbox(d.no_crop_driving, label="Driver is already cropped")
            crop_scale = gr.Number(d.crop_scale, label="Crop scale", minimum=0.5, maximum=4)
            detector = gr.Dropdown(DETECTORS, value=d.detector, label="Face detector")
            batch_size = gr.Number(
                d.batch_size, label="Frames per batch", precision=0, minimum=1, elem_id="tt-batch-size"
            )
    return dict(
        source_domain=source_domain,
        driving_domain=driving_domain,
        source_box=source_box,
        no_crop_source=no_crop_source,
        no_crop_driving=no_crop_driving,
        motion=motion,
        start_frame=start_frame,
        find_best_start=find_best_start,
        max_frames=max_frames,
        paste_back=paste_back,
        side_by_side=side_by_side,
        audio=audio,
        crop_scale=crop_scale,
        detector=detector,
        batch_size=batch_size,
    )


def build_app(animator: Animator, examples: ExampleMedia):
    import gradio as gr

    max_mb = animator.config.max_upload_mb
    # uploads and results copied to gradio's cache: checked hourly, removed after a day
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 86400)) as app:
        gr.Markdown(
            f"# {TITLE}\nUpload a source image and a driving video (or pick an example), check the "
            f"face crops, then **Animate**. Uploads up to {max_mb:g} MB."
        )
        gr.Markdown(
            f"**Weights:** {animator.weights_line}",
            elem_id="tt-weights-random" if animator.choice.random else "tt-weights",
        )
        with gr.Row():
            with gr.Column():
                source = _source_side(gr, examples)
            with gr.Column():
                driving = _driving_side(gr, examples)
        options = _options(gr, source.box)
        run = gr.Button("Animate", variant="primary", elem_id="tt-run")
        result_video = gr.Video(label="Result", interactive=False, height=360, elem_id="tt-result")
        result_file = gr.File(label="Download", interactive=False, elem_id="tt-download")
        run_message = gr.Markdown(elem_id="tt-run-message", elem_classes="tt-message")
        _wire(gr, animator, source, driving, options, [run, result_video, result_file, run_message])
    return app


def _wire(gr, animator: Animator, source, driving, options: dict, result: list) -> None:
    """Connect the events: example -> file -> preview; option changes -> preview; Animate -> run."""
    max_mb = animator.config.max_upload_mb
    names, fields = list(options), list(options.values())
    source_outputs = [source.annotated, source.crop, source.box, source.message, source.detected]
    driving_outputs = [driving.annotated, driving.crop, driving.message]

    def fields_of(values) -> OptionFields:
        return OptionFields(**dict(zip(names, values)))

    def show_source(path, *values, detect=True):
        view = source_preview(path, fields_of(values), max_mb, detect)
        return view.annotated, view.crop, view.box, view.message, view.box if detect else ""

    def show_driving(path, *values):
        view = driving_preview(path, fields_of(values), max_mb)
        return view.annotated, view.crop, view.message

    def animate_clicked(source_path, driving_path, detected, *values, progress=gr.Progress()):  # noqa: B008 - gradio's idiom
        progress(0, desc="loading the inputs, finding the faces")
        chosen = fields_of(values)
        if chosen.source_box.strip() == detected:  # not edited: animate detects it again (the same box)
            chosen = dataclasses.replace(chosen, source_box="")
        context = contextvars.copy_context()  # gradio finds the running event through context variables

        def report(done: int, total: int) -> None:  # called from animate's encoder thread
            context.run(progress, (done, total), desc="animating", unit="frames")

        view = run_job(animator, source_path, driving_path, chosen, report)
        path = str(view.video) if view.video is not None else None
        return path, path, view.message

    source.example.change(lambda p: p, source.example, source.file)
    driving.example.change(lambda p: p, driving.example, driving.file)
    for trigger in (
        source.file.change,
        source.detect.click,
        *(options[n].change for n in ("source_domain", "no_crop_source", "crop_scale", "detector")),
    ):
        trigger(show_source, [source.file, *fields], source_outputs)
    source.update.click(lambda *a: show_source(*a, detect=False), [source.file, *fields], source_outputs)
    for trigger in (driving.file.change, options["driving_domain"].change, options["no_crop_driving"].change):
        trigger(show_driving, [driving.file, *fields], driving_outputs)
    run, video, download, message = result
    run.click(
        animate_clicked,
        [source.file, driving.file, source.detected, *fields],
        [video, download, message],
        concurrency_limit=None,
    )
