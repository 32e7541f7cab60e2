"""`neocog classify templates`: a one-layer linear classifier's class templates, on small
synthetic data in the real formats (IDX files, an image folder of PNGs)."""

import json

import numpy as np
import pytest
from PIL import Image

from neocog.apps.classification.data import load_split
from neocog.apps.classification.templates import ClassifyTemplatesConfig, fit_templates
from neocog.core.visualize import plot_templates

from .conftest import cli_run, write_idx

SIDE = 28


def square_at(label: int) -> tuple[slice, slice]:
    """Where digit class `label` of the synthetic data has its bright 5x5 square."""
    row, col = 3 + 14 * (label // 5), 1 + 5 * (label % 5)
    return slice(row, row + 5), slice(col, col + 5)


@pytest.fixture
def square_idx(tmp_path):
    """300 noisy 28x28 'digits' as an IDX pair: class k is a bright square at square_at(k)."""
    rng = np.random.default_rng(0)
    labels = np.arange(300) % 10
    images = rng.integers(0, 60, (300, SIDE, SIDE))
    for image, label in zip(images, labels, strict=True):
        image[square_at(label)] = 230
    folder = tmp_path / "squares"
    folder.mkdir()
    write_idx(folder / "squares-images-idx3-ubyte", images)
    write_idx(folder / "squares-labels-idx1-ubyte", labels)
    return folder


@pytest.fixture
def colour_folder(tmp_path):
    """An image folder of 16x16 PNGs in three classes, each a noisy flat colour."""
    rng = np.random.default_rng(0)
    for name, colour in (("blue", (30, 30, 200)), ("green", (30, 200, 30)), ("red", (200, 30, 30))):
        (tmp_path / "colours" / name).mkdir(parents=True)
        for i in range(12):
            pixels = np.clip(rng.normal(colour, 30, (16, 16, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / "colours" / name / f"{i:02d}.png")
    return tmp_path / "colours"


def test_linear_model_learns_each_class_template_where_its_pattern_is(square_idx, tmp_path):
    split = load_split(str(square_idx), 0.2, SIDE)
    templates, top1 = fit_templates(split, ClassifyTemplatesConfig())
    assert top1 > 0.9  # chance is 0.1
    panels = plot_templates(templates, split.names, tmp_path / "t.png")
    assert panels.shape == (10, SIDE, SIDE)  # one grey panel per class
    for label, panel in enumerate(panels):
        inside = panel[square_at(label)].mean()
        others = np.mean([panel[square_at(k)].mean() for k in range(10) if k != label])
        assert inside > others + 0.2, label  # bright where its own square is


def test_colour_folder_templates_are_rgb_and_carry_each_class_colour(colour_folder, tmp_path):
    split = load_split(str(colour_folder), 0.25, 16)
    templates, top1 = fit_templates(split, ClassifyTemplatesConfig())
    assert top1 == 1.0
    panels = plot_templates(templates, split.names, tmp_path / "t.png")
    assert panels.shape == (3, 16, 16, 3)  # (classes, S, S, RGB)
    channel_means = panels.mean((1, 2))  # (classes, RGB)
    assert list(channel_means.argmax(1)) == [2, 1, 0]  # blue, green, red by name order


def test_cli_writes_png_and_json_and_scores_the_convnet_beside(square_idx, tmp_path, capsys):
    code, out, err = cli_run(capsys, ["classify", "templates", "--data", str(square_idx),
                                      "--project", str(tmp_path), "--name", "t"])
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("linear (one layer): top-1 ")
    assert "|  convnet (mnist_default.safetensors): top-1 0." in lines[0]
    folder = tmp_path / "classify" / "t"
    assert lines[1] == f"templates: {folder / 'templates.png'}"
    summary = json.loads((folder / "templates.json").read_text())
    assert summary["images"] == 30 and summary["train_images"] == 270  # 1/10 held out
    assert summary["linear"]["top1"] > 0.9 and 0 <= summary["convnet"]["top1"] <= 1
    width, height = Image.open(folder / "templates.png").size
    assert width > 2 * height  # ten panels: two rows of five


def test_cli_says_why_a_convnet_of_other_classes_is_not_scored(colour_folder, tmp_path, capsys):
    code, out, err = cli_run(capsys, ["classify", "templates", "--data", str(colour_folder),
                                      "--project", str(tmp_path), "--imgsz", "16"])
    assert code == 0, err
    assert "convnet (mnist_default.safetensors): not scored: " in out
    assert "blue, green, red are not among the 10 classes" in out
    summary = json.loads((tmp_path / "classify" / "templates" / "templates.json").read_text())
    assert summary["convnet"]["top1"] is None and summary["linear"]["top1"] == 1.0


@pytest.mark.parametrize(("args", "message"), [
    (["--epochs", "0"], "--epochs 0: must be at least 1"),
    (["--data", "no/such/folder"], "no/such/folder: no such data folder"),
])
def test_bad_options_fail_on_one_line(args, message, tmp_path, capsys):
    code, _, err = cli_run(capsys, ["classify", "templates", "--project", str(tmp_path), *args])
    assert code == 1 and err.strip() == f"error: {message}"
