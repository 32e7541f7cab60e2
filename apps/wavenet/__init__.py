"""WaveNet: train on raw audio, generate, and vocode from log-mel, with cached generation."""

from .. import lazy_exports
from .fast import FastGenerator
from .model import TASK, WaveNet, WaveNetConfig
from .predictor import DEFAULT_WEIGHTS, Synthesizer

__all__ = ["DEFAULT_WEIGHTS", "TASK", "FastGenerator", "Synthesizer", "WaveNet", "WaveNetConfig",
           "WaveNetTrainConfig", "train"]

# train.py loads on first use: see lazy_exports
__getattr__ = lazy_exports(__name__, "train", ("WaveNetTrainConfig", "train"))
