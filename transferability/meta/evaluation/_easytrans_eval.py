"""Group-held-out evaluation of EasyTransferability, and its section of ``docs/evaluation.md``.

Protocols: leave-one-family-out and leave-one-base-out (no pair of the test base dataset,
hence no variant of a test task, in training). In each outer fold every candidate is fit on
the training groups only; the model's calibration maps come from leave-one-group-out scores
*within* those training groups (the protocol's grouping). The calibration kind (sigmoid) was
fixed in advance; the other rows are shown beside it, not chosen from. Nothing is tuned on
the test groups.

Candidates, each giving P(k* >= t) for every ladder threshold t:

- ``labelled``: :class:`~transferability.meta.learners._easytrans.CumulativeModel` on every meta-feature,
  as ``meta train`` ships it (sigmoid calibration; per threshold LightGBM or logistic regression,
  chosen by out-of-fold Brier score within the training groups); beside it, for information
  only, the same with LightGBM only, logistic regression only, and isotonic calibration (none
  of these rows chooses the shipped configuration);
- ``label_free``: the shipped configuration on the label-free meta-features (what ``score``
  uses without source labels);
- ``base_rate``: the training groups' rate of ``k* >= t``;
- ``div_<name>``: one divergence alone, through a one-feature logistic regression on its
  signed log fitted on the training groups (its sign, hence its direction, chosen there).

Metrics at a threshold, over held-out pairs whose label there is known: mean within-group
ROC-AUC (test groups where both classes occur), pooled Brier score and Brier skill score
``1 - Brier / Brier(base_rate)``, accuracy of the call at 0.5, a 10-bin reliability curve and
its largest gap; for the learners also k* within one ladder step and the coverage of the
10–90 % k* interval (uncensored pairs).
"""

from __future__ import annotations

import math
import os
from collections import Counter

import numpy as np

from transferability.meta.learners._easytrans import (
    DEFAULT_K, LABEL_FREE_FEATURES, THRESHOLD, CumulativeModel, build_label_tables, label_equivalent,
)
from transferability.meta.learners._table import SignedLogScaler

__all__ = ["PROTOCOLS", "LEARNERS", "CHOICES", "choose_learners", "evaluate_table", "compact_summary", "threshold_metrics", "easytrans_section", "DIVERGENCES"]

PROTOCOLS = {"family": "leave-one-family-out", "base": "leave-one-base-out"}
#: who needs matplotlib, in the one-line error when it is missing (the page's figures and these)
FIGURES_NEED = "`meta evaluate` (the evaluation page's figures)"
DIVERGENCES = tuple(f for f in LABEL_FREE_FEATURES if f.startswith("div_"))
LEARNERS = {"labelled_auto": ("labelled", "sigmoid", "auto"),
            "labelled_lgbm": ("labelled", "sigmoid", "lgbm"),
            "labelled_logistic": ("labelled", "sigmoid", "logistic"),
            "labelled_isotonic": ("labelled", "isotonic", "auto"),
            "label_free_auto": ("label_free", "sigmoid", "auto"),
            "label_free_lgbm": ("label_free", "sigmoid", "lgbm"),
            "label_free_logistic": ("label_free", "sigmoid", "logistic")}
CHOICES = {"labelled": ("labelled_auto", "labelled_lgbm", "labelled_logistic"),
           "label_free": ("label_free_auto", "label_free_lgbm", "label_free_logistic")}
_LEARNER_WORDS = {"auto": "per threshold LightGBM or logistic (inner choice)", "lgbm": "LightGBM",
                  "logistic": "logistic regression"}
LABELS = {c: (f"{'all meta-features' if kind == 'labelled' else 'label-free'}, {_LEARNER_WORDS[lr]}"
              + (", isotonic" if cal == "isotonic" else "")) for c, (kind, cal, lr) in LEARNERS.items()}
LABELS["base_rate"] = "base rate (training groups)"
N_BINS = 10
GOALS = {"bss": 0.2, "auc": 0.80, "auc_margin": 0.05, "reliability": 0.1}


def _features(table, kind):
    from transferability.meta.learners._features import FEATURE_NAMES

    return list(FEATURE_NAMES) if kind == "labelled" else list(LABEL_FREE_FEATURES)


def _single_feature(xtr, Ytr, xte):
    """One-feature logistic regression per threshold (base rate where training labels are constant)."""
    from sklearn.linear_model import LogisticRegression

    sc = SignedLogScaler.fit(np.reshape(xtr, (-1, 1)))
    ztr, zte = sc.transform(np.reshape(xtr, (-1, 1))), sc.transform(np.reshape(xte, (-1, 1)))
    out = np.empty((len(xte), Ytr.shape[1]))
    for j in range(Ytr.shape[1]):
        known = ~np.isnan(Ytr[:, j])
        y = Ytr[known, j]
        if len(np.unique(y)) < 2:
            out[:, j] = float(y.mean()) if len(y) else 0.5
            continue
        lr = LogisticRegression(C=1.0).fit(ztr[known], y.astype(int))
        out[:, j] = lr.predict_proba(zte)[:, 1]
    return out


def _auc(y, p):
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def threshold_metrics(y, p, p_base, groups) -> dict:
    """Metrics of held-out probabilities ``p`` for labels ``y`` (NaN = unknown) at one threshold."""
    known = ~np.isnan(y)
    y, p, p_base, groups = y[known], p[known], p_base[known], np.asarray(groups)[known]
    per_group = {}
    for g in sorted(set(groups.tolist())):
        m = groups == g
        if 0 < y[m].sum() < m.sum():
            per_group[g] = _auc(y[m], p[m])
    brier = float(np.mean((p - y) ** 2)) if len(y) else math.nan
    brier0 = float(np.mean((p_base - y) ** 2)) if len(y) else math.nan
    bins = np.minimum((p * N_BINS).astype(int), N_BINS - 1)
    rel = []
    for b in range(N_BINS):
        m = bins == b
        if m.any():
            rel.append({"bin": b, "n": int(m.sum()), "mean_predicted": float(p[m].mean()),
                        "observed": float(y[m].mean())})
    gaps = [abs(r["mean_predicted"] - r["observed"]) for r in rel]
    gaps10 = [abs(r["mean_predicted"] - r["observed"]) for r in rel if r["n"] >= 10]
    return {
        "n": int(len(y)), "positive_rate": float(y.mean()) if len(y) else math.nan,
        "auc_within": float(np.mean(list(per_group.values()))) if per_group else math.nan,
        "n_auc_groups": len(per_group), "auc_groups": per_group,
        "auc_pooled": _auc(y, p) if 0 < y.sum() < len(y) else math.nan,
        "brier": brier, "brier_base_rate": brier0,
        "bss": float(1 - brier / brier0) if brier0 > 0 else math.nan,
        "accuracy": float(np.mean((p > THRESHOLD) == (y > 0.5))) if len(y) else math.nan,
        "reliability": rel, "max_gap": float(max(gaps)) if gaps else math.nan,
        "max_gap_n10": float(max(gaps10)) if gaps10 else math.nan,
    }


def _kstar_metrics(P, table):
    ladder = [0] + list(table.thresholds)
    ok = ~table.censored
    within, covered = [], []
    for i in np.flatnonzero(ok):
        le = label_equivalent(P[i], table.thresholds)
        true = ladder.index(int(table.kstar[i]))
        within.append(abs(ladder.index(le["point"]) - true) <= 1)
        lo, hi = le["interval"]
        covered.append(lo <= table.kstar[i] <= hi)
    return {"n": int(ok.sum()),
            "within_one_step": float(np.mean(within)) if within else math.nan,
            "interval_coverage": float(np.mean(covered)) if covered else math.nan}


def choose_learners(summary, k) -> dict:
    """The shipped learner of each model kind and, for information, every learner's Brier skill
    score at threshold ``k`` in the leave-one-base-out protocol (leave-one-family-out when there is
    no base protocol). The shipped learner is ``auto`` (per threshold LightGBM or logistic
    regression, whichever has the lower leave-one-group-out Brier score *within the training
    groups*), which is what ``meta train`` ships: nothing is chosen on the test groups, so the
    shipped rows are not the best of several held-out results."""
    by = "base" if "base" in summary else "family"
    out = {"protocol": by, "k": int(k)}
    for kind, cands in CHOICES.items():
        have = [c for c in cands if c in summary[by]]
        if not have:
            continue
        shipped = f"{kind}_auto" if f"{kind}_auto" in have else have[0]
        out[kind] = shipped
        out[f"{kind}_learner"] = LEARNERS[shipped][2]
        out[f"{kind}_bss"] = {c: summary[by][c]["thresholds"][k]["bss"] for c in have}
    return out


def _table_fold(table, by, g, learner_names) -> dict:
    """One outer fold of :func:`evaluate_table`: every candidate fitted without group ``g``,
    its probabilities on ``g`` (candidate -> (n_test, T) array)."""
    groups = table.groups(by)
    te, tr = groups == g, groups != g
    T = len(table.thresholds)
    Ytr = table.Y[tr]
    rate = np.array([np.nanmean(Ytr[:, j]) if np.any(~np.isnan(Ytr[:, j])) else 0.5 for j in range(T)])
    out = {"base_rate": np.tile(rate, (int(te.sum()), 1))}
    for c in learner_names:
        kind, cal, learner = LEARNERS[c]
        feats = _features(table, kind)
        m = CumulativeModel(feats, table.thresholds, calibration=cal, learner=learner).fit(
            table.columns(feats)[tr], Ytr, groups[tr])
        out[c] = m.predict_proba(table.columns(feats)[te])
    for d in DIVERGENCES:
        x = table.columns([d])[:, 0]
        out[d] = _single_feature(x[tr], Ytr, x[te])
    return out


def evaluate_table(table, protocols=("family", "base"), *, learners=None, progress=None, n_jobs=1) -> dict:
    """Held-out predictions and metrics of every candidate, per protocol with >= 3 groups.

    The outer folds are independent and deterministic: ``n_jobs`` worker processes give the same
    result as one.

    Returns
    -------
    dict
        ``{"predictions": {by: {candidate: (n, T) array}}, "summary": {by: {candidate: {...}}}}``;
        a candidate's summary holds ``thresholds`` (k -> :func:`threshold_metrics`) and, for the
        learners, ``kstar``.
    """
    from transferability.utils.parallel import map_ordered

    T = len(table.thresholds)
    preds, summary = {}, {}
    for by in protocols:
        groups = table.groups(by)
        names = sorted(set(groups.tolist()))
        if len(names) < 3:
            continue
        learner_names = list(LEARNERS if learners is None else learners)
        cands = learner_names + ["base_rate"] + list(DIVERGENCES)
        P = {c: np.full((table.n_pairs, T), np.nan) for c in cands}
        res = map_ordered(_table_fold, [(table, by, g, tuple(learner_names)) for g in names], n_jobs=n_jobs,
                          progress=progress,
                          describe=lambda a: f"easytrans {table.base_estimator}: {PROTOCOLS[by]}, {a[2]} done")
        for g, r in zip(names, res):
            te = groups == g
            for c in cands:
                P[c][te] = r[c]
        preds[by] = P
        s = {}
        for c in cands:
            s[c] = {"thresholds": {int(t): threshold_metrics(table.Y[:, j], P[c][:, j], P["base_rate"][:, j], groups)
                                   for j, t in enumerate(table.thresholds)}}
            if c in LEARNERS:
                s[c]["kstar"] = _kstar_metrics(P[c], table)
        summary[by] = s
    chosen = choose_learners(summary, _k_of(table)) if summary else {}
    for by in summary:  # the shipped ones under their kind's name
        for kind in CHOICES:
            if kind in chosen:
                summary[by][kind] = summary[by][chosen[kind]]
                preds[by][kind] = preds[by][chosen[kind]]
    return {"predictions": preds, "summary": summary, "chosen": chosen}


def compact_summary(summary) -> dict:
    """The summary's numbers for a manifest: per protocol and candidate, per threshold the
    scalar metrics (no per-group or per-bin lists), and the k* figures."""
    out = {}
    for by, s in summary.items():
        out[by] = {}
        for c, e in s.items():
            d = {"thresholds": {str(t): {n: v for n, v in m.items() if not isinstance(v, (list, dict))}
                                for t, m in e["thresholds"].items()}}
            if "kstar" in e:
                d["kstar"] = dict(e["kstar"])
            out[by][c] = d
    return out


# -- the page section -----------------------------------------------------------------------------
def _f(x, digits=3):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:.{digits}f}"


def _pct(x):
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f} %"


def _k_of(table):
    return DEFAULT_K if DEFAULT_K in table.thresholds else table.thresholds[-1]


def _figure_reliability(results, table, path):
    from transferability.utils.extras import pyplot

    plt = pyplot(FIGURES_NEED)

    k = _k_of(table)
    fig, axes = plt.subplots(1, len(results["summary"]), figsize=(5 * len(results["summary"]), 4.4), squeeze=False)
    for ax, (by, s) in zip(axes[0], results["summary"].items()):
        ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--")
        ax.fill_between([0, 1], [-0.1, 0.9], [0.1, 1.1], color="0.9", label="within 0.1")
        for c, style in (("labelled", "o-"), ("label_free", "s--"), ("base_rate", "x:")):
            rel = s[c]["thresholds"][k]["reliability"]
            ax.plot([r["mean_predicted"] for r in rel], [r["observed"] for r in rel], style, label=c.replace("_", " "))
            for r in rel:
                if c == "labelled":
                    ax.annotate(str(r["n"]), (r["mean_predicted"], r["observed"]), fontsize=7,
                                textcoords="offset points", xytext=(3, -9))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(f"predicted P(k* ≥ {k})")
        ax.set_ylabel("observed frequency")
        ax.set_title(f"{table.base_estimator}: {PROTOCOLS[by]}")
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _comparison_table(s, k, best_div, shipped=()):
    head = ("| predictor | within-group AUC (groups) | pooled AUC | Brier | Brier skill score | accuracy at 0.5 | "
            "largest reliability gap (bins with ≥ 10) |\n|---|---|---|---|---|---|---|")
    rows = []
    for c in [c for c in LEARNERS if c in s] + ["base_rate"] + list(DIVERGENCES):
        m = s[c]["thresholds"][k]
        label = LABELS.get(c, f"{c[4:]} alone") + (" (best single divergence)" if c == best_div else "")
        if c in shipped:
            label = f"**EasyTransferability ({label}) — shipped**"
        rows.append(f"| {label} | {_f(m['auc_within'])} ({m['n_auc_groups']}) | {_f(m['auc_pooled'])} | "
                    f"{_f(m['brier'], 4)} | {_f(m['bss'])} | {_pct(m['accuracy'])} | "
                    f"{_f(m['max_gap'])} ({_f(m['max_gap_n10'])}) |")
    return head + "\n" + "\n".join(rows)


def _best_div(s, k):
    vals = {d: s[d]["thresholds"][k]["auc_within"] for d in DIVERGENCES}
    vals = {d: v for d, v in vals.items() if not math.isnan(v)}
    return max(sorted(vals), key=lambda d: vals[d]) if vals else None


def _goal_lines(results, k):
    lines = []
    s = results["summary"]
    if "base" in s:
        bss = s["base"]["labelled"]["thresholds"][k]["bss"]
        lines.append(f"- Leave-one-base-out Brier skill score ≥ {GOALS['bss']}: **{'met' if bss >= GOALS['bss'] else 'NOT met'}** "
                     f"({_f(bss)}).")
    for by, ss in s.items():
        auc = ss["labelled"]["thresholds"][k]["auc_within"]
        bd = _best_div(ss, k)
        bdv = ss[bd]["thresholds"][k]["auc_within"] if bd else math.nan
        met = auc >= GOALS["auc"] and (math.isnan(bdv) or auc >= bdv + GOALS["auc_margin"])
        lines.append(f"- {PROTOCOLS[by]}: mean within-group AUC ≥ {GOALS['auc']:.2f} and ≥ best single divergence + "
                     f"{GOALS['auc_margin']}: **{'met' if met else 'NOT met'}** ({_f(auc)}; best divergence "
                     f"{bd[4:] if bd else '—'} {_f(bdv)}).")
        gap = ss["labelled"]["thresholds"][k]["max_gap"]
        lines.append(f"- {PROTOCOLS[by]}: every populated reliability bin within {GOALS['reliability']} of the diagonal: "
                     f"**{'met' if gap <= GOALS['reliability'] else 'NOT met'}** (largest gap {_f(gap)}; "
                     f"{_f(ss['labelled']['thresholds'][k]['max_gap_n10'])} over bins of ≥ 10 pairs).")
    return lines


def easytrans_section(records, figures_dir, *, progress=None, page_dir=None, learners=None, n_jobs=1,
                      picks=None) -> str:
    """The EasyTransferability section (markdown) of the evaluation page; writes its PNG figures.

    Parameters
    ----------
    records : iterable of dict
        Store records.
    figures_dir : str or path
        Where the figures go (created); the section links them relative to ``page_dir``
        (default: the parent of ``figures_dir``, i.e. the page sits beside ``figures/``).
    learners : list of str, default=None
        Keys of :data:`LEARNERS` to evaluate (default: all).
    n_jobs : int, default=1
        Worker processes for the held-out folds (the same result for any number).
    picks : dict, default=None
        base estimator -> ``{pair key: method}``: the method each label is about (the shipped
        MetaTrans candidate's held-out picks, as the page passes them); default: the best fixed
        method of the records.
    """
    from transferability.utils.extras import require

    require("matplotlib", extra="report", what=FIGURES_NEED)  # before the folds, not after
    figures_dir = os.fspath(figures_dir)
    os.makedirs(figures_dir, exist_ok=True)
    page_dir = os.path.dirname(os.path.abspath(figures_dir)) if page_dir is None else os.fspath(page_dir)
    tables = build_label_tables(records, picks=picks)
    out = ["## EasyTransferability: is this source worth it?", "",
           "The label is the **label-equivalent value** k\\*(m̂) of the method m̂ that `recommend` names for the "
           "pair (its held-out pick: the shipped MetaTrans candidate fitted without the pair's base, "
           "leave-one-base-out): the largest k of the store's k-shot ladder such that m̂'s accuracy reaches the "
           "k-shot baseline at every rung up to k, and 0 when m̂'s balanced accuracy does not beat chance "
           "(1 / classes, by two standard errors); the ladder's top means \"at least top\". (The earlier label, "
           "the best outcome over the whole library, credited an oracle chosen with target labels.) Pairs "
           "whose m̂ is each method: " + "; ".join(
               f"`{be}` " + ", ".join(f"{m} {n}" for m, n in Counter(tb.methods.tolist()).most_common())
               for be, tb in tables.items()) + ". The score is P(k\\* ≥ k) for the user's "
           "labelling budget k (default 10; above 0.5: worth transferring). One calibrated classifier per "
           "ladder threshold (LightGBM, L2 logistic regression on signed-log meta-features, or per threshold "
           "whichever of the two has the lower leave-one-group-out Brier score within the training groups), "
           "sigmoid maps fitted on leave-one-group-out scores within the training groups, probabilities made "
           "monotone across thresholds. Every figure below is on held-out groups. What `meta train` ships "
           "(marked **shipped**) is the per-threshold inner choice, made within the training groups; the "
           "LightGBM-only, logistic-only and isotonic rows are shown for information, and nothing is chosen "
           "from them on the test groups.", ""]
    for be, table in tables.items():
        k = _k_of(table)
        counts = ", ".join(f"k\\*={int(v)}: {int(np.sum(table.kstar == v))}" for v in [0] + table.thresholds)
        out += [f"### Base estimator `{be}`", "",
                f"{table.n_pairs} pairs, ladder {table.thresholds} (top {table.thresholds[-1]} means ≥ "
                f"{table.thresholds[-1]}); {counts}; {int(table.censored.sum())} censored (k\\* only a "
                f"lower bound: the next ladder k-shot value is unknown, the target being too small). Positive rate of k\\* ≥ {k}: {_pct(float(np.nanmean(table.Y[:, table.thresholds.index(k)])))}.", ""]
        results = evaluate_table(table, learners=learners, progress=progress, n_jobs=n_jobs)
        name = f"easytrans-reliability-{be}.png"
        _figure_reliability(results, table, os.path.join(figures_dir, name))
        rel = os.path.relpath(os.path.join(figures_dir, name), page_dir).replace(os.sep, "/")
        for by, s in results["summary"].items():
            bd = _best_div(s, k)
            out += [f"#### {PROTOCOLS[by]}, k = {k}", "", _comparison_table(s, k, bd, shipped=(results["chosen"].get("labelled"), results["chosen"].get("label_free"))), ""]
            kl = s["labelled"]["kstar"]
            kf = s["label_free"]["kstar"]
            out += [f"k\\* within one ladder step: {_pct(kl['within_one_step'])} (label-free "
                    f"{_pct(kf['within_one_step'])}); the 10–90 % k\\* interval holds the measured k\\* on "
                    f"{_pct(kl['interval_coverage'])} of {kl['n']} uncensored pairs (label-free "
                    f"{_pct(kf['interval_coverage'])}).", ""]
            head = "| threshold | pairs | positive rate | within-group AUC (groups) | Brier skill score | accuracy at 0.5 |\n|---|---|---|---|---|---|"
            rows = [f"| k\\* ≥ {t} | {m['n']} | {_pct(m['positive_rate'])} | {_f(m['auc_within'])} ({m['n_auc_groups']}) | "
                    f"{_f(m['bss'])} | {_pct(m['accuracy'])} |"
                    for t, m in s["labelled"]["thresholds"].items()]
            out += ["Shipped model at every threshold:", "", head, *rows, ""]
            groups = s["labelled"]["thresholds"][k]["auc_groups"]
            if groups:
                out += ["Within-group AUC per held-out group (model / best single divergence): " + "; ".join(
                    f"{g} {_f(v)} / {_f(s[bd]['thresholds'][k]['auc_groups'].get(g)) if bd else '—'}"
                    for g, v in groups.items()) + ".", ""]
        ch = results["chosen"]
        if ch:
            out += [f"Shipped: {LABELS[ch['labelled']]} (with source labels) and {LABELS[ch['label_free']]} "
                    f"(without). {PROTOCOLS[ch['protocol']]} Brier skill score at k = {ch['k']} of every learner "
                    "choice, for information (" + "; ".join(
                        f"{LABELS[c]} {_f(v)}" for kind in CHOICES for c, v in ch[f"{kind}_bss"].items())
                    + ").", ""]
        out += [f"![reliability, {be}]({rel})", "", "Goals (issue 12):", "", *_goal_lines(results, k), ""]
    return "\n".join(out)
