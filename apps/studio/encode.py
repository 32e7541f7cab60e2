"""Arrays to what a browser shows: PNG data URLs of maps and images, WAV bytes of audio."""

from __future__ import annotations

import base64
import io

import matplotlib
import numpy as np
import soundfile as sf
from PIL import Image
from torch import Tensor

from neocog.core.visualize import tile


def png_url(image: np.ndarray) -> str:
    """float (H, W) or (H, W, 3) in [0, 1], or uint8 -> a data:image/png URL."""
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def maps_url(maps: Tensor) -> str:
    """Tensor[N, H, W] of one layer's maps -> one PNG grid, each map scaled on its own."""
    return png_url(tile(maps.detach().float().cpu()))


def spectrogram_url(logmel: Tensor) -> str:
    """A log-mel Tensor[n_mels, frames] -> PNG, low frequencies at the bottom, magma colours."""
    values = logmel.detach().float().cpu().numpy()[::-1]  # (n_mels, frames), row 0 = highest band
    lo, hi = values.min(), values.max()
    scaled = (values - lo) / max(float(hi - lo), 1e-8)
    return png_url(matplotlib.colormaps["magma"](scaled)[..., :3])


def wav_bytes(wave: np.ndarray, sample_rate: int) -> bytes:
    """float32 (T,) in [-1, 1] -> a 16-bit PCM WAV file's bytes."""
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(wave, -1, 1), sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()
