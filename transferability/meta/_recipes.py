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


def _real_pairs(family, task, src, tgt, preprocess, n_classes, variant_seed, max_features=None):
    base = {"family": family, "preprocess": preprocess}
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
                    specs.append({"family": kind, "preprocess": "none",
                                  "name": f"{kind}/{base}/level-{level:.1f}/seed-{seed}",
                                  "generator": {"kind": kind, "base": base, "level": level, "seed": seed}})
    for base in BASES:
        for transform in ("rotation", "scaling", "noise", "subspace"):
            for j, level in enumerate(LEVELS):
                specs.append({"family": "feature_transform", "preprocess": "none",
                              "name": f"feature_transform/{base}/{transform}/level-{level:.1f}",
                              "generator": {"kind": "feature_transform", "base": base, "level": level,
                                            "seed": 100 + j, "transform": transform}})
    return specs


def default_recipe():
    """All pair specs of the default store (real ones need ``--data-dir``)."""
    return real_specs() + generated_specs()


RECIPES = {"default": default_recipe, "generated": generated_specs, "real": real_specs}
