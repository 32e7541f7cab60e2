"""Checkpoints: safetensors weights + a JSON header; loading never unpickles code.

The header holds the model spec (backbone + head configs), the task, class names,
preprocessing and the package version, so a file alone rebuilds its model.
Every write is atomic (temp file in the same folder + rename), so a kill at any
moment leaves the previous good file readable.

A file may come from anyone, so nothing in it is believed before it is checked: the
header's fields have the types and ranges the apps read them with, and the model it
describes is first built on the meta device (shapes, no memory) and must match the
file's tensors by names, shapes and dtypes before it is built for real. Every failure
is one NeocogError line naming the file.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import pickle
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import Tensor

from .audio import WINDOWS, MelConfig
from .backbones import BackboneConfig
from .errors import NeocogError
from .heads import TaskModel, model_from_spec
from .registry import HEADS
from .zoo import resolve_weights

FORMAT = "neocog/1"
HEADER_KEY = "neocog"
# Any int in a model spec (widths, depths, counts, kernel sizes): none of these convnets
# comes near it, and it keeps small what a constructor loops over before it makes a
# single layer (a WaveNet's list of 2**layer dilations).
MAX_SIZE = 4096
MAX_SIDE = 4096  # pixels: an input side (preprocess size, imgsz)
RATES = (1000, 384_000)  # Hz: a sample rate anywhere in a header


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("neocog")
    except PackageNotFoundError:
        return "0+unknown"


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` on a temp file beside `path`, fsync it, then rename over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a checkpoint is an ordinary file
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_checkpoint(path: str | Path, model: TaskModel, meta: dict[str, Any]) -> None:
    """Write `model`'s weights and a header {format, version, model spec, **meta}."""
    header = {"format": FORMAT, "version": package_version(), "model": model.spec(), **meta}
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    metadata = {HEADER_KEY: json.dumps(header)}
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def read_checkpoint(path: str | Path) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Read (tensors, header); a missing, corrupt or foreign file, or a header that is
    not what the apps read (see `check_header`), raises NeocogError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise NeocogError(f"{path}: no such checkpoint file")
    try:
        with safe_open(str(path), framework="pt") as f:
            header = parse_header(f.metadata() or {})
        tensors = load_file(str(path))
    except NeocogError as err:
        raise NeocogError(f"{path}: {err}") from None
    except (SafetensorError, OSError, ValueError) as err:
        raise NeocogError(f"{path}: not a readable safetensors checkpoint ({err})") from None
    return tensors, header


def parse_header(metadata: dict[str, str]) -> dict[str, Any]:
    """A safetensors file's metadata -> its checked neocog header (errors without the file)."""
    if HEADER_KEY not in metadata:
        raise NeocogError("safetensors file without a neocog header")
    try:
        header = json.loads(metadata[HEADER_KEY])
        check_header(header)
    except json.JSONDecodeError as err:
        raise NeocogError(f"its neocog header is not valid JSON ({err})") from None
    except RecursionError:
        raise NeocogError("its neocog header nests too deeply") from None
    return header


def load_model(path: str | Path, task: str) -> tuple[TaskModel, dict[str, Any]]:
    """Rebuild the model a checkpoint describes and load its weights (eval mode). `path`
    is a file, a shipped model's name, or "" for the task's default (core.zoo.resolve_weights)."""
    path = resolve_weights(path, task)
    tensors, header = read_checkpoint(path)
    found = header["model"]["task"]
    if found != task:
        raise NeocogError(f"{path}: a '{found}' checkpoint, expected a '{task}' one")
    try:
        check_fits(header)
        model = build_checked(header["model"], tensors)
    except NeocogError as err:
        raise NeocogError(f"{path}: {err}") from None
    model.load_state_dict(tensors)  # names and shapes checked; float16 weights cast up
    return model.eval(), header


# ---------------------------------------------------------------- the header


def check_header(header: Any) -> None:
    """Raise NeocogError (the caller adds the file) at the first field that is not what
    the apps read: the model spec, class and other name lists, the input size (imgsz),
    the image preprocessing and the mel front end."""
    if not isinstance(header, dict):
        raise NeocogError(f"header is a JSON {json_kind(header)}, expected an object")
    check_spec(header.get("model"))
    check_rules("header", {k: v for k, v in header.items() if k in META}, META)
    if "preprocess" in header:
        check_rules("header.preprocess", header["preprocess"], PREPROCESS)
    if "mel" in header:
        check_mel("header.mel", header["mel"])


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is not 1


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def is_side(value: Any) -> bool:
    return is_int(value) and 0 < value <= MAX_SIDE


def is_stride(value: Any) -> bool:
    """2, or [2, 1] (height, width): a stride of 0 builds a pool that fails on every input."""
    pair = value if isinstance(value, list) and len(value) == 2 else [value]
    return all(is_int(v) and v >= 1 for v in pair)


def is_names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


Rule = tuple[Callable[[Any], bool], str]  # (test, what the value must be)
NAMES_RULE: Rule = (is_names, "a list of strings")
# Top-level fields the apps read (any other key, e.g. epoch or metrics, is left alone).
META: dict[str, Rule] = {"names": NAMES_RULE, "words": NAMES_RULE, "speakers": NAMES_RULE,
                         "labels": NAMES_RULE, "imgsz": (is_side, f"an int in 1..{MAX_SIDE}"),
                         "val_fraction": (lambda v: is_number(v) and 0 < v < 1,
                                          "a number between 0 and 1")}
# The fields of the apps' Preprocess (classification's; localization's is a subset).
PREPROCESS: dict[str, Rule] = {
    "size": (is_side, f"an int in 1..{MAX_SIDE}"),
    "channels": (lambda v: is_int(v) and v in (1, 3), "1 or 3"),
    "mean": (is_number, "a finite number"),
    "std": (lambda v: is_number(v) and v > 0, "a finite number > 0"),
    "invert_light": (lambda v: isinstance(v, bool), "true or false"),
}


def check_rules(what: str, values: Any, rules: dict[str, Rule]) -> None:
    """`values` must be a JSON object whose keys are among `rules` and pass them."""
    if not isinstance(values, dict):
        raise NeocogError(f"{what} is a JSON {json_kind(values)}, expected an object")
    for key, value in values.items():
        if key not in rules:
            raise NeocogError(f"{what} has an unknown key '{key}'; known: {', '.join(rules)}")
        test, expected = rules[key]
        if not test(value):
            raise NeocogError(f"{what}.{key} is {brief(value)}, expected {expected}")


def check_spec(spec: Any) -> None:
    """The model spec: {task, backbone, head: {name, config}} or, for a whole registered
    model, {task, model, config}; every number in range, every config field typed."""
    if not (isinstance(spec, dict) and isinstance(spec.get("task"), str)):
        raise NeocogError("header.model is not an object with a 'task' string")
    check_numbers("header.model", spec)
    if "model" in spec:
        if not (isinstance(spec["model"], str) and isinstance(spec.get("config"), dict)):
            raise NeocogError("header.model needs a 'model' name and a 'config' object")
        if "mel" in spec["config"]:
            check_mel("header.model.config.mel", spec["config"]["mel"])
        return
    check_fields("header.model.backbone", BackboneConfig, spec.get("backbone"))
    strides = spec["backbone"].get("strides")
    if strides is not None and not (isinstance(strides, list) and all(map(is_stride, strides))):
        raise NeocogError(f"header.model.backbone.strides is {brief(strides)}, expected a list "
                          "of ints >= 1 or [height, width] pairs of them")
    head = spec.get("head")
    if not (isinstance(head, dict) and isinstance(head.get("name"), str)):
        raise NeocogError("header.model.head is not an object with a 'name' string")
    check_fields("header.model.head.config", HEADS.get(head["name"]).Config, head.get("config"))


def check_numbers(what: str, spec: dict[str, Any]) -> None:
    """Every number under `spec` finite, every int in 0..MAX_SIZE (a sample rate in RATES)."""
    for key, value in leaves(spec):
        if isinstance(value, float) and not math.isfinite(value):
            raise NeocogError(f"{what}.{key} is {value}, expected a finite number")
        low, high = RATES if key.endswith("sample_rate") else (0, MAX_SIZE)
        if is_int(value) and not low <= value <= high:
            raise NeocogError(f"{what}.{key} is {value}, expected an int in {low}..{high}")


def leaves(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every leaf of nested JSON: {"a": [1]} -> ("a[0]", 1)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, f"{key}.{k}" if key else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, f"{key}[{i}]")
    else:
        yield key, value


def check_fields(what: str, cls: type, values: Any) -> None:
    """`values` must be a JSON object of dataclass `cls`'s fields, each of its default's
    JSON type (an int may stand for a float, nothing else for anything else)."""
    if not isinstance(values, dict):
        raise NeocogError(f"{what} is a JSON {json_kind(values)}, expected an object")
    defaults = {f.name: field_default(f) for f in dataclasses.fields(cls)}
    for key, value in values.items():
        if key not in defaults:
            raise NeocogError(f"{what} has an unknown key '{key}'; known: {', '.join(defaults)}")
        default = defaults[key]
        if default is not None and not same_kind(value, default):
            raise NeocogError(f"{what}.{key} is {brief(value)}, expected {KINDS[type(default)]}")


KINDS = {bool: "true or false", int: "an int", float: "a number", str: "a string",
         list: "a list", dict: "an object"}


def field_default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    return None if f.default_factory is dataclasses.MISSING else f.default_factory()


def same_kind(value: Any, default: Any) -> bool:
    if isinstance(default, float) and not isinstance(value, bool):
        return isinstance(value, int | float)
    return type(value) is type(default)  # bool is not int here


def check_mel(what: str, mel: Any) -> None:
    """The mel front end's settings: MelConfig's fields and its own checks, and the
    sizes torchaudio divides by or allocates with (n_fft and n_mels bounded by MAX_SIZE)."""
    check_fields(what, MelConfig, mel)
    check_numbers(what, mel)
    cfg = MelConfig(**mel)  # its own checks: normalize, top_db, cepstra
    if min(cfg.n_fft, cfg.hop_length, cfg.n_mels) < 1:
        raise NeocogError(f"{what}: n_fft, hop_length and n_mels must be >= 1, not "
                          f"{cfg.n_fft}, {cfg.hop_length}, {cfg.n_mels}")
    if not 0 <= cfg.f_min < cfg.sample_rate / 2:
        raise NeocogError(f"{what}.f_min is {cfg.f_min}, expected 0..{cfg.sample_rate / 2} Hz")
    if cfg.window not in WINDOWS:
        raise NeocogError(f"{what}.window is '{cfg.window}', expected one of {', '.join(WINDOWS)}")


def json_kind(value: Any) -> str:
    """The JSON name of a parsed value's type: a list is an array, a dict an object."""
    return {dict: "object", list: "array", str: "string", bool: "boolean",
            type(None): "null"}.get(type(value), "number")


def brief(value: Any) -> str:
    """`value` as JSON on one short line, for an error message."""
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_fits(header: dict[str, Any]) -> None:
    """The header's lists and preprocessing against the model they go with. Every class
    the head predicts needs a name; a WaveNet looks names up the other way (speaker i ->
    embedding row i + 1), so its lists may be shorter than its tables (fine-tuning keeps
    the tables), not longer; the images made must have the channels the backbone reads."""
    spec = header["model"]
    config = spec["config"] if "model" in spec else spec["head"]["config"]
    names, classes = header.get("names"), config.get("num_classes")
    if names is not None and classes is not None and len(names) != classes:
        raise NeocogError(f"header lists {len(names)} class names, the head predicts {classes} classes")
    for key, rows in (("speakers", "n_speakers"), ("labels", "n_labels")):
        if len(header.get(key, [])) > config.get(rows, math.inf):
            raise NeocogError(f"header lists {len(header[key])} {key}, the model has "
                              f"{config[rows]} {key} rows")
    channels = header.get("preprocess", {}).get("channels")
    reads = spec.get("backbone", {}).get("in_channels")
    if channels is not None and reads is not None and channels != reads:
        raise NeocogError(f"header.preprocess makes {channels}-channel images, the backbone "
                          f"reads {reads}-channel ones")


# ---------------------------------------------------------------- the model


def build_checked(spec: dict[str, Any], tensors: dict[str, Tensor]) -> TaskModel:
    """The model `spec` describes, built for real only after a build on the meta device
    (shapes, no memory) has matched `tensors`: a crafted width allocates nothing, a
    crafted depth stops at the file's tensor count."""
    with torch.device("meta"), parameter_limit(2 * len(tensors) + 16):
        shell = build(spec)
    mismatch = tensor_mismatch(shell.state_dict(), tensors)
    if mismatch:
        raise NeocogError(f"weights do not fit the model in its header: {mismatch}")
    return build(spec)


def build(spec: dict[str, Any]) -> TaskModel:
    try:
        return model_from_spec(spec)
    except NeocogError:
        raise
    except Exception as err:  # noqa: BLE001 - a constructor given odd numbers raises anything
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise NeocogError(f"the model in its header cannot be built ({type(err).__name__}: "
                          f"{first})") from None


@contextmanager
def parameter_limit(limit: int) -> Iterator[None]:
    """Stop a model build at its `limit`-th parameter. On the meta device a layer costs
    no tensor memory, but a depth of millions would still make millions of modules.
    The slack over the file's tensor count is for parameters a constructor makes and
    drops (a wrapped torchvision ResNet's classifier)."""
    made = 0

    def count(module: torch.nn.Module, name: str, param: Tensor) -> None:
        nonlocal made
        made += 1
        if made > limit:
            raise NeocogError(f"the model in its header has over {limit} parameters, "
                              "far more than the file holds tensors")

    handle = torch.nn.modules.module.register_module_parameter_registration_hook(count)
    try:
        yield
    finally:
        handle.remove()


def tensor_mismatch(expected: dict[str, Tensor], tensors: dict[str, Tensor]) -> str:
    """What keeps `tensors` from being the state `expected` describes, or "". Names and
    shapes must be equal; dtypes too, except that a float tensor may be stored in another
    float type (the shipped models keep float16)."""
    missing = [k for k in expected if k not in tensors]
    if missing:
        return f"the file has no tensor '{missing[0]}' ({len(missing)} missing)"
    extra = [k for k in tensors if k not in expected]
    if extra:
        return f"the file's tensor '{extra[0]}' is not in the model ({len(extra)} such)"
    for name, want in expected.items():
        got = tensors[name]
        if got.shape != want.shape:
            return f"'{name}' is {tuple(got.shape)} in the file, {tuple(want.shape)} in the model"
        if got.dtype != want.dtype and not (got.is_floating_point() and want.is_floating_point()):
            return f"'{name}' is {got.dtype} in the file, {want.dtype} in the model"
    return ""


def save_training_state(path: str | Path, state: dict[str, Any]) -> None:
    """Optimizer/scheduler/EMA state for --resume: plain tensors and numbers only."""
    atomic_write(path, lambda tmp: torch.save(state, tmp))


TRAINING_STATE_KEYS = ("epoch", "model", "optimizer", "scheduler", "scaler", "best", "ema")


def load_training_state(path: str | Path) -> dict[str, Any]:
    """The state `save_training_state` wrote; anything else is one NeocogError line."""
    path = Path(path)
    if not path.is_file():
        raise NeocogError(f"{path}: nothing to resume (no training state)")
    try:
        with warnings.catch_warnings():  # torch warns on stderr about a file's pickle protocol
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)  # never unpickles code
    except pickle.UnpicklingError:
        # torch's message runs over many lines and advises weights_only=False: running the
        # file's code is exactly what loading a training state must never do.
        raise NeocogError(f"{path}: not a training state neocog wrote (it pickles objects "
                          "other than tensors and numbers; refused, not run)") from None
    except Exception as err:  # noqa: BLE001 - torch raises many types for a bad file
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise NeocogError(f"{path}: unreadable training state ({type(err).__name__}: "
                          f"{first})") from None
    missing = [k for k in TRAINING_STATE_KEYS if not isinstance(state, dict) or k not in state]
    if missing:
        raise NeocogError(f"{path}: not a training state neocog wrote (no '{missing[0]}')")
    return state
