"""Audio reading and the log-mel front end shared by speech and WaveNet."""

import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio

from neocog.core.audio import MelConfig, log_mel
from neocog.core.errors import NeocogError
from neocog.datasets.audio import read_audio

from .conftest import SHARED


def tone(seconds=0.5, rate=8000, freq=440.0):
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_reads_a_real_fsdd_recording():
    path = SHARED / "fsdd" / "recordings" / "0_jackson_0.wav"
    if not path.exists():
        pytest.skip("../shared/data/fsdd is not here")
    audio = read_audio(path, 8000)
    assert audio.sample_rate == 8000 and audio.note == "" and audio.samples.ndim == 1
    assert 0.1 < len(audio.samples) / 8000 < 2


def test_stereo_44k_is_mixed_and_resampled_with_a_note(tmp_path):
    path = tmp_path / "stereo.flac"
    wave = tone(1.0, 44100)
    sf.write(path, np.stack([wave, wave], axis=1), 44100)
    audio = read_audio(path, 8000)
    assert abs(len(audio.samples) - 8000) <= 1
    assert audio.note == f"{path}: 2 channels at 44100 Hz, resampled to mono 8000 Hz"


@pytest.mark.parametrize("content,message", [
    (None, "empty audio"), (np.zeros(800, np.float32), "silent audio"),
    (b"RIFF\x00\x00", "unreadable audio")])
def test_bad_files_are_named(tmp_path, content, message):
    path = tmp_path / "bad.wav"
    if content is None:
        sf.write(path, np.zeros(0, np.float32), 8000)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        sf.write(path, content, 8000)
    with pytest.raises(NeocogError, match=f"bad.wav: {message}"):
        read_audio(path, 8000)


def test_log_mel_matches_torchaudio_and_has_the_documented_shape():
    cfg = MelConfig(normalize="none")
    wave = torch.from_numpy(tone(1.0))
    ours = log_mel(wave, cfg)
    assert ours.shape == (cfg.n_mels, 8000 // cfg.hop_length + 1)
    ref = torchaudio.transforms.MelSpectrogram(8000, n_fft=256, hop_length=80, n_mels=64,
                                               f_min=20.0)(wave)
    assert torch.allclose(ours, ref.clamp_min(1e-10).log(), atol=1e-5)
    normed = log_mel(wave, MelConfig())
    assert abs(float(normed.mean())) < 1e-4 and abs(float(normed.std()) - 1) < 1e-3
