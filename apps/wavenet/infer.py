"""`neocog wavenet generate --seconds S [--speaker X] [--label Y] --out FILE.wav` and
`neocog wavenet vocode IN.wav --out OUT.wav`, both through the cached generator."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from neocog.core.checkpoint import atomic_write
from neocog.core.config import (
    SEED_RANGE,
    StrictParser,
    add_dataclass_args,
    dataclass_from_args,
    parse_config,
)
from neocog.core.errors import NeocogError
from neocog.core.precision import RuntimeConfig
from neocog.core.zoo import WEIGHTS_HELP
from neocog.datasets.audio import read_audio

from ..common import run_main
from .predictor import Synthesizer


@dataclass
class GenerateConfig(RuntimeConfig):
    # An hour at 8 kHz is 29 M samples, under read_audio's cap on samples made at once.
    seconds: float = field(default=1.0, metadata={
        "above": 0, "max": 3600, "help": "length of the audio to sample"})
    speaker: str = field(default="", metadata={"help": "a speaker the model knows; empty = none"})
    label: str = field(default="", metadata={"help": "label the model knows (FSDD: a digit)"})
    temperature: float = field(default=1.0, metadata={
        "min": 0, "help": "softmax temperature; 0 = argmax"})
    seed: int = field(default=0, metadata=SEED_RANGE)
    out: str = field(default="generated.wav", metadata={"help": "wav file to write"})
    weights: str = field(default="", metadata={"help": f"{WEIGHTS_HELP}; default: the shipped model"})


@dataclass
class VocodeConfig(RuntimeConfig):
    speaker: str = field(default="", metadata={"help": "a speaker the model knows; empty = none"})
    temperature: float = field(default=1.0, metadata={
        "min": 0, "help": "softmax temperature; 0 = argmax"})
    seed: int = field(default=0, metadata=SEED_RANGE)
    out: str = field(default="vocoded.wav", metadata={"help": "wav file to write"})
    weights: str = field(default="", metadata={"help": f"{WEIGHTS_HELP}; default: the shipped model"})


def check_out(out: str) -> None:
    """--out must name a file that can be written: checked before minutes of sampling."""
    path = Path(out)
    if path.is_dir():
        raise NeocogError(f"--out {out}: is a folder; name a .wav file")
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise NeocogError(f"--out {out}: {parent} is a file, not a folder")


def write_wav(path: str | Path, wave: np.ndarray, sample_rate: int) -> None:
    """16-bit PCM wav, written atomically (a kill leaves no half file)."""
    atomic_write(path, lambda tmp: sf.write(str(tmp), wave, sample_rate, "PCM_16", format="WAV"))


def report(path: str, samples: int, sample_rate: int, seconds: float) -> None:
    print(f"wrote {path}: {samples / sample_rate:.2f} s at {sample_rate} Hz "
          f"({samples / seconds:.0f} samples/s)")


def generate_main(argv: list[str] | None = None) -> int:
    cfg = parse_config(GenerateConfig, argv, "neocog wavenet generate",
                       "Sample audio from a WaveNet, unconditioned or with a speaker / label.")
    check_out(cfg.out)
    synth = Synthesizer(cfg.weights or None, cfg.device, cfg.precision, cfg.threads,
                     cfg.memory_format)
    started = time.perf_counter()
    wave = synth.generate(cfg.seconds, cfg.speaker, cfg.label, cfg.temperature, cfg.seed)
    write_wav(cfg.out, wave, synth.sample_rate)
    report(cfg.out, len(wave), synth.sample_rate, time.perf_counter() - started)
    return 0


def vocode_main(argv: list[str] | None = None) -> int:
    parser = StrictParser(prog="neocog wavenet vocode",
                          description="Resynthesise audio from its own log-mel with a WaveNet.")
    parser.add_argument("source", help="audio file to resynthesise (any rate, resampled)")
    add_dataclass_args(parser, VocodeConfig)
    args = parser.parse_args(argv)
    cfg = dataclass_from_args(VocodeConfig, args)
    check_out(cfg.out)
    synth = Synthesizer(cfg.weights or None, cfg.device, cfg.precision, cfg.threads,
                     cfg.memory_format)
    audio = read_audio(args.source, synth.sample_rate)
    if audio.note:
        print(audio.note)
    started = time.perf_counter()
    wave = synth.vocode(audio.samples, cfg.speaker, cfg.temperature, cfg.seed)
    write_wav(cfg.out, wave, synth.sample_rate)
    report(cfg.out, len(wave), synth.sample_rate, time.perf_counter() - started)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m neocog.apps.wavenet.infer generate|vocode ...`"""
    argv = sys.argv[1:] if argv is None else argv
    prog, modes = "python -m neocog.apps.wavenet.infer", {"generate": generate_main,
                                                          "vocode": vocode_main}
    if argv and argv[0] in ("-h", "--help"):
        print(f"usage: {prog} {{{','.join(modes)}}} [--options]   (add --help to either)")
        return 0
    if not argv or argv[0] not in modes:
        got = f"unknown mode '{argv[0]}'" if argv else "no mode"
        print(f"{prog}: error: {got}; valid: {', '.join(modes)}", file=sys.stderr)
        return 2
    return modes[argv[0]](argv[1:])


if __name__ == "__main__":
    raise SystemExit(run_main(main))
