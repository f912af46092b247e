"""Divergences from first and second moments: CORAL gap, Fréchet distance, Grassmann distance.

Means and covariances are accumulated in row chunks (two passes, float64), so memory is
O(chunk · d + d²) and every row is used (no subsampling).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ..utils.validation import InputError
from ._common import prepare_pair

__all__ = ["coral_gap", "frechet_distance", "grassmann_distance", "mean_and_covariance",
           "coral_from_moments", "frechet_from_moments", "grassmann_from_moments"]

_CHUNK = 8192


def mean_and_covariance(X, *, ddof=1):
    """Mean and covariance of ``X`` (rows are samples), chunked; ``ddof=1`` is unbiased."""
    n, d = X.shape
    if n - ddof <= 0:
        raise InputError(f"a covariance needs more than {ddof} sample(s), got {n}")
    mu = np.zeros(d)
    for i in range(0, n, _CHUNK):
        mu += X[i:i + _CHUNK].sum(axis=0, dtype=np.float64)
    mu /= n
    C = np.zeros((d, d))
    for i in range(0, n, _CHUNK):
        B = np.asarray(X[i:i + _CHUNK], dtype=np.float64) - mu
        # explicit GEMM operands: ``B.T @ B`` would go to OpenBLAS SYRK (see DESIGN.md hazards)
        C += np.ascontiguousarray(B.T) @ B.copy()
    C /= n - ddof
    return mu, C


def coral_gap(X_source, X_target):
    """CORAL gap ``|C_s - C_t|²_F / (4 d²)`` with unbiased covariances.

    Reference: Sun & Saenko, "Deep CORAL: Correlation Alignment for Deep Domain Adaptation",
    ECCV-W 2016 (the CORAL loss).

    Examples
    --------
    >>> coral_gap([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[7, 6, 5], [4, 3, 2], [1, 1, 8], [0, 2, 5]])
    15.916666666666666
    """
    Xs, Xt = prepare_pair(X_source, X_target)
    return coral_from_moments(mean_and_covariance(Xs), mean_and_covariance(Xt))


def coral_from_moments(moments_source, moments_target):
    """:func:`coral_gap` from ``(mean, covariance)`` pairs."""
    Cs, Ct = moments_source[1], moments_target[1]
    d = Cs.shape[0]
    diff = Cs - Ct
    return float(np.sum(diff * diff) / (4.0 * d * d))


def _psd_sqrt(C):
    w, V = scipy.linalg.eigh(C)
    return (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T


def frechet_distance(X_source, X_target):
    """Fréchet (2-Wasserstein between Gaussian fits) distance, squared form:

    ``|μ_s - μ_t|² + tr(C_s + C_t - 2 (C_s^{1/2} C_t C_s^{1/2})^{1/2})``.

    The trace of the matrix square root is computed from the eigenvalues of the symmetric PSD
    matrix ``C_s^{1/2} C_t C_s^{1/2}`` (stable, real). Reference: Dowson & Landau, J. Multivariate
    Anal. 1982; Heusel et al., NeurIPS 2017 (FID).
    """
    Xs, Xt = prepare_pair(X_source, X_target)
    return frechet_from_moments(mean_and_covariance(Xs), mean_and_covariance(Xt))


def frechet_from_moments(moments_source, moments_target):
    """:func:`frechet_distance` from ``(mean, covariance)`` pairs."""
    (mu_s, Cs), (mu_t, Ct) = moments_source, moments_target
    root = _psd_sqrt(Cs)
    M = root @ Ct @ root
    M = (M + M.T) / 2.0
    tr_sqrt = np.sum(np.sqrt(np.clip(scipy.linalg.eigvalsh(M), 0.0, None)))
    value = float(np.sum((mu_s - mu_t) ** 2) + np.trace(Cs) + np.trace(Ct) - 2.0 * tr_sqrt)
    return max(value, 0.0)


def _top_subspace(C, k):
    d = C.shape[0]
    _, V = scipy.linalg.eigh(C, subset_by_index=[d - k, d - 1])
    return V


def grassmann_distance(X_source, X_target, *, n_components=None):
    """Geodesic distance between the PCA subspaces of the domains: ``sqrt(Σ θ_i²)``.

    ``θ_i`` are the principal angles between the top-``n_components`` eigenvector subspaces of
    the two covariance matrices (``cos θ_i`` = singular values of ``P_s^T P_t``). In [0, π/2 · √k].
    Reference: Hamm & Lee, ICML 2008; Gong et al., CVPR 2012 (GFK uses the same angles).

    Parameters
    ----------
    n_components : int or None, default=None
        Subspace dimension; ``None`` uses ``min(20, max(1, d // 2))`` (a full-dimensional
        subspace would make the distance 0 for any pair).
    """
    Xs, Xt = prepare_pair(X_source, X_target)
    return grassmann_from_moments(mean_and_covariance(Xs), mean_and_covariance(Xt),
                                  n_components=n_components)


def grassmann_from_moments(moments_source, moments_target, *, n_components=None):
    """:func:`grassmann_distance` from ``(mean, covariance)`` pairs."""
    Cs, Ct = moments_source[1], moments_target[1]
    d = Cs.shape[0]
    k = min(20, max(1, d // 2)) if n_components is None else int(n_components)
    if not 1 <= k <= d:
        raise InputError(f"n_components must be in [1, {d}], got {k}")
    Ps, Pt = _top_subspace(Cs, k), _top_subspace(Ct, k)
    theta = scipy.linalg.subspace_angles(Ps, Pt)
    return float(np.sqrt(np.sum(theta ** 2)))
