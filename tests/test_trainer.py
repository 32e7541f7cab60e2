"""The generic trainer: run folder, atomic checkpoints, resume after a kill, DDP."""

import csv
import signal
import subprocess
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

import neocog.apps.classification  # noqa: F401 - registers the head checkpoints name
from neocog.core.checkpoint import load_model, load_training_state
from neocog.core.trainer import TrainConfig, lr_lambda, run_dir_for

from .conftest import PYTHON, ROOT

TRAIN = [PYTHON, "-m", "neocog.apps.classification.train"]


def tiny_args(data: Path, project: Path, name: str, epochs: int) -> list[str]:
    return ["--data", str(data), "--project", str(project), "--name", name,
            "--epochs", str(epochs), "--backbone", "lenet", "--width", "4",
            "--batch-size", "32", "--seed", "3"]


def test_run_folder_holds_config_metrics_curves_and_checkpoints(small_mnist, tmp_path):
    subprocess.run(TRAIN + tiny_args(small_mnist, tmp_path, "a", 2) + ["--ema"], check=True,
                   capture_output=True)
    run = tmp_path / "classify" / "a"
    names = {p.name for p in run.iterdir()}
    assert {"config.json", "metrics.csv", "curves.png", "best.safetensors", "last.safetensors",
            "last.state.pt"} <= names
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert {"lr", "train_loss", "accuracy", "top5", "val_loss"} <= set(rows[0])
    assert float(rows[1]["train_loss"]) < float(rows[0]["train_loss"])
    model, header = load_model(run / "best.safetensors", "classify")
    assert header["epoch"] in (1, 2) and header["preprocess"]["size"] == 28
    assert not any(p.name.endswith(".tmp") for p in run.iterdir())


def test_resume_after_a_kill_reaches_the_same_weights(small_mnist, tmp_path):
    epochs = 4
    subprocess.run(TRAIN + tiny_args(small_mnist, tmp_path, "full", epochs), check=True,
                   capture_output=True)
    proc = subprocess.Popen(TRAIN + tiny_args(small_mnist, tmp_path, "killed", epochs),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = tmp_path / "classify" / "killed" / "last.state.pt"
    deadline = time.time() + 120
    while not state.exists() and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)  # mid-run, at any point after epoch 1
    proc.wait()
    done = load_training_state(state)["epoch"]
    assert 1 <= done < epochs, "the kill came too late to test resuming"
    subprocess.run(TRAIN + tiny_args(small_mnist, tmp_path, "killed", epochs) + ["--resume"],
                   check=True, capture_output=True)
    full = load_file(tmp_path / "classify" / "full" / "last.safetensors")
    resumed = load_file(tmp_path / "classify" / "killed" / "last.safetensors")
    for key, value in full.items():
        assert torch.equal(value, resumed[key]), key
    rows = list(csv.DictReader(open(tmp_path / "classify" / "killed" / "metrics.csv")))
    assert [r["epoch"] for r in rows] == [str(e) for e in range(1, epochs + 1)]


def test_ddp_two_cpu_processes_end_with_identical_weights(small_mnist, tmp_path):
    script = ROOT / "tests" / "ddp_worker.py"
    res = subprocess.run(
        [PYTHON, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         str(script), str(small_mnist), str(tmp_path)],
        capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    rank0 = load_file(tmp_path / "rank0.safetensors")
    rank1 = load_file(tmp_path / "rank1.safetensors")
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    runs = list((tmp_path / "runs" / "classify").iterdir())
    assert len(runs) == 1  # only rank 0 wrote a run folder
    rows = list(csv.DictReader(open(runs[0] / "metrics.csv")))
    assert len(rows) == 2
    # The checkpoint rank 0 saved is the model both ranks hold.
    saved = load_file(runs[0] / "last.safetensors")
    assert all(torch.equal(saved[k], rank0[k]) for k in saved)


def test_warmup_then_cosine_schedule():
    f = lr_lambda(TrainConfig(schedule="cosine"), total_steps=100, warmup_steps=10)
    assert f(0) == 0.01 and abs(f(10) - 1.0) < 1e-9
    assert f(55) < f(30) < 1.0 and abs(f(100) - 0.01) < 1e-9


def test_run_names_increment_and_resume_finds_the_latest(tmp_path):
    assert run_dir_for(str(tmp_path), "classify", "", False).name == "exp"
    (tmp_path / "classify" / "exp").mkdir(parents=True)
    assert run_dir_for(str(tmp_path), "classify", "", False).name == "exp2"
