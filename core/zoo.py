"""The shipped models: one table, assets/models.json, maps each model's name to its task,
its file, what it was trained on and what it measured; `neocog models` prints it.

`resolve_weights` is what every --weights value (and every predictor's `weights`) goes
through: nothing -> the task's default model, a listed name -> its file, anything else
-> a checkpoint path, which load_model then checks. A model may be listed before its file
ships (the table is read, the file is looked for only when the model is used).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import NeocogError

# The folder holding core/, apps/ and datasets/: the repository in an editable install
# (its package-dir mapping points neocog.core at core/, neocog.apps at apps/), and
# site-packages/neocog in a wheel install. resolve(): a link to this file counts as the file.
ROOT = Path(__file__).resolve().parent.parent
TABLE = Path(__file__).resolve().parent / "assets" / "models.json"
WEIGHTS_HELP = "checkpoint file or shipped model name (neocog models)"


@dataclass(frozen=True)
class ShippedModel:
    name: str  # what --weights accepts
    task: str  # the checkpoint's task, as load_model checks it
    file: str  # relative to ROOT, e.g. apps/classification/assets/mnist_default.safetensors
    trained_on: str
    metric: str  # the measured figure, as benchmarks/ reported it
    default: bool  # the task's model when no weights are given

    @property
    def path(self) -> Path:
        return ROOT / self.file


@cache
def shipped_models() -> dict[str, ShippedModel]:
    """Every listed model by name, in the table's order."""
    return {row["name"]: ShippedModel(**row) for row in json.loads(TABLE.read_text())}


def default_model(task: str) -> ShippedModel:
    """The model a `task` predictor loads when given no weights."""
    for model in shipped_models().values():
        if model.task == task and model.default:
            return model
    raise NeocogError(f"{TABLE}: no default model for task '{task}'")


def shipped_file(model: ShippedModel) -> Path:
    """`model`'s file; one that is listed but not in this install is an error."""
    if not model.path.is_file():
        raise NeocogError(f"shipped model {model.name}: not shipped in this install "
                          f"(no {model.path})")
    return model.path


def find_model(weights: str | Path) -> ShippedModel | None:
    """The listed model `weights` names, or None. Only a str names one, exactly: a Path is
    always a file, and so is "./mnist" on a command line (a local file named mnist). A
    name that is also a file here is an error: either reading would be a guess."""
    model = shipped_models().get(weights) if isinstance(weights, str) else None
    if model and Path(weights).exists():
        raise NeocogError(f"--weights {weights}: both a shipped model's name and a file here; "
                          f"write ./{weights} for the file")
    return model


def named_weights(weights: str | Path) -> Path:
    """A listed name, of any task -> its file; anything else -> that path (neocog inspect)."""
    model = find_model(weights)
    return shipped_file(model) if model else Path(weights)


def resolve_weights(weights: str | Path | None, task: str) -> Path:
    """None or "" -> the task's default model's file; a listed name -> its file, if it is
    a `task` model; anything else -> that checkpoint path, unchanged."""
    model = find_model(weights) if weights else default_model(task)
    if model is None:
        return Path(weights)
    if model.task != task:
        raise NeocogError(f"--weights {weights}: a {model.task} model, not a {task} model")
    return shipped_file(model)
