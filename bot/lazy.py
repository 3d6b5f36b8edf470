"""Lazy public names for a package (PEP 562): a name loads its module on first use.

The light commands (``status``, ``health``, ``check-config``, a quiet ``poll``)
must not pay for readers and checkers they never call, yet callers import the
public names from the package itself.
"""
from __future__ import annotations

import importlib
import sys
from typing import Callable


def lazy_exports(package: str, where: dict[str, str],
                 home: str | None = None) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, whose public name ``n`` lives
    in the module ``where[n]`` of ``home`` (the package itself unless given; a
    plain module re-exporting a sibling's names gives its parent package): the
    module is imported at the first lookup of one of its names, and the name is
    then a plain attribute of ``package``. A name not in ``where`` raises
    AttributeError, as for any module."""
    home = home or package

    def __getattr__(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{home}.{module}"), name)
        setattr(sys.modules[package], name, value)  # the next lookup is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__
