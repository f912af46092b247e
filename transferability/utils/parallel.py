"""Worker processes for independent, deterministic pieces of work (joblib, loky backend).

Each piece is a module-level function of picklable arguments that seeds itself, so the results do
not depend on the number of workers or on the order they finish in; :func:`map_ordered` returns
them in the order of the inputs. The LightGBM models inside the work use one thread each, so
``n_jobs`` workers keep ``n_jobs`` cores busy.
"""

from __future__ import annotations

import os

import numpy as np

from .validation import InputError

__all__ = ["check_n_jobs", "n_workers", "map_ordered"]


def check_n_jobs(n_jobs) -> int:
    """``n_jobs`` as an int: a positive number of worker processes, or negative (-1: all cores)."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise InputError(f"n_jobs must be a positive number of worker processes, or negative (-1: all cores), "
                         f"got {n_jobs!r}")
    return int(n_jobs)


def n_workers(n_jobs, n_items) -> int:
    """Worker processes for ``n_items`` pieces: ``n_jobs``, or ``cpu_count + 1 + n_jobs`` when
    negative (joblib's convention), never more than the pieces, at least 1."""
    n_jobs = check_n_jobs(n_jobs)
    n = n_jobs if n_jobs > 0 else (os.cpu_count() or 1) + 1 + n_jobs
    return max(1, min(int(n_items), n))


def map_ordered(fn, items, *, n_jobs=1, progress=None, describe=None) -> list:
    """``[fn(*args) for args in items]``, in worker processes when ``n_jobs`` allows.

    Parameters
    ----------
    fn : callable
        A module-level function (it is sent to the workers).
    items : iterable of tuple
        The argument tuples.
    n_jobs : int, default=1
        Worker processes (1: in this process, no pool).
    progress : callable, default=None
        Called with ``describe(args)`` as each piece *finishes* (in input order).
    describe : callable, default=None
        One-line description of a piece's arguments for ``progress``.
    """
    items = list(items)
    workers = n_workers(n_jobs, len(items))
    if workers == 1:
        out = []
        for args in items:
            out.append(fn(*args))
            if progress and describe:
                progress(describe(args))
        return out
    from joblib import Parallel, delayed

    out = []
    par = Parallel(n_jobs=workers, return_as="generator")
    for args, res in zip(items, par(delayed(fn)(*args) for args in items)):
        out.append(res)
        if progress and describe:
            progress(describe(args))
    return out
