"""Shared helpers of the subspace / feature-alignment methods (TCA, JDA, BDA, GFK, SA, CORAL).

Notation: samples are **rows** (``X`` has shape ``(n, d)``), ``n = ns + nt`` with the source
rows first.

- centering matrix ``H = I - 11'/n`` (:func:`centering_matrix`, dense; the solvers never form it:
  ``X'HX = X'X - n m m'``);
- MMD matrix ``M`` (:func:`mmd_factor`, :func:`mmd_matrix`): JDA's
  ``M = C M0 + sum_c Mc`` and BDA's ``M = (1 - mu) C M0 + mu sum_c Mc`` with
  ``M0 = e0 e0'``, ``e0 = [1/ns; -1/nt]``, ``Mc = ec ec'``, ``ec`` = ``1/ns_c`` on source
  samples of class ``c`` and ``-alpha_c/nt_c`` on target samples pseudo-labelled ``c``.
  ``M`` is kept **factored**, ``M = E diag(w) E'`` with ``E`` of shape ``(n, C + 1)``, so that
  ``X'MX = (X'E) diag(w) (X'E)'`` costs ``O(n d C)`` and no ``n x n`` matrix is built;
- kernels (:func:`kernel_matrix`) and CORAL's re-colouring map (:func:`coral_transform`);
- the generalized eigenproblem shared by TCA/JDA/BDA (:func:`mmd_embedding`).

Distances, kernels, matrix powers, row normalisation and covariances come from
:mod:`transferability.utils.numerics` (GEMM on explicit operands, never SYRK).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ..utils.numerics import covariance, cross, gram, rbf_kernel, row_normalize, sym_power
from ..utils.validation import InputError

__all__ = [
    "KERNELS", "centering_matrix", "l2_normalize_rows", "kernel_matrix", "coral_transform",
    "mmd_factor", "mmd_fro", "mmd_matrix", "mmd_embedding", "MMDEmbedding", "pca_basis",
    "prepare_input", "fit_mmd_adapter",
    "MMDAdapterMixin",
]

KERNELS = ("primal", "linear", "rbf")


# -- small checks -------------------------------------------------------------------------------
# -- linear algebra helpers ---------------------------------------------------------------------
def centering_matrix(n):
    """Dense centering matrix ``H = I_n - 1 1' / n`` (for references and tests)."""
    return np.eye(n) - np.full((n, n), 1.0 / n)


#: The embedding normalisation of the authors' TCA/JDA/BDA code
#: (``Z = Z*diag(1./sqrt(sum(Z.^2)))`` with samples as columns): :func:`row_normalize`, L2.
l2_normalize_rows = row_normalize


def kernel_matrix(X, Y=None, *, kernel="linear", gamma=1.0):
    """Kernel matrix between the rows of ``X`` and ``Y`` (``Y = X`` when None).

    ``linear``: ``k(x, y) = x'y``; ``rbf``: ``k(x, y) = exp(-gamma ||x - y||^2)`` (the authors'
    ``kernel.m`` convention, ``gamma`` multiplies the squared distance).
    """
    Y = X if Y is None else Y
    if kernel == "linear":
        return cross(X, Y)
    if kernel == "rbf":
        return rbf_kernel(X, Y, gamma)
    raise InputError(f"unknown kernel '{kernel}' for a kernel matrix; choose linear or rbf")


def coral_transform(Xs, Xt, *, reg=1.0):
    r"""CORAL's linear map ``A = (C_s + reg I)^{-1/2} (C_t + reg I)^{1/2}`` (``d x d``).

    Unbiased covariances (as MATLAB's ``cov``); ``A' (C_s + reg I) A = C_t + reg I``. Used by
    CORAL (Sun, Feng, Saenko, AAAI 2016) and by EasyTL's intra-domain alignment (``reg = 1``).
    """
    d = Xs.shape[1]
    Cs = covariance(Xs) + reg * np.eye(d)
    Ct = covariance(Xt) + reg * np.eye(d)
    return sym_power(Cs, -0.5) @ sym_power(Ct, 0.5)


def _flip_signs(V):
    """Make the largest-magnitude entry of every column positive (sign determinism)."""
    idx = np.argmax(np.abs(V), axis=0)
    signs = np.sign(V[idx, np.arange(V.shape[1])])
    signs[signs == 0] = 1.0
    return V * signs


def pca_basis(X, n_components):
    """Top ``n_components`` principal directions of ``X`` (columns, orthonormal, shape (d, k)).

    PCA of the centered ``X`` through :func:`scipy.linalg.svd` (thin); at most
    ``min(n - 1, d)`` directions carry variance, more are completed with an orthonormal basis
    of the remaining space (the null space, as ``[Ps, null(Ps')]`` in Gong et al.'s code).
    """
    Xc = X - X.mean(axis=0)
    _, _, Vt = scipy.linalg.svd(Xc, full_matrices=False)
    P = Vt.T
    d = X.shape[1]
    if n_components > P.shape[1]:
        # complete to n_components orthonormal columns (full_matrices only when needed)
        _, _, Vt_full = scipy.linalg.svd(Xc, full_matrices=True)
        P = Vt_full.T
    return _flip_signs(P[:, :min(n_components, d)])


# -- MMD matrix ---------------------------------------------------------------------------------
def mmd_factor(ns, nt, ys=None, yt_pseudo=None, n_classes=None, *, mu=None, weighted=False,
               keep_unmatched=False):
    """Factor ``M = E diag(w) E'`` of the (JDA/BDA) MMD matrix, **unscaled**.

    Parameters
    ----------
    ns, nt : int
        Source and target sizes (source rows first).
    ys : ndarray of shape (ns,), optional
        Source class codes ``0..C-1``.
    yt_pseudo : ndarray of shape (nt,) or None
        Target pseudo-label codes; ``None``: marginal term only (TCA, first JDA iteration).
    n_classes : int, optional
        ``C``; default ``ys.max() + 1``.
    mu : float or None
        ``None``: JDA weights ``M = C M0 + sum_c Mc`` (the authors' code multiplies ``M0`` by
        ``C`` "for better normalization"). A number in ``[0, 1]``: BDA's
        ``M = (1 - mu) C M0 + mu sum_c Mc``; ``mu = 0.5`` gives JDA's ``M / 2``.
    weighted : bool, default=False
        W-BDA: the target part of ``ec`` is multiplied by the class-prior ratio
        ``alpha_c = P_t(c) / P_s(c)`` (pseudo-label prior over source prior), as in the authors'
        W-BDA code.
    keep_unmatched : bool, default=False
        A class with source samples but no pseudo-labelled target sample keeps its source part
        (``e(isinf(e)) = 0`` in the authors' MEDA code) instead of being skipped.

    Returns
    -------
    E : ndarray of shape (ns + nt, m)
        Column 0 is ``e0``; one column per class that has at least one pseudo-labelled target
        sample (a class with none has no target mean to match and is skipped, so it never
        divides by zero; with ``keep_unmatched``, one column per class with source samples).
    w : ndarray of shape (m,)
    """
    n = ns + nt
    cols = [np.concatenate([np.full(ns, 1.0 / ns), np.full(nt, -1.0 / nt)])]
    C = int(n_classes if n_classes is not None else (ys.max() + 1 if ys is not None else 1))
    w0 = float(C) if mu is None else (1.0 - mu) * C
    weights = [w0]
    if yt_pseudo is not None:
        wc = 1.0 if mu is None else float(mu)
        ys = np.asarray(ys)
        yt_pseudo = np.asarray(yt_pseudo)
        for c in range(C):
            src = ys == c
            tgt = yt_pseudo == c
            n_sc, n_tc = int(src.sum()), int(tgt.sum())
            if n_sc == 0 or (n_tc == 0 and not keep_unmatched):
                continue
            e = np.zeros(n)
            e[:ns][src] = 1.0 / n_sc
            if n_tc:
                alpha = (n_tc / nt) / (n_sc / ns) if weighted else 1.0
                e[ns:][tgt] = -alpha / n_tc
            cols.append(e)
            weights.append(wc)
    return np.column_stack(cols), np.asarray(weights, dtype=np.float64)


def mmd_fro(E, w):
    """``||E diag(w) E'||_F`` without the ``n x n`` matrix: ``sqrt(tr(D G D G))``, ``G = E'E``."""
    G = gram(E, E)
    DG = w[:, None] * G
    return float(np.sqrt(max(np.sum(DG * DG.T), 0.0)))


def mmd_matrix(ns, nt, ys=None, yt_pseudo=None, n_classes=None, *, mu=None, weighted=False,
               normalize=True):
    """Dense ``n x n`` MMD matrix (scaled to unit Frobenius norm when ``normalize``).

    For tests and references only: the solvers use the factor of :func:`mmd_factor`.
    """
    E, w = mmd_factor(ns, nt, ys, yt_pseudo, n_classes, mu=mu, weighted=weighted)
    M = (E * w) @ np.ascontiguousarray(E.T)
    if normalize:
        M /= np.linalg.norm(M, "fro")
    return M


# -- the TCA / JDA / BDA eigenproblem -----------------------------------------------------------
class MMDEmbedding:
    """A fitted TCA/JDA/BDA projection (the result of :func:`mmd_embedding`).

    Attributes
    ----------
    kernel : str
    components : ndarray of shape (d, k) for ``primal``, (n_train, k) otherwise
        ``A`` (columns of unit Euclidean norm).
    eigenvalues : ndarray of shape (k,)
        ``phi`` of the published problem ``(X'MX + lam I) a = phi X'HX a``, ascending.
    X_fit : ndarray or None
        Training samples (kernel case only), needed for out-of-sample embedding.
    """

    def __init__(self, kernel, components, eigenvalues, X_fit=None, gamma=1.0):
        self.kernel = kernel
        self.components = components
        self.eigenvalues = eigenvalues
        self.X_fit = X_fit
        self.gamma = gamma

    def transform(self, X):
        """Embed rows of ``X`` (already input-normalised): ``Z = X A`` or ``Z = K(X, X_fit) A``."""
        if self.kernel == "primal":
            return X @ self.components
        return kernel_matrix(X, self.X_fit, kernel=self.kernel, gamma=self.gamma) @ self.components


def mmd_embedding(X, E, w, *, n_components, lam, kernel="primal", gamma=1.0, K=None):
    """Solve the TCA/JDA/BDA generalized eigenproblem.

    The published problem (TCA: Pan et al. 2011, eq. (9)-(10); JDA: Long et al. 2013, eq. (8))
    with samples as rows, primal case::

        min_A tr(A' X'MX A) + lam ||A||_F^2   s.t.  A' X'HX A = I
        =>  (X'MX + lam I) a = phi X'HX a,  the k smallest phi

    (kernel case: ``X`` replaced by ``K``). ``X'HX`` is only positive *semi*-definite
    (singular when ``d >= n``), so the pair is solved the other way round as a
    **symmetric-definite** problem with :func:`scipy.linalg.eigh`::

        X'HX a = (1/phi) (X'MX + lam I) a,  the k largest 1/phi,

    whose right-hand matrix is positive definite for ``lam > 0``; same eigenvectors. Columns
    of ``A`` are then rescaled to unit Euclidean norm (the normalisation of :func:`scipy.linalg.eig` in the
    reference code) and their signs fixed (largest entry positive).

    ``M`` is used scaled to unit Frobenius norm (``M = M / ||M||_F``, as in the authors' code,
    so ``lam`` keeps the published scale) and is never formed: ``X'MX = (X'E) diag(w) (X'E)'``.

    Cost: primal with ``d <= n`` solves a ``d x d`` problem; primal with ``d > n`` first
    reduces to the row space of ``X`` by a thin SVD (``X = U S V'``, ``A = V C``: ``||A|| = ||C||``
    and ``XA = US C``, so the problem is exactly the same) and solves an ``r x r`` problem,
    ``r = rank(X) <= n``; kernels solve ``n x n``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Stacked source and target rows.
    E, w : factor of ``M`` (:func:`mmd_factor`).
    n_components : int
        ``k``; clipped to the problem size.
    lam : float
        ``lambda > 0``.
    kernel : {"primal", "linear", "rbf"}
    gamma : float
        RBF parameter.
    K : ndarray of shape (n, n), optional
        Precomputed kernel matrix of ``X`` (reused across JDA/BDA iterations).

    Returns
    -------
    MMDEmbedding
    """
    n = X.shape[0]
    scale = mmd_fro(E, w)
    scale = scale if scale > 0 else 1.0               # M = 0 (BDA, mu = 1, no pseudo-labels yet)
    V = None
    if kernel == "primal":
        F = X
        if X.shape[1] > n:
            U, s, Vt = scipy.linalg.svd(X, full_matrices=False)
            r = int(np.sum(s > s[0] * max(X.shape) * np.finfo(float).eps)) if s.size else 0
            F = U[:, :r] * s[:r]
            V = Vt[:r].T
    else:
        F = kernel_matrix(X, kernel=kernel, gamma=gamma) if K is None else K
    m = F.mean(axis=0)
    S = gram(F, F) - n * np.outer(m, m)          # F'HF
    S = 0.5 * (S + S.T)
    P = gram(F, E)                                # F'E
    B = (P * (w / scale)) @ np.ascontiguousarray(P.T)  # F'MF, M scaled to unit Frobenius norm
    B = 0.5 * (B + B.T)
    B[np.diag_indices_from(B)] += lam
    p = S.shape[0]
    k = min(n_components, p)
    # driver "gvd" (divide and conquer, all eigenpairs) measured ~9x faster here than the
    # subset driver "gvx" (eigh(..., subset_by_index=...)) for d = 800, k = 100.
    inv_phi, A = scipy.linalg.eigh(S, B, driver="gvd")
    inv_phi, A = inv_phi[::-1][:k], A[:, ::-1][:, :k]  # largest 1/phi = smallest phi first
    with np.errstate(divide="ignore"):
        phi = np.where(inv_phi > 0, 1.0 / np.maximum(inv_phi, 1e-300), np.inf)
    if V is not None:
        A = V @ A
    A = A / np.linalg.norm(A, axis=0)
    A = _flip_signs(A)
    return MMDEmbedding(kernel, A, phi, X_fit=None if kernel == "primal" else X, gamma=gamma)


def prepare_input(X, normalize_input):
    """Per-sample L2 normalisation of the input (``X = X*diag(1./sqrt(sum(X.^2)))`` in the
    authors' TCA/JDA/BDA code) when ``normalize_input``; applied identically out of sample."""
    return l2_normalize_rows(X) if normalize_input else np.asarray(X, dtype=np.float64)


def fit_mmd_adapter(Xs, ys, Xt, *, make_base, n_components, lam, kernel, gamma, n_iter,
                    conditional, mu=None, weighted=False, normalize_input=True,
                    normalize_embedding=True):
    """The TCA / JDA / BDA training loop, shared by the three methods.

    Iteration 1 uses the marginal term only (``M = M0``: this is TCA); every further iteration
    builds the class-conditional terms from the target pseudo-labels predicted by the base
    estimator trained on the embedded source of the previous iteration (JDA, Long et al. 2013,
    Algorithm 1; BDA, Wang et al. 2017, Algorithm 1). ``M`` is rebuilt from scratch at every
    iteration.

    ``mu`` is None (JDA's weights), a number (BDA's balance factor, fixed) or a callable
    ``mu(Z, yt_pseudo) -> float`` called before every iteration with the embedded rows and the
    target pseudo-labels of the previous one (both None before the first): BDA's ``mu="auto"``,
    re-estimated at every iteration.

    Returns
    -------
    embedding : MMDEmbedding
        The projection of the last iteration.
    estimator : fitted base estimator
        Trained on the embedded (and, if ``normalize_embedding``, row-normalised) source.
    history : list of ndarray
        Target pseudo-labels after each iteration.
    """
    ns, nt = Xs.shape[0], Xt.shape[0]
    X = prepare_input(np.vstack([Xs, Xt]), normalize_input)
    K = None if kernel == "primal" else kernel_matrix(X, kernel=kernel, gamma=gamma)
    n_classes = int(ys.max()) + 1
    yt_pseudo = Z = None
    history = []
    emb = est = None
    for _ in range(n_iter):
        E, w = mmd_factor(ns, nt, ys, yt_pseudo if conditional else None, n_classes,
                          mu=mu(Z, yt_pseudo) if callable(mu) else mu, weighted=weighted)
        emb = mmd_embedding(X, E, w, n_components=n_components, lam=lam, kernel=kernel,
                            gamma=gamma, K=K)
        Z = (X @ emb.components) if kernel == "primal" else K @ emb.components
        if normalize_embedding:
            Z = l2_normalize_rows(Z)
        est = make_base().fit(Z[:ns], ys)
        yt_pseudo = np.asarray(est.predict(Z[ns:]), dtype=int)
        history.append(yt_pseudo)
        if not conditional:
            break
    return emb, est, history


class MMDAdapterMixin:
    """Fitted-state handling, ``transform`` and ``_predict`` shared by TCA, JDA and BDA."""

    def _fit_mmd(self, Xs, ys, Xt, *, n_iter, conditional, mu=None, weighted=False):
        # the parameters were checked once against _parameter_constraints in BaseAdapter.fit
        emb, est, hist = fit_mmd_adapter(
            Xs, ys, Xt, make_base=self._make_base, n_components=int(self.n_components), lam=float(self.lam),
            kernel=self.kernel, gamma=float(self.gamma), n_iter=n_iter, conditional=conditional, mu=mu, weighted=weighted,
            normalize_input=self.normalize_input, normalize_embedding=self.normalize_embedding)
        self.embedding_ = emb
        self.components_ = emb.components
        self.eigenvalues_ = emb.eigenvalues
        self.estimator_ = est
        self.pseudo_labels_ = hist
        return self

    def transform(self, X):
        """Embed the rows of ``X`` into the adapted space, normalised as in training."""
        X = np.asarray(X, dtype=np.float64)
        Z = self.embedding_.transform(prepare_input(X, self.normalize_input))
        return l2_normalize_rows(Z) if self.normalize_embedding else Z

    def _predict(self, X):
        return self.estimator_.predict(self.transform(X))
