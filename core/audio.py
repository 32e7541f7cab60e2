"""The log-mel front end shared by the speech recogniser and the WaveNet vocoder.

Its settings live in a dataclass stored in every checkpoint, so inference computes
exactly the features the model trained on (after whisper's `audio.py`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torchaudio
from torch import Tensor

from .errors import NeocogError

NORMALIZATIONS = ("per_utterance", "per_band", "none")


@dataclass
class MelConfig:
    sample_rate: int = 8000
    n_fft: int = 256  # 32 ms window at 8 kHz
    hop_length: int = 80  # 10 ms frames
    n_mels: int = 64
    f_min: float = 20.0
    window: str = "hann"
    # per_utterance: zero mean, unit variance over the whole image; per_band: each mel
    # band's mean over time removed first (cepstral mean normalisation: it cancels a fixed
    # spectral tilt, the microphone's and partly the speaker's); none
    normalize: str = "per_utterance"
    # Bins more than this many dB below the utterance's loudest are raised to that floor
    # (whisper's 80 dB): a clean recording's near-digital silence and a noisy one's hiss
    # then look alike. 0: no floor (only the 1e-10 guard against log(0)).
    top_db: float = 0.0
    # Cepstral smoothing: keep this many DCT coefficients of each log-mel frame (the
    # spectral envelope, as MFCCs do) and drop the rest (pitch harmonics and other fine
    # detail that says more about the speaker than the word). 0: off.
    cepstra: int = 0

    def __post_init__(self) -> None:
        if self.normalize not in NORMALIZATIONS:
            raise NeocogError(f"mel normalize must be one of {NORMALIZATIONS}, not {self.normalize!r}")
        if self.top_db < 0:
            raise NeocogError(f"mel top_db must be >= 0 dB (0: no floor), not {self.top_db}")
        if not 0 <= self.cepstra <= self.n_mels:
            raise NeocogError(f"mel cepstra must be in [0, n_mels={self.n_mels}] (0: off), "
                              f"not {self.cepstra}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


WINDOWS = {"hann": torch.hann_window, "hamming": torch.hamming_window}
_cache: dict[tuple, torchaudio.transforms.MelSpectrogram] = {}


def mel_transform(cfg: MelConfig) -> torchaudio.transforms.MelSpectrogram:
    key = tuple(asdict(cfg).values())
    if key not in _cache:
        _cache[key] = torchaudio.transforms.MelSpectrogram(
            sample_rate=cfg.sample_rate, n_fft=cfg.n_fft, hop_length=cfg.hop_length,
            n_mels=cfg.n_mels, f_min=cfg.f_min, window_fn=WINDOWS[cfg.window], power=2.0)
    return _cache[key]


def log_mel(wave: Tensor, cfg: MelConfig) -> Tensor:
    """Tensor[T] or Tensor[B, T] at cfg.sample_rate -> log-mel Tensor[n_mels, frames]
    (or [B, n_mels, frames]), frames = T // hop_length + 1."""
    mel = mel_transform(cfg).to(wave.device)(wave)
    logmel = torch.log(mel.clamp_min(1e-10))
    if cfg.top_db:
        floor = logmel.amax(dim=(-2, -1), keepdim=True) - cfg.top_db * math.log(10) / 10
        logmel = torch.maximum(logmel, floor)
    if cfg.cepstra:
        dct = torchaudio.functional.create_dct(cfg.cepstra, cfg.n_mels, "ortho")  # (n_mels, c)
        # DCT, keep `cepstra` coefficients, inverse DCT: one symmetric (n_mels, n_mels) matrix
        logmel = (dct @ dct.T).to(logmel.device) @ logmel
    if cfg.normalize == "per_band":
        logmel = logmel - logmel.mean(dim=-1, keepdim=True)
    if cfg.normalize != "none":
        mean = logmel.mean(dim=(-2, -1), keepdim=True)
        std = logmel.std(dim=(-2, -1), keepdim=True).clamp_min(1e-5)
        logmel = (logmel - mean) / std
    return logmel
