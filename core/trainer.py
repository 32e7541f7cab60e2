"""One generic trainer for every app (after ultralytics `engine/trainer.py`, hooks only).

An app hands it a TaskModel, a training dataset, an `evaluate(model) -> metrics`
function and the checkpoint header; the trainer owns the loop: optimizer, warm-up +
cosine (or one-cycle) LR, gradient clipping, EMA, the precision and memory format that
core.precision picks (bf16/fp16 autocast, channels_last), seeded epochs, tqdm, DDP under
torchrun, and the run folder:

    runs/<task>/<name>/config.json, metrics.csv, curves.png,
                       best.safetensors, last.safetensors, last.state.pt
"""

from __future__ import annotations

import csv
import json
import math
import random
import time
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.swa_utils import AveragedModel
from torch.utils.data import DataLoader, Dataset, DistributedSampler, RandomSampler
from tqdm import tqdm

from . import distributed as dist
from .checkpoint import atomic_write, load_training_state, save_checkpoint, save_training_state
from .config import SEED_RANGE, RangeChecked, resumed_options
from .errors import NeocogError
from .heads import TaskModel
from .precision import Runtime, RuntimeConfig, prepare, resolve, resolve_device
from .visualize import plot_curves

C = TypeVar("C", bound="TrainConfig")


@dataclass
class TrainConfig(RangeChecked, RuntimeConfig):
    epochs: int = field(default=10, metadata={"min": 1, "help": "passes over the training set"})
    batch_size: int = field(default=64, metadata={"min": 1, "help": "per process under torchrun"})
    lr: float = field(default=2e-3, metadata={
        "min": 0, "help": "peak learning rate; 0 keeps the weights (BatchNorm statistics "
                          "still adapt)"})
    weight_decay: float = field(default=5e-4, metadata={"min": 0})
    optimizer: str = field(default="adamw", metadata={"choices": ["adamw", "sgd"]})
    bias_lr: float = field(default=1.0, metadata={
        "above": 0, "help": "lr multiplier of biases and norm parameters (airbench: 64)"})
    schedule: str = field(default="cosine", metadata={
        "choices": ["cosine", "onecycle", "constant"],
        "help": "cosine: linear warm-up then cosine decay to 1% of lr"})
    warmup_epochs: float = field(default=1.0, metadata={"min": 0})
    grad_clip: float = field(default=10.0, metadata={
        "min": 0, "help": "max gradient norm; 0 disables"})
    ema: bool = field(default=False, metadata={"help": "evaluate and save an EMA of weights"})
    ema_decay: float = field(default=0.999, metadata={"min": 0, "below": 1})
    seed: int = field(default=0, metadata=SEED_RANGE)
    workers: int = field(default=0, metadata={"min": 0, "help": "DataLoader worker processes"})
    project: str = field(default="runs", metadata={"help": "root folder of run folders"})
    name: str = field(default="", metadata={"help": "run name; default exp, exp2, ..."})
    resume: bool = field(default=False, metadata={"help": "continue run --name (or the latest)"})


@dataclass
class TrainResult:
    """What an app's `train(cfg)` returns."""

    run_dir: Path  # holds best.safetensors, last.safetensors, metrics.csv, curves.png
    best: dict[str, float]  # the best epoch's validation metrics
    model: nn.Module  # the model as training left it (this rank's copy under torchrun)
    runtime: Runtime | None = None  # how it trained: device, precision, memory format


def run_dir_for(project: str, task: str, name: str, resume: bool) -> Path:
    """runs/<task>/<name>; a new name (exp, exp2, ...) unless resuming."""
    root = Path(project) / task
    if resume:
        if name:
            return root / name
        runs = sorted(root.glob("*/last.state.pt"), key=lambda p: p.stat().st_mtime)
        if not runs:
            raise NeocogError(f"{root}: no run to resume")
        return runs[-1].parent
    base = name or "exp"
    candidate, i = root / base, 2
    while not name and candidate.exists():
        candidate, i = root / f"{base}{i}", i + 1
    return candidate


def run_for(cfg: C, task: str, given: Collection[str] | None = None) -> tuple[C, Path]:
    """(cfg, its run folder); resuming, cfg takes the run's model-shaping options (an
    option the user gave otherwise is an error: see core.config.resumed_options)."""
    run_dir = run_dir_for(cfg.project, task, cfg.name, cfg.resume)
    return (resumed_options(cfg, run_dir, given) if cfg.resume else cfg), run_dir


def lr_lambda(config: TrainConfig, total_steps: int, warmup_steps: int) -> Callable[[int], float]:
    """Multiplier of the peak lr at each step: linear warm-up, then cosine to 1%."""

    def factor(step: int) -> float:
        if config.schedule == "constant":
            return 1.0
        if step < warmup_steps:
            return 0.01 + 0.99 * step / max(1, warmup_steps)
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def ema_update(decay: float) -> Callable[[list[Tensor], list[Tensor], Tensor], None]:
    """EMA step for AveragedModel with the decay ramped as min(decay, (1+n)/(10+n))
    (TensorFlow's ExponentialMovingAverage num_updates), so early averages are not
    dominated by the random initial weights."""

    def update(averaged: list[Tensor], current: list[Tensor], num_averaged: Tensor) -> None:
        n = int(num_averaged)
        d = min(decay, (1 + n) / (10 + n))
        if averaged[0].is_floating_point():  # AveragedModel groups tensors by dtype
            torch._foreach_lerp_(averaged, current, 1 - d)
        else:  # BatchNorm's num_batches_tracked counters
            torch._foreach_copy_(averaged, current)

    return update


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


Evaluate = Callable[[TaskModel, Runtime], dict[str, float]]  # (model, how to run it) -> metrics


class Trainer:
    """Trains `model` on `train_set`; `evaluate(model, runtime)` returns the epoch's metrics."""

    def __init__(self, model: TaskModel, train_set: Dataset, config: TrainConfig, run_dir: Path,
                 evaluate: Evaluate, monitor: str,
                 meta: dict[str, Any], collate: Callable | None = None, mode: str = "max",
                 app_config: dict[str, Any] | None = None) -> None:
        self.config, self.run_dir, self.evaluate = config, run_dir, evaluate
        self.monitor, self.mode, self.meta = monitor, mode, meta
        self.app_config = app_config or asdict(config)
        self.device = dist.setup(resolve_device(config.device))
        seed_everything(config.seed)
        self.runtime = prepare(model, model.task, "train", self.device, config.precision,
                               config.threads, config.memory_format)
        # Validation runs at inference's precision, on the weights in training's layout.
        self.eval_runtime = replace(resolve(config.precision, self.device, model.task, "infer"),
                                    channels_last=self.runtime.channels_last)
        self.model = model
        self.net: nn.Module = self.model
        if dist.world_size() > 1:
            self.net = DistributedDataParallel(self.model)
        self.loader = self._loader(train_set, collate)
        self.optimizer = self._optimizer()
        self.scheduler = self._scheduler()
        self.scaler = self.runtime.grad_scaler()
        self.ema = None
        if config.ema:
            self.ema = AveragedModel(self.model, multi_avg_fn=ema_update(config.ema_decay),
                                     use_buffers=True)
        self.start_epoch, self.best = 1, None
        self.history: list[dict[str, Any]] = []  # metrics.csv's rows, one per epoch done

    def _loader(self, train_set: Dataset, collate: Callable | None) -> DataLoader:
        if dist.world_size() > 1:
            self.sampler = DistributedSampler(train_set, seed=self.config.seed, drop_last=True)
        else:
            self.generator = torch.Generator()
            self.sampler = RandomSampler(train_set, generator=self.generator)
        return DataLoader(train_set, self.config.batch_size, sampler=self.sampler,
                          num_workers=self.config.workers, collate_fn=collate, drop_last=True,
                          persistent_workers=self.config.workers > 0, pin_memory=self.device.type == "cuda")

    def _optimizer(self) -> torch.optim.Optimizer:
        # No weight decay on biases and norm weights (1-D tensors): decaying them only hurts.
        decay = [p for p in self.model.parameters() if p.ndim > 1]
        no_decay = [p for p in self.model.parameters() if p.ndim <= 1]
        groups = [{"params": decay, "weight_decay": self.config.weight_decay},
                  {"params": no_decay, "weight_decay": 0.0,
                   "lr": self.config.lr * self.config.bias_lr}]
        if self.config.optimizer == "sgd":
            return torch.optim.SGD(groups, lr=self.config.lr, momentum=0.9, nesterov=True)
        return torch.optim.AdamW(groups, lr=self.config.lr)

    def _scheduler(self) -> torch.optim.lr_scheduler.LRScheduler:
        total = self.config.epochs * len(self.loader)
        if total == 0:
            raise NeocogError("training set is smaller than one batch; lower --batch-size")
        if self.config.schedule == "onecycle":
            peaks = [group["lr"] for group in self.optimizer.param_groups]
            return torch.optim.lr_scheduler.OneCycleLR(self.optimizer, peaks, total)
        warmup = int(self.config.warmup_epochs * len(self.loader))
        return torch.optim.lr_scheduler.LambdaLR(self.optimizer, lr_lambda(self.config, total, warmup))

    @property
    def eval_model(self) -> TaskModel:
        return self.ema.module if self.ema is not None else self.model

    def fit(self) -> dict[str, float]:
        """Train all epochs (from the resumed one); return the best epoch's metrics."""
        if dist.is_main():
            tqdm.write(f"training on {self.runtime}, {torch.get_num_threads()} threads")
        if self.config.resume:
            self._restore()
        for epoch in range(self.start_epoch, self.config.epochs + 1):
            started = time.perf_counter()
            losses = self._train_epoch(epoch)
            dist.sync_buffers(self.model)
            if dist.is_main():
                metrics = self.evaluate(self.eval_model.eval(), self.eval_runtime)
                self._end_epoch(epoch, losses, metrics, time.perf_counter() - started)
            dist.barrier()
        dist.teardown()
        return self.best["metrics"] if self.best else {}

    def run(self) -> TrainResult:
        """fit(), as the TrainResult an app's `train(cfg)` returns."""
        return TrainResult(self.run_dir, self.fit(), self.model, self.runtime)

    def _seed_epoch(self, epoch: int) -> None:
        # Every epoch's randomness derives from (seed, epoch) alone, so a resumed run
        # replays exactly what the uninterrupted run would have done.
        seed_everything(self.config.seed + epoch)
        if isinstance(self.sampler, DistributedSampler):
            self.sampler.set_epoch(epoch)
        else:
            self.generator.manual_seed(self.config.seed + epoch)

    def _train_epoch(self, epoch: int) -> dict[str, float]:
        self._seed_epoch(epoch)
        self.net.train()
        sums: dict[str, float] = {}
        bar = tqdm(self.loader, desc=f"epoch {epoch}/{self.config.epochs}", leave=True,
                   disable=not dist.is_main(), mininterval=1.0, dynamic_ncols=True)
        for step, (inputs, targets) in enumerate(bar, 1):
            losses = self.step(inputs, targets)
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + v
            bar.set_postfix(loss=f"{sums['loss'] / step:.4f}",
                            lr=f"{self.optimizer.param_groups[0]['lr']:.2e}", refresh=False)
        return {k: v / max(1, len(self.loader)) for k, v in sums.items()}

    def step(self, inputs: Any, targets: Any) -> dict[str, float]:
        """One optimizer step on a batch as the loader yields it; the losses as floats."""
        raw = self.runtime.forward(self.net, inputs)  # autocast inside, outputs in fp32
        losses = self.model.loss(raw, self.runtime.inputs(targets))  # the loss itself in fp32
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(losses["loss"]).backward()
        if self.config.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        if self.ema is not None:
            self.ema.update_parameters(self.model)
        return {k: float(v.detach()) for k, v in losses.items()}

    def _improved(self, metrics: dict[str, float]) -> bool:
        if self.monitor not in metrics:
            raise NeocogError(f"evaluation returned no '{self.monitor}': {sorted(metrics)}")
        if self.best is None:
            return True
        value, best = metrics[self.monitor], self.best["metrics"][self.monitor]
        return value > best if self.mode == "max" else value < best

    def _end_epoch(self, epoch: int, losses: dict[str, float], metrics: dict[str, float],
                   seconds: float) -> None:
        row = {"epoch": epoch, "lr": self.optimizer.param_groups[0]["lr"],
               **{f"train_{k}": v for k, v in losses.items()}, **metrics, "seconds": seconds}
        self._record(epoch, row)
        meta = {**self.meta, "epoch": epoch, "metrics": metrics}
        if self._improved(metrics):
            self.best = {"epoch": epoch, "metrics": metrics}
            save_checkpoint(self.run_dir / "best.safetensors", self.eval_model, meta)
        save_checkpoint(self.run_dir / "last.safetensors", self.eval_model, meta)
        save_training_state(self.run_dir / "last.state.pt", self._state(epoch))
        summary = "  ".join(f"{k} {v:.4f}" for k, v in metrics.items())
        tqdm.write(f"epoch {epoch}: {summary}  ({seconds:.1f}s) -> {self.run_dir}")

    def _record(self, epoch: int, row: dict[str, Any]) -> None:
        """config.json (with the first epoch), metrics.csv and curves.png (once per epoch),
        each replaced atomically."""
        if epoch == 1:
            # The run folder appears with its first epoch's results: a run that fails in
            # setup or before its first epoch ends leaves nothing behind.
            text = json.dumps(self.app_config, indent=2)
            atomic_write(self.run_dir / "config.json", lambda tmp: tmp.write_text(text))
        self.history.append(row)
        self._write_metrics(self.history)
        atomic_write(self.run_dir / "curves.png",
                     lambda tmp: plot_curves(self.run_dir / "metrics.csv", tmp))

    def _write_metrics(self, rows: list[dict[str, Any]]) -> None:
        """Replace metrics.csv with `rows` in one rename: a kill at any moment leaves the
        old file or the new one, never a missing or half-written history."""
        columns = list(dict.fromkeys(k for r in rows for k in r))  # in first-seen order

        def write(tmp: Path) -> None:
            with open(tmp, "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=columns)
                writer.writeheader()
                writer.writerows(rows)

        atomic_write(self.run_dir / "metrics.csv", write)

    def _state(self, epoch: int) -> dict[str, Any]:
        return {"epoch": epoch, "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                "scaler": self.scaler.state_dict(), "best": json.dumps(self.best),
                "ema": self.ema.state_dict() if self.ema is not None else {}}

    def _restore(self) -> None:
        state = load_training_state(self.run_dir / "last.state.pt")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if state["scaler"] and self.scaler.is_enabled():  # resuming across a precision change
            self.scaler.load_state_dict(state["scaler"])
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"])
        self.best = json.loads(state["best"])
        self.start_epoch = int(state["epoch"]) + 1
        self._truncate_metrics(self.start_epoch)

    def _truncate_metrics(self, start_epoch: int) -> None:
        """Drop metrics rows of epochs the resumed run will redo (killed mid-epoch)."""
        path = self.run_dir / "metrics.csv"
        if not path.exists() or not dist.is_main():
            return
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        self.history = [r for r in rows if int(r["epoch"]) < start_epoch]
        if len(self.history) < len(rows):  # a finished run resumed drops nothing: untouched
            self._write_metrics(self.history)
