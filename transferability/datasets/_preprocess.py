"""Explicit, documented preprocessing of a (source, target) pair.

Never applied implicitly: the command line's ``--preprocess`` chooses one of these.

- ``none``: features as loaded.
- ``zscore``: z-score each feature within **each domain separately** (population std,
  ``ddof=0``); constant features become 0.
- ``l2``: divide each sample by its Euclidean norm (zero rows stay zero).
  Reproduces the published 1-NN baselines on MNIST/USPS and COIL.
- ``sum-zscore``: divide each sample by its sum, then ``zscore``. The Office-Caltech
  SURF/DeCAF recipe (Gong et al., GFK code README) that reproduces the JDA paper's NN row.
"""

from __future__ import annotations

import numpy as np

from ..utils.validation import InputError

__all__ = ["PREPROCESSING", "preprocess", "preprocess_pair"]

PREPROCESSING = ("none", "zscore", "l2", "sum-zscore")


def _zscore(X):
    mu = X.mean(axis=0)
    sd = X.std(axis=0)  # ddof=0, as MATLAB's zscore(X, 1)
    sd[sd == 0] = 1.0
    return (X - mu) / sd


def _l2(X):
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return X / norms


def _sum_zscore(X):
    s = X.sum(axis=1, keepdims=True)
    s[s == 0] = 1.0
    return _zscore(X / s)


_FUNCS = {"none": lambda X: X, "zscore": _zscore, "l2": _l2, "sum-zscore": _sum_zscore}


def preprocess(X, mode: str = "none") -> np.ndarray:
    """Apply preprocessing ``mode`` to one domain (float64 copy; ``none`` returns ``X`` as is)."""
    if mode not in _FUNCS:
        raise InputError(f"unknown preprocessing '{mode}'; choose one of {', '.join(PREPROCESSING)}")
    if mode == "none":
        return X
    return _FUNCS[mode](np.asarray(X, dtype=np.float64))


def preprocess_pair(X_source, X_target, mode: str = "none"):
    """Apply ``mode`` to source and target, each domain on its own statistics."""
    return preprocess(X_source, mode), preprocess(X_target, mode)
