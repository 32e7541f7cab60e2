"""Image classification: `from neocog.apps.classification import Classifier`.

    clf = Classifier()                      # the shipped MNIST model
    clf(["digit.png"])[0].label             # -> "7"
"""

from .data import Preprocess
from .head import ClassifierConfig, ClassifierHead, ClassPrediction
from .metrics import ClassificationReport, evaluate
from .predictor import DEFAULT_WEIGHTS, Classification, Classifier
from .train import ClassifyTrainConfig, TrainResult, train

__all__ = ["Classification", "ClassificationReport", "ClassifierConfig", "ClassifierHead",
           "ClassPrediction", "Classifier", "ClassifyTrainConfig", "DEFAULT_WEIGHTS",
           "Preprocess", "TrainResult", "evaluate", "train"]
