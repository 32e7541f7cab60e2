"""Reading audio for the speech and WaveNet apps: any file soundfile reads (wav, flac,
ogg, opus, mp3, aiff, au, caf: AUDIO_SUFFIXES), mixed to mono and resampled to the
model's rate, with clear errors.

A file's header is not believed blindly: a WAV cut short, NaN samples, a rate no
recording has, or more samples than fit in memory are one-line errors naming the file.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

from neocog.core.errors import NeocogError

from .images import inside, list_files

# What soundfile (libsndfile 1.1+) decodes, by the names a folder is listed by; a single
# file is held to the same list (see list_files).
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".aifc",
                  ".au", ".snd", ".caf", ".w64", ".rf64")
SILENCE = 1e-4  # peak amplitude below which a file holds nothing to hear
# A mix whose peak is under this share of its loudest channel's has cancelled itself:
# channels in anti-phase (one wired with its polarity inverted; left = -right mixes to 0).
CANCELLED = 0.1
MIN_RATE = 1000  # Hz; no recording is sampled slower, and 1 Hz resampled to 8 kHz is 8000x longer
MAX_SAMPLES = 1 << 26  # read or made at once: 256 MiB of float32, an hour of 16 kHz mono
# Values in torchaudio's resampling kernel, about (to / g) x (from / g) for rates with
# greatest common divisor g: 44101 -> 8000 Hz would need 8000 x 44101 (12 s, 6 GB).
MAX_KERNEL = 1 << 20
UNKNOWN_SIZE = 0xFFFFFFFF  # the data size a WAV writer that cannot seek back (a pipe) leaves


@dataclass
class Audio:
    samples: np.ndarray  # float32 (T,), mono, in [-1, 1]
    sample_rate: int
    note: str  # "" or what was converted, e.g. "2 channels at 44100 Hz, resampled to ..."


def read_audio(path: str | Path, sample_rate: int) -> Audio:
    """Read `path`, mix to mono, resample to `sample_rate`.

    Raises NeocogError naming the file when it is missing, unreadable, truncated, empty,
    silent, holds NaN or infinite samples, or claims a rate or length beyond the limits.
    """
    path = Path(path)
    data, rate = decode(path)
    mono, note = mix_to_mono(path, data)
    if rate != sample_rate:
        mono = resample(mono, rate, sample_rate, str(path))
        note.append(f"at {rate} Hz, resampled")
    text = f"{path}: {' '.join(note)} to mono {sample_rate} Hz" if note else ""
    return Audio(mono.astype(np.float32), sample_rate, text)


def decode(path: Path) -> tuple[np.ndarray, int]:
    """An audio file -> (float32 samples (T, channels), rate), its header checked first."""
    if not path.is_file():
        raise NeocogError(f"{path}: no such audio file")
    try:
        info = sf.info(str(path))
        check_header(path, info.frames, info.channels)
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)  # (T, channels)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        raise NeocogError(f"{path}: unreadable audio ({err})") from None
    if data.shape[0] == 0:
        raise NeocogError(f"{path}: empty audio (0 samples)")
    bad = int(data.size - np.isfinite(data).sum())
    if bad:
        raise NeocogError(f"{path}: {bad} samples are NaN or infinite")
    return data, rate


def check_header(path: Path, frames: int, channels: int) -> None:
    """Refuse a file too long to read, or a WAV cut short, before any sample is decoded."""
    if frames * channels > MAX_SAMPLES:
        raise NeocogError(f"{path}: {frames} frames x {channels} channels is over the "
                          f"{MAX_SAMPLES} samples read at once; split the file")
    sizes = wav_data_sizes(path)
    if sizes and sizes[0] != UNKNOWN_SIZE and sizes[1] < sizes[0]:
        raise NeocogError(f"{path}: truncated: its header promises {sizes[0]} bytes of samples, "
                          f"the file holds {sizes[1]}")


def wav_data_sizes(path: Path) -> tuple[int, int] | None:
    """A RIFF WAVE file's (bytes its data chunk declares, bytes the file holds after the
    chunk's header); None for other files or one without a data chunk (soundfile says so).

    libsndfile reads what there is of a truncated WAV without a word, so the declared
    size is compared with the file's here.
    """
    with path.open("rb") as f:
        riff = f.read(12)
        if len(riff) < 12 or riff[:4] not in (b"RIFF", b"RIFX") or riff[8:] != b"WAVE":
            return None
        order = "<" if riff[:4] == b"RIFF" else ">"  # RIFX: the big-endian variant
        while len(chunk := f.read(8)) == 8:
            (size,) = struct.unpack(f"{order}I", chunk[4:])
            if chunk[:4] == b"data":
                return size, os.fstat(f.fileno()).st_size - f.tell()
            f.seek(size + size % 2, os.SEEK_CUR)  # chunks are padded to an even size
    return None


def mix_to_mono(path: Path, data: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """float32 (T, C) -> (mono (T,), what was done): the mean of the channels, or the
    loudest channel when they cancel in the mean (anti-phase wiring)."""
    peaks = np.abs(data).max(axis=0)  # (C,)
    loudest = int(peaks.argmax())
    if peaks[loudest] < SILENCE:
        raise NeocogError(f"{path}: silent audio (peak below {SILENCE})")
    channels = data.shape[1]
    if channels == 1:
        return data[:, 0], []
    mono = data.mean(axis=1)  # (T, C) -> (T,)
    if np.abs(mono).max() < CANCELLED * peaks[loudest]:
        return data[:, loudest], [f"{channels} channels cancelling in their mix (anti-phase), "
                                  f"channel {loudest} kept"]
    return mono, [f"{channels} channels"]


def resample(wave: np.ndarray, rate: int, target: int, what: str) -> np.ndarray:
    """float32 (T,) at `rate` -> (T * target / rate,) at `target`; `what` names the
    source in errors. Bounded: a rate below MIN_RATE or a result over MAX_SAMPLES is
    refused, and a ratio whose exact kernel is huge uses a close one (see `kernel_rates`)."""
    if rate < MIN_RATE:
        raise NeocogError(f"{what}: a sample rate of {rate} Hz, below {MIN_RATE} Hz (a bad header?)")
    length = math.ceil(len(wave) * target / rate)
    if length > MAX_SAMPLES:
        raise NeocogError(f"{what}: {len(wave)} samples at {rate} Hz make {length} at {target} Hz, "
                          f"over the {MAX_SAMPLES} made at once; split the file")
    return AF.resample(torch.from_numpy(wave), *kernel_rates(rate, target)).numpy()


def kernel_rates(rate: int, target: int) -> tuple[int, int]:
    """The (from, to) rates handed to torchaudio: the true ones, or when their ratio in
    lowest terms needs over MAX_KERNEL kernel values, the nearest ratio that fits
    (44101 -> 8000 Hz becomes 2183 -> 396; from any rate of 1-400 kHz to 8, 16 or 22.05
    kHz the pitch moves by at most 0.05%)."""
    g = math.gcd(rate, target)
    if (rate // g) * (target // g) <= MAX_KERNEL:
        return rate, target
    # (to/from) x from**2 <= MAX_KERNEL bounds the kernel of the approximation.
    ratio = Fraction(target, rate).limit_denominator(math.isqrt(MAX_KERNEL * rate // target))
    return ratio.denominator, ratio.numerator


def list_audio(source: str | Path) -> list[Path]:
    return list_files(source, AUDIO_SUFFIXES, "audio")


def manifest_rows(path: Path, required: tuple[str, ...]) -> list[tuple[dict[str, Any], Path]]:
    """A JSONL manifest (speech, WaveNet) -> (row, its audio file) per non-blank line.

    Each line is a JSON object whose `required` fields are strings, "audio" among them:
    a path relative to the manifest (one climbing out of its folder is refused) or absolute.
    """
    if not path.is_file():
        raise NeocogError(f"{path}: no such manifest")
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as err:
            raise NeocogError(f"{path}: line {number} is not JSON ({err})") from None
        if not (isinstance(row, dict) and all(isinstance(row.get(k), str) for k in required)):
            raise NeocogError(f"{path}: line {number} is not a JSON object with string "
                              f"{', '.join(required)}")
        rows.append((row, inside(path.parent, row["audio"], f"{path}: line {number}", absolute=True)))
    if not rows:
        raise NeocogError(f"{path}: manifest lists no audio")
    return rows
