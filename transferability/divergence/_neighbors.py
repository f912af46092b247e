"""Nearest-neighbour support overlap between two domains."""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import NearestNeighbors

from ._common import subsample_pair, validated_pair

__all__ = ["knn_overlap"]


def knn_overlap(X_source, X_target, *, max_samples=2000, random_state=None):
    """How much the supports of the domains overlap, from 1-nearest neighbours in the pooled sample.

    For each row, find its nearest other row in ``[X_s; X_t]`` (subsampled to ``max_samples`` per
    domain). ``f_t`` = fraction of target rows whose neighbour is a source row, ``f_s`` the converse.
    If the domains were identically distributed, ``f_t ≈ n_s / (n - 1)`` and ``f_s ≈ n_t / (n - 1)``;
    the overlap is the mean of the two ratios, clipped to [0, 1]: 1 for fully mixed domains, 0
    for disjoint supports. (A k-NN two-sample statistic: Schilling, JASA 1986; Henze 1988.)

    Returns
    -------
    float in [0, 1]
    """
    Xs, Xt, _ = validated_pair(X_source, X_target)  # scale-invariant: any common factor
    return _knn_overlap(Xs, Xt, max_samples=max_samples, random_state=random_state)


def _knn_overlap(Xs, Xt, *, max_samples=2000, random_state=None):
    Xs, Xt = subsample_pair(Xs, Xt, max_samples, random_state)
    ns, nt = Xs.shape[0], Xt.shape[0]
    n = ns + nt
    Z = np.vstack([Xs, Xt]).astype(np.float64)
    is_src = np.r_[np.ones(ns, dtype=bool), np.zeros(nt, dtype=bool)]
    nn = NearestNeighbors(n_neighbors=2, algorithm="auto").fit(Z)
    idx = nn.kneighbors(Z, return_distance=False)
    # the first neighbour is normally the point itself; duplicates can swap the order
    own = np.arange(n)
    nbr = np.where(idx[:, 0] == own, idx[:, 1], idx[:, 0])
    f_t = is_src[nbr[~is_src]].mean()
    f_s = (~is_src[nbr[is_src]]).mean()
    ratio = 0.5 * (f_t / (ns / (n - 1)) + f_s / (nt / (n - 1)))
    return float(np.clip(ratio, 0.0, 1.0))
