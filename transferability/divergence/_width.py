"""Wide inputs: the pair expressed in at most ``width`` columns for the measures whose cost
grows faster than linearly with the number of features d.

CORAL, Fréchet and Grassmann need d x d covariances (and an eigendecomposition, O(d³)); the
boosted-tree domain classifier of the H-divergence costs about 12 ms per feature on 1,000 rows.
Above ``width`` columns (:data:`DEFAULT_MAX_FEATURES`) :func:`project_pair` gives the rows in
``r <= width`` coordinates:

- **row span** (exact), when the two domains have at most ``width`` rows together: the
  coordinates of every row (centred on the pooled mean) in an orthonormal basis ``Q`` (d x r)
  of the span of the centred rows, from a rank-revealing (pivoted) Cholesky factor ``C`` of
  their Gram matrix (``Z Z^T = C C^T``, so ``C = Z Q``); r is their rank.
  Every distance, mean and covariance of the rows keeps its value (``Q`` is an isometry on
  them), so the CORAL gap (with the original d in ``4 d²``), the Fréchet distance and the
  principal angles of the Grassmann distance are the unprojected values to rounding. A
  classifier sees the same information in other axes, so the H-divergence proxy (axis-aligned
  trees) is an estimate of its own on the projected pair.
- **pooled PCA** (approximate), with more rows: the top ``width`` principal axes of a seeded
  sample of at most ``2 width`` pooled rows (centred on the pooled mean), onto which every row
  is projected; ``explained_variance`` says the share of the sample's variance kept.

Both are deterministic given ``random_state`` (the PCA sample is seeded; the QR has no
randomness), and the report says what was done (``DivergenceReport.projection``).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg
from scipy.linalg import lapack
from sklearn.utils import check_random_state

__all__ = ["DEFAULT_MAX_FEATURES", "project_pair"]

#: Columns above which :func:`~transferability.divergence.compute_divergences` projects the pair
#: for its d-heavy measures. The default store's widest pairs have 1,024 features, so their
#: meta-features are computed as before.
DEFAULT_MAX_FEATURES = 1024


def project_pair(Xs, Xt, width: int, random_state=0):
    """``(Ps, Pt, info)``: the pair in at most ``width`` coordinates (see the module docstring),
    or ``(Xs, Xt, None)`` when it has at most ``width`` columns.

    ``info`` = ``{"method": "row_span" | "pca", "exact": bool, "n_features": d, "n_components": r,
    "width": width, "explained_variance": float, "runtime_s": seconds the projection took}``.
    """
    d = Xs.shape[1]
    if width is None or d <= width:
        return Xs, Xt, None
    t0 = time.perf_counter()
    ns = Xs.shape[0]
    Z = np.vstack([Xs, Xt]).astype(np.float64, copy=False)
    n = Z.shape[0]
    info = {"n_features": int(d), "width": int(width)}
    if n <= width:
        # rows centred on the pooled mean (a translation changes no distance, mean difference or
        # covariance, and keeps the Gram matrix accurate); G = Z Z^T = C C^T with C the pivoted
        # Cholesky factor (LAPACK dpstrf, rank-revealing): the rows of C are coordinates of the
        # rows of Z in an orthonormal basis of their span. G by GEMM on explicit operands.
        Zc = Z - Z.mean(axis=0)
        G = Zc @ np.ascontiguousarray(Zc.T)
        L, piv, rank, _ = lapack.dpstrf(G, lower=1, tol=-1)
        rank = max(min(int(rank), n - 1), 1)  # centred rows: rank <= n - 1
        P = np.empty((n, rank))
        P[piv - 1] = np.tril(L)[:, :rank]
        info.update(method="row_span", exact=True, n_components=rank, explained_variance=1.0)
    else:
        rng = check_random_state(random_state)
        m = min(n, 2 * int(width))
        rows = np.sort(rng.choice(n, size=m, replace=False))
        mu = Z.mean(axis=0)
        S = Z[rows] - mu
        _, sv, Vt = scipy.linalg.svd(S, full_matrices=False, check_finite=False, lapack_driver="gesdd")
        k = min(int(width), Vt.shape[0])
        V = np.ascontiguousarray(Vt[:k].T)
        P = (Z - mu) @ V
        total = float(np.sum(sv ** 2))
        info.update(method="pca", exact=False, n_components=int(k),
                    explained_variance=float(np.sum(sv[:k] ** 2) / total) if total > 0 else 1.0)
    info["runtime_s"] = round(time.perf_counter() - t0, 6)
    return P[:ns], P[ns:], info
