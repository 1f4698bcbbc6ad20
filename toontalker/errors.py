"""The ToonTalkerError hierarchy.

Every error a user can cause or meet is one of these. Messages are one line and name the file (or option)
and the problem, so `toontalker` can print them without a traceback. Exit codes: 2 for usage errors (bad
options, bad config values), 1 for work that failed.
"""

from __future__ import annotations

# The exit codes of every command (README "Exit codes", docs/reliability.md).
EXIT_OK = 0  # done
EXIT_FAILED = 1  # the work failed (bad input file, full disk, damaged weights, ...): nothing half-written
EXIT_USAGE = 2  # bad options or configuration: nothing was started
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM: stopped early; train checkpointed the step reached (--resume)


class ToonTalkerError(Exception):
    """Base class; ``exit_code`` is what the CLI exits with."""

    exit_code: int = 1


class UsageError(ToonTalkerError):
    """The command line or configuration is wrong (unknown preset, bad override, conflicting options)."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration value or file is invalid."""


class InputError(ToonTalkerError):
    """An input file is missing, unreadable or not what it should be (corrupt video, non-image source)."""


class OutputError(ToonTalkerError):
    """An output path cannot be written."""


class MediaError(InputError):
    """Decoding or encoding media failed (ffmpeg/ffprobe errors, zero frames, no video stream)."""


class FaceNotFoundError(ToonTalkerError):
    """No face could be detected where one is required."""


class BackendUnavailableError(ToonTalkerError):
    """An optional backend (package or model weights) is not installed or not cached."""


class WeightsError(ToonTalkerError):
    """Model weights are missing, corrupted, or do not match the configuration."""


class TrainingError(ToonTalkerError):
    """Training cannot go on (NaN/Inf loss, bad checkpoint, inconsistent resume)."""


class NonFiniteLossError(TrainingError):
    """A training loss became NaN or Inf; the step was not applied."""
