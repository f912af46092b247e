"""Optional dependencies: import one, or stop with one line that names the extra installing it.

The core needs none of them; the commands that draw (``meta evaluate``'s figures) need
matplotlib, from the ``report`` extra (``pip install "transferability[report]"``).
"""

from __future__ import annotations

import importlib

from .validation import InputError

__all__ = ["require", "pyplot"]


def require(module: str, *, extra: str, what: str):
    """Import and return ``module``; when it cannot be imported, raise :class:`InputError` with
    one line naming ``what`` needs it and the extra that installs it.

    Examples
    --------
    >>> require("json", extra="report", what="this page").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(f'{what} needs {module}, which is not installed: '
                         f'pip install "transferability[{extra}]"') from None


def pyplot(what: str):
    """``matplotlib.pyplot`` on the off-screen ``Agg`` backend (figures are written to files,
    never shown), or :class:`InputError` naming the ``report`` extra when matplotlib is missing."""
    matplotlib = require("matplotlib", extra="report", what=what)
    matplotlib.use("Agg")
    return require("matplotlib.pyplot", extra="report", what=what)
