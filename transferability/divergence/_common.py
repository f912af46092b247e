"""Helpers shared by the divergence measures: validation, magnitude, finite results, subsampling.

Every public measure runs ``Xs, Xt, k = validated_pair(X_source, X_target)`` once (finite
2-D arrays with the same features, divided by a common power of two ``2**k`` when their
magnitude would overflow squared quantities: :func:`~transferability.utils.validation.check_magnitude`),
computes on those arrays, and returns ``finish(name, value, k, degree)``: the value of the
unscaled pair, always finite (or an :class:`InputError` that names the overflow).
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.utils import check_random_state

from ..utils.validation import InputError, check_magnitude, check_pair

__all__ = ["prepare_pair", "validated_pair", "finish", "subsample", "subsample_pair",
           "canonical_order", "canonical_subsample", "samples_used"]


def samples_used(n: int, max_samples: int | None) -> int:
    """Number of rows a measure uses from a domain of ``n`` rows: ``min(n, max_samples)``."""
    return int(n if max_samples is None else min(n, max_samples))


def subsample(X, max_samples: int | None, random_state):
    """Uniform subsample without replacement (rows kept in their original order).

    Returns ``X`` itself when it has at most ``max_samples`` rows.
    """
    n = X.shape[0]
    if max_samples is None or n <= max_samples:
        return X
    if max_samples < 2:
        raise InputError(f"max_samples must be at least 2, got {max_samples}")
    rng = check_random_state(random_state)
    idx = np.sort(rng.choice(n, size=max_samples, replace=False))
    return X[idx]


def canonical_order(X) -> np.ndarray:
    """Row indices that put ``X`` in a canonical order: by the first feature's value, ties
    broken by the rows' bytes.

    Two matrices holding the same rows in any order give the same ``X[canonical_order(X)]``
    (identical rows are interchangeable), so an estimator that draws its samples and folds
    from this order does not depend on the row order of its input; a positive rescaling keeps
    the order of the first feature, hence (but for new ties) the same draws.
    """
    X = np.ascontiguousarray(X)
    rows = X.view(np.dtype((np.void, X.dtype.itemsize * X.shape[1]))).ravel()
    by_bytes = np.argsort(rows, kind="stable")
    return by_bytes[np.argsort(X[by_bytes, 0], kind="stable")]


def canonical_subsample(X, max_samples: int | None, random_state):
    """:func:`subsample` of ``X`` in its :func:`canonical_order` (the same RNG draws)."""
    order = canonical_order(X)
    n = X.shape[0]
    if max_samples is not None and n > max_samples:
        if max_samples < 2:
            raise InputError(f"max_samples must be at least 2, got {max_samples}")
        rng = check_random_state(random_state)
        order = order[np.sort(rng.choice(n, size=max_samples, replace=False))]
    return X[order]


def subsample_pair(Xs, Xt, max_samples, random_state):
    """Subsample each domain to ``max_samples`` rows, source first, from one RNG stream."""
    rng = check_random_state(random_state)
    return subsample(Xs, max_samples, rng), subsample(Xt, max_samples, rng)


def validated_pair(X_source, X_target):
    """:func:`check_pair`, then :func:`check_magnitude`: ``(Xs, Xt, k)``, the pair divided by
    ``2**k`` (``k = 0`` for features of ordinary magnitude)."""
    Xs, Xt = check_pair(X_source, X_target)
    return check_magnitude(Xs, Xt)


def prepare_pair(X_source, X_target, *, max_samples=None, random_state=None):
    """Validate a pair and subsample each domain to ``max_samples`` rows (same RNG stream)."""
    Xs, Xt = check_pair(X_source, X_target)
    return subsample_pair(Xs, Xt, max_samples, random_state)


def finish(name: str, value, k: int = 0, degree: int = 0) -> float:
    """The value of measure ``name`` on the unscaled pair, as a finite float.

    ``value`` was computed on the pair divided by ``2**k``; a measure homogeneous of degree
    ``degree`` in the features is multiplied back by ``2**(k degree)``.

    Raises
    ------
    InputError
        The value is not finite, or overflows float64 once scaled back.
    """
    v = float(value)
    if not math.isfinite(v):
        raise InputError(f"{name}: the computation gave {v} (not a finite number)")
    if k and degree:
        try:
            v = math.ldexp(v, k * degree)
        except OverflowError:
            v = math.inf
        if not math.isfinite(v):
            raise InputError(
                f"{name} overflows float64: the features reach about 2^{k} "
                f"(~{_pow2(k)}), so a degree-{degree} quantity exceeds 1.8e308; "
                "rescale the features")
    return v


def _pow2(k: int) -> str:
    """``2**k`` written as ``1e+200`` (for messages)."""
    exp10 = k * math.log10(2.0)
    mant = 10 ** (exp10 - math.floor(exp10))
    return f"{mant:.1f}e{int(math.floor(exp10)):+d}"
