"""`neocog demo`: every app that exists, offline, on the samples shipped in the package."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from neocog.core.config import parse_config

from .classification import infer as classify_infer
from .classification import visualize as classify_visualize
from .speech import transcribe as speech_transcribe

SAMPLES = Path(__file__).parent / "classification" / "assets" / "samples"
SPEECH_SAMPLES = Path(__file__).parent / "speech" / "assets" / "samples"


@dataclass
class DemoConfig:
    project: str = field(default="runs/demo", metadata={"help": "where the demo writes"})


def classification(project: str) -> None:
    print(f"== classify: the shipped MNIST model on {SAMPLES}")
    classify_infer.main(["--source", str(SAMPLES)])
    first = sorted(SAMPLES.glob("*.png"))[0]
    classify_visualize.main(["--source", str(first), "--project", project, "--name", "visualize"])


def speech() -> None:
    print(f"\n== speech: the shipped digit recogniser on {SPEECH_SAMPLES} "
          "(file names hold the spoken digits)")
    speech_transcribe.main([str(SPEECH_SAMPLES)])


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(DemoConfig, argv, "neocog demo",
                       "Run every app on shipped samples, offline, and say where outputs went.")
    classification(cfg.project)
    speech()
    print(f"\ndemo outputs are under {Path(cfg.project).resolve()}")
    return 0
