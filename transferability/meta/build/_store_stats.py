"""``store stats``: counts, groups and label base rates of a meta store.

A **unit** is one (pair, base estimator): its best outcome is the highest mean accuracy over
the method library (``no_adapt`` included) for that base estimator, counting the rows of the
methods that ignore the base estimator (``base_estimator "-"``) for every base estimator
(:func:`~transferability.meta_store.outcomes_for_base`). Per family and base estimator:

- ``reaches_kshot[k]``: share of the units with a known k-shot baseline (not NULL) whose best
  outcome reaches it (``best >= kshot[k]``), with ``n_known_kshot[k]``;
- ``beats_no_adapt``: share of the units whose best outcome beats ``no_adapt`` by at least one
  point (0.01 accuracy);
- ``kstar``: the distribution of the label-equivalent k*(m) (DESIGN.md) of the store's best
  fixed method m (``kstar_method``: highest family-macro mean accuracy of the base estimator,
  :func:`~transferability.meta.learners._easytrans.fixed_default_picks`), computed by
  :func:`transferability.meta.learners._easytrans.pair_label` (the one definition; a censored k* —
  only a lower bound, because a ladder k-shot baseline is unknown — counts at its lower bound and
  in ``kstar_censored``);
- ``oracle``: how often each method is the best one (ties: every tied method counts).
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

__all__ = ["store_stats", "family_table"]

BEAT_MARGIN = 0.01


def _unit(record, base_estimator, ladder, method):
    from transferability.meta.learners._easytrans import pair_label
    from transferability.meta_store import outcomes_for_base

    acc = defaultdict(list)
    for o in outcomes_for_base(record, base_estimator):
        if o.get("status", "ok") == "ok" and o.get("target_accuracy") is not None:
            acc[o["method"]].append(float(o["target_accuracy"]))
    if not acc:
        return None
    mean = {m: float(np.mean(v)) for m, v in acc.items()}
    best = max(mean.values())
    ks = defaultdict(list)
    for e in record.get("kshot") or []:
        if e.get("base_estimator") == base_estimator and e.get("accuracy") is not None:
            ks[int(e["k"])].append(float(e["accuracy"]))
    kshot = {k: float(np.mean(v)) for k, v in ks.items()}
    lab = pair_label(record, base_estimator, method, ladder) if method else None
    kstar, censored = (lab[0], lab[1]) if lab is not None else (None, False)
    return {"best": best, "kshot": kshot, "kstar": kstar, "censored": censored,
            "beats": None if "no_adapt" not in mean else best >= mean["no_adapt"] + BEAT_MARGIN,
            "oracle": sorted(m for m, v in mean.items() if v == best)}


def store_stats(store) -> dict:
    """The ``store stats --json`` object: the store's counts (:meth:`MetaStore.stats`) plus
    ``n_tasks``, ``n_bases``, ``kshot_k`` (k values with a known baseline), ``n_ceilings`` and
    ``per_family`` (family -> ``pairs``, ``tasks``, ``bases`` and ``by_base_estimator``:
    base estimator -> ``units``, ``reaches_kshot``, ``n_known_kshot``, ``beats_no_adapt``,
    ``kstar``, ``kstar_censored``, ``oracle``)."""
    from transferability.meta.learners._easytrans import KSHOT_LADDER, fixed_default_picks
    from transferability.meta_store import BASE_FREE, iter_records

    out = store.stats()
    records = list(iter_records(store))
    ladder = sorted(set(KSHOT_LADDER) | {int(k) for r in records for e in r.get("kshot") or []
                                        if e.get("accuracy") is not None for k in [e["k"]]})
    bases_est = sorted({o["base_estimator"] for r in records for o in r.get("outcomes", [])} - {BASE_FREE})
    picks = fixed_default_picks(records, base_estimators=bases_est)
    fam = defaultdict(lambda: {"pairs": 0, "tasks": set(), "bases": set(), "units": defaultdict(list)})
    for r in records:
        f = fam[r["family"]]
        f["pairs"] += 1
        f["tasks"].add(r.get("task") or f"?{r['key']}")
        f["bases"].add(r.get("base") or f"?{r['family']}")
        for b in bases_est:
            u = _unit(r, b, ladder, (picks.get(b) or {}).get(r["key"]))
            if u is not None:
                f["units"][b].append(u)
    per_family = {}
    for name in sorted(fam):
        f = fam[name]
        by = {}
        for b, units in sorted(f["units"].items()):
            reach, known = {}, {}
            for k in ladder:
                vals = [u["best"] >= u["kshot"][k] for u in units if k in u["kshot"]]
                known[str(k)] = len(vals)
                reach[str(k)] = float(np.mean(vals)) if vals else None
            beats = [u["beats"] for u in units if u["beats"] is not None]
            by[b] = {"units": len(units), "reaches_kshot": reach, "n_known_kshot": known,
                     "beats_no_adapt": float(np.mean(beats)) if beats else None,
                     "kstar": {str(k): v for k, v in sorted(Counter(u["kstar"] for u in units
                                                                    if u["kstar"] is not None).items())},
                     "kstar_censored": int(sum(u["censored"] for u in units)),
                     "oracle": dict(Counter(m for u in units for m in u["oracle"]).most_common())}
        per_family[name] = {"pairs": f["pairs"], "tasks": len(f["tasks"]), "bases": sorted(f["bases"]),
                            "by_base_estimator": by}
    tasks = {r.get("task") or f"?{r['key']}" for r in records}
    bases = {r.get("base") or f"?{r['family']}" for r in records}
    out.update({"n_tasks": len(tasks), "n_bases": len(bases),
                "n_pairs_without_groups": sum(1 for r in records if not (r.get("task") and r.get("base"))),
                "kshot_ladder": ladder, "per_family": per_family,
                "kstar_method": {b: next(iter(set(v.values())), None) for b, v in picks.items()}})
    return out


def family_table(stats: dict) -> list:
    """Lines of the per-family table (one row per family and base estimator)."""
    ladder = [str(k) for k in stats.get("kshot_ladder", [])]
    head = (f"{'family':32s} {'base est':8s} {'pairs':>5s} {'tasks':>5s} "
            + " ".join(f"{'>=' + k:>5s}" for k in ladder) + f" {'beat':>5s}  k* (count)  oracle (top 3)")
    lines = [head]
    pct = lambda v: "    -" if v is None else f"{100 * v:5.0f}"  # noqa: E731
    for name, f in stats["per_family"].items():
        for b, u in f["by_base_estimator"].items():
            ks = " ".join(f"{k}:{v}" for k, v in u["kstar"].items())
            top = ", ".join(f"{m} {n}" for m, n in list(u["oracle"].items())[:3])
            lines.append(f"{name[:32]:32s} {b[:8]:8s} {f['pairs']:5d} {f['tasks']:5d} "
                         + " ".join(pct(u["reaches_kshot"].get(k)) for k in ladder)
                         + f" {pct(u['beats_no_adapt'])}  {ks}  {top}")
    return lines
