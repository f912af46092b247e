"""The single registry of domain-adaptation methods.

:data:`METHOD_NAMES` is the library's method vocabulary, in a fixed, explicit order (the order
of ``--methods all``, of reports, and of a model manifest's method list); it does not depend on
the order in which modules are imported. :data:`METHODS` maps each name to its class; methods
registered outside the vocabulary (plug-ins, test doubles) come after it, in registration order.
"""

from __future__ import annotations

from .._vocabulary import METHOD_NAMES  # the vocabulary's one home: it imports nothing, for --help
from ..utils.validation import InputError

__all__ = ["register", "get_method", "available_methods", "uses_base_estimator", "METHODS",
           "METHOD_NAMES"]

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
    """Registered method names: :data:`METHOD_NAMES` order, then any other registered name."""
    known = [m for m in METHOD_NAMES if m in METHODS]
    return known + [m for m in METHODS if m not in METHOD_NAMES]


def uses_base_estimator(name: str) -> bool:
    """Whether method ``name`` trains its ``base_estimator`` (MEDA and EasyTL ignore it: their
    outcome is the same whichever base estimator is named)."""
    return bool(_method_class(name).uses_base_estimator)


def _method_class(name: str):
    try:
        return METHODS[name]
    except (KeyError, TypeError):
        raise InputError(
            f"unknown method '{name}'; available: {', '.join(available_methods())}"
        ) from None


def get_method(name: str, **params):
    """Instantiate the method ``name`` with ``params`` (e.g. ``base_estimator="logreg"``).

    An unknown method or parameter name raises :class:`InputError`; parameter *values* are
    checked against the method's ``_parameter_constraints`` when it is fitted (or by
    ``check_params()``).
    """
    cls = _method_class(name)
    allowed = cls._get_param_names()
    unknown = [p for p in params if p not in allowed]
    if unknown:
        raise InputError(
            f"bad parameters for method '{name}': no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters: {', '.join(allowed)}"
        )
    return cls(**params)
