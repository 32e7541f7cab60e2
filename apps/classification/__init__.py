"""Image classification: `from neocog.apps.classification import Classifier`.

    clf = Classifier()                      # the shipped MNIST model
    clf(["digit.png"])[0].label             # -> "7"
"""

from .. import lazy_exports
from .data import Preprocess
from .head import ClassifierConfig, ClassifierHead, ClassPrediction
from .metrics import ClassificationReport, evaluate
from .predictor import DEFAULT_WEIGHTS, Classification, Classifier

__all__ = ["Classification", "ClassificationReport", "ClassifierConfig", "ClassifierHead",
           "ClassPrediction", "Classifier", "ClassifyTrainConfig", "DEFAULT_WEIGHTS",
           "Preprocess", "TrainResult", "evaluate", "train"]

# train.py loads on first use: see lazy_exports
__getattr__ = lazy_exports(__name__, "train", ("ClassifyTrainConfig", "TrainResult", "train"))
