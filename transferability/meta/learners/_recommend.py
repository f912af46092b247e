"""``recommend()``: rank the method library for a new pair before running any of it.

Preprocesses the pair (the same recipes as the store build), computes its meta-features
(target labels are never used), and asks the MetaTrans model of the chosen base estimator for
every method's predicted effect score, 80 % conformal interval, reasons and predicted runtime.
The result's :meth:`Recommendation.to_dict` is the ``recommend --json`` contract.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from transferability.utils.validation import InputError

__all__ = ["recommend", "recommend_from_features", "Recommendation", "MethodPrediction"]


@dataclass
class MethodPrediction:
    """One method's line of the ranking."""

    method: str
    predicted_effect: float
    interval: tuple
    effective: bool
    confidently_effective: bool
    reasons: list
    predicted_runtime_s: float

    def to_dict(self) -> dict:
        return {"method": self.method, "predicted_effect": self.predicted_effect,
                "interval": [self.interval[0], self.interval[1]], "effective": self.effective,
                "confidently_effective": self.confidently_effective, "reasons": self.reasons,
                "predicted_runtime_s": self.predicted_runtime_s}


@dataclass
class Recommendation:
    """What ``recommend`` answers; :meth:`to_dict` is the JSON contract (``docs/cli.md``).

    Attributes
    ----------
    ranking : list of MethodPrediction
        The recommended method first, then the others by predicted effect.
    best : str or None
        The recommended method (the verified pick with ``target_labels``); None when no method
        fits the budget.
    fallback : bool
        The fixed default was kept (no predicted gain cleared the margin), or a rule decided.
    in_distribution : bool
        The pair's nearest training pair is within the 99th-percentile distance.
    transferability : dict or None
        The ``score`` object (EasyTransferability) for the recommended zero-label method.
    abstained, rule, reason, notes
        The rules that hold by construction (a target too small to judge, source labels
        without signal) and what they said.
    label_value : dict or None
        Expected regret at 0, 10, 20, 50 labelled target rows for pairs like this one (from
        the model directory's ``label_value.json``), with a sentence in ``text``.
    verified : dict or None
        With ``target_labels``: every candidate's accuracy on the labelled rows, the verified
        pick and why, the k-shot verdict (see ``recommend --target-labels`` in ``docs/cli.md``).
    not_ranked : list of str
        Registered methods the models know nothing of (added after their training): not ranked
        and not verified until ``transferability meta train`` (and ``meta labels``) run again.
    """

    ranking: list
    best: str | None
    fallback: bool
    in_distribution: bool
    base_estimator: str
    preprocess: str
    candidate: str
    default: str
    nearest_distance: float
    ood_threshold: float | None
    n_source: int
    n_target: int
    n_features: int
    budget_s: float | None = None
    excluded_by_budget: list = field(default_factory=list)
    meta_features: dict = field(default_factory=dict)
    transferability: dict | None = None
    coverage: float = 0.8
    abstained: bool = False
    rule: str | None = None
    reason: str | None = None
    notes: list = field(default_factory=list)
    label_value: dict | None = None
    verified: dict | None = None
    not_ranked: list = field(default_factory=list)

    def to_dict(self) -> dict:
        from transferability import __version__

        return {
            "ranking": [p.to_dict() for p in self.ranking], "best": self.best, "fallback": self.fallback,
            "in_distribution": self.in_distribution, "transferability": self.transferability,
            "base_estimator": self.base_estimator, "preprocess": self.preprocess, "candidate": self.candidate,
            "default": self.default, "interval_coverage": self.coverage,
            "nearest_distance": self.nearest_distance, "ood_threshold": self.ood_threshold,
            "budget_s": self.budget_s, "excluded_by_budget": self.excluded_by_budget,
            "n_source": self.n_source, "n_target": self.n_target, "n_features": self.n_features,
            "meta_features": self.meta_features, "abstained": self.abstained, "rule": self.rule,
            "reason": self.reason, "notes": list(self.notes), "label_value": self.label_value,
            "verified": self.verified, "not_ranked": list(self.not_ranked), "version": __version__,
        }


def _resolve_models(models, easytrans=None):
    """``(ModelSet, EasyTransModels or None)``, every file read and checked.

    ``easytrans`` None: the EasyTransferability models beside ``models`` (the ``easytrans.json``
    of the directory the MetaTrans models were read from, the shipped one for the shipped
    models); a model set fitted in memory has none beside it, so it gets none (never the shipped
    ones). ``False``: none. Otherwise an :class:`EasyTransModels` or a directory. Models of two
    trainings (another ``store_hash``) are refused."""
    import os

    from ._easytrans import MANIFEST as EASY_MANIFEST, EasyTransModels, load_easytrans
    from ._modelfiles import ModelSet, load_models

    ms = models if isinstance(models, ModelSet) else load_models(models)
    if easytrans is False:
        return ms, None
    if easytrans is None:
        if ms.directory is None or not os.path.lexists(os.path.join(ms.directory, EASY_MANIFEST)):
            return ms, None
        easytrans = ms.directory
    easy = easytrans if isinstance(easytrans, EasyTransModels) else load_easytrans(easytrans)
    if easy.manifest["store_hash"] != ms.manifest["store_hash"]:
        mine, theirs = ms.directory or "fitted in memory", easy.directory or "fitted in memory"
        raise InputError(f"the MetaTrans models ({mine}, store {ms.manifest['store_hash']}) and the "
                         f"EasyTransferability models ({theirs}, store {easy.manifest['store_hash']}) come from two "
                         "trainings; use the models of one `transferability meta train`")
    return ms, easy


def recommend_from_features(features: dict, *, base_estimator="1nn", models=None, top=None, budget=None,
                            sizes=None, preprocess="none", k=10, easytrans=None, facts=None) -> Recommendation:
    """Rank the methods for a pair given its meta-features (see :func:`recommend`); the
    EasyTransferability answer for a labelling budget of ``k`` per class, from ``easytrans``
    (default: the EasyTransferability models of the same directory), goes under
    ``transferability`` (``None`` when there are none: a directory holding MetaTrans models
    only, or models fitted in memory without ``easytrans``).

    ``facts`` (:class:`~transferability.meta.learners._guards.PairFacts`) feed the rules that
    hold by construction (:func:`~transferability.meta.learners._guards.judge`): a target too
    small to judge is an abstention (``abstained``, ``reason``) whose safe action is
    ``no_adapt``; a source whose labels carry no signal gets ``no_adapt`` (no adaptation can
    put information back). Either way ``rule`` names the rule, and the ranking is still given,
    for information, behind ``no_adapt``."""
    if top is not None and (not isinstance(top, (int, np.integer)) or top < 1):
        raise InputError(f"top must be a positive integer, got {top!r}")
    if budget is not None and not (isinstance(budget, (int, float)) and budget > 0):  # NaN, 0, negatives
        raise InputError(f"budget must be a positive number of seconds, got {budget!r}")
    if budget == math.inf:  # an infinite budget is no budget
        budget = None
    ms, easy = _resolve_models(models, easytrans)
    model = ms.model(base_estimator)
    out = model.predict(features)
    if sizes is None:
        sizes = (features["n_source"], features["n_target"], features["n_features"])
    runtimes = model.runtime.predict(*sizes)
    eff = np.exp(out["log_effect"])
    lo, hi = np.exp(out["lower"]), np.exp(out["upper"])
    preds = []
    for j, m in enumerate(model.methods):
        preds.append(MethodPrediction(
            method=m, predicted_effect=float(eff[j]), interval=(float(lo[j]), float(hi[j])),
            effective=bool(eff[j] > 1.0), confidently_effective=bool(lo[j] > 1.0), reasons=out["reasons"][j],
            predicted_runtime_s=float(runtimes.get(m, float("nan")))))
    pick = out["pick"]
    from ._guards import judge

    verdict = judge(facts, features)
    if verdict.rule:
        pick = model.methods.index("no_adapt")
    # The recommended method first, then the rest by predicted effect (stable on name).
    order = [pick] + sorted((j for j in range(len(preds)) if j != pick), key=lambda j: (-eff[j], model.methods[j]))
    ranking = [preds[j] for j in order]
    excluded = []
    if budget is not None:
        excluded = [p.method for p in ranking if not p.predicted_runtime_s <= budget]
        ranking = [p for p in ranking if p.predicted_runtime_s <= budget]
    if top is not None:
        ranking = ranking[:top]
    best = ranking[0].method if ranking else None
    fallback = (bool(out["fallback"]) or verdict.rule is not None) and best == model.methods[pick]
    from ._easytrans import assess_from_features

    worth = None  # MetaTrans models alone answer without the score object
    if easy is not None:
        worth = assess_from_features(features, k=k, base_estimator=base_estimator, models=easy,
                                     sizes=sizes, preprocess=preprocess, facts=facts, method=best).to_dict()
    from transferability.methods import available_methods

    from ._verify import label_value, load_label_rules

    value = label_value(load_label_rules(ms), base_estimator, model, features)
    unranked = [m for m in available_methods() if m not in model.methods]
    notes = list(verdict.notes)
    if unranked:
        notes.append(f"not ranked: {', '.join(unranked)} (registered after these models were trained; "
                     "`transferability meta train` ranks them)")
    return Recommendation(
        label_value=value, not_ranked=unranked, ranking=ranking, best=best, fallback=fallback, in_distribution=out["in_distribution"],
        base_estimator=base_estimator, preprocess=preprocess, candidate=model.entry["candidate"],
        default=model.methods[model.default], nearest_distance=out["nearest_distance"],
        ood_threshold=model.ood_threshold, n_source=int(sizes[0]), n_target=int(sizes[1]), n_features=int(sizes[2]),
        budget_s=None if budget is None else float(budget), excluded_by_budget=excluded,
        meta_features={k: float(v) for k, v in features.items()},
        coverage=float(model.entry["conformal"]["coverage"]), transferability=worth,
        abstained=verdict.abstain is not None, rule=verdict.rule, reason=verdict.reason,
        notes=notes)


def recommend(X_source, y_source, X_target, *, base_estimator="1nn", preprocess="none", models=None, top=None,
              budget=None, random_state=0, k=10, easytrans=None, target_labels=None,
              progress=False) -> Recommendation:
    """Rank the shallow DA methods for a new pair from its meta-features alone.

    Parameters
    ----------
    X_source : array-like of shape (n_source, n_features)
    y_source : array-like of shape (n_source,)
    X_target : array-like of shape (n_target, n_features)
        Unlabelled target (its labels are never needed).
    base_estimator : str, default="1nn"
        The base estimator the methods would run with (a model per base estimator ships).
    preprocess : str, default="none"
        One of :data:`transferability.datasets.PREPROCESSING`, applied before the meta-features
        (as the store build does).
    models : str, path or ModelSet, default=None
        A model directory from ``transferability meta train`` (default: the shipped models).
    top : int, default=None
        Keep the first ``top`` methods of the ranking.
    budget : float, default=None
        Seconds: rank only methods whose predicted runtime fits (``math.inf``: no budget).
    random_state : int, default=0
        Seed of the meta-features' subsampling.
    k : int, default=10
        Labelling budget per class for the embedded EasyTransferability answer
        (``Recommendation.transferability``, the ``score`` object).
    easytrans : str, path, EasyTransModels or False, default=None
        The EasyTransferability models of that answer. None: those beside ``models`` (the same
        directory; the shipped ones for the shipped models); a :class:`ModelSet` fitted in
        memory has none beside it and gets no answer, never the shipped one. False: no answer.
        Models trained on another store than ``models`` are refused.
    target_labels : str, path, dict or (rows, labels), default=None
        A few labelled target rows: a CSV file with header ``row,label`` (``row``: 0-based
        position in ``X_target``), a ``{row: label}`` dict or a ``(rows, labels)`` pair; labels
        must be source classes. The candidates (the ranking; with ``budget``, those that fit
        in it, in ranking order, counted from the start of the call) run on the pair, each is
        scored on the labelled rows only, and the zero-label pick is kept unless another method
        leads it by more than ``c`` paired standard errors (the rule and ``c`` of the models'
        ``label_value.json``); the answer is under ``Recommendation.verified`` and ``best`` is
        the verified pick. The labels are used only to score: no method and no meta-feature
        sees them.
    progress : bool, default=False
        A progress bar over the verified methods (stderr, on a terminal only).

    Returns
    -------
    Recommendation

    Examples
    --------
    >>> from transferability.datasets import make_demo_pair
    >>> from transferability.meta.learners._recommend import recommend
    >>> source, target = make_demo_pair(n_source=120, n_target=100, random_state=0)
    >>> rec = recommend(source.X, source.y, target.X)
    >>> rec.best in [p.method for p in rec.ranking]
    True
    """
    import time

    from ._features import pair_meta_features

    started = time.perf_counter()
    models, easy = _resolve_models(models, easytrans)  # fail on bad model files before the meta-features
    models.model(base_estimator)
    if y_source is None:
        raise InputError("recommend needs source labels (the methods train on them)")
    labels = None
    if target_labels is not None:  # bad label files fail before the meta-features too
        from transferability.utils.validation import check_labels

        from ._verify import check_target_labels, load_label_rules

        load_label_rules(models)
        n_target = np.shape(X_target)[0] if np.ndim(X_target) == 2 else None
        if n_target is None:
            raise InputError("X_target must be 2-D (n_samples, n_features)")
        ys = check_labels(y_source, np.shape(X_source)[0], name="source labels")
        labels = check_target_labels(target_labels, n_target, np.unique(ys))
    features, sizes, facts, (Xs, ys, Xt) = pair_meta_features(
        X_source, y_source, X_target, preprocess=preprocess, random_state=random_state, with_arrays=True)
    rec = recommend_from_features(features, base_estimator=base_estimator, models=models,
                                  top=None if labels is not None else top, budget=budget, sizes=sizes,
                                  preprocess=preprocess, k=k, easytrans=False if easy is None else easy, facts=facts)
    if labels is None:
        return rec
    return _verified(rec, models, labels, Xs, ys, Xt, top=top, budget=budget, started=started,
                     random_state=random_state, progress=progress)


def _verified(rec, models, labels, Xs, ys, Xt, *, top, budget, started, random_state, progress):
    """``rec`` with its ``verified`` object, ``best`` the verified pick (first in the ranking)."""
    from ._verify import load_label_rules, rule_for, verify

    rule, origin = rule_for(load_label_rules(models), rec.base_estimator)
    if rec.best is None:
        raise InputError(f"no method is predicted to run within the {rec.budget_s:g} s budget, so none can be verified")
    # a rule that holds by construction (no source signal, the target is the source, too few
    # target rows) answered no_adapt: verification starts from that answer, never from the
    # fixed default the rule overrode
    start = rec.default if rule["start"] == "fixed" and rec.rule is None else rec.best
    runtimes = {p.method: p.predicted_runtime_s for p in rec.ranking}
    # no signal in the source labels, or a target that is the source: no_adapt holds by
    # construction, whatever a handful of rows say (a method leading there leads by luck), so
    # the rows are scored for information and nothing can replace it
    settled = rec.rule in ("no_source_signal", "target_is_source")
    v = verify(Xs, ys, Xt, labels, candidates=[p.method for p in rec.ranking], start=start,
               c=math.inf if settled else rule["c"],
               base_estimator=rec.base_estimator, budget=None if budget in (None, math.inf) else budget,
               runtimes=runtimes, started=started, random_state=random_state, progress=progress,
               rule_origin=origin, zero_label_pick=rec.best, start_rule=rule["start"])
    if settled:
        v["rule"]["c"] = rule["c"]  # the rule's own margin, for the record; it did not apply
        v["why"] = f"kept: {rec.reason} (a rule that holds by construction; the labelled rows are shown for information)"
    if rec.rule == "no_source_signal" and v["worth_transferring"]:
        # no method can put back a signal the source labels do not carry
        v["worth_transferring"] = False
        v["why"] += "; not worth transferring whatever these rows say: the source labels carry no signal"
    rec.verified = v
    pick = v["pick"]
    rec.ranking = sorted(rec.ranking, key=lambda p: p.method != pick)  # the verified pick first, stable
    if top is not None:
        rec.ranking = rec.ranking[:top]
    rec.best = pick
    rec.fallback = rec.fallback and not v["changed"]
    return rec
