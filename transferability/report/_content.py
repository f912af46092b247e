"""The numbers the report shows beside the result objects: where each divergence stands in the
store, which features moved most, a 2-D view of both domains, and the stored pairs nearest to
this one. Plain functions returning plain data (lists, dicts, arrays); no plotting here.
"""

from __future__ import annotations

import math

import numpy as np

from transferability.utils.validation import InputError

__all__ = ["SIMILARITIES", "divergence_standing", "feature_shift", "embed", "nearest_stored_pairs",
           "verdict_flags", "verified_table"]

#: Divergences where a *larger* value means the domains are *more alike* (1-NN support overlap:
#: 1 mixed, 0 disjoint). For these, "shift larger than p % of stored pairs" counts the stored
#: pairs with a larger value.
SIMILARITIES = frozenset({"knn_overlap", "shared_knn_overlap"})

_EMBEDDINGS = ("pca", "tsne")


def _finite(x) -> bool:
    return x is not None and isinstance(x, (int, float, np.integer, np.floating)) and math.isfinite(float(x))


def divergence_standing(divergences: dict, records) -> list:
    """Each divergence of this pair against the stored pairs' values of it.

    Parameters
    ----------
    divergences : dict
        name -> value (``Recommendation.transferability["divergences"]``, or the ``div_*``
        meta-features without their prefix).
    records : iterable of dict
        Store records (:func:`transferability.meta.learners.load_records`); their
        ``meta_features["div_<name>"]`` are the stored values.

    Returns
    -------
    list of dict
        One per divergence with a finite value, in the given order: ``name``, ``value``,
        ``stored`` (sorted float array of the stored pairs' finite values), ``n_stored``,
        ``shift_percentile`` (percentage of stored pairs whose shift is strictly smaller than
        this pair's: a smaller value, or a larger one for :data:`SIMILARITIES`; ``None`` when no
        stored pair has the measure) and ``similarity`` (whether larger means more alike).
    """
    records = list(records)
    out = []
    for name, value in divergences.items():
        if not _finite(value):
            continue
        key = f"div_{name}"
        stored = np.sort(np.array([float(r["meta_features"][key]) for r in records
                                   if _finite((r.get("meta_features") or {}).get(key))], dtype=np.float64))
        similarity = name in SIMILARITIES
        pct = None
        if stored.size:
            less = (stored > value) if similarity else (stored < value)
            pct = 100.0 * float(np.mean(less))
        out.append({"name": name, "value": float(value), "stored": stored, "n_stored": int(stored.size),
                    "shift_percentile": pct, "similarity": similarity})
    return out


def feature_shift(X_source, X_target, feature_names=None, *, top=10) -> dict:
    """Per-feature shift of the raw domains, in the shared space of the ``shared_*`` meta-features.

    Both domains are standardised with the mean and population std of the pooled rows
    (``zscore-pooled`` of :func:`transferability.datasets.preprocess_pair`), so that a per-domain
    preprocessing (``zscore``, ``sum-zscore``), which centres and scales each domain on its own
    and hides exactly these differences, does not hide them here.

    - standardised mean difference ``smd_j = mean_t(z_j) - mean_s(z_j)`` (pooled std units,
      target minus source);
    - variance ratio ``var_t(x_j) / var_s(x_j)`` (population variances; ``inf`` where the
      feature is constant in the source only, 1 where it is constant in both).

    Parameters
    ----------
    X_source, X_target : array-like of shape (n, n_features)
        The domains before any per-domain preprocessing.
    feature_names : list of str, default=None
        Column names (CSV/parquet); ``None`` names them ``column 0``, ``column 1``, ...
    top : int, default=10
        Rows of each of the two lists.

    Returns
    -------
    dict
        ``n_features``, ``named`` (whether names were given), ``by_mean`` (the ``top`` features
        with the largest ``|smd|``) and ``by_variance`` (largest ``|log variance ratio|``), each
        a list of ``{"index", "name", "smd", "variance_ratio"}``; ``mean_abs_smd``;
        ``n_large_smd`` (features with ``|smd| > 0.5``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> Xs = rng.randn(500, 3)
    >>> Xt = rng.randn(400, 3) * [1.0, 3.0, 1.0] + [0.0, 0.0, 2.0]
    >>> s = feature_shift(Xs, Xt, ["a", "b", "c"], top=1)
    >>> s["by_mean"][0]["name"], s["by_variance"][0]["name"]
    ('c', 'b')
    """
    from transferability.datasets import preprocess_pair
    from transferability.utils.validation import check_pair

    if not isinstance(top, (int, np.integer)) or isinstance(top, bool) or top < 1:
        raise InputError(f"top must be a positive integer, got {top!r}")
    Xs, Xt = check_pair(X_source, X_target)
    d = Xs.shape[1]
    if feature_names is None:
        names, named = [f"column {j}" for j in range(d)], False
    else:
        names, named = [str(n) for n in feature_names], True
        if len(names) != d:
            raise InputError(f"{len(names)} feature names for {d} features")
    Zs, Zt = preprocess_pair(Xs, Xt, "zscore-pooled")
    smd = Zt.mean(axis=0) - Zs.mean(axis=0)
    vs, vt = np.asarray(Xs, dtype=np.float64).var(axis=0), np.asarray(Xt, dtype=np.float64).var(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(vs > 0, vt / np.where(vs > 0, vs, 1.0), np.where(vt > 0, np.inf, 1.0))
        log_ratio = np.abs(np.log(np.where(ratio > 0, ratio, np.nan)))
    log_ratio = np.where(np.isnan(log_ratio), np.inf, log_ratio)  # constant in the target only

    def rows(order):
        return [{"index": int(j), "name": names[j], "smd": float(smd[j]), "variance_ratio": float(ratio[j])}
                for j in order[:top]]

    # stable sorts: ties keep the column order
    by_mean = np.argsort(-np.abs(smd), kind="stable")
    by_var = np.argsort(-log_ratio, kind="stable")
    return {"n_features": int(d), "named": named, "by_mean": rows(by_mean), "by_variance": rows(by_var),
            "mean_abs_smd": float(np.mean(np.abs(smd))), "n_large_smd": int(np.sum(np.abs(smd) > 0.5))}


def _subsample_rows(n, max_rows, rng):
    if n <= max_rows:
        return np.arange(n)
    return np.sort(rng.choice(n, max_rows, replace=False))


def embed(X_source, y_source, X_target, *, method="pca", max_per_domain=1000, random_state=0) -> dict:
    """A 2-D view of both domains: PCA (default) or t-SNE of the stacked rows, subsampled.

    Each domain is subsampled to at most ``max_per_domain`` rows (seeded, without
    replacement); PCA is fitted on the stacked subsample. t-SNE (:class:`sklearn.manifold.TSNE`,
    PCA initialisation) runs on the first ``min(50, d, n)`` principal components, with
    perplexity ``min(30, (n - 1) / 3)``.

    Returns
    -------
    dict
        ``method``, ``source`` (array (m_s, 2)), ``target`` (array (m_t, 2)), ``source_labels``
        (the subsampled source labels, or None), ``n_source``, ``n_target`` (rows before
        subsampling), ``explained_variance`` (the two PCA axes' variance ratios, PCA only).
    """
    from sklearn.decomposition import PCA

    from transferability.utils.validation import check_pair

    if method not in _EMBEDDINGS:
        raise InputError(f"unknown embedding '{method}'; choose one of {', '.join(_EMBEDDINGS)}")
    if not isinstance(max_per_domain, (int, np.integer)) or isinstance(max_per_domain, bool) or max_per_domain < 2:
        raise InputError(f"max_per_domain must be an integer >= 2, got {max_per_domain!r}")
    Xs, Xt = check_pair(X_source, X_target)
    rng = np.random.RandomState(random_state)
    i_s = _subsample_rows(Xs.shape[0], max_per_domain, rng)
    i_t = _subsample_rows(Xt.shape[0], max_per_domain, rng)
    Z = np.vstack([np.asarray(Xs[i_s], dtype=np.float64), np.asarray(Xt[i_t], dtype=np.float64)])
    n, d = Z.shape
    explained = None
    if method == "pca":
        pca = PCA(n_components=min(2, d, n), random_state=random_state)
        E = pca.fit_transform(Z)
        explained = [float(v) for v in pca.explained_variance_ratio_]
    else:
        from sklearn.manifold import TSNE

        k = min(50, d, n)
        P = PCA(n_components=k, random_state=random_state).fit_transform(Z) if k < d else Z
        E = TSNE(n_components=2, init="pca", learning_rate="auto", perplexity=min(30.0, (n - 1) / 3.0),
                 random_state=random_state).fit_transform(P)
    if E.shape[1] < 2:  # one feature: the second axis is flat
        E = np.column_stack([E, np.zeros(n)])
    m = len(i_s)
    ys = None if y_source is None else np.asarray(y_source)[i_s]
    return {"method": method, "source": E[:m], "target": E[m:], "source_labels": ys,
            "n_source": int(Xs.shape[0]), "n_target": int(Xt.shape[0]), "explained_variance": explained}


def nearest_stored_pairs(meta_features: dict, model, records, base_estimator: str, *, n=5) -> list:
    """The stored pairs nearest to this one in the MetaTrans model's kNN reference (the distance
    of the model's ``in_distribution`` check), and how each method did on them.

    Parameters
    ----------
    meta_features : dict
        This pair's meta-features (``Recommendation.meta_features``).
    model : MetaTransModel
        ``load_models(...).model(base_estimator)``.
    records : iterable of dict
        Store records; matched to the reference pairs by ``name`` for the measured accuracies.
    n : int, default=5
        How many pairs (at most the model's ``n_neighbors``).

    Returns
    -------
    list of dict
        Nearest first: ``name``, ``family``, ``preprocess``, ``distance``, ``effect`` (method ->
        accuracy / no-adaptation accuracy, from the model's reference) and ``accuracy``
        (method -> measured target accuracy, mean over seeds, from the record; absent methods
        omitted).
    """
    from transferability.meta_store import outcomes_for_base

    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise InputError(f"n must be a positive integer, got {n!r}")
    missing = [f for f in model.feature_names if not _finite(meta_features.get(f))]
    if missing:
        raise InputError(f"meta-features lack {', '.join(missing[:3])}")
    x = np.array([[float(meta_features[f]) for f in model.feature_names]])
    idx, dist = model.knn.neighbors(x)
    by_name = {r.get("name"): r for r in records}
    out = []
    for i, dd in zip(idx[0][:n], dist[0][:n]):
        name = model.knn.names_[i]
        rec = by_name.get(name) or {}
        acc: dict = {}
        for o in outcomes_for_base(rec, base_estimator) if rec else []:
            if o.get("status") == "ok" and _finite(o.get("target_accuracy")):
                acc.setdefault(o["method"], []).append(float(o["target_accuracy"]))
        out.append({
            "name": name, "family": rec.get("family"), "preprocess": rec.get("preprocess"), "distance": float(dd),
            "effect": {m: float(np.exp(model.knn.log_effect_[i, j])) for j, m in enumerate(model.methods)},
            "accuracy": {m: float(np.mean(v)) for m, v in acc.items()},
        })
    return out


def _reason_text(value) -> str | None:
    if value is None or value is False:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("reason", "text", "why", "message"):
            if isinstance(value.get(key), str):
                return value[key]
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return str(value)


def verdict_flags(rec: dict) -> list:
    """The flags of a recommendation (``Recommendation.to_dict()``) worth a warning, each
    ``{"flag", "raised", "text"}``: ``fallback``, ``out_of_distribution`` (of the ranking and of
    the score), any ``abstain*`` / ``abstention`` field of the recommendation or of its score
    object (with its ``reason`` and ``rule``), a ``rule`` that decided without abstaining, and each
    of ``notes`` (fields the library may add: shown when present, skipped when absent)."""
    flags = []
    if "fallback" in rec:
        fb = bool(rec.get("fallback"))
        if rec.get("candidate") == "fixed":
            why = ("the shipped model is the fixed default: no learner beat it in the group-held-out "
                   "evaluation")
        else:
            why = "the fixed default was kept: no learner's predicted gain cleared the margin"
        flags.append({"flag": "fallback", "raised": fb,
                      "text": (f"{rec.get('best')} is the fixed default ({why})" if fb
                               else f"the model's own pick (the fixed default is {rec.get('default')})")})
    if "in_distribution" in rec:
        inside = bool(rec.get("in_distribution"))
        dist, thr = rec.get("nearest_distance"), rec.get("ood_threshold")
        detail = (f"nearest stored pair at distance {dist:.2f}, threshold {thr:.2f} (99th percentile of "
                  "the stored pairs' own nearest distances)" if _finite(dist) and _finite(thr) else "")
        flags.append({"flag": "out_of_distribution", "raised": not inside,
                      "text": ("unlike the stored pairs: treat the ranking with caution; " if not inside
                               else "like the stored pairs; ") + detail})
    t = rec.get("transferability") or {}
    if "in_distribution" in t and not t.get("in_distribution"):
        flags.append({"flag": "score_out_of_distribution", "raised": True,
                      "text": "the transferability score's model finds this pair unlike its training pairs"})
    for where, obj in (("", rec), ("score_", t)):
        for key in sorted(obj):
            if not key.startswith("abst") or key.endswith("_reason"):
                continue
            value = obj[key]
            if isinstance(value, dict):
                raised = bool(value.get("abstained", value.get("abstain", True)))
            else:
                raised = bool(value)
            reason = (obj.get(f"{key}_reason") or obj.get("abstention_reason") or obj.get("reason")
                      or (None if isinstance(value, bool) else value))
            text = _reason_text(reason) or ("abstained" if raised else "no abstention")
            if obj.get("rule"):
                text += f" (rule: {obj['rule']})"
            flags.append({"flag": f"{where}{key}", "raised": raised, "text": text})
        if obj.get("rule") and not any(k.startswith("abst") and obj[k] for k in obj):
            # a rule that holds by construction decided without abstaining (e.g. a source without signal)
            flags.append({"flag": f"{where}rule", "raised": True,
                          "text": f"{obj['rule']}: {_reason_text(obj.get('reason')) or 'decided by a rule'}"})
        for note in obj.get("notes") or []:
            flags.append({"flag": f"{where}note", "raised": False, "text": _reason_text(note)})
    return flags


def _labels_origin(text) -> str:
    """Where the labels came from, with a label file named by its base name (as the page names
    SOURCE and TARGET), so that the page does not carry the folders of the machine that made it."""
    import os

    text = str(text)
    prefix = "label file "
    return prefix + os.path.basename(text[len(prefix):]) if text.startswith(prefix) else text


def verified_table(verified: dict) -> dict:
    """The verified object of a recommendation (``Recommendation.verified``, from
    ``recommend(..., target_labels=...)``), arranged for the page.

    Parameters
    ----------
    verified : dict
        ``Recommendation.verified`` (the ``verified`` object of ``recommend --json``,
        ``docs/cli.md``).

    Returns
    -------
    dict
        ``rows``: one dict per candidate, the methods that ran by accuracy on the labelled rows
        (ties: the verified pick first, then by name), then those that failed, then those the
        budget left out. Each has ``method``, ``status`` ("ran", "failed" or "not run"),
        ``accuracy``, ``interval``, ``correct``, ``runtime_s``, ``detail`` (the error or the
        reason), ``pick``, ``zero_label_pick``, ``start`` (the rule's start method),
        ``vs_kshot`` (accuracy minus the k-shot baseline's, same rows) and ``notes`` (those
        marks and the detail, in words). Beside them: ``labels`` (their origin, a label file by
        its base name), ``verified`` (at least one method ran), and the object's own fields the
        page renders (``n_labelled``, ``pick``, ``zero_label_pick``, ``changed``, ``why``,
        ``rule``, ``kshot``, ``worth_transferring``, ``worth_lead``, ``worth_lead_se``,
        ``worth_settled``, ``complete``).
    """
    v = verified
    kacc = (v.get("kshot") or {}).get("accuracy")
    start = (v.get("rule") or {}).get("start_method")
    ran = [m for m in v.get("methods") or [] if m.get("accuracy") is not None]
    failed = [m for m in v.get("methods") or [] if m.get("accuracy") is None]
    rows = []
    for m in sorted(ran, key=lambda m: (-m["accuracy"], m["method"] != v.get("pick"), m["method"])):
        rows.append({"method": m["method"], "status": "ran", "accuracy": float(m["accuracy"]),
                     "interval": [float(m["interval"][0]), float(m["interval"][1])], "correct": m.get("correct"),
                     "runtime_s": m.get("runtime_s"), "detail": None,
                     "vs_kshot": None if kacc is None else float(m["accuracy"]) - float(kacc)})
    for m in sorted(failed, key=lambda m: m["method"]):
        rows.append({"method": m["method"], "status": "failed", "accuracy": None, "interval": None, "correct": None,
                     "runtime_s": m.get("runtime_s"), "detail": m.get("error"), "vs_kshot": None})
    for m in v.get("not_run") or []:
        rows.append({"method": m["method"], "status": "not run", "accuracy": None, "interval": None,
                     "correct": None, "runtime_s": None, "detail": m.get("reason"), "vs_kshot": None})
    for r in rows:
        r.update(pick=r["method"] == v.get("pick"), zero_label_pick=r["method"] == v.get("zero_label_pick"),
                 start=r["method"] == start)
        marks = [("verified pick", r["pick"]), ("zero-label pick", r["zero_label_pick"]),
                 ("the rule's start", r["start"] and not r["zero_label_pick"]), (r["detail"], bool(r["detail"]))]
        r["notes"] = [str(text) for text, on in marks if on]
    keys = ("n_labelled", "pick", "zero_label_pick", "changed", "why", "rule", "kshot", "worth_transferring",
            "worth_lead", "worth_lead_se", "worth_settled", "complete")
    return {"rows": rows, "labels": _labels_origin(v.get("labels", "")), "verified": bool(ran),
            **{k: v.get(k) for k in keys}}
