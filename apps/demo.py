"""`neocog demo`: every app that exists, offline, on the samples shipped in the package."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from neocog.core.config import parse_config
from neocog.core.precision import RuntimeConfig

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
CIFAR_SAMPLES = Path(__file__).parent / "classification" / "assets" / "cifar10_samples"
CIFAR_CREDIT = ("CIFAR-10: A. Krizhevsky, V. Nair, G. Hinton, \"Learning Multiple Layers of "
                "Features from Tiny Images\", 2009")


@dataclass
class DemoConfig(RuntimeConfig):
    project: str = field(default="runs/demo", metadata={"help": "where the demo writes"})


def runtime_args(cfg: RuntimeConfig) -> list[str]:
    """The demo's --device/--precision/--threads/--memory-format, for each app it runs."""
    return [arg for f in fields(RuntimeConfig)
            for arg in (f"--{f.name.replace('_', '-')}", str(getattr(cfg, f.name)))]


def classification(project: str, run: Sequence[str] = ()) -> None:
    print(f"== classify: the shipped MNIST model on {SAMPLES}")
    classify_infer.main(["--source", str(SAMPLES), *run])
    first = sorted(SAMPLES.glob("*.png"))[0]
    classify_visualize.main(["--source", str(first), "--project", project, "--name", "visualize"])


def photographs(run: Sequence[str] = ()) -> None:
    print(f"\n== classify: the shipped CIFAR-10 model on {CIFAR_SAMPLES}: one held-out "
          f"training photo per class, the true class in its file name\n   ({CIFAR_CREDIT})")
    classify_infer.main(["--weights", "cifar10", "--source", str(CIFAR_SAMPLES), *run])


def speech(run: Sequence[str] = ()) -> None:
    print(f"\n== speech: the shipped digit recogniser on {SPEECH_SAMPLES} "
          "(file names hold the spoken digits)")
    speech_transcribe.main([str(SPEECH_SAMPLES), *run])


def wavenet(project: str, run: Sequence[str] = ()) -> None:
    out = Path(project) / "wavenet"
    print("\n== wavenet: the shipped FSDD model, cached generation")
    wavenet_infer.generate_main(["--seconds", "0.5", "--speaker", "jackson", "--label", "7",
                                 "--out", str(out / "generated.wav"), *run])
    wavenet_infer.vocode_main([str(AUDIO_SAMPLE), "--out", str(out / "vocoded_7_lucas_0.wav"), *run])


def detection(project: str, run: Sequence[str] = ()) -> None:
    print(f"\n== detect: the shipped digit detector on a scene and a short video in {DETECT_ASSETS}")
    for source in ("scene.jpg", "scenes.mp4"):
        detect_infer.main(["--source", str(DETECT_ASSETS / source), "--save", "--project",
                           project, "--name", f"detect_{Path(source).stem}", *run])


def localization(project: str, run: Sequence[str] = ()) -> None:
    out = Path(project) / "locate"
    print(f"\n== locate: the shipped digit localizer on {LOCATE_SAMPLES}")
    locate_infer.main(["--source", str(LOCATE_SAMPLES), "--save", str(out), *run])


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(DemoConfig, argv, "neocog demo",
                       "Run every app on shipped samples, offline, and say where outputs went.")
    run = runtime_args(cfg)
    classification(cfg.project, run)
    photographs(run)
    localization(cfg.project, run)
    detection(cfg.project, run)
    speech(run)
    wavenet(cfg.project, runtime_args(replace(cfg, precision="auto")))  # generation: NumPy fp32
    print(f"\ndemo outputs are under {Path(cfg.project).resolve()}")
    return 0
