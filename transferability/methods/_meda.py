"""Manifold Embedded Distribution Alignment (Wang et al., ACM MM 2018)."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import linalg, sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.svm import LinearSVC

from ..utils.validation import InputError
from ._base import BaseAdapter
from ._gfk import gfk_embedding
from ._registry import register
from ..utils.numerics import cross, rbf_kernel, row_normalize, sq_distances
from ._subspace_utils import mmd_factor, mmd_fro, pca_basis

__all__ = ["MEDA", "meda_adaptive_factor"]


def _a_distance_train(Xa, Xb, random_state):
    """``2 (1 - 2 err)`` with ``err`` the **training** error of a linear SVM separating Xa from Xb.

    This is MEDA's own estimate (its ``estimate_mu.m``: ``fitclinear`` then the error on the
    training data), not the cross-validated proxy A-distance of
    :mod:`transferability.divergence`.
    """
    X = np.vstack([Xa, Xb])
    y = np.r_[np.zeros(len(Xa), dtype=int), np.ones(len(Xb), dtype=int)]
    with warnings.catch_warnings():  # only the training error is used; no convergence needed
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = LinearSVC(C=1.0, max_iter=5000, random_state=random_state).fit(X, y)
    err = float(np.mean(clf.predict(X) != y))
    return 2.0 * (1.0 - 2.0 * err)


def meda_adaptive_factor(Xs, ys, Xt, yt_pseudo, n_classes, random_state=0, eps=1e-3):
    r"""MEDA's adaptive factor :math:`\mu` weighing conditional against marginal alignment.

    With the A-distances :math:`d_M` (source vs target) and :math:`d_c` (source class ``c`` vs
    target samples pseudo-labelled ``c``):
    :math:`\mu = \bar d_C / (\bar d_C + d_M)`, :math:`\bar d_C` the mean of the :math:`d_c`,
    clipped to ``[0, 1]`` and set to 0 below ``eps`` (the authors' ``estimate_mu.m``; the paper
    writes :math:`1 - d_M / (d_M + \sum_c d_c)`, the code averages the class terms, and the
    published numbers come from the code). Classes with no pseudo-labelled target sample are
    left out of the mean. Returns 0.5 when both distances are 0 (undefined ratio).
    """
    d_c = []
    for c in range(n_classes):
        a, b = Xs[ys == c], Xt[yt_pseudo == c]
        if len(a) and len(b):
            d_c.append(_a_distance_train(a, b, random_state))
    d_c = float(np.mean(d_c)) if d_c else 0.0
    d_m = _a_distance_train(Xs, Xt, random_state)
    if d_c + d_m == 0:
        return 0.5
    mu = d_c / (d_c + d_m)
    if mu > 1:
        return 1.0
    if mu <= eps:
        return 0.0
    return float(mu)


def _cosine_knn_laplacian(X, k):
    r"""Normalised Laplacian :math:`L = I - D^{-1/2} W D^{-1/2}` of a cosine k-NN graph.

    As MEDA's ``lapgraph`` (Deng Cai's ``constructW``: metric and weights ``'Cosine'``, mode
    ``'KNN'``): each sample is linked to its ``k + 1`` most cosine-similar samples (itself
    included, self-connected), with the cosine as weight; :math:`W = \max(W, W^\top)`.
    Returned as a sparse matrix.
    """
    n = X.shape[0]
    Xn = row_normalize(X)
    kk = min(k + 1, n)
    rows, cols, vals = [], [], []
    for start in range(0, n, 2048):
        S = cross(Xn[start:start + 2048], Xn)
        idx = np.argpartition(-S, kk - 1, axis=1)[:, :kk]
        r = np.repeat(np.arange(start, start + S.shape[0]), kk)
        rows.append(r)
        cols.append(idx.ravel())
        vals.append(np.take_along_axis(S, idx, axis=1).ravel())
    W = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(n, n))
    W = W.maximum(W.T).tocsr()
    deg = np.asarray(W.sum(axis=1)).ravel()
    dinv = np.where(deg > 0, 1.0 / np.sqrt(np.maximum(deg, 1e-300)), 0.0)
    Dm = sparse.diags(dinv)
    return (sparse.identity(n, format="csr") - Dm @ W @ Dm).tocsr()


@register("meda")
class MEDA(BaseAdapter):
    r"""MEDA: GFK manifold features, dynamic distribution alignment, structural risk minimisation.

    1. Manifold feature learning: GFK with subspace dimension ``d`` (the map ``x -> x W`` with
       ``G = W W'`` of :func:`transferability.methods._gfk.gfk_embedding`; the authors use
       :math:`G^{1/2}x`, which has the same inner products, hence the same kernel, graph and
       linear-SVM error), then every sample is scaled to unit L2 norm.
    2. A classifier :math:`f = K\alpha` on source + target, with the closed form (paper eq. 16)

       .. math::

           \alpha = \big((E + \lambda M + \rho L) K + \eta I\big)^{-1} E Y

       :math:`E` = diag(1 on source rows), :math:`Y` one-hot source labels (zeros for the
       target), :math:`M = (1-\mu) M_0 + \mu \sum_c M_c` the dynamic MMD matrix
       (:math:`M_0` scaled by the number of classes, then :math:`M / \|M\|_F`, as the code),
       :math:`\mu` from :func:`meda_adaptive_factor`, :math:`L` the normalised Laplacian of the
       cosine ``p``-NN graph (:func:`_cosine_knn_laplacian`), :math:`K` an RBF kernel with
       :math:`\sigma = \sqrt{\mathrm{mean}_i \|x_i\|}` (= 1 after the normalisation; the
       authors' ``kernel_meda('rbf', ...)`` rule) or linear. Solved with
       :func:`scipy.linalg.solve`.
    3. ``T`` iterations; target pseudo-labels start from a 1-NN on the manifold features and
       are refreshed from :math:`K\alpha`. Classes are the encoded codes ``0..C-1``.

    Defaults are the paper's (and the authors' Office-Caltech demo): ``d=20, eta=0.1,
    lambda_=10, rho=1, p=10, T=10``, RBF kernel.

    MEDA learns its own kernel classifier: ``base_estimator`` is accepted for interface
    uniformity and **ignored**. Predictions for new samples are :math:`\arg\max K(x, X)\alpha`.

    Parameters
    ----------
    base_estimator : str or estimator, default="1nn"
        Ignored (see above).
    d : int, default=20
    eta : float, default=0.1
    lambda_ : float, default=10.0
    rho : float, default=1.0
    p : int, default=10
    T : int, default=10
    kernel : {"rbf", "linear"}, default="rbf"
    random_state : int, RandomState or None, default=None
        Seeds the linear SVMs of the A-distance.

    Attributes
    ----------
    W_ : ndarray of shape (n_features, 2d)
    alpha_ : ndarray of shape (n_s + n_t, C)
    mu_history_ : list of float
    target_labels_ : ndarray of shape (n_t,)
        Codes predicted for the fitted target at the last iteration.

    References
    ----------
    J. Wang, W. Feng, Y. Chen, H. Yu, M. Huang, P. S. Yu. Visual Domain Adaptation with
    Manifold Embedded Distribution Alignment. ACM Multimedia 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from transferability.methods import MEDA
    >>> rng = np.random.RandomState(0)
    >>> Xs = np.vstack([rng.randn(30, 5) + [4, 0, 0, 0, 0], rng.randn(30, 5) + [0, 4, 0, 0, 0]])
    >>> ys = np.repeat(["a", "b"], 30)
    >>> model = MEDA(d=2, T=3, random_state=0).fit_domains(Xs, ys, Xs * 1.1 + 0.3)
    >>> float((model.predict(Xs * 1.1 + 0.3) == ys).mean()) > 0.9
    True
    """

    uses_base_estimator = False

    _parameter_constraints: dict = {
        **BaseAdapter._parameter_constraints,
        "d": [Interval(Integral, 1, None, closed="left")],
        "eta": [Interval(Real, 0, None, closed="neither")],
        "lambda_": [Interval(Real, 0, None, closed="left")],
        "rho": [Interval(Real, 0, None, closed="left")],
        "p": [Interval(Integral, 1, None, closed="left")],
        "T": [Interval(Integral, 1, None, closed="left")],
        "kernel": [StrOptions({"rbf", "linear"})],
    }

    def __init__(self, *, base_estimator="1nn", d=20, eta=0.1, lambda_=10.0, rho=1.0, p=10, T=10,
                 kernel="rbf", random_state=None):
        self.base_estimator = base_estimator
        self.d = d
        self.eta = eta
        self.lambda_ = lambda_
        self.rho = rho
        self.p = p
        self.T = T
        self.kernel = kernel
        self.random_state = random_state

    # -- helpers --------------------------------------------------------------------------------
    def _embed(self, X):
        return row_normalize(np.asarray(X, dtype=np.float64) @ self.W_)

    def _kernel(self, A, B):
        if self.kernel == "linear":
            return cross(A, B)
        return rbf_kernel(A, B, 1.0 / (2.0 * self.sigma_ ** 2))

    def _fit(self, Xs, ys, Xt, random_state):
        seed = int(random_state.randint(np.iinfo(np.int32).max))
        ns, nt = Xs.shape[0], Xt.shape[0]
        n = ns + nt
        C = len(self.classes_)
        d = min(int(self.d), Xs.shape[1])
        self.W_, _ = gfk_embedding(pca_basis(Xs, d), pca_basis(Xt, d))
        Zs, Zt = Xs @ self.W_, Xt @ self.W_  # unnormalised manifold features (for mu)
        X = np.vstack([self._embed(Xs), self._embed(Xt)])
        self.X_fit_ = X
        # sigma = sqrt(mean sample norm), the authors' rule (1 after the normalisation)
        self.sigma_ = float(np.sqrt(np.mean(np.linalg.norm(X, axis=1))))
        if self.kernel == "rbf" and not self.sigma_ > 0:
            raise InputError("meda: every sample is 0 on the manifold features (features without variation, "
                             "e.g. all zero), so the RBF kernel has no bandwidth; give features that vary")
        K = self._kernel(X, X)
        L = _cosine_knn_laplacian(X, int(self.p)) if self.rho > 0 else None
        Y = np.zeros((n, C))
        Y[np.arange(ns), ys] = 1.0  # E Y: zero rows for the target
        # 1-NN pseudo-labels of the target on the normalised manifold features
        cls = ys[np.argmin(sq_distances(X[ns:], X[:ns]), axis=1)]
        base = K.copy()  # (E + rho L) K + eta I, fixed over iterations
        base[ns:] = 0.0
        if L is not None:
            base += self.rho * (L @ K)
        base[np.diag_indices(n)] += self.eta
        self.mu_history_ = []
        for _ in range(int(self.T)):
            mu = meda_adaptive_factor(Zs, ys, Zt, cls, C, random_state=seed)
            self.mu_history_.append(mu)
            # M = E_f diag(w) E_f' (low rank): marginal column + one column per class (a class
            # without pseudo-labelled target samples keeps its source part, as the authors' code)
            Ef, wts = mmd_factor(ns, nt, ys, cls, C, mu=mu, keep_unmatched=True)
            fro = mmd_fro(Ef, wts)
            A = base.copy()
            if fro > 0 and self.lambda_ > 0:
                A += (self.lambda_ / fro) * (Ef * wts) @ (Ef.T @ K)
            alpha = linalg.solve(A, Y)
            F = K[ns:] @ alpha
            cls = np.argmax(F, axis=1)
        self.alpha_ = alpha
        self.target_labels_ = cls

    def _predict(self, X):
        return np.argmax(self._kernel(self._embed(X), self.X_fit_) @ self.alpha_, axis=1)
