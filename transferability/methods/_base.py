"""The one interface every domain-adaptation method implements.

Convention (skada's): one ``X`` carries both domains and ``sample_domain`` says which row is
which (positive = source, negative = target). Target rows' labels are **masked**: only
``sample_domain`` tells the domains apart, so whatever sits in a target row's label slot is never
read (:func:`pack_domains` puts :data:`MASKED_LABEL`, -1, there). Source labels are encoded
first (:class:`~sklearn.preprocessing.LabelEncoder`, any label type, a class called -1
included), so a user's class can never be mistaken for the mask. :meth:`BaseAdapter.fit_domains`
is the two-array shortcut.

Checks happen once, in :class:`BaseAdapter`, before any work: the parameters against the
method's ``_parameter_constraints`` (scikit-learn's declarative constraints, declared next to
each ``__init__``; :meth:`BaseAdapter.check_params`), then the arrays (finite, 2-D, float64,
the same feature count). A method subclasses :class:`BaseAdapter`, declares its constraints, and
implements

- ``_fit(Xs, ys, Xt, random_state)``: validated float64 arrays; ``ys`` holds integer codes
  ``0..C-1`` (methods never see user labels and never assume ``1..C``);
- ``_predict(X)``: integer codes for rows of ``X``.

and ``predict`` maps the codes back to the original labels.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (HasMethods, InvalidParameterError, StrOptions,
                                             validate_parameter_constraints)

from .._vocabulary import BASE_ESTIMATORS
from ..utils.validation import SAFE_EXPONENT, InputError, check_domain, check_labels, check_pair, max_abs

__all__ = ["BaseAdapter", "make_base_estimator", "BASE_ESTIMATORS", "split_domains",
           "pack_domains", "MASKED_LABEL", "check_method_magnitude"]

#: What :func:`pack_domains` puts in the target rows' label slots (skada's convention).
MASKED_LABEL = -1


def make_base_estimator(base_estimator="1nn", random_state=None):
    """Return an unfitted scikit-learn classifier.

    Parameters
    ----------
    base_estimator : {"1nn", "logreg", "linear_svm"} or estimator, default="1nn"
        ``"1nn"``: Euclidean 1-nearest-neighbour; ``"logreg"``: L2 logistic regression
        (C=1, lbfgs, max_iter=2000); ``"linear_svm"``: libsvm's linear SVM, ``SVC(kernel="linear",
        C=1)`` (one-vs-one, as the SA/CORAL reference code's ``svmtrain``; liblinear's ``LinearSVC``
        did not converge in 10,000 iterations on Office-Caltech SURF and took 170 s). An
        estimator object is cloned.
    random_state : int, RandomState or None
        Passed to estimators that take one.
    """
    if isinstance(base_estimator, str):
        name = base_estimator.lower()
        if name == "1nn":
            return KNeighborsClassifier(n_neighbors=1, algorithm="brute")
        if name == "logreg":
            from sklearn.linear_model import LogisticRegression

            return LogisticRegression(C=1.0, max_iter=2000, random_state=_seed(random_state))
        if name == "linear_svm":
            from sklearn.svm import SVC

            return SVC(kernel="linear", C=1.0, random_state=_seed(random_state))
        raise InputError(
            f"unknown base estimator '{base_estimator}'; choose one of {', '.join(BASE_ESTIMATORS)}"
        )
    if not hasattr(base_estimator, "fit") or not hasattr(base_estimator, "predict"):
        raise InputError("base_estimator must be a name or a scikit-learn classifier")
    return clone(base_estimator)


def check_method_magnitude(Xs, Xt) -> None:
    """Refuse (one-line :class:`InputError`) a pair whose largest feature lies outside
    ``[2**-128, 2**128]``: the methods' squared distances, kernels and covariances would overflow
    to inf or underflow to 0 (solvers then fail on inf/NaN, or bandwidths become 0). The
    divergence measures rescale such a pair exactly instead (their values are homogeneous);
    a method's outcome is not (a base estimator's regularisation depends on the scale), so the
    user rescales. An all-zero pair passes (nothing overflows)."""
    m = max(max_abs(Xs), max_abs(Xt))
    if m == 0.0:
        return
    exp = int(np.frexp(m)[1])
    if exp > SAFE_EXPONENT:
        raise InputError(f"features reach {m:.1e}: the methods' squared distances and covariances overflow "
                         "float64; divide the features by a common factor first")
    if exp < -SAFE_EXPONENT:
        raise InputError(f"the largest feature is {m:.1e}: the methods' squared distances underflow to 0; "
                         "multiply the features by a common factor first")


def label_repr(value) -> str:
    """``repr`` of one label, numpy scalars shown as Python ones (``'a'``, not ``np.str_('a')``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _seed(random_state):
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return random_state
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def split_domains(X, y=None, sample_domain=None):
    """Split a skada-style ``(X, y, sample_domain)`` into ``(Xs, ys, Xt)``, validated once.

    Rows with ``sample_domain > 0`` are the source, rows with ``sample_domain < 0`` the target;
    the target rows' entries of ``y`` are never read (masked). Returns float64 arrays and the
    source labels as given.
    """
    X = check_domain(X, name="X", min_samples=2, dtype=np.float64)
    if sample_domain is None:
        raise InputError("sample_domain is required: positive for source rows, negative for target rows")
    sd = np.asarray(sample_domain)
    if sd.ndim == 2 and 1 in sd.shape:
        sd = sd.ravel()
    if sd.ndim != 1 or sd.dtype.kind not in "iuf" or (sd.dtype.kind == "f" and not np.isfinite(sd).all()):
        raise InputError("sample_domain must be a vector of numbers: positive for source rows, "
                         "negative for target rows")
    if sd.shape[0] != X.shape[0]:
        raise InputError(f"sample_domain has {sd.shape[0]} entries for {X.shape[0]} samples")
    if np.any(sd == 0):
        raise InputError(f"sample_domain has {int(np.sum(sd == 0))} zero entries; use a positive "
                         "number for source rows and a negative one for target rows")
    src, tgt = sd > 0, sd < 0
    if not src.any():
        raise InputError("no source samples (sample_domain > 0)")
    if not tgt.any():
        raise InputError("no target samples (sample_domain < 0)")
    if y is None:
        raise InputError("source labels y are required")
    y = np.asarray(y)
    if y.ndim == 2 and 1 in y.shape:
        y = y.ravel()
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise InputError(f"y: {y.shape[0] if y.ndim else 0} labels for {X.shape[0]} samples (lengths must match)")
    ys = check_labels(y[src], int(src.sum()), name="source labels")
    return X[src], ys, X[tgt]


def pack_domains(X_source, y_source, X_target):
    """Inverse of :func:`split_domains`: stack the domains, target labels masked.

    Returns ``(X, y, sample_domain)`` with ``sample_domain`` 1 on source rows and -1 on target
    rows, and :data:`MASKED_LABEL` (-1) in the target rows' label slots: ``y`` keeps the source
    labels' numeric dtype, or is an object array when the labels are not numbers. The mask is
    never mistaken for a class (a source class called -1 included): :meth:`BaseAdapter.fit`
    reads only the rows that ``sample_domain`` marks as source.
    """
    Xs, Xt = check_pair(X_source, X_target, min_samples=1)
    ys = check_labels(y_source, Xs.shape[0], name="source labels")
    X = np.vstack([Xs, Xt.astype(Xs.dtype, copy=False)])
    if ys.dtype.kind in "iuf":
        y = np.concatenate([ys.astype(np.result_type(ys.dtype, np.int8), copy=False),
                            np.full(Xt.shape[0], MASKED_LABEL)])
    else:
        y = np.empty(X.shape[0], dtype=object)
        y[: Xs.shape[0]] = ys
        y[Xs.shape[0]:] = MASKED_LABEL
    sd = np.concatenate([np.ones(Xs.shape[0], dtype=int), -np.ones(Xt.shape[0], dtype=int)])
    return X, y, sd


class BaseAdapter(ClassifierMixin, BaseEstimator):
    """Base class: parameter and input checks (once), label encoding, domain splitting.

    Subclasses declare ``_parameter_constraints`` (scikit-learn's format: parameter name ->
    list of constraints, e.g. ``[Interval(Integral, 1, None, closed="left")]``), extending
    :attr:`BaseAdapter._parameter_constraints` (``base_estimator``, ``random_state``); every
    ``__init__`` parameter has an entry. They are checked by :meth:`check_params` at the start
    of :meth:`fit` and :meth:`fit_domains`, before any array is touched.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Source classes, in :class:`~sklearn.preprocessing.LabelEncoder` order (set by ``fit``).
    n_features_in_ : int
        Number of features seen in ``fit``.
    """

    #: registry name, set by :func:`transferability.methods.register`
    name: str = ""
    #: True when predictions are only defined for the target seen in ``fit``
    transductive: bool = False
    #: False for methods that learn their own classifier and ignore ``base_estimator``
    uses_base_estimator: bool = True

    _parameter_constraints: dict = {
        "base_estimator": [StrOptions(set(BASE_ESTIMATORS)), HasMethods(["fit", "predict"])],
        "random_state": ["random_state"],
    }

    def check_params(self):
        """Check every parameter against ``_parameter_constraints``; return ``self``.

        Raises
        ------
        InputError
            One line naming the method, the parameter, the constraint and the value, e.g.
            ``The 'n_components' parameter of method 'tca' must be an int in the range
            [1, inf). Got -3 instead.``
        """
        params = self.get_params(deep=False)
        label = f"method '{self.name}'" if self.name else type(self).__name__
        try:
            validate_parameter_constraints(self._parameter_constraints, params, caller_name=label)
        except InvalidParameterError as exc:
            raise InputError(str(exc).splitlines()[0]) from None
        for key, constraints in self._parameter_constraints.items():
            value = params.get(key)
            if isinstance(value, (bool, np.bool_)) and not any(
                    c == "boolean" or c is bool for c in constraints) and any(
                    getattr(c, "type", None) is Integral for c in constraints):
                raise InputError(f"The '{key}' parameter of {label} must be an int, not a bool. "
                                 f"Got {value!r} instead.")
        return self

    def fit(self, X, y=None, *, sample_domain=None):
        """Fit on skada-style ``(X, y, sample_domain)``; target rows' labels are never read."""
        self.check_params()
        Xs, ys, Xt = split_domains(X, y, sample_domain)
        return self._fit_checked(Xs, ys, Xt)

    def fit_domains(self, X_source, y_source, X_target):
        """Fit on a labelled source and an unlabelled target (two-array form)."""
        self.check_params()
        Xs, Xt = check_pair(X_source, X_target, min_samples=1, dtype=np.float64)
        ys = check_labels(y_source, Xs.shape[0], name="source labels")
        return self._fit_checked(Xs, ys, Xt)

    def _fit_checked(self, Xs, ys, Xt):
        """Fit on arrays already validated (float64, finite, same feature count) and parameters
        already checked: encode the source labels and call ``_fit``. The evaluation runner
        calls this after validating a pair once for every method."""
        check_method_magnitude(Xs, Xt)
        self._encoder = LabelEncoder().fit(ys)
        self.classes_ = self._encoder.classes_
        if len(self.classes_) < 2:
            raise InputError("source labels must contain at least two classes, got "
                             f"{len(self.classes_)} ({label_repr(self.classes_[0])})")
        self.n_features_in_ = Xs.shape[1]
        self._fit(Xs, self._encoder.transform(ys), Xt, check_random_state(self.random_state))
        return self

    def predict(self, X):
        if not hasattr(self, "classes_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit first")
        X = check_domain(X, name="X", min_samples=1, dtype=np.float64)
        if X.shape[1] != self.n_features_in_:
            raise InputError(f"X has {X.shape[1]} features, the method was fitted on {self.n_features_in_}")
        codes = np.asarray(self._predict(X), dtype=int)
        return self.classes_[codes]
    # -- helpers for subclasses -------------------------------------------------------------
    def _make_base(self):
        return make_base_estimator(getattr(self, "base_estimator", "1nn"),
                                   random_state=getattr(self, "random_state", None))

    def _fit(self, Xs, ys, Xt, random_state):  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict(self, X):  # pragma: no cover - abstract
        raise NotImplementedError
