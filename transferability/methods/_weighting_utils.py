"""Helpers shared by the instance-reweighting methods (KMM, KLIEP).

Distances, kernels and the median bandwidth heuristic are in
:mod:`transferability.utils.numerics`.

- :func:`fit_with_weights`: hand per-sample weights to a base estimator, through ``sample_weight``
  when its ``fit`` accepts one, otherwise by deterministic weighted resampling of the source
  (so that weights are never dropped silently, as skada 0.6.0 does for 1-NN).
"""

from __future__ import annotations

import inspect

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["accepts_sample_weight", "fit_with_weights", "weighted_resample"]


def accepts_sample_weight(estimator):
    """True when ``estimator.fit`` has an explicit ``sample_weight`` parameter."""
    try:
        params = inspect.signature(estimator.fit).parameters
    except (TypeError, ValueError):  # pragma: no cover - C-implemented fit
        return False
    return "sample_weight" in params


def weighted_resample(weights, n_draws, random_state):
    """Indices of ``n_draws`` draws with replacement, probability proportional to ``weights``."""
    w = np.asarray(weights, dtype=np.float64)
    total = w.sum()
    if not np.isfinite(total) or total <= 0:
        p = np.full(w.shape[0], 1.0 / w.shape[0])
    else:
        p = w / total
    rng = check_random_state(random_state)
    return np.sort(rng.choice(w.shape[0], size=int(n_draws), replace=True, p=p))


def fit_with_weights(estimator, X, y, weights, random_state=None):
    """Fit ``estimator`` on ``(X, y)`` with per-sample ``weights``; return the fitted estimator.

    If ``estimator.fit`` takes ``sample_weight`` the weights are passed there (the classifier's
    loss becomes the importance-weighted empirical risk ``sum_i w_i l(f(x_i), y_i)``).
    Otherwise (e.g. the 1-nearest-neighbour base) the source is **resampled**: ``len(X)`` draws
    with replacement, probability ``w_i / sum(w)``, with ``random_state`` (deterministic), and
    the estimator is fitted on the drawn rows. In expectation the resampled empirical
    distribution is the weighted one, so the weights are honoured rather than silently dropped;
    for 1-NN it means low-weight source points tend to disappear from the reference set.

    Parameters
    ----------
    estimator : unfitted scikit-learn classifier
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,)
    weights : ndarray of shape (n,), non-negative
    random_state : int, RandomState or None

    Returns
    -------
    estimator : the fitted estimator; ``estimator.weighting_`` is not set (the caller records
        how the weights were used).
    """
    weights = np.asarray(weights, dtype=np.float64)
    if accepts_sample_weight(estimator):
        return estimator.fit(X, y, sample_weight=weights)
    idx = weighted_resample(weights, X.shape[0], random_state)
    return estimator.fit(X[idx], y[idx])
