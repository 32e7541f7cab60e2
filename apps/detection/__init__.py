"""Object detection: `from neocog.apps.detection import Detector`.

    det = Detector()                        # the shipped digit detector
    det(["scene.jpg"])[0]                   # -> [Detection(box, score, label, index), ...]
    for frame in det.stream("0"):           # webcam 0, one FrameResult per frame
        ...
"""

from .head import DetectConfig, DetectHead, Detections, DetectRaw
from .predictor import DEFAULT_WEIGHTS, Detection, Detector, FrameResult
from .train import DetectTrainConfig, TrainResult, train

__all__ = ["DEFAULT_WEIGHTS", "DetectConfig", "DetectHead", "DetectRaw", "DetectTrainConfig",
           "Detection", "Detections", "Detector", "FrameResult", "TrainResult", "train"]
