"""Name -> constructor registries (after timm's `_registry.py` / `_factory.py`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import NeocogError


class Registry:
    """A dict of constructors plus a decorator that refuses duplicate names."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Callable[..., Any]] = {}

    def register(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def add(fn: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._entries:
                raise ValueError(f"{self.kind} '{name}' is already registered")
            self._entries[name] = fn
            return fn

        return add

    def get(self, name: str) -> Callable[..., Any]:
        if name not in self._entries:
            raise NeocogError(
                f"unknown {self.kind} '{name}'; known: {', '.join(sorted(self._entries))}"
            )
        return self._entries[name]

    def create(self, name: str, **kwargs: Any) -> Any:
        return self.get(name)(**kwargs)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries


BACKBONES = Registry("backbone")
HEADS = Registry("head")
# Whole models that are not backbone + head (e.g. the WaveNet): name -> class with
# `from_spec(spec)`; a checkpoint whose spec names {"model": name} is rebuilt through it.
MODELS = Registry("model")
