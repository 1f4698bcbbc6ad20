"""The page: ``build_app(animator, examples)`` -> a ``gradio.Blocks`` (imports gradio; the ``[ui]`` extra).

Layout: the weights line; source and driver side by side (upload or example, the face found and its crop,
the face box to adjust); the options; Run with a progress bar; the result video and a download link.
All work is in :mod:`toontalker.ui.handlers`; this file only wires components to it.
"""

from __future__ import annotations

import contextvars
import dataclasses

from toontalker.animation.api import AnimateOptions
from toontalker.ui.handlers import OptionFields, driving_preview, run_job, source_preview
from toontalker.ui.jobs import Animator
from toontalker.ui.media import ExampleMedia

TITLE = "toontalker: animate a face"
CSS = ".tt-message p { margin: 0.2em 0; } #tt-weights-random { color: #c00; font-weight: bold; }"


def build_app(animator: Animator, examples: ExampleMedia):
    import gradio as gr

    max_mb = animator.config.max_upload_mb
    defaults = AnimateOptions()
    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        gr.Markdown(f"# {TITLE}\nUpload a source image and a driving video (or pick an example), check the "
                    "face crops, then **Animate**. Uploads up to " f"{max_mb:g} MB.")
        gr.Markdown(f"**Weights:** {animator.weights_line}",
                    elem_id="tt-weights-random" if animator.choice.random else "tt-weights")
        with gr.Row():
            with gr.Column():
                source_file = gr.File(label="Source image", file_types=["image"], type="filepath",
                                      elem_id="tt-source-file")
                source_example = gr.Dropdown(_choices(examples.sources), label="or an example source",
                                             value=None, elem_id="tt-source-example")
                with gr.Row():
                    source_annotated = gr.Image(label="Face (green) and crop (orange)", interactive=False,
                                                elem_id="tt-source-preview")
                    source_crop = gr.Image(label="Model input", interactive=False, elem_id="tt-source-crop")
                source_box = gr.Textbox(label="Face box X0,Y0,X1,Y1 (pixels): edit it, then Update crop",
                                        elem_id="tt-source-box")
                with gr.Row():
                    update_crop = gr.Button("Update crop", elem_id="tt-update-crop")
                    detect_again = gr.Button("Detect again", elem_id="tt-detect")
                source_message = gr.Markdown(elem_id="tt-source-message", elem_classes="tt-message")
            with gr.Column():
                driving_file = gr.File(label="Driving video", file_types=["video", "image"], type="filepath",
                                       elem_id="tt-driving-file")
                driving_example = gr.Dropdown(_choices(examples.drivers), label="or an example driver",
                                              value=None, elem_id="tt-driving-example")
                with gr.Row():
                    driving_annotated = gr.Image(label="First frame: face and crop", interactive=False,
                                                 elem_id="tt-driving-preview")
                    driving_crop = gr.Image(label="Model input", interactive=False, elem_id="tt-driving-crop")
                driving_message = gr.Markdown(elem_id="tt-driving-message", elem_classes="tt-message")
        with gr.Row():
            source_domain = gr.Radio(["cartoon", "real"], value=defaults.source_domain, label="Source is")
            driving_domain = gr.Radio(["real", "cartoon"], value=defaults.driving_domain, label="Driver is")
            motion = gr.Radio(["relative", "absolute"], value=defaults.motion, label="Motion",
                              info="relative: the driver's motion from its start frame (Eq. 5)")
        with gr.Row():
            start_frame = gr.Number(defaults.start_frame, label="Start frame", precision=0, minimum=0)
            find_best_start = gr.Checkbox(defaults.find_best_start, label="Find best start frame")
            max_frames = gr.Number(0, label="Max frames (0: all)", precision=0, minimum=0,
                                   elem_id="tt-max-frames")
        with gr.Row():
            paste_back = gr.Checkbox(defaults.paste_back, label="Paste back into the full source image")
            side_by_side = gr.Checkbox(defaults.side_by_side, label="Side by side (source | driver | result)")
            audio = gr.Checkbox(defaults.audio, label="Driver's audio")
        with gr.Accordion("Cropping and batching", open=False):
            with gr.Row():
                no_crop_source = gr.Checkbox(defaults.no_crop_source, label="Source is already a face crop")
                no_crop_driving = gr.Checkbox(defaults.no_crop_driving, label="Driver is already cropped")
                crop_scale = gr.Number(defaults.crop_scale, label="Crop scale", minimum=0.5, maximum=4)
                detector = gr.Dropdown(["auto", "s3fd", "mediapipe", "haar", "dlib-hog", "dlib-cnn"],
                                       value=defaults.detector, label="Face detector")
                batch_size = gr.Number(defaults.batch_size, label="Frames per batch", precision=0, minimum=1,
                                       elem_id="tt-batch-size")
        run = gr.Button("Animate", variant="primary", elem_id="tt-run")
        result_video = gr.Video(label="Result", interactive=False, height=360, elem_id="tt-result")
        result_file = gr.File(label="Download", interactive=False, elem_id="tt-download")
        run_message = gr.Markdown(elem_id="tt-run-message", elem_classes="tt-message")

        named = {"source_domain": source_domain, "driving_domain": driving_domain, "source_box": source_box,
                 "no_crop_source": no_crop_source, "no_crop_driving": no_crop_driving, "motion": motion,
                 "start_frame": start_frame, "find_best_start": find_best_start, "max_frames": max_frames,
                 "paste_back": paste_back, "side_by_side": side_by_side, "audio": audio,
                 "crop_scale": crop_scale, "detector": detector, "batch_size": batch_size}
        fields = list(named.values())

        def fields_of(*values) -> OptionFields:  # the page's values, in `named`'s order
            return OptionFields(**dict(zip(named, values)))
        detected_box = gr.State("")  # the face box text as detected (an unedited box is detected again)
        source_outputs = [source_annotated, source_crop, source_box, source_message, detected_box]
        driving_outputs = [driving_annotated, driving_crop, driving_message]

        def show_source(path, *values, detect=True):
            view = source_preview(path, fields_of(*values), max_mb, detect)
            return view.annotated, view.crop, view.box, view.message, view.box if detect else ""

        def show_driving(path, *values):
            view = driving_preview(path, fields_of(*values), max_mb)
            return view.annotated, view.crop, view.message

        def animate_clicked(source, driving, detected, *values, progress=gr.Progress()):
            progress(0, desc="loading the inputs, finding the faces")
            fields = fields_of(*values)
            if fields.source_box.strip() == detected:  # not edited: animate detects it again (same box)
                fields = dataclasses.replace(fields, source_box="")
            context = contextvars.copy_context()  # gradio finds the event through context variables

            def report(done: int, total: int) -> None:  # called from animate's encoder thread
                context.run(progress, (done, total), desc="animating", unit="frames")

            view = run_job(animator, source, driving, fields, report)
            path = str(view.video) if view.video is not None else None
            return path, path, view.message

        source_example.change(lambda p: p, source_example, source_file)
        driving_example.change(lambda p: p, driving_example, driving_file)
        source_file.change(show_source, [source_file, *fields], source_outputs)
        detect_again.click(show_source, [source_file, *fields], source_outputs)
        for control in (source_domain, no_crop_source, crop_scale, detector):
            control.change(show_source, [source_file, *fields], source_outputs)
        update_crop.click(lambda *a: show_source(*a, detect=False), [source_file, *fields], source_outputs)
        driving_file.change(show_driving, [driving_file, *fields], driving_outputs)
        for control in (driving_domain, no_crop_driving):
            control.change(show_driving, [driving_file, *fields], driving_outputs)
        run.click(animate_clicked, [source_file, driving_file, detected_box, *fields], [result_video, result_file, run_message],
                  concurrency_limit=None)
    return app


def _choices(paths) -> list[tuple[str, str]]:
    return [(p.name, str(p)) for p in paths]
