"""Training the shipped learners: choose each learner's configuration by group-held-out
evaluation (this room's protocols), then fit it with the learners' own ``fit_*`` functions.

The learners never choose for themselves on held-out groups (they do not import this room): a
model set is whatever :func:`~transferability.meta.learners.fit_models` /
:func:`~transferability.meta.learners.fit_easytrans` are told to fit, and the choice, with the
figures it rests on, is made here and written into the manifest.
"""

from __future__ import annotations

import numpy as np

from transferability.meta.learners._easytrans import EasyTransModels, build_label_tables, fit_easytrans
from transferability.meta.learners._modelfiles import COVERAGE, SHIPPABLE, ModelSet, fit_models
from transferability.meta.learners._table import build_tables

__all__ = ["TOLERANCE_POINTS", "choose_candidate", "train_models", "train_easytrans", "recommender_picks",
           "picks_from_protocol"]

TOLERANCE_POINTS = 0.2  # a candidate may not be this much worse than the fixed default in any protocol


def choose_candidate(summaries: dict) -> tuple:
    """The candidate to ship, from ``{protocol: summarize(...)}``; returns (name, reason).

    The lowest leave-one-base-out (else leave-one-family-out) family-macro mean regret among
    :data:`SHIPPABLE`, among candidates no more than :data:`TOLERANCE_POINTS` worse than the
    fixed default in every protocol and with no higher negative-transfer rate in the deciding
    protocol. Within 0.05 points of the fixed default, the fixed default is kept.
    """
    if not summaries:
        return "fixed", "no protocol had three or more groups: the fixed default is kept"
    decide = "base" if "base" in summaries else "family"
    s = summaries[decide]
    fixed = s["fixed"]["overall"]
    best, best_reg = "fixed", fixed["regret"]
    for c in SHIPPABLE[1:]:
        ok = all(summaries[p][c]["overall"]["regret"] <= summaries[p]["fixed"]["overall"]["regret"] + TOLERANCE_POINTS
                 for p in summaries)
        ok = ok and s[c]["overall"]["neg_transfer"] <= fixed["neg_transfer"] + 1e-12
        if ok and s[c]["overall"]["regret"] < best_reg - 1e-12:
            best, best_reg = c, s[c]["overall"]["regret"]
    if best != "fixed" and best_reg > fixed["regret"] - 0.05:
        return "fixed", f"no candidate beat the fixed default by 0.05 points ({decide} protocol)"
    return best, (f"lowest leave-one-{decide}-out regret {best_reg:.3f} vs fixed {fixed['regret']:.3f}"
                  if best != "fixed" else f"no candidate beat the fixed default ({decide} protocol)")


def train_models(records, *, includes_default: bool, evaluate=True, progress=None, n_jobs=1) -> ModelSet:
    """Train MetaTrans for every base estimator in ``records``: with ``evaluate``, each
    candidate is evaluated leave-one-family-out and leave-one-base-out and
    :func:`choose_candidate` picks the one to ship (else the fixed default); returns the
    in-memory model set. ``n_jobs`` worker processes run the held-out folds (the files are the
    same for any number)."""
    from ._protocols import evaluate_protocol, summarize

    records = list(records)
    tables = build_tables(records)
    selections = {}
    for be, table in tables.items():
        summaries = {}
        if evaluate:
            for by in ("family", "base"):
                if len(np.unique(table.groups(by))) >= 3:
                    if progress:
                        progress(f"{table.base_estimator}: leave-one-{by}-out evaluation")
                    summaries[by] = summarize(evaluate_protocol(table, by, coverage=COVERAGE, n_jobs=n_jobs))
        candidate, reason = choose_candidate(summaries)
        selections[be] = {"candidate": candidate, "reason": reason, "summaries": summaries}
    return fit_models(records, includes_default=includes_default, selections=selections, tables=tables)


def picks_from_protocol(table, result, candidate) -> dict:
    """``{pair key: method}`` of ``candidate``'s held-out picks in an :func:`evaluate_protocol`
    result on ``table``."""
    return {k: table.methods[int(p)] for k, p in zip(table.keys, result["picks"][candidate])}


def recommender_picks(records, metatrans: ModelSet | None = None, *, n_jobs=1, progress=None) -> dict:
    """The method ``recommend`` would name for each pair of ``records``, made out of fold:
    base estimator -> ``{pair key: method}``. The candidate is ``metatrans``'s for that base
    estimator (the fixed default without models); each pair's pick comes from the model fitted
    without its calibration group (leave-one-base-out on three or more bases), so a training
    label never rests on a pick its own outcomes chose. These are the methods EasyTransferability's
    labels are about (DESIGN.md: k*(m̂))."""
    from transferability.meta.learners._metatrans import FixedDefault

    from ._protocols import evaluate_protocol

    out = {}
    for be, table in build_tables(records).items():
        entry = (metatrans.manifest.get("models") or {}).get(be) if metatrans is not None else None
        candidate = entry["candidate"] if entry else "fixed"
        by = "base" if len(np.unique(table.bases)) >= 3 else "family"
        if candidate == "fixed":  # the training groups' best fixed method, per held-out group
            groups = table.groups(by)
            out[be] = {}
            for g in np.unique(groups):
                test = groups == g
                train = table.subset(~test)
                m = table.methods[FixedDefault().fit(train, train.groups(by)).default_]
                out[be].update({k: m for k, te in zip(table.keys, test) if te})
            continue
        if progress:
            progress(f"easytrans {be}: held-out {candidate} picks for the labels (leave-one-{by}-out)")
        res = evaluate_protocol(table, by, coverage=COVERAGE, candidates=(candidate,), n_jobs=n_jobs)
        out[be] = picks_from_protocol(table, res, candidate)
    return out


def train_easytrans(records, *, includes_default: bool, evaluate: bool = True, calibration=None,
                    progress=None, picks=None, metatrans: ModelSet | None = None, n_jobs=1) -> EasyTransModels:
    """Train EasyTransferability (labelled and label-free models) for every base estimator.

    With ``evaluate``, every learner is evaluated leave-one-family-out and leave-one-base-out
    (:func:`~transferability.meta.evaluation._easytrans_eval.evaluate_table`) and the figures
    go into the manifest; the shipped learner of each kind is the inner ``auto`` choice
    (:func:`~transferability.meta.evaluation._easytrans_eval.choose_learners`), never the best
    held-out row. ``calibration`` defaults to sigmoid.

    The labels are about the method ``recommend`` names (k*(m̂)): ``picks`` gives it per pair,
    else :func:`recommender_picks` makes it out of fold with ``metatrans`` (the MetaTrans models
    trained beside these; without them, the fixed default)."""
    from ._easytrans_eval import CHOICES, compact_summary, evaluate_table

    records = sorted(records, key=lambda r: r["key"])
    if picks is None:
        picks = recommender_picks(records, metatrans, n_jobs=n_jobs, progress=progress)
    tables = build_label_tables(records, picks=picks)
    choices = {}
    if evaluate:
        for be, table in tables.items():
            if progress:
                progress(f"easytrans {be}: leave-one-family-out and leave-one-base-out evaluation")
            res = evaluate_table(table, learners=[c for cs in CHOICES.values() for c in cs])
            metrics = compact_summary({by: {c: e for c, e in s.items() if c not in CHOICES}
                                       for by, s in res["summary"].items()})
            learners = {kind: res["chosen"][f"{kind}_learner"] for kind in CHOICES if kind in res["chosen"]}
            choices[be] = {"metrics": metrics, "selection": res["chosen"] or None, "learners": learners}
    return fit_easytrans(records, includes_default=includes_default, choices=choices, calibration=calibration,
                         tables=tables, progress=progress)
