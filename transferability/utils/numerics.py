"""Dense numerics shared by the divergence measures, the methods and the preprocessing.

One home for each piece, so that two copies never disagree:

- GEMM-safe products: :func:`cross` (``A B'``) and :func:`gram` (``A' B``). numpy sends
  ``Z @ Z.T`` (the same buffer, transposed) to OpenBLAS SYRK, which was seen to segfault on
  these machines (DESIGN.md, "Known hazards"); these always call GEMM on distinct operands;
- :func:`sq_distances`: squared Euclidean distances ``|a|² + |b|² - 2 a·b``, clipped at 0,
  whole or in row blocks; :func:`rbf_kernel`, :func:`median_sq_distance`;
- :func:`sym_power`: powers of a symmetric positive (semi-)definite matrix (``S^{-1/2}``,
  ``S^{1/2}``) through :func:`scipy.linalg.eigh`;
- :func:`row_normalize`: L2, L1 or sum scaling of every row;
- :func:`mean_and_covariance` / :func:`covariance`: moments accumulated in row chunks, with the
  memory of the ``d x d`` result checked before it is allocated (:func:`check_dense_memory`).
"""

from __future__ import annotations

import os

import numpy as np
import scipy.linalg
from sklearn.utils import check_random_state

from .validation import InputError

__all__ = [
    "cross", "gram", "sq_norms", "sq_distances", "rbf_kernel", "median_sq_distance", "sym_power",
    "row_normalize", "mean_and_covariance", "covariance", "available_memory",
    "check_dense_memory", "ROW_NORMS",
]

ROW_NORMS = ("l2", "l1", "sum")

_CHUNK = 8192


# -- GEMM-safe products -------------------------------------------------------------------------
def _gemm(A, B):
    """``A @ B`` on operands that never share a buffer (so numpy cannot pick SYRK)."""
    if np.may_share_memory(A, B):
        B = B.copy()
    return A @ B


def cross(A, B=None):
    """``A @ B.T`` (``B = A`` when None) as a GEMM; shape ``(len(A), len(B))``."""
    B = A if B is None else B
    return _gemm(A, np.ascontiguousarray(B.T))


def gram(A, B=None):
    """``A.T @ B`` (``B = A`` when None) as a GEMM; shape ``(A.shape[1], B.shape[1])``."""
    B = A if B is None else B
    return _gemm(np.ascontiguousarray(A.T), B)


def sq_norms(A):
    """Squared Euclidean norm of every row, ``einsum("ij,ij->i")``."""
    return np.einsum("ij,ij->i", A, A)


# -- distances and kernels ----------------------------------------------------------------------
def _sq_block(A, aa, B, bb):
    D = cross(A, B)
    D *= -2.0
    D += aa[:, None]
    D += bb[None, :]
    return np.maximum(D, 0.0, out=D)


def sq_distances(A, B=None, *, A_sqnorms=None, B_sqnorms=None, block_size=None):
    """Squared Euclidean distances ``D[i, j] = |a_i - b_j|²``, clipped at 0.

    Computed as ``|a|² + |b|² - 2 a·b`` with the cross term from one GEMM (:func:`cross`).

    Parameters
    ----------
    A : array-like of shape (n_a, d)
    B : array-like of shape (n_b, d) or None, default=None
        ``None``: distances within ``A``, with an exact zero diagonal.
    A_sqnorms, B_sqnorms : ndarray of shape (n_a,) / (n_b,), default=None
        Precomputed :func:`sq_norms` (e.g. reused over blocks).
    block_size : int or None, default=None
        Rows of ``A`` per GEMM; ``None`` computes the whole matrix at once. Temporary memory is
        then ``block_size · n_b`` floats beyond the result. The blocks equal the rows of the
        one-shot result to rounding (BLAS may sum in another order for other shapes).

    Returns
    -------
    D : ndarray of shape (n_a, n_b)
    """
    A = np.asarray(A, dtype=np.float64)
    self_distances = B is None
    B = A if self_distances else np.asarray(B, dtype=np.float64)
    aa = sq_norms(A) if A_sqnorms is None else A_sqnorms
    if self_distances:
        bb = aa
    else:
        bb = sq_norms(B) if B_sqnorms is None else B_sqnorms
    na = A.shape[0]
    if block_size is None or block_size >= na:
        D = _sq_block(A, aa, B, bb)
    else:
        if int(block_size) < 1:
            raise InputError(f"block_size must be a positive integer, got {block_size}")
        bs = int(block_size)
        D = np.empty((na, B.shape[0]))
        for i in range(0, na, bs):
            D[i:i + bs] = _sq_block(A[i:i + bs], aa[i:i + bs], B, bb)
    if self_distances:
        np.fill_diagonal(D, 0.0)
    return D


def nearest_other_distances(A):
    """Each row's Euclidean distance to its nearest *other* row (``inf`` for a single row)."""
    D = sq_distances(A)
    np.fill_diagonal(D, np.inf)
    return np.sqrt(D.min(axis=1))


def rbf_kernel(A, B=None, gamma=1.0, *, block_size=None):
    """Gaussian kernel ``k(a, b) = exp(-gamma |a - b|²)`` between the rows of ``A`` and ``B``.

    ``B = None``: the kernel within ``A`` (unit diagonal). Same as
    :func:`sklearn.metrics.pairwise.rbf_kernel` to rounding.
    """
    D = sq_distances(A, B, block_size=block_size)
    D *= -float(gamma)
    return np.exp(D, out=D)


def median_sq_distance(X, Y=None, *, max_samples=1000, random_state=None):
    """Median of the pairwise squared distances of the pooled samples ``[X; Y]``.

    The median heuristic of Gretton et al. for RBF bandwidths (``2 sigma² = median``, i.e.
    ``gamma = 1 / median``). At most ``max_samples`` pooled rows (drawn without replacement
    from ``random_state``) enter; distinct pairs with a positive distance only. Returns 1.0
    when every distance is 0.
    """
    Z = np.asarray(X, dtype=np.float64) if Y is None else np.vstack([X, Y]).astype(np.float64)
    if Z.shape[0] > max_samples:
        idx = check_random_state(random_state).choice(Z.shape[0], max_samples, replace=False)
        Z = Z[np.sort(idx)]
    D = sq_distances(Z)
    d = D[np.triu_indices(Z.shape[0], k=1)]
    d = d[d > 0]
    return float(np.median(d)) if d.size else 1.0


# -- matrix functions ---------------------------------------------------------------------------
def sym_power(S, power, *, floor=0.0):
    """``S ** power`` for a symmetric positive (semi-)definite ``S``, via :func:`scipy.linalg.eigh`.

    ``V diag(max(w, floor) ** power) V'``. Eigenvalues below ``floor`` are clipped to ``floor``;
    a negative power of a singular matrix is refused (callers regularise, e.g. CORAL's
    ``C + I``). ``sym_power(S, -0.5) @ S @ sym_power(S, -0.5) = I`` for positive definite ``S``.

    Raises
    ------
    InputError
        ``power < 0`` and an eigenvalue (after clipping) is not positive.
    """
    vals, vecs = scipy.linalg.eigh(S)
    vals = np.maximum(vals, floor)
    if power < 0 and np.any(vals <= 0):
        raise InputError("matrix is singular: cannot take a negative power")
    return _gemm(vecs * vals ** power, vecs.T)


# -- rows -----------------------------------------------------------------------------------
def _row_l2(X):
    with np.errstate(over="ignore", under="ignore"):
        norms = np.linalg.norm(X, axis=1, keepdims=True)
    # |x|² overflowed or underflowed: the norm of the row scaled by its largest entry
    bad = ~np.isfinite(norms[:, 0]) | (norms[:, 0] < 1e-150)
    if bad.any():
        m = np.max(np.abs(X[bad]), axis=1, keepdims=True)
        m[m == 0] = 1.0
        norms[bad] = m * np.linalg.norm(X[bad] / m, axis=1, keepdims=True)
    return norms


def row_normalize(X, norm="l2"):
    """Scale every row of ``X`` (float64 copy); rows whose scale is 0 stay as they are.

    Parameters
    ----------
    X : array-like of shape (n, d)
    norm : {"l2", "l1", "sum"}, default="l2"
        ``"l2"``: divide by the Euclidean norm (``np.linalg.norm``; the embedding
        normalisation of TCA/JDA/BDA, MEDA, and the ``l2`` preprocessing); ``"l1"``: by the
        sum of absolute values; ``"sum"``: by the plain row sum (the SURF recipe of
        Gong et al.'s GFK code, ``X ./ sum(X, 2)``: equal to ``"l1"`` for non-negative rows).

    Returns
    -------
    ndarray of shape (n, d)
    """
    X = np.asarray(X, dtype=np.float64)
    if norm == "l2":
        s = _row_l2(X)
    elif norm == "l1":
        s = np.abs(X).sum(axis=1, keepdims=True)
    elif norm == "sum":
        s = X.sum(axis=1, keepdims=True)
    else:
        raise InputError(f"unknown row norm '{norm}'; choose one of {', '.join(ROW_NORMS)}")
    s[s == 0] = 1.0
    return X / s


# -- memory ---------------------------------------------------------------------------------
def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (``MemAvailable``), or None if unknown."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def check_dense_memory(n_bytes: float, what: str, *, hint: str = "",
                       available: int | None = None) -> None:
    """Raise :class:`MemoryError` when ``n_bytes`` exceed the available memory (nothing is
    allocated here; an unknown availability passes).

    The message is one line: ``"<what>: <GB> GB needed, <GB> GB available[; <hint>]"``.
    """
    avail = available_memory() if available is None else available
    if avail is not None and n_bytes > avail:
        msg = f"{what}: {n_bytes / 1e9:.3g} GB needed, {avail / 1e9:.3g} GB available"
        raise MemoryError(msg + (f"; {hint}" if hint else ""))


# -- moments --------------------------------------------------------------------------------
#: d x d float64 matrices a covariance-based computation holds at its peak (the covariance,
#: its eigenvectors and one product); :func:`mean_and_covariance` checks this many.
COVARIANCE_WORKSPACE = 3


def covariance_bytes(d: int, n_matrices: int = COVARIANCE_WORKSPACE) -> float:
    """Bytes of ``n_matrices`` float64 ``d x d`` matrices."""
    return float(n_matrices) * 8.0 * float(d) * float(d)


def mean_and_covariance(X, *, ddof=1, n_matrices=COVARIANCE_WORKSPACE):
    """Mean and covariance of ``X`` (rows are samples), accumulated in row chunks (float64).

    Two passes: the mean, then ``sum (x - mu)(x - mu)'`` by GEMM over chunks of 8192 rows, so
    memory is O(chunk · d + d²). ``ddof=1`` is the unbiased covariance (as ``np.cov``).

    Raises
    ------
    InputError
        ``n <= ddof``.
    MemoryError
        ``n_matrices`` ``d x d`` float64 matrices would not fit in the available memory (the
        message names d and the GB needed).
    """
    X = np.asarray(X)
    n, d = X.shape
    if n - ddof <= 0:
        raise InputError(f"a covariance needs more than {ddof} sample(s), got {n}")
    check_dense_memory(covariance_bytes(d, n_matrices),
                       f"the {d} x {d} covariance matrix (d = {d} features)",
                       hint="reduce the features first (e.g. PCA)")
    mu = np.zeros(d)
    for i in range(0, n, _CHUNK):
        mu += X[i:i + _CHUNK].sum(axis=0, dtype=np.float64)
    mu /= n
    C = np.zeros((d, d))
    for i in range(0, n, _CHUNK):
        B = np.asarray(X[i:i + _CHUNK], dtype=np.float64) - mu
        C += gram(B)
    C /= n - ddof
    return mu, C


def covariance(X, *, ddof=1):
    """Covariance of ``X`` (rows are samples), shape ``(d, d)``; see :func:`mean_and_covariance`."""
    return mean_and_covariance(X, ddof=ddof)[1]
