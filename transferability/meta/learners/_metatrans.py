"""MetaTrans: which shallow DA method will work best on a pair, and will it beat no adaptation?

The learners are fit on a :class:`~transferability.meta.learners._table.TrainingTable` (no store inside)
and predict, for every method, the **log effect score** ``log(acc_method / acc_no_adapt)``:

- :class:`FixedDefault` — the best fixed method: the one with the highest group-macro mean
  accuracy on the training groups; its "prediction" of every method is that method's training
  mean log effect (the static portfolio baseline);
- :class:`KNNEffect` — k nearest past pairs on standardised, signed-log meta-features,
  distance-weighted mean of their log effects; its reasons are those pairs, by name;
- :class:`LGBMEffect` — one LightGBM regressor on (meta-features, method as a category);
  its reasons are the largest ``pred_contrib`` contributions;
- :class:`LGBMRank` — a LightGBM lambdarank model, one query per pair (scores rank, they are not
  effects).

The **guarded** policy (:func:`guarded_pick`) keeps the fixed default unless the learner's
predicted gain over it (in log effect) exceeds a margin; :func:`inner_calibration` chooses that
margin, and the split-conformal residual quantiles of the 80 % intervals, by cross-validation
over the *training* groups only.

All LightGBM models are deterministic (``deterministic=True``, fixed seed, one thread), so the
same table gives byte-identical model text.
"""

from __future__ import annotations

import numpy as np

from ._distance import TrainingDistance
from ._table import TrainingTable

__all__ = ["FixedDefault", "KNNEffect", "LGBMEffect", "LGBMRank", "LGBM_PARAMS", "MARGINS",
           "guarded_pick", "inner_calibration", "conformal_quantiles", "group_macro_mean", "make_learner",
           "LEARNERS"]

LGBM_PARAMS = {
    "objective": "regression", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 10,
    "feature_fraction": 1.0, "bagging_fraction": 1.0, "lambda_l2": 1.0, "deterministic": True,
    "force_row_wise": True, "num_threads": 1, "seed": 0, "verbose": -1,
}
LGBM_ROUNDS = 200
RANK_ROUNDS = 100
# Candidate margins (log effect: 0.02 ~ a 2 % better predicted accuracy); inf = always the default.
MARGINS = (0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, float("inf"))


def group_macro_mean(values, groups):
    """Mean over groups of the per-group mean (each group weighs the same); works on columns."""
    values = np.asarray(values, dtype=np.float64)
    groups = np.asarray(groups)
    return np.mean([values[groups == g].mean(axis=0) for g in np.unique(groups)], axis=0)


class FixedDefault:
    """The best fixed method, chosen on the training groups (no meta-features used)."""

    name = "fixed"
    has_effect = True

    def fit(self, table: TrainingTable, groups=None):
        groups = table.families if groups is None else groups
        self.methods_ = list(table.methods)
        self.mean_accuracy_ = group_macro_mean(table.accuracy, groups)
        self.mean_log_effect_ = group_macro_mean(table.log_effect, groups)
        self.default_ = int(np.argmax(self.mean_accuracy_))
        return self

    def predict(self, X):
        n = np.asarray(X).shape[0]
        return np.tile(self.mean_log_effect_, (n, 1))

    def scores(self, X):
        n = np.asarray(X).shape[0]
        return np.tile(self.mean_accuracy_, (n, 1))


class KNNEffect:
    """Distance-weighted mean log effect of the ``n_neighbors`` nearest training pairs.

    The distances are the one distance to the training pairs,
    :class:`~transferability.meta.learners._distance.TrainingDistance` (signed-log
    meta-features standardised with the training mean and standard deviation; a missing value
    counts as the mean), which also holds the out-of-distribution threshold (``distance_``).
    """

    name = "knn"
    has_effect = True

    def __init__(self, n_neighbors=10):
        self.n_neighbors = n_neighbors

    @property
    def mean_(self):
        return self.distance_.scaler.mean

    @property
    def reference_(self):
        return self.distance_.reference

    def transform(self, X):
        return self.distance_.transform(X)

    def fit(self, table: TrainingTable, groups=None):
        self.distance_ = TrainingDistance.fit(table.X)
        self.log_effect_ = np.asarray(table.log_effect, dtype=np.float64)
        self.names_ = list(table.names)
        return self

    def distances(self, X):
        return self.distance_.distances(X)

    def neighbors(self, X):
        """(indices, distances) of the nearest training pairs, nearest first (stable ties)."""
        D = self.distances(X)
        k = min(self.n_neighbors, D.shape[1])
        idx = np.argsort(D, axis=1, kind="stable")[:, :k]
        return idx, np.take_along_axis(D, idx, axis=1)

    def predict(self, X):
        idx, dist = self.neighbors(X)
        w = 1.0 / (dist + 1e-6)
        w /= w.sum(axis=1, keepdims=True)
        return np.einsum("nk,nkm->nm", w, self.log_effect_[idx])

    scores = predict


def _long(X, n_methods):
    """Rows (pair, method): the meta-features and the method's code as the last column."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    Z = np.repeat(X, n_methods, axis=0)
    codes = np.tile(np.arange(n_methods, dtype=np.float64), n)
    return np.column_stack([Z, codes])


class LGBMEffect:
    """One LightGBM regressor of the log effect, with the method as a categorical feature."""

    name = "lgbm"
    has_effect = True

    def __init__(self, params=None, num_boost_round=LGBM_ROUNDS):
        self.params = params
        self.num_boost_round = num_boost_round

    def fit(self, table: TrainingTable, groups=None):
        import lightgbm as lgb

        m = len(table.methods)
        params = dict(LGBM_PARAMS if self.params is None else self.params)
        ds = lgb.Dataset(_long(table.X, m), label=table.log_effect.ravel(),
                         feature_name=list(table.feature_names) + ["method"],
                         categorical_feature=[len(table.feature_names)], params={"verbose": -1},
                         free_raw_data=True)
        self.booster_ = lgb.train(params, ds, num_boost_round=self.num_boost_round)
        self.n_methods_ = m
        self.feature_names_ = list(table.feature_names)
        self.no_adapt_ = list(table.methods).index("no_adapt")
        return self

    @classmethod
    def from_booster(cls, booster, methods, feature_names):
        """The fitted learner around a loaded ``booster`` (a model file's text), so that a loaded
        model predicts through the same code as the one that was fitted and evaluated."""
        self = cls()
        self.booster_ = booster
        self.n_methods_ = len(methods)
        self.feature_names_ = list(feature_names)
        self.no_adapt_ = list(methods).index("no_adapt")
        return self

    def predict(self, X):
        out = self.booster_.predict(_long(X, self.n_methods_), num_threads=1).reshape(-1, self.n_methods_)
        out[:, self.no_adapt_] = 0.0  # no_adapt's effect is 1 by definition
        return out

    scores = predict

    def contributions(self, X):
        """``pred_contrib`` per (pair, method, feature) without the method and bias columns."""
        c = self.booster_.predict(_long(X, self.n_methods_), pred_contrib=True, num_threads=1)
        return c[:, :len(self.feature_names_)].reshape(-1, self.n_methods_, len(self.feature_names_))


def _relevance(accuracy):
    """Graded relevance per (pair, method) from the gap to the pair's best accuracy (points)."""
    gap = 100.0 * (accuracy.max(axis=1, keepdims=True) - accuracy)
    return np.select([gap <= 0.5, gap <= 2.0, gap <= 5.0, gap <= 10.0], [4, 3, 2, 1], 0).astype(np.float64)


class LGBMRank:
    """LightGBM lambdarank: one query per past pair, one document per method."""

    name = "ranker"
    has_effect = False

    def fit(self, table: TrainingTable, groups=None):
        import lightgbm as lgb

        m = len(table.methods)
        params = dict(LGBM_PARAMS, objective="lambdarank", eval_at=[3], min_data_in_leaf=10)
        ds = lgb.Dataset(_long(table.X, m), label=_relevance(table.accuracy).ravel(),
                         group=[m] * table.n_pairs, categorical_feature=[len(table.feature_names)],
                         params={"verbose": -1})
        self.booster_ = lgb.train(params, ds, num_boost_round=RANK_ROUNDS)
        self.n_methods_ = m
        return self

    def scores(self, X):
        return self.booster_.predict(_long(X, self.n_methods_), num_threads=1).reshape(-1, self.n_methods_)

    predict = scores


LEARNERS = {"fixed": FixedDefault, "knn": KNNEffect, "lgbm": LGBMEffect, "ranker": LGBMRank}


def make_learner(name):
    return LEARNERS[name]()


def guarded_pick(effects, default, margin, no_adapt=None):
    """Index of the recommended method per pair under the guarded policy.

    The learner's top method replaces the fixed ``default`` only where its predicted log effect
    exceeds the default's by more than ``margin`` (``inf``: always the default). Where the
    default is kept but its own predicted effect is below 1 (log effect < 0) and ``no_adapt``
    (its column) is given, the fallback is ``no_adapt``: a default predicted to hurt is not kept.
    """
    effects = np.asarray(effects)
    top = np.argmax(effects, axis=1)
    rows = np.arange(len(top))
    gain = effects[rows, top] - effects[:, default]
    pick = np.where(gain > margin, top, default)
    if no_adapt is not None:
        hurts = (pick == default) & (effects[:, default] < effects[:, no_adapt])
        pick = np.where(hurts, no_adapt, pick)
    return pick


def conformal_quantiles(residuals, coverage=0.8, groups=None):
    """Split-conformal (lower, upper) residual quantiles per column.

    Hand-written order statistics: with ``n`` calibration residuals and ``a = (1 - coverage) / 2``,
    the lower bound is the ``floor(a (n + 1))``-th smallest and the upper the
    ``ceil((1 - a)(n + 1))``-th smallest (clipped to 1..n), so the interval
    ``[pred + lower, pred + upper]`` covers a new exchangeable residual with probability at least
    ``coverage`` (per tail ``a``).

    With ``groups``, every group weighs the same (each residual weighs ``1 / size of its group``):
    the weighted quantiles at levels ``a n / (n + 1)`` and ``1 - a n / (n + 1)``, ``n`` the number
    of groups. Calibrating on held-out groups, this targets coverage of a new *group* (which is
    how the evaluation counts it: family-macro), not of a new row of the largest groups.
    """
    R = np.asarray(residuals, dtype=np.float64)
    if R.ndim == 1:
        R = R[:, None]
    n = R.shape[0]
    if n == 0:
        return np.zeros(R.shape[1]), np.zeros(R.shape[1])
    a = (1.0 - coverage) / 2.0
    if groups is not None:
        groups = np.asarray(groups)
        _, inv, counts = np.unique(groups, return_inverse=True, return_counts=True)
        w = 1.0 / counts[inv]
        w = w / w.sum()
        k = len(counts)
        lo_level, hi_level = a * k / (k + 1), 1.0 - a * k / (k + 1)
        lo, hi = np.empty(R.shape[1]), np.empty(R.shape[1])
        for j in range(R.shape[1]):
            order = np.argsort(R[:, j], kind="stable")
            cw = np.cumsum(w[order])
            lo[j] = R[order[min(np.searchsorted(cw, lo_level - 1e-12), n - 1)], j]
            hi[j] = R[order[min(np.searchsorted(cw, hi_level - 1e-12), n - 1)], j]
        return lo, hi
    R = np.sort(R, axis=0)
    lo = int(np.clip(np.floor(a * (n + 1)), 1, n)) - 1
    hi = int(np.clip(np.ceil((1.0 - a) * (n + 1)), 1, n)) - 1
    return R[lo], R[hi]


def _inner_groups(table: TrainingTable, by: str):
    g = table.groups(by)
    if len(np.unique(g)) >= 3:
        return g
    t = table.tasks
    if len(np.unique(t)) >= 3:
        return t
    return np.arange(table.n_pairs) % max(2, min(5, table.n_pairs))


def macro_regret(accuracy, picks, groups):
    """Group-macro mean regret (points) of picking ``picks`` on each row."""
    rows = np.arange(len(picks))
    regret = 100.0 * (accuracy.max(axis=1) - accuracy[rows, picks])
    return float(group_macro_mean(regret, groups))


def inner_calibration(table: TrainingTable, by: str, learners=("knn", "lgbm"), coverage=0.8):
    """Out-of-group predictions on the training table, and what is chosen from them.

    Cross-validation over the training table's own groups (``by``; tasks, then folds of rows,
    when it has fewer than three groups). In each inner fold the fixed default and every
    learner are fit on the other groups and predict the held-out one.

    Returns
    -------
    dict
        ``oof`` (name -> (n_pairs, n_methods) out-of-group log-effect predictions, ``fixed``
        included), ``defaults`` (the inner folds' fixed default per row), ``margins``
        (learner -> chosen margin), ``margin_regret`` (learner -> {margin: inner regret}),
        ``quantiles`` (name -> (lower, upper) residual quantiles per method).
    """
    groups = _inner_groups(table, by)
    n, m = table.log_effect.shape
    names = ["fixed"] + [l for l in learners if l != "fixed"]
    oof = {k: np.zeros((n, m)) for k in names}
    defaults = np.zeros(n, dtype=int)
    for g in np.unique(groups):
        test = groups == g
        train = table.subset(~test)
        fixed = FixedDefault().fit(train, train.groups(by))
        defaults[test] = fixed.default_
        oof["fixed"][test] = fixed.predict(table.X[test])
        for name in names[1:]:
            oof[name][test] = make_learner(name).fit(train, train.groups(by)).predict(table.X[test])
    eval_groups = table.groups(by)
    j0 = table.methods.index("no_adapt")
    margins, margin_regret = {}, {}
    for name in names[1:]:
        rs = {}
        for mg in MARGINS:
            picks = np.array([guarded_pick(oof[name][i:i + 1], defaults[i], mg, j0)[0] for i in range(n)])
            rs[mg] = macro_regret(table.accuracy, picks, eval_groups)
        best = min(rs.values())
        margins[name] = max(mg for mg, r in rs.items() if r <= best + 1e-9)  # ties: the more cautious
        margin_regret[name] = rs
    quantiles = {k: conformal_quantiles(table.log_effect - oof[k], coverage, groups=eval_groups) for k in names}
    return {"oof": oof, "defaults": defaults, "margins": margins, "margin_regret": margin_regret,
            "quantiles": quantiles, "groups": groups}
