"""Speech recognition: a log-mel spectrogram read by the shared 2-D backbone, a CTC head.

    from neocog.apps.speech import Transcriber
    Transcriber().transcribe("digits.wav")                  # -> "seven three one"
    Transcriber().transcribe(wave, sample_rate=16000)       # a float32 numpy waveform
"""

from .head import ALPHABET, CTCConfig, CTCHead
from .metrics import error_rates
from .predictor import DEFAULT_WEIGHTS, Transcriber
from .train import SpeechTrainConfig, TrainResult, train

__all__ = ["ALPHABET", "CTCConfig", "CTCHead", "DEFAULT_WEIGHTS", "SpeechTrainConfig",
           "Transcriber", "TrainResult", "error_rates", "train"]
