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


def test_per_band_normalisation_cancels_a_fixed_equaliser():
    """A fixed gain on one part of the spectrum (a microphone's colour) is a constant in
    the log-mel bands that part dominates: per_band removes it, per_utterance does not."""
    t = np.arange(8000) / 8000
    fade = np.linspace(0.2, 1, 8000)
    low, high = np.sin(2 * np.pi * 300 * t) * fade, np.sin(2 * np.pi * 1700 * t) * fade[::-1]
    plain = torch.tensor(0.3 * (low + high), dtype=torch.float32)
    tinny = torch.tensor(0.3 * (0.1 * low + high), dtype=torch.float32)  # -20 dB at 300 Hz
    dominated = [*range(5, 15), *range(36, 46)]  # bands around 300 Hz and around 1.7 kHz
    for normalize, bound in (("per_band", lambda d: d < 0.1), ("per_utterance", lambda d: d > 0.15)):
        cfg = MelConfig(normalize=normalize)
        diff = (log_mel(plain, cfg) - log_mel(tinny, cfg)).abs()[dominated, 5:-5]
        assert bound(float(diff.max())), normalize


def test_cepstral_smoothing_keeps_the_envelope_and_drops_the_harmonics():
    """A 120 Hz buzz through a fixed resonance: its log-mel frame ripples with the
    harmonics in the low bands; keeping 20 cepstra keeps the frame's broad shape and
    flattens the ripple; keeping all of them changes nothing."""
    t = np.arange(8000) / 8000
    buzz = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 30))
    wave = torch.tensor(0.1 * buzz, dtype=torch.float32)
    raw = log_mel(wave, MelConfig(normalize="none"))[:, 50]
    smooth = log_mel(wave, MelConfig(normalize="none", cepstra=20))[:, 50]
    same = log_mel(wave, MelConfig(normalize="none", cepstra=64))[:, 50]
    assert torch.allclose(same, raw, atol=1e-3)
    ripple = lambda frame: float(frame[:24].diff().abs().mean())  # noqa: E731
    assert ripple(smooth) < 0.5 * ripple(raw)
    assert float(np.corrcoef(smooth.numpy(), raw.numpy())[0, 1]) > 0.8
    with pytest.raises(NeocogError, match="cepstra must be in"):
        MelConfig(cepstra=65)


def test_an_unknown_normalisation_is_refused():
    with pytest.raises(NeocogError, match="per_band"):
        MelConfig(normalize="per_speaker")
    with pytest.raises(NeocogError, match="top_db must be >= 0"):
        MelConfig(top_db=-10.0)


def test_a_db_floor_makes_clean_and_faintly_noisy_audio_look_alike():
    """Near-digital silence sits ~200 dB down without a floor; a 60 dB floor under the
    loudest bin hides the difference between it and faint hiss."""
    t = np.arange(8000) / 8000
    clean = np.sin(2 * np.pi * 500 * t) * (t > 0.5)  # half a second of silence, then a tone
    hiss = clean + np.random.default_rng(0).normal(0, 1e-4, len(t))
    for top_db, close in ((60.0, True), (0.0, False)):
        cfg = MelConfig(normalize="none", top_db=top_db)
        a, b = (log_mel(torch.tensor(w, dtype=torch.float32), cfg) for w in (clean, hiss))
        assert torch.allclose(a, b, atol=0.5) is close
        if top_db:
            assert float(a.max() - a.min()) == pytest.approx(top_db * np.log(10) / 10, rel=1e-4)
