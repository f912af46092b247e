"""Pair meta-features: what MetaTrans and EasyTransferability see of a (source, target) pair.

Computed from the source features and labels and the target **features only**: the function
takes no target labels, so they cannot leak into the store (tested: identical features with
the target labels permuted or absent). Three groups:

- divergences (:func:`transferability.divergence.compute_divergences`, subsampled for speed);
- descriptors: sizes and their ratio, dimension, classes, source imbalance, intrinsic
  dimension (PCA components for 90 % of the variance, as a fraction of d) and sparsity of each
  domain;
- label-aware, with target *pseudo*-labels from a source classifier (standardised logistic
  regression): mean normalised entropy of its target predictions and its source
  cross-validated accuracy, the total-variation distance between the source class prior and
  the predicted target class distribution (predicted label shift), class-conditional linear
  MMD between source classes and pseudo-labelled target classes, and the agreement between
  1-NN and logistic-regression pseudo-labels.

Bump :data:`FEATURE_SCHEMA_VERSION` whenever a feature is added, removed or changes meaning;
the store keeps the version with every pair.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from ..divergence import compute_divergences
from ..divergence._common import subsample
from ..utils.validation import InputError, check_labels, check_pair

__all__ = ["FEATURE_SCHEMA_VERSION", "FEATURE_NAMES", "compute_meta_features"]

FEATURE_SCHEMA_VERSION = 2
# 1: first release. 2: proxy A-distance solved by liblinear instead of L-BFGS (changed on 83 of
#    the default recipe's 410 pairs, by at most 0.047; 2-6x faster where d is near the sample size).

_DIVERGENCE_LIMITS = {"mmd": 2000, "rbf_mmd": 2000, "proxy_a_distance": 1000,
                      "h_divergence": 1000, "knn_overlap": 1000}
_DIVERGENCES = ["mmd", "linear_mmd", "rbf_mmd", "coral", "frechet", "grassmann",
                "proxy_a_distance", "h_divergence", "knn_overlap"]
_LABEL_MAX = 3000  # rows per domain for the pseudo-labelling classifiers

FEATURE_NAMES = (
    [f"div_{m}" for m in _DIVERGENCES]
    + ["n_source", "n_target", "log_size_ratio", "n_features", "n_classes", "source_imbalance",
       "source_intrinsic_dim", "target_intrinsic_dim", "source_sparsity", "target_sparsity",
       "source_cv_accuracy", "target_pred_entropy", "predicted_label_shift",
       "class_conditional_mmd", "pseudo_label_agreement", "target_max_prob"]
)


def _intrinsic_dim(X, var=0.9):
    Xc = X - X.mean(axis=0)
    s = np.linalg.svd(Xc, compute_uv=False)
    ev = s ** 2
    total = ev.sum()
    if total <= 0:
        return 0.0
    k = int(np.searchsorted(np.cumsum(ev) / total, var) + 1)
    return k / X.shape[1]


def compute_meta_features(X_source, y_source, X_target, *, random_state=0) -> dict:
    """Meta-features of a pair (no target labels involved).

    Parameters
    ----------
    X_source : array-like of shape (n_source, n_features)
    y_source : array-like of shape (n_source,)
    X_target : array-like of shape (n_target, n_features)
    random_state : int, default=0

    Returns
    -------
    dict
        :data:`FEATURE_NAMES` -> float, in that order.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import LabelEncoder, StandardScaler

    Xs, Xt = check_pair(X_source, X_target)
    ys = check_labels(y_source, Xs.shape[0], name="source labels")
    codes = LabelEncoder().fit_transform(ys)
    n_classes = int(codes.max()) + 1
    if n_classes < 2:
        raise InputError("source labels must contain at least two classes")
    rng = check_random_state(random_state)
    feats: dict = {}

    rep = compute_divergences(Xs, Xt, measures=_DIVERGENCES, max_samples=_DIVERGENCE_LIMITS,
                              random_state=int(random_state))
    for m in _DIVERGENCES:
        feats[f"div_{m}"] = rep.divergences[m]

    counts = np.bincount(codes, minlength=n_classes)
    ns, nt, d = Xs.shape[0], Xt.shape[0], Xs.shape[1]
    feats.update(
        n_source=float(ns), n_target=float(nt), log_size_ratio=float(np.log(ns / nt)),
        n_features=float(d), n_classes=float(n_classes),
        source_imbalance=float(counts.max() / max(counts.min(), 1)),
        source_intrinsic_dim=_intrinsic_dim(subsample(Xs, _LABEL_MAX, rng)),
        target_intrinsic_dim=_intrinsic_dim(subsample(Xt, _LABEL_MAX, rng)),
        source_sparsity=float(np.mean(Xs == 0)), target_sparsity=float(np.mean(Xt == 0)),
    )

    # label-aware features from a source classifier and target pseudo-labels
    idx = np.arange(ns) if ns <= _LABEL_MAX else np.sort(rng.choice(ns, _LABEL_MAX, replace=False))
    Xs_l, ys_l = Xs[idx], codes[idx]
    Xt_l = subsample(Xt, _LABEL_MAX, rng)
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=500))
    min_count = int(np.bincount(ys_l, minlength=n_classes)[np.bincount(ys_l, minlength=n_classes) > 0].min())
    folds = min(3, min_count)
    if folds >= 2:
        cv = StratifiedKFold(folds, shuffle=True, random_state=int(rng.randint(2**31 - 1)))
        feats["source_cv_accuracy"] = float(cross_val_score(clf, Xs_l, ys_l, cv=cv).mean())
    else:
        feats["source_cv_accuracy"] = float("nan")
    clf.fit(Xs_l, ys_l)
    proba = clf.predict_proba(Xt_l)
    present = clf.classes_
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.nansum(np.where(proba > 0, proba * np.log(proba), 0.0), axis=1)
    feats["target_pred_entropy"] = float(ent.mean() / np.log(max(len(present), 2)))
    pseudo = present[proba.argmax(axis=1)]
    prior_s = counts / counts.sum()
    prior_t = np.bincount(pseudo, minlength=n_classes) / len(pseudo)
    feats["predicted_label_shift"] = float(0.5 * np.abs(prior_s - prior_t).sum())
    cc = []
    for c in range(n_classes):
        ms, mt = Xs_l[ys_l == c], Xt_l[pseudo == c]
        if len(ms) and len(mt):
            diff = ms.mean(axis=0) - mt.mean(axis=0)
            cc.append(float(diff @ diff))
    feats["class_conditional_mmd"] = float(np.mean(cc)) if cc else float("nan")
    nn = KNeighborsClassifier(1, algorithm="brute").fit(Xs_l, ys_l)
    feats["pseudo_label_agreement"] = float(np.mean(nn.predict(Xt_l) == pseudo))
    feats["target_max_prob"] = float(proba.max(axis=1).mean())
    return {name: float(feats[name]) for name in FEATURE_NAMES}
