"""Subspace Alignment (SA)."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseAdapter
from ._gfk import subspace_dim
from ._registry import register
from ._subspace_utils import pca_basis


@register("sa")
class SA(BaseAdapter):
    r"""Subspace Alignment (Fernando et al., ICCV 2013).

    Aligns the source PCA basis ``Ps`` (``D x d``) with the target one ``Pt`` by the linear map
    ``M* = argmin_M ||Ps M - Pt||_F = Ps' Pt`` (closed form, orthonormal bases), then::

        source:  Xs Ps M* = Xs Ps Ps' Pt        target (and any new X):  X Pt

    and trains the base estimator on the aligned source. Data are projected as given (not
    re-centred), as in the authors' code (which z-scores each domain first: use
    ``preprocess="sum-zscore"`` on SURF).

    With ``d = D`` (and ``n > D`` in both domains) ``Ps Ps' = I`` and both domains are rotated
    by the same orthogonal ``Pt``: Euclidean distances and hence 1-NN predictions are those of
    no adaptation.

    Parameters
    ----------
    n_components : "auto" or int, default="auto"
        ``d``. ``"auto"``: :func:`~transferability.methods._gfk.subspace_dim`, 20 (the default
        of the authors' code adaptations) from 40 features on, half the feature count below
        (``d = D`` is no adaptation, see above). The paper chooses it with a stability bound.
        An integer is clipped to the feature count.
    base_estimator : str or estimator, default="1nn"
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    source_basis_ : ndarray of shape (n_features, d)
        ``Ps``.
    target_basis_ : ndarray of shape (n_features, d)
        ``Pt``.
    alignment_ : ndarray of shape (d, d)
        ``M* = Ps' Pt``.
    n_components_ : int
        ``d`` used.
    estimator_ : fitted base estimator

    References
    ----------
    B. Fernando, A. Habrard, M. Sebban, T. Tuytelaars. Unsupervised Visual Domain Adaptation
    Using Subspace Alignment. ICCV 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from transferability.methods import SA
    >>> rng = np.random.RandomState(0)
    >>> Xs = np.vstack([rng.randn(30, 5) + [4, 0, 0, 0, 0], rng.randn(30, 5) + [0, 4, 0, 0, 0]])
    >>> ys = np.repeat(["a", "b"], 30)
    >>> Xt = Xs * 1.1 + 0.3
    >>> model = SA(n_components=2).fit_domains(Xs, ys, Xt)
    >>> float((model.predict(Xt) == ys).mean()) > 0.9
    True
    """

    _parameter_constraints: dict = {
        **BaseAdapter._parameter_constraints,
        "n_components": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, *, n_components="auto", base_estimator="1nn", random_state=None):
        self.n_components = n_components
        self.base_estimator = base_estimator
        self.random_state = random_state

    def _fit(self, Xs, ys, Xt, random_state):
        d = self.n_components_ = subspace_dim(self.n_components, Xs.shape[1])
        self.source_basis_ = pca_basis(Xs, d)
        self.target_basis_ = pca_basis(Xt, d)
        self.alignment_ = self.source_basis_.T @ self.target_basis_
        Zs = Xs @ (self.source_basis_ @ self.alignment_)
        self.estimator_ = self._make_base().fit(Zs, ys)

    def transform(self, X):
        """Project rows of ``X`` (target-side data) onto the target subspace: ``X Pt``."""
        return np.asarray(X, dtype=np.float64) @ self.target_basis_

    def _predict(self, X):
        return self.estimator_.predict(self.transform(X))
