"""The classification app end to end through its CLI, on real MNIST digits."""

import json
import subprocess

import numpy as np
import pytest
from PIL import Image

from neocog.apps.classification import DEFAULT_WEIGHTS, Classifier
from neocog.apps.classification.data import load_split

from .conftest import PYTHON

CLI = [PYTHON, "-m", "neocog.apps.cli", "classify"]


def run(args, **kw):
    return subprocess.run(CLI + args, capture_output=True, text=True, **kw)


@pytest.fixture
def digit_files(tmp_path, mnist_arrays):
    """Five real held-out digits as PNG files (light ink on black, as in MNIST)."""
    images, labels = mnist_arrays
    folder = tmp_path / "digits"
    folder.mkdir()
    for i in range(7995, 8000):
        Image.fromarray(images[i]).save(folder / f"{i}_{labels[i]}.png")
    return folder


def test_shipped_model_holds_99_4_percent_on_digits_it_never_saw(mnist_dir):
    split = load_split(str(mnist_dir), 0.125)  # the same held-out 1,000 the benchmark uses
    clf = Classifier()
    preds = []
    for i in range(0, len(split.val_labels), 250):
        preds += [p.index for p in clf(list(split.val_images[i: i + 250]))]
    accuracy = float(np.mean(np.array(preds) == split.val_labels))
    assert accuracy >= 0.994, accuracy


def test_shipped_weights_are_small_package_data():
    assert DEFAULT_WEIGHTS.is_file() and DEFAULT_WEIGHTS.stat().st_size < 2_000_000


def test_infer_json_lists_file_label_score(digit_files):
    res = run(["infer", "--source", str(digit_files), "--json"], check=True)
    results = json.loads(res.stdout)
    assert len(results) == 5
    for r in results:
        assert set(r) == {"file", "label", "score"} and 0 < r["score"] <= 1
        assert r["label"] == r["file"].rsplit("_", 1)[1][0]  # name holds the true label


def test_infer_inverts_a_dark_on_light_digit(digit_files, tmp_path):
    src = sorted(digit_files.iterdir())[0]
    paper = tmp_path / "paper.png"
    Image.fromarray(255 - np.asarray(Image.open(src))).save(paper)
    res = run(["infer", "--source", str(paper)], check=True)
    assert res.stdout.startswith(f"{paper}: {src.stem[-1]} ")


def test_infer_bad_image_fails_on_one_line(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    res = run(["infer", "--source", str(bad)])
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == [res.stderr.strip()]
    assert "bad.png: not a readable image" in res.stderr


def test_unknown_option_fails_listing_the_valid_ones():
    res = run(["train", "--epohcs", "3"])
    assert res.returncode == 2
    assert "unrecognized arguments: --epohcs" in res.stderr and "--epochs" in res.stderr


@pytest.mark.parametrize("mode", ["train", "val", "infer", "visualize", "templates"])
def test_every_mode_has_help(mode):
    res = run([mode, "--help"], check=True)
    assert res.stdout.startswith(f"usage: neocog classify {mode}")


def test_unknown_mode_and_task_list_the_valid_ones():
    res = run(["fly"])
    assert res.returncode == 2 and "valid: train, val, infer, visualize, templates" in res.stderr
    res = subprocess.run([PYTHON, "-m", "neocog.apps.cli", "juggle"], capture_output=True, text=True)
    assert res.returncode == 2 and "classify" in res.stderr


def test_val_reports_accuracy_per_class_and_saves_confusion_png(small_mnist, tmp_path):
    res = run(["val", "--data", str(small_mnist), "--project", str(tmp_path)], check=True)
    assert "top-1" in res.stdout and "precision" in res.stdout
    out = tmp_path / "classify" / "val"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["images"] == 80 and metrics["top1"] > 0.95 and len(metrics["recall"]) == 10
    assert Image.open(out / "confusion.png").size[0] > 100


def test_visualize_writes_filters_and_every_conv_layers_activations(digit_files, tmp_path):
    image = sorted(digit_files.iterdir())[0]
    run(["visualize", "--source", str(image), "--project", str(tmp_path)], check=True)
    out = tmp_path / "classify" / "visualize"
    n_conv = sum(1 for m in Classifier().model.backbone.modules()
                 if type(m).__name__ == "Conv2d")
    assert (out / "filters.png").is_file()
    assert len(list(out.glob("activations_*.png"))) == n_conv


def test_train_then_infer_with_the_new_weights(small_mnist, tmp_path, digit_files):
    run(["train", "--data", str(small_mnist), "--project", str(tmp_path), "--epochs", "1",
         "--backbone", "lenet", "--width", "8", "--hidden", "64", "--pool", "3"], check=True)
    weights = tmp_path / "classify" / "exp" / "best.safetensors"
    res = run(["infer", "--source", str(digit_files), "--weights", str(weights), "--json"],
              check=True)
    assert len(json.loads(res.stdout)) == 5


def test_train_on_an_image_folder_of_colour_images(tmp_path):
    rng = np.random.default_rng(0)
    for cls, colour in (("red", (200, 30, 30)), ("blue", (30, 30, 200))):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(24):
            pixels = np.clip(rng.normal(colour, 25, (36, 36, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / "imgs" / cls / f"{i}.png")
    res = run(["train", "--data", str(tmp_path / "imgs"), "--project", str(tmp_path),
               "--epochs", "3", "--imgsz", "32", "--width", "8", "--batch-size", "8"], check=True)
    assert "'accuracy': 1.0" in res.stdout
