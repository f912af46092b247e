"""Load one domain (features ``X`` and optional labels ``y``) from a file.

Supported formats (the command line's SOURCE/TARGET arguments):

- ``.npz``: arrays ``X`` and optional ``y``;
- ``.npy``: a 2-D feature matrix, no labels;
- ``.csv`` / ``.parquet``: one column per feature plus an optional label column
  (``label_column``, default ``"label"``); every other column must be numeric;
- ``.mat`` (MATLAB v4-v7.2, read with :func:`scipy.io.loadmat`), in the layouts of the
  benchmark data: rows-are-samples ``fts``/``feas``/``X`` with ``labels``/``y``/``Y``, and
  two-domain files with columns-are-samples ``X_src``/``X_tar`` plus ``Y_src``/``Y_tar``.
  ``FILE.mat:src`` (or ``:source``, ``:X_src``) and ``FILE.mat:tar`` (or ``:target``,
  ``:X_tar``) pick one domain of a two-domain file. Sparse matrices are densified.

Only regular files are read (a FIFO, socket or device is refused before it is opened). A
table's feature column names are kept in ``Domain.meta["feature_names"]``, so that
:func:`~transferability.datasets.load_pair` can match a target's columns to the source's by name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..utils.io import check_regular_file
from ..utils.validation import InputError, check_domain, check_labels

__all__ = ["Domain", "load_domain", "SUPPORTED_SUFFIXES"]

SUPPORTED_SUFFIXES = (".npz", ".npy", ".csv", ".parquet", ".mat")

# .mat layouts: (feature key, label keys, samples are columns?)
_MAT_SINGLE_KEYS = (
    ("fts", ("labels", "label", "y", "Y")),
    ("feas", ("labels", "label", "y", "Y")),
    ("X", ("y", "Y", "labels", "label")),
)
_MAT_TWO_DOMAIN = {
    "src": ("X_src", "Y_src"),
    "tar": ("X_tar", "Y_tar"),
}
_MAT_SELECTOR_ALIASES = {
    "src": "src", "source": "src", "x_src": "src", "s": "src",
    "tar": "tar", "target": "tar", "x_tar": "tar", "t": "tar",
}


@dataclass
class Domain:
    """One domain: features, optional labels and where it came from.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        Features, float32 or float64.
    y : ndarray of shape (n_samples,) or None
        Labels (any type), or ``None`` when the file carries none.
    source : str
        The path specification it was loaded from.
    meta : dict
        Loader details (layout, keys used, whether it was transposed).
    """

    X: np.ndarray
    y: np.ndarray | None = None
    source: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])


def _split_spec(spec: str) -> tuple[str, str | None]:
    """Split ``FILE.mat:KEY`` into (FILE.mat, KEY); other paths are returned unchanged."""
    spec = os.fspath(spec)
    if os.path.exists(spec):
        return spec, None
    head, sep, key = spec.rpartition(":")
    if sep and key and "/" not in key and (head.lower().endswith(".mat") or os.path.isfile(head)):
        return head, key
    return spec, None


def load_domain(spec, *, label_column: str | None = "label", require_label_column: bool = False,
                name: str = "domain") -> Domain:
    """Load a domain from ``spec`` (a path, or ``FILE.mat:KEY``).

    Parameters
    ----------
    spec : str or path-like
        File to read; see the module docstring for the formats.
    label_column : str or None, default="label"
        Label column of ``.csv``/``.parquet`` files. ``None``: every column is a feature.
    require_label_column : bool, default=False
        If True, a missing ``label_column`` is an error (the user named it explicitly);
        otherwise the file is read as unlabelled.
    name : str, default="domain"
        Used in error messages (``"source"``/``"target"``).

    Returns
    -------
    Domain

    Raises
    ------
    InputError
        Missing or unreadable file, unknown format, non-numeric features, NaN/inf,
        empty domain, labels whose length differs from ``X``, unknown ``.mat`` layout.
    """
    path, key = _split_spec(spec)
    check_regular_file(path, "data file", name=name)  # never opens it: a FIFO would block
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputError(
            f"{name}: unknown format '{suffix or '(no extension)'}' for {path}; "
            f"expected one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if key is not None and suffix != ".mat":
        raise InputError(f"{name}: the ':KEY' selector only applies to .mat files")
    if not os.access(path, os.R_OK):
        raise InputError(f"{name}: file is not readable: {path}")
    reader = {
        ".npz": _read_npz, ".npy": _read_npy, ".csv": _read_table,
        ".parquet": _read_table, ".mat": _read_mat,
    }[suffix]
    try:
        if suffix in (".csv", ".parquet"):
            X, y, meta = reader(path, label_column, require_label_column, name)
        elif suffix == ".mat":
            X, y, meta = reader(path, key, name)
        else:
            X, y, meta = reader(path, name)
    except InputError:
        raise
    except Exception as exc:  # corrupt file, wrong magic number, ...
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{name}: cannot read {path} as {suffix}: {msg}") from None
    X = check_domain(X, name=name, min_samples=1)
    if y is not None:
        y = check_labels(y, X.shape[0], name=f"{name} labels")
    meta["format"] = suffix[1:]
    return Domain(X=X, y=y, source=os.fspath(spec), meta=meta)


def _read_npz(path, name):
    with np.load(path, allow_pickle=False) as data:
        keys = list(data.keys())
        if "X" in keys:
            X = data["X"]
        elif len(keys) == 1:
            X = data[keys[0]]
        else:
            raise InputError(f"{name}: {path} has no array 'X' (arrays: {', '.join(keys) or 'none'})")
        y = data["y"] if "y" in keys else None
    return X, y, {"keys": keys}


def _read_npy(path, name):
    X = np.load(path, allow_pickle=False)
    return X, None, {}


def _read_table(path, label_column, require_label_column, name):
    if path.lower().endswith(".csv"):
        import pyarrow.csv as pacsv

        table = pacsv.read_csv(path)
    else:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
    columns = list(table.column_names)
    if not columns or table.num_rows == 0:
        raise InputError(f"{name}: the domain is empty (0 samples) in {path}")
    y = None
    if label_column is not None and label_column in columns:
        y = table.column(label_column).to_numpy(zero_copy_only=False)
        columns.remove(label_column)
    elif label_column is not None and require_label_column:
        raise InputError(
            f"{name}: label column '{label_column}' not found in {path} "
            f"(columns: {', '.join(columns[:10])}{'...' if len(columns) > 10 else ''})"
        )
    import pyarrow.types as pat

    bad = [c for c in columns
           if not (pat.is_integer(table.schema.field(c).type) or pat.is_floating(table.schema.field(c).type)
                   or pat.is_boolean(table.schema.field(c).type) or pat.is_null(table.schema.field(c).type))]
    if bad:
        raise InputError(
            f"{name}: non-numeric feature column(s) in {path}: {', '.join(bad[:5])}"
            + (" (is that the label? pass --label-column)" if y is None else "")
        )
    if not columns:
        raise InputError(f"{name}: {path} has no feature columns")
    X = np.column_stack([
        table.column(c).to_numpy(zero_copy_only=False).astype(np.float64) for c in columns
    ])
    return X, y, {"columns": len(columns), "feature_names": [str(c) for c in columns],
                  "label_column": label_column if y is not None else None}


def _densify(a):
    return a.toarray() if hasattr(a, "toarray") else np.asarray(a)


def _orient(X, y, columns_are_samples: bool):
    """Return X with rows as samples; the label count decides when the shape is ambiguous."""
    X = _densify(X)
    if X.ndim != 2:
        return X, False
    if y is not None:
        n = int(np.prod(y.shape)) if hasattr(y, "toarray") else np.asarray(y).size  # sparse: not 1
        if X.shape[0] == n and X.shape[1] != n:
            return X, False
        if X.shape[1] == n and X.shape[0] != n:
            return X.T, True
    return (X.T, True) if columns_are_samples else (X, False)


def _read_mat(path, key, name):
    import scipy.io

    try:
        data = scipy.io.loadmat(path)
    except NotImplementedError:
        raise InputError(
            f"{name}: {path} is a MATLAB v7.3 (HDF5) file; save it with -v7 or convert it to .npz"
        ) from None
    except Exception as exc:
        raise InputError(f"{name}: cannot read {path} as .mat: {exc}") from None
    keys = [k for k in data if not k.startswith("__")]
    two_domain = all(k in data for k in ("X_src", "X_tar"))
    if key is not None:
        sel = _MAT_SELECTOR_ALIASES.get(key.lower())
        if sel is not None and two_domain:
            xk, yk = _MAT_TWO_DOMAIN[sel]
            y = data.get(yk)
            X, transposed = _orient(data[xk], y, columns_are_samples=True)
            return X, None if y is None else _densify(y).ravel(), {
                "layout": "two-domain", "keys": [xk, yk], "transposed": transposed}
        if key in data and not key.startswith("__"):
            X, transposed = _orient(data[key], None, columns_are_samples=False)
            return X, None, {"layout": "key", "keys": [key], "transposed": transposed}
        raise InputError(
            f"{name}: {path} has no domain '{key}' (keys: {', '.join(keys)}"
            + ("; use :src or :tar)" if two_domain else ")")
        )
    if two_domain:
        raise InputError(
            f"{name}: {path} holds two domains (X_src, X_tar); pick one with {path}:src or {path}:tar"
        )
    for xk, label_keys in _MAT_SINGLE_KEYS:
        if xk in data:
            yk = next((k for k in label_keys if k in data), None)
            y = None if yk is None else _densify(data[yk]).ravel()
            X, transposed = _orient(data[xk], y, columns_are_samples=False)
            return X, y, {"layout": "rows-are-samples", "keys": [xk] + ([yk] if yk else []),
                          "transposed": transposed}
    raise InputError(
        f"{name}: {path} has none of the known keys (fts, feas, X, X_src/X_tar); "
        f"found: {', '.join(keys) or 'nothing'}"
    )
