"""Issue 19: what a run wrote is never lost or half-written (every file renamed into place,
a resume keeps its history), a command that fails before it has results leaves no folder
behind, and a file that is not a training state is refused on one line."""

from __future__ import annotations

import csv
import io
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from neocog.apps.cli import main as cli
from neocog.core.checkpoint import load_training_state
from neocog.core.errors import NeocogError

from .test_trainer import tiny_args

RUN_FILES = {"config.json", "metrics.csv", "curves.png", "best.safetensors", "last.safetensors",
             "last.state.pt"}


def neocog(argv: list[str]) -> int:
    """`neocog ARGV` in this process -> its exit status (argparse's too)."""
    try:
        return cli(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)


def train(args: list[str]) -> int:
    return neocog(["classify", "train", *args])


def epochs(run: Path) -> list[str]:
    with open(run / "metrics.csv", newline="") as f:
        return [row["epoch"] for row in csv.DictReader(f)]


class Renames:
    """Stands in for os.replace (atomic_write's last step): records each file renamed into
    place, and raises KeyboardInterrupt (a kill) at the one named `kill_at`."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.kill_at = ""
        self.real = os.replace

    def __call__(self, src: str | Path, dst: str | Path) -> None:
        if Path(dst).name == self.kill_at:
            raise KeyboardInterrupt
        self.names.append(Path(dst).name)
        self.real(src, dst)


@pytest.fixture
def renames(monkeypatch: pytest.MonkeyPatch) -> Renames:
    fake = Renames()
    monkeypatch.setattr(os, "replace", fake)
    return fake


def test_every_file_of_a_run_is_renamed_into_place_and_curves_drawn_once_an_epoch(
        small_mnist, tmp_path, renames):
    assert train(tiny_args(small_mnist, tmp_path, "a", 2)) == 0
    run = tmp_path / "classify" / "a"
    assert {p.name for p in run.iterdir()} == RUN_FILES == set(renames.names)
    assert renames.names.count("metrics.csv") == renames.names.count("curves.png") == 2
    assert renames.names.count("config.json") == 1


def test_resuming_a_finished_run_keeps_every_row_and_rewrites_nothing(small_mnist, tmp_path,
                                                                      renames):
    args = tiny_args(small_mnist, tmp_path, "done", 2)
    assert train(args) == 0
    metrics = tmp_path / "classify" / "done" / "metrics.csv"
    before = metrics.read_bytes()
    renames.names.clear()
    assert train(args + ["--resume"]) == 0
    assert metrics.read_bytes() == before and epochs(metrics.parent) == ["1", "2"]
    assert renames.names == []


def test_a_kill_while_dropping_rows_to_redo_leaves_the_whole_history(small_mnist, tmp_path,
                                                                     renames):
    args = tiny_args(small_mnist, tmp_path, "k", 2)
    assert train(args) == 0
    run = tmp_path / "classify" / "k"
    # As if killed after epoch 2's metrics row was written, before its state was saved.
    state = load_training_state(run / "last.state.pt")
    torch.save({**state, "epoch": 1}, run / "last.state.pt")
    renames.kill_at = "metrics.csv"
    assert train(args + ["--resume"]) == 130  # killed while dropping epoch 2's row
    assert epochs(run) == ["1", "2"] and not list(run.glob(".*.tmp"))
    renames.kill_at, renames.names = "", []
    assert train(args + ["--resume"]) == 0
    assert epochs(run) == ["1", "2"]
    # One rename drops the row, one writes epoch 2's again: the file is never missing.
    assert renames.names.count("metrics.csv") == 2


def test_epochs_below_one_leave_no_run_folder(small_mnist, tmp_path, capsys):
    assert train(tiny_args(small_mnist, tmp_path, "none", -1)) != 0
    assert not (tmp_path / "classify").exists()
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def yolo_root(root: Path, broken: bytes) -> Path:
    """A YOLO layout of three 64 px images with a box each, and img3.png holding `broken`."""
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "names.txt").write_text("thing\n")
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (64, 64, 3), np.uint8)).save(root / "images" / f"img{i}.png")
        (root / "labels" / f"img{i}.txt").write_text("0 0.5 0.5 0.4 0.4\n")
    (root / "images" / "img3.png").write_bytes(broken)
    (root / "labels" / "img3.txt").write_text("0 0.5 0.5 0.4 0.4\n")
    return root


DETECT_TINY = ["--imgsz", "64", "--width", "4", "--neck-channels", "8", "--epochs", "1",
               "--batch-size", "2", "--mosaic", "0"]


@pytest.mark.parametrize("broken", ["truncated", "not an image"])
def test_detect_train_on_bad_data_leaves_no_run_folder(tmp_path, capsys, broken):
    png = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(png, format="PNG")
    # Truncated: its header (the size) reads, its pixels fail in the first epoch.
    data = png.getvalue()[:60] if broken == "truncated" else b"not an image"
    root = yolo_root(tmp_path / "yolo", data)
    code = neocog(["detect", "train", "--data", str(root), "--project", str(tmp_path / "runs"),
                   *DETECT_TINY])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and "img3.png" in err[-1] and err[-1].startswith("error: ")
    assert not (tmp_path / "runs").exists()


def test_locate_val_writes_its_folder_only_with_results(small_mnist, tmp_path):
    project = tmp_path / "runs"
    assert neocog(["locate", "val", "--data", str(tmp_path / "none"), "--project",
                   str(project)]) == 1
    assert not project.exists()
    assert neocog(["locate", "val", "--data", str(small_mnist), "--val-images", "8", "--grid",
                   "0", "--project", str(project)]) == 0
    assert [p.name for p in (project / "locate" / "val").iterdir()] == ["metrics.json"]


def test_detect_infer_save_that_reads_nothing_leaves_no_folder(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.png").write_text("not an image")
    project = tmp_path / "runs"
    for source in (str(tmp_path / "missing.mp4"), str(bad)):
        assert neocog(["detect", "infer", "--source", source, "--save", "--project",
                       str(project)]) == 1
    assert not project.exists()


class Payload:
    """Any class: pickling it stores a reference that loading would import and call."""


FOREIGN_STATES = {
    "torch-save-object": lambda path: torch.save({"epoch": 1, "payload": Payload()}, path),
    "pickle": lambda path: path.write_bytes(pickle.dumps({"epoch": Payload()}, protocol=4)),
    "text": lambda path: path.write_text("plain text"),
    "no-optimizer": lambda path: torch.save({"epoch": 1}, path),
}


@pytest.mark.parametrize("kind", list(FOREIGN_STATES))
def test_a_file_that_is_not_a_training_state_is_refused_on_one_line(tmp_path, kind):
    path = tmp_path / "last.state.pt"
    FOREIGN_STATES[kind](path)
    with pytest.raises(NeocogError) as err:
        load_training_state(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert "weights_only" not in message


def test_resume_from_a_pickled_state_is_one_line_and_keeps_the_run(small_mnist, tmp_path,
                                                                    capsys):
    assert train(tiny_args(small_mnist, tmp_path, "x", 1)) == 0
    run = tmp_path / "classify" / "x"
    FOREIGN_STATES["torch-save-object"](run / "last.state.pt")
    capsys.readouterr()
    assert train(tiny_args(small_mnist, tmp_path, "x", 2) + ["--resume"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err] and "last.state.pt: not a training state" in err
    assert epochs(run) == ["1"]
