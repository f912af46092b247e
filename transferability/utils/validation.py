"""Input validation shared by the loaders, the divergence measures and the methods.

Every check raises :class:`InputError` with one human-readable line; the command line turns it
into a message on stderr and exit code 2.
"""

from __future__ import annotations

import numpy as np

__all__ = ["InputError", "check_domain", "check_pair", "check_labels", "check_magnitude",
           "max_abs", "SAFE_EXPONENT"]

#: float64 features are used as they are while ``2**-SAFE_EXPONENT <= max|x| <= 2**SAFE_EXPONENT``:
#: sums of squares, of products of squares (a covariance gap) and of pairwise distances then stay
#: far from overflow and underflow. Outside, :func:`check_magnitude` rescales by a power of two.
SAFE_EXPONENT = 128
_SAFE_EXPONENT_FLOAT32 = 32


class InputError(ValueError):
    """Bad user input (file, array or argument). The message is one clear line."""


def check_domain(X, *, name: str = "X", min_samples: int = 2, dtype=None) -> np.ndarray:
    """Validate one domain's feature matrix and return it as a 2-D float array.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Feature matrix. Sparse matrices are densified.
    name : str, default="X"
        Name used in error messages (``"source"``, ``"target"``...).
    min_samples : int, default=2
        Fewest samples accepted; covariances and divergences need at least two.
    dtype : numpy dtype or None, default=None
        Output dtype. ``None`` keeps float32/float64 and converts anything else to float64.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    """
    if hasattr(X, "toarray"):
        X = X.toarray()
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists etc.
        raise InputError(f"{name}: cannot be read as a numeric matrix ({exc})") from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise InputError(f"{name}: features must be numeric (got dtype {arr.dtype})")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise InputError(f"{name}: complex-valued features are not supported")
    if arr.ndim == 1:
        raise InputError(f"{name}: expected a 2-D matrix (n_samples, n_features), got a 1-D array")
    if arr.ndim != 2:
        raise InputError(f"{name}: expected a 2-D matrix (n_samples, n_features), got {arr.ndim}-D")
    if arr.shape[0] == 0:
        raise InputError(f"{name}: the domain is empty (0 samples)")
    if arr.shape[1] == 0:
        raise InputError(f"{name}: the domain has no features (0 columns)")
    if arr.shape[0] < min_samples:
        raise InputError(
            f"{name}: needs at least {min_samples} samples, got {arr.shape[0]}"
        )
    if dtype is None:
        dtype = arr.dtype if arr.dtype in (np.float32, np.float64) else np.float64
    arr = np.asarray(arr, dtype=dtype)
    if not np.isfinite(arr).all():
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise InputError(f"{name}: contains {bad} NaN or infinite value(s)")
    return arr


def check_labels(y, n_samples: int, *, name: str = "y") -> np.ndarray:
    """Validate a label vector against its feature matrix and return it 1-D."""
    y = np.asarray(y)
    if y.ndim == 2 and 1 in y.shape:
        y = y.ravel()
    if y.ndim != 1:
        raise InputError(f"{name}: labels must be a vector, got shape {y.shape}")
    if y.shape[0] != n_samples:
        raise InputError(
            f"{name}: {y.shape[0]} labels for {n_samples} samples (lengths must match)"
        )
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise InputError(f"{name}: labels contain NaN or infinite values")
    return y


def check_pair(X_source, X_target, *, min_samples: int = 2, dtype=None):
    """Validate a (source, target) pair: both valid domains with the same number of features."""
    Xs = check_domain(X_source, name="source", min_samples=min_samples, dtype=dtype)
    Xt = check_domain(X_target, name="target", min_samples=min_samples, dtype=dtype)
    if Xs.shape[1] != Xt.shape[1]:
        raise InputError(
            f"source has {Xs.shape[1]} features but target has {Xt.shape[1]}; "
            "a pair needs the same feature space"
        )
    if dtype is None and Xs.dtype != Xt.dtype:
        Xs = Xs.astype(np.float64, copy=False)
        Xt = Xt.astype(np.float64, copy=False)
    return Xs, Xt


def max_abs(X) -> float:
    """Largest absolute value of an array (0.0 for an empty one), without a temporary copy."""
    X = np.asarray(X)
    if X.size == 0:
        return 0.0
    return float(max(abs(float(X.min())), abs(float(X.max()))))


def check_magnitude(X_source, X_target):
    """Bring a validated pair into the range where squared quantities cannot overflow.

    When the largest absolute feature value lies outside ``[2**-128, 2**128]`` (float32:
    ``[2**-32, 2**32]``, which first moves the pair to float64), both domains are divided by
    the same power of two ``2**k``, nearest to that largest value. A power-of-two scaling is
    exact, so every scale-invariant quantity (kernel MMDs with a data-driven bandwidth, subspace
    angles, domain classifiers, neighbours) is unchanged, and a quantity homogeneous of degree
    ``p`` is recovered as ``value * 2**(k p)`` (:func:`math.ldexp`); values in the safe range
    are returned as they are (``k = 0``).

    Parameters
    ----------
    X_source, X_target : ndarray
        Validated (finite) domains, e.g. from :func:`check_pair`.

    Returns
    -------
    Xs, Xt : ndarray
        The domains, divided by ``2**k``.
    k : int
        The exponent of the common factor (0: untouched).
    """
    m = max(max_abs(X_source), max_abs(X_target))
    if m == 0.0:
        return X_source, X_target, 0
    exp = int(np.frexp(m)[1])  # m = f * 2**exp with 0.5 <= f < 1
    limit = _SAFE_EXPONENT_FLOAT32 if np.float32 in (X_source.dtype, X_target.dtype) else SAFE_EXPONENT
    if -limit <= exp <= limit:
        return X_source, X_target, 0
    Xs = np.asarray(X_source, dtype=np.float64)
    Xt = np.asarray(X_target, dtype=np.float64)
    if -SAFE_EXPONENT <= exp <= SAFE_EXPONENT:  # float32 out of its range: float64 suffices
        return Xs, Xt, 0
    return np.ldexp(Xs, -exp), np.ldexp(Xt, -exp), exp
