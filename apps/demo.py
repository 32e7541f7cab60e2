"""`neocog demo`: every app that exists, offline, on the samples shipped in the package."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from neocog.core.config import parse_config

from .classification import infer as classify_infer
from .classification import visualize as classify_visualize
from .detection import infer as detect_infer
from .localization import infer as locate_infer
from .speech import transcribe as speech_transcribe
from .wavenet import infer as wavenet_infer

SAMPLES = Path(__file__).parent / "classification" / "assets" / "samples"
SPEECH_SAMPLES = Path(__file__).parent / "speech" / "assets" / "samples"
DETECT_ASSETS = Path(__file__).parent / "detection" / "assets"
AUDIO_SAMPLE = Path(__file__).parent / "wavenet" / "assets" / "samples" / "7_lucas_0.wav"
LOCATE_SAMPLES = Path(__file__).parent / "localization" / "assets" / "samples"


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


def wavenet(project: str) -> None:
    out = Path(project) / "wavenet"
    print("\n== wavenet: the shipped FSDD model, cached generation")
    wavenet_infer.generate_main(["--seconds", "0.5", "--speaker", "jackson", "--label", "7",
                                 "--out", str(out / "generated.wav")])
    wavenet_infer.vocode_main([str(AUDIO_SAMPLE), "--out", str(out / "vocoded_7_lucas_0.wav")])


def detection(project: str) -> None:
    print(f"\n== detect: the shipped digit detector on a scene and a short video in {DETECT_ASSETS}")
    for source in ("scene.jpg", "scenes.mp4"):
        detect_infer.main(["--source", str(DETECT_ASSETS / source), "--save", "--project",
                           project, "--name", f"detect_{Path(source).stem}"])


def localization(project: str) -> None:
    out = Path(project) / "locate"
    print(f"\n== locate: the shipped digit localizer on {LOCATE_SAMPLES}")
    locate_infer.main(["--source", str(LOCATE_SAMPLES), "--save", str(out)])


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(DemoConfig, argv, "neocog demo",
                       "Run every app on shipped samples, offline, and say where outputs went.")
    classification(cfg.project)
    localization(cfg.project)
    detection(cfg.project)
    speech()
    wavenet(cfg.project)
    print(f"\ndemo outputs are under {Path(cfg.project).resolve()}")
    return 0
