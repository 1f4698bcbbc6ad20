"""``toontalker ui``: a local web page (Gradio, the ``[ui]`` extra) that runs the same ``animate()`` as the CLI.

``media.py`` checks uploads and lists the example media; ``preview.py`` shows the face crops before a run;
``jobs.py`` holds the loaded model and runs one animation at a time; ``app.py`` builds the page and
``server.py`` serves it on 127.0.0.1. Only ``app.py`` and ``server.py`` import gradio.
"""
