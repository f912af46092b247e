"""Divergences from first and second moments: CORAL gap, Fréchet distance, Grassmann distance.

Means and covariances are accumulated in row chunks (two passes, float64;
:func:`transferability.utils.numerics.mean_and_covariance`), so memory is O(chunk · d + d²) and
every row is used (no subsampling). The d x d matrices are checked against the available memory
before they are allocated (:func:`check_moment_memory`).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ..utils.numerics import (check_dense_memory, covariance_bytes, mean_and_covariance,
                              sym_power)
from ..utils.validation import InputError
from ._common import finish, validated_pair

__all__ = ["coral_gap", "frechet_distance", "grassmann_distance", "mean_and_covariance",
           "coral_from_moments", "frechet_from_moments", "grassmann_from_moments",
           "check_moment_memory"]

#: Degree of homogeneity of each measure in the features (value(c X) = c^degree value(X)).
DEGREE = {"coral": 4, "frechet": 2, "grassmann": 0}

#: float64 d x d matrices each measure holds at its peak, with both covariances
#: (Fréchet: the square root of C_s, its eigenvectors, the product and its eigenvalue workspace).
_WORKSPACE = {"coral": 3, "frechet": 6, "grassmann": 4}


def check_moment_memory(d: int, measures=("coral", "frechet", "grassmann")) -> None:
    """Raise :class:`MemoryError` before any ``d x d`` matrix is allocated when the moment
    measures ``measures`` would not fit: the message names d and the GB needed."""
    measures = [m for m in measures if m in _WORKSPACE]
    if not measures:
        return
    need = covariance_bytes(d, max(_WORKSPACE[m] for m in measures))
    names = " and ".join([", ".join(measures[:-1]), measures[-1]] if len(measures) > 1 else measures)
    check_dense_memory(
        need, f"{names} need {d} x {d} covariance matrices (d = {d} features)",
        hint="leave these measures out or reduce the features first (e.g. PCA)")


def _moments(X):
    # the memory is checked once for the pair (check_moment_memory), not per domain
    return mean_and_covariance(X, n_matrices=0)


def coral_gap(X_source, X_target):
    """CORAL gap ``|C_s - C_t|²_F / (4 d²)`` with unbiased covariances.

    Reference: Sun & Saenko, "Deep CORAL: Correlation Alignment for Deep Domain Adaptation",
    ECCV-W 2016 (the CORAL loss).

    Examples
    --------
    >>> coral_gap([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[7, 6, 5], [4, 3, 2], [1, 1, 8], [0, 2, 5]])
    15.916666666666666
    """
    Xs, Xt, k = validated_pair(X_source, X_target)
    check_moment_memory(Xs.shape[1], ["coral"])
    return finish("coral", coral_from_moments(_moments(Xs), _moments(Xt)), k, DEGREE["coral"])


def coral_from_moments(moments_source, moments_target, *, n_features=None):
    """:func:`coral_gap` from ``(mean, covariance)`` pairs. ``n_features``: the d of the
    normalisation ``4 d²`` when the covariances are those of the pair expressed in an
    orthonormal basis of its rows (``compute_divergences`` above its width limit; the
    Frobenius norm is the same in that basis), default their own size."""
    Cs, Ct = moments_source[1], moments_target[1]
    d = Cs.shape[0] if n_features is None else int(n_features)
    diff = Cs - Ct
    return float(np.sum(diff * diff) / (4.0 * d * d))


def frechet_distance(X_source, X_target):
    """Fréchet (2-Wasserstein between Gaussian fits) distance, squared form:

    ``|μ_s - μ_t|² + tr(C_s + C_t - 2 (C_s^{1/2} C_t C_s^{1/2})^{1/2})``.

    The trace of the matrix square root is computed from the eigenvalues of the symmetric PSD
    matrix ``C_s^{1/2} C_t C_s^{1/2}`` (stable, real). Reference: Dowson & Landau, J. Multivariate
    Anal. 1982; Heusel et al., NeurIPS 2017 (FID).
    """
    Xs, Xt, k = validated_pair(X_source, X_target)
    check_moment_memory(Xs.shape[1], ["frechet"])
    return finish("frechet", frechet_from_moments(_moments(Xs), _moments(Xt)), k,
                  DEGREE["frechet"])


def frechet_from_moments(moments_source, moments_target, *, n_features=None):
    """:func:`frechet_distance` from ``(mean, covariance)`` pairs (``n_features`` is accepted
    for the common signature: the value does not depend on d, and is the same in any
    orthonormal basis that holds the rows)."""
    (mu_s, Cs), (mu_t, Ct) = moments_source, moments_target
    root = sym_power(Cs, 0.5)
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
    Xs, Xt, k = validated_pair(X_source, X_target)
    check_moment_memory(Xs.shape[1], ["grassmann"])
    return finish("grassmann", grassmann_from_moments(_moments(Xs), _moments(Xt),
                                                      n_components=n_components))


def grassmann_from_moments(moments_source, moments_target, *, n_components=None, n_features=None):
    """:func:`grassmann_distance` from ``(mean, covariance)`` pairs. ``n_features``: the d that
    sets the default subspace dimension when the covariances are those of the pair in an
    orthonormal basis of its rows (principal angles do not depend on that basis)."""
    Cs, Ct = moments_source[1], moments_target[1]
    d = Cs.shape[0]
    width = d if n_features is None else int(n_features)
    k = min(20, max(1, width // 2), d) if n_components is None else int(n_components)
    if not 1 <= k <= d:
        raise InputError(f"n_components must be in [1, {d}], got {k}")
    Ps, Pt = _top_subspace(Cs, k), _top_subspace(Ct, k)
    theta = scipy.linalg.subspace_angles(Ps, Pt)
    return float(np.sqrt(np.sum(theta ** 2)))
