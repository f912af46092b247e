"""The one interface every domain-adaptation method implements.

Convention (skada's): one ``X`` carries both domains and ``sample_domain`` says which row is
which (positive = source, negative = target); target labels, if passed, are ignored (they are
masked). :meth:`BaseAdapter.fit_domains` is the two-array shortcut.

A method subclasses :class:`BaseAdapter` and implements

- ``_fit(Xs, ys, Xt, random_state)``: ``ys`` holds integer codes ``0..C-1`` (labels are encoded
  here, so methods never see user labels and never assume ``1..C``);
- ``_predict(X)``: integer codes for rows of ``X``.

and ``predict`` maps the codes back to the original labels.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state

from ..utils.validation import InputError, check_domain, check_labels

__all__ = ["BaseAdapter", "make_base_estimator", "BASE_ESTIMATORS", "split_domains",
           "pack_domains"]

BASE_ESTIMATORS = ("1nn", "logreg", "linear_svm")


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


def _seed(random_state):
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return random_state
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def split_domains(X, y=None, sample_domain=None):
    """Split a skada-style ``(X, y, sample_domain)`` into ``(Xs, ys, Xt)``."""
    X = check_domain(X, name="X", min_samples=2)
    if sample_domain is None:
        raise InputError("sample_domain is required: positive for source rows, negative for target rows")
    sd = np.asarray(sample_domain).ravel()
    if sd.shape[0] != X.shape[0]:
        raise InputError(f"sample_domain has {sd.shape[0]} entries for {X.shape[0]} samples")
    src, tgt = sd > 0, sd < 0
    if not src.any():
        raise InputError("no source samples (sample_domain > 0)")
    if not tgt.any():
        raise InputError("no target samples (sample_domain < 0)")
    if y is None:
        raise InputError("source labels y are required")
    y = check_labels(y, X.shape[0], name="y")
    return X[src], y[src], X[tgt]


def pack_domains(X_source, y_source, X_target):
    """Inverse of :func:`split_domains`: stack the domains, target labels masked with the first source label."""
    Xs = check_domain(X_source, name="source", min_samples=1)
    Xt = check_domain(X_target, name="target", min_samples=1)
    if Xs.shape[1] != Xt.shape[1]:
        raise InputError(
            f"source has {Xs.shape[1]} features but target has {Xt.shape[1]}; "
            "a pair needs the same feature space"
        )
    ys = check_labels(y_source, Xs.shape[0], name="source labels")
    X = np.vstack([Xs, Xt.astype(Xs.dtype, copy=False)])
    y = np.concatenate([ys, np.repeat(ys[:1], Xt.shape[0])])
    sd = np.concatenate([np.ones(Xs.shape[0], dtype=int), -np.ones(Xt.shape[0], dtype=int)])
    return X, y, sd


class BaseAdapter(ClassifierMixin, BaseEstimator):
    """Base class: label encoding, domain splitting, validation, determinism.

    Attributes (after ``fit``)
    --------------------------
    classes_ : ndarray of shape (n_classes,)
        Source classes, in :class:`~sklearn.preprocessing.LabelEncoder` order.
    n_features_in_ : int
    """

    #: registry name, set by :func:`transferability.methods.register`
    name: str = ""
    #: True when predictions are only defined for the target seen in ``fit``
    transductive: bool = False

    def fit(self, X, y=None, *, sample_domain=None):
        Xs, ys, Xt = split_domains(X, y, sample_domain)
        return self._fit_split(Xs, ys, Xt)

    def fit_domains(self, X_source, y_source, X_target):
        """Fit on a labelled source and an unlabelled target (two-array form)."""
        X, y, sd = pack_domains(X_source, y_source, X_target)
        return self.fit(X, y, sample_domain=sd)

    def _fit_split(self, Xs, ys, Xt):
        self._encoder = LabelEncoder().fit(ys)
        self.classes_ = self._encoder.classes_
        if len(self.classes_) < 2:
            raise InputError("source labels must contain at least two classes")
        self.n_features_in_ = Xs.shape[1]
        Xs = np.asarray(Xs, dtype=np.float64)
        Xt = np.asarray(Xt, dtype=np.float64)
        self._fit(Xs, self._encoder.transform(ys), Xt, check_random_state(self.random_state))
        return self

    def predict(self, X):
        X = check_domain(X, name="X", min_samples=1)
        if X.shape[1] != getattr(self, "n_features_in_", X.shape[1]):
            raise InputError(f"X has {X.shape[1]} features, the method was fitted on {self.n_features_in_}")
        if not hasattr(self, "classes_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit first")
        codes = np.asarray(self._predict(np.asarray(X, dtype=np.float64)), dtype=int)
        return self.classes_[codes]

    # -- helpers for subclasses -------------------------------------------------------------
    def _make_base(self):
        return make_base_estimator(getattr(self, "base_estimator", "1nn"),
                                   random_state=getattr(self, "random_state", None))

    def _fit(self, Xs, ys, Xt, random_state):  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict(self, X):  # pragma: no cover - abstract
        raise NotImplementedError
