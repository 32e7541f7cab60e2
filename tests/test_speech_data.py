"""Speech corpora readers and the connected-digit generator, on real FSDD recordings and
small LibriSpeech / Speech Commands / manifest trees made here."""

import json

import librosa
import numpy as np
import pytest
import soundfile as sf
import torch

from neocog.apps.speech.data import Augment, warp_bands
from neocog.core.audio import MelConfig, log_mel
from neocog.core.errors import NeocogError
from neocog.datasets.speech import (
    DigitBank,
    DigitSpec,
    fsdd_official_split,
    fsdd_speaker_split,
    normalize_text,
    read_corpus,
    read_fsdd,
    read_manifest,
)

from .conftest import SHARED

FSDD = SHARED / "fsdd" / "recordings"


@pytest.fixture(scope="module")
def fsdd():
    if not FSDD.is_dir():
        pytest.skip("../shared/data/fsdd is not here")
    return read_fsdd(FSDD)


def tone(seconds=0.4, rate=16000):
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)


def test_text_is_normalised_to_the_alphabet():
    assert normalize_text("Seven, THREE!  don't-stop") == "seven three don't stop"


def test_fsdd_names_give_digit_speaker_take_and_both_splits(fsdd):
    assert len(fsdd) == 2500 and {r.speaker for r in fsdd} == {
        "jackson", "nicolas", "yweweler", "george", "lucas"}
    first = next(r for r in fsdd if r.path.name == "7_lucas_12.wav")
    assert (first.digit, first.speaker, first.take) == (7, "lucas", 12)
    train, test = fsdd_official_split(fsdd)
    assert len(test) == 250 and all(r.take < 5 for r in test) and len(train) == 2250
    train, test = fsdd_speaker_split(fsdd, "george")
    assert {r.speaker for r in test} == {"george"} and "george" not in {r.speaker for r in train}
    with pytest.raises(NeocogError, match="speaker 'alice' not found"):
        fsdd_speaker_split(fsdd, "alice")


def test_fsdd_speaker_names_may_hold_digits_and_a_stray_wav_is_named(tmp_path):
    for name in ("3_spk1_0", "7_anne-marie_12"):
        sf.write(tmp_path / f"{name}.wav", tone(rate=8000), 8000)
    assert [(r.digit, r.speaker, r.take) for r in read_fsdd(tmp_path)] == [
        (3, "spk1", 0), (7, "anne-marie", 12)]
    sf.write(tmp_path / "take two.wav", tone(rate=8000), 8000)
    with pytest.raises(NeocogError, match=r"take two\.wav: not an FSDD name"):
        read_fsdd(tmp_path)


def test_connected_digits_match_the_benchmark_recipe(fsdd):
    held = [r for r in fsdd if r.speaker == "jackson" and r.digit in (1, 2) and r.take < 3]
    bank = DigitBank(held, 8000)
    lengths = {len(w) for w in bank.waves}
    rng = np.random.default_rng(0)
    for _ in range(20):
        wave, text, speaker = bank.utterance(rng, DigitSpec())
        words = text.split()
        assert speaker == "jackson" and 1 <= len(words) <= 7 and set(words) <= {"one", "two"}
        speech = len(wave) - (len(words) + 1) * 400  # at least 50 ms between and around
        assert min(lengths) * len(words) <= speech, "pauses shorter than 50 ms"
        assert wave.dtype == np.float32 and np.abs(wave).max() < 1.1


def test_manifest_paths_are_relative_and_a_bad_line_is_named(tmp_path):
    (tmp_path / "a").mkdir()
    sf.write(tmp_path / "a" / "x.wav", tone(), 16000)
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"audio": "a/x.wav", "text": "Hello World"}) + "\n")
    items = read_manifest(manifest)
    assert items[0].audio == tmp_path / "a" / "x.wav" and items[0].text == "hello world"
    manifest.write_text(manifest.read_text() + '{"audio": "b.wav"}\n')
    with pytest.raises(NeocogError, match=r"m.jsonl: line 2 is not"):
        read_manifest(manifest)


def test_librispeech_tree(tmp_path):
    chapter = tmp_path / "LibriSpeech" / "dev-clean" / "84" / "121123"
    chapter.mkdir(parents=True)
    for n in range(2):
        sf.write(chapter / f"84-121123-000{n}.flac", tone(), 16000)
    (chapter / "84-121123.trans.txt").write_text(
        "84-121123-0000 GO DO YOU HEAR\n84-121123-0001 BUT IN LESS THAN FIVE MINUTES\n")
    items = read_corpus(tmp_path / "LibriSpeech")
    assert [i.text for i in items] == ["go do you hear", "but in less than five minutes"]
    assert items[1].audio.name == "84-121123-0001.flac" and items[1].audio.is_file()
    assert items[0].speaker == "84"


def test_speech_commands_tree_skips_background_noise(tmp_path):
    for word in ("yes", "no", "_background_noise_"):
        (tmp_path / word).mkdir()
        sf.write(tmp_path / word / "0a7c2a8d_nohash_0.wav", tone(), 16000)
    items = read_corpus(tmp_path)
    assert sorted(i.text for i in items) == ["no", "yes"]
    assert items[0].speaker == "0a7c2a8d"


def test_fsdd_folder_reads_as_isolated_words(tmp_path, fsdd):
    for r in fsdd[:3]:
        (tmp_path / r.path.name).write_bytes(r.path.read_bytes())
    items = read_corpus(tmp_path)
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    assert [i.text for i in items] == [words[r.digit] for r in fsdd[:3]]


def test_an_unknown_folder_is_a_clear_error(tmp_path):
    with pytest.raises(NeocogError, match="not a manifest, FSDD, LibriSpeech"):
        read_corpus(tmp_path)


def test_band_warp_moves_a_formant_by_alpha():
    """VTLP: a spectral peak at f Hz shows up at alpha * f after warping."""
    mel = MelConfig(n_mels=40)
    centres = librosa.mel_frequencies(mel.n_mels + 2, fmin=mel.f_min, fmax=4000, htk=True)[1:-1]
    t = np.arange(8000) / 8000
    spec = log_mel(torch.from_numpy(np.sin(2 * np.pi * 1000 * t).astype(np.float32)), mel)
    assert torch.equal(warp_bands(spec, 1.0, mel), spec)
    for alpha in (0.9, 1.1):
        peak = int(warp_bands(spec, alpha, mel)[:, 40].argmax())
        assert abs(centres[peak] - 1000 * alpha) < 0.6 * (centres[peak + 1] - centres[peak - 1])


@pytest.mark.parametrize("warp", [-0.1, 1.0])
def test_a_warp_outside_0_1_is_refused(warp):
    with pytest.raises(NeocogError, match="warp must be in \\[0, 1\\)"):
        Augment(warp=warp)
