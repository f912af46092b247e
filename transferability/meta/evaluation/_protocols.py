"""Honest, group-held-out evaluation of the MetaTrans candidates.

Two protocols: leave-one-family-out (``by="family"``) and leave-one-base-out (``by="base"``:
no pair of the test base dataset, hence no variant of a test task, in training). In each outer
fold every candidate is fit on the training groups only; the guarded policies' margins and the
conformal quantiles come from :func:`~transferability.meta.learners._metatrans.inner_calibration` on
those training groups. Nothing is tuned on the test group.

Metrics per test pair (aggregated per family, family-macro overall, and over pairs):

- regret: best accuracy over the library - accuracy of the recommended method, in points;
- negative transfer: the recommended method's accuracy < no_adapt's - 1 point;
- top-1: the recommended method is one of the pair's best;
- NDCG@3 with gains ``acc - min acc`` of the pair; Spearman rho of predicted scores vs accuracies;
- effective-call accuracy: ``predicted effect > 1`` agrees with ``acc > acc_no_adapt`` (methods
  other than no_adapt);
- interval coverage: the 80 % interval holds the measured effect (methods other than no_adapt).

Baselines: oracle, always no_adapt, random (expectation over a uniform pick) and the best fixed
method (chosen on the training groups) as the ``fixed`` candidate.
"""

from __future__ import annotations

import numpy as np

from transferability.meta.learners._metatrans import (
    FixedDefault, KNNEffect, LGBMEffect, LGBMRank, guarded_pick, inner_calibration,
)
from transferability.meta.learners._table import TrainingTable

__all__ = ["CANDIDATES", "evaluate_protocol", "ood_figures", "pair_metrics", "summarize", "baseline_metrics", "NEG_POINTS",
           "learning_curve"]

CANDIDATES = ("fixed", "knn", "lgbm", "ranker", "guarded_knn", "guarded_lgbm")
NEG_POINTS = 1.0
METRICS = ("regret", "neg_transfer", "top1", "ndcg3", "spearman", "effective_acc", "coverage")


def _ndcg3(scores, accuracy):
    gains = accuracy - accuracy.min()
    ideal = np.sort(gains)[::-1][:3]
    disc = 1.0 / np.log2(np.arange(2, 5))
    idcg = float(np.sum(ideal * disc[:len(ideal)]))
    if idcg <= 0:
        return 1.0
    order = np.argsort(-scores, kind="stable")[:3]
    return float(np.sum(gains[order] * disc[:len(order)]) / idcg)


def _spearman(a, b):
    from scipy.stats import spearmanr

    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return np.nan
    return float(spearmanr(a, b).statistic)


def pair_metrics(accuracy, picks, scores=None, effects=None, lower=None, upper=None, *, no_adapt: int):
    """Per-pair metric columns (dict name -> (n_pairs,) array; NaN where not defined)."""
    n, m = accuracy.shape
    rows = np.arange(n)
    best = accuracy.max(axis=1)
    chosen = accuracy[rows, picks]
    out = {
        "regret": 100.0 * (best - chosen),
        "neg_transfer": (chosen < accuracy[:, no_adapt] - NEG_POINTS / 100.0).astype(float),
        "top1": (chosen >= best - 1e-12).astype(float),
    }
    nan = np.full(n, np.nan)
    out["ndcg3"] = nan.copy() if scores is None else np.array([_ndcg3(scores[i], accuracy[i]) for i in rows])
    out["spearman"] = nan.copy() if scores is None else np.array([_spearman(scores[i], accuracy[i]) for i in rows])
    others = [j for j in range(m) if j != no_adapt]
    if effects is None:
        out["effective_acc"] = nan.copy()
    else:
        actual = accuracy[:, others] > accuracy[:, [no_adapt]]
        out["effective_acc"] = ((effects[:, others] > 0) == actual).mean(axis=1)
    if lower is None:
        out["coverage"] = nan.copy()
    else:
        a0 = np.maximum(accuracy, 0.01)
        true = np.log(a0[:, others] / a0[:, [no_adapt]])
        out["coverage"] = ((true >= lower[:, others] - 1e-12) & (true <= upper[:, others] + 1e-12)).mean(axis=1)
    return out


def baseline_metrics(accuracy, *, no_adapt: int):
    """Oracle, always no_adapt and random (the expectation of a uniform pick), per pair."""
    n, m = accuracy.shape
    best = accuracy.max(axis=1)
    na = accuracy[:, no_adapt]
    nan = np.full(n, np.nan)
    out = {
        "oracle": {"regret": np.zeros(n), "neg_transfer": (best < na - 0.01).astype(float), "top1": np.ones(n)},
        "no_adapt": pair_metrics(accuracy, np.full(n, no_adapt), no_adapt=no_adapt),
        "random": {"regret": 100.0 * (best[:, None] - accuracy).mean(axis=1),
                   "neg_transfer": (accuracy < na[:, None] - 0.01).mean(axis=1),
                   "top1": (accuracy >= best[:, None] - 1e-12).mean(axis=1)},
    }
    for b in ("oracle", "random"):
        for k in METRICS:
            out[b].setdefault(k, nan.copy())
    return out


def _protocol_fold(table: TrainingTable, by: str, g, coverage, candidates) -> dict:
    """One outer fold of :func:`evaluate_protocol`: fit on every group but ``g``, predict ``g``."""
    groups = table.groups(by)
    test = groups == g
    train = table.subset(~test)
    Xt = table.X[test]
    nt, m = int(test.sum()), len(table.methods)
    out = {k: {c: np.full((nt, m), np.nan) for c in candidates} for k in ("scores", "effects", "lower", "upper")}
    out["picks"] = {c: np.zeros(nt, dtype=int) for c in candidates}
    need_inner = any(c.startswith("guarded") or c in ("fixed", "knn", "lgbm") for c in candidates)
    cal = inner_calibration(train, by, coverage=coverage) if need_inner else None
    fixed = FixedDefault().fit(train, train.groups(by))
    fitted = {"fixed": fixed}
    if any("knn" in c for c in candidates):
        fitted["knn"] = KNNEffect().fit(train)
    if any("lgbm" in c for c in candidates):
        fitted["lgbm"] = LGBMEffect().fit(train)
    if "ranker" in candidates:
        fitted["ranker"] = LGBMRank().fit(train)
    fold = {"default": table.methods[fixed.default_], "n_train": train.n_pairs, "margins": {}}
    from transferability.meta.learners._distance import TrainingDistance

    dist = TrainingDistance.fit(train.X)  # the shipped models' out-of-distribution flag, fitted on this fold
    nearest = dist.distances(Xt).min(axis=1)
    out["ood"] = np.zeros(nt, dtype=bool) if dist.threshold is None else nearest > dist.threshold
    for c in candidates:
        base = c.replace("guarded_", "")
        model = fitted[base]
        if c == "ranker":
            s = model.scores(Xt)
            out["scores"][c] = s
            out["picks"][c] = np.argmax(s, axis=1)
            continue
        eff = model.predict(Xt)
        qlo, qhi = cal["quantiles"][base]
        out["effects"][c], out["lower"][c], out["upper"][c] = eff, eff + qlo, eff + qhi
        if c == "fixed":
            s = model.scores(Xt)
            p = np.full(len(Xt), fixed.default_)
        elif c.startswith("guarded_"):
            margin = cal["margins"][base]
            fold["margins"][base] = margin
            p = guarded_pick(eff, fixed.default_, margin, table.methods.index("no_adapt"))
            s = eff.copy()
            s[np.arange(len(p)), p] = np.inf
        else:
            s = eff
            p = np.argmax(eff, axis=1)
        out["scores"][c] = s
        out["picks"][c] = p
    out["fold"] = fold
    return out


def evaluate_protocol(table: TrainingTable, by: str, *, coverage=0.8, candidates=CANDIDATES, n_jobs=1,
                      progress=None):
    """Run every candidate under leave-one-``by``-out; per-pair predictions and metrics.

    The outer folds are independent and deterministic: ``n_jobs`` worker processes give the same
    result as one (:func:`~transferability.utils.parallel.map_ordered`).

    Returns
    -------
    dict
        ``by``, ``methods``, ``families`` and ``groups`` per pair, ``picks`` / ``scores`` /
        ``effects`` / ``lower`` / ``upper`` per candidate, ``metrics`` (candidate or baseline
        -> metric -> per-pair array), ``folds`` (per test group: the fixed default and the
        guarded margins chosen on its training groups).
    """
    from transferability.utils.parallel import map_ordered

    groups = table.groups(by)
    n, m = table.accuracy.shape
    j0 = table.methods.index("no_adapt")
    store = {k: {c: np.full((n, m), np.nan) for c in candidates} for k in ("scores", "effects", "lower", "upper")}
    picks = {c: np.zeros(n, dtype=int) for c in candidates}
    ood = np.zeros(n, dtype=bool)
    folds = {}
    names = list(np.unique(groups))
    results = map_ordered(_protocol_fold, [(table, by, g, coverage, tuple(candidates)) for g in names],
                          n_jobs=n_jobs, progress=progress,
                          describe=lambda a: f"{table.base_estimator}: {by} {a[2]} done")
    for g, r in zip(names, results):
        test = groups == g
        for k in store:
            for c in candidates:
                store[k][c][test] = r[k][c]
        for c in candidates:
            picks[c][test] = r["picks"][c]
        ood[test] = r["ood"]
        folds[str(g)] = r["fold"]
    metrics = {}
    for c in candidates:
        eff = None if c == "ranker" else store["effects"][c]
        metrics[c] = pair_metrics(table.accuracy, picks[c], scores=store["scores"][c], effects=eff,
                                  lower=None if eff is None else store["lower"][c],
                                  upper=None if eff is None else store["upper"][c], no_adapt=j0)
    metrics.update(baseline_metrics(table.accuracy, no_adapt=j0))
    return {"by": by, "methods": list(table.methods), "families": table.families, "groups": groups,
            "picks": picks, **store, "metrics": metrics, "folds": folds, "base_estimator": table.base_estimator,
            "ood": ood}


def ood_figures(table: TrainingTable, result, candidate) -> dict:
    """Does the out-of-distribution flag carry information? For ``candidate``'s held-out picks:
    the pairs flagged (nearest training pair beyond the fold's 99th-percentile threshold) and
    not, their mean regret (points), and the mean regret of all pairs if flagged pairs fell back
    to ``no_adapt`` instead (the policy the issue asks for, measured before it is shipped)."""
    acc = table.accuracy
    best = acc.max(axis=1)
    rows = np.arange(len(best))
    j0 = table.methods.index("no_adapt")
    reg = 100 * (best - acc[rows, result["picks"][candidate]])
    reg_na = 100 * (best - acc[:, j0])
    flag = np.asarray(result["ood"], dtype=bool)
    mean = lambda v: float(np.mean(v)) if len(v) else None  # noqa: E731
    return {"n_flagged": int(flag.sum()), "n_pairs": int(len(flag)), "regret_flagged": mean(reg[flag]),
            "regret_unflagged": mean(reg[~flag]), "no_adapt_regret_flagged": mean(reg_na[flag]),
            "regret_all": mean(reg), "regret_all_with_fallback": mean(np.where(flag, reg_na, reg))}


def summarize(result, *, per="family"):
    """Aggregate per-pair metrics: ``overall`` (macro over ``per``), ``pairs`` (mean), and per group.

    90th-percentile regret is over pairs (``regret_p90``).
    """
    labels = result["families"] if per == "family" else result["groups"]
    out = {}
    for name, cols in result["metrics"].items():
        entry = {"overall": {}, "pairs": {}, "groups": {}}
        for k, v in cols.items():
            ok = ~np.isnan(v)
            if not ok.any():
                entry["overall"][k] = entry["pairs"][k] = None
                continue
            entry["pairs"][k] = float(np.mean(v[ok]))
            per_group = {str(g): float(np.nanmean(v[labels == g])) for g in np.unique(labels[ok])
                         if np.any(ok[labels == g])}
            entry["overall"][k] = float(np.mean(list(per_group.values())))
            for g, val in per_group.items():
                entry["groups"].setdefault(g, {})[k] = val
        reg = cols["regret"]
        entry["overall"]["regret_p90"] = entry["pairs"]["regret_p90"] = float(np.percentile(reg, 90))
        for g in np.unique(labels):
            entry["groups"].setdefault(str(g), {})["regret_p90"] = float(np.percentile(reg[labels == g], 90))
        out[name] = entry
    return out


def _curve_family(table: TrainingTable, fam, orders, add_back, learners) -> dict:
    """The learning curve of one family (:func:`learning_curve`), for the given task orders."""
    from transferability.meta.learners._metatrans import make_learner

    j0 = table.methods.index("no_adapt")
    kmax = max(add_back)
    in_fam = table.families == fam
    repeats = len(orders)
    curves = {l: np.zeros(len(add_back)) for l in learners}
    n_test = 0
    for order in orders:
        test_tasks, pool = order[kmax:], order[:kmax]
        test = in_fam & np.isin(table.tasks, test_tasks)
        n_test += int(test.sum())
        Xt = table.X[test]
        for ik, k in enumerate(add_back):
            train = table.subset((~in_fam) | np.isin(table.tasks, pool[:k]))
            fixed = FixedDefault().fit(train, train.families)
            for l in learners:
                if l == "fixed":
                    p = np.full(len(Xt), fixed.default_)
                elif l.startswith("guarded_"):
                    base = l.replace("guarded_", "")
                    cal = inner_calibration(train, "family", learners=(base,))
                    eff = make_learner(base).fit(train).predict(Xt)
                    p = guarded_pick(eff, fixed.default_, cal["margins"][base], table.methods.index("no_adapt"))
                else:
                    p = np.argmax(make_learner(l).fit(train).predict(Xt), axis=1)
                reg = pair_metrics(table.accuracy[test], p, no_adapt=j0)["regret"]
                curves[l][ik] += reg.mean() / repeats
    return {"add_back": list(add_back), "n_test_pairs": n_test // repeats,
            "regret": {l: [float(v) for v in c] for l, c in curves.items()}}


def learning_curve(table: TrainingTable, *, family_min_tasks=12, add_back=(0, 2, 5, 10), repeats=5,
                   learners=("fixed", "knn", "lgbm", "guarded_knn"), seed=0, n_jobs=1, progress=None):
    """Regret on a held-out family as whole tasks of it are added back to training.

    For each family with at least ``family_min_tasks`` tasks and each repeat, the family's tasks
    are shuffled; the last ``n_tasks - max(add_back)`` are the test tasks (the same for every
    point of the curve), and the first ``k`` are added back to the other families' pairs. Test
    tasks' variants are never in training. Returns ``{family: {learner: [mean regret per k]}}``
    plus ``n_test_pairs``. The task orders are drawn here, one generator for all families in
    sorted order, so ``n_jobs`` worker processes (one family each) give the same curves as one.
    """
    from transferability.utils.parallel import map_ordered

    rng = np.random.RandomState(seed)
    kmax = max(add_back)
    work = []
    for fam in sorted(set(table.families.tolist())):
        tasks = np.unique(table.tasks[table.families == fam])
        if len(tasks) < family_min_tasks or len(tasks) <= kmax:
            continue
        orders = [tasks[rng.permutation(len(tasks))] for _ in range(repeats)]
        work.append((table, fam, orders, tuple(add_back), tuple(learners)))
    res = map_ordered(_curve_family, work, n_jobs=n_jobs, progress=progress,
                      describe=lambda a: f"{table.base_estimator}: learning curve {a[1]} done")
    return {a[1]: r for a, r in zip(work, res)}
