"""Generated pairs whose right answer is known: the sanity suite's kinds.

Every kind is built on one structured base (Gaussian classes in 16 dimensions, as
:func:`~transferability.datasets.make_demo_pair` draws them, without its shift unless the
kind adds one) and labels both domains (the target labels are only used to *measure* what
the right answer was, never by ``score`` or ``recommend``). :data:`SANITY_KINDS` maps each kind
to a one-line description; :func:`make_sanity_pair` draws one.

The expected answers live with the suite (:mod:`transferability.meta.evaluation._sanity`).
"""

from __future__ import annotations

import numpy as np

from ._loaders import Domain

__all__ = ["SANITY_KINDS", "make_sanity_pair"]

SANITY_KINDS = {
    "noise": "pure Gaussian noise in both domains, random labels",
    "shuffled_source_labels": "structured classes, no shift, the source labels permuted",
    "identical": "the target is the source (same rows)",
    "subsample": "the target is a random 40 % of the source rows",
    "disjoint_supports": "the target translated 12 standard deviations away in every feature",
    "label_shift": "the same class-conditional distributions, target class priors 70/10/10/10 %",
    "tiny_target": "a target of 2 rows per class (8 rows)",
    "one_target_class": "a target drawn from one class only",
    "feature_permutation": "the target's feature columns permuted",
    "huge_magnitude": "a shifted pair with every value multiplied by 1e6",
    "affine_shift": "a strong affine shift of the target (random rotation, scales 0.4-2.5, offset)",
}

_D, _C, _NS, _NT = 16, 4, 400, 300


def _classes(rng, n, centers, priors=None):
    y = rng.choice(len(centers), size=n, p=priors)
    return centers[y] + rng.randn(n, centers.shape[1]), y


def _rotation(rng, d):
    q, r = np.linalg.qr(rng.randn(d, d))
    return q * np.sign(np.diag(r))


def make_sanity_pair(kind: str, *, random_state=0):
    """One pair of a sanity kind.

    Parameters
    ----------
    kind : str
        A key of :data:`SANITY_KINDS`.
    random_state : int, default=0

    Returns
    -------
    source, target : Domain
        Both labelled (``meta["sanity_kind"]`` names the kind).

    Examples
    --------
    >>> s, t = make_sanity_pair("tiny_target")
    >>> t.X.shape, len(set(t.y.tolist()))
    ((8, 16), 4)
    """
    from transferability.utils.validation import InputError

    if kind not in SANITY_KINDS:
        raise InputError(f"unknown sanity kind '{kind}'; one of {', '.join(SANITY_KINDS)}")
    rng = np.random.RandomState(random_state)
    centers = rng.randn(_C, _D) * 2.0
    Xs, ys = _classes(rng, _NS, centers)
    if kind == "noise":
        Xs, ys = rng.randn(_NS, _D), rng.randint(_C, size=_NS)
        Xt, yt = rng.randn(_NT, _D), rng.randint(_C, size=_NT)
    elif kind == "shuffled_source_labels":
        Xt, yt = _classes(rng, _NT, centers)
        ys = ys[rng.permutation(_NS)]
    elif kind == "identical":
        Xt, yt = Xs.copy(), ys.copy()
    elif kind == "subsample":
        idx = np.sort(rng.choice(_NS, int(0.4 * _NS), replace=False))
        Xt, yt = Xs[idx].copy(), ys[idx].copy()
    elif kind == "disjoint_supports":
        Xt, yt = _classes(rng, _NT, centers)
        Xt = Xt + 12.0 * Xs.std(axis=0)
    elif kind == "label_shift":
        Xt, yt = _classes(rng, _NT, centers, priors=[0.7, 0.1, 0.1, 0.1])
    elif kind == "tiny_target":
        Xt = np.vstack([centers[c] + rng.randn(2, _D) for c in range(_C)])
        yt = np.repeat(np.arange(_C), 2)
    elif kind == "one_target_class":
        Xt, yt = centers[0] + rng.randn(100, _D), np.zeros(100, dtype=int)
    elif kind == "feature_permutation":
        Xt, yt = _classes(rng, _NT, centers)
        Xt = Xt[:, rng.permutation(_D)]
    elif kind == "huge_magnitude":
        Xt, yt = _classes(rng, _NT, centers)
        Xt = Xt @ _rotation(rng, _D).T * 0.5 + 1.0
        Xs, Xt = Xs * 1e6, Xt * 1e6
    else:  # affine_shift
        Xt, yt = _classes(rng, _NT, centers)
        A = _rotation(rng, _D) * rng.uniform(0.4, 2.5, size=_D)
        Xt = Xt @ A.T + rng.randn(_D) * 3.0
    meta = {"generator": "make_sanity_pair", "sanity_kind": kind, "random_state": str(random_state)}
    return (Domain(np.ascontiguousarray(Xs), ys, f"sanity:{kind}:source", dict(meta)),
            Domain(np.ascontiguousarray(Xt), yt, f"sanity:{kind}:target", dict(meta)))
