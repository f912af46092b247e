"""The value of a few target labels, measured on the store: every method's per-row target
predictions, and simulated draws of ``n`` labelled target rows.

The store keeps each method's target *accuracy*, not its predictions, so the simulation needs
them recomputed: :func:`compute_predictions` materialises each stored pair from its recipe (the
real ones from ``--data-dir``), runs every method with the parameters and seed the store
recorded, and writes one compressed NumPy file per pair and base estimator into a cache directory
(``predictions-<key>-<base>.npz``: integer class codes, no pickle); a pair already there is not
recomputed. The recomputed whole-target accuracies are compared with the stored ones
(:func:`agreement`), so a drift between the store and the code shows.

:func:`simulate` then draws, per pair, ``n`` target rows uniformly without replacement (what a
user who labels a random handful does), lets each selection rule decide from those rows only,
and judges the decision on the *other* target rows: the rows that decided are not the rows that
judge (scoring the pick on the rows it was picked on would credit it with its selection luck).
Regret is the best method's accuracy on those rows minus the chosen one's, in points; negative
transfer is the chosen one more than :data:`NEG_POINTS` below ``no_adapt`` there.
"""

from __future__ import annotations

import os
import time

import numpy as np

__all__ = ["compute_predictions", "load_predictions", "agreement", "simulate", "RULES", "N_LABELS",
           "choose_margin", "evaluate_labels", "NEG_POINTS"]

#: Labelled target rows of the evaluation curves (0: the zero-label rules).
N_LABELS = (0, 5, 10, 20, 50)
NEG_POINTS = 1.0
#: The selection rules compared: the zero-label pick, the fixed default, argmax on the labelled
#: rows, and the guarded rule (keep the start unless another method leads it by c paired SEs).
RULES = ("zero_label", "fixed", "argmax", "guarded")
#: Margins (paired standard errors) the inner cross-validation chooses from.
MARGINS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)


def _cache_path(cache_dir, key, base):
    return os.path.join(cache_dir, f"predictions-{key}-{base}.npz")


def _pair_work(spec, record, base_estimators, methods, data_dir):
    """Run every method of one stored pair under each base estimator: ``{base: arrays}``."""
    from threadpoolctl import threadpool_limits

    from transferability.meta.build._build import materialize
    from transferability.methods import predict_methods, uses_base_estimator

    with threadpool_limits(limits=1):
        Xs, ys, Xt, yt, *_ = materialize(spec, data_dir)
        classes = np.unique(np.concatenate([np.asarray(ys).astype(str), np.asarray(yt).astype(str)]))
        code = {c: i for i, c in enumerate(classes)}
        y = np.array([code[v] for v in np.asarray(yt).astype(str)], dtype=np.int32)
        out, shared = {}, {}
        params = {(o["method"], o["base_estimator"]): o["params"] for o in record["outcomes"]}
        for b in base_estimators:
            P = np.full((len(methods), len(y)), -1, dtype=np.int32)
            runtime = np.full(len(methods), np.nan)
            stored = np.full(len(methods), np.nan)
            for j, m in enumerate(methods):
                rb = b if uses_base_estimator(m) else "-"
                if (m, rb) not in params:
                    continue
                acc = next((o["target_accuracy"] for o in record["outcomes"]
                            if o["method"] == m and o["base_estimator"] == rb), None)
                stored[j] = np.nan if acc is None else acc
                if rb == "-" and m in shared:
                    P[j], runtime[j] = shared[m]
                    continue
                res = predict_methods(Xs, ys, Xt, methods=[m], base_estimator=b,
                                      method_params={m: dict(params[(m, rb)])},
                                      random_state=record["outcomes"][0].get("seed", 0), n_threads=1)[m]
                if res["error"] is None:
                    P[j] = [code[v] for v in np.asarray(res["predictions"]).astype(str)]
                runtime[j] = res["runtime_s"]
                if rb == "-":
                    shared[m] = (P[j].copy(), runtime[j])
            out[b] = {"y": y, "P": P, "classes": classes, "methods": np.array(methods), "runtime": runtime,
                      "stored": stored}
    return out


def _safe_pair_work(*args):
    """:func:`_pair_work`, or ``(None, one-line error)``: one pair that cannot be materialised
    (a missing optional package, a missing data file) is reported, not fatal to the others."""
    from transferability.utils.io import one_line

    try:
        return _pair_work(*args), None
    except Exception as exc:  # noqa: BLE001 -- reported per pair
        return None, one_line(exc)


def _save(path, arrays):
    tmp = path + ".tmp.npz"
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)  # a run stopped half-way leaves no half-written file


def _cached(cache_dir, key, base, methods) -> bool:
    """A cache file of this pair exists and holds these methods (a file written before a method
    was added, or by another method list, is computed again)."""
    path = _cache_path(cache_dir, key, base)
    if not os.path.exists(path):
        return False
    try:
        with np.load(path, allow_pickle=False) as f:
            return f["methods"].tolist() == list(methods)
    except (OSError, ValueError, KeyError):  # unreadable: compute again
        return False


def load_predictions(cache_dir, key, base) -> dict | None:
    """The cached arrays of one pair (``None`` when not computed)."""
    path = _cache_path(cache_dir, key, base)
    if not os.path.exists(path):
        return None
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def compute_predictions(records, specs, cache_dir, *, base_estimators=("1nn", "logreg"), methods=None,
                        data_dir=None, n_jobs=1, progress=None) -> dict:
    """Fill ``cache_dir`` with every method's target predictions for each record (see the module
    docstring); pairs already cached are skipped. ``specs``: the recipe specs, by name.

    Returns ``{"computed": n, "cached": n, "failed": {pair name: error}, "seconds": s}``; a pair
    that fails (e.g. a PyPI table whose package is not installed) is left out of the simulation."""
    from joblib import Parallel, delayed

    from transferability.methods import available_methods

    methods = list(methods or available_methods())
    os.makedirs(cache_dir, exist_ok=True)
    todo = [r for r in records if not all(_cached(cache_dir, r["key"], b, methods) for b in base_estimators)]
    missing = [r["name"] for r in todo if r["name"] not in specs]
    if missing:
        raise ValueError(f"{len(missing)} record(s) have no recipe spec, e.g. {missing[0]}")
    # longest first (their stored runtimes), so the workers finish together
    todo.sort(key=lambda r: -sum(o.get("runtime_s") or 0 for o in r["outcomes"]))
    t0 = time.perf_counter()
    jobs = (delayed(_safe_pair_work)(specs[r["name"]], r, base_estimators, methods, data_dir) for r in todo)
    done, failed = 0, {}
    results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs) if todo else iter(())
    for i, (res, error) in enumerate(results):  # the generator is run to its end (no cancelled tasks)
        r = todo[i]
        done += 1
        if error is not None:
            failed[r["name"]] = error
        else:
            for b, arrays in res.items():
                _save(_cache_path(cache_dir, r["key"], b), arrays)
        if progress:
            progress(f"predictions {done}/{len(todo)} ({time.perf_counter() - t0:.0f} s): {r['name']}"
                     + (f": FAILED: {error}" if error else ""))
    return {"computed": len(todo) - len(failed), "cached": len(records) - len(todo), "failed": failed,
            "seconds": time.perf_counter() - t0}


def agreement(records, cache_dir, base_estimator) -> dict:
    """How well the cached predictions reproduce the stored accuracies: the share of
    (pair, method) cells within 0.005 of the store, and the largest gap (points)."""
    gaps = []
    for r in records:
        d = load_predictions(cache_dir, r["key"], base_estimator)
        if d is None:
            continue
        acc = (d["P"] == d["y"][None, :]).mean(axis=1)
        ok = np.isfinite(d["stored"]) & (d["P"] >= 0).any(axis=1)
        gaps.extend(np.abs(acc[ok] - d["stored"][ok]).tolist())
    gaps = np.asarray(gaps)
    return {"cells": int(gaps.size), "within_0.5pt": float(np.mean(gaps <= 0.005)) if gaps.size else None,
            "max_gap_pts": float(100 * gaps.max()) if gaps.size else None}


def eligible(n_target: int, n: int) -> bool:
    """A pair enters the curve at ``n`` labelled rows when at least ``max(n, 20)`` target rows
    are left to judge the decision on."""
    return n_target >= n + max(n, 20)


def _pair_draws(C, available, starts, n, draws, rng, no_adapt, preference=None):
    """Simulated draws of ``n`` labelled rows on one pair.

    ``C`` (n_methods, n_target) 0/1 correctness; ``starts`` rule name -> start method index.
    Returns per-draw arrays: ``regret_<s>`` of keeping each start, ``switch_<s>`` regret if its
    challenger replaces it, ``lead_<s>`` / ``se_<s>``, ``regret_argmax``, and the matching
    ``neg_*`` (the method more than NEG_POINTS below no_adapt on the judging rows)."""
    from transferability.meta.learners._verify import argmax_choice, challenger

    m, nt = C.shape
    out = {f"{kind}_{s}": np.zeros(draws) for s in starts for kind in ("regret", "switch", "lead", "se",
                                                                        "neg", "negswitch")}
    out["regret_argmax"], out["neg_argmax"] = np.zeros(draws), np.zeros(draws)
    for t in range(draws):
        idx = rng.choice(nt, size=n, replace=False) if n else np.array([], dtype=int)
        rest = np.ones(nt, bool)
        rest[idx] = False
        acc = C[:, rest].mean(axis=1) * 100
        acc = np.where(available, acc, -np.inf)
        best = acc.max()

        def regret_neg(j):
            return best - acc[j], float(acc[j] < acc[no_adapt] - NEG_POINTS)

        L = C[:, idx]
        out["regret_argmax"][t], out["neg_argmax"][t] = regret_neg(argmax_choice(L, available, preference))
        for s, j0 in starts.items():
            out[f"regret_{s}"][t], out[f"neg_{s}"][t] = regret_neg(j0)
            ch, lead, se = challenger(L, j0, available, preference) if n else (None, 0.0, 0.0)
            if ch is None:
                out[f"switch_{s}"][t], out[f"negswitch_{s}"][t] = out[f"regret_{s}"][t], out[f"neg_{s}"][t]
                continue
            out[f"switch_{s}"][t], out[f"negswitch_{s}"][t] = regret_neg(ch)
            out[f"lead_{s}"][t], out[f"se_{s}"][t] = lead, se
    return out


def simulate(records, cache_dir, base_estimator, zero_label_orders, fixed_picks, *, n_labels=N_LABELS,
             draws=40, seed=0, progress=None) -> dict:
    """Simulated label draws on every cached pair of ``records`` (see the module docstring).

    ``zero_label_orders``: ``{pair key: [methods]}``, the held-out (out-of-group) zero-label
    answer, its pick first then the rest of its ranking (ties between methods with equally many
    labelled rows right go to the earlier one, as in ``recommend``); a bare method name is an
    order of one. ``fixed_picks``: ``{pair key: method}``, the held-out fixed default. Returns ``{"keys", "names",
    "groups", "families", "n_target", "by_n": {n: {"rows": pair indices, <arrays (rows, draws)>}},
    "zero_regret_all": per-pair regret of the zero-label pick on the whole target}``."""
    keys, names, groups, families, n_target, mats, avail, starts, zero_all = [], [], [], [], [], [], [], [], []
    no_adapt_at, prefs = [], []
    for r in records:
        d = load_predictions(cache_dir, r["key"], base_estimator)
        if d is None or r["key"] not in zero_label_orders:
            continue
        methods = d["methods"].tolist()
        order = zero_label_orders[r["key"]]
        order = [order] if isinstance(order, str) else list(order)
        C = (d["P"] == d["y"][None, :]).astype(np.float64)
        a = (d["P"] >= 0).any(axis=1)
        if not a[methods.index("no_adapt")]:
            continue
        st = {"zero_label": methods.index(order[0]), "fixed": methods.index(fixed_picks[r["key"]])}
        prefs.append([methods.index(m) for m in order])
        acc_all = np.where(a, C.mean(axis=1) * 100, -np.inf)
        keys.append(r["key"]); names.append(r["name"]); groups.append(r["base"]); families.append(r["family"])
        n_target.append(C.shape[1]); mats.append(C); avail.append(a); starts.append(st)
        no_adapt_at.append(methods.index("no_adapt"))
        zero_all.append(acc_all.max() - acc_all[st["zero_label"]])
    by_n = {}
    for n in n_labels:
        rows = [i for i, nt in enumerate(n_target) if eligible(nt, n)]
        acc: dict = {}
        for pos, i in enumerate(rows):
            rng = np.random.default_rng([seed, n, int(keys[i][:8], 16)])
            res = _pair_draws(mats[i], avail[i], starts[i], n, draws if n else 1, rng, no_adapt_at[i], prefs[i])
            for k, v in res.items():
                acc.setdefault(k, []).append(v)
            if progress and pos % 200 == 0:
                progress(f"labels {base_estimator}: n = {n}, pair {pos + 1}/{len(rows)}")
        by_n[n] = {"rows": np.array(rows, dtype=int), **{k: np.array(v) for k, v in acc.items()}}
    return {"keys": keys, "names": names, "groups": np.array(groups), "families": np.array(families),
            "n_target": np.array(n_target), "by_n": by_n, "zero_regret_all": np.array(zero_all)}


def _rule_arrays(sim_n, start, c):
    """(regret, negative transfer) per (pair, draw) of the guarded rule from ``start`` with margin c."""
    lead, se = sim_n[f"lead_{start}"], sim_n[f"se_{start}"]
    switch = (lead > 0) & (lead > c * se)
    return (np.where(switch, sim_n[f"switch_{start}"], sim_n[f"regret_{start}"]),
            np.where(switch, sim_n[f"negswitch_{start}"], sim_n[f"neg_{start}"]))


def choose_margin(sim, mask, *, n_labels=None, margins=MARGINS, starts=("zero_label", "fixed")) -> dict:
    """The guarded rule's start and margin with the lowest mean regret over the pairs ``mask``
    selects (the training groups), averaged over the labelled-row counts ``n_labels`` (> 0).
    Ties go to the zero-label start, then to the larger margin (the more conservative rule)."""
    ns = [n for n in (n_labels or sim["by_n"]) if n > 0]
    best = None
    for s in starts:
        for c in sorted(margins, reverse=True):
            vals = []
            for n in ns:
                sn = sim["by_n"][n]
                keep = mask[sn["rows"]]
                if keep.any():
                    vals.append(float(_rule_arrays(sn, s, c)[0][keep].mean()))
            score = float(np.mean(vals)) if vals else np.inf
            if best is None or score < best["score"] - 1e-12:
                best = {"start": s, "c": float(c), "score": score}
    return best


def _summ(regret, neg):
    """Mean regret (pair mean of draw means), p90 over every (pair, draw), negative-transfer rate."""
    return {"regret": float(regret.mean(axis=1).mean()), "p90": float(np.percentile(regret, 90)),
            "neg": float(neg.mean()), "pairs": int(regret.shape[0])}


def evaluate_labels(sim, *, margins=MARGINS, subset=None) -> dict:
    """Leave-one-group-out curves of every rule: for each held-out base, the guarded rule's start
    and margin are chosen on the other bases (:func:`choose_margin`), then every rule is scored on
    the held-out base's pairs. Returns ``{"curves": {n: {rule: summary}}, "folds": {group: choice},
    "final": choice on every group, "per_pair": {n: (n_pairs,) mean regret of the guarded rule,
    held out}}``; with ``subset`` (a boolean mask over the simulated pairs) also
    ``"subset_curves"``, the same summaries over those pairs only (the rules still chosen on
    every other base)."""
    groups = sim["groups"]
    folds, per = {}, {}
    for g in np.unique(groups):
        folds[str(g)] = choose_margin(sim, groups != g, margins=margins)
    curves, sub_curves = {}, {}
    for n, sn in sim["by_n"].items():
        rows = sn["rows"]
        if rows.size == 0:
            continue
        g_rows = groups[rows]
        guarded_r, guarded_n = np.zeros_like(sn["regret_zero_label"]), np.zeros_like(sn["neg_zero_label"])
        for g in np.unique(g_rows):
            sel = g_rows == g
            ch = folds[str(g)]
            # without labels there is nothing to verify: the answer is the zero-label pick
            r, ng = _rule_arrays(sn, ch["start"] if n else "zero_label", ch["c"])
            guarded_r[sel], guarded_n[sel] = r[sel], ng[sel]
        def summaries(keep):
            return {"zero_label": _summ(sn["regret_zero_label"][keep], sn["neg_zero_label"][keep]),
                    "fixed": _summ(sn["regret_fixed"][keep], sn["neg_fixed"][keep]),
                    "argmax": _summ(sn["regret_argmax"][keep], sn["neg_argmax"][keep]) if n else None,
                    "guarded": _summ(guarded_r[keep], guarded_n[keep])}

        curves[n] = summaries(np.ones(rows.size, bool))
        if subset is not None and np.asarray(subset)[rows].any():
            sub_curves[n] = summaries(np.asarray(subset)[rows])
        per[n] = (rows, guarded_r.mean(axis=1))
    out = {"curves": curves, "folds": folds, "final": choose_margin(sim, np.ones(len(groups), bool), margins=margins),
           "per_pair": per}
    if subset is not None:
        out["subset_curves"] = sub_curves
    return out


# -- the study: what `transferability meta labels` runs ------------------------------------------
SECTION_START = "<!-- labels:start -->"
SECTION_END = "<!-- labels:end -->"
#: External reference (issue 18, from SKADA-Bench's stored results on 51 real tasks, 13 shallow
#: methods; not measured here): mean regret of choosing the method by an unsupervised validator.
SKADA_REFERENCE = (("always LinOT (best fixed)", 2.96), ("circular validation", 5.85),
                   ("importance-weighted", 6.06), ("prediction entropy", 17.2), ("soft neighbourhood density", 36.7))


def label_study(records, cache_dir, *, specs, models, data_dir=None, base_estimators=("1nn", "logreg"), draws=40,
                n_jobs=1, progress=None, rankings=None, real_names=None) -> dict:
    """Everything ``meta labels`` computes: the prediction cache, the held-out zero-label answers
    and fixed defaults (:func:`heldout_rankings`, unless given as ``rankings``), the simulation and
    its leave-one-base-out curves per base estimator (also over the pairs named in
    ``real_names`` alone), and the shipped document (``label_value.json``: the rule chosen on
    every base and each pair's held-out expected regret at each ``N_LABELS``)."""
    from transferability.meta.learners._table import records_hash

    t0 = time.perf_counter()
    cache = compute_predictions(records, specs, cache_dir, base_estimators=base_estimators, data_dir=data_dir,
                                n_jobs=n_jobs, progress=progress)
    if rankings is None:
        rankings = heldout_rankings(records, models, n_jobs=n_jobs, progress=progress)
    bases, evaluation = {}, {}
    for be in base_estimators:
        sim = simulate(records, cache_dir, be, rankings[be]["order"], rankings[be]["fixed"], draws=draws,
                       progress=progress)
        subset = None if real_names is None else np.array([n in real_names for n in sim["names"]])
        ev = evaluate_labels(sim, subset=subset)
        pairs = {}
        for i, name in enumerate(sim["names"]):
            row = []
            for n in N_LABELS:
                if n == 0:
                    row.append(float(sim["zero_regret_all"][i]))
                    continue
                rows, vals = ev["per_pair"].get(n, (np.array([], int), np.array([])))
                hit = np.nonzero(rows == i)[0]
                row.append(float(vals[hit[0]]) if hit.size else None)
            pairs[name] = row
        bases[be] = {"rule": {"start": ev["final"]["start"], "c": ev["final"]["c"]}, "pairs": pairs}
        evaluation[be] = {"curves": {str(n): c for n, c in ev["curves"].items()}, "folds": ev["folds"],
                          "final": ev["final"], "agreement": agreement(records, cache_dir, be),
                          "n_pairs": len(sim["names"]), "n_groups": int(np.unique(sim["groups"]).size)}
        if subset is not None:
            evaluation[be]["real_curves"] = {str(n): c for n, c in ev["subset_curves"].items()}
            evaluation[be]["n_real_pairs"] = int(subset.sum())
    doc = {"format": 1, "store_hash": records_hash(records), "n_labels": list(N_LABELS), "draws": draws,
           "bases": bases, "evaluation": evaluation,
           "protocol": ("n target rows drawn uniformly without replacement per draw; each rule decides on them; "
                        "regret and negative transfer are measured on the other target rows; the guarded rule's "
                        "start and margin are chosen on the other base datasets (leave-one-base-out)")}
    return {"doc": doc, "cache": cache, "seconds": time.perf_counter() - t0}


def heldout_rankings(records, models, *, n_jobs=1, progress=None) -> dict:
    """The zero-label answer ``recommend`` would give each stored pair, made out of group
    (leave-one-base-out with the shipped candidate of ``models``; the fixed default without
    models): base estimator -> ``{"order": {key: [methods, the pick first, then by held-out
    predicted score]}, "fixed": {key: the fold's fixed default}}``."""
    from transferability.meta.learners._table import build_tables

    from ._protocols import evaluate_protocol

    out = {}
    for be, table in build_tables(records).items():
        entry = (models.manifest.get("models") or {}).get(be) if models is not None else None
        candidate = entry["candidate"] if entry else "fixed"
        by = "base" if len(np.unique(table.bases)) >= 3 else "family"
        if progress:
            progress(f"labels {be}: held-out {candidate} rankings (leave-one-{by}-out)")
        cands = (candidate,) if candidate == "fixed" else (candidate, "fixed")
        res = evaluate_protocol(table, by, candidates=cands, n_jobs=n_jobs)
        order, fixed = {}, {}
        for i, key in enumerate(table.keys):
            pick = int(res["picks"][candidate][i])
            sc = np.nan_to_num(res["scores"][candidate][i], nan=-np.inf)
            rest = sorted((j for j in range(len(table.methods)) if j != pick), key=lambda j: (-sc[j], table.methods[j]))
            order[key] = [table.methods[j] for j in [pick] + rest]
            fixed[key] = table.methods[int(res["picks"]["fixed"][i])]
        out[be] = {"order": order, "fixed": fixed}
    return out


def _goal(ok):
    return "**met**" if ok else "**NOT met**"


def _curve_table(curves) -> list:
    L = ["| n | pairs | zero-label | fixed | argmax | guarded | guarded p90 | guarded neg. transfer | "
         "zero-label neg. transfer |", "|---|---|---|---|---|---|---|---|---|"]
    for n, c in curves.items():
        am = "—" if c["argmax"] is None else f"{c['argmax']['regret']:.2f}"
        L.append(f"| {n} | {c['guarded']['pairs']} | {c['zero_label']['regret']:.2f} | {c['fixed']['regret']:.2f} "
                 f"| {am} | {c['guarded']['regret']:.2f} | {c['guarded']['p90']:.2f} | "
                 f"{100 * c['guarded']['neg']:.1f} % | {100 * c['zero_label']['neg']:.1f} % |")
    return L


def labels_section(doc) -> str:
    """The evaluation page's section on labelled target rows (markdown, between the markers)."""
    ev = doc.get("evaluation") or {}
    L = [SECTION_START, "## A few labelled target rows: verified picks (`recommend --target-labels`)", "",
         "Generated by `transferability meta labels`. Every method's per-row target predictions were recomputed "
         "for every stored pair (the store keeps accuracies only; the recomputed accuracies are compared with the "
         f"stored ones below). For each pair, {doc.get('draws')} draws of n target rows, uniformly without "
         "replacement. Each rule decides on the n labelled rows and is judged on the *other* rows of the target "
         "(the rows that chose are not the rows that judge: scoring a pick on the rows it was picked on would "
         "credit it with its selection luck). A pair enters at n when at least max(n, 20) rows are left to judge "
         "on. Rules: **zero-label** (the shipped MetaTrans pick, held out: leave-one-base-out), **fixed** (the "
         "best fixed method of the other bases), **argmax** (the method with most labelled rows right; ties to "
         "the earlier method of the zero-label ranking), **guarded** (what `recommend --target-labels` does: "
         "keep the start unless the best other method leads it by more than c standard errors of the paired "
         "difference; start and c chosen on the other base datasets, over n = 5 .. 50; at n = 0 it is the "
         "zero-label pick). Regret: best method's accuracy on the judging rows minus the chosen one's, points, "
         "pair mean of draw means; p90 over every (pair, draw); negative transfer: the chosen method more than "
         f"{NEG_POINTS:g} point below no_adapt on the judging rows.", ""]
    for be, e in ev.items():
        curves = e["curves"]
        ag = e["agreement"]
        L += [f"### Base estimator `{be}` ({e['n_pairs']} pairs, {e['n_groups']} base datasets)", "",
              f"Recomputed predictions reproduce the stored accuracy within 0.5 points on "
              f"{100 * ag['within_0.5pt']:.1f} % of {ag['cells']} (pair, method) cells (largest gap "
              f"{ag['max_gap_pts']:.2f} points).", ""]
        L += _curve_table(curves)
        if e.get("real_curves"):
            L += ["", f"The real pairs alone ({e['n_real_pairs']} pairs of the real recipes; the rules as above):",
                  ""] + _curve_table(e["real_curves"])
        L += ["", "Every rule, all pairs:", "", "| n | rule | regret | p90 | negative transfer |",
              "|---|---|---|---|---|"]
        for n, c in curves.items():
            for rule in RULES:
                if c.get(rule):
                    sm = c[rule]
                    L.append(f"| {n} | {rule} | {sm['regret']:.2f} | {sm['p90']:.2f} | {100 * sm['neg']:.1f} % |")
        fin = e["final"]
        chosen = sorted({(f["start"], f["c"]) for f in e["folds"].values()})
        L += ["", f"Shipped rule (chosen on every base): start from the **{fin['start']}** pick, margin c = "
              f"**{fin['c']:g}** paired SEs. Held-out folds chose: "
              + "; ".join(f"{st}, c = {c:g}" for st, c in chosen) + ".", ""]
        goals = []
        c20, c10 = curves.get("20"), curves.get("10")
        if c20:
            g, f = c20["guarded"], c20["fixed"]
            goals.append(f"n = 20: mean regret ≤ 1.0 and ≤ ⅓ of the fixed default's: "
                         f"{_goal(g['regret'] <= 1.0 and g['regret'] <= f['regret'] / 3)} "
                         f"({g['regret']:.2f} vs fixed {f['regret']:.2f})")
            goals.append(f"n = 20: negative transfer ≤ 4 %: {_goal(g['neg'] <= 0.04)} ({100 * g['neg']:.1f} %)")
        if c10:
            g, f = c10["guarded"], c10["fixed"]
            goals.append(f"n = 10: regret ≤ ½ of the fixed default's: {_goal(g['regret'] <= f['regret'] / 2)} "
                         f"({g['regret']:.2f} vs {f['regret']:.2f})")
        worst = max((c["guarded"]["regret"] - c["zero_label"]["regret"], n) for n, c in curves.items())
        goals.append(f"guarded never worse than zero-label by more than 0.2 points at any n: "
                     f"{_goal(worst[0] <= 0.2)} (largest difference {worst[0]:+.2f} at n = {worst[1]})")
        L += ["Goals (issue 18), all pairs:", ""] + [f"- {g}" for g in goals] + [""]
    L += ["External reference (quoted from issue 18, SKADA-Bench's stored results on 51 real tasks, 13 shallow "
          "methods; not measured here): mean regret of " + "; ".join(f"{k} {v:g}" for k, v in SKADA_REFERENCE)
          + " points.", "", SECTION_END]
    return "\n".join(L)


def write_section(page, section) -> None:
    """Replace the section between the markers of ``page`` (or append it) atomically."""
    from transferability.utils.io import atomic_write_text

    text = open(page, encoding="utf-8").read() if os.path.exists(page) else ""
    if SECTION_START in text and SECTION_END in text:
        a, b = text.index(SECTION_START), text.index(SECTION_END) + len(SECTION_END)
        text = text[:a] + section + text[b:]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    atomic_write_text(page, text)
