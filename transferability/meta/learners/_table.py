"""Training tables for the learners, built from store records (no store inside the learners).

One :class:`TrainingTable` per base estimator: a row per pair, with

- ``X``: the pair's meta-features (:data:`~transferability.meta.FEATURE_NAMES` order);
- ``accuracy``: each method's target accuracy (mean over the recorded seeds and parameters);
- ``log_effect``: ``log(acc_method / acc_no_adapt)``, accuracies floored at :data:`ACC_FLOOR` so
  a zero accuracy stays finite;
- ``runtime``: each method's recorded runtime in seconds;
- groups: ``family``, ``base`` (:func:`base_of`) and ``task`` (:func:`task_of`).

Records come from :func:`transferability.meta_store.iter_records` (or an export). Pairs of
another feature schema, or lacking an ``ok`` outcome of some method, are left out and counted
in :attr:`TrainingTable.dropped`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from transferability.utils.validation import InputError

__all__ = ["ACC_FLOOR", "TrainingTable", "base_of", "task_of", "build_tables", "records_hash",
           "signed_log", "load_records"]

ACC_FLOOR = 0.01

# Directory (under ../shared/data) -> base dataset. All Office-Caltech feature sets are one base.
_PATH_BASES = {
    "office_caltech10_surf": "office_caltech",
    "office_caltech10_decaf6": "office_caltech",
    "office31": "office31",
    "mnist_usps": "usps_mnist",
    "coil20": "coil20",
}


def _provenance(record, side):
    return (record.get(side) or {}).get("provenance") or {}


def base_of(record: dict) -> str:
    """The base dataset a pair derives from.

    A record's own ``base`` wins (stores that record it). Otherwise, from provenance: a generated
    pair's generator base (``digits``, ``wine``...: the scikit-learn toy set, or ``synthetic``);
    a real pair's data directory (``office_caltech10_surf/...`` and ``office_caltech10_decaf6/...``
    are both ``office_caltech``; ``mnist_usps`` is ``usps_mnist``). A path outside the known
    directories gives its first directory; with no provenance at all, the family.
    """
    if record.get("base"):
        return str(record["base"])
    prov = _provenance(record, "source")
    gen = prov.get("generator")
    if isinstance(gen, dict) and gen.get("base"):
        return str(gen["base"])
    path = prov.get("path")
    if path:
        parts = [p for p in re.split(r"[\\/]", str(path).split(":")[0]) if p]
        for p in parts:
            if p in _PATH_BASES:
                return _PATH_BASES[p]
        if len(parts) >= 2:
            return parts[-2]
        return parts[0].rsplit(".", 1)[0]
    return str(record.get("family", "unknown"))


def _domain_of(path: str) -> str:
    """``coil20/COIL_1.mat:src`` -> ``coil20/COIL_1.mat:src`` minus any directory above the data set."""
    return str(path).replace("\\", "/")


def task_of(record: dict) -> str:
    """The task (real source/target) a pair is a variant of.

    A record's own ``task`` wins. Real pairs: ``base:source_path->target_path`` (subsamples and
    class subsets of one domain pair share it). Generated pairs: the pair name without its last
    component (the seed or level that varies between the variants), prefixed by the base.
    """
    if record.get("task"):
        return str(record["task"])
    src, tgt = _provenance(record, "source"), _provenance(record, "target")
    if src.get("path") and tgt.get("path"):
        return f"{base_of(record)}:{_domain_of(src['path'])}->{_domain_of(tgt['path'])}"
    name = str(record.get("name", ""))
    head = name.rsplit("/", 1)[0] if "/" in name else name
    return f"{base_of(record)}:{head}"


def signed_log(X):
    """``sign(x) * log1p(|x|)``: tames heavy-tailed meta-features (divergences, sizes)."""
    X = np.asarray(X, dtype=np.float64)
    return np.sign(X) * np.log1p(np.abs(X))


class SignedLogScaler:
    """:func:`signed_log`, then standardised with the training mean and standard deviation.

    The one feature transform of the distance- and linear-model learners (kNN over pairs, the
    out-of-distribution detectors, the linear EasyTransferability model). Missing meta-features
    (NaN, e.g. ``source_cv_accuracy`` when a source class has too few rows to cross-validate)
    are ignored when fitting and become 0, the training mean, when transforming: one missing
    value must not turn every distance into NaN. Constant or all-missing features get unit scale.
    A mean or scale that is itself missing (read from a model file written before this fix,
    where JSON turned the NaN into ``null``) is refused with an :class:`InputError`.
    """

    def __init__(self, mean, scale):
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        if not (np.all(np.isfinite(self.mean)) and np.all(np.isfinite(self.scale))):
            raise InputError("the models' feature standardisation has missing values; "
                             "retrain them with `transferability meta train`")

    @classmethod
    def fit(cls, X):
        Z = signed_log(X)
        seen = ~np.isnan(Z)
        n = seen.sum(axis=0)
        mean = np.where(n > 0, np.where(seen, Z, 0.0).sum(axis=0) / np.maximum(n, 1), 0.0)
        var = np.where(seen, (Z - mean) ** 2, 0.0).sum(axis=0) / np.maximum(n, 1)
        sd = np.sqrt(var)
        return cls(mean, np.where(sd > 1e-12, sd, 1.0))

    def transform(self, X):
        Z = (signed_log(X) - self.mean) / self.scale
        Z[np.isnan(Z)] = 0.0
        return Z


class GroupedRows:
    """Rows = pairs with ``X``, ``families``, ``bases`` and ``tasks``: the two learners' tables."""

    @property
    def n_pairs(self) -> int:
        return int(self.X.shape[0])

    def groups(self, by: str) -> np.ndarray:
        """Group labels by ``"family"``, ``"base"`` or ``"task"``."""
        try:
            return {"family": self.families, "base": self.bases, "task": self.tasks}[by]
        except KeyError:
            raise InputError(f"unknown grouping '{by}'; use family, base or task") from None


@dataclass
class TrainingTable(GroupedRows):
    """The learners' training data for one base estimator (rows = pairs)."""

    base_estimator: str
    feature_names: list
    methods: list
    X: np.ndarray
    accuracy: np.ndarray
    log_effect: np.ndarray
    runtime: np.ndarray
    names: list
    keys: list
    families: np.ndarray
    bases: np.ndarray
    tasks: np.ndarray
    dropped: dict = field(default_factory=dict)

    def subset(self, mask) -> "TrainingTable":
        """The rows selected by a boolean mask or an index array."""
        idx = np.arange(self.n_pairs)[mask] if np.asarray(mask).dtype == bool else np.asarray(mask)
        return TrainingTable(
            base_estimator=self.base_estimator, feature_names=self.feature_names, methods=self.methods,
            X=self.X[idx], accuracy=self.accuracy[idx], log_effect=self.log_effect[idx],
            runtime=self.runtime[idx], names=[self.names[i] for i in idx], keys=[self.keys[i] for i in idx],
            families=self.families[idx], bases=self.bases[idx], tasks=self.tasks[idx], dropped=self.dropped)

    @property
    def sizes(self) -> np.ndarray:
        """(n_source, n_target, n_features) of every pair, from its meta-features."""
        cols = [self.feature_names.index(c) for c in ("n_source", "n_target", "n_features")]
        return self.X[:, cols]


def load_records(store=None, *, with_default: bool = True) -> list:
    """Records of ``store`` (a path, a :class:`MetaStore`, or None), plus the shipped ones.

    The shipped default store's records come first unless ``with_default`` is False; a record of
    ``store`` whose key is already there is not counted twice.
    """
    from transferability.meta_store import MetaStore, iter_records, open_default_store

    records: dict = {}
    if with_default:
        with open_default_store() as st:
            for r in iter_records(st):
                records[r["key"]] = r
    if store is not None:
        if isinstance(store, MetaStore):
            for r in iter_records(store):
                records.setdefault(r["key"], r)
        else:
            import os

            if not os.path.exists(store):
                raise InputError(f"store not found: {store}")
            with MetaStore(os.fspath(store), readonly=True) as st:
                for r in iter_records(st):
                    records.setdefault(r["key"], r)
    if not records:
        raise InputError("no records to train on (empty store and --without-default)")
    return [records[k] for k in sorted(records)]


def records_hash(records) -> str:
    """SHA-256 (16 hex) of what training reads from the records, in key order.

    Timestamps and library versions are left out, so two stores holding the same pairs and
    outcomes hash alike; runtimes are in (the cost model learns from them).
    """
    h = hashlib.sha256()
    for r in sorted(records, key=lambda r: r["key"]):
        slim = {
            "key": r["key"], "family": r.get("family"), "base": base_of(r), "task": task_of(r),
            "feature_schema": r.get("feature_schema"), "meta_features": r.get("meta_features"),
            "outcomes": sorted(
                [[o["method"], o["base_estimator"], json.dumps(o.get("params"), sort_keys=True), o.get("seed"),
                  o.get("status"), o.get("target_accuracy"), o.get("runtime_s")] for o in r.get("outcomes", [])],
                key=lambda x: json.dumps(x, default=str)),
        }
        h.update(json.dumps(slim, sort_keys=True, default=str).encode())
        h.update(b"\n")
    return h.hexdigest()[:16]


def build_tables(records, *, feature_names=None, feature_schema=None, base_estimators=None,
                 methods=None) -> dict:
    """One :class:`TrainingTable` per base estimator found in ``records``.

    Parameters
    ----------
    records : iterable of dict
        Store records (:func:`transferability.meta_store.iter_records`).
    feature_names : list of str, default=None
        Meta-features to use (default: :data:`transferability.meta.FEATURE_NAMES`).
    feature_schema : int, default=None
        Keep only pairs of this feature schema (default: the library's current one).
    base_estimators : list of str, default=None
        Default: every base estimator with outcomes.
    methods : list of str, default=None
        Default: every method with an ``ok`` outcome on most pairs (``no_adapt`` is required).

    Returns
    -------
    dict
        base estimator -> :class:`TrainingTable`, sorted by name.
    """
    from ._features import FEATURE_NAMES, FEATURE_SCHEMA_VERSION

    feature_names = list(FEATURE_NAMES if feature_names is None else feature_names)
    schema = FEATURE_SCHEMA_VERSION if feature_schema is None else feature_schema
    records = list(records)
    kept = [r for r in records if r.get("feature_schema") == schema]
    dropped = {"other_feature_schema": len(records) - len(kept)}
    # (pair, base, method) -> accuracies / runtimes of ok outcomes
    acc = defaultdict(list)
    rt = defaultdict(list)
    from transferability.meta_store import BASE_FREE, outcomes_for_base

    if base_estimators is None:
        base_estimators = sorted({o.get("base_estimator") for r in kept for o in r.get("outcomes", [])} - {BASE_FREE})
    for i, r in enumerate(kept):
        for be in base_estimators:
            # a method that ignores the base estimator is recorded once ("-") and holds for every one
            for o in outcomes_for_base(r, be):
                if o.get("status") == "ok" and o.get("target_accuracy") is not None:
                    acc[(i, be, o["method"])].append(float(o["target_accuracy"]))
                    if o.get("runtime_s") is not None:
                        rt[(i, be, o["method"])].append(float(o["runtime_s"]))
    bes = list(base_estimators)
    tables = {}
    for be in bes:
        if methods is None:
            counts = defaultdict(int)
            for (_, b, m) in acc:
                if b == be:
                    counts[m] += 1
            n_pairs = len({i for (i, b, _) in acc if b == be})
            ms = sorted(m for m, c in counts.items() if c >= 0.9 * n_pairs)
        else:
            ms = list(methods)
        if "no_adapt" not in ms:
            continue
        rows, missing_feature, missing_method = [], 0, 0
        for i, r in enumerate(kept):
            feats = r.get("meta_features") or {}
            if any(feats.get(f) is None for f in feature_names):
                missing_feature += 1
                continue
            if any((i, be, m) not in acc for m in ms):
                missing_method += int(any((i, be, m) in acc for m in ms))
                continue
            rows.append(i)
        if not rows:
            continue
        A = np.array([[np.mean(acc[(i, be, m)]) for m in ms] for i in rows])
        R = np.array([[np.mean(rt[(i, be, m)]) if rt.get((i, be, m)) else np.nan for m in ms] for i in rows])
        Af = np.maximum(A, ACC_FLOOR)
        j0 = ms.index("no_adapt")
        tables[be] = TrainingTable(
            base_estimator=be, feature_names=feature_names, methods=ms,
            X=np.array([[float(kept[i]["meta_features"][f]) for f in feature_names] for i in rows]),
            accuracy=A, log_effect=np.log(Af / Af[:, [j0]]), runtime=R,
            names=[kept[i].get("name", kept[i]["key"]) for i in rows], keys=[kept[i]["key"] for i in rows],
            families=np.array([str(kept[i].get("family")) for i in rows]),
            bases=np.array([base_of(kept[i]) for i in rows]),
            tasks=np.array([task_of(kept[i]) for i in rows]),
            dropped={**dropped, "missing_feature": missing_feature, "missing_method": missing_method})
    if not tables:
        raise InputError(f"no usable pairs: none of feature schema {schema} with no_adapt outcomes")
    return tables
