"""Object detection: `from neocog.apps.detection import Detector`.

    det = Detector()                        # the shipped digit detector
    det(["scene.jpg"])[0]                   # -> [Detection(box, score, label, index), ...]
    for frame in det.stream("0"):           # webcam 0, one FrameResult per frame
        ...
"""

from .. import lazy_exports
from .head import DetectConfig, DetectHead, Detections, DetectRaw
from .predictor import DEFAULT_WEIGHTS, Detection, Detector, FrameResult

__all__ = ["DEFAULT_WEIGHTS", "DetectConfig", "DetectHead", "DetectRaw", "DetectTrainConfig",
           "Detection", "Detections", "Detector", "FrameResult", "TrainResult", "train"]

# train.py loads on first use: see lazy_exports
__getattr__ = lazy_exports(__name__, "train", ("DetectTrainConfig", "TrainResult", "train"))
