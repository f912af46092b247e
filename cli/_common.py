"""Shared pieces of the command line: error handling, loading, JSON output."""

from __future__ import annotations

import functools
import json
import sys

import click

LABEL_COLUMN_HELP = "Label column of .csv/.parquet inputs (default: 'label'; unlabelled if absent)."


def fail(message: str, code: int = 2):
    """Print one line on stderr and exit with ``code``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(func):
    """Turn :class:`InputError` (bad input) into one stderr line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from transferability.utils.validation import InputError

        try:
            return func(*args, **kwargs)
        except InputError as exc:
            fail(str(exc).splitlines()[0] if str(exc) else "bad input")
        except MemoryError:
            fail("out of memory; lower --max-samples or use smaller inputs", code=1)

    return wrapper


def load_pair(source: str, target: str, label_column: str | None):
    """Load SOURCE and TARGET domains; an explicit --label-column must exist."""
    from transferability.datasets import load_domain

    explicit = label_column is not None
    col = label_column if explicit else "label"
    src = load_domain(source, label_column=col, require_label_column=explicit, name="source")
    tgt = load_domain(target, label_column=col, require_label_column=explicit, name="target")
    return src, tgt


def echo_json(obj) -> None:
    """Print exactly one JSON object on stdout."""
    click.echo(json.dumps(obj, indent=2, sort_keys=False, default=_json_default))


def _json_default(o):
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
