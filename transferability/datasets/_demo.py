"""A small generated pair for the demo command (no download)."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from ._loaders import Domain

__all__ = ["make_demo_pair", "make_seed_pair"]


def make_seed_pair(random_state=0):
    """The reference pair of DESIGN.md: ``Xs = randn(200, 5)``, ``Xt = randn(200, 5) * 1.5 + 0.5``.

    Drawn from ``np.random.RandomState(random_state)`` in that order (unlabelled).
    """
    rng = np.random.RandomState(random_state)
    Xs = rng.randn(200, 5)
    Xt = rng.randn(200, 5) * 1.5 + 0.5
    return Xs, Xt


def make_demo_pair(n_source=600, n_target=500, n_features=16, n_classes=4, shift=0.6,
                   random_state=0):
    """A labelled pair with covariate shift: class Gaussians, target rotated, shifted and rescaled.

    Parameters
    ----------
    n_source, n_target : int
        Samples per domain.
    n_features : int
        Dimension.
    n_classes : int
        Number of classes (balanced).
    shift : float
        Size of the shift: rotation angle (radians) in the first two coordinate planes,
        mean offset ``shift`` and scale ``1 + shift / 2``.
    random_state : int, RandomState or None

    Returns
    -------
    source, target : Domain
    """
    rng = check_random_state(random_state)
    centers = rng.randn(n_classes, n_features) * 2.0

    def draw(n):
        y = rng.randint(n_classes, size=n)
        return centers[y] + rng.randn(n, n_features), y

    Xs, ys = draw(n_source)
    Xt, yt = draw(n_target)
    rot = np.eye(n_features)
    c, s = np.cos(shift), np.sin(shift)
    for i in range(0, min(4, n_features - 1), 2):
        rot[i:i + 2, i:i + 2] = [[c, -s], [s, c]]
    Xt = (Xt @ rot.T) * (1.0 + shift / 2.0) + shift
    meta = {"generator": "make_demo_pair", "shift": shift, "random_state": str(random_state)}
    return (Domain(Xs, ys, "demo:source", dict(meta)), Domain(Xt, yt, "demo:target", dict(meta)))
