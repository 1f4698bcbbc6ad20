"""Faces: detector backends behind one interface, box tracking and smoothing, square crops."""

from toontalker.faces.boxes import Box, crop_resize, non_max_suppression, square_box
from toontalker.faces.detectors import (
    AUTO_ORDER,
    BACKENDS,
    FaceDetector,
    available_detectors,
    get_detector,
)
from toontalker.faces.tracking import (
    ANIMATE_TRACKING,
    DATASET_TRACKING,
    BoxSmoother,
    FaceTrack,
    FaceTrackState,
    TrackConfig,
    smooth_boxes,
    stable_box,
    track_boxes,
)

__all__ = [
    "ANIMATE_TRACKING",
    "AUTO_ORDER",
    "BACKENDS",
    "DATASET_TRACKING",
    "Box",
    "BoxSmoother",
    "FaceDetector",
    "FaceTrack",
    "FaceTrackState",
    "TrackConfig",
    "available_detectors",
    "crop_resize",
    "get_detector",
    "non_max_suppression",
    "smooth_boxes",
    "square_box",
    "stable_box",
    "track_boxes",
]
