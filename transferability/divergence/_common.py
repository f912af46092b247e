"""Helpers shared by the divergence measures: validation and documented subsampling."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from ..utils.validation import InputError, check_pair

__all__ = ["prepare_pair", "subsample", "samples_used"]


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


def prepare_pair(X_source, X_target, *, max_samples=None, random_state=None):
    """Validate a pair and subsample each domain to ``max_samples`` rows (same RNG stream)."""
    Xs, Xt = check_pair(X_source, X_target)
    rng = check_random_state(random_state)
    return subsample(Xs, max_samples, rng), subsample(Xt, max_samples, rng)
