"""EasyTransferability: a calibrated P(k*(m̂) >= k) and the predicted label-equivalent value k*.

**Label** (DESIGN.md, label-equivalent value). The user runs one method, the one ``recommend``
names (m̂), so the label is about that method, never about the best of the library chosen with
target labels (that oracle gave a pure-noise pair k* = 50: one of twelve methods lands above a
noisy k-shot baseline by luck). For a pair, a base estimator and a method m, k*(m) is the
largest k of the store's *ladder* such that acc(m) reaches the k-shot baseline at **every**
rung up to k (the walk up the ladder stops at the first rung missed: :func:`label_pair`), and 0
when acc(m) does not beat chance (balanced accuracy above ``1 / n_classes`` of the target by
:func:`chance_margin`: :func:`beats_chance`). The ladder is the k values of
:data:`KSHOT_LADDER` (1, 3, 5, 10, 20, 50) for which the records hold a k-shot baseline of that
base estimator. m̂ per training pair comes from ``picks`` (training and evaluation pass the
MetaTrans candidate's picks made out of fold); without picks it is the store's best fixed method
(:func:`fixed_default_picks`).

**Unknown k-shot values.** A rung whose baseline is missing (the target had too few samples per
class, or ``accuracy`` is None) stops the walk unless the next known rung is reached (the
k-shot baseline is assumed not to fall as k grows: on the shipped store the known baselines dip
between consecutive k on 250 of 836 ``1nn`` and 183 of 836 ``logreg`` pairs, by a median 1.4 and
1.2 points); k* is then *censored* (a lower bound), and a threshold above it is unknown unless a
larger known rung is missed, which decides every threshold from it. An unknown threshold leaves
the pair out of that threshold's classifier and metrics.

**Learner** (:class:`CumulativeModel`): one binary classifier per ladder threshold t, each
calibrated by a map (sigmoid or isotonic) fitted on *group-held-out* raw scores
(leave-one-group-out over the training groups, never random rows) and stored as numbers; per
threshold the classifier is LightGBM (``deterministic=True``, one thread, fixed seed) or an L2
logistic regression on standardised signed-log meta-features, whichever has the lower
out-of-fold Brier score on those training groups. The calibrated probabilities are made
monotone across thresholds by a running minimum (``P(k* >= 3)`` can never exceed
``P(k* >= 1)``). A threshold whose labels have fewer than :data:`MIN_MINORITY` pairs of the
minority class gets the smoothed base rate instead of a classifier. The user's k maps to the
smallest ladder threshold ``>= k`` (k* only takes ladder values, so ``k* >= 7`` iff ``k* >= 10``).

**Two models per base estimator:** ``labelled`` on every meta-feature, ``label_free`` on
:data:`LABEL_FREE_FEATURES` (the divergences and the descriptors that read no source label),
which answers when the source has no labels (``uses_source_labels: false``).

Model files: ``easytrans.json`` (manifest: calibration maps, logistic coefficients, the
out-of-distribution reference, group-held-out metrics, all as numbers) and
``easytrans-<base>-<model>-k<t>.txt`` (LightGBM text). No pickle. Same records give byte-identical files.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from transferability._vocabulary import KSHOT_LADDER  # the one k-shot ladder (also evaluate's default)
from transferability.utils.validation import InputError
from ._features import LABEL_FEATURES, LABEL_FREE_FEATURES  # the models' two feature sets
from ._table import GroupedRows, SignedLogScaler, base_of, records_hash, task_of

__all__ = [
    "KSHOT_LADDER", "LABEL_FREE_FEATURES", "LABEL_FEATURES", "MANIFEST", "FORMAT", "FORMAT_VERSION",
    "LabelTable", "label_pair", "build_label_tables", "CumulativeModel", "SigmoidMap", "IsotonicMap",
    "monotone_cumulative", "label_equivalent", "threshold_index",
    "fit_easytrans", "save_easytrans", "load_easytrans", "EasyTransModels",
    "Assessment", "assess", "assess_from_features", "label_free_features", "supported_rung", "pair_label",
    "beats_chance", "chance_margin", "fixed_default_picks",
]

MANIFEST = "easytrans.json"
FORMAT = "transferability-easytrans"
FORMAT_VERSION = 2  # the model format of both manifests, _files.FORMAT_VERSION (a test keeps them equal)
THRESHOLD = 0.5
DEFAULT_K = 10
MIN_MINORITY = 3
INTERVAL_LEVELS = (0.1, 0.9)  # k* interval: the 10 % and 90 % quantiles of the predicted k* distribution
OOD_PERCENTILE = 99.0

LGBM_PARAMS = {
    "objective": "binary", "learning_rate": 0.05, "num_leaves": 7, "min_data_in_leaf": 10,
    "feature_fraction": 1.0, "bagging_fraction": 1.0, "lambda_l2": 1.0, "deterministic": True,
    "force_row_wise": True, "num_threads": 1, "seed": 0, "verbose": -1,
}
LGBM_ROUNDS = 100
LINEAR_C = 0.1


# -- labels ---------------------------------------------------------------------------------------
# the chance rule lives with the other rules that hold by construction (the verification of
# `recommend --target-labels` applies it too)
from ._guards import CHANCE_MIN_MARGIN, CHANCE_Z, beats_chance, chance_margin  # noqa: E402


def _method_outcome(record, base_estimator, method):
    """(mean accuracy, mean balanced accuracy or None) of ``method``'s ok outcomes, or None."""
    from transferability.meta_store import outcomes_for_base

    acc, bal = [], []
    for o in outcomes_for_base(record, base_estimator):  # with the base-estimator-free methods ("-")
        if o.get("method") == method and o.get("status") == "ok" and o.get("target_accuracy") is not None:
            acc.append(float(o["target_accuracy"]))
            if o.get("balanced_accuracy") is not None:
                bal.append(float(o["balanced_accuracy"]))
    if not acc:
        return None
    return float(np.mean(acc)), (float(np.mean(bal)) if len(bal) == len(acc) else None)


def _kshot(record, base_estimator):
    out = defaultdict(list)
    for e in record.get("kshot") or []:
        if e.get("base_estimator") == base_estimator and e.get("accuracy") is not None:
            out[int(e["k"])].append(float(e["accuracy"]))
    return {k: float(np.mean(v)) for k, v in out.items()}


def label_pair(acc: float, kshot: dict, thresholds, *, above_chance: bool = True) -> tuple:
    """``(kstar, censored, y)`` of one pair for one method (DESIGN.md, label-equivalent value).

    k*(m) is the largest ladder k such that ``acc`` reaches the k-shot baseline at **every**
    rung up to k (the walk up the ladder stops at the first rung missed), and 0 when ``acc``
    does not beat chance (``above_chance`` False). A rung whose baseline is unknown (the target
    is too small for it) stops the walk too: k* is then a lower bound (*censored*), and every
    threshold above it is unknown unless a larger known rung is missed (more labels do not make
    the k-shot baseline worse on average, so a rung missed above decides every threshold from it).

    Parameters
    ----------
    acc : float
        The method's target accuracy.
    kshot : dict
        k -> k-shot baseline accuracy (missing k: unknown).
    thresholds : sequence of int
        The ladder (increasing).
    above_chance : bool, default=True

    Returns
    -------
    kstar : int
    censored : bool
        k* is only a lower bound.
    y : ndarray of shape (len(thresholds),)
        ``[k* >= t]`` per threshold: 1.0, 0.0, or NaN when the known values do not decide it.

    Examples
    --------
    >>> label_pair(0.8, {1: 0.5, 3: 0.7, 5: 0.85, 10: 0.7}, [1, 3, 5, 10])[:2]
    (3, False)
    >>> label_pair(0.8, {1: 0.5, 3: 0.7}, [1, 3, 5, 10])
    (3, True, array([ 1.,  1., nan, nan]))
    >>> label_pair(0.8, {1: 0.5, 3: 0.7}, [1, 3, 5, 10], above_chance=False)[0]
    0
    """
    thresholds = list(thresholds)
    if not above_chance:
        return 0, False, np.zeros(len(thresholds))
    kstar, stop, censored = 0, None, False
    for i, k in enumerate(thresholds):
        if k not in kshot:  # unknown: reached if the next known rung is (the baseline does not fall with k)
            nxt = next((j for j in thresholds[i + 1:] if j in kshot), None)
            if nxt is not None and acc >= kshot[nxt]:
                kstar = k
                continue
            censored = True
            break
        if acc >= kshot[k]:
            kstar = k
        else:
            stop = k
            break
    if censored:  # a known rung missed above the unknown one still decides the thresholds from it
        stop = min([k for k in thresholds if k > kstar and k in kshot and acc < kshot[k]], default=None)
    y = np.array([1.0 if t <= kstar else 0.0 if stop is not None and t >= stop else np.nan for t in thresholds])
    return int(kstar), bool(np.isnan(y).any()), y


def pair_label(record, base_estimator, method, ladder):
    """``(kstar, censored, y, acc)`` of ``record`` for ``method`` (None without an ok outcome or
    without any k-shot baseline)."""
    out = _method_outcome(record, base_estimator, method)
    ks = _kshot(record, base_estimator)
    if out is None or not ks:
        return None
    acc, bal = out
    tgt = record.get("target") or {}
    ok = beats_chance(bal, tgt.get("n_classes"), tgt.get("n_samples"))
    kstar, cens, y = label_pair(acc, ks, ladder, above_chance=ok)
    return kstar, cens, y, acc


@dataclass
class LabelTable(GroupedRows):
    """EasyTransferability's training data for one base estimator (rows = pairs)."""

    base_estimator: str
    thresholds: list
    feature_names: list
    X: np.ndarray
    Y: np.ndarray
    kstar: np.ndarray
    censored: np.ndarray
    best: np.ndarray
    names: list
    keys: list
    families: np.ndarray
    bases: np.ndarray
    tasks: np.ndarray
    methods: np.ndarray | None = None  # the method m̂ each label is about
    dropped: dict = field(default_factory=dict)

    def columns(self, names) -> np.ndarray:
        idx = [self.feature_names.index(n) for n in names]
        return self.X[:, idx]

    def subset(self, mask) -> "LabelTable":
        idx = np.arange(self.n_pairs)[mask] if np.asarray(mask).dtype == bool else np.asarray(mask)
        return LabelTable(
            base_estimator=self.base_estimator, thresholds=self.thresholds, feature_names=self.feature_names,
            X=self.X[idx], Y=self.Y[idx], kstar=self.kstar[idx], censored=self.censored[idx], best=self.best[idx],
            names=[self.names[i] for i in idx], keys=[self.keys[i] for i in idx], families=self.families[idx],
            bases=self.bases[idx], tasks=self.tasks[idx],
            methods=None if self.methods is None else self.methods[idx], dropped=self.dropped)


FIXED_MIN_SHARE = 0.9  # a method must have an outcome on this share of the pairs to be the fixed default


def fixed_default_picks(records, *, base_estimators=None) -> dict:
    """base estimator -> ``{pair key: method}`` naming, for every pair, the best fixed method of
    ``records``: the highest family-macro mean accuracy among the methods with an ok outcome on
    at least :data:`FIXED_MIN_SHARE` of the pairs (the rule of
    :class:`~._metatrans.FixedDefault` on a training table); the labels' method when no
    recommender's picks are given. Reads outcomes only (no meta-feature)."""
    from transferability.meta_store import BASE_FREE

    records = list(records)
    if base_estimators is None:
        base_estimators = sorted({o.get("base_estimator") for r in records for o in r.get("outcomes", [])
                                  if o.get("status", "ok") == "ok"} - {BASE_FREE, None})
    out = {}
    for be in base_estimators:
        per = defaultdict(lambda: defaultdict(list))  # method -> family -> accuracies
        n_pairs = 0
        for r in records:
            methods = {o.get("method") for o in r.get("outcomes", [])}
            seen = False
            for m in methods:
                res = _method_outcome(r, be, m)
                if res is not None:
                    per[m][str(r.get("family"))].append(res[0])
                    seen = True
            n_pairs += seen
        ok = {m: fams for m, fams in per.items() if sum(map(len, fams.values())) >= FIXED_MIN_SHARE * n_pairs}
        if not ok:
            continue
        best = max(sorted(ok), key=lambda m: np.mean([np.mean(v) for v in ok[m].values()]))
        out[be] = {r["key"]: best for r in records}
    return out


def build_label_tables(records, *, picks=None, base_estimators=None, feature_schema=None) -> dict:
    """One :class:`LabelTable` per base estimator with outcomes and k-shot baselines.

    The label of a pair is k*(m̂) for the method m̂ the user would run (DESIGN.md): ``picks``
    gives it (base estimator -> ``{pair key: method}``; in training and evaluation, the
    MetaTrans candidate's picks made out of fold); by default every pair's m̂ is the best fixed
    method (:func:`fixed_default_picks`). Pairs of another feature schema, with a missing
    meta-feature, without a pick, without an ``ok`` outcome of their m̂ or without any k-shot
    baseline of the base estimator are left out (counted in ``dropped``).
    """
    from ._features import FEATURE_NAMES, FEATURE_SCHEMA_VERSION

    schema = FEATURE_SCHEMA_VERSION if feature_schema is None else feature_schema
    names = list(FEATURE_NAMES)
    records = list(records)
    kept = [r for r in records if r.get("feature_schema") == schema]
    bes = set()
    for r in kept:
        bes.update(o.get("base_estimator") for o in r.get("outcomes", []) if o.get("status") == "ok")
    from transferability.meta_store import BASE_FREE

    bes = sorted(b for b in bes if b and b != BASE_FREE) if base_estimators is None else list(base_estimators)
    if picks is None:
        picks = fixed_default_picks(kept, base_estimators=bes) if kept else {}
    tables = {}
    for be in bes:
        ladder = sorted({int(e["k"]) for r in kept for e in (r.get("kshot") or [])
                         if e.get("base_estimator") == be and e.get("accuracy") is not None
                         and int(e["k"]) in KSHOT_LADDER})
        if not ladder:
            continue
        rows, counts = [], defaultdict(int)
        be_picks = picks.get(be) or {}
        for r in kept:
            feats = r.get("meta_features") or {}
            if any(feats.get(f) is None or not math.isfinite(float(feats[f])) for f in names):
                counts["missing_feature"] += 1
                continue
            method = be_picks.get(r["key"])
            if method is None:
                counts["no_pick"] += 1
                continue
            lab = pair_label(r, be, method, ladder)
            if lab is None:
                counts["missing_outcome_or_kshot"] += 1
                continue
            kstar, cens, y, acc = lab
            rows.append((r, acc, kstar, cens, y, method))
        if not rows:
            continue
        tables[be] = LabelTable(
            base_estimator=be, thresholds=ladder, feature_names=names,
            X=np.array([[float(r["meta_features"][f]) for f in names] for r, *_ in rows]),
            Y=np.array([row[4] for row in rows]), kstar=np.array([row[2] for row in rows], dtype=np.float64),
            censored=np.array([row[3] for row in rows], dtype=bool), best=np.array([row[1] for row in rows]),
            names=[r.get("name", r["key"]) for r, *_ in rows], keys=[r["key"] for r, *_ in rows],
            families=np.array([str(r.get("family")) for r, *_ in rows]),
            bases=np.array([base_of(r) for r, *_ in rows]), tasks=np.array([task_of(r) for r, *_ in rows]),
            methods=np.array([row[5] for row in rows]),
            dropped={"other_feature_schema": len(records) - len(kept), **dict(counts)})
    if not tables:
        raise InputError(f"no usable pairs: none of feature schema {schema} with outcomes and k-shot baselines")
    return tables


def threshold_index(k, thresholds) -> int:
    """Index of the smallest ladder threshold ``>= k`` (``k*`` takes ladder values only)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise InputError(f"k must be a positive integer number of labelled target samples per class, got {k!r}")
    thresholds = list(thresholds)
    if k < 1:
        raise InputError(f"k must be at least 1 labelled target sample per class, got {k}")
    if k > thresholds[-1]:
        raise InputError(f"k = {k} is above what the models know: the training store's k-shot baselines stop at "
                         f"k = {thresholds[-1]}; use --k {thresholds[-1]} or less, or retrain on a store with larger k")
    return next(j for j, t in enumerate(thresholds) if t >= k)


# -- calibration maps -----------------------------------------------------------------------------
class SigmoidMap:
    """Platt scaling ``p = 1 / (1 + exp(-(a * s + b)))`` of a raw score ``s``; monotone (a >= 0)."""

    kind = "sigmoid"

    def __init__(self, a=1.0, b=0.0):
        self.a, self.b = float(a), float(b)

    def fit(self, s, y):
        from scipy.optimize import minimize

        s, y = np.asarray(s, float), np.asarray(y, float)
        # Platt's targets, smoothed so a separable fold does not give an infinite slope
        n1, n0 = y.sum(), len(y) - y.sum()
        t = np.where(y > 0.5, (n1 + 1) / (n1 + 2), 1 / (n0 + 2))

        def loss(w):
            z = w[0] * s + w[1]
            return float(np.sum(np.logaddexp(0, z) - t * z))

        def grad(w):
            p = 1 / (1 + np.exp(-(w[0] * s + w[1])))
            return np.array([np.sum((p - t) * s), np.sum(p - t)])

        res = minimize(loss, np.array([1.0, 0.0]), jac=grad, method="L-BFGS-B",
                       bounds=[(0.0, None), (None, None)])
        self.a, self.b = float(res.x[0]), float(res.x[1])
        return self

    def __call__(self, s):
        return 1.0 / (1.0 + np.exp(-(self.a * np.asarray(s, float) + self.b)))

    def to_dict(self):
        return {"kind": self.kind, "a": self.a, "b": self.b}


class IsotonicMap:
    """Isotonic (non-decreasing, piecewise linear) map of a raw score, clipped to
    [``1 / (n + 2)``, ``1 - 1 / (n + 2)``] so a held-out pair never gets 0 or 1."""

    kind = "isotonic"

    def __init__(self, x=(0.0,), y=(0.5,)):
        self.x, self.y = np.asarray(x, float), np.asarray(y, float)

    def fit(self, s, y):
        from sklearn.isotonic import IsotonicRegression

        eps = 1.0 / (len(y) + 2)
        iso = IsotonicRegression(y_min=eps, y_max=1 - eps, out_of_bounds="clip", increasing=True)
        iso.fit(np.asarray(s, float), np.asarray(y, float))
        self.x, self.y = np.asarray(iso.X_thresholds_, float), np.asarray(iso.y_thresholds_, float)
        return self

    def __call__(self, s):
        return np.interp(np.asarray(s, float), self.x, self.y)

    def to_dict(self):
        return {"kind": self.kind, "x": [float(v) for v in self.x], "y": [float(v) for v in self.y]}


CALIBRATIONS = {"sigmoid": SigmoidMap, "isotonic": IsotonicMap}


def _map_from_dict(d):
    if d["kind"] == "sigmoid":
        return SigmoidMap(d["a"], d["b"])
    if d["kind"] == "isotonic":
        x, y = np.asarray(d["x"], float), np.asarray(d["y"], float)
        if len(x) != len(y) or len(x) == 0 or np.any(np.diff(x) < 0) or np.any(np.diff(y) < 0):
            raise InputError("malformed isotonic calibration map (not non-decreasing)")
        return IsotonicMap(x, y)
    raise InputError(f"unknown calibration map kind {d.get('kind')!r}")


def monotone_cumulative(P) -> np.ndarray:
    """Running minimum over thresholds: ``P[:, j] <= P[:, j - 1]`` (``P(k* >= t)`` non-increasing in t)."""
    return np.minimum.accumulate(np.asarray(P, dtype=np.float64), axis=1)


# -- the learner ----------------------------------------------------------------------------------
def _fit_booster(X, y, feature_names):
    import lightgbm as lgb

    ds = lgb.Dataset(np.asarray(X, float), label=np.asarray(y, float), feature_name=list(feature_names),
                     params={"verbose": -1}, free_raw_data=True)
    return lgb.train(dict(LGBM_PARAMS), ds, num_boost_round=LGBM_ROUNDS)


def _logit(p):
    p = np.clip(np.asarray(p, float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


class _LGBMScorer:
    """LightGBM binary classifier; raw score = its log-odds."""

    kind = "lgbm"

    def __init__(self, booster):
        self.booster = booster

    @classmethod
    def fit(cls, X, y, feature_names):
        return cls(_fit_booster(X, y, feature_names))

    def raw(self, X):
        return self.booster.predict(np.asarray(X, float), raw_score=True, num_threads=1)


class _LinearScorer:
    """L2 logistic regression (C = :data:`LINEAR_C`) on standardised signed-log features; raw score =
    its decision function. Unlike trees it extrapolates beyond the training range (a held-out base
    often lies there)."""

    kind = "logistic"

    def __init__(self, mean, scale, coef, intercept):
        self.scaler = SignedLogScaler(mean, scale)
        self.coef, self.intercept = np.asarray(coef, float), float(intercept)

    @classmethod
    def fit(cls, X, y, feature_names=None):
        from sklearn.linear_model import LogisticRegression

        sc = SignedLogScaler.fit(X)
        lr = LogisticRegression(C=LINEAR_C, max_iter=2000).fit(sc.transform(X), np.asarray(y).astype(int))
        return cls(sc.mean, sc.scale, lr.coef_[0], lr.intercept_[0])

    def raw(self, X):
        return self.scaler.transform(X) @ self.coef + self.intercept

    def to_dict(self):
        return {"mean": self.scaler.mean.tolist(), "scale": self.scaler.scale.tolist(), "coef": self.coef.tolist(),
                "intercept": self.intercept}


SCORERS = {"lgbm": _LGBMScorer, "logistic": _LinearScorer}
LEARNER_CHOICES = ("auto", "lgbm", "logistic")


class _Level:
    """One threshold: a scorer and a calibration map, or a constant."""

    def __init__(self, scorer=None, cmap=None, constant=None):
        self.scorer, self.cmap, self.constant = scorer, cmap, constant

    @property
    def booster(self):
        return getattr(self.scorer, "booster", None)

    def proba(self, X):
        if self.scorer is None:
            return np.full(X.shape[0], float(self.constant))
        return self.cmap(self.scorer.raw(X))


def _smoothed_rate(y):
    return float((np.sum(y) + 0.5) / (len(y) + 1.0))


def _group_folds(groups):
    """Leave-one-group-out folds (sorted group names: deterministic)."""
    groups = np.asarray(groups)
    return [(np.flatnonzero(groups != g), np.flatnonzero(groups == g)) for g in sorted(set(groups.tolist()))]


class CumulativeModel:
    """P(k* >= t) for every ladder threshold t, calibrated on group-held-out scores.

    Per threshold, every candidate scorer (``learner="auto"``: LightGBM and an L2 logistic
    regression) is scored out of fold by leave-one-group-out over the *training* groups; the
    calibration map is fitted on those out-of-fold scores, and the scorer with the lower
    out-of-fold Brier score after calibration is refit on all training pairs. Nothing outside
    the training groups is looked at.

    Parameters
    ----------
    feature_names : list of str
        Columns of ``X`` (in this order).
    thresholds : list of int
        The ladder.
    calibration : {"sigmoid", "isotonic"}, default="sigmoid"
    learner : {"auto", "lgbm", "logistic"}, default="auto"

    Attributes
    ----------
    levels_ : list of _Level
        One per threshold.
    n_known_, n_positive_ : list of int
        Pairs with a known label at each threshold, and positives among them.
    oof_brier_ : list of dict
        Per threshold, each candidate's out-of-fold Brier score (empty for a constant level).
    """

    def __init__(self, feature_names, thresholds, *, calibration="sigmoid", learner="auto"):
        if calibration not in CALIBRATIONS:
            raise InputError(f"unknown calibration '{calibration}'; use sigmoid or isotonic")
        if learner not in LEARNER_CHOICES:
            raise InputError(f"unknown learner '{learner}'; use {', '.join(LEARNER_CHOICES)}")
        self.feature_names = list(feature_names)
        self.thresholds = list(thresholds)
        self.calibration = calibration
        self.learner = learner

    def fit(self, X, Y, groups):
        X, Y, groups = np.asarray(X, float), np.asarray(Y, float), np.asarray(groups)
        cands = ("lgbm", "logistic") if self.learner == "auto" else (self.learner,)
        self.levels_, self.n_known_, self.n_positive_, self.oof_brier_ = [], [], [], []
        for j in range(len(self.thresholds)):
            known = ~np.isnan(Y[:, j])
            Xj, yj, gj = X[known], Y[known, j], groups[known]
            self.n_known_.append(int(known.sum()))
            self.n_positive_.append(int(yj.sum()))
            minority = min(yj.sum(), len(yj) - yj.sum()) if len(yj) else 0
            if minority < MIN_MINORITY or len(set(gj.tolist())) < 2:
                self.levels_.append(_Level(constant=_smoothed_rate(yj) if len(yj) else 0.5))
                self.oof_brier_.append({})
                continue
            best, briers = None, {}
            for c in cands:
                oof = np.empty(len(yj))
                for tr, te in _group_folds(gj):
                    ytr = yj[tr]
                    if min(ytr.sum(), len(ytr) - ytr.sum()) < MIN_MINORITY:
                        oof[te] = _logit(_smoothed_rate(ytr))
                    else:
                        oof[te] = SCORERS[c].fit(Xj[tr], ytr, self.feature_names).raw(Xj[te])
                cmap = CALIBRATIONS[self.calibration]().fit(oof, yj)
                briers[c] = float(np.mean((cmap(oof) - yj) ** 2))
                if best is None or briers[c] < briers[best[0]] - 1e-12:
                    best = (c, cmap)
            self.oof_brier_.append(briers)
            c, cmap = best
            self.levels_.append(_Level(scorer=SCORERS[c].fit(Xj, yj, self.feature_names), cmap=cmap))
        return self

    def predict_proba(self, X) -> np.ndarray:
        """(n, n_thresholds) calibrated P(k* >= t), non-increasing along the thresholds."""
        X = np.asarray(X, float)
        return monotone_cumulative(np.column_stack([lv.proba(X) for lv in self.levels_]))

    # -- serialisation
    def to_entry(self, prefix: str) -> tuple:
        """(manifest entry, {file name: LightGBM text})."""
        levels, files = [], {}
        for t, lv, nk, npos, ob in zip(self.thresholds, self.levels_, self.n_known_, self.n_positive_,
                                       self.oof_brier_):
            e = {"k": int(t), "n_known": nk, "n_positive": npos, "oof_brier": ob, "file": None, "linear": None}
            if lv.scorer is None:
                e.update(learner=None, constant=float(lv.constant), calibration=None)
            else:
                e.update(learner=lv.scorer.kind, constant=None, calibration=lv.cmap.to_dict())
                if lv.scorer.kind == "lgbm":
                    name = f"{prefix}-k{t}.txt"
                    files[name] = lv.booster.model_to_string()
                    e["file"] = name
                else:
                    e["linear"] = lv.scorer.to_dict()
            levels.append(e)
        return {"features": self.feature_names, "thresholds": [int(t) for t in self.thresholds],
                "calibration": self.calibration, "learner": self.learner, "levels": levels}, files

    @classmethod
    def from_entry(cls, entry, texts: dict):
        """The model of one manifest entry (:meth:`to_entry`) and its LightGBM texts. The entry's
        types, shapes and ranges were checked once, when the manifest was read
        (:func:`~._files.read_manifest` against :func:`~._files.easytrans_schema`: constants in
        [0, 1], one coefficient, mean and scale per feature); what only a parsed LightGBM text
        can tell (its feature count) is checked here."""
        import lightgbm as lgb

        m = cls(entry["features"], entry["thresholds"], calibration=entry["calibration"],
                learner=entry.get("learner", "auto"))
        m.levels_, m.n_known_, m.n_positive_, m.oof_brier_ = [], [], [], []
        for e in entry["levels"]:
            m.n_known_.append(int(e["n_known"]))
            m.n_positive_.append(int(e["n_positive"]))
            m.oof_brier_.append(dict(e.get("oof_brier") or {}))
            if e.get("learner") is None:
                m.levels_.append(_Level(constant=float(e["constant"])))
                continue
            cmap = _map_from_dict(e["calibration"])
            if e["learner"] == "logistic":
                lin = e["linear"]
                scorer = _LinearScorer(lin["mean"], lin["scale"], lin["coef"], lin["intercept"])
                m.levels_.append(_Level(scorer=scorer, cmap=cmap))
                continue
            if e["learner"] != "lgbm":
                raise InputError(f"unknown EasyTransferability learner {e['learner']!r}")
            text = texts.get(e.get("file") or "")
            if not text:
                raise InputError(f"EasyTransferability model file {e.get('file')} is missing")
            try:
                booster = lgb.Booster(model_str=text)
            except Exception as exc:  # noqa: BLE001 - a corrupt model file is bad input
                raise InputError(f"cannot read LightGBM model {e['file']}: "
                                 f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
            if booster.num_feature() != len(m.feature_names):
                raise InputError(f"LightGBM model {e['file']} has {booster.num_feature()} features, "
                                 f"the manifest names {len(m.feature_names)}")
            m.levels_.append(_Level(scorer=_LGBMScorer(booster), cmap=cmap))
        return m


def label_equivalent(p, thresholds, levels=INTERVAL_LEVELS, *, supported=None) -> dict:
    """The predicted k* (median) and interval from cumulative probabilities ``p`` (one pair).

    ``P(k* >= t) = p[t]``; the q-quantile of k* is the largest ladder value t with
    ``P(k* >= t) > 1 - q`` (0 when none). The point is the median; the interval runs from the
    ``levels[0]`` to the ``levels[1]`` quantile. ``open_ended`` marks an upper end at the
    ladder's top ("or more": k* >= top is all the ladder can say). ``supported`` (the largest
    rung a k-shot comparison could use on this target, :func:`supported_rung`) caps the claim:
    the text never names more labelled samples per class than the target could hold, and says
    so (``capped``).
    """
    p = np.asarray(p, float)
    thresholds = list(thresholds)

    def quantile(q):
        ok = [t for t, pt in zip(thresholds, p) if pt > 1 - q + 1e-12]
        return int(max(ok)) if ok else 0

    point, lo, hi = quantile(0.5), quantile(levels[0]), quantile(levels[1])
    top = thresholds[-1]
    capped = supported is not None and hi > supported
    if capped:
        point, lo, hi = min(point, supported), min(lo, supported), supported
    open_ended = bool(hi == top and not capped)
    upper = f"{hi} or more" if open_ended else str(hi)
    if hi == 0:
        text = "worth less than 1 labelled target sample per class"
    elif lo == hi:
        text = f"worth {'at least' if open_ended else 'about'} {hi} labelled target samples per class"
    else:
        text = f"worth about {lo}–{upper} labelled target samples per class"
    if capped:
        text += (f" (this target is too small to compare beyond {supported} per class"
                 if supported else " (this target is too small for any k-shot comparison") + ")"
    return {"point": point, "interval": [lo, hi], "levels": list(levels), "open_ended": open_ended,
            "capped": bool(capped), "ladder": [0] + [int(t) for t in thresholds], "text": text}


# -- training and model files ---------------------------------------------------------------------
def calibration_groups(table):
    return "base" if len(set(table.bases.tolist())) >= 3 else "family"


def fit_easytrans(records, *, includes_default: bool, choices: dict | None = None, calibration=None,
                  tables: dict | None = None, progress=None) -> "EasyTransModels":
    """Fit EasyTransferability (labelled and label-free models) for every base estimator.

    Parameters
    ----------
    records : iterable of dict
        Store records (:func:`transferability.meta.learners._table.load_records`).
    includes_default : bool
        Whether the shipped records are among ``records`` (recorded in the manifest).
    choices : dict, default=None
        Base estimator -> ``{"metrics", "selection", "learners"}`` from the group-held-out
        evaluation (:func:`transferability.meta.evaluation.train_easytrans`); ``learners`` maps
        ``labelled`` / ``label_free`` to a :data:`LEARNER_CHOICES` entry. Without one, ``auto``
        and no metrics.
    calibration : {"sigmoid", "isotonic"}, default=None (sigmoid)
    tables : dict, default=None
        :func:`build_label_tables` of ``records``, when the caller has it already.
    progress : callable, default=None
        Called with one-line progress messages.

    Returns
    -------
    EasyTransModels
    """
    from transferability import __version__

    from ._distance import TrainingDistance
    from ._features import FEATURE_NAMES, FEATURE_SCHEMA_VERSION
    from ._files import file_entry, shipped_records_hash

    records = sorted(records, key=lambda r: r["key"])  # the same records in any order train the same files
    tables = build_label_tables(records) if tables is None else tables
    choices = choices or {}
    chosen = calibration or "sigmoid"
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "feature_schema": FEATURE_SCHEMA_VERSION,
        "feature_names": list(FEATURE_NAMES), "label_free_features": list(LABEL_FREE_FEATURES),
        "store_hash": records_hash(records), "includes_default": bool(includes_default),
        "default_records_hash": shipped_records_hash() if includes_default else None,
        "n_records": len(records), "library_version": __version__, "threshold": THRESHOLD,
        "default_k": DEFAULT_K, "interval_levels": list(INTERVAL_LEVELS), "files": {}, "models": {},
    }
    texts = {}
    for be, table in tables.items():
        by = calibration_groups(table)
        choice = choices.get(be) or {}
        learners = choice.get("learners") or {}
        entry = {"thresholds": [int(t) for t in table.thresholds], "n_pairs": table.n_pairs,
                 "calibration_groups": by, "dropped": dict(table.dropped),
                 "n_censored": int(table.censored.sum()),
                 "kstar_counts": {str(int(k)): int(np.sum(table.kstar == k)) for k in [0] + table.thresholds},
                 "calibration": chosen, "metrics": choice.get("metrics") or {},
                 "selection": choice.get("selection")}
        for kind, feats in (("labelled", list(FEATURE_NAMES)), ("label_free", list(LABEL_FREE_FEATURES))):
            learner = learners.get(kind, "auto")
            if progress:
                progress(f"easytrans {be}: fitting the {kind} model ({learner}, {chosen} calibration)")
            model = CumulativeModel(feats, table.thresholds, calibration=chosen, learner=learner).fit(
                table.columns(feats), table.Y, table.groups(by))
            sub, files = model.to_entry(f"easytrans-{be}-{kind.replace('_', '-')}")
            sub["uses_source_labels"] = kind == "labelled"
            sub["ood"] = TrainingDistance.fit(table.columns(feats)).to_dict()
            entry[kind] = sub
            texts.update(files)
        manifest["models"][be] = entry
    manifest["files"] = {name: file_entry(text) for name, text in sorted(texts.items())}
    return EasyTransModels(manifest, texts)


def save_easytrans(models: "EasyTransModels", directory) -> list:
    """Write the LightGBM texts, then ``easytrans.json`` (model format 2: with each text's
    sha256 and size), into ``directory``; returns the paths.

    ``easytrans-*.txt`` files of an earlier training that this model set no longer has are
    removed, so the directory holds exactly one model set. A kill between the texts and the
    manifest leaves texts the old manifest's hashes refuse; ``transferability meta train``
    writes the whole directory at once (:func:`~._files.write_model_directory`)."""
    from transferability.utils.io import atomic_write_text

    from ._files import manifest_text

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in sorted(models.texts.items()):
        atomic_write_text(directory / name, text)
        paths.append(str(directory / name))
    for old in sorted(directory.glob("easytrans-*.txt")):  # a previous training's levels that are gone now
        if old.name not in models.texts:
            old.unlink()
    atomic_write_text(directory / MANIFEST, manifest_text(models.manifest))
    paths.append(str(directory / MANIFEST))
    return paths


def load_easytrans(directory=None, *, check_default=True) -> "EasyTransModels":
    """Read an EasyTransferability model directory (default: the shipped models), checking
    everything before use (:func:`~._files.read_manifest`).

    Raises
    ------
    InputError
        One line naming the file and the field: a missing, unreadable, oversized or non-regular
        manifest or model file; another format, model format 1 (migrate it), another feature
        schema; a field of the wrong type, shape or range; a model file outside the directory
        or not matching its sha256 and size; a MetaTrans manifest beside it trained on another
        store; or shipped records other than those the models were trained on.
    """
    from ._files import models_dir, read_manifest

    directory = models_dir() if directory is None else Path(directory)
    _, manifest, texts = read_manifest(directory, MANIFEST, FORMAT, "EasyTransferability", check_default=check_default)
    return EasyTransModels(manifest, texts, directory=str(directory))


class EasyTransModels:
    """The manifest and LightGBM texts of a model directory (``directory`` None: fitted in
    memory, so no other learner's models belong to them)."""

    def __init__(self, manifest: dict, texts: dict, directory: str | None = None):
        self.manifest, self.texts, self.directory = manifest, texts, directory
        self._cache = {}

    @property
    def base_estimators(self):
        return sorted(self.manifest["models"])

    def model(self, base_estimator: str, *, uses_source_labels: bool = True):
        """``(CumulativeModel, TrainingDistance, entry)`` of one base estimator and model kind
        (the entry was checked against :func:`~._files.easytrans_schema` when read)."""
        from ._distance import TrainingDistance

        if base_estimator not in self.manifest["models"]:
            raise InputError(f"no EasyTransferability model for base estimator '{base_estimator}'; "
                             f"these models know {', '.join(self.base_estimators)}")
        kind = "labelled" if uses_source_labels else "label_free"
        key = (base_estimator, kind)
        if key not in self._cache:
            entry = self.manifest["models"][base_estimator]
            sub = entry[kind]
            model = CumulativeModel.from_entry(sub, self.texts)
            self._cache[key] = (model, TrainingDistance.from_dict(sub["ood"]), entry)
        return self._cache[key]


# -- prediction -----------------------------------------------------------------------------------
@dataclass
class Assessment:
    """What ``score`` answers; :meth:`to_dict` is the ``score --json`` contract.

    ``score`` is None when the answer is an abstention (``abstained``: the learners cannot judge
    this pair, ``reason`` says why); ``rule`` names the rule of
    :mod:`~transferability.meta.learners._guards` that decided the answer, if one did; ``method``
    is the method the score is about (the one ``recommend`` names for the pair)."""

    score: float | None
    k: int
    label_equivalent: dict
    probabilities: dict
    divergences: dict
    in_distribution: bool
    nearest_distance: float | None
    ood_threshold: float | None
    uses_source_labels: bool
    base_estimator: str
    preprocess: str
    n_source: int
    n_target: int
    n_features: int
    meta_features: dict = field(default_factory=dict)
    threshold: float = THRESHOLD
    method: str | None = None
    rule: str | None = None
    reason: str | None = None
    notes: list = field(default_factory=list)
    label_value: dict | None = None

    @property
    def abstained(self) -> bool:
        return self.score is None

    @property
    def worth_transferring(self) -> bool | None:
        return None if self.score is None else bool(self.score > self.threshold)

    def to_dict(self) -> dict:
        from transferability import __version__

        return {
            "score": self.score, "worth_transferring": self.worth_transferring, "threshold": self.threshold,
            "k": self.k, "label_equivalent": self.label_equivalent, "method": self.method,
            "abstained": self.abstained, "rule": self.rule, "reason": self.reason, "notes": list(self.notes),
            "probabilities": {str(k): v for k, v in self.probabilities.items()},
            "divergences": self.divergences, "in_distribution": self.in_distribution,
            "nearest_distance": self.nearest_distance, "ood_threshold": self.ood_threshold,
            "uses_source_labels": self.uses_source_labels, "model": "labelled" if self.uses_source_labels else "label_free",
            "base_estimator": self.base_estimator, "preprocess": self.preprocess,
            "n_source": self.n_source, "n_target": self.n_target, "n_features": self.n_features,
            "meta_features": self.meta_features, "label_value": self.label_value, "version": __version__,
        }


def _resolve(models):
    if isinstance(models, EasyTransModels):
        return models
    return load_easytrans(models)


def _check_k_and_models(k, base_estimator, uses_source_labels, models):
    models = _resolve(models)
    model, ood, entry = models.model(base_estimator, uses_source_labels=uses_source_labels)
    j = threshold_index(k, model.thresholds)
    return models, model, ood, j


def supported_rung(features: dict, thresholds) -> int | None:
    """The largest ladder k a k-shot comparison could use on this target: a k-shot baseline needs
    more than k rows in every class, so at most the largest k below the target's rows per source
    class (None when the class count is unknown: no source labels)."""
    n_classes, n_target = features.get("n_classes"), features.get("n_target")
    if not n_classes or not n_target:
        return None
    per_class = float(n_target) / float(n_classes)
    return max([int(t) for t in thresholds if t < per_class], default=0)


def _metatrans_answer(features, base_estimator, models) -> tuple:
    """``(method, label_value)``: the method ``recommend`` names for these features with the
    MetaTrans models of the same directory, and the value of labels for pairs like it
    (:func:`~._verify.label_value`); ``(None, None)`` without those models (a model set fitted
    in memory has none beside it), or without the source-label features."""
    from ._features import FEATURE_NAMES
    from ._modelfiles import MANIFEST as MT_MANIFEST, load_models
    from ._verify import label_value, load_label_rules

    if any(features.get(f) is None for f in FEATURE_NAMES) or not models.directory:
        return None, None
    directory = Path(models.directory)
    if not (directory / MT_MANIFEST).is_file():
        return None, None
    ms = load_models(directory)
    mt = ms.model(base_estimator)
    return mt.methods[mt.predict(features)["pick"]], label_value(load_label_rules(ms), base_estimator, mt, features)


def assess_from_features(features: dict, *, k=DEFAULT_K, base_estimator="1nn", uses_source_labels=None,
                         models=None, sizes=None, preprocess="none", facts=None, method=None) -> Assessment:
    """EasyTransferability for a pair given its meta-features (see :func:`assess`).

    ``uses_source_labels=None`` picks the labelled model when every meta-feature is present,
    else the label-free one. ``facts`` (:class:`~._guards.PairFacts`) feed the rules that hold by
    construction (:func:`~._guards.judge`); without them only the size rule applies. ``method``
    is the method the answer is about (default: the MetaTrans pick of the same model directory).
    """
    from ._features import FEATURE_NAMES
    from ._guards import judge

    if uses_source_labels is None:
        uses_source_labels = all(features.get(f) is not None for f in FEATURE_NAMES)
    models, model, ood, j = _check_k_and_models(k, base_estimator, uses_source_labels, models)
    missing = [f for f in model.feature_names if features.get(f) is None]
    if missing:
        raise InputError(f"meta-features lack {', '.join(missing[:3])}")
    if sizes is None:
        sizes = (features["n_source"], features["n_target"], features["n_features"])
    verdict = judge(facts, features)
    value = None
    if method is None and not verdict.abstain:
        picked, value = _metatrans_answer(features, base_estimator, models)
        method = "no_adapt" if verdict.rule else picked
    x = np.array([[float(features[f]) for f in model.feature_names]])
    nearest = ood.nearest(x[0])
    common = dict(
        k=int(k), divergences={f[4:]: float(features[f]) for f in LABEL_FREE_FEATURES if f.startswith("div_")},
        in_distribution=True if ood.threshold is None else bool(nearest <= ood.threshold),
        nearest_distance=nearest, ood_threshold=ood.threshold, uses_source_labels=bool(uses_source_labels),
        base_estimator=base_estimator, preprocess=preprocess, n_source=int(sizes[0]), n_target=int(sizes[1]),
        n_features=int(sizes[2]), meta_features={f: float(features[f]) for f in features if features[f] is not None},
        method=method, rule=verdict.rule, notes=list(verdict.notes), label_value=value)
    if verdict.abstain:
        return Assessment(score=None, probabilities={}, reason=verdict.abstain,
                          label_equivalent={"point": None, "interval": None, "text": verdict.abstain,
                                            "ladder": [0] + [int(t) for t in model.thresholds]}, **common)
    if verdict.no_signal:
        zero = {int(t): 0.0 for t in model.thresholds}
        return Assessment(score=0.0, probabilities=zero, reason=verdict.no_signal,
                          label_equivalent={**label_equivalent(np.zeros(len(model.thresholds)), model.thresholds),
                                            "text": "worth nothing: the source labels carry no signal"}, **common)
    p = model.predict_proba(x)[0]
    return Assessment(
        score=float(p[j]), label_equivalent=label_equivalent(p, model.thresholds,
                                                             supported=supported_rung(features, model.thresholds)),
        probabilities={int(t): float(v) for t, v in zip(model.thresholds, p)}, **common)


def label_free_features(X_source, X_target, *, random_state=0, **raw) -> dict:
    """The meta-features of :data:`LABEL_FREE_FEATURES`, equal to what
    :func:`~transferability.meta.compute_meta_features` gives for them with labels (each feature
    group has its own seeded stream), computed without source labels. ``raw`` (``X_source_raw``,
    ``X_target_raw``) is passed on."""
    from ._features import compute_meta_features

    return compute_meta_features(X_source, None, X_target, random_state=random_state, **raw)


def assess(X_source, y_source, X_target, *, k=DEFAULT_K, base_estimator="1nn", preprocess="none", models=None,
           random_state=0) -> Assessment:
    """Is this labelled source worth transferring to this unlabelled target?

    Parameters
    ----------
    X_source : array-like of shape (n_source, n_features)
    y_source : array-like of shape (n_source,) or None
        Source labels; None uses the label-free model (``uses_source_labels`` False).
    X_target : array-like of shape (n_target, n_features)
        Unlabelled target (its labels are never needed).
    k : int, default=10
        The user's labelling budget per class: the score is P(k* >= k).
    base_estimator : str, default="1nn"
    preprocess : str, default="none"
        One of :data:`transferability.datasets.PREPROCESSING`, applied before the meta-features.
    models : str, path or EasyTransModels, default=None
        A model directory (default: the shipped models).
    random_state : int, default=0
        Seed of the meta-features' subsampling.

    Returns
    -------
    Assessment
        ``score`` > 0.5 means worth transferring.

    Examples
    --------
    >>> from transferability.datasets import make_demo_pair
    >>> from transferability.meta.learners._easytrans import assess
    >>> source, target = make_demo_pair(n_source=120, n_target=100, random_state=0)
    >>> a = assess(source.X, source.y, target.X)
    >>> 0.0 <= a.score <= 1.0 and a.uses_source_labels
    True
    """
    from ._features import pair_meta_features

    uses = y_source is not None
    models, _, _, _ = _check_k_and_models(k, base_estimator, uses, models)  # fail before the meta-features
    features, sizes, facts = pair_meta_features(X_source, y_source, X_target, preprocess=preprocess,
                                                random_state=random_state, with_facts=True)
    return assess_from_features(features, k=k, base_estimator=base_estimator, uses_source_labels=uses,
                                models=models, sizes=sizes, preprocess=preprocess, facts=facts)
