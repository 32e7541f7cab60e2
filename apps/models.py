"""`neocog models [--json]`: every shipped model, its task, size and measured figure; each
name works wherever --weights does (`neocog classify infer --weights cifar10`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from neocog.core.config import parse_config
from neocog.core.zoo import ShippedModel, shipped_models

from .common import print_json, run_main

MISSING = "not shipped in this install"
COLUMNS = ("name", "task", "size", "default", "trained on", "measured")


@dataclass
class ModelsConfig:
    json: bool = field(default=False, metadata={"help": "print a JSON list, one object per model"})


def file_size(size: int | None) -> str:
    """Bytes -> "320 KB" / "1.4 MB"; None (no file) -> MISSING."""
    if size is None:
        return MISSING
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} KB"


def describe(model: ShippedModel) -> dict[str, Any]:
    """`model`'s table row, with its file's size in bytes (None where it is not here)."""
    size = model.path.stat().st_size if model.path.is_file() else None
    return {"name": model.name, "task": model.task, "file": model.file, "bytes": size,
            "default": model.default, "trained_on": model.trained_on, "metric": model.metric}


def format_rows(rows: list[dict[str, Any]]) -> str:
    """The rows as a text table, columns padded to their widest cell."""
    cells = [COLUMNS] + [(r["name"], r["task"], file_size(r["bytes"]), "yes" if r["default"] else "",
                          r["trained_on"], r["metric"]) for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in cells)


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(ModelsConfig, argv, "neocog models",
                       "List the shipped models; pass a name as --weights to any command.")
    rows = [describe(model) for model in shipped_models().values()]
    if cfg.json:
        print_json(rows)
    else:
        print(format_rows(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
