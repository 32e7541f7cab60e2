"""Linear prediction from the log-mel (`core/lpc.py`, for the LPC WaveNet): Levinson-Durbin
against SciPy's Toeplitz solver, the envelope and level of a real recording, the
prediction against its definition, and the crops an LPC WaveNet trains on."""

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.linalg import solve_toeplitz

import neocog.apps.wavenet as wavenet_app
from neocog.apps.wavenet.data import SILENCE, AudioItem, CropDataset, load_clip, mu_law_encode
from neocog.apps.wavenet.fast import mu_code
from neocog.core.audio import MelConfig
from neocog.core.lpc import (
    EXCITATION_SCALE,
    levinson,
    lpc_from_log_mel,
    per_sample,
    predict,
    predictors,
    raw_log_mel,
)
from neocog.datasets.audio import read_audio

SAMPLE = Path(wavenet_app.__file__).parent / "assets" / "samples" / "7_lucas_0.wav"


def recording() -> torch.Tensor:
    return torch.from_numpy(read_audio(SAMPLE, 8000).samples)


def test_levinson_solves_the_toeplitz_normal_equations():
    x = np.random.default_rng(0).standard_normal(500)
    r = np.array([x[: len(x) - k] @ x[k:] for k in range(11)])  # a positive-definite sequence
    a, err = (v[0].numpy() for v in levinson(torch.from_numpy(r)[None]))
    assert a[0] == 1.0
    # R a[1:] = -r[1:], R the Toeplitz matrix of r[0..order-1]
    np.testing.assert_allclose(a[1:], solve_toeplitz(r[:10], -r[1:]), rtol=1e-8, atol=1e-10)
    assert err == pytest.approx(a @ r)  # the prediction-error power


def test_predictors_from_the_mel_predict_a_real_recording():
    wave, mel = recording(), MelConfig()
    coeffs, rms = lpc_from_log_mel(raw_log_mel(wave, mel), mel, 16)
    assert coeffs.shape == (wave.shape[0] // mel.hop_length + 1, 17) and rms.shape == coeffs.shape[:1]
    pred = predict(wave, per_sample(coeffs, wave.shape[0], mel.hop_length))
    gain_db = 10 * torch.log10(wave.var() / (wave - pred).var())
    assert gain_db > 10, gain_db  # speech is predictable: the excitation is 10x quieter
    noise = torch.randn(4000, generator=torch.Generator().manual_seed(0)) * 0.1
    white, noise_rms = lpc_from_log_mel(raw_log_mel(noise, mel), mel, 16)
    noise_pred = predict(noise, per_sample(white, 4000, mel.hop_length))
    assert 10 * torch.log10(noise.var() / (noise - noise_pred).var()) < 1.0  # white: unpredictable
    # The implied excitation level is the real one: white noise's rms, frame by frame.
    assert float(noise_rms[2:-2].median()) == pytest.approx(0.1, rel=0.15)


def test_the_mel_sets_the_excitation_level_of_a_real_recording():
    wave, mel = recording(), MelConfig()
    lpc = predictors(wave, mel, 16)
    excitation = (wave - predict(wave, lpc.coeffs)) / lpc.scale  # coded as this, in [-1, 1]
    loud = wave.unfold(0, 80, 80).pow(2).mean(1) > 1e-4  # speech frames, 10 ms each
    level = excitation[: len(loud) * 80].unfold(0, 80, 80).pow(2).mean(1).sqrt()[loud]
    # Unit expected rms becomes 1 / EXCITATION_SCALE; within a factor of 1.5 frame by frame.
    assert 1 / 1.5 < float(level.median()) * EXCITATION_SCALE < 1.5


def test_prediction_is_the_weighted_sum_of_the_samples_before():
    wave = torch.randn(50)
    coeffs = torch.randn(50, 4)
    pred = predict(wave, coeffs)
    for t in (0, 1, 3, 49):
        expected = -sum(float(coeffs[t, k] * wave[t - k]) for k in range(1, 4) if t - k >= 0)
        assert float(pred[t]) == pytest.approx(expected, abs=1e-5)


def test_per_sample_takes_the_nearest_frame():
    coeffs = torch.arange(4.0)[:, None]  # frames 0..3
    assert per_sample(coeffs, 321, 80)[[0, 39, 40, 119, 120, 320], 0].tolist() == \
        [0, 0, 1, 1, 2, 3]


def test_scalar_mu_law_matches_torchaudio():
    values = np.linspace(-1, 1, 2001)
    expected = mu_law_encode(torch.from_numpy(values)).tolist()
    assert [mu_code(float(v)) for v in values] == expected


def test_lpc_crops_train_on_the_excitation_and_without_mel_on_the_samples():
    mel = MelConfig()
    clip = load_clip(AudioItem(SAMPLE), mel, 0, [], [], lpc_order=16)
    lpc = predictors(recording(), mel, 16)
    excitation = (recording() - predict(recording(), lpc.coeffs)) / lpc.scale
    assert torch.equal(clip.excitation, mu_law_encode(excitation))
    frames = clip.codes.shape[0] // mel.hop_length  # a crop of the whole clip: it starts at 0
    length = frames * mel.hop_length
    inputs, targets = CropDataset([clip], frames, mel.hop_length, crops=1)[0]
    assert torch.equal(inputs["pred"], clip.pred[:length])
    assert torch.equal(targets, clip.excitation[:length])
    assert inputs["excitation"][0] == SILENCE  # the excitation before target t
    assert torch.equal(inputs["excitation"][1:], clip.excitation[: length - 1])
    assert torch.equal(inputs["codes"][1:], clip.codes[: length - 1])
    inputs, targets = CropDataset([clip], frames, mel.hop_length, crops=1, drop_mel=1.0)[0]
    assert bool((inputs["pred"] == SILENCE).all()) and bool((inputs["mel"] == 0).all())
    assert torch.equal(inputs["excitation"], inputs["codes"])  # no envelope: e = the sample
    assert torch.equal(targets, clip.codes[:length])  # no envelope: the samples themselves
