"""Speech corpora -> (audio path, text) items, and the connected-digit generator.

Formats: FSDD (`{digit}_{speaker}_{take}.wav`), JSONL manifests (`{"audio", "text"}`
per line, paths relative to the manifest), LibriSpeech
(`speaker/chapter/speaker-chapter.trans.txt` beside `ID.flac`) and Speech Commands
(`word/xxx.wav`, `_background_noise_` skipped). Texts are normalised to the
recogniser's alphabet: lower-case a-z, space and apostrophe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neocog.core.errors import NeocogError

from .audio import AUDIO_SUFFIXES, manifest_rows, read_audio
from .images import require_files

DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
FSDD_NAME = re.compile(r"^(\d)_([A-Za-z0-9-]+)_(\d+)$")  # speaker: letters, digits, hyphens
FSDD_TEST_TAKES = range(5)  # the official FSDD split: takes 0-4 of every digit are test


@dataclass
class SpeechItem:
    audio: Path
    text: str
    speaker: str = ""


def normalize_text(text: str) -> str:
    """'Seven, THREE!' -> 'seven three': lower-case, only a-z, space, apostrophe."""
    kept = re.sub(r"[^a-z' ]+", " ", text.lower())
    return " ".join(kept.split())


# ---------------------------------------------------------------- FSDD


@dataclass
class FsddRecording:
    path: Path
    digit: int
    speaker: str
    take: int


def read_fsdd(folder: str | Path) -> list[FsddRecording]:
    """Every `{digit}_{speaker}_{take}.wav` under `folder` (sorted). A .wav named otherwise
    is an error: skipping it would train on less data than the user gave, without a word."""
    folder = Path(folder)
    recordings = []
    for path in sorted(folder.rglob("*.wav")):
        match = FSDD_NAME.match(path.stem)
        if not match:
            raise NeocogError(f"{path}: not an FSDD name {{digit}}_{{speaker}}_{{take}}.wav "
                              "(speaker: letters, digits or '-')")
        recordings.append(FsddRecording(path, int(match[1]), match[2], int(match[3])))
    if not recordings:
        raise NeocogError(f"{folder}: no FSDD recordings named {{digit}}_{{speaker}}_{{take}}.wav")
    return recordings


def fsdd_items(recordings: list[FsddRecording]) -> list[SpeechItem]:
    """Isolated-digit items: each recording with its digit word as text."""
    return [SpeechItem(r.path, DIGIT_WORDS[r.digit], r.speaker) for r in recordings]


def fsdd_official_split(recordings: list[FsddRecording]) -> tuple[list, list]:
    """(train, test): takes 0-4 are test, the rest train (FSDD's README)."""
    test = [r for r in recordings if r.take in FSDD_TEST_TAKES]
    return [r for r in recordings if r.take not in FSDD_TEST_TAKES], test


def fsdd_speaker_split(recordings: list[FsddRecording], speaker: str) -> tuple[list, list]:
    """(train, test): leave one speaker out, so the test voice is never heard in training."""
    speakers = sorted({r.speaker for r in recordings})
    if speaker not in speakers:
        raise NeocogError(f"FSDD speaker '{speaker}' not found; speakers: {', '.join(speakers)}")
    return ([r for r in recordings if r.speaker != speaker],
            [r for r in recordings if r.speaker == speaker])


# ---------------------------------------------------------------- connected digits


@dataclass
class DigitSpec:
    """How utterances are made (as ../shared/data/benchmarks/fsdd_sequences_val)."""

    min_digits: int = 1
    max_digits: int = 7
    min_pause: float = 0.05  # seconds of silence between (and around) digits
    max_pause: float = 0.3
    min_gain: float = 0.5  # each recording is scaled by a gain in this range
    max_gain: float = 1.0
    max_noise: float = 0.005  # white-noise standard deviation is uniform in [0, max_noise]


class DigitBank:
    """FSDD recordings loaded once, grouped by speaker: waves float32 (T,) per digit."""

    def __init__(self, recordings: list[FsddRecording], sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.by_speaker: dict[str, list[tuple[int, np.ndarray]]] = {}
        for r in recordings:
            wave = read_audio(r.path, sample_rate).samples
            self.by_speaker.setdefault(r.speaker, []).append((r.digit, wave))
        self.speakers = sorted(self.by_speaker)

    def utterance(self, rng: np.random.Generator, spec: DigitSpec,
                  count: int | None = None) -> tuple[np.ndarray, str, str]:
        """One connected-digit utterance of one random speaker: (wave float32 (T,), text,
        speaker); `count` digits, or a random number of them in the spec's range."""
        speaker = self.speakers[rng.integers(len(self.speakers))]
        pool = self.by_speaker[speaker]
        if count is None:
            count = int(rng.integers(spec.min_digits, spec.max_digits + 1))
        parts, words = [self._pause(rng, spec)], []
        for index in rng.integers(len(pool), size=count):
            digit, wave = pool[index]
            parts += [wave * rng.uniform(spec.min_gain, spec.max_gain), self._pause(rng, spec)]
            words.append(DIGIT_WORDS[digit])
        wave = np.concatenate(parts)
        wave = wave + rng.normal(0, rng.uniform(0, spec.max_noise), len(wave))
        return wave.astype(np.float32), " ".join(words), speaker

    def _pause(self, rng: np.random.Generator, spec: DigitSpec) -> np.ndarray:
        seconds = rng.uniform(spec.min_pause, spec.max_pause)
        return np.zeros(int(seconds * self.sample_rate), np.float32)


# ---------------------------------------------------------------- corpora on disk


def read_manifest(path: str | Path) -> list[SpeechItem]:
    """JSONL lines {"audio": path relative to the manifest, "text": ..., ["speaker"]}; every
    file listed must be there (training reads them lazily, epochs after this)."""
    rows = manifest_rows(Path(path), ("audio", "text"))
    require_files(path, [audio for _, audio in rows], "audio")
    return [SpeechItem(audio, normalize_text(row["text"]), str(row.get("speaker", "")))
            for row, audio in rows]


def read_librispeech(folder: str | Path) -> list[SpeechItem]:
    """LibriSpeech: every `*.trans.txt` line `ID TEXT` names `ID.flac` beside it."""
    items = []
    for trans in sorted(Path(folder).rglob("*.trans.txt")):
        listed = []
        for line in trans.read_text().splitlines():
            if line.strip():
                utt, _, text = line.partition(" ")
                listed.append(SpeechItem(trans.parent / f"{utt}.flac", normalize_text(text),
                                         utt.split("-")[0]))
        require_files(trans, [item.audio for item in listed], "audio")
        items += listed
    return items


def read_speech_commands(folder: str | Path) -> list[SpeechItem]:
    """Speech Commands: `word/xxx.wav`, the folder naming the word; `_background_noise_`
    (and any folder starting with `_`) holds no words."""
    items = []
    for sub in sorted(p for p in Path(folder).iterdir() if p.is_dir()):
        if sub.name.startswith("_"):
            continue
        for wav in sorted(sub.glob("*.wav")):
            items.append(SpeechItem(wav, normalize_text(sub.name.replace("_", " ")),
                                    wav.stem.split("_nohash_")[0]))
    return items


def read_corpus(source: str | Path) -> list[SpeechItem]:
    """Detect the format of `source` (a .jsonl manifest or a corpus folder) and read it."""
    source = Path(source)
    if source.is_file():
        return read_manifest(source)
    if not source.is_dir():
        raise NeocogError(f"{source}: no such manifest or folder")
    if next(source.rglob("*.trans.txt"), None) is not None:
        return read_librispeech(source)
    wavs = [p for p in source.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES]
    if wavs and all(FSDD_NAME.match(p.stem) for p in wavs):
        return fsdd_items(read_fsdd(source))
    if (source / "recordings").is_dir():
        return fsdd_items(read_fsdd(source / "recordings"))
    items = read_speech_commands(source)
    if not items:
        raise NeocogError(f"{source}: not a manifest, FSDD, LibriSpeech or Speech Commands tree")
    return items
