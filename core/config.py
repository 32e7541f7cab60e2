"""Command-line options generated from dataclass configs.

Each field becomes `--field-name` with its type, default and help (field metadata
"help"); bools become `--flag/--no-flag`. Unknown options fail loudly and list the
valid ones (ultralytics `check_dict_alignment`); prefixes are never guessed.
"""

from __future__ import annotations

import argparse
import sys
import typing
from collections.abc import Collection
from dataclasses import MISSING, fields, replace
from typing import Any, NoReturn, TypeVar

from neocog.core.errors import NeocogError

T = TypeVar("T")
# Options that are gone, and what replaced them: met on a command line, the error says so.
REPLACED = {
    "--amp": "--precision auto|fp32|bf16|fp16 (auto: bf16/fp16 autocast where it measured faster)",
    "--no-amp": "--precision fp32",
}


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


def add_dataclass_args(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = ()) -> None:
    """Add one `--option` per field of dataclass `cls` (fields in `skip` excepted)."""
    hints = typing.get_type_hints(cls)
    for f in fields(cls):
        if f.name in skip or not f.init:
            continue
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        help_text = f.metadata.get("help", "").replace("%", "%%")  # argparse formats help with %
        hint = _arg_type(hints[f.name])
        if hint is bool:
            parser.add_argument(flag, dest=f.name, default=default, help=help_text,
                                action=argparse.BooleanOptionalAction)
        else:
            choices = f.metadata.get("choices")
            parser.add_argument(flag, dest=f.name, type=hint, default=default, choices=choices,
                                help=f"{help_text} (default: {default})".strip())


def dataclass_from_args(cls: type[T], args: argparse.Namespace) -> T:
    """Build `cls` from the parsed options that match its fields."""
    names = {f.name for f in fields(cls) if f.init}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in vars(args).items() if k in names})


def given_fields(cls: type, argv: list[str] | None) -> set[str]:
    """The fields of dataclass `cls` whose options `argv` writes out (`--n-mels 40` counts
    even where 40 is the default: the user asked for that value)."""
    parser = StrictParser(add_help=False)
    add_dataclass_args(parser, cls)
    for action in parser._actions:  # an option left out then leaves no attribute
        action.default = argparse.SUPPRESS
    return set(vars(parser.parse_args(sys.argv[1:] if argv is None else argv)))


def keep_fixed(cfg: T, kept: dict[str, Any], given: Collection[str] | None, source: str) -> T:
    """`cfg` with the fields in `kept` set to those values (what a checkpoint fixes, say).
    A field the user gave (`given`: written on the command line, see given_fields; None,
    from Python: any value other than its default) with another value is an error naming
    `source`: ignoring it would run something other than what the user asked for."""
    if given is None:
        defaults = {f.name: f.default for f in fields(cfg)}  # type: ignore[arg-type]
        given = [name for name in kept if getattr(cfg, name) != defaults[name]]
    for name, value in kept.items():
        if name in given and getattr(cfg, name) != value:
            raise NeocogError(f"{source}: the checkpoint's {name} is {value}; "
                              f"fine-tuning cannot change it to {getattr(cfg, name)}")
    return replace(cfg, **kept)  # type: ignore[type-var]


def parse_config(cls: type[T], argv: list[str] | None, prog: str, description: str) -> T:
    """Parse `argv` into dataclass `cls`; unknown options exit 2 listing the valid ones."""
    parser = StrictParser(prog=prog, description=description)
    add_dataclass_args(parser, cls)
    return dataclass_from_args(cls, parser.parse_args(sys.argv[1:] if argv is None else argv))
