"""Pair meta-features: what MetaTrans and EasyTransferability see of a (source, target) pair.

Computed from the source features (and, optionally, labels) and the target **features only**:
the function takes no target labels, so they cannot leak into the store (tested: identical
features with the target labels permuted or absent). Every feature, its formula, whether it
reads the source labels and its cost are listed in ``docs/meta_features.md``. Groups:

- **input-space divergences** ``div_<measure>``: on the pair as given, i.e. after the pair's
  preprocessing (what the adaptation methods see), from
  :func:`transferability.divergence.compute_divergences` (subsampled for speed) plus the sliced
  Wasserstein distance (:func:`sliced_wasserstein`);
- **shared-space divergences** ``div_shared_<measure>`` and per-feature shift statistics
  ``shared_*``: both domains standardised with the **pooled** mean and population std (source
  and target rows stacked; ``zscore-pooled`` of :func:`transferability.datasets.preprocess_pair`).
  Per-domain preprocessing (``zscore``, ``sum-zscore``) centres and scales each domain on its own
  statistics and so hides exactly the shift that predicts transfer: every per-feature mean and
  scale difference. Pass the domains *before* that preprocessing as ``X_source_raw`` /
  ``X_target_raw`` and the shared space is built from them. Without them it is built from the
  inputs, and after per-domain z-scoring the pooled statistics are 0 and 1 already: the shared
  space is the input space, so the mean and scale shift stay lost (``div_shared_linear_mmd``,
  ``shared_mean_abs_smd``... are 0 to rounding) and only what z-scoring leaves (correlations,
  the shape of the marginals: ``div_shared_coral``, ``div_shared_sliced_wasserstein``,
  ``div_shared_mmd``) is recovered;
- **descriptors**: sizes and their ratio, dimension, intrinsic dimension (PCA components for 90 %
  of the variance, as a fraction of d) of each domain, and sparsity (fraction of exact zeros) of
  each domain as loaded (the raw inputs when given: z-scored data has no zeros);
- **source-label features** (:data:`LABEL_FEATURES`): class count, imbalance and entropy of the
  source labels, samples per class, and, with target *pseudo*-labels from a source classifier
  (standardised logistic regression): mean normalised entropy and mean top probability of its
  target predictions, its source cross-validated accuracy, the total-variation distance between
  the source class prior and the predicted target class distribution (predicted label shift),
  class-conditional linear MMD between source classes and pseudo-labelled target classes, and
  the agreement between 1-NN and logistic-regression pseudo-labels.

``y_source=None`` (an unlabelled source) returns :data:`LABEL_FREE_FEATURES` only: the same
values as with labels (each group draws from its own seeded stream, so nothing depends on
whether the labels were given).

Bump :data:`FEATURE_SCHEMA_VERSION` whenever a feature is added, removed or changes meaning;
the store keeps the version with every pair.
"""

from __future__ import annotations

import numpy as np

from transferability.divergence import coral_gap, compute_divergences
from transferability.divergence._common import canonical_subsample, finish, subsample, validated_pair
from transferability.utils.numerics import cross
from transferability.utils.validation import InputError, check_labels, check_magnitude, check_pair

__all__ = ["FEATURE_SCHEMA_VERSION", "FEATURE_NAMES", "LABEL_FREE_FEATURES", "LABEL_FEATURES",
           "compute_meta_features", "pair_meta_features", "sliced_wasserstein"]

FEATURE_SCHEMA_VERSION = 3
# 1: first release. 2: proxy A-distance solved by liblinear instead of L-BFGS.
# 3: shared-space divergences (pooled standardisation, raw inputs when given) and shift
#    statistics; sliced Wasserstein; the input-space linear MMD and proxy A-distance dropped
#    (identically 0 after per-domain z-scoring; their shared-space versions replace them);
#    source class entropy and samples per class; one seeded stream per feature group.

# input space: what the methods see
_INPUT_DIVERGENCES = ("mmd", "rbf_mmd", "coral", "frechet", "grassmann", "h_divergence", "knn_overlap")
_INPUT_LIMITS = {"mmd": 2000, "rbf_mmd": 2000, "h_divergence": 1000, "knn_overlap": 1000}
# shared space (pooled standardisation); coral separately, on at most _SHARED_CORAL_MAX_D columns
_SHARED_DIVERGENCES = ("mmd", "linear_mmd", "proxy_a_distance")
_SHARED_LIMITS = {"mmd": 2000, "proxy_a_distance": 1000}
_SHARED_CORAL_MAX_D = 1024
_SW_PROJECTIONS = 128
_SW_MAX = 10_000        # rows per domain for the sliced Wasserstein distance
_SMD_LARGE = 0.5        # |standardised mean difference| counted as a large shift
_STD_FLOOR = 1e-3       # added to both stds (pooled units) in the log std ratio
_DESCRIPTOR_MAX = 3000  # rows per domain for the intrinsic dimension
_LABEL_MAX = 3000       # rows per domain for the pseudo-labelling classifiers

#: Meta-features that read no label at all (computed with ``y_source=None`` too).
LABEL_FREE_FEATURES = (
    tuple(f"div_{m}" for m in _INPUT_DIVERGENCES) + ("div_sliced_wasserstein",)
    + ("div_shared_mmd", "div_shared_linear_mmd", "div_shared_coral", "div_shared_proxy_a_distance",
       "div_shared_sliced_wasserstein", "shared_mean_abs_smd", "shared_frac_large_smd",
       "shared_mean_abs_log_std_ratio")
    + ("n_source", "n_target", "log_size_ratio", "n_features", "source_intrinsic_dim",
       "target_intrinsic_dim", "source_sparsity", "target_sparsity")
)
#: Meta-features that read the **source** labels (absent when ``y_source=None``).
LABEL_FEATURES = (
    "n_classes", "source_imbalance", "source_class_entropy", "source_per_class", "target_per_class",
    "source_cv_accuracy", "target_pred_entropy", "predicted_label_shift", "class_conditional_mmd",
    "pseudo_label_agreement", "target_max_prob",
)
#: Every meta-feature, in the order :func:`compute_meta_features` returns them.
FEATURE_NAMES = list(LABEL_FREE_FEATURES + LABEL_FEATURES)

# one independent seeded stream per group, so that no group's draws depend on another's
_STREAM_SOURCE_DIM, _STREAM_TARGET_DIM, _STREAM_LABELS, _STREAM_CORAL_COLUMNS = 1, 2, 3, 4


def _check_seed(random_state) -> int:
    if (not isinstance(random_state, (int, np.integer)) or isinstance(random_state, bool)
            or not 0 <= int(random_state) < 2**32):
        raise InputError(f"random_state must be an integer in [0, 2**32), got {random_state!r}")
    return int(random_state)


def _stream(seed: int, stream: int) -> np.random.RandomState:
    return np.random.RandomState(np.random.SeedSequence([seed, stream]).generate_state(4))


# -- sliced Wasserstein ---------------------------------------------------------------------------
def _wasserstein_sorted(A, B, p):
    """``W_p^p`` between the empirical distributions of every column of ``A`` (n, L) and ``B``
    (m, L), both sorted along axis 0: the integral over u in (0, 1] of
    ``|F_A^-1(u) - F_B^-1(u)|^p``, exact (the quantile functions are step functions with steps
    at i/n and j/m)."""
    n, m = A.shape[0], B.shape[0]
    ca, cb = np.arange(1, n + 1) / n, np.arange(1, m + 1) / m
    # i/n and j/m are correctly rounded: equal fractions give equal floats
    u = np.unique(np.concatenate([ca, cb]))
    w = np.diff(u, prepend=0.0)
    ia = np.searchsorted(ca, u, side="left")
    ib = np.searchsorted(cb, u, side="left")
    gap = np.abs(A[ia] - B[ib])
    if p != 1:
        gap **= p
    return w @ gap


def sliced_wasserstein(X_source, X_target, *, n_projections=_SW_PROJECTIONS, p=1, max_samples=None,
                       random_state=0) -> float:
    """Sliced Wasserstein distance ``SW_p = (mean_l W_p^p(θ_l·X_s, θ_l·X_t))^(1/p)``.

    ``n_projections`` directions θ_l drawn uniformly on the unit sphere (normalised Gaussian
    vectors, seeded by ``random_state``); each 1-D ``W_p`` between the projected empirical
    distributions is exact (quantile functions, any sizes). In one dimension every direction is
    ±1, so ``SW_p = W_p`` (for ``p = 1``, :func:`scipy.stats.wasserstein_distance`). Symmetric,
    0 for identical domains, homogeneous of degree 1 (``SW(cX, cY) = c SW(X, Y)``), and for a
    translated copy ``Y = X + δ``, ``SW_1 -> |δ| E|θ_1|`` and ``SW_2 -> |δ| / sqrt(d)``.
    Cost O((n_s + n_t) d L) for the projections, O((n_s + n_t) L log n) for the sorts.

    Written with numpy rather than POT (``ot.sliced_wasserstein_distance``): it is twenty lines,
    exact for unequal sizes, and a dependency for it alone was not worth it.

    Parameters
    ----------
    X_source, X_target : array-like of shape (n, n_features)
    n_projections : int, default=128
    p : float >= 1, default=1
    max_samples : int or None, default=None
        Rows per domain above which each domain is subsampled (uniform, without replacement,
        from the domain's rows in a canonical order: the value depends on the rows and the
        seed, never on their order).
    random_state : int, default=0

    Returns
    -------
    float

    References
    ----------
    Rabin, Peyré, Delon & Bernot, "Wasserstein Barycenter and its Application to Texture
    Mixing", SSVM 2011; Bonneel, Rabin, Peyré & Pfister, "Sliced and Radon Wasserstein
    Barycenters of Measures", J. Math. Imaging Vis. 2015.

    Examples
    --------
    >>> sliced_wasserstein([[0.0], [1.0]], [[2.0], [3.0]])
    2.0
    """
    if isinstance(n_projections, bool) or not isinstance(n_projections, (int, np.integer)) or n_projections < 1:
        raise InputError(f"n_projections must be a positive integer, got {n_projections!r}")
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not p >= 1:
        raise InputError(f"p must be a number >= 1, got {p!r}")
    seed = _check_seed(random_state)
    Xs, Xt, k = validated_pair(X_source, X_target)
    if max_samples is not None:
        if isinstance(max_samples, bool) or not isinstance(max_samples, (int, np.integer)) or max_samples < 2:
            raise InputError(f"max_samples must be an integer >= 2 or None, got {max_samples!r}")
        # the same seed for both domains: each draw depends on its own domain only (symmetry);
        # a domain that fits is used whole (its row order cannot matter once projected and sorted)
        if Xs.shape[0] > max_samples:
            Xs = canonical_subsample(Xs, max_samples, seed)
        if Xt.shape[0] > max_samples:
            Xt = canonical_subsample(Xt, max_samples, seed)
    theta = np.random.RandomState(seed).standard_normal((int(n_projections), Xs.shape[1]))
    theta /= np.linalg.norm(theta, axis=1, keepdims=True)
    Ps = np.sort(cross(np.asarray(Xs, dtype=np.float64), theta), axis=0)
    Pt = np.sort(cross(np.asarray(Xt, dtype=np.float64), theta), axis=0)
    wpp = _wasserstein_sorted(Ps, Pt, float(p))
    return finish("sliced_wasserstein", float(np.mean(wpp)) ** (1.0 / float(p)), k, 1)


# -- feature groups -------------------------------------------------------------------------------
def _intrinsic_dim(X, var=0.9):
    Xc = X - X.mean(axis=0)
    s = np.linalg.svd(Xc, compute_uv=False)
    ev = s ** 2
    total = ev.sum()
    if total <= 0:
        return 0.0
    k = int(np.searchsorted(np.cumsum(ev) / total, var) + 1)
    return k / X.shape[1]


def _shared_space(Xs, Xt):
    """Both domains standardised with the pooled rows' mean and population std."""
    from transferability.datasets import preprocess_pair

    Xs, Xt, _ = check_magnitude(Xs, Xt)  # a power of two: the standardised pair is unchanged
    return preprocess_pair(Xs, Xt, "zscore-pooled")


def _shared_features(Zs, Zt, seed):
    feats = {}
    rep = compute_divergences(Zs, Zt, measures=list(_SHARED_DIVERGENCES), max_samples=_SHARED_LIMITS,
                              random_state=seed)
    for m in _SHARED_DIVERGENCES:
        feats[f"div_shared_{m}"] = rep.divergences[m]
    d = Zs.shape[1]
    if d > _SHARED_CORAL_MAX_D:  # CORAL is a mean over feature pairs: a seeded subset of columns
        cols = np.sort(_stream(seed, _STREAM_CORAL_COLUMNS).choice(d, _SHARED_CORAL_MAX_D, replace=False))
        feats["div_shared_coral"] = coral_gap(Zs[:, cols], Zt[:, cols])
    else:
        feats["div_shared_coral"] = coral_gap(Zs, Zt)
    feats["div_shared_sliced_wasserstein"] = sliced_wasserstein(Zs, Zt, max_samples=_SW_MAX, random_state=seed)
    smd = np.abs(Zs.mean(axis=0) - Zt.mean(axis=0))
    feats["shared_mean_abs_smd"] = float(smd.mean())
    feats["shared_frac_large_smd"] = float(np.mean(smd > _SMD_LARGE))
    ratio = np.log((Zs.std(axis=0) + _STD_FLOOR) / (Zt.std(axis=0) + _STD_FLOOR))
    feats["shared_mean_abs_log_std_ratio"] = float(np.abs(ratio).mean())
    return feats


def _label_features(Xs, codes, n_classes, Xt, seed):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    ns, nt = Xs.shape[0], Xt.shape[0]
    counts = np.bincount(codes, minlength=n_classes)
    prior_s = counts / counts.sum()
    feats = {
        "n_classes": float(n_classes),
        "source_imbalance": float(counts.max() / max(counts.min(), 1)),
        "source_class_entropy": float(-np.sum(prior_s * np.log(prior_s)) / np.log(n_classes)),
        "source_per_class": float(ns / n_classes),
        "target_per_class": float(nt / n_classes),
    }
    rng = _stream(seed, _STREAM_LABELS)
    idx = np.arange(ns) if ns <= _LABEL_MAX else np.sort(rng.choice(ns, _LABEL_MAX, replace=False))
    Xs_l, ys_l = Xs[idx], codes[idx]
    Xt_l = subsample(Xt, _LABEL_MAX, rng)
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=500))
    sub_counts = np.bincount(ys_l, minlength=n_classes)
    folds = min(3, int(sub_counts[sub_counts > 0].min()))
    cv_seed = int(rng.randint(2**31 - 1))
    # a class with a single row cannot be stratified: plain shuffled 3-fold CV then
    cv = (StratifiedKFold(folds, shuffle=True, random_state=cv_seed) if folds >= 2
          else KFold(min(3, len(ys_l)), shuffle=True, random_state=cv_seed))
    feats["source_cv_accuracy"] = float(cross_val_score(clf, Xs_l, ys_l, cv=cv).mean())
    clf.fit(Xs_l, ys_l)
    proba = clf.predict_proba(Xt_l)
    present = clf.classes_
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.sum(np.where(proba > 0, proba * np.log(np.where(proba > 0, proba, 1.0)), 0.0), axis=1)
    feats["target_pred_entropy"] = float(ent.mean() / np.log(max(len(present), 2)))
    pseudo = present[proba.argmax(axis=1)]
    prior_t = np.bincount(pseudo, minlength=n_classes) / len(pseudo)
    feats["predicted_label_shift"] = float(0.5 * np.abs(prior_s - prior_t).sum())
    cc = []
    for c in range(n_classes):
        ms, mt = Xs_l[ys_l == c], Xt_l[pseudo == c]
        if len(ms) and len(mt):
            diff = ms.mean(axis=0) - mt.mean(axis=0)
            cc.append(float(diff @ diff))
    feats["class_conditional_mmd"] = float(np.mean(cc))  # the predicted classes are source classes
    nn = KNeighborsClassifier(1, algorithm="brute").fit(Xs_l, ys_l)
    feats["pseudo_label_agreement"] = float(np.mean(nn.predict(Xt_l) == pseudo))
    feats["target_max_prob"] = float(proba.max(axis=1).mean())
    return feats


def compute_meta_features(X_source, y_source, X_target, *, random_state=0, X_source_raw=None,
                          X_target_raw=None) -> dict:
    """Meta-features of a pair (no target labels involved).

    Parameters
    ----------
    X_source : array-like of shape (n_source, n_features)
        Source features as the methods see them (after the pair's preprocessing).
    y_source : array-like of shape (n_source,) or None
        Source labels (at least two classes); ``None`` for an unlabelled source: only
        :data:`LABEL_FREE_FEATURES` are returned, with the values they have with labels.
    X_target : array-like of shape (n_target, n_features)
        Target features, preprocessed like the source.
    random_state : int in [0, 2**32), default=0
        Seed of every subsample, projection and classifier split.
    X_source_raw, X_target_raw : array-like of shape (n_source, n_raw) / (n_target, n_raw), default=None
        The same rows before the preprocessing (e.g. before per-domain z-scoring or PCA; any
        common number of columns). When given (both or neither), the shared-space features and
        the sparsities are computed from them; otherwise from ``X_source`` / ``X_target``. For
        ``none`` and the pair-level recipes (``zscore-source``, ``zscore-pooled``,
        ``tfidf-svd100``) the inputs already share one space and the raw domains add little;
        for the per-domain recipes (``zscore``, ``sum-zscore``) they are what keeps the mean and
        scale shift visible.

    Returns
    -------
    dict
        :data:`FEATURE_NAMES` -> float, in that order (:data:`LABEL_FREE_FEATURES` when
        ``y_source`` is None); every value finite.

    Raises
    ------
    InputError
        Bad input: shapes, non-finite values, fewer than two source classes, one raw domain
        without the other, raw domains whose rows do not match the inputs, a bad seed.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> Xs, Xt = rng.randn(60, 3), rng.randn(50, 3) + 1.0
    >>> f = compute_meta_features(Xs, None, Xt)
    >>> list(f) == list(LABEL_FREE_FEATURES), f["div_shared_linear_mmd"] > 0.5
    (True, True)
    """
    seed = _check_seed(random_state)
    Xs, Xt = check_pair(X_source, X_target)
    if (X_source_raw is None) != (X_target_raw is None):
        raise InputError("give both X_source_raw and X_target_raw, or neither")
    if X_source_raw is not None:
        Rs, Rt = check_pair(X_source_raw, X_target_raw)
        if Rs.shape[0] != Xs.shape[0] or Rt.shape[0] != Xt.shape[0]:
            raise InputError(f"the raw domains have {Rs.shape[0]} and {Rt.shape[0]} rows, the inputs "
                             f"{Xs.shape[0]} and {Xt.shape[0]}: raw inputs must be the same rows before preprocessing")
    else:
        Rs, Rt = Xs, Xt
    codes = n_classes = None
    if y_source is not None:  # checked before any work
        from sklearn.preprocessing import LabelEncoder

        ys = check_labels(y_source, Xs.shape[0], name="source labels")
        codes = LabelEncoder().fit_transform(ys)
        n_classes = int(codes.max()) + 1
        if n_classes < 2:
            raise InputError("source labels must contain at least two classes")

    feats: dict = {}
    rep = compute_divergences(Xs, Xt, measures=list(_INPUT_DIVERGENCES), max_samples=_INPUT_LIMITS,
                              random_state=seed)
    for m in _INPUT_DIVERGENCES:
        feats[f"div_{m}"] = rep.divergences[m]
    feats["div_sliced_wasserstein"] = sliced_wasserstein(Xs, Xt, max_samples=_SW_MAX, random_state=seed)
    feats.update(_shared_features(*_shared_space(Rs, Rt), seed))

    ns, nt, d = Xs.shape[0], Xt.shape[0], Xs.shape[1]
    feats.update(
        n_source=float(ns), n_target=float(nt), log_size_ratio=float(np.log(ns / nt)), n_features=float(d),
        source_intrinsic_dim=_intrinsic_dim(subsample(Xs, _DESCRIPTOR_MAX, _stream(seed, _STREAM_SOURCE_DIM))),
        target_intrinsic_dim=_intrinsic_dim(subsample(Xt, _DESCRIPTOR_MAX, _stream(seed, _STREAM_TARGET_DIM))),
        source_sparsity=float(np.mean(Rs == 0)), target_sparsity=float(np.mean(Rt == 0)),
    )
    if codes is None:
        return {name: float(feats[name]) for name in LABEL_FREE_FEATURES}
    feats.update(_label_features(Xs, codes, n_classes, Xt, seed))
    return {name: float(feats[name]) for name in FEATURE_NAMES}


def pair_meta_features(X_source, y_source, X_target, *, preprocess="none", random_state=0, with_facts=False,
                       with_arrays=False):
    """Meta-features of a new pair, computed exactly as the store build computes them for its
    pairs: the pair is validated, preprocessed with ``preprocess``, and the domains as given
    (before preprocessing) are passed as the raw domains of the shared-space features.

    One function for ``recommend``, ``assess`` and the command line, so that the features a
    learner sees at prediction time are those it was trained on.

    Returns
    -------
    features : dict
        :data:`FEATURE_NAMES` -> float (:data:`LABEL_FREE_FEATURES` when ``y_source`` is None).
    sizes : tuple of int
        ``(n_source, n_target, n_features)`` after preprocessing.
    facts : PairFacts
        Only with ``with_facts``: what the rules of :mod:`~transferability.meta.learners._guards`
        read (source classes, the source-label signal test on the preprocessed source).
    arrays : tuple of arrays
        Only with ``with_arrays`` (after ``facts``, which it implies): the validated,
        preprocessed ``(X_source, y_source, X_target)`` the methods would run on.
    """
    from transferability.datasets import preprocess_pair
    from transferability.utils.validation import check_labels, check_pair

    Xs_raw, Xt_raw = check_pair(X_source, X_target)
    ys = None if y_source is None else check_labels(y_source, Xs_raw.shape[0], name="source labels")
    Xs, Xt = preprocess_pair(Xs_raw, Xt_raw, preprocess)
    features = compute_meta_features(Xs, ys, Xt, random_state=random_state, X_source_raw=Xs_raw,
                                     X_target_raw=Xt_raw)
    sizes = (int(Xs.shape[0]), int(Xt.shape[0]), int(Xs.shape[1]))
    if not (with_facts or with_arrays):
        return features, sizes
    from sklearn.preprocessing import LabelEncoder

    from ._guards import pair_facts

    codes = None if ys is None else LabelEncoder().fit_transform(ys)
    facts = pair_facts(Xs, codes, Xt, random_state=random_state, X_source_raw=Xs_raw, X_target_raw=Xt_raw)
    return (features, sizes, facts, (Xs, ys, Xt)) if with_arrays else (features, sizes, facts)
