"""Generated shift families for the meta store, from data that ships inside scikit-learn.

Each generator takes a base dataset (standardised features ``X``, labels ``y``), a severity
``level`` in [0, 1] (0: no shift, 1: severe) and a seed, splits the base data into two disjoint
halves and draws the source from one and the target from the other, so no sample is in both.
The selection-based shifts (covariate, label) draw at most half of each half, so that the
selection probabilities, not the pool, decide which rows are drawn.

- ``covariate_shift``: sample-selection bias along a random direction ``w``: a row enters the
  source with probability ∝ σ(−a·x·w) and the target with σ(+a·x·w), ``a = 4·level``.
- ``label_shift``: the target's class priors are drawn from a Dirichlet with concentration
  ``10^(1 − 2·level)`` (mild: near uniform; severe: a few dominant classes); P(x|y) unchanged.
- ``feature_transform``: the target's features are transformed — ``rotation`` (a random
  rotation by angle ``level·π/2`` in random planes), ``scaling`` (per-feature log-normal
  factors, σ = level), ``noise`` (additive Gaussian noise, σ = 1.5·level), or ``subspace``
  (projection on a random subspace keeping ``1 − 0.6·level`` of the dimensions).
- ``concept_shift``: P(y|x) changes: each target class moves by its own random offset of
  norm ``1.5·level`` and a fraction ``0.4·level`` of the target rows of one class pair swap labels.

**Semi-real shifts**: ``pool=(X, y)`` replaces the bundled base by any labelled feature matrix
— :func:`load_real_pool` reads one domain of a real benchmark dataset
(:func:`~transferability.datasets.load_real_domain`: Office-Caltech SURF, digits, gas, heart...)
and standardises it on its own statistics — so the same generators run on real feature spaces.
``source_per_class=n`` then cuts the source to ``n`` rows per class (a seeded stratified draw;
classes with fewer keep all): much smaller sources, where labelling a few target rows tends to
beat any transfer.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from sklearn.utils import check_random_state

from ..utils.validation import InputError
from ._preprocess import _zscore  # the one z-score (population std; a constant column gets scale 1)

__all__ = ["BASE_DATASETS", "SHIFT_GENERATORS", "load_base_dataset", "load_real_pool", "make_shift_pair"]

BASE_DATASETS = ("digits", "breast_cancer", "wine", "synthetic")
TRANSFORMS = ("rotation", "scaling", "noise", "subspace")


def load_base_dataset(name: str):
    """A standardised base dataset: sklearn's ``digits``/``breast_cancer``/``wine`` or a fixed
    ``synthetic`` ``make_classification`` problem (1,200 rows, 20 features, 4 classes)."""
    from sklearn import datasets

    if name == "digits":
        X, y = datasets.load_digits(return_X_y=True)
    elif name == "breast_cancer":
        X, y = datasets.load_breast_cancer(return_X_y=True)
    elif name == "wine":
        X, y = datasets.load_wine(return_X_y=True)
    elif name == "synthetic":
        X, y = datasets.make_classification(n_samples=1200, n_features=20, n_informative=8, n_redundant=4,
                                            n_classes=4, n_clusters_per_class=2, class_sep=1.5, random_state=7)
    else:
        raise InputError(f"unknown base dataset '{name}'; choose one of {', '.join(BASE_DATASETS)}")
    return _zscore(np.asarray(X, dtype=np.float64)), np.asarray(y)


def load_real_pool(dataset: str, domain: str, *, data_dir=None, max_rows=None, seed=0):
    """One domain of a real dataset as a shift pool: ``(X, y)``, dense, standardised on its own
    statistics (label-free), optionally cut to ``max_rows`` rows by a seeded stratified draw."""
    from ._real import load_real_domain

    d = load_real_domain(dataset, domain, data_dir=data_dir)
    if d.y is None:
        raise InputError(f"dataset {dataset}, domain {domain}: a shift pool needs labels")
    X, y = d.X, np.asarray(d.y)
    if max_rows is not None and len(y) > int(max_rows):
        from sklearn.model_selection import train_test_split

        idx, _ = train_test_split(np.arange(len(y)), train_size=int(max_rows), stratify=y, random_state=int(seed))
        idx = np.sort(idx)
        X, y = X[idx], y[idx]
    if hasattr(X, "toarray"):
        X = X.toarray()
    return _zscore(np.asarray(X, dtype=np.float64)), y


def _per_class(y, n, rng):
    """Row indices of a stratified draw of ``n`` rows per class (all rows of smaller classes)."""
    keep = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        keep.append(idx if len(idx) <= n else rng.choice(idx, size=n, replace=False))
    return np.sort(np.concatenate(keep))


def _halves(y, rng):
    """Stratified split of row indices into two disjoint halves."""
    a, b = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        h = len(idx) // 2
        a.append(idx[:h])
        b.append(idx[h:])
    return np.concatenate(a), np.concatenate(b)


def _draw(idx, p, n, rng):
    n = min(n, len(idx))
    p = p / p.sum()
    return np.sort(rng.choice(idx, size=n, replace=False, p=p))


def _select(idx, p, n, rng):
    """Biased draw for the selection-based shifts: at most half of the pool, so that the
    selection probabilities decide which rows are drawn (taking the whole pool would make every
    level the same pair)."""
    n = min(n, len(idx) // 2)
    p = p / p.sum()
    return np.sort(rng.choice(idx, size=n, replace=False, p=p))


def _random_rotation(d, angle, rng):
    A = rng.randn(d, d)
    A = (A - A.T) / 2.0
    # scale the generator so that its largest rotation angle is ``angle``
    top = np.abs(np.linalg.eigvals(A)).max()
    return scipy.linalg.expm(A * (angle / top)) if top > 0 else np.eye(d)


def make_shift_pair(generator: str, base: str, level: float, seed: int, *, n_max: int = 400,
                    transform: str | None = None, pool=None, source_per_class: int | None = None):
    """Generate one (source, target) pair; returns ``(Xs, ys, Xt, yt)``.

    Parameters
    ----------
    generator : {"covariate_shift", "label_shift", "feature_transform", "concept_shift"}
    base : one of :data:`BASE_DATASETS`
    level : float in [0, 1]
    seed : int
    n_max : int, default=400
        Rows per domain at most.
    transform : one of ``rotation``, ``scaling``, ``noise``, ``subspace``
        Only for ``feature_transform``.
    pool : (X, y) or None
        A labelled feature matrix to draw from instead of the bundled ``base`` (which then only
        names it), e.g. :func:`load_real_pool`.
    source_per_class : int or None
        Cut the source to this many rows per class (seeded; after the shift is drawn).
    """
    if generator not in SHIFT_GENERATORS:
        raise InputError(f"unknown shift generator '{generator}'; choose one of {', '.join(SHIFT_GENERATORS)}")
    if not 0.0 <= level <= 1.0:
        raise InputError(f"level must be in [0, 1], got {level}")
    if pool is None:
        X, y = load_base_dataset(base)
    else:
        X, y = np.asarray(pool[0], dtype=np.float64), np.asarray(pool[1])
    rng = check_random_state(seed)
    src_idx, tgt_idx = _halves(y, rng)
    Xs, ys, Xt, yt = SHIFT_GENERATORS[generator](X, y, src_idx, tgt_idx, level, rng, n_max, transform)
    if source_per_class is not None:
        if int(source_per_class) < 1:
            raise InputError(f"source_per_class must be a positive integer, got {source_per_class!r}")
        keep = _per_class(ys, int(source_per_class), rng)
        Xs, ys = Xs[keep], ys[keep]
    return Xs, ys, Xt, yt


def _covariate(X, y, si, ti, level, rng, n_max, _):
    w = rng.randn(X.shape[1])
    w /= np.linalg.norm(w)
    a = 4.0 * level
    proj = X @ w
    ps = 1.0 / (1.0 + np.exp(a * proj[si]))
    pt = 1.0 / (1.0 + np.exp(-a * proj[ti]))
    s, t = _select(si, ps, n_max, rng), _select(ti, pt, n_max, rng)
    return X[s], y[s], X[t], y[t]


def _label(X, y, si, ti, level, rng, n_max, _):
    classes = np.unique(y)
    alpha = 10.0 ** (1.0 - 2.0 * level)
    prior = rng.dirichlet(np.full(len(classes), alpha))
    prior = np.maximum(prior, 1e-3)
    counts = np.bincount(np.searchsorted(classes, y[ti]), minlength=len(classes))
    p = prior[np.searchsorted(classes, y[ti])] / np.maximum(counts[np.searchsorted(classes, y[ti])], 1)
    s = _select(si, np.ones(len(si)), n_max, rng)
    t = _select(ti, p, n_max, rng)
    return X[s], y[s], X[t], y[t]


def _transform(X, y, si, ti, level, rng, n_max, transform):
    if transform not in TRANSFORMS:
        raise InputError(f"feature_transform needs transform in {', '.join(TRANSFORMS)}, got {transform!r}")
    s = _draw(si, np.ones(len(si)), n_max, rng)
    t = _draw(ti, np.ones(len(ti)), n_max, rng)
    Xt = X[t].copy()
    d = X.shape[1]
    if transform == "rotation":
        Xt = Xt @ _random_rotation(d, level * np.pi / 2.0, rng).T
    elif transform == "scaling":
        Xt = Xt * np.exp(rng.randn(d) * level)
    elif transform == "noise":
        Xt = Xt + rng.randn(*Xt.shape) * 1.5 * level
    else:  # subspace
        k = max(1, int(round((1.0 - 0.6 * level) * d)))
        Q, _ = np.linalg.qr(rng.randn(d, k))
        Xt = Xt @ Q @ Q.T
    return X[s], y[s], Xt, y[t]


def _concept(X, y, si, ti, level, rng, n_max, _):
    s = _draw(si, np.ones(len(si)), n_max, rng)
    t = _draw(ti, np.ones(len(ti)), n_max, rng)
    Xt, yt = X[t].copy(), y[t].copy()
    classes = np.unique(y)
    for c in classes:
        v = rng.randn(X.shape[1])
        Xt[yt == c] += v / np.linalg.norm(v) * 1.5 * level
    a, b = rng.choice(classes, size=2, replace=False)
    for c_from, c_to in ((a, b), (b, a)):
        rows = np.flatnonzero(y[t] == c_from)
        flip = rows[rng.rand(len(rows)) < 0.4 * level]
        yt[flip] = c_to
    return X[s], y[s], Xt, yt


SHIFT_GENERATORS = {
    "covariate_shift": _covariate,
    "label_shift": _label,
    "feature_transform": _transform,
    "concept_shift": _concept,
}
