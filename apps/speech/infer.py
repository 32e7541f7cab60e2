"""`neocog speech infer --source FILE|DIR` and `neocog transcribe FILE_OR_DIR...`: one
transcript per audio file. A file that cannot be read prints its one-line error; the
others are still transcribed and the exit status is 1."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from neocog.core.config import parse_config
from neocog.core.precision import RuntimeConfig
from neocog.core.zoo import WEIGHTS_HELP
from neocog.datasets.audio import list_audio
from neocog.datasets.speech import DIGIT_WORDS

from ..common import Failures, readable, run_main
from .predictor import Transcriber


@dataclass
class TranscribeConfig(RuntimeConfig):
    weights: str = field(default="", metadata={"help": f"{WEIGHTS_HELP}; default: the shipped model"})
    vocabulary: str = field(default="", metadata={
        "help": "comma-separated words (or 'digits'): beam search may only output these; "
                "'none': greedy; empty: the words the model was trained on, if it lists them"})
    beam: int = field(default=8, metadata={"min": 1, "help": "beam width of the vocabulary search"})
    # Pauses are searched in 50 ms frames; a piece under a second holds hardly a word.
    max_seconds: float = field(default=20.0, metadata={
        "min": 1, "help": "longer audio is cut at pauses into pieces of at most this"})
    json: bool = field(default=False, metadata={"help": 'one line {"audio", "text"} per file'})


@dataclass
class SpeechInferConfig(TranscribeConfig):
    source: str = field(default="", metadata={"help": "an audio file or a folder of them"})


def parse_vocabulary(text: str) -> list[str] | None:
    """'zero,one' -> ['zero', 'one']; 'digits' -> the ten digit words; 'none' -> [] (greedy);
    '' -> None (the model's own word list)."""
    if text.strip() in ("digits", "none"):
        return DIGIT_WORDS if text.strip() == "digits" else []
    return [w.strip().lower() for w in text.split(",") if w.strip()] or None


def transcriber_for(cfg: TranscribeConfig) -> Transcriber:
    return Transcriber(cfg.weights or None, vocabulary=parse_vocabulary(cfg.vocabulary),
                       beam=cfg.beam, max_seconds=cfg.max_seconds, device=cfg.device,
                       precision=cfg.precision, threads=cfg.threads,
                       memory_format=cfg.memory_format)


def transcribe_sources(sources: list[str], cfg: TranscribeConfig) -> int:
    """Print a transcript per file of `sources`; 1 if any file or source failed, else 0."""
    transcriber = transcriber_for(cfg)
    failures = Failures()

    def transcript(path: Path) -> tuple[str, str]:
        wave, note = transcriber.load(path)
        return transcriber.transcribe_wave(wave), note

    for _, files in readable(list_audio, map(Path, sources), failures):
        for path, (text, note) in readable(transcript, files, failures):
            if note:
                print(note, file=sys.stderr)
            print(json.dumps({"audio": str(path), "text": text}) if cfg.json else f"{path}: {text}")
    return failures.status


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(SpeechInferConfig, argv, "neocog speech infer",
                       "Transcribe audio files with a trained (default: the shipped) model.")
    if not cfg.source:
        raise SystemExit("neocog speech infer: error: --source FILE|DIR is required")
    return transcribe_sources([cfg.source], cfg)


if __name__ == "__main__":
    raise SystemExit(run_main(main))
