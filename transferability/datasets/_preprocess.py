"""Explicit, documented preprocessing of a (source, target) pair.

Never applied implicitly: the command line's ``--preprocess`` and a store spec's
``"preprocess"`` choose one of these. None of them looks at a label.

Per-domain recipes (each domain on **its own** statistics; :func:`preprocess` applies them to
one domain):

- ``none``: features as loaded.
- ``zscore``: z-score each feature within each domain separately (population std,
  ``ddof=0``); constant features (all values equal) become 0. Right when the domains differ by a per-feature
  offset/scale that carries no class information (sensor gain, camera exposure, per-field
  calibration: landmine). Wrong when an informative feature shifts in mean between the domains:
  per-domain centring erases that shift, so the source classifier no longer sees where the
  target's rows really are (on a real two-site tabular pair this cost no adaptation 29 points
  with 1-NN and 45 points with logistic regression against ``zscore-source``).
- ``l2``: divide each sample by its Euclidean norm (zero rows stay zero).
  Reproduces the published 1-NN baselines on MNIST/USPS and COIL.
- ``sum-zscore``: divide each sample by its sum, then ``zscore``. The Office-Caltech
  SURF/DeCAF recipe (Gong et al., GFK code README) that reproduces the JDA paper's NN row.

Pair-level recipes (the statistics depend on both domains, or on the source only; only
:func:`preprocess_pair` applies them):

- ``zscore-source``: both domains centred and scaled with the **source's** mean and population
  std. What a practitioner does when deploying a source model: the target's mean/scale shift
  stays visible (the default for tabular data with natural domains: sites, years, users).
- ``zscore-pooled``: both domains with the mean and population std of the pooled rows
  (source and target stacked). Symmetric in the two domains; also keeps a shift visible.
  A feature constant in the source (``zscore-source``) or in the pooled rows
  (``zscore-pooled``) gets scale 1: it is centred, never divided by zero, so no NaN appears and
  the target's departure from the source constant stays visible.
- ``tfidf-svd100``: for sparse non-negative term matrices (Reuters, 20-Newsgroups): TF-IDF
  (smoothed idf from the document frequencies of the **pooled** rows, rows L2-normalised), then
  a truncated SVD (latent semantic analysis) with ``min(100, d - 1, n - 1)`` components fitted on
  the pooled rows (randomized solver, ``random_state=0``, one BLAS thread so the bits do not depend
  on the machine's thread count), then each projected row L2-normalised. Output: dense float64.
  Label-free, but it depends on the pair, which is why it is a pair-level step.

Sparse inputs are accepted everywhere; every recipe but ``none`` returns dense float64.
"""

from __future__ import annotations

import numpy as np

from .._vocabulary import PAIR_PREPROCESSING, PER_DOMAIN_PREPROCESSING, PREPROCESSING  # the names' one home
from ..utils.numerics import row_normalize
from ..utils.validation import InputError

__all__ = ["PREPROCESSING", "PAIR_PREPROCESSING", "preprocess", "preprocess_pair"]

#: Number of latent components of ``tfidf-svd100`` (capped at d - 1 and n - 1).
SVD_COMPONENTS = 100


def _dense(X) -> np.ndarray:
    if hasattr(X, "toarray"):
        X = X.toarray()
    return np.asarray(X, dtype=np.float64)


def _moments(ref):
    """Column means and population stds of ``ref``; a constant column (all values equal) gets
    std 1, exactly: its summed std is ~1e-16, not 0, and dividing by it would blow the
    floating-point noise (and any target departure) up by 1e16."""
    mu, sd = ref.mean(axis=0), ref.std(axis=0)
    if ref.shape[0]:
        sd[np.ptp(ref, axis=0) == 0] = 1.0
    sd[sd == 0] = 1.0
    return mu, sd


def _standardise(X, mu, sd):
    return (X - mu) / sd


def _zscore(X):
    # ddof=0, as MATLAB's zscore(X, 1)
    return _standardise(X, *_moments(X))


def _l2(X):
    return row_normalize(X, "l2")


def _sum_zscore(X):
    return _zscore(row_normalize(X, "sum"))


_FUNCS = {"none": lambda X: X, "zscore": _zscore, "l2": _l2, "sum-zscore": _sum_zscore}


def _check_mode(mode):
    if mode not in PREPROCESSING:
        raise InputError(f"unknown preprocessing '{mode}'; choose one of {', '.join(PREPROCESSING)}")


def preprocess(X, mode: str = "none") -> np.ndarray:
    """Apply the per-domain preprocessing ``mode`` to one domain.

    Returns a float64 copy (dense, even for sparse input); ``none`` returns ``X`` as is.
    Pair-level modes (``zscore-source``, ``zscore-pooled``, ``tfidf-svd100``) need both
    domains: use :func:`preprocess_pair`.
    """
    _check_mode(mode)
    if mode in PAIR_PREPROCESSING:
        raise InputError(f"preprocessing '{mode}' uses both domains' rows; apply it with preprocess_pair")
    if mode == "none":
        return X
    return _FUNCS[mode](_dense(X))


def _tfidf_svd(Xs, Xt, n_components=SVD_COMPONENTS):
    import scipy.sparse as sp
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfTransformer
    from threadpoolctl import threadpool_limits

    S = sp.csr_matrix(Xs, dtype=np.float64)
    T = sp.csr_matrix(Xt, dtype=np.float64)
    if (S.data < 0).any() or (T.data < 0).any():
        raise InputError("preprocessing 'tfidf-svd100' needs non-negative term weights (counts or tf-idf)")
    Z = sp.vstack([S, T]).tocsr()
    k = min(n_components, Z.shape[1] - 1, Z.shape[0] - 1)
    if k < 1:
        raise InputError(f"preprocessing 'tfidf-svd100' needs at least 2 features and 2 rows, got {Z.shape}")
    with threadpool_limits(limits=1):
        W = TfidfTransformer(norm="l2", use_idf=True, smooth_idf=True).fit_transform(Z)
        svd = TruncatedSVD(n_components=k, algorithm="randomized", n_iter=5, random_state=0)
        L = svd.fit_transform(W)
    L = _l2(np.asarray(L, dtype=np.float64))
    return L[: S.shape[0]], L[S.shape[0]:]


def preprocess_pair(X_source, X_target, mode: str = "none"):
    """Apply ``mode`` to a pair and return ``(X_source, X_target)``.

    Per-domain modes use each domain's own statistics; ``zscore-source`` uses the source's,
    ``zscore-pooled`` the pooled rows', ``tfidf-svd100`` fits TF-IDF and the SVD on the pooled
    rows (see the module docstring). No label is used.

    Examples
    --------
    >>> import numpy as np
    >>> Xs = np.array([[0.0], [2.0]]); Xt = np.array([[4.0], [6.0]])
    >>> [a.ravel().tolist() for a in preprocess_pair(Xs, Xt, "zscore-source")]
    [[-1.0, 1.0], [3.0, 5.0]]
    >>> [a.ravel().tolist() for a in preprocess_pair(Xs, Xt, "zscore")]
    [[-1.0, 1.0], [-1.0, 1.0]]
    """
    _check_mode(mode)
    if mode == "tfidf-svd100":
        return _tfidf_svd(X_source, X_target)
    if mode in ("zscore-source", "zscore-pooled"):
        Xs, Xt = _dense(X_source), _dense(X_target)
        if Xs.ndim != 2 or Xt.ndim != 2 or Xs.shape[1] != Xt.shape[1]:
            raise InputError(f"preprocessing '{mode}': source and target need the same number of features "
                             f"(got {Xs.shape} and {Xt.shape})")
        mu, sd = _moments(Xs if mode == "zscore-source" else np.vstack([Xs, Xt]))
        return _standardise(Xs, mu, sd), _standardise(Xt, mu, sd)
    return preprocess(X_source, mode), preprocess(X_target, mode)
