"""Extractors by name: ``@register_extractor("spacy")`` on a class, ``get_extractor("spacy")``.

Built-in names map to the module that registers them, imported on first use, so heavy extractors
(the LLM one) cost nothing until asked for. A module elsewhere can register more names by
importing ``register_extractor`` and decorating its class.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TypeVar

from ouroboros.core.errors import ConfigError
from ouroboros.core.records import Extractor

E = TypeVar("E", bound=type)

_FACTORIES: dict[str, Callable[[], Extractor]] = {}
# name -> module that registers it when imported.
_BUILTIN_MODULES: dict[str, str] = {
    "spacy": "extractors.spacy_extractor",
    "llm": "extractors.llm",
    "ensemble": "extractors.ensemble",
}


def register_extractor(name: str) -> Callable[[E], E]:
    """Class decorator: make ``get_extractor(name)`` build this class (called with no arguments)."""

    def decorate(cls: E) -> E:
        _FACTORIES[name] = cls
        return cls

    return decorate


def known_extractors() -> list[str]:
    """Every name ``get_extractor`` accepts."""
    return sorted(set(_FACTORIES) | set(_BUILTIN_MODULES))


def get_extractor(name: str) -> Extractor:
    """A new extractor registered as ``name``; ConfigError listing the known names otherwise."""
    if name not in _FACTORIES and name in _BUILTIN_MODULES:
        try:
            importlib.import_module(_BUILTIN_MODULES[name])
        except ModuleNotFoundError as e:
            if e.name != _BUILTIN_MODULES[name]:
                raise
    if name not in _FACTORIES:
        raise ConfigError(
            f"unknown extractor {name!r}; known extractors: {', '.join(known_extractors())}"
        )
    return _FACTORIES[name]()
