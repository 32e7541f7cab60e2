"""Benchmark scripts fail as the apps do (one line naming the file, exit 1, no result), and
the template baseline reads a voice by its nearest takes."""

import importlib
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from neocog.datasets.audio import read_audio
from neocog.datasets.speech import DIGIT_WORDS, read_fsdd

from .conftest import PYTHON, SHARED

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
FSDD = SHARED / "fsdd" / "recordings"


@pytest.mark.parametrize("content, message", [(None, "no such checkpoint file"),
                                              (b"garbage", "not a readable safetensors checkpoint")])
def test_a_missing_or_corrupt_weights_file_is_one_line_and_writes_no_result(tmp_path, content,
                                                                             message):
    weights = tmp_path / "model.safetensors"
    if content is not None:
        weights.write_bytes(content)
    before = sorted((BENCHMARKS / "results").iterdir())
    res = subprocess.run([PYTHON, str(BENCHMARKS / "detection_speed.py"), "--weights", str(weights)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 1 and res.stdout == ""
    (line,) = res.stderr.strip().splitlines()
    assert line.startswith(f"error: {weights}: {message}")
    assert sorted((BENCHMARKS / "results").iterdir()) == before


def vowel(f0: float, formants: tuple[float, float], seconds: float, rate: int = 8000
          ) -> np.ndarray:
    """float32 (seconds * rate,): the harmonics of f0 below 3.8 kHz, each weighted by its
    nearness to the two formants."""
    t = np.arange(int(seconds * rate)) / rate
    harmonics = np.arange(1, int(3800 / f0)) * f0
    gain = sum(np.exp(-(((harmonics - f) / 200) ** 2)) for f in formants)
    wave = (gain[:, None] * np.sin(2 * np.pi * harmonics[:, None] * t)).sum(0)
    return (0.3 * wave / np.abs(wave).max()).astype(np.float32)


def test_template_baseline_labels_a_new_voice_by_its_nearest_takes(tmp_path, monkeypatch):
    """Two "digits", the vowels [a] then [i] and [i] then [a] (the same frames, so only the
    order that DTW aligns tells them apart), said by two voices of different pitch at three
    speeds: every take of one voice is read against the other's."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    baseline = importlib.import_module("speech_template_baseline")
    a, i = (700.0, 1200.0), (300.0, 2300.0)
    for voice, f0 in (("low", 100.0), ("high", 160.0)):
        for take, seconds in enumerate((0.15, 0.2, 0.25)):
            first, second = vowel(f0, a, seconds), vowel(f0, i, seconds)
            sf.write(tmp_path / f"0_{voice}_{take}.wav", np.concatenate([first, second]), 8000)
            sf.write(tmp_path / f"1_{voice}_{take}.wav", np.concatenate([second, first]), 8000)
    recordings = read_fsdd(tmp_path)
    feats = {r.path: baseline.mfcc(read_audio(r.path, 8000).samples) for r in recordings}
    for voice in ("low", "high"):
        accuracy, confusions = baseline.held_out_accuracy(recordings, voice, 1, feats)
        assert accuracy == 1.0 and not confusions


def test_template_baseline_names_an_unknown_voice_and_writes_no_result(tmp_path):
    if not FSDD.is_dir():
        pytest.skip("../shared/data/fsdd is not here")
    before = sorted((BENCHMARKS / "results").iterdir())
    res = subprocess.run([PYTHON, str(BENCHMARKS / "speech_template_baseline.py"), "--data",
                          str(FSDD), "--holdout", "alice"], capture_output=True, text=True,
                         cwd=tmp_path)
    assert res.returncode == 1 and res.stdout == ""
    assert res.stderr == ("error: FSDD speaker 'alice' not found; speakers: george, jackson, "
                          "lucas, nicolas, yweweler\n")
    assert sorted((BENCHMARKS / "results").iterdir()) == before


def test_speech_digits_summary_names_the_worst_voice_and_word(monkeypatch):
    """The leave-speakers-out table: each FSDD voice's accuracy, the Speech Commands words
    averaged over the runs, and the worst of each."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    bench = importlib.import_module("speech_digits")
    seen = {}
    monkeypatch.setattr(bench, "report", lambda name, rows, result: seen.update(result, name=name))

    def record(voice, accuracy, six):
        per_word = {w: 1.0 for w in DIGIT_WORDS} | {"six": six}
        return {"holdout_voice": voice, "train_seconds": 900.0, "results": {
            "isolated_fsdd": {"accuracy": accuracy},
            "isolated_speech_commands_digits": {"accuracy": 0.98, "per_word": per_word},
            "composed_unseen": {"wer": 0.04}}}

    bench.summary([record("ann", 0.99, 0.8), record("bob", 0.9, 0.9)], "t")
    assert seen["name"] == "speech_digits_t_loso" and seen["fsdd_voices"] == {"ann": 0.99, "bob": 0.9}
    assert seen["worst_voice"] == "bob" and seen["worst_word"] == "six"
    assert seen["per_word"]["six"] == pytest.approx(0.85) and not seen["meets_target"]  # bob 0.9
    bench.summary([record("ann", 0.99, 0.8), record("bob", 0.97, 0.9)], "t")
    assert seen["meets_target"]


def test_speech_digits_summary_of_runs_not_made_is_refused(tmp_path):
    before = sorted((BENCHMARKS / "results").iterdir())
    res = subprocess.run([PYTHON, str(BENCHMARKS / "speech_digits.py"), "--summary", "--tag",
                          "never-run", "--holdout", "ann,bob"], capture_output=True, text=True,
                         cwd=tmp_path)
    assert res.returncode == 1 and res.stdout == ""
    assert res.stderr.startswith("--summary: no run of speech_digits_never-run_ann.json, "
                                 "speech_digits_never-run_bob.json")
    assert sorted((BENCHMARKS / "results").iterdir()) == before
