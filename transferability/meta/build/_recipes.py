"""The ``default`` recipe: the pairs of the shipped store.

Real families (from ``--data-dir``, the benchmark data; each domain capped at ``REAL_MAX_ROWS``
rows by a stratified subsample so that a pair runs the whole method library in seconds):

- ``office_caltech_surf``: the 12 Office-Caltech SURF tasks (sum-zscore), plus per task two
  sub-sampled variants (half the rows, two seeds) and two class-subset variants (5 of 10 classes);
- ``office_caltech_decaf``: DeCAF6 D→W and W→D, plus the same four variants each, projected on
  the top 256 principal axes of the pooled features (``max_features``);
- ``usps_mnist``: USPS→MNIST and MNIST→USPS (l2), plus four variants each;
- ``coil20``: COIL1→COIL2 and COIL2→COIL1 (l2), plus four variants each.

Generated families (scikit-learn's bundled data, :mod:`transferability.datasets._shifts`), on
the bases digits, breast_cancer, wine and synthetic, levels 0.2 … 1.0:

- ``covariate_shift``, ``label_shift``, ``concept_shift``: 4 bases × 5 levels × 4 seeds;
- ``feature_transform``: 4 bases × 4 transforms (rotation, scaling, noise, subspace) × 5 levels.

Variants stay in the family of the pair they come from, so leave-one-family-out evaluation
never trains on a subsample of a test pair.

The default recipe (:func:`default_recipe`, store schema 2) is, in this order, with every spec
carrying its ``task`` and ``base`` and no two specs giving the same pair key:

1. the specs above (the first store's 410 pairs, same pair keys), less the 18 full real tasks
   that :func:`~transferability.meta.build._recipe_real.real_recipe_specs` lists with the same
   domains, rows and seeds (same key; kept once, in the real list);
2. :func:`~transferability.meta.build._recipe_real.real_recipe_specs`: one spec per independent real
   task plus its small-source / zscore variants (20-Newsgroups: the first
   :data:`NEWSGROUPS_TASKS_DEFAULT` tasks per category pair; :func:`full_recipe` has all);
3. :func:`semi_real_specs`: the shift generators applied to real feature spaces
   (:data:`SEMI_REAL_POOLS`), with full and much smaller sources (:data:`SMALL_SOURCE_PER_CLASS`).
"""

from __future__ import annotations

REAL_MAX_ROWS = 500
#: DeCAF6 has d = 4096: CORAL, EasyTL and mSDA cost O(d³) there (77 s, 73 s and 471 s for one
#: D->W run, measured), so the store's DeCAF pairs are projected on 256 pooled principal axes.
DECAF_MAX_FEATURES = 256
LEVELS = (0.2, 0.4, 0.6, 0.8, 1.0)
BASES = ("digits", "breast_cancer", "wine", "synthetic")

_SURF = {"A": "office_caltech10_surf/amazon_SURF_L10.mat", "C": "office_caltech10_surf/Caltech10_SURF_L10.mat",
         "D": "office_caltech10_surf/dslr_SURF_L10.mat", "W": "office_caltech10_surf/webcam_SURF_L10.mat"}
_DECAF = {"D": "office_caltech10_decaf6/dslr_decaf.mat", "W": "office_caltech10_decaf6/webcam_decaf.mat"}


#: Old task names -> the task names of :mod:`._recipe_real` (same domains).
_TASK_ALIASES = {"usps_mnist/USPS->MNIST": "usps_mnist/usps->mnist", "usps_mnist/MNIST->USPS": "usps_mnist/mnist->usps"}
_BASE_OF = {"office_caltech_surf": "office_caltech", "office_caltech_decaf": "office_caltech",
            "usps_mnist": "usps_mnist", "coil20": "coil20"}


def _real_pairs(family, task, src, tgt, preprocess, n_classes, variant_seed, max_features=None):
    task_name = _TASK_ALIASES.get(f"{family}/{task}", f"{family}/{task}")
    base = {"family": family, "preprocess": preprocess, "task": task_name, "base": _BASE_OF[family]}
    if max_features is not None:
        base["max_features"] = max_features
    full = dict(base, name=f"{family}/{task}",
                source={"path": src, "max_rows": REAL_MAX_ROWS, "seed": 0},
                target={"path": tgt, "max_rows": REAL_MAX_ROWS, "seed": 1})
    out = [full]
    for s in (1, 2):
        out.append(dict(base, name=f"{family}/{task}/half-{s}",
                        source={"path": src, "max_rows": REAL_MAX_ROWS // 2, "seed": 10 + s},
                        target={"path": tgt, "max_rows": REAL_MAX_ROWS // 2, "seed": 20 + s}))
    import numpy as np

    rng = np.random.RandomState(variant_seed)
    for s in (1, 2):
        classes = sorted(int(c) for c in rng.choice(np.arange(1, n_classes + 1), size=n_classes // 2, replace=False))
        out.append(dict(base, name=f"{family}/{task}/classes-{s}",
                        source={"path": src, "classes": classes, "max_rows": REAL_MAX_ROWS, "seed": 30 + s},
                        target={"path": tgt, "classes": classes, "max_rows": REAL_MAX_ROWS, "seed": 40 + s}))
    return out


def real_specs():
    specs = []
    i = 0
    for s in "CADW":
        for t in "CADW":
            if s != t:
                i += 1
                specs += _real_pairs("office_caltech_surf", f"{s}->{t}", _SURF[s], _SURF[t], "sum-zscore", 10, i)
    for s, t in (("D", "W"), ("W", "D")):
        i += 1
        specs += _real_pairs("office_caltech_decaf", f"{s}->{t}", _DECAF[s], _DECAF[t], "sum-zscore", 10, i,
                             max_features=DECAF_MAX_FEATURES)
    for task, f in (("USPS->MNIST", "mnist_usps/USPS_vs_MNIST.mat"), ("MNIST->USPS", "mnist_usps/MNIST_vs_USPS.mat")):
        i += 1
        specs += _real_pairs("usps_mnist", task, f + ":src", f + ":tar", "l2", 10, i)
    for task, f in (("COIL1->COIL2", "coil20/COIL_1.mat"), ("COIL2->COIL1", "coil20/COIL_2.mat")):
        i += 1
        specs += _real_pairs("coil20", task, f + ":src", f + ":tar", "l2", 20, i)
    return specs


def generated_specs():
    specs = []
    for kind in ("covariate_shift", "label_shift", "concept_shift"):
        for base in BASES:
            for level in LEVELS:
                for seed in range(4):
                    specs.append({"family": kind, "preprocess": "none", "task": f"{kind}/{base}", "base": base,
                                  "name": f"{kind}/{base}/level-{level:.1f}/seed-{seed}",
                                  "generator": {"kind": kind, "base": base, "level": level, "seed": seed}})
    for base in BASES:
        for transform in ("rotation", "scaling", "noise", "subspace"):
            for j, level in enumerate(LEVELS):
                specs.append({"family": "feature_transform", "preprocess": "none",
                              "task": f"feature_transform/{base}/{transform}", "base": base,
                              "name": f"feature_transform/{base}/{transform}/level-{level:.1f}",
                              "generator": {"kind": "feature_transform", "base": base, "level": level,
                                            "seed": 100 + j, "transform": transform}})
    return specs


#: Real feature spaces the shift generators run on: ``(family, base, dataset, domain, pool rows,
#: max_features)``. Each pool is one real domain, standardised on its own statistics
#: (:func:`~transferability.datasets._shifts.load_real_pool`); SURF (d = 800) is projected on
#: 100 pooled principal axes after drawing, to keep the d³ methods cheap.
SEMI_REAL_POOLS = (
    ("shift_office_caltech_surf", "office_caltech", "office_caltech_surf", "A", None, 100),
    ("shift_digits_cross", "usps_mnist", "digits_cross", "usps", None, None),  # not digits_sklearn: the digits base
    ("shift_gas_drift", "gas_drift", "gas_drift", "batch2", None, None),
    ("shift_heart4", "heart4", "heart4", "cleveland", None, None),
    ("shift_landmine29", "landmine29", "landmine29", "field01", None, None),
    ("shift_wisdm", "wisdm", "wisdm", "user20", None, None),
)
#: (kind, transform) of the semi-real shifts: selection bias, label shift, class-conditional
#: concept shift (per-class offsets and label swaps), a subspace transform.
SEMI_REAL_KINDS = (("covariate_shift", None), ("label_shift", None), ("concept_shift", None),
                   ("feature_transform", "subspace"))
SEMI_REAL_LEVELS = (0.3, 0.6, 0.9)
#: Source rows per class of the small-source semi-real variants (hard negatives).
SMALL_SOURCE_PER_CLASS = (5, 10)


def semi_real_specs():
    """The shift generators on real feature spaces: per pool, each kind at each level with the
    full source (seed 0), and each kind at level 0.6 with a source of 5 and of 10 rows per class
    (seed 1). ``task`` = pool family/kind (levels and source sizes are variants of it), ``base``
    = the real dataset's group, so leave-one-base-out holds them out with their real pairs."""
    specs = []
    for family, base, dataset, domain, rows, max_features in SEMI_REAL_POOLS:
        for kind, transform in SEMI_REAL_KINDS:
            label = kind if transform is None else f"{kind}/{transform}"
            cases = [(level, 0, None) for level in SEMI_REAL_LEVELS]
            cases += [(0.6, 1, n) for n in SMALL_SOURCE_PER_CLASS]
            for level, seed, per_class in cases:
                g = {"kind": kind, "dataset": dataset, "domain": domain, "level": level, "seed": seed,
                     "transform": transform}
                if rows is not None:
                    g["pool_rows"] = rows
                name = f"{family}/{label}/level-{level:.1f}/seed-{seed}"
                if per_class is not None:
                    g["source_per_class"] = per_class
                    name += f"/source-{per_class}-per-class"
                spec = {"name": name, "family": family, "task": f"{family}/{label}", "base": base,
                        "preprocess": "none", "generator": g}
                if max_features is not None:
                    spec["max_features"] = max_features
                specs.append(spec)
    return specs


def _old_specs_not_in_real():
    """:func:`real_specs` less its full tasks (the first spec of each task): the real recipe
    lists them with the same domains, row caps and seeds, hence the same pair key."""
    seen, out = set(), []
    for sp in real_specs():
        if sp["task"] not in seen:
            seen.add(sp["task"])
            continue
        out.append(sp)
    return out


#: 20-Newsgroups tasks per category pair in the default recipe (the full recipe has all six).
#: Each costs ~60 s of meta-features (the shared-space features read the raw 25,804-term rows;
#: measured, docs/meta_store.md), so the default keeps the first two and their variants.
NEWSGROUPS_TASKS_DEFAULT = 2


def _trim_newsgroups(specs, n_tasks):
    kept, out = {}, []
    for sp in specs:
        if sp["family"].startswith("newsgroups20_"):
            tasks = kept.setdefault(sp["family"], [])
            if sp["task"] not in tasks:
                if len(tasks) >= n_tasks:
                    continue
                tasks.append(sp["task"])
        out.append(sp)
    return out


def full_recipe():
    """Every pair spec: the default recipe with all 20-Newsgroups tasks (more than the default's
    60-minute budget on two cores; run it with ``--backend dask``)."""
    from ._recipe_real import real_recipe_specs

    return _old_specs_not_in_real() + generated_specs() + real_recipe_specs() + semi_real_specs()


def default_recipe():
    """All pair specs of the default store (real ones need ``--data-dir``): :func:`full_recipe`
    with :data:`NEWSGROUPS_TASKS_DEFAULT` 20-Newsgroups tasks per category pair."""
    return _trim_newsgroups(full_recipe(), NEWSGROUPS_TASKS_DEFAULT)


def real_recipe():
    """The real part of the default recipe (the first store's real variants and the real tasks)."""
    from ._recipe_real import real_recipe_specs

    return _old_specs_not_in_real() + real_recipe_specs()


RECIPES = {"default": default_recipe, "full": full_recipe, "generated": generated_specs, "real": real_recipe,
           "semi-real": semi_real_specs}
