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

import librosa
import numpy as np

from neocog.core.errors import NeocogError

from .audio import AUDIO_SUFFIXES, manifest_rows, read_audio
from .images import require_files

DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
FSDD_NAME = re.compile(r"^(\d)_([A-Za-z0-9-]+)_(\d+)$")  # speaker: letters, digits, hyphens
SC_NOHASH = "_nohash_"  # Speech Commands: <speaker>_nohash_<n>.wav
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
class DigitRecording:
    path: Path
    digit: int
    speaker: str
    take: int
    source: str = ""  # the corpus it came from, when several are mixed (digit_sources)


def read_fsdd(folder: str | Path) -> list[DigitRecording]:
    """Every `{digit}_{speaker}_{take}.wav` under `folder` (sorted). A .wav named otherwise
    is an error: skipping it would train on less data than the user gave, without a word."""
    folder = Path(folder)
    recordings = []
    for path in sorted(folder.rglob("*.wav")):
        match = FSDD_NAME.match(path.stem)
        if not match:
            raise NeocogError(f"{path}: not an FSDD name {{digit}}_{{speaker}}_{{take}}.wav "
                              "(speaker: letters, digits or '-')")
        recordings.append(DigitRecording(path, int(match[1]), match[2], int(match[3])))
    if not recordings:
        raise NeocogError(f"{folder}: no FSDD recordings named {{digit}}_{{speaker}}_{{take}}.wav")
    return recordings


def fsdd_items(recordings: list[DigitRecording]) -> list[SpeechItem]:
    """Isolated-digit items: each recording with its digit word as text."""
    return [SpeechItem(r.path, DIGIT_WORDS[r.digit], r.speaker) for r in recordings]


def fsdd_official_split(recordings: list[DigitRecording]) -> tuple[list, list]:
    """(train, test): takes 0-4 are test, the rest train (FSDD's README)."""
    test = [r for r in recordings if r.take in FSDD_TEST_TAKES]
    return [r for r in recordings if r.take not in FSDD_TEST_TAKES], test


def fsdd_speaker_split(recordings: list[DigitRecording], speaker: str) -> tuple[list, list]:
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
    # Share of utterances laid over a recording's own background (the quiet its takes were
    # trimmed of: a phone's hiss, a room, a fan), at x0.5-2 its level; 0 for white noise only.
    recorded_noise: float = 0.0


MIN_NOISE_SECONDS = 0.1  # a shorter stretch of background is too short to loop
DIGITAL_SILENCE = 1e-4  # RMS under which a stretch is zeros (a synthetic voice), not noise


def trim_silence(wave: np.ndarray, sample_rate: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """float32 (T,) -> (the take (T',), the background cut off it): leading and trailing
    quiet (40 dB under the peak) cut, 50 ms kept each side. A Speech Commands clip is 1 s
    around a word of half that: joined untrimmed, utterances would be half silence and
    twice the compute. The stretches cut off that hold noise (not digital silence) and
    last MIN_NOISE_SECONDS are returned as the recording's background."""
    _, (start, end) = librosa.effects.trim(wave, top_db=40, frame_length=256, hop_length=64)
    margin = int(0.05 * sample_rate)
    cut = max(0, start - margin), min(len(wave), end + margin)
    quiet = [wave[: cut[0]], wave[cut[1]:]]
    noise = [q for q in quiet if len(q) >= MIN_NOISE_SECONDS * sample_rate
             and np.sqrt(np.mean(q**2)) > DIGITAL_SILENCE]
    return wave[cut[0]: cut[1]], noise


class DigitBank:
    """Isolated digit recordings loaded once (waves float32 (T,) at `sample_rate`, trimmed),
    indexed by source, speaker and digit, for connected-digit utterances.

    Each utterance is one source's (drawn in proportion to `weights`, a source missing
    from it weighs 1) and one of its speakers'. Its digits are drawn uniformly with
    `balance` (a word with 30 takes is said as often as one with 350), else as often as
    the source has them; each is the speaker's own take of that digit where there is one,
    else another speaker's of the same source (a Speech Commands speaker says 3-4 words).
    """

    def __init__(self, recordings: list[DigitRecording], sample_rate: int,
                 weights: dict[str, float] | None = None, balance: bool = True) -> None:
        if not recordings:
            raise NeocogError("no digit recordings to make utterances of")
        self.sample_rate, self.balance = sample_rate, balance
        self.waves, self.noises = [], []
        for r in recordings:
            take, noise = trim_silence(read_audio(r.path, sample_rate).samples, sample_rate)
            self.waves.append(take)
            self.noises += noise
        self.digits = [r.digit for r in recordings]
        # source -> speaker -> digit -> indices into waves; source -> digit -> indices
        self.takes: dict[str, dict[str, dict[int, list[int]]]] = {}
        self.source_takes: dict[str, dict[int, list[int]]] = {}
        for i, r in enumerate(recordings):
            self.takes.setdefault(r.source, {}).setdefault(r.speaker, {}).setdefault(
                r.digit, []).append(i)
            self.source_takes.setdefault(r.source, {}).setdefault(r.digit, []).append(i)
        self.sources = sorted(self.takes)
        self.source_speakers = {s: sorted(by_speaker) for s, by_speaker in self.takes.items()}
        self.source_digits = {s: sorted(by_digit) for s, by_digit in self.source_takes.items()}
        self.source_all = {s: [i for takes in by_digit.values() for i in takes]
                           for s, by_digit in self.source_takes.items()}
        share = np.array([(weights or {}).get(s, 1.0) for s in self.sources], np.float64)
        self.source_share = share / share.sum()

    def pick(self, rng: np.random.Generator, source: str, speaker: str) -> int:
        """The index of one take: a digit drawn as `balance` says, the speaker's own take."""
        by_digit = self.source_takes[source]
        if self.balance:
            digits = self.source_digits[source]
            digit = digits[rng.integers(len(digits))]
        else:
            everything = self.source_all[source]
            digit = self.digits[everything[rng.integers(len(everything))]]
        pool = self.takes[source][speaker].get(digit) or by_digit[digit]
        return pool[rng.integers(len(pool))]

    def utterance(self, rng: np.random.Generator, spec: DigitSpec,
                  count: int | None = None) -> tuple[np.ndarray, str, str]:
        """One connected-digit utterance of one random speaker: (wave float32 (T,), text,
        speaker); `count` digits, or a random number of them in the spec's range."""
        source = self.sources[rng.choice(len(self.sources), p=self.source_share)]
        speakers = self.source_speakers[source]
        speaker = speakers[rng.integers(len(speakers))]
        if count is None:
            count = int(rng.integers(spec.min_digits, spec.max_digits + 1))
        parts, words = [self._pause(rng, spec)], []
        for _ in range(count):
            index = self.pick(rng, source, speaker)
            parts += [self.waves[index] * rng.uniform(spec.min_gain, spec.max_gain),
                      self._pause(rng, spec)]
            words.append(DIGIT_WORDS[self.digits[index]])
        wave = np.concatenate(parts)
        wave = wave + rng.normal(0, rng.uniform(0, spec.max_noise), len(wave))
        if self.noises and rng.random() < spec.recorded_noise:
            wave = wave + self.background(rng, len(wave))
        return wave.astype(np.float32), " ".join(words), speaker

    def background(self, rng: np.random.Generator, length: int) -> np.ndarray:
        """(length,) of one recording's background, looped from a random offset, at x0.5-2."""
        noise = self.noises[rng.integers(len(self.noises))]
        start = int(rng.integers(len(noise)))
        looped = np.resize(np.roll(noise, -start), length)  # np.resize repeats it cyclically
        return looped * rng.uniform(0.5, 2.0)

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
                                    wav.stem.split(SC_NOHASH)[0]))
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
