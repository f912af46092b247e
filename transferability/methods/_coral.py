"""CORrelation ALignment (CORAL)."""

from __future__ import annotations

import numpy as np

from numbers import Real

from sklearn.utils._param_validation import Interval

from ._base import BaseAdapter
from ._registry import register
from ._subspace_utils import coral_transform


@register("coral")
class CORAL(BaseAdapter):
    r"""CORAL: correlation alignment (Sun, Feng, Saenko, AAAI 2016).

    Whitens the source with its regularised covariance and re-colours it with the target's::

        Cs = cov(Xs) + reg I,   Ct = cov(Xt) + reg I     (unbiased covariances, as MATLAB cov)
        A  = Cs^(-1/2) Ct^(1/2),   Xs* = Xs A

    so that ``A' Cs A = Ct`` exactly. The base estimator is trained on ``Xs*`` and applied to the
    **untransformed** target (Algorithm 1 of the paper). Matrix powers through
    :func:`scipy.linalg.eigh` of the symmetric positive definite ``Cs``, ``Ct``.

    Parameters
    ----------
    reg : float, default=1.0
        ``lambda`` added to both covariances (the paper: "regularisation ... 1, the identity").
    base_estimator : str or estimator, default="1nn"
        The paper uses a linear SVM (``"linear_svm"``).
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    transform_ : ndarray of shape (n_features, n_features)
        ``A``.
    estimator_ : fitted base estimator

    References
    ----------
    B. Sun, J. Feng, K. Saenko. Return of Frustratingly Easy Domain Adaptation. AAAI 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from transferability.methods import CORAL
    >>> rng = np.random.RandomState(0)
    >>> Xs = np.vstack([rng.randn(30, 5) + [4, 0, 0, 0, 0], rng.randn(30, 5) + [0, 4, 0, 0, 0]])
    >>> ys = np.repeat(["a", "b"], 30)
    >>> Xt = Xs * 1.1 + 0.3
    >>> model = CORAL().fit_domains(Xs, ys, Xt)
    >>> float((model.predict(Xt) == ys).mean()) > 0.9
    True
    """

    _parameter_constraints: dict = {
        **BaseAdapter._parameter_constraints,
        "reg": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, *, reg=1.0, base_estimator="1nn", random_state=None):
        self.reg = reg
        self.base_estimator = base_estimator
        self.random_state = random_state

    def _fit(self, Xs, ys, Xt, random_state):
        reg = float(self.reg)
        self.transform_ = coral_transform(Xs, Xt, reg=reg)
        self.estimator_ = self._make_base().fit(Xs @ self.transform_, ys)

    def transform_source(self, Xs):
        """Re-colour source rows: ``Xs A``."""
        return np.asarray(Xs, dtype=np.float64) @ self.transform_

    def _predict(self, X):
        return self.estimator_.predict(X)
