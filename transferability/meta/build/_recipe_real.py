"""The real pairs of the default store: one spec per independent real task, plus hard negatives.

Each spec reads its domains with :func:`transferability.datasets._real.load_real_domain`
(``{"dataset": BASE, "domain": NAME}`` sides) and carries its ``family`` (one base dataset's
task set), ``task`` (the real source -> target it is, shared by its variants) and ``base`` (the
underlying dataset, the group that leave-one-base-out evaluation holds out: e.g. both
Office-Caltech feature sets are ``office_caltech``; cross-dataset digits share ``usps_mnist``
with the USPS/MNIST pairs because they use the same images).

Every side is capped at :data:`REAL_MAX_ROWS` rows by a stratified subsample (source seed 0,
target seed 1, as the first store), so a pair runs the whole method library in seconds.

Variants (the same ``task``; never counted as tasks):

- ``small-source``: the source cut to a few rows per class (:func:`_small_rows`): a hard
  negative where labelling a few target rows tends to beat any transfer;
- ``zscore``: for the site/batch/user/time-block/patient-group bases whose default is
  ``zscore-source``, the same task under per-domain z-scoring, so the store holds the pairs under
  both where it matters: neither recipe wins on every family (docs/datasets.md has the
  source-only figures).

Preprocessing per base (``real_catalog()[base]["preprocess"]``): ``sum-zscore`` for
Office-Caltech, ``l2`` for images, ``tfidf-svd100`` for sparse text, ``zscore`` for landmine
(per-field calibration, as its reference check), ``zscore-source`` for tabular data with natural
domains (sites, batches, users, time blocks, patient groups, survey years), ``none`` for one-hot mushroom.
"""

from __future__ import annotations

import itertools

__all__ = ["REAL_MAX_ROWS", "real_recipe_specs", "recipe_summary"]

REAL_MAX_ROWS = 500
DECAF_MAX_FEATURES = 256

_GAS_CLASSES_WITHOUT_TOLUENE = ["Acetaldehyde", "Acetone", "Ammonia", "Ethanol", "Ethylene"]

# WISDM: for each user with >= 2 activities, the next user (cyclically) whose activities
# include all of the target's (target classes must be a subset of the source's); user 9 has
# only 'Walking' and takes no part. Fixed here so the recipe needs no data to be listed.
_WISDM_PAIRS = ((3, 1), (3, 2), (5, 3), (5, 4), (6, 5), (7, 6), (12, 7), (12, 8), (12, 10), (12, 11), (13, 12),
                (18, 13), (15, 14), (17, 15), (18, 16), (18, 17), (19, 18), (20, 19), (21, 20), (24, 21), (23, 22),
                (24, 23), (27, 24), (26, 25), (27, 26), (29, 27), (29, 28), (31, 29), (31, 30), (32, 31), (33, 32),
                (34, 33), (36, 34), (36, 35), (3, 36))


def _landmine_pairs():
    """Within each region, field k-1 -> k (cyclic): 15 foliated + 14 bare-earth tasks, plus six
    across the regions."""
    fol, bare = list(range(1, 16)), list(range(16, 30))
    pairs = [(g[i - 1], g[i]) for g in (fol, bare) for i in range(len(g))]
    pairs += [(1, 16), (16, 1), (8, 23), (23, 8), (15, 29), (29, 15)]
    return pairs


def _small_rows(n_classes: int) -> int:
    """Rows of a ``small-source`` variant: 5 per class, at least 30."""
    return max(30, 5 * n_classes)


def _spec(family, base, dataset, task, s, t, preprocess, *, variant=None, source_rows=REAL_MAX_ROWS,
          target_classes=None, max_features=None):
    name = f"{family}/{task}" + (f"/{variant}" if variant else "")
    spec = {"name": name, "family": family, "task": f"{family}/{task}", "base": base, "preprocess": preprocess,
            "source": {"dataset": dataset, "domain": s, "max_rows": source_rows, "seed": 0},
            "target": {"dataset": dataset, "domain": t, "max_rows": REAL_MAX_ROWS, "seed": 1}}
    if target_classes is not None:
        spec["target"]["classes"] = list(target_classes)
    if max_features is not None:
        spec["max_features"] = max_features
    return spec


def _tasks():
    """(family, base, dataset, preprocess, n_classes, [(source, target, extra kwargs)], options)."""
    out = []
    surf = [(s, t, {}) for s, t in itertools.permutations("CADW", 2)]
    out.append(("office_caltech_surf", "office_caltech", "office_caltech_surf", "sum-zscore", 10, surf,
                {"small": True}))
    out.append(("office_caltech_decaf", "office_caltech", "office_caltech_decaf", "sum-zscore", 10,
                [("D", "W", {}), ("W", "D", {})], {"max_features": DECAF_MAX_FEATURES}))
    out.append(("usps_mnist", "usps_mnist", "usps_mnist", "l2", 10, [("usps", "mnist", {}), ("mnist", "usps", {})],
                {"small": True}))
    out.append(("coil20", "coil20", "coil20", "l2", 20, [("COIL1", "COIL2", {}), ("COIL2", "COIL1", {})], {}))
    dig = [("digits_sklearn", "usps", {}), ("usps", "digits_sklearn", {}), ("digits_sklearn", "mnist", {}),
           ("mnist", "digits_sklearn", {})]
    out.append(("digits_cross", "usps_mnist", "digits_cross", "l2", 10, dig, {"small": True}))
    for task in ("org_vs_people", "org_vs_place", "people_vs_place"):
        out.append((f"reuters_{task}", "reuters21578", f"reuters_{task}", "tfidf-svd100", 2,
                    [("src", "tgt", {}), ("tgt", "src", {})], {"small": True}))
    from transferability.datasets._real import ng_task_pairs

    for a, b in itertools.combinations(("comp", "rec", "sci", "talk"), 2):
        pairs = ng_task_pairs(a, b)
        # the six tasks whose source takes the same subcategory indices on both sides
        chosen = [pairs[i * 6 + i] for i in range(6)]
        out.append((f"newsgroups20_{a}_vs_{b}", "newsgroups20", f"newsgroups20_{a}_vs_{b}", "tfidf-svd100", 2,
                    [(s, t, {}) for s, t in chosen], {"small": True, "small_first": 1}))
    out.append(("landmine29", "landmine29", "landmine29", "zscore", 2,
                [(f"field{s:02d}", f"field{t:02d}", {}) for s, t in _landmine_pairs()],
                {"small": True, "small_first": 12}))
    gas = [(1, k) for k in (2, 3, 4, 5, 6, 8, 9)] + [(2, 3), (3, 4), (4, 5), (5, 6), (8, 9)]
    out.append(("gas_drift", "gas_drift", "gas_drift", "zscore-source", 6,
                [(f"batch{s}", f"batch{t}", {"target_classes": _GAS_CLASSES_WITHOUT_TOLUENE} if s in (3, 4, 5) else {})
                 for s, t in gas], {"small": True, "zscore_variant": True}))
    out.append(("wisdm", "wisdm", "wisdm", "zscore-source", 6,
                [(f"user{s:02d}", f"user{t:02d}", {}) for s, t in _WISDM_PAIRS],
                {"small": True, "small_first": 12, "zscore_variant": True}))
    sites = ("cleveland", "hungarian", "switzerland", "va")
    out.append(("heart4", "heart4", "heart4", "zscore-source", 2,
                [(s, t, {}) for s, t in itertools.permutations(sites, 2)], {"small": True, "zscore_variant": True}))
    elec = [(b, b + 1) for b in range(9)] + [(0, 9), (0, 5), (5, 9)]
    out.append(("elec2", "elec2", "elec2", "zscore-source", 2,
                [(f"block{s}", f"block{t}", {}) for s, t in elec], {"small": True, "zscore_variant": True}))
    out.append(("mushroom", "mushroom", "mushroom", "none", 2,
                [("enlarging", "tapering", {}), ("tapering", "enlarging", {})], {"small": True}))
    out.append(("actg175", "actg175", "actg175", "zscore-source", 2,
                [("female", "male", {}), ("male", "female", {}), ("white", "nonwhite", {}), ("nonwhite", "white", {})],
                {"small": True, "zscore_variant": True}))
    years = ("2015", "2016", "2017", "2018")
    out.append(("acs_employment_ma", "acs_employment_ma", "acs_employment_ma", "zscore-source", 2,
                [(s, t, {}) for s, t in itertools.permutations(years, 2)], {"small": True, "small_first": 4}))
    return out


def real_recipe_specs(*, variants: bool = True) -> list:
    """Pair specs of the real part of the default recipe.

    Parameters
    ----------
    variants : bool, default=True
        Add the ``small-source`` and ``zscore`` variants (same ``task``).

    Returns
    -------
    list of dict
        ``{"name", "family", "task", "base", "preprocess", "source": {"dataset", "domain",
        "max_rows", "seed"}, "target": {..., optional "classes"}, optional "max_features"}``.
        The first spec of each task is the task itself (no ``variant`` in its name).
    """
    specs = []
    for family, base, dataset, pre, n_classes, pairs, opt in _tasks():
        kw_all = {"max_features": opt["max_features"]} if "max_features" in opt else {}
        for s, t, kw in pairs:
            specs.append(_spec(family, base, dataset, f"{s}->{t}", s, t, pre, **kw, **kw_all))
        if not variants:
            continue
        small_pairs = pairs[:opt.get("small_first", len(pairs))] if opt.get("small") else []
        for s, t, kw in small_pairs:
            specs.append(_spec(family, base, dataset, f"{s}->{t}", s, t, pre, variant="small-source",
                               source_rows=_small_rows(n_classes), **kw, **kw_all))
        if opt.get("zscore_variant"):
            for s, t, kw in pairs:
                specs.append(_spec(family, base, dataset, f"{s}->{t}", s, t, "zscore", variant="zscore", **kw,
                                   **kw_all))
    return specs


def recipe_summary(specs=None) -> list:
    """Per family: ``{"family", "base", "dataset", "n_tasks", "n_pairs", "preprocess"}`` (tasks =
    distinct ``task`` values)."""
    specs = real_recipe_specs() if specs is None else specs
    rows = {}
    for sp in specs:
        r = rows.setdefault(sp["family"], {"family": sp["family"], "base": sp["base"],
                                           "dataset": sp["source"]["dataset"], "tasks": set(), "n_pairs": 0,
                                           "preprocess": set()})
        r["tasks"].add(sp["task"])
        r["n_pairs"] += 1
        r["preprocess"].add(sp["preprocess"])
    return [{**{k: v for k, v in r.items() if k not in ("tasks", "preprocess")}, "n_tasks": len(r["tasks"]),
             "preprocess": sorted(r["preprocess"])} for r in rows.values()]
