"""Load a (source, target) pair of files once, for every command: the two raw domains, their
preprocessed features and the pair's identity (the key the meta store indexes it by)."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np

from ..utils.identity import fingerprint, pair_key, preprocess_key
from ..utils.validation import InputError, check_pair
from ._loaders import Domain, load_domain
from ._preprocess import preprocess_pair

__all__ = ["LoadedPair", "load_pair"]


@dataclass(eq=False)
class LoadedPair:
    """A source/target pair as loaded from files, with its preprocessed features and identity.

    Attributes
    ----------
    source, target : Domain
        The domains as loaded (validated, not preprocessed). When both files are tables
        (``.csv``/``.parquet``), the target's columns are in the source's order.
    X_source : ndarray of shape (n_source, n_features)
        Source features after ``preprocess``.
    X_target : ndarray of shape (n_target, n_features)
        Target features after ``preprocess``.
    preprocess : str
        The preprocessing recipe applied (see :data:`PREPROCESSING`).

    Notes
    -----
    The identity (:attr:`source_fingerprint`, :attr:`target_fingerprint`, :attr:`key`) is
    computed from the raw domains with :mod:`transferability.utils.identity`, once, on first
    use: the same files and recipe give the key that a store build gives the same pair.
    """

    source: Domain
    target: Domain
    X_source: np.ndarray
    X_target: np.ndarray
    preprocess: str = "none"

    @property
    def y_source(self):
        return self.source.y

    @property
    def y_target(self):
        return self.target.y

    @property
    def n_source(self) -> int:
        return int(self.X_source.shape[0])

    @property
    def n_target(self) -> int:
        return int(self.X_target.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X_source.shape[1])

    @functools.cached_property
    def source_fingerprint(self) -> str:
        """:func:`~transferability.utils.identity.fingerprint` of the raw source (X, y)."""
        return fingerprint(self.source.X, self.source.y)

    @functools.cached_property
    def target_fingerprint(self) -> str:
        """:func:`~transferability.utils.identity.fingerprint` of the raw target (X, y)."""
        return fingerprint(self.target.X, self.target.y)

    @property
    def preprocess_key(self) -> str:
        """The preprocessing part of the key (:func:`~transferability.utils.identity.preprocess_key`)."""
        return preprocess_key(self.preprocess)

    @functools.cached_property
    def key(self) -> str:
        """:func:`~transferability.utils.identity.pair_key` of the fingerprints and preprocessing."""
        return pair_key(self.source_fingerprint, self.target_fingerprint, self.preprocess_key)

    def require_labels(self, side: str, why: str) -> None:
        """Raise :class:`InputError` (``"{side}: FILE has no labels; {why}"``) when ``side``
        (``"source"`` or ``"target"``) is unlabelled."""
        domain = {"source": self.source, "target": self.target}[side]
        if domain.y is None:
            raise InputError(f"{side}: {domain.source} has no labels; {why}")


def _match_columns(src: Domain, tgt: Domain) -> Domain:
    """The target with its table columns in the source's order, matched by name."""
    names_s, names_t = src.meta.get("feature_names"), tgt.meta.get("feature_names")
    if names_s is None or names_t is None or list(names_s) == list(names_t):
        return tgt
    if len(set(names_t)) == len(names_t) and set(names_s) == set(names_t):
        where = {n: i for i, n in enumerate(names_t)}
        order = np.array([where[n] for n in names_s], dtype=np.intp)
        meta = dict(tgt.meta, feature_names=list(names_s), columns_reordered=True)
        return dataclasses.replace(tgt, X=np.ascontiguousarray(tgt.X[:, order]), meta=meta)
    only_s = [n for n in names_s if n not in set(names_t)]
    only_t = [n for n in names_t if n not in set(names_s)]

    def _few(names):
        return ", ".join(names[:5]) + ("..." if len(names) > 5 else "")

    detail = "; ".join(part for part in (
        f"not in target: {_few(only_s)}" if only_s else "",
        f"not in source: {_few(only_t)}" if only_t else "",
    ) if part) or "repeated column names"
    raise InputError(f"source and target feature columns differ by name ({detail}); "
                     "a pair needs the same named features")


def load_pair(source, target, *, label_column: str | None = None, preprocess: str = "none") -> LoadedPair:
    """Load SOURCE and TARGET files as a validated pair and apply ``preprocess``.

    Parameters
    ----------
    source, target : str or path-like
        Files, as for :func:`load_domain` (``FILE.mat:KEY`` picks one domain of a two-domain
        ``.mat`` file).
    label_column : str or None, default=None
        Label column of ``.csv``/``.parquet`` files. ``None``: ``"label"`` when present (the
        file is read as unlabelled otherwise); a name given explicitly must exist.
    preprocess : str, default="none"
        One of :data:`PREPROCESSING`, applied to each domain on its own statistics.

    Returns
    -------
    LoadedPair

    Raises
    ------
    InputError
        Any error of :func:`load_domain`; fewer than 2 samples in a domain; different feature
        counts; table feature columns whose names differ between source and target (the same
        names in another order are reordered to the source's); an unknown ``preprocess``.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> rng = np.random.RandomState(0)
    >>> np.savez(os.path.join(d, "s.npz"), X=rng.randn(20, 3), y=np.arange(20) % 2)
    >>> np.savez(os.path.join(d, "t.npz"), X=rng.randn(15, 3) + 1)
    >>> pair = load_pair(os.path.join(d, "s.npz"), os.path.join(d, "t.npz"), preprocess="zscore")
    >>> pair.n_source, pair.n_target, pair.n_features, pair.y_target is None
    (20, 15, 3, True)
    >>> bool(np.allclose(pair.X_target.mean(axis=0), 0.0)), len(pair.key)
    (True, 64)
    """
    explicit = label_column is not None
    col = label_column if explicit else "label"
    src = load_domain(source, label_column=col, require_label_column=explicit, name="source")
    tgt = load_domain(target, label_column=col, require_label_column=explicit, name="target")
    Xs, Xt = check_pair(src.X, tgt.X)
    src, tgt = dataclasses.replace(src, X=Xs), dataclasses.replace(tgt, X=Xt)
    tgt = _match_columns(src, tgt)
    Xs_p, Xt_p = preprocess_pair(src.X, tgt.X, preprocess)
    return LoadedPair(source=src, target=tgt, X_source=Xs_p, X_target=Xt_p, preprocess=preprocess)
