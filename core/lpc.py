"""Linear prediction from a log-mel spectrogram, for LPCNet-style vocoding (Valin &
Skoglund 2019): the spectral envelope comes from the mel frames by linear prediction,
and the WaveNet only models what the envelope cannot predict, the excitation.

The mel frames are turned back into a smooth power spectrum, its inverse FFT is the
autocorrelation, and Levinson-Durbin gives the predictor of each frame and its
prediction-error power. Sample t is then predicted from the `order` samples before it,
p[t] = -sum_k a[k] x[t - k], and the excitation x[t] - p[t] is coded relative to the
error power the mel implies, so the level of the output is the mel's, by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor

from neocog.core.audio import MelConfig, log_mel, mel_transform

LAG_WINDOW_HZ = 60.0  # Gaussian lag window: widens each formant peak by ~60 Hz (stability)
NOISE_FLOOR = 1e-4  # white-noise correction: r[0] *= 1 + this (a well-conditioned system)
# The excitation is coded as e / (EXCITATION_SCALE * rms): excitation at the rms the mel implies
# uses 1/8 of mu-law's range, and glottal pulses up to 8x the rms still fit.
EXCITATION_SCALE = 8.0


@dataclass
class Predictors:
    """A recording's linear prediction, per sample: `coeffs` Tensor[T, order + 1] (a[:, 0]
    = 1) and `scale` Tensor[T], the factor that turns a coded excitation (in [-1, 1]) into
    samples: EXCITATION_SCALE x the excitation rms the mel frame implies."""

    coeffs: Tensor
    scale: Tensor


def raw_log_mel(wave: Tensor, mel: MelConfig) -> Tensor:
    """Tensor[T] -> un-normalised natural-log mel power Tensor[n_mels, frames]: what the
    envelope is read from (a normalised log-mel has lost the spectrum's shape)."""
    return log_mel(wave, replace(mel, normalize="none", top_db=0.0))


def mel_to_power(logmel: Tensor, mel: MelConfig) -> Tensor:
    """Un-normalised log-mel Tensor[n_mels, F] -> power spectrum Tensor[n_fft // 2 + 1, F]:
    each band's power per FFT bin, spread back over the bins its triangle covers."""
    fb = mel_transform(mel).mel_scale.fb  # (n_freqs, n_mels) triangles
    per_bin = logmel.exp() / fb.sum(0).clamp_min(1e-8)[:, None]  # band power / bins it sums
    share = fb / fb.sum(1, keepdim=True).clamp_min(1e-8)  # (n_freqs, n_mels): rows sum to 1
    return (share @ per_bin).clamp_min(1e-10)


def levinson(r: Tensor) -> tuple[Tensor, Tensor]:
    """Autocorrelations Tensor[F, order + 1] -> (predictors Tensor[F, order + 1], a[:, 0] = 1,
    prediction-error powers Tensor[F]), solving the Toeplitz normal equations of each row
    (Levinson-Durbin, float64)."""
    r = r.double()
    order = r.shape[1] - 1
    a = torch.zeros_like(r)
    a[:, 0] = 1.0
    err = r[:, 0].clone()
    for i in range(1, order + 1):
        k = -(a[:, :i] * r[:, 1: i + 1].flip(1)).sum(1) / err  # reflection coefficient
        a[:, 1: i + 1] = a[:, 1: i + 1] + k[:, None] * a[:, :i].flip(1)
        err = err * (1 - k**2)
    return a, err


def lpc_from_log_mel(logmel: Tensor, mel: MelConfig, order: int) -> tuple[Tensor, Tensor]:
    """Un-normalised log-mel Tensor[n_mels, F] -> (predictors Tensor[F, order + 1], a[:, 0] = 1;
    the excitation rms per sample each frame implies, Tensor[F])."""
    power = mel_to_power(logmel, mel)
    r = torch.fft.irfft(power.T.double(), n=mel.n_fft)[:, : order + 1]  # (F, order + 1)
    lag = torch.arange(order + 1, dtype=torch.float64)
    r = r * torch.exp(-0.5 * (2 * torch.pi * LAG_WINDOW_HZ / mel.sample_rate * lag) ** 2)
    r[:, 0] *= 1 + NOISE_FLOOR
    a, err = levinson(r)
    # A white signal of variance s^2 has E|X_k|^2 = s^2 * sum(window^2), so r, and the
    # error power, are per-sample powers times sum(window^2).
    window = mel_transform(mel).spectrogram.window
    rms = (err.clamp_min(0) / float((window.double() ** 2).sum())).sqrt()
    return a.float(), rms.float().clamp_min(1e-6)


def per_sample(frames: Tensor, length: int, hop: int) -> Tensor:
    """Per-frame values Tensor[F, ...] -> Tensor[length, ...]: sample t takes the frame
    centred nearest to it (frame f is centred on sample f * hop)."""
    frame = ((torch.arange(length) + hop // 2) // hop).clamp_max(frames.shape[0] - 1)
    return frames[frame]


def predictors(wave: Tensor, mel: MelConfig, order: int) -> Predictors:
    """float Tensor[T] -> its per-sample Predictors, read from its own mel frames."""
    coeffs, rms = lpc_from_log_mel(raw_log_mel(wave, mel), mel, order)
    return Predictors(per_sample(coeffs, wave.shape[0], mel.hop_length),
                      EXCITATION_SCALE * per_sample(rms, wave.shape[0], mel.hop_length))


def predict(wave: Tensor, coeffs: Tensor) -> Tensor:
    """Teacher-forced prediction: wave Tensor[T], per-sample predictors Tensor[T, order + 1]
    -> p Tensor[T], p[t] = -sum_{k=1..order} a[t, k] wave[t - k] (zeros before the start)."""
    order = coeffs.shape[1] - 1
    past = torch.nn.functional.pad(wave, (order, 0)).unfold(0, order, 1)[:-1]  # (T, order)
    # past[t] = wave[t - order .. t - 1]; flipped, column k - 1 holds wave[t - k]
    return -(past.flip(1) * coeffs[:, 1:]).sum(1)
