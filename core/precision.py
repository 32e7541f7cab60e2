"""Where and how a model runs: device, precision, memory format and threads, decided in
one place for the trainer, every predictor, `neocog demo` and the benchmarks.

`--precision auto` decides per device, app and mode ("train" or "infer"):
- CUDA: bf16 autocast where the GPU supports it, else fp16 with a gradient scaler;
- CPU: bf16 autocast only where the CPU has native bf16 (AMX or AVX-512 BF16, as torch
  reports it or the CPU flags say) AND benchmarks/precision.py measured it faster for
  that app and mode (its table ships as `assets/cpu_speed.json`); else fp32.
channels_last (for the 2-D conv models) follows the same measurement.

Weights stay fp32 under autocast (torch.autocast casts per op); `Runtime.forward`
hands back fp32 outputs, so losses, metrics, NMS and CTC decoding run in fp32.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from .errors import NeocogError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DTYPES: dict[str, torch.dtype] = {"bf16": torch.bfloat16, "fp16": torch.float16}
MODES = ("train", "infer")
MEMORY_FORMATS = ("auto", "channels_last", "contiguous")
SPEED_TABLE = Path(__file__).parent / "assets" / "cpu_speed.json"
# A variant must beat plain fp32 by this much in the measurement to be chosen: smaller
# gaps are within run-to-run noise, and `auto` must never be slower than fp32.
MARGIN = 1.05


@dataclass
class RuntimeConfig:
    """The options every train, val and infer command shares."""

    device: str = field(default="auto", metadata={"help": "auto, cpu, cuda or cuda:N"})
    precision: str = field(default="auto", metadata={
        "choices": list(PRECISIONS),
        "help": "auto: bf16 autocast where the device has it and it measured faster, else fp32; "
                "fp16 is CUDA only"})
    threads: int = field(default=0, metadata={
        "help": "torch intra-op threads; 0 = the cores available to this process"})
    memory_format: str = field(default="auto", metadata={
        "choices": list(MEMORY_FORMATS),
        "help": "2-D conv models: auto (channels_last where it measured faster), "
                "channels_last or contiguous"})

    def __post_init__(self) -> None:
        """Checked when the options are read, before any data is loaded or folder made."""
        check_options(self.device, self.precision, self.memory_format)
        check_threads(self.threads)


def resolve_device(spec: str) -> torch.device:
    """'auto' -> cuda when present, else cpu; 'cpu', 'cuda', 'cuda:N' checked against the
    machine (a missing device is an error, never a silent CPU run)."""
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(spec)
    except RuntimeError:
        raise NeocogError(f"--device {spec}: not a device; use auto, cpu, cuda or cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise NeocogError(f"--device {spec}: not supported; use auto, cpu, cuda or cuda:N")
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise NeocogError(f"--device {spec}: this machine has no CUDA device")
        if device.index is not None and device.index >= count:
            raise NeocogError(f"--device {spec}: this machine has {count} CUDA device(s), "
                              f"cuda:0..cuda:{count - 1}")
    return device


def onednn_version() -> str:
    """oneDNN's version as torch's build configuration reports it ("" where absent)."""
    found = re.search(r"(?:MKL-DNN|oneDNN) v([\d.]+)", torch.__config__.show())
    return found.group(1) if found else ""


def check_options(device: str, precision: str, memory_format: str) -> torch.device:
    """The device `device` names; one-line errors for a device the machine lacks, fp16
    off CUDA, a bad choice."""
    for value, choices, option in ((precision, PRECISIONS, "precision"),
                                   (memory_format, MEMORY_FORMATS, "memory-format")):
        if value not in choices:
            raise NeocogError(f"--{option} {value}: choose one of {', '.join(choices)}")
    resolved = resolve_device(device)
    if resolved.type != "cuda" and precision == "fp16":
        raise NeocogError("--precision fp16: CUDA only (CPU autocast has no fp16 kernels "
                          "worth using); use bf16 or fp32 on a CPU")
    return resolved


def cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


@cache
def cpu_has_native_bf16() -> bool:
    """AMX-BF16 or AVX-512 BF16, as torch's CPU capability check reports it, else as the
    CPU flags list it (oneDNN then runs bf16 convolutions natively, not emulated)."""
    cpu = getattr(torch._C, "_cpu", None)
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    if cpu is not None and all(hasattr(cpu, c) for c in checks):
        return any(getattr(cpu, c)() for c in checks)
    return bool(cpu_flags() & {"amx_bf16", "avx512_bf16"})


@cache
def speed_table() -> dict[str, dict[str, dict[str, float]]]:
    """app -> mode ("train", "infer" at the app's batch, "stream" at batch 1) -> variant
    ("fp32", "fp32_cl", "bf16", "bf16_cl") -> speed relative to fp32, as
    benchmarks/precision.py measured it."""
    if not SPEED_TABLE.is_file():
        return {}
    return json.loads(SPEED_TABLE.read_text())["speed"]


def choose_cpu(app: str, mode: str, precision: str, native_bf16: bool,
               table: dict[str, dict[str, dict[str, float]]] | None = None,
               layout: bool | None = None) -> tuple[str, bool, str]:
    """(precision, channels_last, why) for a CPU run in `mode` ("train", "infer" or
    "stream", batch 1), from the measured speed `table` (default: the shipped one, see
    speed_table); `layout` True/False allows only channels_last/contiguous variants."""
    measured = (speed_table() if table is None else table).get(app, {}).get(mode, {})
    if precision == "auto":
        allowed = ["fp32", "bf16"] if native_bf16 else ["fp32"]
    else:
        allowed = [precision]
    candidates = {v: s for v, s in measured.items() if v.split("_")[0] in allowed
                  and layout in (None, v.endswith("_cl"))}
    base = (precision if precision != "auto" else "fp32") + ("_cl" if layout else "")
    best, why = base, f"{app} {mode}: no measurement, plain {base}"
    if candidates:
        best = max(candidates, key=lambda v: candidates[v])
        if best != base and candidates[best] < MARGIN * candidates.get(base, 1.0):
            best = base
        why = f"{app} {mode}: measured {candidates[best]:.2f}x fp32"
    if precision == "auto" and not native_bf16:
        why += " (this CPU has no native bf16)"
    name, _, suffix = best.partition("_")
    return name, suffix == "cl", why


def choose_cuda(device: torch.device, precision: str, conv2d: bool) -> tuple[str, bool, str]:
    """(precision, channels_last, why) for a CUDA run: AMP in bf16 where supported, else
    fp16 with a gradient scaler; channels_last for 2-D convs under AMP (tensor cores)."""
    bf16_ok = torch.cuda.is_bf16_supported()
    if precision == "auto":
        precision = "bf16" if bf16_ok else "fp16"
    if precision == "bf16" and not bf16_ok:
        raise NeocogError(f"--precision bf16: {torch.cuda.get_device_name(device)} has no bf16; "
                          "use fp16 or fp32")
    return precision, conv2d and precision != "fp32", f"CUDA {precision}"


def default_threads() -> int:
    """The cores this process may run on, shared among torchrun's local processes."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    local = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    return max(1, (cores or 1) // max(1, local))


def check_threads(threads: int) -> None:
    if threads < 0:
        raise NeocogError(f"--threads {threads}: must be 0 (the available cores) or more")


def set_threads(threads: int) -> int:
    """torch intra-op threads: `threads`, or 0 for default_threads(); returns the number."""
    check_threads(threads)
    n = threads or default_threads()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


@dataclass(frozen=True)
class Runtime:
    """How one model runs: its device, autocast dtype and memory format."""

    device: torch.device
    precision: str  # "fp32", "bf16" or "fp16" (resolved, never "auto")
    channels_last: bool
    reason: str  # why `auto` chose it, for the log line
    single: str = ""  # the precision of batch-1 calls where it differs (measured apart)

    def dtype(self, batch: int = 0) -> torch.dtype | None:
        """The autocast dtype for a batch of `batch` inputs (None: plain fp32)."""
        return DTYPES.get(self.single if batch == 1 and self.single else self.precision)

    def autocast(self, batch: int = 0) -> contextlib.AbstractContextManager:
        dtype = self.dtype(batch)
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=dtype)

    def grad_scaler(self) -> torch.amp.GradScaler:
        """A scaler that is active only for fp16 (bf16 has fp32's exponent range)."""
        return torch.amp.GradScaler(self.device.type, enabled=self.precision == "fp16")

    def place(self, model: nn.Module) -> nn.Module:
        """Move `model` to the device, channels_last where chosen (else contiguous, which
        undoes an earlier channels_last); weights stay fp32."""
        layout = torch.channels_last if self.channels_last else torch.contiguous_format
        return model.to(self.device, memory_format=layout)  # the layout touches 4-D weights only

    def inputs(self, obj: Any) -> Any:
        """Tensors inside a nested input moved to the device; 4-D image batches
        channels_last where chosen."""
        return map_tensors(self._place_tensor, obj)

    def _place_tensor(self, t: Tensor) -> Tensor:
        t = t.to(self.device, non_blocking=True)
        if self.channels_last and t.ndim == 4:
            t = t.contiguous(memory_format=torch.channels_last)
        return t

    def forward(self, model: nn.Module, inputs: Any) -> Any:
        """model(inputs) under autocast, outputs back in fp32 (what losses, metrics, NMS
        and decoding read)."""
        with self.autocast(batch_size(inputs)):
            raw = model(self.inputs(inputs))
        return to_fp32(raw)

    @classmethod
    def as_placed(cls, model: nn.Module) -> Runtime:
        """fp32 on whatever device `model` is on: what a caller that passes no runtime gets."""
        return cls(next(model.parameters()).device, "fp32", False, "as placed")

    def __str__(self) -> str:
        layout = " + channels_last" if self.channels_last else ""
        single = f" ({self.single} at batch 1)" if self.single and self.single != self.precision else ""
        return f"{self.device} {self.precision}{layout}{single} ({self.reason})"


def batch_size(obj: Any) -> int:
    """Dim 0 of the first tensor in a nested input (0 where there is none)."""
    if isinstance(obj, Tensor):
        return obj.shape[0] if obj.ndim else 0
    values = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, list | tuple) else []
    return next((n for n in map(batch_size, values) if n), 0)


def map_tensors(fn: Callable[[Tensor], Tensor], obj: Any) -> Any:
    """`obj` with `fn` applied to every tensor inside its nested lists, tuples, dicts and
    dataclasses (a head's raw output, e.g. DetectRaw)."""
    if isinstance(obj, Tensor):
        return fn(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{f.name: map_tensors(fn, getattr(obj, f.name))
                                           for f in dataclasses.fields(obj) if f.init})
    if isinstance(obj, dict):
        return {k: map_tensors(fn, v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(map_tensors(fn, v) for v in obj)
    return obj


def to_fp32(obj: Any) -> Any:
    """Floating tensors inside a nested output as fp32."""
    return map_tensors(lambda t: t.float() if t.is_floating_point() else t, obj)


def resolve(precision: str, device: str | torch.device, app: str, mode: str,
            conv2d: bool = True, memory_format: str = "auto") -> Runtime:
    """Decide how `app` runs in `mode` ("train" or "infer") on `device`; `conv2d`: whether
    the model's convolutions are 2-D (channels_last means nothing to 1-D ones);
    `memory_format` other than auto fixes the layout. On a CPU, inference at batch 1 (a
    webcam frame, one file) gets its own measured precision, for the same layout."""
    dev = check_options(str(device), precision, memory_format)
    if mode not in MODES:
        raise ValueError(f"mode {mode!r}: one of {MODES}")
    forced = None if memory_format == "auto" or not conv2d else memory_format == "channels_last"
    if dev.type == "cuda":
        name, layout, why = choose_cuda(dev, precision, conv2d)
        return Runtime(dev, name, layout if forced is None else forced, why)
    native = cpu_has_native_bf16()
    name, layout, why = choose_cpu(app, mode, precision, native, layout=forced)
    single = ""
    if mode == "infer":
        single, _, why_single = choose_cpu(app, "stream", precision, native, layout=layout)
        why += f"; batch 1: {single} ({why_single.split(': ', 1)[1]})"
    return Runtime(dev, name, layout and conv2d, why, single)



def has_conv2d(model: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in model.modules())


def prepare(model: nn.Module, app: str, mode: str, device: str | torch.device = "auto",
            precision: str = "auto", threads: int | None = None,
            memory_format: str = "auto") -> Runtime:
    """Decide how `model` runs (see `resolve`), set the threads (None leaves torch's
    setting), and place the model; returns the Runtime to call it through."""
    if threads is not None:
        set_threads(threads)
    runtime = resolve(precision, device, app, mode, has_conv2d(model), memory_format)
    runtime.place(model)
    return runtime
