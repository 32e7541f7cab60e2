"""Speech recognition: a log-mel spectrogram read by the shared 2-D backbone, a CTC head.

    from neocog.apps.speech import Transcriber
    Transcriber().transcribe("digits.wav")                  # -> "seven three one"
    Transcriber().transcribe(wave, sample_rate=16000)       # a float32 numpy waveform
"""

from .. import lazy_exports
from .head import ALPHABET, CTCConfig, CTCHead
from .metrics import error_rates
from .predictor import DEFAULT_WEIGHTS, Transcriber

__all__ = ["ALPHABET", "CTCConfig", "CTCHead", "DEFAULT_WEIGHTS", "SpeechTrainConfig",
           "Transcriber", "TrainResult", "error_rates", "train"]

# train.py loads on first use: see lazy_exports
__getattr__ = lazy_exports(__name__, "train", ("SpeechTrainConfig", "TrainResult", "train"))
