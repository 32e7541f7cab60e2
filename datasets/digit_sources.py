"""Isolated spoken digits from several corpora at once, and whole speakers held out.

A source is a folder in one of two layouts:
- FSDD naming, `{digit}_{speaker}_{take}.wav` anywhere under it: FSDD itself, the
  synthetic voices of `synth_digits`, AudioMNIST (`data/NN/{digit}_{NN}_{take}.wav`, 48 kHz);
- Speech Commands, `zero`..`nine/<speaker>_nohash_<n>.wav`: the speaker is the 8-hex
  prefix of the file name.
Speakers are named `<source>/<speaker>` (`fsdd/george`, `speech_commands_digits/0a7c2a8d`),
so two corpora that both have a "01" never share a voice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from neocog.core.errors import NeocogError

from .speech import DIGIT_WORDS, FSDD_NAME, SC_NOHASH, DigitRecording, read_fsdd

# Speech Commands' own which_set(): a speaker's SHA-1 modulo this, as a share of it, puts
# the speaker in validation below 10% and in test below 20%, whatever the file order.
SHARE_MODULUS = 2**27 - 1
# A share held out by hash is a share only of many speakers: of FSDD's five, 0.2 would hold
# out two (lucas, nicolas). Smaller sources are held out speaker by speaker instead.
MIN_SHARED_SPEAKERS = 20


@dataclass
class DigitSource:
    name: str
    weight: float  # utterances are drawn from each source in proportion to this
    recordings: list[DigitRecording]

    @property
    def speakers(self) -> list[str]:
        return sorted({r.speaker for r in self.recordings})


def parse_sources(text: str) -> list[tuple[Path, float]]:
    """'a,b=2' -> [(Path('a'), 1.0), (Path('b'), 2.0)]: comma-separated PATH[=WEIGHT]."""
    sources = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            raise NeocogError(f"--data {text}: an empty entry (PATH[=WEIGHT],...)")
        path, _, weight = part.partition("=")
        try:
            value = float(weight) if weight else 1.0
        except ValueError:
            raise NeocogError(f"--data {part}: the weight '{weight}' is not a number") from None
        if not value > 0:
            raise NeocogError(f"--data {part}: the weight must be > 0, not {weight}")
        sources.append((Path(path), value))
    return sources


def source_name(folder: Path) -> str:
    """The folder's name, or its parent's for a generic `recordings/` or `data/`."""
    folder = folder.resolve()
    return folder.parent.name if folder.name in ("recordings", "data") else folder.name


def read_speech_commands_digits(folder: Path) -> list[DigitRecording]:
    """`zero`..`nine/<speaker>_nohash_<n>.wav` -> recordings; other word folders are not
    digits and are left out, a digit folder's wav named otherwise is an error."""
    recordings = []
    for digit, word in enumerate(DIGIT_WORDS):
        for path in sorted((folder / word).glob("*.wav")):
            speaker, sep, take = path.stem.partition(SC_NOHASH)
            if not sep or not take.isdigit():
                raise NeocogError(f"{path}: not a Speech Commands name <speaker>_nohash_<n>.wav")
            recordings.append(DigitRecording(path, digit, speaker, int(take)))
    return recordings


def is_speech_commands(folder: Path) -> bool:
    """Word folders, every one a digit word (a full Speech Commands tree, with "yes" and
    "go", is a corpus of all its words: datasets.speech.read_speech_commands)."""
    words = {p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("_")}
    return bool(words) and words <= set(DIGIT_WORDS)


def is_fsdd_named(folder: Path) -> bool:
    first = next(folder.rglob("*.wav"), None)
    return first is not None and FSDD_NAME.match(first.stem) is not None


def is_digit_data(data: str) -> bool:
    """Whether --data names isolated-digit sources (several, weighted, or one folder in
    either layout), which training joins into connected-digit utterances."""
    if "," in data or "=" in data:
        return True
    folder = Path(data)
    return folder.is_dir() and (is_speech_commands(folder) or is_fsdd_named(folder))


def read_digit_source(path: Path, weight: float = 1.0) -> DigitSource:
    """One source folder (either layout) -> its recordings, speakers prefixed by its name."""
    if not path.is_dir():
        raise NeocogError(f"--data {path}: no such folder")
    if is_speech_commands(path):
        recordings = read_speech_commands_digits(path)
    elif is_fsdd_named(path):
        recordings = read_fsdd(path)
    else:
        raise NeocogError(f"--data {path}: neither {{digit}}_{{speaker}}_{{take}}.wav files "
                          "(FSDD, AudioMNIST) nor zero..nine/<speaker>_nohash_<n>.wav "
                          "folders (Speech Commands)")
    if not recordings:
        raise NeocogError(f"--data {path}: no digit recordings")
    name = source_name(path)
    for r in recordings:
        r.speaker, r.source = f"{name}/{r.speaker}", name
    return DigitSource(name, weight, recordings)


def read_digit_sources(text: str) -> list[DigitSource]:
    """--data 'PATH[=WEIGHT],...' -> the sources; two of one name would merge their speakers."""
    sources = [read_digit_source(path, weight) for path, weight in parse_sources(text)]
    names = [s.name for s in sources]
    if len(set(names)) < len(names):
        raise NeocogError(f"--data {text}: two sources named alike ({', '.join(names)}); "
                          "their speakers would be taken for one another")
    return sources


def speaker_share(speaker: str) -> float:
    """A speaker's place in [0, 1) by hash, as Speech Commands' which_set() computes it."""
    digest = int(hashlib.sha1(speaker.encode()).hexdigest(), 16)
    return (digest % (SHARE_MODULUS + 1)) / SHARE_MODULUS


def find_speaker(sources: list[DigitSource], speaker: str) -> str:
    """A full id `source/speaker`, or a bare name that exactly one source has."""
    everyone = sorted({s for source in sources for s in source.speakers})
    if speaker in everyone:
        return speaker
    matches = [s for s in everyone if s.split("/", 1)[1] == speaker]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise NeocogError(f"--holdout-speaker {speaker}: in several sources "
                          f"({', '.join(matches)}); give the full id")
    shown = ", ".join(everyone[:12]) + (", ..." if len(everyone) > 12 else "")
    raise NeocogError(f"--holdout-speaker {speaker}: no such speaker; speakers: {shown}")


def split_speakers(sources: list[DigitSource], speaker: str = "", share: float = 0.0
                   ) -> tuple[list[DigitSource], list[DigitRecording]]:
    """(sources with the held-out speakers removed, the held-out recordings). `speaker`
    is held out whole; so, in each source of at least MIN_SHARED_SPEAKERS speakers, is
    every speaker whose hash share (speaker_share of the bare id) is below `share`."""
    held_id = find_speaker(sources, speaker) if speaker else ""
    kept, held = [], []
    for source in sources:
        shared = len(source.speakers) >= MIN_SHARED_SPEAKERS
        out = {s for s in source.speakers if s == held_id
               or (shared and speaker_share(s.split("/", 1)[1]) < share)}
        held += [r for r in source.recordings if r.speaker in out]
        rest = [r for r in source.recordings if r.speaker not in out]
        if rest:
            kept.append(DigitSource(source.name, source.weight, rest))
    if not kept:
        what = f"--holdout-speaker {speaker}" if speaker else f"--holdout-share {share:g}"
        raise NeocogError(f"{what}: every speaker is held out; nobody would be left to train on")
    return kept, held
