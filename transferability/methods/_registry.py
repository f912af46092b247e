"""The single registry of domain-adaptation methods."""

from __future__ import annotations

from ..utils.validation import InputError

__all__ = ["register", "get_method", "available_methods", "METHODS"]

#: name -> class; filled by the ``@register`` decorator at import of each method module
METHODS: dict = {}


def register(name: str):
    """Class decorator: register a :class:`BaseAdapter` subclass under ``name``."""

    def deco(cls):
        if name in METHODS and METHODS[name] is not cls:
            raise ValueError(f"method name '{name}' registered twice")
        cls.name = name
        METHODS[name] = cls
        return cls

    return deco


def available_methods() -> list[str]:
    """Registered method names, in registration order."""
    return list(METHODS)


def get_method(name: str, **params):
    """Instantiate the method ``name`` with ``params`` (e.g. ``base_estimator="logreg"``)."""
    try:
        cls = METHODS[name]
    except KeyError:
        raise InputError(
            f"unknown method '{name}'; available: {', '.join(available_methods())}"
        ) from None
    try:
        return cls(**params)
    except TypeError as exc:
        raise InputError(f"bad parameters for method '{name}': {exc}") from None
