"""Command-line options generated from dataclass configs.

Each field becomes `--field-name` with its type, default and help (field metadata
"help"); bools become `--flag/--no-flag`. Unknown options fail loudly and list the
valid ones (ultralytics `check_dict_alignment`); prefixes are never guessed.

A field's metadata may also bound it: "min" / "max" (inclusive), "above" / "below"
(exclusive); a float field must always be finite. check_ranges enforces that on every
command line (dataclass_from_args) and, for configs that inherit RangeChecked, on
construction from Python too: "--batch-size 0: must be at least 1". Metadata "shape": True
marks an option that shapes the model, which `--resume` keeps (resumed_options);
"repeat": True, a string option that may be given several times, its values joined by
commas (JoinRepeats).
"""

from __future__ import annotations

import argparse
import json
import math
import operator
import sys
import typing
from collections.abc import Callable, Collection
from dataclasses import MISSING, fields, replace
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from neocog.core.errors import NeocogError

T = TypeVar("T")
# Options that are gone, and what replaced them: met on a command line, the error says so.
REPLACED = {
    "--amp": "--precision auto|fp32|bf16|fp16 (auto: bf16/fp16 autocast where it measured faster)",
    "--no-amp": "--precision fp32",
}
# Range metadata keys: the test a value must pass, and how the error states it.
BOUNDS: dict[str, tuple[Callable[[Any, Any], bool], str]] = {
    "min": (operator.ge, "at least"), "above": (operator.gt, "above"),
    "max": (operator.le, "at most"), "below": (operator.lt, "below"),
}
SEED_RANGE = {"min": 0, "max": 2**32 - 1}  # what numpy's legacy seeding takes


class StrictParser(argparse.ArgumentParser):
    """argparse that lists the valid options when it meets an unknown one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, allow_abbrev=False, **kwargs)

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments"):
            for old, new in REPLACED.items():
                if old in message.split(":", 1)[1].split():
                    self.exit(2, f"{self.prog}: error: {old} was replaced by {new}\n")
            valid = sorted(s for a in self._actions for s in a.option_strings if s.startswith("--"))
            message += f"; valid options: {', '.join(valid)}"
        self.exit(2, f"{self.prog}: error: {message}\n")


def _arg_type(hint: Any) -> Any:
    """`int | None` -> int; `str` -> str."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint


def flag(name: str) -> str:
    """The option of field `name`: batch_size -> --batch-size."""
    return "--" + name.replace("_", "-")


def field_metadata(cls: type, name: str) -> dict[str, Any]:
    """The metadata of field `name` merged over the dataclass bases: a subclass that only
    changes a default (`epochs: int = 18`) keeps the base's help and range."""
    merged: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        found = getattr(klass, "__dataclass_fields__", {}).get(name)
        if found is not None:
            merged.update(found.metadata)
    return merged


def describe_range(meta: dict[str, Any]) -> str:
    """{"above": 0, "below": 1} -> "above 0 and below 1"; "" without bounds."""
    return " and ".join(f"{words} {meta[key]}" for key, (_, words) in BOUNDS.items()
                        if key in meta)


def range_error(value: Any, meta: dict[str, Any]) -> str:
    """Why `value` is outside the range `meta` bounds it to ("must be at least 1"), or ""."""
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if value is None or all(ok(value, meta[key]) for key, (ok, _) in BOUNDS.items()
                            if key in meta):
        return ""
    return f"must be {describe_range(meta)}"


def check_ranges(cfg: Any) -> None:
    """One-line error naming the first option of dataclass `cfg` outside its range."""
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        why = range_error(value, field_metadata(type(cfg), f.name))
        if why:
            shown = f"{value:g}" if isinstance(value, float) else value
            raise NeocogError(f"{flag(f.name)} {shown}: {why}")


class RangeChecked:
    """Dataclass mixin: construction runs check_ranges, so a config built in Python is
    refused where the same options on a command line would be."""

    def __post_init__(self) -> None:
        check_ranges(self)
        after = getattr(super(), "__post_init__", None)  # e.g. RuntimeConfig's device checks
        if after is not None:
            after()


class JoinRepeats(argparse.Action):
    """A string option that may be given several times (metadata "repeat"): `--data a
    --data b=2` is 'a,b=2', as `--data a,b=2` is."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        seen = getattr(namespace, self.dest, None)
        if seen is None or seen is self.default or seen == argparse.SUPPRESS:
            setattr(namespace, self.dest, values)  # the first time: the default goes
        else:
            setattr(namespace, self.dest, f"{seen},{values}")


def add_dataclass_args(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = ()) -> None:
    """Add one `--option` per field of dataclass `cls` (fields in `skip` excepted)."""
    hints = typing.get_type_hints(cls)
    for f in fields(cls):
        if f.name in skip or not f.init:
            continue
        meta = field_metadata(cls, f.name)
        default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        help_text = meta.get("help", "").replace("%", "%%")  # argparse formats help with %
        hint = _arg_type(hints[f.name])
        if meta.get("repeat"):
            parser.add_argument(flag(f.name), dest=f.name, default=default, help=help_text,
                                action=JoinRepeats)
        elif hint is bool:
            parser.add_argument(flag(f.name), dest=f.name, default=default, help=help_text,
                                action=argparse.BooleanOptionalAction)
        else:
            bounds = describe_range(meta)
            parser.add_argument(flag(f.name), dest=f.name, type=hint, default=default,
                                choices=meta.get("choices"),
                                help=f"{help_text} (default: {default}"
                                     f"{'; ' + bounds if bounds else ''})".strip())


def dataclass_from_args(cls: type[T], args: argparse.Namespace) -> T:
    """Build `cls` from the parsed options that match its fields; an option outside its
    range is a NeocogError naming it (check_ranges)."""
    names = {f.name for f in fields(cls) if f.init}  # type: ignore[arg-type]
    cfg = cls(**{k: v for k, v in vars(args).items() if k in names})
    check_ranges(cfg)
    return cfg


def given_fields(cls: type, argv: list[str] | None) -> set[str]:
    """The fields of dataclass `cls` whose options `argv` writes out (`--n-mels 40` counts
    even where 40 is the default: the user asked for that value)."""
    parser = StrictParser(add_help=False)
    add_dataclass_args(parser, cls)
    for action in parser._actions:  # an option left out then leaves no attribute
        action.default = argparse.SUPPRESS
    return set(vars(parser.parse_args(sys.argv[1:] if argv is None else argv)))


def keep_fixed(cfg: T, kept: dict[str, Any], given: Collection[str] | None, source: str,
               owner: str = "the checkpoint's", action: str = "fine-tuning") -> T:
    """`cfg` with the fields in `kept` set to those values (what a checkpoint fixes, say).
    A field the user gave (`given`: written on the command line, see given_fields; None,
    from Python: any value other than its default) with another value is an error naming
    `source`: ignoring it would run something other than what the user asked for."""
    if given is None:
        defaults = {f.name: f.default for f in fields(cfg)}  # type: ignore[arg-type]
        given = [name for name in kept if getattr(cfg, name) != defaults[name]]
    for name, value in kept.items():
        if name in given and getattr(cfg, name) != value:
            raise NeocogError(f"{source}: {owner} {name} is {value}; "
                              f"{action} cannot change it to {getattr(cfg, name)}")
    return replace(cfg, **kept)  # type: ignore[type-var]


def resumed_options(cfg: T, run_dir: Path, given: Collection[str] | None = None) -> T:
    """`cfg` with the options that shape the model (metadata "shape") set to those of the
    run being resumed, read from its config.json; one the user gave otherwise is an error
    naming the run (see keep_fixed), never a state that fails to load or a changed model."""
    path = Path(run_dir) / "config.json"
    try:
        saved = json.loads(path.read_text())
    except FileNotFoundError:
        raise NeocogError(f"{run_dir}: no run to resume (no config.json)") from None
    except (OSError, ValueError) as err:
        raise NeocogError(f"{path}: not a run's options ({err})") from None
    if not isinstance(saved, dict):
        raise NeocogError(f"{path}: not a run's options (a JSON {type(saved).__name__})")
    kept = {f.name: saved[f.name] for f in fields(cfg)  # type: ignore[arg-type]
            if field_metadata(type(cfg), f.name).get("shape") and f.name in saved}
    return keep_fixed(cfg, kept, given, str(path), "the run's", "--resume")


def parse_config(cls: type[T], argv: list[str] | None, prog: str, description: str) -> T:
    """Parse `argv` into dataclass `cls`; unknown options exit 2 listing the valid ones."""
    parser = StrictParser(prog=prog, description=description)
    add_dataclass_args(parser, cls)
    return dataclass_from_args(cls, parser.parse_args(sys.argv[1:] if argv is None else argv))
