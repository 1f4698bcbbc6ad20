"""Benchmarks: speed of the animate core (``speed``); evaluation protocols as data, quality runs on them,
the paired cartoon benchmark, reports.

See docs/bench.md. Entry points: :func:`~toontalker.bench.runner.make_protocols`,
:func:`~toontalker.bench.runner.quality_benchmark`, :func:`~toontalker.bench.runner.paired_benchmark`,
:func:`~toontalker.bench.speed.run_speed_bench`.
"""
