"""What every benchmark records: the machine, the versions, the command; JSON + a table."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neocog.apps.common import run_main

RESULTS = Path(__file__).parent / "results"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def run(main: Callable[[], None]) -> None:
    """Run a benchmark's main(): a NeocogError (a missing or corrupt file, say) is one
    line on stderr and exit status 1, as in the apps."""
    raise SystemExit(run_main(lambda _argv: main()))


def add_threads_option(parser: argparse.ArgumentParser, default: int) -> None:
    """`--threads N`: torch intra-op threads, recorded in the JSON's machine entry."""
    parser.add_argument("--threads", type=int, default=default, help="torch threads: 1 where "
                        "other jobs share the cores (two OpenMP threads then spin-wait)")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    import torch

    from neocog.core.precision import cpu_flags, cpu_has_native_bf16

    return {"cpu": cpu_model(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "native_bf16": cpu_has_native_bf16(), "cpu_flags": " ".join(sorted(cpu_flags())),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "platform": platform.platform()}


def versions() -> dict[str, str]:
    from importlib.metadata import version

    from neocog.core.precision import onednn_version

    return {name: version(name) for name in ("neocog", "torch", "torchvision", "torchaudio",
                                              "numpy")} | {"python": platform.python_version(),
                                                           "onednn": onednn_version()}


def ship_half(weights: Path, task: str, dest: Path) -> None:
    """Copy checkpoint `weights` to `dest` with float tensors at half precision (loading
    casts back to float32): half the file, the same answers to within fp16 rounding."""
    from neocog.core.checkpoint import load_model, save_checkpoint

    model, header = load_model(weights, task)
    meta = {k: v for k, v in header.items() if k not in ("format", "version", "model")}
    save_checkpoint(dest, model.half(), meta)


def report(name: str, rows: list[tuple[str, str]], result: dict[str, Any]) -> Path:
    """Print `rows` as a table and write `result` + machine + versions + command as JSON."""
    width = max(len(k) for k, _ in rows)
    print(f"\n{name}\n" + "\n".join(f"  {k:<{width}}  {v}" for k, v in rows))
    record = {"benchmark": name, **result, "machine": machine(), "versions": versions(),
              "command": " ".join([Path(sys.executable).name, *sys.argv])}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"  -> {path}")
    print(json.dumps(record))
    return path
