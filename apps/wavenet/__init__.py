"""WaveNet: train on raw audio, generate, and vocode from log-mel, with cached generation."""

from .fast import FastGenerator
from .model import TASK, WaveNet, WaveNetConfig
from .predictor import DEFAULT_WEIGHTS, Synthesizer
from .train import WaveNetTrainConfig, train

__all__ = ["DEFAULT_WEIGHTS", "TASK", "FastGenerator", "Synthesizer", "WaveNet", "WaveNetConfig",
           "WaveNetTrainConfig", "train"]
