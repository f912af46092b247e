"""Straightforward *reference formulation* of TCA, JDA and BDA (for the speed benchmark only).

This follows the widely used reference code (Wang et al.'s ``transferlearning`` repository,
after the authors' MATLAB code) step by step, deliberately without any of the shortcuts of the
registered methods (:mod:`._tca`, :mod:`._jda`, :mod:`._bda`):

- samples as columns, ``X /= ||x||`` per sample;
- dense ``n x n`` centering matrix ``H`` and MMD matrix ``M`` built from outer products in a
  loop over classes, ``M = M / ||M||_F``;
- kernel ``K`` (``primal``: ``K = X``, a ``d x d`` problem; ``linear``/``rbf``: ``n x n``);
- ``w, V = scipy.linalg.eig(K M K' + lam I, K H K')`` on the full, general (non-symmetric
  solver) problem; the ``k`` smallest real parts of ``w``; ``Z = A' K``; each embedded sample
  L2-normalised; 1-NN (or the given base estimator) on the embedded source.

Two known slips of the reference code are **not** copied: classes loop over the encoded codes
``0..C-1`` (not ``range(1, C + 1)``), and BDA's ``M0`` is rebuilt every iteration (the
reference overwrites ``e`` in the class loop, so its ``M0`` drifts). A class without
pseudo-labelled target samples keeps only its source part (the reference's ``e(isinf(e)) = 0``).

Not registered as methods; returns target predictions only.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from sklearn.preprocessing import LabelEncoder

from ._base import make_base_estimator
from ._subspace_utils import kernel_matrix

__all__ = ["reference_tca", "reference_jda", "reference_bda"]


def _ref_kernel(kernel, X, gamma):
    # X: (d, n), samples as columns
    if kernel == "primal":
        return X
    return kernel_matrix(X.T, kernel=kernel, gamma=gamma)


def _ref_run(Xs, ys, Xt, *, n_components, lam, kernel, gamma, n_iter, mu, weighted,
             conditional, base_estimator, random_state):
    enc = LabelEncoder().fit(ys)
    ys_c = enc.transform(ys)
    C = len(enc.classes_)
    X = np.hstack((np.asarray(Xs, float).T, np.asarray(Xt, float).T))
    X = X / np.linalg.norm(X, axis=0)
    m, n = X.shape
    ns, nt = Xs.shape[0], Xt.shape[0]
    H = np.eye(n) - 1.0 / n * np.ones((n, n))
    K = _ref_kernel(kernel, X, gamma)
    n_eye = m if kernel == "primal" else n
    yt_pseudo = None
    pred = None
    for _ in range(n_iter):
        e0 = np.vstack((1.0 / ns * np.ones((ns, 1)), -1.0 / nt * np.ones((nt, 1))))
        M0 = e0 * e0.T * C
        N = 0
        if conditional and yt_pseudo is not None:
            for c in range(C):
                e = np.zeros((n, 1))
                src = np.where(ys_c == c)[0]
                tgt = np.where(yt_pseudo == c)[0]
                e[src] = 1.0 / len(src)
                if len(tgt):
                    alpha = (len(tgt) / nt) / (len(src) / ns) if weighted else 1.0
                    e[ns + tgt] = -alpha / len(tgt)
                N = N + e @ e.T
        M = M0 + N if mu is None else (1 - mu) * M0 + mu * N
        M = M / np.linalg.norm(M, "fro")
        a = np.linalg.multi_dot([K, M, K.T]) + lam * np.eye(n_eye)
        b = np.linalg.multi_dot([K, H, K.T])
        w, V = scipy.linalg.eig(a, b)
        ind = np.argsort(w.real)
        A = np.real(V[:, ind[:n_components]])
        Z = A.T @ K
        Z = Z / np.linalg.norm(Z, axis=0)
        Zs, Zt = Z[:, :ns].T, Z[:, ns:].T
        clf = make_base_estimator(base_estimator, random_state=random_state).fit(Zs, ys_c)
        yt_pseudo = pred = clf.predict(Zt)
    return enc.inverse_transform(pred)


def reference_tca(Xs, ys, Xt, *, n_components=100, lam=1.0, kernel="primal", gamma=1.0,
                  base_estimator="1nn", random_state=None):
    """Reference TCA (Pan et al., TNNLS 2011): one solve with the marginal MMD matrix only.

    Returns the target predictions (original labels).
    """
    return _ref_run(Xs, ys, Xt, n_components=n_components, lam=lam, kernel=kernel, gamma=gamma,
                    n_iter=1, mu=None, weighted=False, conditional=False,
                    base_estimator=base_estimator, random_state=random_state)


def reference_jda(Xs, ys, Xt, *, n_components=100, lam=1.0, kernel="primal", gamma=1.0,
                  n_iter=10, base_estimator="1nn", random_state=None):
    """Reference JDA (Long et al., ICCV 2013): ``n_iter`` solves with ``M = C M0 + sum_c Mc``."""
    return _ref_run(Xs, ys, Xt, n_components=n_components, lam=lam, kernel=kernel, gamma=gamma,
                    n_iter=n_iter, mu=None, weighted=False, conditional=True,
                    base_estimator=base_estimator, random_state=random_state)


def reference_bda(Xs, ys, Xt, *, n_components=100, lam=1.0, kernel="primal", gamma=1.0,
                  n_iter=10, mu=0.5, weighted=False, base_estimator="1nn", random_state=None):
    """Reference BDA / W-BDA (Wang et al., ICDM 2017): ``M = (1 - mu) C M0 + mu sum_c Mc``."""
    return _ref_run(Xs, ys, Xt, n_components=n_components, lam=lam, kernel=kernel, gamma=gamma,
                    n_iter=n_iter, mu=mu, weighted=weighted, conditional=True,
                    base_estimator=base_estimator, random_state=random_state)
