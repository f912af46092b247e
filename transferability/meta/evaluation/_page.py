"""``docs/evaluation.md``: the MetaTrans evaluation page and its figures, from any store's records.

Written by ``transferability meta evaluate``; every number on the page comes from
:mod:`transferability.meta.evaluation._protocols` run on the records given, so re-running the command on
the same records rewrites the same tables.
"""

from __future__ import annotations

import math
import os
from collections import Counter

import numpy as np

from ._protocols import CANDIDATES, evaluate_protocol, learning_curve, ood_figures, summarize
from transferability.meta.learners._modelfiles import COVERAGE
from ._training import TOLERANCE_POINTS, choose_candidate
from transferability.meta.learners._runtime import RuntimeModel
from transferability.meta.learners._table import build_tables, records_hash
from transferability.utils.extras import pyplot, require
from ._easytrans_eval import FIGURES_NEED

__all__ = ["write_evaluation"]

ROWS = CANDIDATES + ("oracle", "no_adapt", "random")
LABELS = {"fixed": "best fixed (training groups)", "knn": "kNN over pairs", "lgbm": "LightGBM (method as category)",
          "ranker": "LGBMRanker (query = pair)", "guarded_knn": "guarded kNN", "guarded_lgbm": "guarded LightGBM",
          "oracle": "oracle", "no_adapt": "always no_adapt", "random": "random (expectation)"}
PROTOCOLS = {"family": "leave-one-family-out", "base": "leave-one-base-out"}


def _f(x, digits=2, pct=False):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{100 * x:.1f} %" if pct else f"{x:.{digits}f}"


def _overall_table(summary):
    head = ("| candidate | mean regret (pts) | p90 regret | negative transfer | top-1 | NDCG@3 | Spearman | "
            "effective-call acc. | 80 % coverage |\n|---|---|---|---|---|---|---|---|---|")
    rows = []
    for c in ROWS:
        o = summary[c]["overall"]
        rows.append(f"| {LABELS[c]} | {_f(o['regret'])} | {_f(o['regret_p90'])} | {_f(o['neg_transfer'], pct=True)} | "
                    f"{_f(o['top1'], pct=True)} | {_f(o['ndcg3'])} | {_f(o['spearman'])} | "
                    f"{_f(o['effective_acc'], pct=True)} | {_f(o['coverage'], pct=True)} |")
    return head + "\n" + "\n".join(rows)


def _family_table(summary, metric="regret", pct=False):
    cols = ("fixed", "knn", "lgbm", "ranker", "guarded_knn", "guarded_lgbm", "no_adapt", "random")
    groups = sorted(summary["fixed"]["groups"])
    head = "| family | " + " | ".join(LABELS[c] for c in cols) + " |\n|---|" + "---|" * len(cols)
    rows = [f"| {g} | " + " | ".join(_f(summary[c]["groups"][g].get(metric), pct=pct) for c in cols) + " |"
            for g in groups]
    return head + "\n" + "\n".join(rows)


def _figure_regret(results, path):
    plt = pyplot(FIGURES_NEED)

    cands = ("fixed", "knn", "lgbm", "ranker", "guarded_knn", "guarded_lgbm")
    fig, axes = plt.subplots(1, len(results), figsize=(5.5 * len(results), 3.8), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, (be, per) in zip(axes, results.items()):
        x = np.arange(len(cands))
        for k, (by, s) in enumerate(per.items()):
            vals = [s[c]["overall"]["regret"] for c in cands]
            ax.bar(x + (k - 0.5) * 0.38, vals, width=0.38, label=PROTOCOLS[by])
        ax.axhline(per["base"]["fixed"]["overall"]["regret"] if "base" in per else 0, color="k", lw=0.8, ls="--")
        ax.set_xticks(x)
        ax.set_xticklabels([c.replace("guarded_", "g-") for c in cands], rotation=30)
        ax.set_title(f"base estimator {be}")
        ax.set_ylabel("family-macro mean regret (points)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def _figure_curve(curves, path):
    plt = pyplot(FIGURES_NEED)

    fams = sorted({f for be in curves for f in curves[be]})
    if not fams:
        return False
    fig, axes = plt.subplots(len(curves), len(fams), figsize=(3.2 * len(fams), 2.8 * len(curves)), squeeze=False)
    for i, (be, cur) in enumerate(curves.items()):
        for j, fam in enumerate(fams):
            ax = axes[i, j]
            if fam not in cur:
                ax.axis("off")
                continue
            for l, ys in cur[fam]["regret"].items():
                ax.plot(cur[fam]["add_back"], ys, marker="o", label=l)
            ax.set_title(f"{be}: {fam}", fontsize=9)
            ax.set_xlabel("tasks of the family added back")
            if j == 0:
                ax.set_ylabel("regret on the rest (points)")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return True


def _figure_coverage(results, path):
    plt = pyplot(FIGURES_NEED)

    cands = ("fixed", "knn", "lgbm")
    fig, ax = plt.subplots(figsize=(6, 3.4))
    labels, vals = [], []
    for be, per in results.items():
        for by, s in per.items():
            for c in cands:
                labels.append(f"{be}\n{by}\n{c}")
                vals.append(100 * s[c]["overall"]["coverage"])
    ax.bar(np.arange(len(vals)), vals, color="tab:blue")
    ax.axhspan(75, 85, color="tab:green", alpha=0.2, label="goal 75–85 %")
    ax.set_xticks(np.arange(len(vals)))
    ax.set_xticklabels(labels, fontsize=6)
    ax.set_ylabel("coverage of 80 % intervals (%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def _posthoc_section(table, raw, cand, data_dir, progress):
    """Post-hoc selection on one full-size variant per real task, beside MetaTrans's LOBO picks."""
    from ._posthoc import SELECTORS, posthoc_selection
    from transferability.meta.build._recipes import real_specs

    names = set(table.names)
    specs = [s for s in real_specs() if s["name"].count("/") == 1 and s["name"] in names]
    if not specs:
        return ["No real task of the built-in recipe is in these records: post-hoc selection was not run.", ""]
    ph = posthoc_selection(specs, table.methods, base_estimator=table.base_estimator, data_dir=data_dir,
                           progress=progress)
    rows = [table.names.index(n) for n in ph["names"]]
    acc = ph["accuracy"]
    j0 = table.methods.index("no_adapt")
    best = acc.max(axis=1)

    def line(label, picks, cost):
        chosen = acc[np.arange(len(picks)), picks]
        return (f"| {label} | {np.mean(100 * (best - chosen)):.2f} | "
                f"{100 * np.mean(chosen < acc[:, j0] - 0.01):.1f} % | {100 * np.mean(chosen >= best - 1e-12):.1f} % | "
                f"{cost} |")
    feat_s, run_s, score_s = ph["features_s"].mean(), ph["run_all_s"].mean(), ph["scoring_s"].mean()
    L = [f"One full-size variant of each real task in the records ({len(specs)} pairs, base estimator "
         f"`{table.base_estimator}`), every method run again here; regret from these runs' accuracies. MetaTrans "
         "and the fixed default are their leave-one-base-out picks (trained without the pair's base).", "",
         "| selector | mean regret (pts) | negative transfer | top-1 | cost per pair (s, mean) |", "|---|---|---|---|---|",
         line("oracle", np.argmax(acc, axis=1), "—"),
         line(f"MetaTrans (`{cand}`, LOBO)", raw["picks"][cand][rows], f"{feat_s:.1f} (meta-features)"),
         line("best fixed (LOBO)", raw["picks"]["fixed"][rows], "0"),
         line("always no_adapt", np.full(len(rows), j0), f"{run_s / len(table.methods):.1f} (one method)")]
    for sname in SELECTORS:
        L.append(line(f"post-hoc: {sname.replace('_', ' ')}", ph["picks"][sname],
                      f"{run_s + score_s:.1f} (run all {run_s:.1f} + score {score_s:.1f})"))
    L += ["", f"Recommending costs {100 * feat_s / (run_s + score_s):.0f} % of running every method and "
          "scoring them, on these pairs (mean over pairs).", ""]
    return L


def _labels_part(models_dir) -> str:
    """The labelled-rows section from the models' ``label_value.json`` (``meta labels`` writes
    both), or a line saying how to produce it."""
    from transferability.meta.learners._modelfiles import load_models
    from transferability.meta.learners._verify import load_label_rules

    from ._labels import SECTION_END, SECTION_START, labels_section

    doc = load_label_rules(load_models(models_dir))
    if doc is None or not doc.get("evaluation"):
        return "\n".join([SECTION_START, "## A few labelled target rows: verified picks", "",
                          "Not in these models (`transferability meta labels --models DIR --data-dir DIR` simulates "
                          "it and writes this section).", SECTION_END])
    return labels_section(doc)


def write_evaluation(records, output="docs/evaluation.md", *, figures_dir=None, progress=None,
                     curve_repeats=5, posthoc_data_dir=None, include_easytrans=True, n_jobs=1, include_sanity=True,
                     sanity_models=None) -> list:
    """Evaluate every candidate on ``records`` and write the page and its PNG figures; returns the
    paths written. The figures need matplotlib (the ``report`` extra): without it,
    :class:`~transferability.utils.validation.InputError` before anything is evaluated.

    With ``posthoc_data_dir`` (the benchmark data directory), also runs post-hoc selection on the
    real tasks of the built-in recipe found in the records (minutes: every method is run again).
    With ``include_easytrans`` (and :mod:`transferability.meta.evaluation._easytrans_eval` present), the
    EasyTransferability section is written into the same page. ``n_jobs`` worker processes run
    the held-out folds (the page is the same for any number; LightGBM uses one thread per worker).
    With ``include_sanity``, the sanity suite (:mod:`._sanity`) runs on ``sanity_models`` (default:
    the shipped models, so run ``meta train`` first when the records changed) and its table goes
    into the page.
    """
    from transferability.utils.parallel import check_n_jobs

    check_n_jobs(n_jobs)
    require("matplotlib", extra="report", what=FIGURES_NEED)  # before minutes of evaluation, not after
    from transferability.utils.io import atomic_write_text

    records = list(records)
    tables = build_tables(records)
    out_dir = os.path.dirname(os.path.abspath(output))
    os.makedirs(out_dir, exist_ok=True)
    figures_dir = figures_dir or os.path.join(out_dir, "figures")
    rel_fig = os.path.relpath(figures_dir, out_dir)
    results, curves, fold_info, chosen, raws = {}, {}, {}, {}, {}
    for be, table in tables.items():
        results[be], fold_info[be] = {}, {}
        for by in ("family", "base"):
            if len(np.unique(table.groups(by))) < 3:
                continue
            if progress:
                progress(f"{be}: {PROTOCOLS[by]}")
            r = evaluate_protocol(table, by, coverage=COVERAGE, n_jobs=n_jobs)
            results[be][by] = summarize(r)
            fold_info[be][by] = r["folds"]
            raws.setdefault(be, {})[by] = r
        chosen[be] = choose_candidate(results[be])
        if progress:
            progress(f"{be}: learning curve")
        curves[be] = learning_curve(table, repeats=curve_repeats, n_jobs=n_jobs)
    written = []
    figs = {}
    os.makedirs(figures_dir, exist_ok=True)
    figs["regret"] = os.path.join(figures_dir, "metatrans_regret.png")
    _figure_regret(results, figs["regret"])
    figs["coverage"] = os.path.join(figures_dir, "metatrans_coverage.png")
    _figure_coverage(results, figs["coverage"])
    figs["curve"] = os.path.join(figures_dir, "metatrans_learning_curve.png")
    if not _figure_curve(curves, figs["curve"]):
        figs.pop("curve")
    written += list(figs.values())

    any_t = next(iter(tables.values()))
    fam_counts = Counter(any_t.families.tolist())
    L = ["# Evaluation", "",
         "Generated by `transferability meta evaluate` (do not edit by hand; re-run the command after the store "
         "changes). Nothing below is tuned on a test group: every candidate, the fixed default, the guarded "
         "margins and the conformal quantiles are fitted on the training groups of each fold, the margins and "
         "quantiles by an inner cross-validation over those training groups.", "",
         f"Records: {len(records)} pairs, store hash `{records_hash(records)}`; "
         f"{len(fam_counts)} families, {len(np.unique(any_t.bases))} bases, {len(np.unique(any_t.tasks))} tasks; "
         f"{len(any_t.methods)} methods ({', '.join(any_t.methods)}).", "",
         "| family | pairs | tasks | bases |", "|---|---|---|---|"]
    for fam in sorted(fam_counts):
        rows = any_t.families == fam
        L.append(f"| {fam} | {rows.sum()} | {len(np.unique(any_t.tasks[rows]))} | "
                 f"{', '.join(sorted(set(any_t.bases[rows].tolist())))} |")
    L += ["", "## MetaTrans", "",
          "Protocols: **leave-one-family-out** (each family held out in turn) and **leave-one-base-out** (each base "
          "dataset held out: no pair of it, hence no variant of a test task, in training). Overall figures are "
          "family-macro means (each family weighs the same) in both protocols; the 90th-percentile regret is over "
          "pairs. Regret = best accuracy over the library − accuracy of the recommended method, in points. "
          f"Negative transfer = the recommended method is more than {1} point below no_adapt. Effective-call "
          "accuracy and coverage are over (pair, method) with method ≠ no_adapt. The interval is split-conformal "
          "(hand-written weighted order statistics of the inner-CV log-effect residuals, per method, 80 %, every "
          "inner held-out group weighing the same, so the interval targets coverage of a new group).", "",
          "Candidates: the best fixed method (highest family-macro mean accuracy on the training groups); kNN over "
          "pairs (10 neighbours, standardised signed-log meta-features, distance-weighted); one LightGBM regressor "
          "of the log effect with the method as a category; an LGBMRanker (query = pair, graded relevance from "
          "the gap to the pair's best); and the **guarded** combinations, which keep the fixed default unless the "
          "learner's predicted gain (log effect) over it exceeds a margin chosen by inner group CV from "
          "{0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, ∞}.", ""]
    L += [f"![regret per candidate]({rel_fig}/metatrans_regret.png)", ""]
    goals = []
    for be, per in results.items():
        cand, reason = chosen[be]
        L += [f"### Base estimator `{be}`", "",
              f"**Shipped: `{cand}`**" + (f" — the fixed default is kept for every pair (`fallback: true`): {reason}."
                                           if cand == "fixed" else f" ({reason})."), ""]
        for by, s in per.items():
            L += [f"#### {PROTOCOLS[by]}", "", _overall_table(s), "",
                  "Regret per family (points):", "", _family_table(s), "",
                  "Negative-transfer rate per family:", "", _family_table(s, "neg_transfer", pct=True), ""]
            defaults = Counter(f["default"] for f in fold_info[be][by].values())
            margins = {g: f["margins"] for g, f in fold_info[be][by].items()}
            L += [f"Fixed default chosen per fold: {dict(defaults)}. Guarded margins per held-out group: "
                  + "; ".join(f"{g}: " + ", ".join(f"{k} {'∞' if math.isinf(v) else v}" for k, v in m.items())
                              for g, m in margins.items()) + ".", ""]
        shipped = cand
        by_ood = "base" if "base" in raws.get(be, {}) else "family" if "family" in raws.get(be, {}) else None
        if by_ood is not None:
            o = ood_figures(tables[be], raws[be][by_ood], shipped)
            L += [f"Out-of-distribution flag ({PROTOCOLS[by_ood]}, the shipped `{shipped}`; a held-out pair is "
                  "flagged when its nearest training pair is farther than the fold's 99th percentile of the "
                  f"training pairs' leave-one-out nearest distances): {o['n_flagged']} of {o['n_pairs']} pairs "
                  f"flagged; mean regret {_f(o['regret_flagged'])} points on flagged pairs against "
                  f"{_f(o['regret_unflagged'])} on the others; falling back to no_adapt on the flagged pairs "
                  f"would cost them {_f(o['no_adapt_regret_flagged'])} points (all pairs: "
                  f"{_f(o['regret_all'])} → {_f(o['regret_all_with_fallback'])}).", ""]
        fixed_b = per.get("base", per.get("family"))["fixed"]["overall"]
        ship_b = per.get("base", per.get("family"))[shipped]["overall"]
        worst = max(per[p][shipped]["overall"]["regret"] - per[p]["fixed"]["overall"]["regret"] for p in per)
        learner = "knn" if shipped == "fixed" else shipped.replace("guarded_", "")  # the shipped effect model
        cov = [per[p][learner]["overall"]["coverage"] for p in per]
        goals.append((be, shipped, fixed_b, ship_b, worst, cov))
    L += ["## Goals of the MetaTrans issue", "",
          "| base estimator | shipped | LOBO regret (shipped / fixed) | ≤ ½ fixed? | worst protocol vs fixed (pts) | "
          f"≤ +{TOLERANCE_POINTS}? | LOBO negative transfer (shipped / fixed) | ≤ ½ fixed? | coverage (LOFO, LOBO) | "
          "75–85 %? |", "|---|---|---|---|---|---|---|---|---|---|"]
    for be, shipped, fb, sb, worst, cov in goals:
        L.append(f"| {be} | {shipped} | {_f(sb['regret'])} / {_f(fb['regret'])} | "
                 f"{'met' if sb['regret'] <= 0.5 * fb['regret'] else 'NOT met'} | {worst:+.2f} | "
                 f"{'met' if worst <= TOLERANCE_POINTS else 'NOT met'} | {_f(sb['neg_transfer'], pct=True)} / "
                 f"{_f(fb['neg_transfer'], pct=True)} | "
                 f"{'met' if sb['neg_transfer'] <= 0.5 * fb['neg_transfer'] else 'NOT met'} | "
                 + ", ".join(_f(c, pct=True) for c in cov) + " | "
                 + ("met" if all(0.75 <= c <= 0.85 for c in cov) else "NOT met") + " |")
    L += ["", "The shipped candidate is chosen by these same protocols (lowest leave-one-base-out regret among the "
          f"candidates that are never more than {TOLERANCE_POINTS} points worse than the fixed default and have no "
          "higher negative-transfer rate), so its own row is slightly optimistic: the choice among six candidates "
          "was made on these test groups, although nothing inside a candidate was.", ""]
    L += [f"![interval coverage]({rel_fig}/metatrans_coverage.png)", ""]
    L += ["## Learning curve: do a user's own records help?", "",
          "Hold out a family; add back 0, 2, 5 and 10 of its *tasks* (all their variants) to the training pairs; "
          "measure mean regret on the family's other tasks (never a variant of an added task), averaged over "
          f"{curve_repeats} random task orders. Families with at least 12 tasks.", ""]
    for be, cur in curves.items():
        if not cur:
            L += [f"`{be}`: no family has enough tasks.", ""]
            continue
        L += [f"`{be}`:", "", "| family (test pairs) | learner | +0 | +2 | +5 | +10 |", "|---|---|---|---|---|---|"]
        for fam, c in cur.items():
            for l, ys in c["regret"].items():
                L.append(f"| {fam} ({c['n_test_pairs']}) | {l} | " + " | ".join(f"{y:.2f}" for y in ys) + " |")
        L.append("")
    if "curve" in figs:
        L += [f"![learning curve]({rel_fig}/metatrans_learning_curve.png)", ""]
    L += ["## Runtime model", "",
          "`predicted_runtime_s` is a per-method log-log least-squares fit, log t = a + b log(n_source + n_target) "
          "+ c log d, on the store's recorded runtimes (not separate timing runs). The store's pairs have at most "
          "a few thousand rows, so predictions for much larger pairs are extrapolations. In-sample spread of the "
          "log residuals (a factor exp(sd)):", ""]
    for be, table in tables.items():
        rm = RuntimeModel().fit(table.sizes, table.runtime, table.methods)
        L.append(f"- `{be}`: " + ", ".join(f"{m} b={rm.coef_[m][1]:.2f} c={rm.coef_[m][2]:.2f} ×{math.exp(rm.resid_sd_[m]):.1f}"
                                           for m in table.methods))
    L += [""]
    try:  # EasyTransferability's section (issue 12), from the same records, when that module is there
        from ._easytrans_eval import easytrans_section
    except ImportError:
        easytrans_section = None
    if easytrans_section is not None and include_easytrans:
        if progress:
            progress("EasyTransferability section")
        from transferability.utils.validation import InputError

        try:
            from ._training import picks_from_protocol

            picks = {be: picks_from_protocol(tables[be], raws[be]["base" if "base" in raws[be] else "family"],
                                             chosen[be][0]) for be in raws}
            L += [easytrans_section(records, figures_dir, progress=progress, page_dir=out_dir, n_jobs=n_jobs,
                                    picks=picks).rstrip(), ""]
        except InputError as exc:  # e.g. records without k-shot baselines
            L += ["## EasyTransferability", "", f"Not evaluated on these records: {exc}.", ""]
    if include_sanity:
        from ._sanity import run_sanity, sanity_section

        if progress:
            progress("sanity suite")
        L += [sanity_section(run_sanity(models=sanity_models, progress=progress)).rstrip(), ""]
    L += ["## Post-hoc selection: running every method, then choosing without labels", "",
          "Circular (reverse) validation — fit the base estimator on the target with the method's predicted "
          "labels, score it on the labelled source — and ensemble agreement — the method agreeing most with "
          "the majority vote of all methods. Prediction entropy and soft neighbourhood density need class "
          "probabilities (the 1-NN base gives none) and importance-weighted validation a second fit of every "
          "method; they are not evaluated.", ""]
    ph_be = "1nn" if "1nn" in tables else next(iter(tables))
    if posthoc_data_dir is None or "base" not in raws.get(ph_be, {}):
        L += ["Not run this time (`transferability meta evaluate --posthoc-data DIR` runs it; it takes minutes).", ""]
    else:
        L += _posthoc_section(tables[ph_be], raws[ph_be]["base"], chosen[ph_be][0], posthoc_data_dir, progress)
    L += [_labels_part(sanity_models), ""]
    atomic_write_text(output, "\n".join(L))
    written.insert(0, output)
    return written
