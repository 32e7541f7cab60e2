"""Issue 19: batch commands carry on past a bad file (each reported on one line, exit 1
at the end), a folder lists every format a single file is read in, long audio goes
through in bounded batches, and a training manifest's missing files are found first."""

from __future__ import annotations

import json
import weakref
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from neocog.apps.cli import main as cli
from neocog.apps.speech import Transcriber
from neocog.apps.speech import predictor as speech_predictor
from neocog.core.errors import NeocogError
from neocog.datasets.audio import AUDIO_SUFFIXES, list_audio, read_audio
from neocog.datasets.images import IMAGE_SUFFIXES, list_images, read_image
from neocog.datasets.speech import read_corpus

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "apps" / "classification" / "assets" / "samples"
SCENE = ROOT / "apps" / "detection" / "assets" / "scene.jpg"
SPEECH = ROOT / "apps" / "speech" / "assets" / "samples"


def neocog(capsys: pytest.CaptureFixture, argv: list[str]) -> tuple[int, str, list[str]]:
    """`neocog ARGV` in this process -> (exit status, stdout, stderr lines)."""
    capsys.readouterr()
    try:
        code = cli(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err.strip().splitlines()


@pytest.fixture
def mixed_folder(tmp_path: Path) -> tuple[Path, list[Path]]:
    """Three good images and two bad ones (not an image; a PNG cut short), sorted so that
    each bad one shares a batch of two with a good one."""
    folder = tmp_path / "images"
    folder.mkdir()
    good = []
    for name, src in [("a.png", DIGITS / "digit_0.png"), ("c.png", DIGITS / "digit_4.png"),
                      ("e.jpg", SCENE)]:
        (folder / name).write_bytes(src.read_bytes())
        good.append(folder / name)
    (folder / "b.png").write_text("not an image")
    (folder / "d.png").write_bytes((DIGITS / "digit_1.png").read_bytes()[:80])
    return folder, good


def assert_carried_on(code: int, err: list[str], folder: Path) -> None:
    assert code == 1
    assert len(err) == 2 and all(line.startswith("error: ") for line in err), err
    assert str(folder / "b.png") in err[0] and str(folder / "d.png") in err[1]


def test_classify_infer_carries_on_past_bad_images(capsys, mixed_folder):
    folder, good = mixed_folder
    code, out, err = neocog(capsys, ["classify", "infer", "--source", str(folder), "--json",
                                     "--batch-size", "2"])
    assert_carried_on(code, err, folder)
    assert [r["file"] for r in json.loads(out)] == [str(p) for p in good]


def test_locate_infer_carries_on_and_saves_the_good_ones(capsys, mixed_folder, tmp_path):
    folder, good = mixed_folder
    code, out, err = neocog(capsys, ["locate", "infer", "--source", str(folder), "--json",
                                     "--batch-size", "2", "--save", str(tmp_path / "out")])
    assert_carried_on(code, err, folder)
    assert [r["file"] for r in json.loads(out)] == [str(p) for p in good]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "c.png", "e.png"]


def test_detect_infer_carries_on_past_bad_images(capsys, mixed_folder, tmp_path):
    folder, good = mixed_folder
    code, out, err = neocog(capsys, ["detect", "infer", "--source", str(folder), "--json",
                                     "--save", "--project", str(tmp_path / "runs")])
    assert_carried_on(code, err, folder)
    assert [json.loads(line)["source"] for line in out.splitlines()] == [str(p) for p in good]
    saved = tmp_path / "runs" / "detect" / "infer"
    assert sorted(p.name for p in saved.iterdir()) == ["a.png", "c.png", "e.jpg"]


def test_transcribe_carries_on_past_a_missing_source(capsys, tmp_path):
    sample = sorted(SPEECH.glob("*.wav"))[0]
    code, out, err = neocog(capsys, ["transcribe", str(tmp_path / "gone.wav"), str(sample)])
    assert code == 1 and len(err) == 1 and "gone.wav" in err[0]
    assert out.startswith(f"{sample}: ")


def test_speech_val_scores_the_readable_files_and_names_the_bad_one(capsys, tmp_path):
    sample = next(s for s in sorted(SPEECH.glob("*.wav")) if "seven_nine_zero_one" in s.name)
    (tmp_path / "good.wav").write_bytes(sample.read_bytes())
    (tmp_path / "bad.wav").write_bytes(b"RIFF not audio")
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"audio": "bad.wav", "text": "one"}\n'
                        '{"audio": "good.wav", "text": "seven nine zero one"}\n')
    code, out, err = neocog(capsys, ["speech", "val", "--manifest", str(manifest),
                                     "--project", str(tmp_path / "runs")])
    assert code == 1 and len(err) == 1 and "bad.wav" in err[0]
    metrics = json.loads((tmp_path / "runs" / "speech" / "val" / "metrics.json").read_text())
    assert (metrics["utterances"], metrics["unreadable"], metrics["wer"]) == (1, 1, 0.0)
    assert "on 1 utterances" in out


# ---------------------------------------------------------------- formats

# soundfile picks the format from the suffix, except for these names of the same formats.
SOUNDFILE_FORMATS = {".oga": ("OGG", None), ".opus": ("OGG", "OPUS"), ".aif": ("AIFF", None),
                     ".aifc": ("AIFF", None), ".snd": ("AU", None), ".rf64": ("RF64", None)}


def test_a_folder_lists_every_audio_format_the_reader_reads(tmp_path):
    for suffix in AUDIO_SUFFIXES:
        fmt, subtype = SOUNDFILE_FORMATS.get(suffix, (None, None))
        rate = 48000 if suffix == ".opus" else 8000  # Opus runs at 48 kHz
        second = (0.3 * np.sin(np.arange(rate) * 2 * np.pi * 440 / rate)).astype(np.float32)
        sf.write(tmp_path / f"tone{suffix}", second, rate, format=fmt, subtype=subtype)
    files = list_audio(tmp_path)
    assert sorted(p.suffix for p in files) == sorted(AUDIO_SUFFIXES)
    for path in files:
        assert len(read_audio(path, 8000).samples) > 7000, path


def test_a_folder_lists_every_image_format_the_reader_reads(tmp_path):
    picture = Image.open(DIGITS / "digit_0.png").convert("RGB")
    for suffix in IMAGE_SUFFIXES:
        picture.save(tmp_path / f"digit{suffix}", format=Image.registered_extensions()[suffix])
    files = list_images(tmp_path)
    assert sorted(p.suffix for p in files) == sorted(IMAGE_SUFFIXES)
    for path in files:
        assert read_image(path, 1).shape == (28, 28), path


def test_a_single_file_is_held_to_the_suffixes_a_folder_lists(capsys, tmp_path):
    sample = sorted(SPEECH.glob("*.wav"))[0]
    renamed = tmp_path / "sample.aac"
    renamed.write_bytes(sample.read_bytes())
    code, _, err = neocog(capsys, ["transcribe", str(renamed)])
    assert code == 1 and len(err) == 1
    assert f"{renamed}: not read as audio: its suffix is not one of .wav" in err[0]
    picture = tmp_path / "digit.heic"
    picture.write_bytes((DIGITS / "digit_0.png").read_bytes())
    code, _, err = neocog(capsys, ["classify", "infer", "--source", str(picture)])
    assert code == 1 and err == [f"error: {picture}: not read as images: its suffix is not "
                                 f"one of {', '.join(IMAGE_SUFFIXES)}"]


# ---------------------------------------------------------------- long audio


def test_ten_minutes_of_audio_are_read_in_bounded_batches(monkeypatch):
    """At most two batches of pieces' features exist at once (the one read, the one being
    drawn), however long the recording: 10 minutes in 5 s pieces is 120 of them."""
    live: weakref.WeakSet = weakref.WeakSet()
    most = 0
    real = speech_predictor.features

    def features(wave, mel):
        nonlocal most
        spec = real(wave, mel)
        live.add(spec)
        most = max(most, len(live))
        return spec

    monkeypatch.setattr(speech_predictor, "features", features)
    rng = np.random.default_rng(0)
    wave = (0.05 * rng.standard_normal(10 * 60 * 8000)).astype(np.float32)
    text = Transcriber(vocabulary=[], max_seconds=5).transcribe(wave, sample_rate=8000)
    assert isinstance(text, str)
    assert most <= 2 * speech_predictor.BATCH_PIECES < 120


def test_a_waveform_at_a_rate_no_recording_has_is_refused():
    with pytest.raises(NeocogError, match="waveform: a sample rate of 1 Hz, below 1000 Hz"):
        Transcriber().transcribe(np.ones(57_000, np.float32) * 0.1, sample_rate=1)


# ---------------------------------------------------------------- training manifests


def test_speech_train_finds_a_missing_manifest_file_before_training(capsys, tmp_path):
    sample = sorted(SPEECH.glob("*.wav"))[0]
    (tmp_path / "one.wav").write_bytes(sample.read_bytes())
    manifest = tmp_path / "train.jsonl"
    manifest.write_text(json.dumps({"audio": "one.wav", "text": "one"}) + "\n"
                        + json.dumps({"audio": "two.wav", "text": "two"}) + "\n")
    code, _, err = neocog(capsys, ["speech", "train", "--data", str(manifest), "--epochs", "1",
                                   "--project", str(tmp_path / "runs")])
    assert code == 1 and err == [f"error: {manifest}: audio file {tmp_path / 'two.wav'} is missing"]
    assert not (tmp_path / "runs").exists()


def test_a_librispeech_transcript_naming_a_missing_flac_fails_on_reading(tmp_path):
    chapter = tmp_path / "19" / "198"
    chapter.mkdir(parents=True)
    sf.write(chapter / "19-198-0000.flac", np.full(8000, 0.1, np.float32), 16000)
    (chapter / "19-198.trans.txt").write_text("19-198-0000 ONE\n19-198-0001 TWO\n")
    with pytest.raises(NeocogError, match="19-198.trans.txt: audio file .*19-198-0001.flac is missing"):
        read_corpus(tmp_path)


def test_detect_train_finds_missing_coco_images_before_training(capsys, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    Image.new("RGB", (64, 64)).save(images / "a.jpg")
    coco = {"images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 64},
                       {"id": 2, "file_name": "b.jpg", "width": 64, "height": 64}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [8, 8, 20, 20],
                             "area": 400, "iscrowd": 0}],
            "categories": [{"id": 1, "name": "thing"}]}
    (tmp_path / "train.json").write_text(json.dumps(coco))
    code, _, err = neocog(capsys, ["detect", "train", "--images", str(images), "--annotations",
                                   str(tmp_path / "train.json"), "--project",
                                   str(tmp_path / "runs"), "--epochs", "1"])
    assert code == 1 and err == [f"error: {tmp_path / 'train.json'}: image file "
                                 f"{images / 'b.jpg'} is missing"]
    assert not (tmp_path / "runs").exists()
