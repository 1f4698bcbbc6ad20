"""The parts of :func:`toontalker.animate`: weights, source face, driving face track, compositing, output sinks,
and the threaded decode -> infer -> encode pipeline. The public entry point is :func:`toontalker.animate`.
"""
