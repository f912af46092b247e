"""Joint Distribution Adaptation (JDA)."""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseAdapter
from ._registry import register
from ._subspace_utils import MMDAdapterMixin


@register("jda")
class JDA(MMDAdapterMixin, BaseAdapter):
    r"""Joint Distribution Adaptation (Long et al., ICCV 2013).

    Finds a projection ``A`` that matches both the marginal and the class-conditional
    distributions (MMD of the class means, target classes from pseudo-labels), iterating
    pseudo-labelling ``n_iter`` times. With samples as rows::

        min_A tr(A' X'MX A) + lam ||A||_F^2   s.t.  A' X'HX A = I
        M = C M0 + sum_{c=0}^{C-1} Mc,   M <- M / ||M||_F
        (X'MX + lam I) A = X'HX A Phi,   the k smallest eigenvalues Phi

    ``M0 = e0 e0'`` with ``e0 = [1/ns; -1/nt]``; ``Mc = ec ec'`` with ``1/ns_c`` on source
    samples of class ``c`` and ``-1/nt_c`` on target samples pseudo-labelled ``c`` (a class that
    no target sample is pseudo-labelled with is left out of the sum); ``H = I - 11'/n``. The
    factor ``C`` on ``M0`` and the Frobenius scaling are the authors' code's, so ``lam`` has the
    paper's scale. Embedded samples ``Z = XA`` are L2-normalised and the base estimator is
    trained on the embedded source; iteration 1 (no pseudo-labels) is TCA.

    Solved as the symmetric-definite pair ``(X'HX, X'MX + lam I)`` with
    :func:`scipy.linalg.eigh` (see :func:`~transferability.methods._subspace_utils.mmd_embedding`):
    a ``d x d`` problem in the primal case (``r x r``, ``r = rank(X)``, when ``d > n``) and ``M``
    never formed.

    Parameters
    ----------
    n_components : int, default=100
        ``k``, the embedding dimension (paper: 100).
    lam : float, default=1.0
        ``lambda > 0`` (paper: 1.0 on Office-Caltech, 0.1 on digits, COIL and PIE).
    n_iter : int, default=10
        ``T``, pseudo-labelling iterations (paper: 10).
    kernel : {"primal", "linear", "rbf"}, default="primal"
        ``primal``: linear projection of the features (paper's setting). ``linear``/``rbf``:
        kernelised ``n x n`` problem; out-of-sample points are embedded with the kernel against
        the training samples.
    gamma : float, default=1.0
        RBF kernel ``exp(-gamma ||x - y||^2)``.
    normalize_input : bool, default=True
        L2-normalise every sample before the projection (authors' code).
    normalize_embedding : bool, default=True
        L2-normalise every embedded sample (authors' code; needed to reproduce the paper).
    base_estimator : str or estimator, default="1nn"
        Used for the pseudo-labels and the final predictions (paper: 1-NN).
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    components_ : ndarray of shape (n_features, k) (primal) or (n_train, k) (kernels)
        ``A``, unit-norm columns.
    eigenvalues_ : ndarray of shape (k,)
        ``Phi`` of the published problem, ascending.
    pseudo_labels_ : list of ndarray
        Target pseudo-label codes after each iteration.
    estimator_ : fitted base estimator
    embedding_ : MMDEmbedding
        The fitted projection (used by :meth:`transform`).

    References
    ----------
    M. Long, J. Wang, G. Ding, J. Sun, P. S. Yu. Transfer Feature Learning with Joint
    Distribution Adaptation. ICCV 2013.

    Examples
    --------
    >>> from transferability.methods import JDA
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> Xs = np.vstack([rng.randn(30, 5) + [4, 0, 0, 0, 0], rng.randn(30, 5) + [0, 4, 0, 0, 0]])
    >>> ys = np.repeat(["a", "b"], 30)
    >>> Xt = Xs * 1.1 + 0.3
    >>> model = JDA(n_components=3, n_iter=3).fit_domains(Xs, ys, Xt)
    >>> float((model.predict(Xt) == ys).mean()) > 0.9
    True
    """

    _parameter_constraints: dict = {
        **BaseAdapter._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "lam": [Interval(Real, 0, None, closed="neither")],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "kernel": [StrOptions({"primal", "linear", "rbf"})],
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "normalize_input": ["boolean"],
        "normalize_embedding": ["boolean"],
    }

    def __init__(self, *, n_components=100, lam=1.0, n_iter=10, kernel="primal", gamma=1.0,
                 normalize_input=True, normalize_embedding=True, base_estimator="1nn",
                 random_state=None):
        self.n_components = n_components
        self.lam = lam
        self.n_iter = n_iter
        self.kernel = kernel
        self.gamma = gamma
        self.normalize_input = normalize_input
        self.normalize_embedding = normalize_embedding
        self.base_estimator = base_estimator
        self.random_state = random_state

    def _fit(self, Xs, ys, Xt, random_state):
        self._fit_mmd(Xs, ys, Xt, n_iter=int(self.n_iter), conditional=True)
