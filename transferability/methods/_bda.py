"""Balanced Distribution Adaptation (BDA) and its weighted variant (W-BDA)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseAdapter
from ._registry import register
from ._subspace_utils import MMDAdapterMixin


@register("bda")
class BDA(MMDAdapterMixin, BaseAdapter):
    r"""Balanced Distribution Adaptation (Wang et al., ICDM 2017).

    JDA with a balance factor ``mu`` between the marginal and the class-conditional MMD::

        M = (1 - mu) C M0 + mu sum_{c=0}^{C-1} Mc,   M <- M / ||M||_F
        (X'MX + lam I) A = X'HX A Phi,   the k smallest Phi

    (same notation as :class:`~transferability.methods.JDA`; ``mu = 0.5`` gives exactly JDA's
    ``M`` up to scale, ``mu = 0`` is TCA). ``M`` is **rebuilt from scratch** at every
    iteration (the authors' code lets ``M0`` drift across iterations; not copied).

    ``mu="auto"`` (the default) estimates the balance factor as the paper does (Sec. III-C):
    from the proxy A-distances of the marginal distributions, :math:`d_M` (source vs target),
    and of the class-conditional ones, :math:`d_c` (source class ``c`` vs the target samples
    pseudo-labelled ``c``),

    .. math:: \hat\mu = 1 - \frac{d_M}{d_M + \bar d_C}
              = \frac{\bar d_C}{d_M + \bar d_C},

    re-estimated at every iteration on the embedded samples of the previous iteration, with the
    pseudo-labels of that iteration (the authors' ``estimate_mu``; the first iteration has no
    pseudo-labels and uses the marginal term only). The A-distances are the authors' (training
    error of a linear SVM, classes averaged), computed by
    :func:`~transferability.methods._meda.meda_adaptive_factor`, which MEDA uses for the same
    factor. A number fixes ``mu`` for every iteration (``0.5``: JDA up to scale).

    **W-BDA** (``weighted=True``) handles class imbalance: the target part of ``Mc`` is
    weighted by the class-prior ratio ``alpha_c = P_t(c) / P_s(c)`` (target prior from the
    pseudo-labels), i.e. ``ec`` is ``1/ns_c`` on source samples of class ``c`` and
    ``-alpha_c / nt_c`` on target samples pseudo-labelled ``c``. Unlike the authors' W-BDA code,
    which then forces ``mu = 1`` and seeds the pseudo-labels with a 1-NN on the raw features,
    ``mu`` is kept and the first iteration uses the marginal term only (as BDA does).

    Parameters
    ----------
    n_components : int, default=100
        ``k``.
    lam : float, default=1.0
        ``lambda > 0``.
    mu : "auto" or float in [0, 1], default="auto"
        Balance factor. ``"auto"``: estimated at every iteration from the A-distances (see
        above); a number: fixed (0.5 weighs both terms equally).
    weighted : bool, default=False
        W-BDA class-prior weighting.
    n_iter : int, default=10
        Pseudo-labelling iterations ``T``.
    kernel : {"primal", "linear", "rbf"}, default="primal"
    gamma : float, default=1.0
    normalize_input : bool, default=True
    normalize_embedding : bool, default=True
    base_estimator : str or estimator, default="1nn"
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    components_, eigenvalues_, embedding_, estimator_, pseudo_labels_
        As in :class:`~transferability.methods.JDA`.
    mu_history_ : list of float
        ``mu`` used at each iteration (the estimates with ``mu="auto"``).

    References
    ----------
    J. Wang, Y. Chen, S. Hao, W. Feng, Z. Shen. Balanced Distribution Adaptation for Transfer
    Learning. ICDM 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from transferability.methods import BDA
    >>> rng = np.random.RandomState(0)
    >>> Xs = np.vstack([rng.randn(30, 5) + [4, 0, 0, 0, 0], rng.randn(30, 5) + [0, 4, 0, 0, 0]])
    >>> ys = np.repeat(["a", "b"], 30)
    >>> Xt = Xs * 1.1 + 0.3
    >>> model = BDA(n_components=3, n_iter=3, weighted=True).fit_domains(Xs, ys, Xt)
    >>> float((model.predict(Xt) == ys).mean()) > 0.9
    True
    """

    _parameter_constraints: dict = {
        **BaseAdapter._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "lam": [Interval(Real, 0, None, closed="neither")],
        "mu": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="both")],
        "weighted": ["boolean"],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "kernel": [StrOptions({"primal", "linear", "rbf"})],
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "normalize_input": ["boolean"],
        "normalize_embedding": ["boolean"],
    }

    def __init__(self, *, n_components=100, lam=1.0, mu="auto", weighted=False, n_iter=10,
                 kernel="primal", gamma=1.0, normalize_input=True, normalize_embedding=True,
                 base_estimator="1nn", random_state=None):
        self.n_components = n_components
        self.lam = lam
        self.mu = mu
        self.weighted = weighted
        self.n_iter = n_iter
        self.kernel = kernel
        self.gamma = gamma
        self.normalize_input = normalize_input
        self.normalize_embedding = normalize_embedding
        self.base_estimator = base_estimator
        self.random_state = random_state

    def _fit(self, Xs, ys, Xt, random_state):
        if isinstance(self.mu, str):
            mu = self._auto_mu(ys, Xs.shape[0], random_state)
        else:
            mu = float(self.mu)
        self._fit_mmd(Xs, ys, Xt, n_iter=int(self.n_iter), conditional=True, mu=mu,
                      weighted=bool(self.weighted))
        self.mu_history_ = list(mu.history) if callable(mu) else [mu] * len(self.pseudo_labels_)
        return self

    def _auto_mu(self, ys, ns, random_state):
        """``mu="auto"``: a callable for :func:`~._subspace_utils.fit_mmd_adapter` that gives 0
        before the first iteration (no pseudo-labels yet) and then the A-distance estimate on the
        previous iteration's embedded rows and pseudo-labels; it keeps the values in ``history``."""
        from ._meda import meda_adaptive_factor

        seed = int(random_state.randint(np.iinfo(np.int32).max))
        n_classes = len(self.classes_)

        def mu(Z, yt_pseudo):
            value = 0.0 if yt_pseudo is None else meda_adaptive_factor(
                Z[:ns], ys, Z[ns:], yt_pseudo, n_classes, random_state=seed)
            mu.history.append(float(value))
            return value

        mu.history = []
        return mu
