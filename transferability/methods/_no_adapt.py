"""No adaptation: the base estimator trained on the labelled source only."""

from __future__ import annotations

from ._base import BaseAdapter
from ._registry import register


@register("no_adapt")
class NoAdapt(BaseAdapter):
    """Train the base estimator on the source; ignore the target.

    Parameters
    ----------
    base_estimator : str or estimator, default="1nn"
        See :func:`make_base_estimator`.
    random_state : int, RandomState or None, default=None

    Examples
    --------
    >>> import numpy as np
    >>> from transferability.methods import NoAdapt
    >>> Xs = np.array([[0.0], [0.1], [1.0], [1.1]]); ys = np.array(["a", "a", "b", "b"])
    >>> NoAdapt().fit_domains(Xs, ys, Xs + 0.05).predict([[0.02], [1.02]]).tolist()
    ['a', 'b']
    """

    def __init__(self, *, base_estimator="1nn", random_state=None):
        self.base_estimator = base_estimator
        self.random_state = random_state

    def _fit(self, Xs, ys, Xt, random_state):
        self.estimator_ = self._make_base().fit(Xs, ys)

    def _predict(self, X):
        return self.estimator_.predict(X)
