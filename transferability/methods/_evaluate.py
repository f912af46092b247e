"""Run the method library on one pair and measure outcomes; the k-shot baselines.

:func:`evaluate_methods` fits every requested method on a labelled source and an unlabelled
target, predicts the target, and scores the predictions against the target labels. The target
labels are used **only for scoring** (they are never passed to a method).

Bad input is refused before anything runs (:class:`InputError`): the arrays are validated
once for all methods, and every requested method's parameters are checked against its
declared constraints first. Only a failure *while running* (singular matrix, solver failure,
out of memory...) is recorded, with ``status="failed"`` and a one-line reason; the other
methods still run.

BLAS threads: the run holds BLAS/OpenMP thread pools at ``n_threads`` (default 1, or
``$TRANSFERABILITY_BLAS_THREADS``) with :func:`threadpoolctl.threadpool_limits`. One thread was
never slower than the BLAS default in the measurements of ``docs/benchmarks.md`` and was many
times faster on a loaded machine.

:func:`kshot_baseline` is DESIGN.md's *k-shot baseline*: the mean target accuracy of the base
estimator trained only on ``k`` labelled target samples per class (``n_draws`` random draws,
each tested on the remaining target samples). A ``k`` the target cannot support (a class with
at most ``k`` samples: nothing of it would be left to test on, see :func:`kshot_unsupported`)
is reported by :func:`evaluate_methods` as ``None`` with the reason, as the meta store records it.

Examples
--------
>>> import numpy as np
>>> from transferability.methods import evaluate_methods
>>> rng = np.random.RandomState(0)
>>> Xs = np.r_[rng.randn(30, 2), rng.randn(30, 2) + 4]; ys = np.repeat(["a", "b"], 30)
>>> Xt = Xs + 0.5; yt = ys
>>> report = evaluate_methods(Xs, ys, Xt, yt, methods=["no_adapt"], kshot=(1,))
>>> report.results[0].status, 0.0 <= report.results[0].target_accuracy <= 1.0
('ok', True)
>>> sorted(report.to_dict())  # doctest: +NORMALIZE_WHITESPACE
['blas_threads', 'kshot', 'kshot_reasons', 'n_features', 'n_source', 'n_target', 'n_target_only', 'results',
 'target_only_classes', 'version']
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.utils import check_random_state

from .._vocabulary import KSHOT_LADDER
from ..utils.io import json_safe, one_line
from ..utils.validation import InputError, check_domain, check_labels, check_pair
from ._base import check_method_magnitude, label_repr, make_base_estimator
from ._registry import available_methods, get_method

__all__ = ["MethodResult", "EvaluationReport", "evaluate_methods", "predict_methods", "kshot_baseline", "kshot_scores", "kshot_unsupported",
           "target_ceiling",
           "resolve_n_threads", "DEFAULT_N_THREADS", "N_THREADS_ENV"]

DEFAULT_KSHOT = KSHOT_LADDER  # transferability._vocabulary: the one k-shot ladder

#: BLAS threads of an evaluation unless told otherwise (chosen by measurement, see
#: ``docs/benchmarks.md``, "BLAS threads").
DEFAULT_N_THREADS = 1
#: Environment variable that overrides :data:`DEFAULT_N_THREADS` (an integer >= 1, or -1 for
#: the BLAS library's own default).
N_THREADS_ENV = "TRANSFERABILITY_BLAS_THREADS"


@dataclass
class MethodResult:
    """The outcome of one (method, base estimator) on one pair.

    Attributes
    ----------
    method : str
        Registry name of the method.
    base_estimator : str
        Name of the base estimator (``"1nn"``, ``"logreg"``, ``"linear_svm"``) or the ``repr``
        of an estimator object.
    params : dict
        The method's parameters as instantiated (``get_params(deep=False)`` without
        ``base_estimator``), JSON-safe.
    target_accuracy : float or None
        Fraction of target samples predicted correctly, in [0, 1]; ``None`` if the method failed.
    runtime_s : float
        Wall-clock seconds of fit + predict (also when it failed: time until the failure).
    status : {"ok", "failed"}
    error : str or None
        One-line reason (``"ExceptionType: message"``) when ``status == "failed"``.
    balanced_accuracy : float or None
        Mean per-class recall on the target (:func:`sklearn.metrics.balanced_accuracy_score`);
        ``None`` if the method failed. Recorded in the meta store; not (yet) in :meth:`to_dict`.
    """

    method: str
    base_estimator: str
    params: dict
    target_accuracy: float | None
    runtime_s: float
    status: str = "ok"
    error: str | None = None
    balanced_accuracy: float | None = None

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "target_accuracy": self.target_accuracy,
            "balanced_accuracy": self.balanced_accuracy,
            "runtime_s": self.runtime_s,
            "status": self.status,
            "error": self.error,
            "base_estimator": self.base_estimator,
            "params": dict(self.params),
        }


@dataclass
class EvaluationReport:
    """Outcomes of the method library on one pair, plus the k-shot baselines.

    Attributes
    ----------
    results : list of MethodResult
        One entry per requested method, in the order requested.
    kshot : dict of int -> float or None
        ``k`` -> k-shot baseline accuracy in [0, 1]; ``None`` for a ``k`` the target cannot
        support (a class with at most ``k`` samples, :func:`kshot_unsupported`).
    kshot_reasons : dict of int -> str
        Why a ``k`` of ``kshot`` is ``None`` (only those ``k``).
    target_only_classes : list
        Target classes that are no source class (DESIGN.md: the target's classes are a subset
        of the source's); every method gets their ``n_target_only`` samples wrong.
    n_target_only : int
        Target samples of those classes.
    n_source, n_target, n_features : int or None
        Size of the evaluated pair.
    blas_threads : int or None
        BLAS threads the run was held at (``None``: the BLAS library's default); runtimes
        depend on it.

    Notes
    -----
    :meth:`to_dict` is the JSON contract of ``transferability evaluate --json``::

        {"results": [{"method", "target_accuracy", "runtime_s", "status", "error",
                      "base_estimator", "params"}, ...],
         "kshot": {"1": acc, "3": acc, ...},
         "kshot_reasons": {"50": "target class 'a' has 12 samples <= k = 50", ...},
         "target_only_classes": [label, ...], "n_target_only": int,
         "n_source": int, "n_target": int, "n_features": int,
         "blas_threads": int or null, "version": str}

    with ``target_accuracy`` ``null`` for failed methods, ``kshot`` keyed by strings (``null``
    for an unsupported ``k``, whose reason is in ``kshot_reasons``) and ``version`` the
    library's version.
    """

    results: list = field(default_factory=list)
    kshot: dict = field(default_factory=dict)
    kshot_reasons: dict = field(default_factory=dict)
    target_only_classes: list = field(default_factory=list)
    n_target_only: int = 0
    n_source: int | None = None
    n_target: int | None = None
    n_features: int | None = None
    blas_threads: int | None = None

    def to_dict(self) -> dict:
        """The JSON-ready dictionary (see Notes); ``nan`` k-shot values become ``None``."""
        from .. import __version__

        return {
            "results": [r.to_dict() for r in self.results],
            "kshot": {str(k): (None if v is None or (isinstance(v, float) and math.isnan(v)) else v)
                      for k, v in self.kshot.items()},
            "kshot_reasons": {str(k): v for k, v in self.kshot_reasons.items()},
            "target_only_classes": [json_safe(v) for v in self.target_only_classes],
            "n_target_only": self.n_target_only,
            "n_source": self.n_source,
            "n_target": self.n_target,
            "n_features": self.n_features,
            "blas_threads": self.blas_threads,
            "version": __version__,
        }

    def accuracy(self, method: str) -> float | None:
        """Target accuracy of ``method`` (``None`` if it failed or was not run)."""
        for r in self.results:
            if r.method == method:
                return r.target_accuracy
        return None

    def effect_scores(self, baseline: str = "no_adapt") -> dict:
        """``method -> acc(method) / acc(baseline)`` (DESIGN.md's effect score).

        Methods that failed map to ``None``; empty if the baseline did not run, failed, or has
        accuracy 0.
        """
        base = self.accuracy(baseline)
        if not base:
            return {}
        return {r.method: (None if r.target_accuracy is None else r.target_accuracy / base)
                for r in self.results}


def _estimator_name(base_estimator) -> str:
    return base_estimator if isinstance(base_estimator, str) else repr(base_estimator)


def _params_of(estimator) -> dict:
    params = estimator.get_params(deep=False)
    params.pop("base_estimator", None)
    return {k: json_safe(v) for k, v in sorted(params.items())}


def _progress(total: int, enabled: bool, desc: str):
    """A tqdm bar on stderr when ``enabled``, drawn only if stderr is a terminal
    (``disable=None``); ``None`` otherwise."""
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, file=sys.stderr, leave=False, disable=None)


def _parse_n_threads(value, where):
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise InputError(f"{where} must be an integer >= 1, or -1 for the BLAS default; "
                             f"got {value!r}") from None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or not (value >= 1 or value == -1):
        raise InputError(f"{where} must be an integer >= 1, or -1 for the BLAS default; "
                         f"got {value!r}")
    return None if value == -1 else int(value)


def resolve_n_threads(n_threads=None):
    """BLAS threads to hold an evaluation at: ``None`` for no limit, else an int >= 1.

    ``n_threads=None`` reads ``$TRANSFERABILITY_BLAS_THREADS`` and falls back to
    :data:`DEFAULT_N_THREADS` (1); ``-1`` (argument or variable) leaves the BLAS library's own
    default. Anything else raises :class:`InputError`.
    """
    if n_threads is None:
        env = os.environ.get(N_THREADS_ENV, "").strip()
        if not env:
            return DEFAULT_N_THREADS
        return _parse_n_threads(env, f"${N_THREADS_ENV}")
    return _parse_n_threads(n_threads, "n_threads")


def _check_kshot(kshot):
    out = []
    for k in (kshot or ()):
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 1:
            raise InputError(f"k-shot values must be positive integers, got {k!r}")
        out.append(int(k))
    return out


def _labels_shown(values, limit=5) -> str:
    shown = ", ".join(label_repr(v) for v in values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def _check_label_overlap(ys, yt) -> list:
    """The target classes that are no source class (sorted as strings). No class in common at
    all raises :class:`InputError`: every method would score 0, which says nothing about the
    methods (e.g. labels read as strings on one side and as integers on the other)."""
    source = set(ys.tolist())
    target = sorted(set(yt.tolist()), key=lambda v: (str(type(v)), str(v)))
    only = [v for v in target if v not in source]
    if only and len(only) == len(target):
        src = sorted(source, key=lambda v: (str(type(v)), str(v)))
        kinds = {type(v).__name__ for v in src}, {type(v).__name__ for v in target}
        hint = (f" (source labels are {'/'.join(sorted(kinds[0]))}, target labels {'/'.join(sorted(kinds[1]))})"
                if kinds[0].isdisjoint(kinds[1]) else "")
        raise InputError(f"the target labels share no class with the source labels{hint}: source "
                         f"{_labels_shown(src)}; target {_labels_shown(target)}; every method would score 0, "
                         "so the labels must name the same classes")
    return only


def _resolve_methods(methods):
    registered = available_methods()
    if isinstance(methods, str):
        methods = registered if methods == "all" else [methods]
    try:
        methods = list(methods)
    except TypeError:
        raise InputError(f"methods must be 'all' or a list of method names, got {methods!r}") from None
    if not methods:
        raise InputError("no methods to evaluate: name at least one method, or 'all'")
    unknown = [m for m in methods if not isinstance(m, str) or m not in registered]
    if unknown:
        raise InputError(
            f"unknown method(s) {', '.join(map(repr, unknown))}; available: {', '.join(registered)}"
        )
    twice = sorted({m for m in methods if methods.count(m) > 1})
    if twice:
        raise InputError(f"method(s) listed more than once: {', '.join(twice)}")
    return methods


def kshot_unsupported(y_target, k) -> str | None:
    """Why the target cannot support a ``k``-shot baseline, or ``None`` when it can.

    A class with at most ``k`` samples would leave nothing of itself to test on once ``k`` of
    it were drawn for training (:func:`kshot_baseline` then trains on all but one of them, a
    smaller ``k`` than asked): the baseline of that ``k`` is not defined for this target. The
    meta store records such a ``k`` as NULL with this reason, and :func:`evaluate_methods`
    reports it as ``None``.

    Examples
    --------
    >>> kshot_unsupported(["a", "a", "a", "b", "b"], 1) is None
    True
    >>> kshot_unsupported(["a", "a", "a", "b", "b"], 2)
    'target class b has 2 samples <= k = 2'
    """
    classes, counts = np.unique(np.asarray(y_target).astype(str), return_counts=True)
    if counts.size and counts.min() <= k:
        c = int(np.argmin(counts))
        return f"target class {classes[c]!s} has {int(counts[c])} samples <= k = {int(k)}"
    return None


def kshot_baseline(X_target, y_target, k, *, base_estimator="1nn", n_draws=5, random_state=0) -> float:
    """Mean target accuracy of the base estimator trained on ``k`` labelled target samples per class.

    For each of ``n_draws`` draws, ``k`` samples of every target class are drawn without
    replacement (the training set); the base estimator is trained on them and tested on all
    the other target samples. The result is the mean of the ``n_draws`` test accuracies.

    Small classes: a class with ``n_c <= k`` samples contributes ``n_c - 1`` training samples
    (all but one, so it is still tested), and a class with a single sample contributes that
    sample to training (nothing left to test). If the training set holds a single class, every
    test sample is predicted as that class. A draw that leaves no test sample at all is skipped;
    if every draw is skipped the result is ``nan``.

    Parameters
    ----------
    X_target : array-like of shape (n_samples, n_features)
    y_target : array-like of shape (n_samples,)
        Target labels of any type (strings included).
    k : int
        Labelled samples per class, ``k >= 1``.
    base_estimator : str or estimator, default="1nn"
        See :func:`~transferability.methods.make_base_estimator`.
    n_draws : int, default=5
        Random draws averaged (DESIGN.md: 5).
    random_state : int, RandomState or None, default=0
        Seeds the draws (classes are visited in sorted order, so the result is deterministic
        given ``random_state``) and the base estimator.

    Returns
    -------
    float
        Mean accuracy in [0, 1], or ``nan`` (see above).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    >>> y = np.array(["a", "a", "a", "b", "b", "b"])
    >>> kshot_baseline(X, y, 1)
    1.0
    """
    return kshot_scores(X_target, y_target, k, base_estimator=base_estimator, n_draws=n_draws,
                        random_state=random_state)["accuracy"]


def _balanced(y_true, y_pred):
    """Balanced accuracy (mean recall over the classes present in ``y_true``), in [0, 1]."""
    import warnings

    from sklearn.metrics import balanced_accuracy_score

    with warnings.catch_warnings():  # predicted classes absent from y_true: ignored, as documented
        warnings.simplefilter("ignore")
        return float(balanced_accuracy_score(np.asarray(y_true).astype(str), np.asarray(y_pred).astype(str)))


def kshot_scores(X_target, y_target, k, *, base_estimator="1nn", n_draws=5, random_state=0) -> dict:
    """:func:`kshot_baseline` with balanced accuracy: ``{"accuracy", "balanced_accuracy"}``,
    each the mean over the draws (``nan`` when every draw is skipped). Same draws, same
    ``random_state`` stream and the same ``accuracy`` as :func:`kshot_baseline`."""
    X = check_domain(X_target, name="target", min_samples=1)
    y = check_labels(y_target, X.shape[0], name="target labels")
    if int(k) != k or k < 1:
        raise InputError(f"k must be a positive integer, got {k!r}")
    if int(n_draws) != n_draws or n_draws < 1:
        raise InputError(f"n_draws must be a positive integer, got {n_draws!r}")
    k, n_draws = int(k), int(n_draws)
    rng = check_random_state(random_state)
    classes, codes = np.unique(y, return_inverse=True)
    members = [np.flatnonzero(codes == c) for c in range(len(classes))]
    scores, balanced = [], []
    for _ in range(n_draws):
        train_parts = []
        for idx in members:
            n_c = idx.size
            take = k if n_c > k else max(n_c - 1, 1)
            train_parts.append(rng.choice(idx, size=take, replace=False))
        train = np.sort(np.concatenate(train_parts))
        test_mask = np.ones(X.shape[0], dtype=bool)
        test_mask[train] = False
        if not test_mask.any():
            continue
        y_train = codes[train]
        if np.unique(y_train).size == 1:
            pred = np.full(int(test_mask.sum()), y_train[0])
        else:
            est = make_base_estimator(base_estimator, random_state=rng.randint(np.iinfo(np.int32).max))
            est.fit(X[train], y_train)
            pred = np.asarray(est.predict(X[test_mask]))
        scores.append(float(np.mean(pred == codes[test_mask])))
        balanced.append(_balanced(codes[test_mask], pred))
    nan = float("nan")
    return {"accuracy": float(np.mean(scores)) if scores else nan,
            "balanced_accuracy": float(np.mean(balanced)) if balanced else nan}


def target_ceiling(X_target, y_target, *, base_estimator="1nn", n_folds=5, random_state=0) -> dict:
    """DESIGN.md's *ceiling*: the base estimator's stratified ``n_folds``-fold cross-validated
    accuracy and balanced accuracy on the labelled target.

    The scores are those of the pooled out-of-fold predictions (every target sample is
    predicted once, by the model trained on the other folds). A target whose smallest class has
    fewer than ``n_folds`` samples uses that many folds (at least 2) and says so in ``reason``;
    a class of a single sample cannot be stratified (it is still predicted, from a model that
    never saw its class) and ``reason`` says that too.

    Returns
    -------
    dict
        ``{"accuracy", "balanced_accuracy", "n_folds", "reason"}`` (``reason`` None when the
        full ``n_folds`` folds were used).
    """
    import warnings

    from sklearn.model_selection import StratifiedKFold

    X = check_domain(X_target, name="target", min_samples=2)
    y = check_labels(y_target, X.shape[0], name="target labels")
    if int(n_folds) != n_folds or n_folds < 2:
        raise InputError(f"n_folds must be an integer >= 2, got {n_folds!r}")
    classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    if classes.size < 2:
        raise InputError("a target ceiling needs at least two target classes")
    smallest = int(counts.min())
    folds = int(max(2, min(int(n_folds), smallest)))
    reason = None
    if folds < n_folds:
        reason = (f"{folds} folds: the smallest target class ({label_repr(classes[int(np.argmin(counts))])}) "
                  f"has {smallest} samples")
    rng = check_random_state(random_state)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=rng.randint(np.iinfo(np.int32).max))
    pred = np.empty_like(codes)
    with warnings.catch_warnings():  # a class smaller than the folds: sklearn warns, reason says it
        warnings.simplefilter("ignore")
        splits = list(cv.split(X, codes))
    for train, test in splits:
        if np.unique(codes[train]).size == 1:
            pred[test] = codes[train][0]
            continue
        est = make_base_estimator(base_estimator, random_state=rng.randint(np.iinfo(np.int32).max))
        est.fit(X[train], codes[train])
        pred[test] = np.asarray(est.predict(X[test]))
    return {"accuracy": float(np.mean(pred == codes)), "balanced_accuracy": _balanced(codes, pred),
            "n_folds": folds, "reason": reason}


def _run_one(est, Xs, ys, Xt):
    """Fit a checked method on the (checked) pair and predict the target: ``(predictions,
    seconds, None)``, or ``(None, seconds, one-line error)`` when it fails while running."""
    start = time.perf_counter()
    try:
        est._fit_checked(Xs, ys, Xt)
        pred = np.asarray(est.predict(Xt))
        if pred.shape != (Xt.shape[0],):
            raise RuntimeError(f"predict returned shape {pred.shape} for {Xt.shape[0]} target samples")
        return pred, time.perf_counter() - start, None
    except Exception as exc:  # noqa: BLE001 -- a method's failure is an outcome, reported per method
        return None, time.perf_counter() - start, one_line(exc)


def predict_methods(X_source, y_source, X_target, *, methods="all", base_estimator="1nn", method_params=None,
                    random_state=0, progress=None, n_threads=None) -> dict:
    """Run methods on a pair and return their target predictions (no target label is used).

    The same runs as :func:`evaluate_methods` (same instantiation, checks and thread limit),
    without scoring. ``progress``: ``None``/``False`` (none), ``True`` (a tqdm bar on a
    terminal) or a callable ``progress(name, i, n)`` called before each method.

    Returns
    -------
    dict
        method name -> ``{"predictions": array (n_target,) or None, "runtime_s": float,
        "error": str or None}``, in ``methods`` order.
    """
    from threadpoolctl import threadpool_limits

    Xs, Xt = check_pair(X_source, X_target, min_samples=1, dtype=np.float64)
    ys = check_labels(y_source, Xs.shape[0], name="source labels")
    check_method_magnitude(Xs, Xt)
    methods = _resolve_methods(methods)
    method_params = dict(method_params or {})
    if np.unique(ys.astype(str)).size < 2:
        raise InputError("source labels must contain at least two classes; no method can be trained")
    estimators = []
    for name in methods:
        params = {"base_estimator": base_estimator, "random_state": random_state}
        params.update(method_params.get(name, {}))
        estimators.append(get_method(name, **params).check_params())
    bar = _progress(len(methods), progress is True, "methods")
    out = {}
    try:
        with threadpool_limits(limits=resolve_n_threads(n_threads)):
            for i, (name, est) in enumerate(zip(methods, estimators)):
                if callable(progress):
                    progress(name, i, len(methods))
                if bar is not None:
                    bar.set_postfix_str(name)
                pred, elapsed, error = _run_one(est, Xs, ys, Xt)
                out[name] = {"predictions": pred, "runtime_s": float(elapsed), "error": error}
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return out


def evaluate_methods(X_source, y_source, X_target, y_target, *, methods="all", base_estimator="1nn",
                     method_params=None, kshot=DEFAULT_KSHOT, random_state=0,
                     progress=False, n_threads=None) -> EvaluationReport:
    """Run methods on a pair, time them and score them on the target; add the k-shot baselines.

    Every method is instantiated as ``get_method(name, base_estimator=..., random_state=...,
    **method_params[name])``, fitted on the source and the unlabelled target and asked to
    predict the target. Its outcome is

    .. math:: \\mathrm{acc}_T = \\frac{1}{n_t} \\sum_i [\\hat y_i = y_i^{t}],

    and ``runtime_s`` is the wall-clock time of fit + predict. ``y_target`` is only used for
    this score and for the k-shot baselines.

    Everything is checked before the first method runs: the arrays (once, for all methods),
    the method names, every method's parameters against its declared constraints, the k
    values, and that the source has at least two classes.

    Parameters
    ----------
    X_source : array-like of shape (n_source, n_features)
    y_source : array-like of shape (n_source,)
    X_target : array-like of shape (n_target, n_features)
    y_target : array-like of shape (n_target,)
        Used only for scoring.
    methods : "all" or list of str, default="all"
        ``"all"``: every registered method (:func:`available_methods`, in
        :data:`~transferability.methods.METHOD_NAMES` order). A list must be non-empty and
        name each method once.
    base_estimator : str or estimator, default="1nn"
        Passed to every method (a ``base_estimator`` in ``method_params[name]`` wins).
    method_params : dict of str -> dict or None, default=None
        Extra parameters per method name.
    kshot : iterable of int, default=(1, 3, 5, 10, 20, 50)
        ``k`` values of the k-shot baselines (empty: none), computed with ``base_estimator``,
        5 draws and ``random_state``. A ``k`` the target cannot support (a class with at most
        ``k`` samples) is reported as ``None``, with its reason in ``report.kshot_reasons``.
    random_state : int or None, default=0
        Passed to every method (unless set in ``method_params``) and to the k-shot draws.
    progress : bool, default=False
        Show a tqdm progress bar on stderr; it is drawn only when stderr is a terminal
        (tqdm's ``disable=None``), so logs and pipes never get one.
    n_threads : int or None, default=None
        BLAS/OpenMP threads during the run (:func:`threadpoolctl.threadpool_limits`); ``-1``:
        the BLAS library's default; ``None``: ``$TRANSFERABILITY_BLAS_THREADS``, else 1 (see
        :func:`resolve_n_threads`).

    Returns
    -------
    EvaluationReport

    Raises
    ------
    InputError
        Invalid arrays, mismatched lengths or feature counts, features too large or too small
        for the methods' squared quantities, target labels that share no class with the source
        labels, a source with fewer than two classes, an empty or repeated method list, an unknown method or parameter name, a
        parameter value outside its constraint, ``method_params`` naming a method that is not
        requested, a k that is not a positive integer, or a bad ``n_threads``.
    """
    from threadpoolctl import threadpool_limits

    Xs, Xt = check_pair(X_source, X_target, min_samples=1, dtype=np.float64)
    ys = check_labels(y_source, Xs.shape[0], name="source labels")
    yt = check_labels(y_target, Xt.shape[0], name="target labels")
    check_method_magnitude(Xs, Xt)
    methods = _resolve_methods(methods)
    if method_params is None:
        method_params = {}
    if not isinstance(method_params, dict) or not all(isinstance(v, dict) for v in method_params.values()):
        raise InputError("method_params must map method names to dicts of parameters")
    stray = [m for m in method_params if m not in methods]
    if stray:
        raise InputError(f"method_params names method(s) not evaluated: {', '.join(map(str, stray))}")
    kshot = _check_kshot(kshot)
    limit = resolve_n_threads(n_threads)
    classes = np.unique(ys.astype(object) if ys.dtype == object else ys)
    if classes.size < 2:
        raise InputError(f"source labels must contain at least two classes, got 1 "
                         f"({label_repr(classes[0])}); "
                         "no method can be trained")
    target_only = _check_label_overlap(ys, yt)
    # instantiate and check every method before running any
    estimators = []
    for name in methods:
        params = {"base_estimator": base_estimator, "random_state": random_state}
        params.update(method_params.get(name, {}))
        estimators.append(get_method(name, **params).check_params())

    bar = _progress(len(methods) + len(kshot), progress, "evaluate")
    report = EvaluationReport(n_source=int(Xs.shape[0]), n_target=int(Xt.shape[0]),
                              n_features=int(Xs.shape[1]), blas_threads=limit, target_only_classes=target_only,
                              n_target_only=int(sum(v in set(target_only) for v in yt.tolist())))
    try:
        with threadpool_limits(limits=limit):
            for name, est in zip(methods, estimators):
                est_name = _estimator_name(est.base_estimator)
                params = _params_of(est)
                if bar is not None:
                    bar.set_postfix_str(name)
                pred, elapsed, error = _run_one(est, Xs, ys, Xt)
                if error is None:
                    # object comparison: elementwise Python equality, safe across label dtypes
                    acc = float(np.mean(pred.astype(object) == yt.astype(object)))
                    report.results.append(MethodResult(name, est_name, params, acc, elapsed,
                                                       balanced_accuracy=_balanced(yt, pred)))
                else:  # a failure while running: record it and go on
                    report.results.append(MethodResult(name, est_name, params, None, elapsed,
                                                       status="failed", error=error))
                if bar is not None:
                    bar.update(1)
            for k in kshot:
                if bar is not None:
                    bar.set_postfix_str(f"{k}-shot")
                why = kshot_unsupported(yt, k)
                if why is None:
                    report.kshot[k] = kshot_baseline(Xt, yt, k, base_estimator=base_estimator,
                                                     random_state=random_state)
                else:
                    report.kshot[k], report.kshot_reasons[k] = None, why
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return report
