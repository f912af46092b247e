"""Library warnings (scikit-learn, numpy, scipy, LightGBM) turned into one line of ours.

A command runs inside :func:`library_warnings` (``handle_errors`` does it for every command):
the warnings raised meanwhile are recorded instead of printed, and when the command ends
normally (or by ``sys.exit``) the ones that matter to the user become **one** line on stderr,
``note: ...``; developer-facing ones (deprecations, future changes, resources) are dropped. A
command that fails with bad input prints its one ``error:`` line only. Set ``PYTHONWARNINGS``
(or run ``python -W ...``) to see the raw warnings instead.
"""

from __future__ import annotations

import contextlib
import sys
import warnings

import click

#: Warning categories that say nothing about the user's numbers.
_DROPPED = (DeprecationWarning, PendingDeprecationWarning, FutureWarning, ImportWarning, ResourceWarning)

#: (kind, what the user is told), in the order the line lists them.
_KINDS = (
    ("few", "some classes have very few samples"),
    ("converge", "a solver stopped before it converged"),
    ("numeric", "a computation overflowed or gave NaN/inf"),
    ("other", "a library warned"),
)

_FEW_SAMPLES = ("unique classes is greater than", "least populated class", "only 1 member",
                "number of members in each class", "fewer than n_splits", "n_splits=")


def _kind(w: warnings.WarningMessage) -> str | None:
    cat = w.category
    if issubclass(cat, _DROPPED):
        return None
    text = str(w.message)
    if any(s in text for s in _FEW_SAMPLES):
        return "few"
    if cat.__name__ == "ConvergenceWarning" or "converge" in text.lower():
        return "converge"
    if issubclass(cat, RuntimeWarning):
        return "numeric"
    return "other"


def summarize(caught) -> str | None:
    """The one line for the recorded warnings ``caught`` (``None`` when none matters)."""
    kinds, first = {}, {}
    for w in caught:
        k = _kind(w)
        if k is not None:
            kinds[k] = kinds.get(k, 0) + 1
            first.setdefault(k, w)
    if not kinds:
        return None
    said = [text for k, text in _KINDS if k in kinds]
    example = first[next(k for k, _ in _KINDS if k in kinds)]
    msg = " ".join(str(example.message).split())
    msg = msg if len(msg) <= 90 else msg[:87] + "..."
    n = sum(kinds.values())
    return (f"note: {'; '.join(said)} ({example.category.__name__}: {msg}"
            f"{f'; {n} library warnings in all' if n > 1 else ''}); the numbers that rest on it are less reliable")


@contextlib.contextmanager
def library_warnings():
    """Record the warnings raised inside; on a normal end (or ``sys.exit``) print
    :func:`summarize` of them as one stderr line. Does nothing when the user asked for warnings
    (``PYTHONWARNINGS`` / ``-W``)."""
    if sys.warnoptions:
        yield
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        except Exception:
            raise  # a failure prints its own line only
        except SystemExit:  # sys.exit (e.g. score --fail-below): a normal end
            _echo(caught)
            raise
        _echo(caught)


def _echo(caught) -> None:
    line = summarize(caught)
    if line:
        click.echo(line, err=True)
