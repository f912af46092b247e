"""Distance of a pair to the training pairs: the one home of "how far is this pair from the store".

Both learners use it: MetaTrans's kNN over pairs finds its neighbours with it, and both
MetaTrans and EasyTransferability flag a pair as *out of distribution* when its nearest training
pair is farther than the threshold. The meta-features go through one
:class:`~transferability.meta.learners._table.SignedLogScaler` fitted on the training pairs; the
distance is Euclidean on the standardised signed-log values; the threshold is the
``percentile`` (99 by default) of the training pairs' leave-one-out nearest distances (each
training pair's distance to its nearest *other* training pair), ``None`` with a single pair.

:meth:`TrainingDistance.to_dict` is what the model manifests hold (``mean``, ``scale``,
``reference``, ``threshold``, ``percentile``); its schema for the manifest checker is
:func:`transferability.meta.learners._files.distance_schema`.
"""

from __future__ import annotations

import numpy as np

from transferability.utils.numerics import nearest_other_distances, sq_distances
from ._table import SignedLogScaler

__all__ = ["OOD_PERCENTILE", "TrainingDistance"]

OOD_PERCENTILE = 99.0


class TrainingDistance:
    """Distances of pairs (rows of meta-features) to the training pairs.

    Parameters
    ----------
    scaler : SignedLogScaler
        The training pairs' feature transform.
    reference : array-like of shape (n_pairs, n_features)
        The training pairs, transformed by ``scaler``.
    threshold : float or None
        Out-of-distribution threshold on the nearest distance (None: every pair is in
        distribution, e.g. with a single training pair).
    percentile : float, default=99.0
        The percentile of the leave-one-out nearest distances ``threshold`` is (kept for the
        messages).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.RandomState(0).rand(50, 3)
    >>> d = TrainingDistance.fit(X)
    >>> d.nearest(X[0]) < 1e-6 and d.in_distribution(d.nearest(X[0]))
    True
    """

    def __init__(self, scaler: SignedLogScaler, reference, threshold, percentile=OOD_PERCENTILE):
        self.scaler = scaler
        self.reference = np.asarray(reference, dtype=np.float64)
        self.threshold = None if threshold is None else float(threshold)
        self.percentile = float(percentile)

    @classmethod
    def fit(cls, X, *, percentile=OOD_PERCENTILE) -> "TrainingDistance":
        """Fit the scaler on the training pairs ``X`` (n_pairs, n_features), keep them
        transformed, and set the threshold from their leave-one-out nearest distances."""
        scaler = SignedLogScaler.fit(X)
        reference = scaler.transform(X)
        loo = nearest_other_distances(reference)
        threshold = float(np.percentile(loo, percentile)) if len(loo) > 1 else None
        return cls(scaler, reference, threshold, percentile)

    @property
    def n_features(self) -> int:
        return int(self.reference.shape[1])

    def transform(self, X) -> np.ndarray:
        return self.scaler.transform(X)

    def distances(self, X) -> np.ndarray:
        """(n, n_pairs) distances of the rows of ``X`` to every training pair."""
        return np.sqrt(sq_distances(self.transform(np.atleast_2d(np.asarray(X, dtype=np.float64))),
                                    self.reference))

    def nearest(self, x) -> float:
        """Distance of one pair (a row of meta-features) to its nearest training pair."""
        return float(self.distances(np.asarray(x, dtype=np.float64).reshape(1, -1)).min())

    def loo_distances(self) -> np.ndarray:
        """Each training pair's distance to its nearest *other* training pair."""
        return nearest_other_distances(self.reference)

    def in_distribution(self, distance: float) -> bool:
        """Whether a nearest distance is within the threshold (always, without one)."""
        return True if self.threshold is None else bool(distance <= self.threshold)

    def to_dict(self) -> dict:
        return {"mean": self.scaler.mean.tolist(), "scale": self.scaler.scale.tolist(),
                "reference": self.reference.tolist(), "threshold": self.threshold, "percentile": self.percentile}

    @classmethod
    def from_dict(cls, d: dict) -> "TrainingDistance":
        """Rebuild from :meth:`to_dict` (checked beforehand against :func:`._files.distance_schema`)."""
        return cls(SignedLogScaler(d["mean"], d["scale"]), d["reference"], d["threshold"], d["percentile"])

