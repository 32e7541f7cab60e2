"""The task apps, one package each; `neocog <task> <mode>` dispatches to them (cli.py)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, module: str, names: tuple[str, ...]) -> Callable[[str], Any]:
    """A module `__getattr__` (PEP 562) for `package`: the first use of one of `names`
    imports `package.module` and keeps them all on the package.

    An app's train.py is loaded this way because `python -m neocog.apps.<app>.train` runs
    it as __main__: a package that had imported it already would make runpy run a second
    copy (its RuntimeWarning). Importing the submodule sets the package's attribute of the
    same name to the module; a name equal to it (`train`, the function) is set back here."""

    def get(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        source = importlib.import_module(f"{package}.{module}")
        vars(sys.modules[package]).update({n: getattr(source, n) for n in names})
        return getattr(source, name)

    return get
