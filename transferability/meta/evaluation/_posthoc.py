"""Post-hoc selection: what a user would do without MetaTrans — run every method, then pick one
with an unsupervised validation score (no target label).

Two scores, both from the methods' target predictions alone:

- **circular (reverse) validation** (Zhong et al., ECML-PKDD 2010): fit the base estimator on the
  target with the method's predicted labels, predict the source, score its accuracy against the
  source labels; the method with the highest reverse accuracy is picked;
- **ensemble agreement**: the share of target samples on which the method agrees with the
  majority vote of all methods; the most consensual method is picked.

Prediction entropy and soft neighbourhood density need class probabilities, which the 1-NN base
estimator does not give, and importance-weighted validation needs a held-out source split and a
second fit of every method; they are not computed here.

The cost of post-hoc selection is the time to run every method plus the scoring, measured per
pair, beside the time of computing the pair's meta-features (what ``recommend`` costs).
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["posthoc_selection", "SELECTORS"]

SELECTORS = ("circular_validation", "ensemble_agreement")


def _reverse_accuracy(Xs, ys, Xt, yt_pred, base_estimator):
    from sklearn.base import clone

    from transferability.methods._base import make_base_estimator

    if len(np.unique(yt_pred)) < 2:
        return 0.0
    est = clone(make_base_estimator(base_estimator)).fit(Xt, yt_pred)
    return float(np.mean(est.predict(Xs) == ys))


def posthoc_selection(specs, methods, *, base_estimator="1nn", data_dir=None, progress=None):
    """Run every method on each spec's pair and score them without target labels.

    Returns
    -------
    dict
        ``names`` (pair names), ``methods``, ``accuracy`` (n_pairs, n_methods) measured now,
        ``scores`` (selector -> (n_pairs, n_methods)), ``picks`` (selector -> (n_pairs,)),
        ``run_all_s`` and ``scoring_s`` per pair, ``features_s`` per pair (meta-features).
    """
    from transferability.methods import get_method

    from transferability.meta.build._build import materialize
    from transferability.meta.learners._features import compute_meta_features

    n, m = len(specs), len(methods)
    acc = np.zeros((n, m))
    scores = {s: np.zeros((n, m)) for s in SELECTORS}
    run_all, scoring, feats = np.zeros(n), np.zeros(n), np.zeros(n)
    for i, spec in enumerate(specs):
        if progress:
            progress(f"post-hoc {i + 1}/{n}: {spec.get('name')}")
        Xs, ys, Xt, yt, *_ = materialize(spec, data_dir)
        preds = []
        for j, name in enumerate(methods):
            t0 = time.perf_counter()
            yp = get_method(name, base_estimator=base_estimator, random_state=0).fit_domains(Xs, ys, Xt).predict(Xt)
            run_all[i] += time.perf_counter() - t0
            preds.append(np.asarray(yp))
            acc[i, j] = float(np.mean(preds[-1] == yt))
        t0 = time.perf_counter()
        for j in range(m):
            scores["circular_validation"][i, j] = _reverse_accuracy(Xs, ys, Xt, preds[j], base_estimator)
        P = np.array(preds)
        vote = np.array([max(np.unique(col), key=lambda v, c=col: (np.sum(c == v), str(v))) for col in P.T])
        scores["ensemble_agreement"][i] = (P == vote[None, :]).mean(axis=1)
        scoring[i] = time.perf_counter() - t0
        t0 = time.perf_counter()
        compute_meta_features(Xs, ys, Xt, random_state=0)
        feats[i] = time.perf_counter() - t0
    picks = {s: np.argmax(v, axis=1) for s, v in scores.items()}
    return {"names": [s.get("name") for s in specs], "methods": list(methods), "accuracy": acc, "scores": scores,
            "picks": picks, "run_all_s": run_all, "scoring_s": scoring, "features_s": feats}
