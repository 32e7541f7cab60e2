"""Localization: `from neocog.apps.localization import Localizer`.

    loc = Localizer()                        # the shipped digit localizer
    r = loc(["digit.jpg"])[0]                # r.label "7", r.score 0.99, r.box [x1, y1, x2, y2]
"""

from .. import lazy_exports
from .data import Preprocess
from .head import Localization, LocalizerConfig, LocalizerHead
from .metrics import LocalizationReport, evaluate
from .predictor import DEFAULT_WEIGHTS, Localizer, Located

__all__ = ["DEFAULT_WEIGHTS", "LocalizationReport", "Localization", "Localizer",
           "LocalizerConfig", "LocalizerHead", "LocateTrainConfig", "Located", "Preprocess",
           "TrainResult", "evaluate", "train"]

# train.py loads on first use: see lazy_exports
__getattr__ = lazy_exports(__name__, "train", ("LocateTrainConfig", "TrainResult", "train"))
