"""Reading audio for the speech and WaveNet apps: any file soundfile reads (wav, flac,
ogg), mixed to mono and resampled to the model's rate, with clear errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

from neocog.core.errors import NeocogError

from .images import list_files

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
SILENCE = 1e-4  # peak amplitude below which a file holds nothing to hear


@dataclass
class Audio:
    samples: np.ndarray  # float32 (T,), mono, in [-1, 1]
    sample_rate: int
    note: str  # "" or what was converted, e.g. "2 channels at 44100 Hz, resampled to ..."


def read_audio(path: str | Path, sample_rate: int) -> Audio:
    """Read `path`, mix to mono, resample to `sample_rate`.

    Raises NeocogError naming the file when it is missing, unreadable, empty or silent.
    """
    path = Path(path)
    if not path.is_file():
        raise NeocogError(f"{path}: no such audio file")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)  # (T, channels)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        raise NeocogError(f"{path}: unreadable audio ({err})") from None
    if data.shape[0] == 0:
        raise NeocogError(f"{path}: empty audio (0 samples)")
    channels = data.shape[1]
    mono = data.mean(axis=1)  # (T, C) -> (T,)
    if np.abs(mono).max() < SILENCE:
        raise NeocogError(f"{path}: silent audio (peak below {SILENCE})")
    note = []
    if channels > 1:
        note.append(f"{channels} channels")
    if rate != sample_rate:
        mono = AF.resample(torch.from_numpy(mono), rate, sample_rate).numpy()
        note.append(f"at {rate} Hz, resampled")
    text = f"{path}: {' '.join(note)} to mono {sample_rate} Hz" if note else ""
    return Audio(mono.astype(np.float32), sample_rate, text)


def list_audio(source: str | Path) -> list[Path]:
    return list_files(source, AUDIO_SUFFIXES, "audio")
