"""scikit-learn steps: a transferability gate and a classifier that adapts with the recommended method.

Both follow skada's convention, so they combine with skada's steps and with scikit-learn's
``Pipeline``, ``GridSearchCV`` and cross-validation: one ``X`` holds the source rows and the
target rows, ``sample_domain`` says which row is which (positive = source, negative = target),
and the target rows' labels are masked (never read).

- :class:`TransferabilityGate`: a transformer for the start of a ``Pipeline``. At ``fit`` it
  asks :func:`transferability.assess` whether the source rows are worth transferring to the
  target rows; when not, it raises :class:`NotWorthTransferring`, warns, or marks the pipeline
  "target only". It passes ``X`` on unchanged.
- :class:`AutoAdapter`: a classifier. At ``fit`` it asks :func:`transferability.recommend`
  which method to run and fits that method on the labelled source rows and the unlabelled
  target rows; ``predict`` and ``score`` work as for any classifier. With
  ``target_labels="y"``, the target rows whose label in ``y`` is not masked are a few labelled
  target rows that verify the choice (they only score the methods; no method trains on them).

``sample_domain`` reaches the steps in three ways:

- directly, outside a ``Pipeline``: ``AutoAdapter().fit(X, y, sample_domain=sd)``;
- through scikit-learn's metadata routing (``sklearn.set_config(enable_metadata_routing=True)``):
  both steps request ``sample_domain`` for ``fit`` by default, as skada's steps do, so
  ``pipeline.fit(X, y, sample_domain=sd)`` routes it to each of them;
- not at all, when the target rows' labels are masked with ``-1`` (or ``NaN`` for float
  labels): the rows with a masked label are the target, the others the source (skada's rule).
  A source class that is itself called ``-1`` then needs an explicit ``sample_domain``.

Page: ``docs/sklearn.md``.
"""

from __future__ import annotations

import os
import warnings
from numbers import Integral, Real

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (HasMethods, Interval, InvalidParameterError, StrOptions,
                                             validate_parameter_constraints)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from transferability.utils.validation import InputError

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - depends on the installed scikit-learn
    raise ImportError(f"transferability.sklearn needs scikit-learn >= 1.6 (validate_data, __sklearn_tags__); "
                      f"found {sklearn.__version__}") from None

__all__ = ["TransferabilityGate", "AutoAdapter", "NotWorthTransferring", "TransferabilityWarning"]

#: skada's domain labels when ``sample_domain`` is inferred from masked labels
SOURCE_DOMAIN, TARGET_DOMAIN = 1, -2
#: skada's masked target label (classification); float labels may use NaN instead
MASKED_LABEL = -1

_BASE_ESTIMATORS = ("1nn", "logreg", "linear_svm")
_MODELS = [None, str, os.PathLike, HasMethods(["model"])]


# -- errors and warnings -----------------------------------------------------------------------------
class NotWorthTransferring(Exception):
    """Raised by :class:`TransferabilityGate` (``on_fail="raise"``) when the pair fails the gate.

    Attributes
    ----------
    score : float or None
        The EasyTransferability score (None when the learners abstained).
    threshold : float
        The gate's threshold.
    label_equivalent : dict or None
        The predicted label-equivalent value (``"text"`` is its sentence).
    reasons : list of str
        Why the gate closed (the score against the threshold, abstentions, flags).
    assessment : Assessment
        The full answer of :func:`transferability.assess`.
    """

    def __init__(self, message, *, score=None, threshold=None, label_equivalent=None, reasons=(),
                 assessment=None):
        super().__init__(message)
        self.score, self.threshold = score, threshold
        self.label_equivalent, self.reasons, self.assessment = label_equivalent, list(reasons), assessment

    def __reduce__(self):  # keyword-only fields survive pickling (joblib workers, users' pickles)
        return (_rebuild_error, (type(self), self.args[0], self.__dict__))


def _rebuild_error(cls, message, state):
    return cls(message, **state)


class TransferabilityWarning(UserWarning):
    """Issued by :class:`TransferabilityGate` (``on_fail="warn"`` or ``"target_only"``) when the
    pair fails the gate, and by :class:`AutoAdapter` when ``recommend`` names no method."""


class _ParameterError(InputError, InvalidParameterError):
    """A bad constructor parameter: one line, an :class:`InputError` for this library and an
    ``InvalidParameterError`` for scikit-learn (``GridSearchCV``, ``check_estimator``)."""


# -- helpers -----------------------------------------------------------------------------------------
def _check_params(est):
    try:
        validate_parameter_constraints(est._parameter_constraints, est.get_params(deep=False),
                                       caller_name=type(est).__name__)
    except InvalidParameterError as exc:
        raise _ParameterError(str(exc).splitlines()[0]) from None


def _seed(random_state) -> int:
    """An int seed for the learners (which take ints) from an int, a RandomState or None."""
    if isinstance(random_state, (Integral, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _masked(y) -> np.ndarray:
    """Rows whose label is masked: ``-1`` (any label type) or ``NaN`` / ``None``."""
    y = np.asarray(y)
    if y.dtype.kind == "f":
        return np.isnan(y) | (y == MASKED_LABEL)
    if y.dtype.kind in "iub":
        return y == MASKED_LABEL
    return np.array([v is None or (isinstance(v, float) and np.isnan(v)) or
                     (isinstance(v, (Integral, Real)) and not isinstance(v, bool) and v == MASKED_LABEL)
                     for v in y.ravel()], dtype=bool).reshape(y.shape)


def _domains(X, y, sample_domain, *, owner):
    """``(sample_domain, y)``: the given ``sample_domain``, or skada's inference from masked labels."""
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim != 1:
            raise InputError(f"y: labels must be a vector, got shape {y.shape}")
        if y.shape[0] != X.shape[0]:
            raise InputError(f"y: {y.shape[0]} labels for {X.shape[0]} samples (lengths must match)")
    if sample_domain is not None:
        return sample_domain, y
    if y is None:
        raise InputError(f"{owner} needs sample_domain (positive for source rows, negative for target rows) "
                         f"or labels y with the target rows masked ({MASKED_LABEL}, or NaN for float labels)")
    mask = _masked(y)
    if not mask.any():
        raise InputError(f"{owner}: no target rows: pass sample_domain (negative for target rows) or mask the "
                         f"target rows' labels with {MASKED_LABEL} (NaN for float labels)")
    if mask.all():
        raise InputError(f"{owner}: no source rows: every label is masked ({MASKED_LABEL} or NaN)")
    return np.where(mask, TARGET_DOMAIN, SOURCE_DOMAIN), y


def _split(X, y, sample_domain, *, owner, labels_required):
    """``(Xs, ys or None, Xt)`` from skada-style inputs (X already validated)."""
    from transferability.methods import split_domains

    if y is None and labels_required:
        raise InputError(f"{owner} requires y to be passed, but the target y is None "
                         "(the source rows' labels; the target rows' are masked)")
    sd, y = _domains(X, y, sample_domain, owner=owner)
    if y is None:
        Xs, _, Xt = split_domains(X, np.zeros(X.shape[0]), sd)  # the placeholder labels are dropped
        return Xs, None, Xt
    return split_domains(X, y, sd)


def _labelled_target_rows(X, y, sample_domain, *, owner):
    """``(rows, labels)`` of the target rows whose label is not masked: ``rows`` their 0-based
    positions among the target rows (the order :func:`_split` keeps), ``labels`` their labels."""
    if sample_domain is None:
        raise InputError(f"{owner}(target_labels='y') needs sample_domain: without it the target rows are the rows "
                         f"whose label is masked, so none can be labelled")
    sd, y = _domains(X, y, sample_domain, owner=owner)
    y_target = np.asarray(y)[np.asarray(sd).ravel() < 0]
    labelled = ~_masked(y_target)
    if not labelled.any():
        raise InputError(f"{owner}(target_labels='y'): no target row has a label (every target entry of y is masked: "
                         f"{MASKED_LABEL} or NaN); give a few target rows their label, or use target_labels=None")
    return np.flatnonzero(labelled), y_target[labelled]


def _dense(X):
    return X.toarray() if hasattr(X, "toarray") else X


def _reasons(result) -> list:
    """Reason strings a result object gives (abstentions, guard verdicts, flags); robust to fields
    the learners add later."""
    d = result.to_dict() if hasattr(result, "to_dict") else dict(vars(result))
    out = []
    for key in ("abstain", "abstention", "reason", "no_signal"):
        if isinstance(d.get(key), str) and d[key]:
            out.append(d[key])
    for key in ("reasons", "notes"):
        if isinstance(d.get(key), (list, tuple)):
            out.extend(str(r) for r in d[key] if r)
    verdict = d.get("verdict") or d.get("guard") or d.get("guards")
    if isinstance(verdict, dict):
        out.extend(r for r in _reasons_of_dict(verdict) if r not in out)
    if d.get("in_distribution") is False:
        out.append("the pair is unlike every pair the learners were trained on (out of distribution)")
    return out


def _reasons_of_dict(d) -> list:
    out = [d[k] for k in ("abstain", "no_signal", "reason") if isinstance(d.get(k), str) and d[k]]
    return out + [str(n) for n in d.get("notes") or () if n]


# The learners, behind one name each (tests replace them with fast stand-ins for scikit-learn's
# estimator checks, which fit dozens of times).
def _assess(X_source, y_source, X_target, **kw):
    from transferability.meta.learners import assess

    return assess(X_source, y_source, X_target, **kw)


def _recommend(X_source, y_source, X_target, **kw):
    from transferability.meta.learners import recommend

    return recommend(X_source, y_source, X_target, **kw)


# -- the gate ----------------------------------------------------------------------------------------
class TransferabilityGate(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Score the pair at ``fit``; stop, warn or mark "target only" when it is not worth transferring.

    Placed first in a ``Pipeline``, on the rows as they come (before any scaling that mixes the
    domains). ``fit`` calls :func:`transferability.assess` on the source rows (with their labels,
    or the label-free model when ``y`` is None) and the target rows. The pair passes when the
    score is above ``threshold``; an abstention of the learners (no score: the target is too
    small to judge, for instance) never passes. ``transform`` returns ``X`` unchanged (same
    values and dtype, validated as a numeric matrix; sparse stays sparse).

    Parameters
    ----------
    k : int, default=10
        The labelling budget per class: the score is P(k* >= k), the probability that the
        transfer is worth at least ``k`` labelled target samples per class.
    threshold : float, default=0.5
        The pair passes when ``score > threshold``.
    on_fail : {"raise", "warn", "target_only"}, default="raise"
        When the pair fails: ``"raise"`` raises :class:`NotWorthTransferring` from ``fit``;
        ``"warn"`` issues a :class:`TransferabilityWarning` and goes on; ``"target_only"`` warns
        too and sets ``target_only_`` to True, the mark that the model should be trained on
        labelled target rows only. A step of a scikit-learn ``Pipeline`` cannot drop rows or
        change ``y``, so every row, source rows included, still passes on unchanged: the step
        that trains must read ``target_only_`` (``docs/sklearn.md`` shows how).
    base_estimator : {"1nn", "logreg", "linear_svm"}, default="1nn"
        The base estimator the transfer would use (a model per base estimator ships).
    preprocess : str, default="none"
        One of :data:`transferability.datasets.PREPROCESSING`: the recipe under which the pair
        is scored (``"sum-zscore"`` for Office-Caltech SURF counts). Only the score uses it;
        ``transform`` never preprocesses.
    models : str, path or EasyTransModels, default=None
        A model directory from ``transferability meta train`` (default: the shipped models).
    random_state : int, RandomState or None, default=0
        Seed of the meta-features' subsampling.

    Attributes
    ----------
    assessment_ : Assessment
        What :func:`transferability.assess` answered.
    score_ : float or None
        ``assessment_.score`` (None when the learners abstained).
    worth_transferring_ : bool
        ``score_ > threshold`` (False on an abstention).
    target_only_ : bool
        True when the pair failed and ``on_fail="target_only"``.
    reasons_ : list of str
        Why the pair failed (empty when it passed).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Defined when ``X`` has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from transferability.datasets import make_demo_pair
    >>> from transferability.methods import pack_domains
    >>> source, target = make_demo_pair(n_source=120, n_target=100, random_state=0)
    >>> X, y, sample_domain = pack_domains(source.X, source.y, target.X)
    >>> gate = TransferabilityGate(threshold=0.5).fit(X, y, sample_domain=sample_domain)
    >>> bool(gate.worth_transferring_), gate.transform(X) is X
    (True, True)
    """

    __metadata_request__fit = {"sample_domain": True}

    _parameter_constraints: dict = {
        "k": [Interval(Integral, 1, None, closed="left")],
        "threshold": [Interval(Real, 0, 1, closed="both")],
        "on_fail": [StrOptions({"raise", "warn", "target_only"})],
        "base_estimator": [StrOptions(set(_BASE_ESTIMATORS))],
        "preprocess": [StrOptions({"none", "zscore", "l2", "sum-zscore", "zscore-source", "zscore-pooled",
                                   "tfidf-svd100"})],
        "models": _MODELS,
        "random_state": ["random_state"],
    }

    def __init__(self, k=10, *, threshold=0.5, on_fail="raise", base_estimator="1nn", preprocess="none",
                 models=None, random_state=0):
        self.k = k
        self.threshold = threshold
        self.on_fail = on_fail
        self.base_estimator = base_estimator
        self.preprocess = preprocess
        self.models = models
        self.random_state = random_state

    def fit(self, X, y=None, sample_domain=None):
        """Score the pair formed by the source rows and the target rows of ``X``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Source rows and target rows, stacked in any order.
        y : array-like of shape (n_samples,), default=None
            Labels; the target rows' entries are never read. None scores with the label-free
            model (then ``sample_domain`` is required).
        sample_domain : array-like of shape (n_samples,), default=None
            Positive for source rows, negative for target rows; None infers it from ``y``'s
            masked entries (``-1``, or ``NaN`` for float labels), as skada does.

        Returns
        -------
        self

        Raises
        ------
        NotWorthTransferring
            With ``on_fail="raise"``, when the pair fails.
        """
        _check_params(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, ensure_min_samples=2)
        Xs, ys, Xt = _split(X, y, sample_domain, owner=type(self).__name__, labels_required=False)
        a = _assess(Xs, ys, Xt, k=self.k, base_estimator=self.base_estimator, preprocess=self.preprocess,
                    models=self.models, random_state=_seed(self.random_state))
        score = a.score
        worth = score is not None and bool(score > self.threshold)
        reasons = [] if worth else self._why(a)
        if not worth:
            le = getattr(a, "label_equivalent", None)
            said = f"score {score:.3f}" if score is not None else "no score"
            text = f" ({le['text']})" if isinstance(le, dict) and le.get("text") else ""
            said_again = [r for r in reasons if r not in text]  # the label-equivalent may say it already
            message = (f"not worth transferring: {said}{text} is not above the gate's threshold "
                       f"{self.threshold:g} (k = {self.k}); {'; '.join(said_again)}")
            if self.on_fail == "raise":
                raise NotWorthTransferring(message, score=score, threshold=self.threshold, label_equivalent=le,
                                           reasons=reasons, assessment=a)
            if self.on_fail == "target_only":
                message += (f"; target only: train on labelled target rows (about {self.k} per class), "
                            "not on the source rows")
            warnings.warn(message, TransferabilityWarning, stacklevel=2)
        self.assessment_ = a
        self.score_ = score
        self.worth_transferring_ = worth
        self.target_only_ = bool(not worth and self.on_fail == "target_only")
        self.reasons_ = reasons
        return self

    def _why(self, a) -> list:
        out = []
        if a.score is None:
            out.append("the learners abstained")
        else:
            out.append(f"P(k* >= {self.k}) = {a.score:.3f} <= {self.threshold:g}")
        return out + [r for r in _reasons(a) if r not in out]

    def transform(self, X):
        """Return ``X`` unchanged (validated: numeric, finite, ``n_features_in_`` columns)."""
        check_is_fitted(self, "assessment_")
        return validate_data(self, X, accept_sparse=True, dtype="numeric", reset=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


# -- the adapter -------------------------------------------------------------------------------------
#: per-domain and source/pooled recipes that AutoAdapter can apply to new rows (tfidf-svd100 fits a
#: TF-IDF and an SVD on the pooled rows and keeps neither, so new rows cannot be mapped)
_ROW_PREPROCESSING = ("none", "zscore", "l2", "sum-zscore", "zscore-source", "zscore-pooled")


class _RowMap:
    """The map :func:`transferability.datasets.preprocess_pair` applies to the *target* rows of the
    fitted pair, kept so that any later rows (treated as target rows) are mapped the same way:
    the target's own statistics for the per-domain recipes, the source's or the pooled rows' for
    ``zscore-source`` / ``zscore-pooled``. Built from the datasets module's own helpers, so both
    stay one computation (tests check the two agree on every recipe)."""

    def __init__(self, mode, Xs, Xt):
        from transferability.datasets._preprocess import _moments
        from transferability.utils.numerics import row_normalize

        self.mode = mode
        self.moments = None
        if mode == "zscore":
            self.moments = _moments(Xt)
        elif mode == "sum-zscore":
            self.moments = _moments(row_normalize(Xt, "sum"))
        elif mode == "zscore-source":
            self.moments = _moments(Xs)
        elif mode == "zscore-pooled":
            self.moments = _moments(np.vstack([Xs, Xt]))

    def __call__(self, X):
        from transferability.datasets._preprocess import _standardise
        from transferability.utils.numerics import row_normalize

        if self.mode == "none":
            return X
        if self.mode == "l2":
            return row_normalize(X, "l2")
        if self.mode == "sum-zscore":
            X = row_normalize(X, "sum")
        return _standardise(np.asarray(X, dtype=np.float64), *self.moments)


def _method_has(name):
    def check(self):
        return hasattr(self.method_, name)  # AttributeError before fit: the method is not known yet

    return check


class AutoAdapter(ClassifierMixin, BaseEstimator):
    """A classifier that runs the domain-adaptation method :func:`transferability.recommend` names.

    ``fit`` splits ``X`` into source and target rows, asks ``recommend`` which method of the
    library to run (from the pair's meta-features; no target label is used), and fits
    that method with ``base_estimator`` on the labelled source rows and the unlabelled target
    rows. When ``recommend`` names no method (it abstained, or no method fits ``budget``),
    ``no_adapt`` is fitted, with a :class:`TransferabilityWarning` that gives the reason.

    With ``target_labels="y"`` the choice is verified on a few labelled target rows: the target
    rows (``sample_domain < 0``) whose entry of ``y`` is **not** masked (``-1``, or ``NaN`` for
    float labels) are the labelled rows, the others stay unlabelled, as in skada's
    semi-supervised data. ``recommend(..., target_labels=...)`` then runs every candidate
    method (with ``budget``: those that fit), scores each on those rows only, keeps the
    zero-label pick unless another method clearly leads it, and this step fits the verified
    pick. Those labels only score the methods: the method is fitted, as without them, on the
    labelled source rows and *all* target rows, unlabelled. The labelled rows travel with their
    rows, so cross-validation splits them with ``X``; every training fold needs at least one.
    With the default ``target_labels=None`` the target rows' entries of ``y`` are never read.

    The method is fitted on the pair preprocessed with ``preprocess`` (the same recipe under
    which ``recommend`` compared the pair with the store), and ``predict`` maps the rows it is
    given as *target* rows: with the target's statistics from ``fit`` for the per-domain
    recipes (``zscore``, ``sum-zscore``; ``l2`` is row-wise), the source's for
    ``zscore-source``, the pooled rows' for ``zscore-pooled``. On the target rows of ``fit``
    this is exactly :func:`transferability.datasets.preprocess_pair`'s target output.

    Parameters
    ----------
    base_estimator : {"1nn", "logreg", "linear_svm"}, default="1nn"
        The classifier the method trains (MEDA and EasyTL learn their own); ``recommend`` uses
        the model of this base estimator.
    budget : float, default=None
        Seconds: rank only methods whose predicted runtime fits.
    preprocess : {"none", "zscore", "l2", "sum-zscore", "zscore-source", "zscore-pooled"}, default="none"
        The recipe of :data:`transferability.datasets.PREPROCESSING` applied before the
        meta-features and before the method (``"none"`` when an earlier ``Pipeline`` step
        already scales the rows). ``tfidf-svd100`` is not offered: put scikit-learn's
        ``TfidfTransformer`` and ``TruncatedSVD`` before this step instead.
    models : str, path or ModelSet, default=None
        A model directory from ``transferability meta train`` (default: the shipped models).
    random_state : int, RandomState or None, default=0
        Seed of the meta-features' subsampling and of the method.
    target_labels : {None, "y"}, default=None
        ``"y"``: the target rows of ``fit`` whose label in ``y`` is not masked are labelled
        target rows that verify the recommendation (see above; ``sample_domain`` is then needed,
        since without it the masked rows *are* the target). ``None``: zero-label, the target
        rows' labels are never read.

    Attributes
    ----------
    recommendation_ : Recommendation
        What :func:`transferability.recommend` answered. With ``target_labels="y"``,
        ``recommendation_.verified`` holds each method's accuracy on the labelled target rows
        with its 95 % Wilson interval, the verified pick, whether it differs from the
        zero-label pick and why, and the k-shot baseline on the same rows (the ``verified``
        object of ``recommend --json``, ``docs/cli.md``); it is None otherwise.
    method_name_ : str
        The method fitted: ``recommendation_.best`` (with ``target_labels="y"``, the verified
        pick), or ``"no_adapt"`` when it is None.
    method_ : BaseAdapter
        The fitted method (:mod:`transferability.methods`).
    classes_ : ndarray of shape (n_classes,)
        The source classes.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Defined when ``X`` has string column names.

    Notes
    -----
    A transductive method (EasyTL: :attr:`~transferability.methods.BaseAdapter.transductive`)
    labels the rows of one ``predict`` call together, so its predictions depend on which rows
    are passed together; predict on the whole target at once.

    Examples
    --------
    >>> import numpy as np
    >>> from transferability.datasets import make_demo_pair
    >>> from transferability.methods import pack_domains
    >>> source, target = make_demo_pair(n_source=120, n_target=100, random_state=0)
    >>> X, y, sample_domain = pack_domains(source.X, source.y, target.X)
    >>> clf = AutoAdapter().fit(X, y, sample_domain=sample_domain)
    >>> clf.method_name_ == clf.recommendation_.best
    True
    >>> clf.predict(target.X).shape
    (100,)

    With 20 of the target rows labelled in ``y`` (the others stay masked):

    >>> y_semi = y.copy()
    >>> y_semi[np.flatnonzero(sample_domain < 0)[::5]] = target.y[::5]
    >>> clf = AutoAdapter(target_labels="y").fit(X, y_semi, sample_domain=sample_domain)
    >>> clf.recommendation_.verified["n_labelled"], clf.method_name_ == clf.recommendation_.verified["pick"]
    (20, True)
    """

    __metadata_request__fit = {"sample_domain": True}

    _parameter_constraints: dict = {
        "base_estimator": [StrOptions(set(_BASE_ESTIMATORS))],
        "budget": [None, Interval(Real, 0, None, closed="neither")],
        "preprocess": [StrOptions(set(_ROW_PREPROCESSING))],
        "models": _MODELS,
        "random_state": ["random_state"],
        "target_labels": [None, StrOptions({"y"})],
    }

    def __init__(self, base_estimator="1nn", *, budget=None, preprocess="none", models=None, random_state=0,
                 target_labels=None):
        self.base_estimator = base_estimator
        self.budget = budget
        self.preprocess = preprocess
        self.models = models
        self.random_state = random_state
        self.target_labels = target_labels

    def fit(self, X, y, sample_domain=None):
        """Ask ``recommend`` for a method and fit it on the source rows (labelled) and target rows.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Source rows and target rows, stacked in any order.
        y : array-like of shape (n_samples,)
            Labels; the target rows' entries are never read (mask them: ``-1``, or ``NaN``),
            except, with ``target_labels="y"``, those not masked: the labelled target rows.
        sample_domain : array-like of shape (n_samples,), default=None
            Positive for source rows, negative for target rows; None infers it from ``y``'s
            masked entries, as skada does.

        Returns
        -------
        self
        """
        from transferability.datasets import preprocess_pair
        from transferability.methods import get_method

        _check_params(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, ensure_min_samples=2)
        Xs, ys, Xt = _split(X, y, sample_domain, owner=type(self).__name__, labels_required=True)
        check_classification_targets(ys)
        seed = _seed(self.random_state)
        kw = {}
        if self.target_labels == "y":
            kw["target_labels"] = _labelled_target_rows(X, y, sample_domain, owner=type(self).__name__)
        rec = _recommend(Xs, ys, Xt, base_estimator=self.base_estimator, preprocess=self.preprocess,
                         models=self.models, budget=self.budget, random_state=seed, **kw)
        name = rec.best
        if name is None:
            name = "no_adapt"
            why = "; ".join(_reasons(rec))
            if not why and self.budget is not None:
                why = f"no method's predicted runtime fits the budget of {self.budget:g} s"
            warnings.warn(f"recommend named no method{': ' + why if why else ''}; fitting no_adapt "
                          "(no adaptation: it uses no target statistic)", TransferabilityWarning, stacklevel=2)
        Xs, Xt = _dense(Xs), _dense(Xt)
        rows = _RowMap(self.preprocess, Xs, Xt)
        Xs_p, Xt_p = preprocess_pair(Xs, Xt, self.preprocess)
        method = get_method(name, base_estimator=self.base_estimator, random_state=seed)
        method.fit_domains(Xs_p, ys, Xt_p)
        self.recommendation_ = rec
        self.method_name_ = name
        self.method_ = method
        self.classes_ = method.classes_
        self._rows = rows
        return self

    def _mapped(self, X):
        check_is_fitted(self, "method_")
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        return self._rows(_dense(X))

    def predict(self, X):
        """Labels of rows of ``X`` (treated as target rows).

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        X = self._mapped(X)
        return self.method_.predict(X)

    @available_if(_method_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities, where the fitted method gives them (columns in ``classes_`` order)."""
        X = self._mapped(X)
        return self.method_.predict_proba(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        return tags
