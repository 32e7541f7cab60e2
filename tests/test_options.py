"""What a careless option meets (issue 19): every range checked when the options are read,
one line naming the option; answers that would be wrong with exit 0 refused instead."""

import json
import math
from dataclasses import dataclass, field, fields

import numpy as np
import pytest
from PIL import Image

from neocog.apps.classification.infer import ClassifyInferConfig
from neocog.apps.classification.train import ClassifyTrainConfig
from neocog.apps.classification.val import ClassifyValConfig
from neocog.apps.detection.infer import DetectInferConfig
from neocog.apps.detection.train import DetectTrainConfig
from neocog.apps.detection.val import DetectValConfig
from neocog.apps.inspect import InspectConfig
from neocog.apps.localization.infer import LocateInferConfig
from neocog.apps.localization.train import LocateTrainConfig
from neocog.apps.localization.val import LocateValConfig
from neocog.apps.speech.infer import SpeechInferConfig
from neocog.apps.speech.train import SpeechTrainConfig
from neocog.apps.speech.val import SpeechValConfig
from neocog.apps.wavenet.infer import GenerateConfig, VocodeConfig
from neocog.apps.wavenet.train import WaveNetTrainConfig
from neocog.apps.wavenet.val import WaveNetValConfig
from neocog.core.config import (
    BOUNDS,
    RangeChecked,
    field_metadata,
    flag,
    parse_config,
    resumed_options,
)
from neocog.core.errors import NeocogError

from .conftest import SHARED, cli_run

CONFIGS = [ClassifyTrainConfig, ClassifyValConfig, ClassifyInferConfig, DetectTrainConfig,
           DetectValConfig, DetectInferConfig, LocateTrainConfig, LocateValConfig,
           LocateInferConfig, SpeechTrainConfig, SpeechValConfig, SpeechInferConfig,
           WaveNetTrainConfig, WaveNetValConfig, GenerateConfig, VocodeConfig, InspectConfig]
FSDD = SHARED / "fsdd" / "recordings"


run = cli_run


def outside(value: float, key: str, is_int: bool) -> float:
    """A value just outside bound `key` = `value`."""
    step = 1 if is_int else 0.5
    return {"min": value - step, "above": value, "max": value + step, "below": value}[key]


def bounded_fields() -> list[tuple[type, str, str, float]]:
    """(config, field, bound key, a value breaking it) for every bound of every config."""
    cases = []
    for cls in CONFIGS:
        for f in fields(cls):
            meta = field_metadata(cls, f.name)
            is_int = isinstance(f.default, int)
            cases += [(cls, f.name, key, outside(meta[key], key, is_int))
                      for key in BOUNDS if key in meta]
    return cases


@pytest.mark.parametrize(("cls", "name", "key", "value"), bounded_fields(),
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_every_bounded_option_refuses_a_value_just_outside_on_one_line(cls, name, key, value):
    with pytest.raises(NeocogError) as err:
        parse_config(cls, [flag(name), str(value)], "prog", "")
    assert str(err.value).startswith(f"{flag(name)} ") and "must be" in str(err.value)
    assert "\n" not in str(err.value)


def test_the_bounds_cover_the_options_issue_19_names():
    for cls, name, expected in [(ClassifyTrainConfig, "batch_size", {"min": 1}),
                                (ClassifyTrainConfig, "epochs", {"min": 1}),
                                (ClassifyTrainConfig, "val_fraction", {"above": 0, "below": 1}),
                                (ClassifyTrainConfig, "ema_decay", {"min": 0, "below": 1}),
                                (DetectInferConfig, "conf", {"min": 0, "max": 1}),
                                (GenerateConfig, "seconds", {"above": 0}),
                                (SpeechInferConfig, "beam", {"min": 1})]:
        meta = field_metadata(cls, name)
        assert expected.items() <= meta.items(), (cls.__name__, name, meta)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_float_option_must_be_finite(value):
    with pytest.raises(NeocogError, match=rf"^--lr {value}: must be a finite number$"):
        parse_config(ClassifyTrainConfig, [f"--lr={value}"], "prog", "")


def test_the_messages_say_what_the_range_is():
    cases = [(["--batch-size", "0"], "--batch-size 0: must be at least 1"),
             (["--val-fraction", "1.5"], "--val-fraction 1.5: must be above 0 and below 1"),
             (["--epochs", "-1"], "--epochs -1: must be at least 1")]
    for argv, message in cases:
        with pytest.raises(NeocogError) as err:
            parse_config(ClassifyTrainConfig, argv, "prog", "")
        assert str(err.value) == message


def test_a_subclass_that_only_changes_a_default_keeps_the_base_range_and_help(capsys):
    assert field_metadata(ClassifyTrainConfig, "epochs")["min"] == 1  # `epochs: int = 18`
    with pytest.raises(SystemExit):
        parse_config(ClassifyTrainConfig, ["--help"], "prog", "")
    help_text = " ".join(capsys.readouterr().out.split())
    assert "passes over the training set (default: 18; at least 1)" in help_text


def test_train_configs_built_in_python_are_checked_too():
    for cls in (ClassifyTrainConfig, DetectTrainConfig, LocateTrainConfig, SpeechTrainConfig,
                WaveNetTrainConfig):
        with pytest.raises(NeocogError, match="^--batch-size 0: must be at least 1$"):
            cls(batch_size=0)
        with pytest.raises(NeocogError, match="^--lr nan: must be a finite number$"):
            cls(lr=math.nan)
    assert ClassifyTrainConfig(lr=0.0).lr == 0.0  # lr 0 keeps the weights: allowed


def test_the_mixin_runs_after_the_ranges_the_base_post_init():
    calls = []

    @dataclass
    class Base:
        n: int = field(default=1, metadata={"min": 1})

        def __post_init__(self) -> None:
            calls.append(self.n)

    @dataclass
    class Checked(RangeChecked, Base):
        pass

    Checked(n=3)
    with pytest.raises(NeocogError, match="^--n 0: must be at least 1$"):
        Checked(n=0)
    assert calls == [3]  # the base's own checks still run, after the ranges


@pytest.mark.parametrize("argv", [["--seconds", "0"], ["--seconds", "1e9"],
                                  ["--temperature", "-1"], ["--seed", "-1"]])
def test_generate_options_out_of_range_are_one_line(capsys, argv, tmp_path):
    code, _, err = run(capsys, ["wavenet", "generate", *argv, "--out", str(tmp_path / "a.wav")])
    assert code == 1 and err.startswith(f"error: {argv[0]} ") and err.count("\n") == 1, err
    assert not (tmp_path / "a.wav").exists()


# Answers that were wrong with exit 0.

@pytest.fixture
def two_speakers(tmp_path):
    if not FSDD.is_dir():
        pytest.skip("../shared/data/fsdd is not here")
    folder = tmp_path / "fsdd"
    folder.mkdir()
    for path in sorted(FSDD.glob("[0-9]_*_0.wav")):
        if path.stem.split("_")[1] in ("jackson", "george"):
            (folder / path.name).write_bytes(path.read_bytes())
    return folder


def test_a_misspelt_holdout_speaker_lists_the_known_speakers(capsys, two_speakers, tmp_path):
    code, _, err = run(capsys, ["speech", "train", "--data", str(two_speakers), "--holdout-speaker",
                                "jakson", "--project", str(tmp_path / "runs")])
    assert code == 1 and err.count("\n") == 1
    assert err == "error: --holdout-speaker jakson: no such speaker; speakers: " \
                  "fsdd/george, fsdd/jackson\n", err
    assert not (tmp_path / "runs").exists()


def test_holding_out_the_only_speaker_is_refused(capsys, two_speakers, tmp_path):
    for path in two_speakers.iterdir():
        if "_jackson_" not in path.name:
            path.unlink()
    code, _, err = run(capsys, ["speech", "train", "--data", str(two_speakers),
                                "--holdout-speaker", "jackson", "--project", str(tmp_path)])
    assert code == 1 and "every speaker is held out" in err and err.count("\n") == 1, err


def image_folder(root, classes, per_class=3, side=28):
    """A class-per-subfolder image tree of random grey PNGs."""
    rng = np.random.default_rng(0)
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 255, (side, side), dtype=np.uint8)).save(
                root / name / f"{i}.png")
    return root


def test_a_one_class_image_folder_is_refused_before_training(capsys, tmp_path):
    data = image_folder(tmp_path / "one", ["cat"])
    code, _, err = run(capsys, ["classify", "train", "--data", str(data), "--project",
                                str(tmp_path / "runs")])
    assert code == 1 and err.count("\n") == 1
    assert "(cat); a classifier needs at least 2 classes" in err, err
    assert not (tmp_path / "runs").exists()


def test_classify_val_refuses_data_of_classes_the_model_lacks(capsys, tmp_path):
    data = image_folder(tmp_path / "pets", ["cat", "dog"])
    code, _, err = run(capsys, ["classify", "val", "--data", str(data), "--project",
                                str(tmp_path / "runs")])
    assert code == 1 and err.count("\n") == 1
    assert "class(es) cat, dog are not among the 10 classes of" in err, err


def test_classify_val_scores_a_folder_of_some_of_the_models_classes(capsys, tmp_path,
                                                                    mnist_arrays):
    """Folder classes are matched to the model's by name: a folder of 3s and 7s is scored
    as digits 3 and 7, not as the model's classes 0 and 1."""
    images, labels = mnist_arrays
    for digit in (3, 7):
        (tmp_path / "digits" / str(digit)).mkdir(parents=True)
        for i in np.flatnonzero(labels == digit)[:8]:
            Image.fromarray(images[i]).save(tmp_path / "digits" / str(digit) / f"{i}.png")
    code, out, err = run(capsys, ["classify", "val", "--data", str(tmp_path / "digits"),
                                  "--split", "train", "--project", str(tmp_path / "runs")])
    assert code == 0, err
    top1 = float(out.split("top-1 ")[-1].split()[0])
    assert top1 >= 0.9, out


def test_an_imgsz_the_backbone_cannot_read_is_one_line_before_training(capsys, tmp_path):
    data = image_folder(tmp_path / "pets", ["cat", "dog"])
    code, _, err = run(capsys, ["classify", "train", "--data", str(data), "--backbone", "lenet",
                                "--imgsz", "7", "--project", str(tmp_path / "runs")])
    assert code == 1 and err.count("\n") == 1
    assert err == "error: --imgsz 7: backbone lenet cannot read 7 x 7 inputs " \
                  "(it needs at least 12)\n", err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(("option", "value"), [("--imgsz", "100"), ("--scene-size", "100")])
def test_a_detector_side_off_its_deepest_stride_is_one_line(capsys, tmp_path, mnist_dir, option,
                                                            value):
    code, _, err = run(capsys, ["detect", "train", "--mnist", str(mnist_dir), option, value,
                                "--scenes", "1", "--val-scenes", "1",
                                "--project", str(tmp_path / "runs")])
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(f"error: {option} 100: the detector's deepest maps have stride 32; "
                          "use a multiple of it, e.g. 128"), err


def test_resume_keeps_the_runs_model_options_and_refuses_other_ones(capsys, tmp_path,
                                                                    small_mnist):
    common = ["classify", "train", "--data", str(small_mnist), "--project", str(tmp_path),
              "--name", "a", "--batch-size", "64", "--width", "4"]
    code, _, err = run(capsys, [*common, "--epochs", "1", "--backbone", "lenet"])
    assert code == 0, err
    code, _, err = run(capsys, [*common, "--epochs", "2", "--resume", "--backbone", "csp"])
    config = tmp_path / "classify" / "a" / "config.json"
    assert code == 1 and err == (f"error: {config}: the run's backbone is lenet; "
                                 "--resume cannot change it to csp\n")
    code, _, err = run(capsys, [*common, "--epochs", "2", "--resume"])  # no --backbone: lenet's
    assert code == 0, err
    assert json.loads(config.read_text())["backbone"] == "lenet"


def test_resumed_options_from_python(tmp_path):
    run_dir = tmp_path / "run"
    with pytest.raises(NeocogError, match="no run to resume"):
        resumed_options(ClassifyTrainConfig(resume=True), run_dir)
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps({"backbone": "lenet", "width": 4,
                                                     "epochs": 3}))
    cfg = resumed_options(ClassifyTrainConfig(resume=True, epochs=5), run_dir)
    assert (cfg.backbone, cfg.width, cfg.epochs) == ("lenet", 4, 5)  # epochs may change
    with pytest.raises(NeocogError, match="the run's width is 4; --resume cannot change it to 8"):
        resumed_options(ClassifyTrainConfig(resume=True, width=8), run_dir)
    (run_dir / "config.json").write_text("[1, 2]")
    with pytest.raises(NeocogError, match="not a run's options"):
        resumed_options(ClassifyTrainConfig(resume=True), run_dir)
