"""The most-confused class pairs of a confusion matrix, and `neocog classify val` listing them."""

import json

import numpy as np
from PIL import Image

from neocog.apps.classification.metrics import ClassificationReport

from .conftest import cli_run


def report(confusion: list[list[int]], names: list[str]) -> ClassificationReport:
    matrix = np.array(confusion)
    return ClassificationReport(float(np.trace(matrix) / matrix.sum()), 1.0, 0.0, matrix, names)


def test_pairs_are_the_largest_off_diagonal_cells_with_the_true_class_share():
    r = report([[8, 2, 0],
                [5, 4, 2],
                [0, 0, 10]], ["cat", "dog", "fox"])
    assert r.confused_pairs() == [  # ties (2, 2) in row order; zero cells left out
        {"true": "dog", "predicted": "cat", "count": 5, "share": 0.4545},
        {"true": "cat", "predicted": "dog", "count": 2, "share": 0.2},
        {"true": "dog", "predicted": "fox", "count": 2, "share": 0.1818},
    ]
    assert [p["count"] for p in r.confused_pairs(top=1)] == [5]
    table = r.confused_table(top=2).splitlines()
    assert len(table) == 3 and table[1].split() == ["dog", "->", "cat", "5", "45.45%"]


def test_a_perfect_matrix_has_no_pairs():
    r = report([[3, 0], [0, 4]], ["a", "b"])
    assert r.confused_pairs() == [] and "none" in r.confused_table()


def test_val_prints_and_saves_the_pairs(tmp_path, mnist_arrays, capsys):
    """A folder whose class "1" holds real 7s: the shipped model calls them 7."""
    images, labels = mnist_arrays
    sevens = images[labels == 7][:8]
    for name in ("1", "7"):
        (tmp_path / "digits" / name).mkdir(parents=True)
        for i, digit in enumerate(sevens):
            Image.fromarray(digit).save(tmp_path / "digits" / name / f"{i}.png")
    code, out, err = cli_run(capsys, ["classify", "val", "--data", str(tmp_path / "digits"),
                                      "--val-fraction", "0.5", "--project", str(tmp_path),
                                      "--device", "cpu"])
    assert code == 0, err
    assert "most confused (true -> predicted)" in out
    assert "1 -> 7" in out and "100.00%" in out
    metrics = json.loads((tmp_path / "classify" / "val" / "metrics.json").read_text())
    # The shipped MNIST checkpoint records no val_fraction, so val holds out the random
    # share (holdout) of the 16 images: 2 of them are from folder "1".
    assert metrics["confused_pairs"] == [{"true": "1", "predicted": "7", "count": 2, "share": 1.0}]
