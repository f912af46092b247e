"""Lazy re-exports for package ``__init__`` modules: a public name is imported from its home
module on first access, so ``import transferability.meta`` (and the command line's ``--help``)
does not pay for scikit-learn, LightGBM or the learners until they are used."""

from __future__ import annotations

import importlib

__all__ = ["lazy_exports"]


def lazy_exports(package: str, homes: dict):
    """``(__getattr__, __dir__, __all__)`` for a package whose public names live in submodules.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    homes : dict
        Home module (relative to ``package``, e.g. ``"._features"``) -> list of public names.
    """
    where = {name: mod for mod, names in homes.items() for name in names}

    def __getattr__(name):
        if name in where:
            value = getattr(importlib.import_module(where[name], package), name)
            globals_of(package)[name] = value  # later lookups are plain attribute reads
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(globals_of(package)) | set(where))

    return __getattr__, __dir__, sorted(where)


def globals_of(package: str) -> dict:
    import sys

    return vars(sys.modules[package])
