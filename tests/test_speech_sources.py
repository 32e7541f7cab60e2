"""Several isolated-digit sources at once (datasets.digit_sources): the layouts (FSDD,
AudioMNIST at 48 kHz, Speech Commands), weights, balancing of sparse words, and whole
speakers held out; on small trees of tones made here."""

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from neocog.apps import cli
from neocog.core.errors import NeocogError
from neocog.datasets.digit_sources import (
    MIN_SHARED_SPEAKERS,
    is_digit_data,
    parse_sources,
    read_digit_source,
    read_digit_sources,
    speaker_share,
    split_speakers,
)
from neocog.datasets.speech import DIGIT_WORDS, DigitBank, DigitSpec


def tone(path, digit, rate, seconds=0.3):
    """A tone whose pitch names the digit, with 0.1 s of silence each side."""
    t = np.arange(int(seconds * rate)) / rate
    quiet = np.zeros(int(0.1 * rate), np.float32)
    wave = (0.3 * np.sin(2 * np.pi * (200 + 50 * digit) * t)).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.concatenate([quiet, wave, quiet]), rate)


def speech_commands(root, speakers, words=DIGIT_WORDS, rate=16000):
    for word in words:
        for speaker in speakers:
            tone(root / word / f"{speaker}_nohash_0.wav", DIGIT_WORDS.index(word)
                 if word in DIGIT_WORDS else 0, rate)
    return root


def fsdd(root, speakers, takes=1, rate=8000, digits=range(10)):
    for speaker in speakers:
        for digit in digits:
            for take in range(takes):
                tone(root / f"{digit}_{speaker}_{take}.wav", digit, rate)
    return root


def test_sources_parse_with_weights_and_bad_ones_are_named():
    assert parse_sources("a,b=2,c=0.5") == [(Path("a"), 1.0), (Path("b"), 2.0), (Path("c"), 0.5)]
    for bad, why in [("a,,b", "an empty entry"), ("a=x", "'x' is not a number"),
                     ("a=0", "must be > 0"), ("a=-1", "must be > 0")]:
        with pytest.raises(NeocogError, match=why):
            parse_sources(bad)


def test_speech_commands_speaker_is_the_hex_prefix_and_other_words_make_a_corpus(tmp_path):
    root = speech_commands(tmp_path / "sc", ["0a7c2a8d", "ffd2ba2f"], ["one", "six"])
    source = read_digit_source(root)
    assert source.name == "sc" and source.speakers == ["sc/0a7c2a8d", "sc/ffd2ba2f"]
    assert sorted({r.digit for r in source.recordings}) == [1, 6]
    assert is_digit_data(str(root))
    (root / "yes").mkdir()  # a full Speech Commands tree: every word, not digits
    assert not is_digit_data(str(root))
    (root / "yes").rmdir()
    (root / "one" / "take.wav").write_bytes((root / "one" / "0a7c2a8d_nohash_0.wav").read_bytes())
    with pytest.raises(NeocogError, match=r"take\.wav: not a Speech Commands name"):
        read_digit_source(root)


def test_audiomnist_naming_at_48khz_is_read_and_resampled(tmp_path):
    """AudioMNIST: data/NN/{digit}_{NN}_{take}.wav at 48 kHz; the source is named after the
    folder above data/, and every wave is resampled to the model's rate."""
    root = tmp_path / "AudioMNIST" / "data"
    for speaker in ("01", "02"):
        fsdd(root / speaker, [speaker], rate=48000, digits=[3, 7])
    source = read_digit_source(root)
    assert source.name == "AudioMNIST" and source.speakers == ["AudioMNIST/01", "AudioMNIST/02"]
    bank = DigitBank(source.recordings, 8000)
    # 0.5 s at 48 kHz -> 8 kHz, the quiet ends trimmed to 50 ms each
    assert all(0.35 * 8000 <= len(w) <= 0.45 * 8000 for w in bank.waves)
    other = tmp_path / "other"
    tone(other / "hello.wav", 0, 8000)
    with pytest.raises(NeocogError, match="neither .* nor .*Speech Commands"):
        read_digit_source(other)


def test_sources_named_alike_are_refused(tmp_path):
    a = fsdd(tmp_path / "x" / "recordings", ["ann"])
    b = fsdd(tmp_path / "y" / "x", ["bob"])
    with pytest.raises(NeocogError, match="two sources named alike"):
        read_digit_sources(f"{a},{b}")


def test_a_share_holds_out_by_hash_in_large_sources_only(tmp_path):
    many = [f"{i:08x}" for i in range(MIN_SHARED_SPEAKERS + 5)]
    sc = speech_commands(tmp_path / "sc", many, ["two"])
    small = fsdd(tmp_path / "small", ["lucas", "nicolas", "ann"], digits=[2])  # lucas, nicolas < 0.2
    sources = read_digit_sources(f"{sc},{small}")
    kept, held = split_speakers(sources, "", 0.2)
    expected = {f"sc/{s}" for s in many if speaker_share(s) < 0.2}
    assert 0 < len(expected) < len(many) and {r.speaker for r in held} == expected
    assert [s.name for s in kept] == ["sc", "small"] and len(kept[1].speakers) == 3
    # the same speakers whatever order the sources come in: a hash, not a shuffle
    assert {r.speaker for r in split_speakers(sources[::-1], "", 0.2)[1]} == expected


def test_holdout_speaker_by_bare_name_full_id_and_errors(tmp_path):
    a = fsdd(tmp_path / "a", ["ann", "bob"], digits=[1])
    b = fsdd(tmp_path / "b", ["bob", "cy"], digits=[1])
    sources = read_digit_sources(f"{a},{b}")
    _, held = split_speakers(sources, "ann")
    assert {r.speaker for r in held} == {"a/ann"}
    assert {r.speaker for r in split_speakers(sources, "b/bob")[1]} == {"b/bob"}
    with pytest.raises(NeocogError, match=r"bob: in several sources \(a/bob, b/bob\)"):
        split_speakers(sources, "bob")
    with pytest.raises(NeocogError, match="dan: no such speaker; speakers: a/ann, a/bob, b/bob, b/cy"):
        split_speakers(sources, "dan")
    solo = read_digit_sources(str(fsdd(tmp_path / "solo", ["eve"], digits=[1])))
    with pytest.raises(NeocogError, match="every speaker is held out; nobody would be left"):
        split_speakers(solo, "eve")


def test_weights_draw_sources_and_balance_evens_sparse_words(tmp_path):
    """Source `a` weighs 3, `b` 1: three utterances in four are a's. In `a`, six has one
    take against ten of every other digit: balanced, it is said as often as the others."""
    a = tmp_path / "a"
    fsdd(a, ["ann"], takes=10, digits=[d for d in range(10) if d != 6])
    fsdd(a, ["ann"], takes=1, digits=[6])
    b = fsdd(tmp_path / "b", ["bob"], digits=[0])
    sources = read_digit_sources(f"{a}=3,{b}")
    recordings = [r for s in sources for r in s.recordings]
    weights = {s.name: s.weight for s in sources}
    rng, spec = np.random.default_rng(0), DigitSpec()
    for balance, sixes in ((True, (0.07, 0.13)), (False, (0.0, 0.03))):
        bank = DigitBank(recordings, 8000, weights, balance)
        said = [bank.utterance(rng, spec, count=5) for _ in range(800)]
        share_a = np.mean([speaker == "a/ann" for _, _, speaker in said])
        assert 0.7 < share_a < 0.8
        words = Counter(w for _, text, speaker in said if speaker == "a/ann" for w in text.split())
        assert sixes[0] <= words["six"] / sum(words.values()) <= sixes[1], (balance, words)


def test_speech_train_takes_several_weighted_sources_and_records_them(tmp_path, capsys):
    """`--data` given twice (or comma-separated), each PATH[=WEIGHT]: the run trains on
    both, holds the named speaker out, and its config.json records every source."""
    a = fsdd(tmp_path / "a", ["ann", "bob"], digits=[1, 2])
    b = speech_commands(tmp_path / "sc", ["0a7c2a8d", "ffd2ba2f"], ["one", "two"])
    runs = tmp_path / "runs"
    code = cli.main(["speech", "train", "--data", str(a), "--data", f"{b}=2",
                     "--holdout-speaker", "bob", "--epochs", "1", "--utterances", "8",
                     "--val-utterances", "2", "--batch-size", "4", "--width", "4",
                     "--hidden", "8", "--project", str(runs), "--name", "t"])
    assert code == 0, capsys.readouterr().err
    config = json.loads((runs / "speech" / "t" / "config.json").read_text())
    assert config["data"] == f"{a},{b}=2" and config["holdout_speaker"] == "bob"
    assert (runs / "speech" / "t" / "best.safetensors").is_file()
    code = cli.main(["speech", "train", "--data", f"{a},{b}=zero", "--project", str(runs)])
    assert code == 1 and "'zero' is not a number" in capsys.readouterr().err


def test_trimmed_backgrounds_become_the_noise_of_utterances(tmp_path):
    """A take in 0.3 s of hiss (48 dB under it) each side is trimmed to the tone (+50 ms), and its hiss is
    kept as background; a take in digital silence gives none. With recorded_noise 1 every
    utterance lies over that hiss, pauses included."""
    rate, rng = 8000, np.random.default_rng(0)
    t = np.arange(int(0.3 * rate)) / rate
    hiss = lambda: (0.002 * rng.standard_normal(int(0.3 * rate))).astype(np.float32)  # noqa: E731
    noisy = tmp_path / "noisy" / "4_ann_0.wav"
    noisy.parent.mkdir()
    sf.write(noisy, np.concatenate([hiss(), 0.5 * np.sin(2 * np.pi * 400 * t), hiss()]), rate)
    clean = fsdd(tmp_path / "clean", ["bob"], digits=[4])
    bank = DigitBank(read_digit_source(noisy.parent).recordings, rate)
    assert len(bank.noises) == 2 and all(len(n) >= 0.2 * rate for n in bank.noises)
    assert 0.3 * rate <= len(bank.waves[0]) <= 0.45 * rate
    assert DigitBank(read_digit_source(clean).recordings, rate).noises == []
    quiet = DigitSpec(max_noise=0.0, min_pause=0.3, max_pause=0.3)
    wave, _, _ = bank.utterance(rng, quiet, count=1)
    assert np.abs(wave[: int(0.25 * rate)]).max() == 0  # white noise off: silent pauses
    wave, _, _ = bank.utterance(rng, DigitSpec(max_noise=0.0, min_pause=0.3, max_pause=0.3,
                                               recorded_noise=1.0), count=1)
    assert 0.0009 < np.std(wave[: int(0.25 * rate)]) < 0.0042  # the hiss, at x0.5-2
