"""Transfer Component Analysis (TCA)."""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseAdapter
from ._registry import register
from ._subspace_utils import MMDAdapterMixin


@register("tca")
class TCA(MMDAdapterMixin, BaseAdapter):
    r"""Transfer Component Analysis (Pan et al., IEEE TNNLS 2011).

    Learns ``k`` transfer components that minimise the MMD between the source and target means
    in the embedded space while preserving the data variance. Published problem (unsupervised
    TCA, eq. (9)-(10)), with samples as rows and ``K`` the kernel matrix of the stacked
    domains::

        min_A tr(A' K L K A) + lam tr(A'A)   s.t.  A' K H K A = I
        (K L K + lam I) a = phi K H K a,   the k smallest phi

    ``L = e0 e0' / ||e0 e0'||_F`` with ``e0 = [1/ns; -1/nt]`` (the MMD matrix, scaled as in the
    authors' code), ``H = I - 11'/n``. For ``kernel="primal"`` ``K`` is replaced by the
    features (a linear projection ``Z = XA``); ``linear``/``rbf`` solve the kernelised
    ``n x n`` problem and embed out-of-sample rows with the kernel against the training rows.

    The pair is solved symmetric-definite, as the ``k`` largest eigenvalues of
    ``(K H K, K L K + lam I)`` with :func:`scipy.linalg.eigh` (never ``eigh`` on the
    non-symmetric ``(KLK + lam I)^-1 KHK``); primal ``d x d`` when ``d <= n``. Embedded samples
    are L2-normalised (authors' code) and the base estimator is trained on the embedded source.

    TCA is the first iteration of :class:`~transferability.methods.JDA`.

    Parameters
    ----------
    n_components : int, default=100
        ``k`` (the JDA paper's setting for its TCA column: 100).
    lam : float, default=1.0
        ``lambda > 0``, the trade-off (``mu`` in the TCA paper; 1.0 there and in the JDA paper's
        Office-Caltech runs).
    kernel : {"primal", "linear", "rbf"}, default="primal"
    gamma : float, default=1.0
        RBF kernel ``exp(-gamma ||x - y||^2)``.
    normalize_input : bool, default=True
        L2-normalise every sample first (authors' code).
    normalize_embedding : bool, default=True
        L2-normalise every embedded sample (authors' code).
    base_estimator : str or estimator, default="1nn"
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    components_ : ndarray of shape (n_features, k) (primal) or (n_train, k) (kernels)
        ``A``, unit-norm columns.
    eigenvalues_ : ndarray of shape (k,)
        ``phi``, ascending.
    embedding_ : MMDEmbedding
    estimator_ : fitted base estimator

    References
    ----------
    S. J. Pan, I. W. Tsang, J. T. Kwok, Q. Yang. Domain Adaptation via Transfer Component
    Analysis. IEEE Transactions on Neural Networks 22(2), 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from transferability.methods import TCA
    >>> rng = np.random.RandomState(0)
    >>> Xs = np.vstack([rng.randn(30, 5) + [4, 0, 0, 0, 0], rng.randn(30, 5) + [0, 4, 0, 0, 0]])
    >>> ys = np.repeat(["a", "b"], 30)
    >>> Xt = Xs * 1.1 + 0.3
    >>> model = TCA(n_components=3).fit_domains(Xs, ys, Xt)
    >>> float((model.predict(Xt) == ys).mean()) > 0.9
    True
    """

    _parameter_constraints: dict = {
        **BaseAdapter._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "lam": [Interval(Real, 0, None, closed="neither")],
        "kernel": [StrOptions({"primal", "linear", "rbf"})],
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "normalize_input": ["boolean"],
        "normalize_embedding": ["boolean"],
    }

    def __init__(self, *, n_components=100, lam=1.0, kernel="primal", gamma=1.0,
                 normalize_input=True, normalize_embedding=True, base_estimator="1nn",
                 random_state=None):
        self.n_components = n_components
        self.lam = lam
        self.kernel = kernel
        self.gamma = gamma
        self.normalize_input = normalize_input
        self.normalize_embedding = normalize_embedding
        self.base_estimator = base_estimator
        self.random_state = random_state

    def _fit(self, Xs, ys, Xt, random_state):
        self._fit_mmd(Xs, ys, Xt, n_iter=1, conditional=False)
