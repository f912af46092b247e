"""Helpers shared by the instance-reweighting methods (KMM, KLIEP) and MEDA.

- :func:`sq_euclidean` / :func:`rbf_kernel`: Gram blocks computed with an explicit GEMM
  (``A @ ascontiguousarray(B.T)``), never ``Z @ Z.T`` (OpenBLAS SYRK was seen to segfault on
  this build for large inputs);
- :func:`median_sq_distance`: the median heuristic for RBF bandwidths;
- :func:`fit_with_weights`: hand per-sample weights to a base estimator, through ``sample_weight``
  when its ``fit`` accepts one, otherwise by deterministic weighted resampling of the source
  (so that weights are never dropped silently, as skada 0.6.0 does for 1-NN).
"""

from __future__ import annotations

import inspect

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["sq_euclidean", "rbf_kernel", "median_sq_distance", "accepts_sample_weight",
           "fit_with_weights", "weighted_resample"]


def sq_euclidean(A, B):
    """Squared Euclidean distances ``||a_i - b_j||^2`` of shape (len(A), len(B)), clipped at 0."""
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    aa = np.einsum("ij,ij->i", A, A)
    bb = np.einsum("ij,ij->i", B, B)
    D = aa[:, None] + bb[None, :] - 2.0 * (A @ np.ascontiguousarray(B.T))
    np.maximum(D, 0.0, out=D)
    return D


def rbf_kernel(A, B, gamma):
    """Gaussian kernel ``k(a, b) = exp(-gamma * ||a - b||^2)``."""
    D = sq_euclidean(A, B)
    D *= -float(gamma)
    return np.exp(D, out=D)


def median_sq_distance(X, Y=None, *, max_samples=1000, random_state=None):
    """Median of the pairwise squared distances of the pooled samples ``[X; Y]``.

    Used as the bandwidth rule ``2 sigma^2 = median ||x_i - x_j||^2`` (the median heuristic,
    Gretton et al.), i.e. ``gamma = 1 / median``. At most ``max_samples`` pooled samples
    (drawn without replacement with ``random_state``) enter the median; distinct pairs only.
    Returns 1.0 when every distance is 0.
    """
    Z = np.asarray(X, dtype=np.float64) if Y is None else np.vstack([X, Y]).astype(np.float64)
    if Z.shape[0] > max_samples:
        idx = check_random_state(random_state).choice(Z.shape[0], max_samples, replace=False)
        Z = Z[np.sort(idx)]
    D = sq_euclidean(Z, Z)
    iu = np.triu_indices(Z.shape[0], k=1)
    d = D[iu]
    d = d[d > 0]
    return float(np.median(d)) if d.size else 1.0


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
