"""Easy Transfer Learning (Wang et al., 2019): intra-domain alignment + intra-domain programming."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import linprog
from sklearn.utils._param_validation import StrOptions

from ._base import BaseAdapter
from ._registry import register
from ..utils.numerics import sq_distances
from ._subspace_utils import coral_transform

__all__ = ["EasyTL", "coral_map", "intra_domain_programming"]


def coral_map(Xs, Xt):
    r"""EasyTL's CORAL intra-domain alignment of the source (Sun et al. 2016, as in EasyTL's code).

    :math:`X_s \leftarrow X_s\,(C_s + I)^{-1/2}(C_t + I)^{1/2}`, with unbiased covariances
    :math:`C_s, C_t`: CORAL's map with ``reg = 1``
    (:func:`~transferability.methods._subspace_utils.coral_transform`). The target is left
    unchanged.
    """
    return Xs @ coral_transform(Xs, Xt, reg=1.0)


def intra_domain_programming(D):
    r"""Solve EasyTL's intra-domain programming LP; return the (relaxed) assignment ``M``.

    .. math::

        \min_M \sum_{t,c} D_{tc} M_{tc}\quad\text{s.t.}\quad \sum_c M_{tc} = 1\ \forall t,\quad
        1 \le \sum_t M_{tc} \le n_t\ \forall c,\quad 0 \le M_{tc} \le 1

    (each target sample is assigned to the class centres with total mass 1, and every class
    receives at least one target sample), solved with ``scipy.optimize.linprog`` (HiGHS).

    Parameters
    ----------
    D : ndarray of shape (n_t, C)
        Distance of every target sample to every class centre.

    Returns
    -------
    M : ndarray of shape (n_t, C)
        The LP solution; rows sum to 1. ``argmax`` per row gives the labels.
    """
    D = np.asarray(D, dtype=np.float64)
    nt, C = D.shape
    n = nt * C  # variable index t * C + c
    rows = np.repeat(np.arange(nt), C)
    A_eq = sparse.csr_matrix((np.ones(n), (rows, np.arange(n))), shape=(nt, n))
    cols = np.tile(np.arange(C), nt)
    A_class = sparse.csr_matrix((-np.ones(n), (cols, np.arange(n))), shape=(C, n))
    lower_ok = nt >= C  # "every class gets mass >= 1" is feasible only with at least C samples
    if lower_ok:
        A_ub = A_class
        b_ub = -np.ones(C)
    else:
        A_ub, b_ub = None, None
    res = linprog(D.ravel(), A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=np.ones(nt), bounds=(0.0, 1.0),
                  method="highs")
    if res.status != 0 or res.x is None:  # pragma: no cover - the LP is always feasible here
        raise RuntimeError(f"easytl: linear programme failed ({res.message})")
    return np.clip(res.x.reshape(nt, C), 0.0, 1.0)


@register("easytl")
class EasyTL(BaseAdapter):
    r"""Easy Transfer Learning: CORAL alignment, class centres, and an LP label assignment.

    1. Intra-domain alignment (``intra_align="coral"``): the source is mapped with
       :func:`coral_map`; ``"raw"`` skips it (EasyTL(c) in the paper).
    2. Class centres :math:`\mu_c` = mean of the (aligned) source samples of class ``c``;
       :math:`D_{tc} = \|x^t - \mu_c\|` (``distance="euclidean"``, the paper's default; or
       ``"sqeuclidean"``).
    3. Intra-domain programming (:func:`intra_domain_programming`): target labels are the
       row-wise argmax of the LP solution.

    EasyTL is non-parametric and has no classifier: ``base_estimator`` is accepted for
    interface uniformity with the rest of the library and **ignored**. ``predict(X)`` solves
    the LP with ``X`` as the target set (so predictions on the fitted target are the
    transductive labels; other inputs get the LP assignment of that batch).

    Parameters
    ----------
    base_estimator : str or estimator, default="1nn"
        Ignored (see above).
    intra_align : {"coral", "raw"}, default="coral"
    distance : {"euclidean", "sqeuclidean"}, default="euclidean"
    random_state : int, RandomState or None, default=None
        Unused (EasyTL is deterministic); kept for the common interface.

    Attributes
    ----------
    centers_ : ndarray of shape (C, d)
        Class centres of the aligned source.
    target_assignment_ : ndarray of shape (n_t, C)
        LP solution on the fitted target.

    References
    ----------
    J. Wang, Y. Chen, H. Yu, M. Huang, Q. Yang. Easy Transfer Learning By Exploiting
    Intra-domain Structures. IEEE ICME 2019 (arXiv:1904.01376).

    Examples
    --------
    >>> import numpy as np
    >>> from transferability.methods import EasyTL
    >>> Xs = np.array([[0.0, 0], [0, 1], [5, 5], [5, 6]]); ys = np.array(["a", "a", "b", "b"])
    >>> EasyTL(intra_align="raw").fit_domains(Xs, ys, Xs + 0.5).predict(Xs + 0.5).tolist()
    ['a', 'a', 'b', 'b']
    """

    transductive = True
    uses_base_estimator = False

    _parameter_constraints: dict = {
        **BaseAdapter._parameter_constraints,
        "intra_align": [StrOptions({"coral", "raw"})],
        "distance": [StrOptions({"euclidean", "sqeuclidean"})],
    }

    def __init__(self, *, base_estimator="1nn", intra_align="coral", distance="euclidean",
                 random_state=None):
        self.base_estimator = base_estimator
        self.intra_align = intra_align
        self.distance = distance
        self.random_state = random_state

    def _fit(self, Xs, ys, Xt, random_state):
        if self.intra_align == "coral":
            Xs = coral_map(Xs, Xt)
        C = len(self.classes_)
        self.centers_ = np.vstack([Xs[ys == c].mean(axis=0) for c in range(C)])
        self.target_assignment_ = intra_domain_programming(self._distances(Xt))

    def _distances(self, X):
        D = sq_distances(X, self.centers_)
        return D if self.distance == "sqeuclidean" else np.sqrt(D)

    def _predict(self, X):
        return np.argmax(intra_domain_programming(self._distances(X)), axis=1)
