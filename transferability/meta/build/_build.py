"""Building a store: pair specifications, the work grid, and the local / Dask runners.

A **pair spec** is a JSON-able dict that says how to make one pair, so that any worker can
re-create it from the spec alone (no arrays travel):

- from files: ``{"name", "family", "preprocess", "source": {"path": "FILE[.mat:KEY]"},
  "target": {"path": ...}}``; relative paths are resolved against ``data_dir``;
- from a real benchmark dataset: a side ``{"dataset": BASE, "domain": NAME}``, loaded with
  :func:`transferability.datasets.load_real_domain` (from ``data_dir``; sparse text features
  are made dense after the rows are drawn);
- either side may add ``"max_rows": N`` (stratified subsample), ``"classes": [...]`` (keep only
  these classes) and ``"seed"``;
- either form may add ``"max_features": k``: after preprocessing, both domains are projected on
  the top-k principal axes of the pooled features (no labels involved);
- generated: ``{"name", "family", "preprocess", "generator": {"kind": "covariate_shift", "base":
  "digits", "level": 0.6, "seed": 3, "transform": null}}`` (see
  :mod:`transferability.datasets._shifts`); a **semi-real** generator names a real pool instead
  of ``base``: ``"dataset"``, ``"domain"`` (read from ``data_dir``), optional ``"pool_rows"``,
  and either may add ``"source_per_class": n`` (a much smaller source);
- any spec may carry ``"task"`` (the real source→target task it derives from) and ``"base"``
  (the underlying dataset), recorded with the pair; a spec without them gets them derived
  (:func:`spec_groups`), so every pair a build records has both.

What a build measures per pair (store schema 2): every (method, base estimator) outcome with
accuracy and balanced accuracy; a method that ignores the base estimator (registry
``uses_base_estimator = False``: MEDA, EasyTL) runs **once** per pair and is recorded with
base estimator :data:`~transferability.meta_store.BASE_FREE` (``"-"``), which holds for every
base estimator (:func:`~transferability.meta_store.outcomes_for_base`); the k-shot baselines
(accuracy and balanced accuracy; a k the target cannot support — a class with at most k
samples, nothing left to test — is a row with NULL accuracy and its ``reason``); and per base
estimator the target ceiling (:func:`~transferability.methods._evaluate.target_ceiling`).

A pair's **identity** is (fingerprint of the raw source as drawn, fingerprint of the raw target
as drawn, preprocessing key): :func:`plan` only draws the raw domains, it never runs the
preprocessing or the PCA.

The **unit of work** is one pair: compute its meta-features if the store lacks the pair, run the
(method, base estimator) outcomes it lacks, and the k-shot baselines. Workers only compute; the
calling process is the one writer and records each finished pair in one transaction. A build
that is killed and started again skips every pair already complete and redoes only what is
missing. Local worker processes exit when the build process dies (a parent watchdog).

A pair recorded with meta-features of another feature schema than
:data:`~transferability.meta.FEATURE_SCHEMA_VERSION` keeps them, unless the build is asked to
**refresh** them (``refresh_features=True``, ``store build --refresh-features``): its spec is
materialised again, the meta-features are recomputed and replace the old ones in one
transaction (:meth:`~transferability.meta_store.MetaStore.update_meta_features`); its outcomes
and k-shot baselines stay as they are. A refresh is work like any other (the same local or Dask
workers, resumable: a refreshed pair is of the current schema, so a resumed build skips it).
Pairs that no spec of the build produces (e.g. recorded by ``evaluate --record``) cannot be
refreshed by it; the summary counts them.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time

import numpy as np

from transferability._version import __version__
from transferability.meta_store import BASE_FREE, MetaStore, canonical_params, fingerprint, pair_key
from transferability.methods._evaluate import DEFAULT_KSHOT
from transferability.utils.identity import preprocess_key
from transferability.utils.io import check_regular_file, one_line
from transferability.utils.validation import InputError

__all__ = ["BuildConfig", "DEFAULT_BASE_ESTIMATORS", "materialize", "draw", "pair_identity", "plan", "run_pair",
           "build", "check_run_settings", "load_spec_file", "record_evaluation", "effective_params", "spec_groups",
           "outcome_base"]

DEFAULT_BASE_ESTIMATORS = ("1nn", "logreg")
_MAX_SEED = 2**32 - 1


def _int_list(values, what, *, minimum):
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer, str)):
            raise InputError(f"{what} must be integers, got {v!r}")
        try:
            n = int(v)
        except ValueError:
            raise InputError(f"{what} must be integers, got {v!r}") from None
        if n < minimum:
            raise InputError(f"{what} must be at least {minimum}, got {n}")
        out.append(n)
    return out


class BuildConfig(dict):
    """Grid settings: ``methods``, ``base_estimators``, ``kshot``, ``seed``, ``method_params``."""

    @classmethod
    def make(cls, *, methods=None, base_estimators=DEFAULT_BASE_ESTIMATORS, kshot=DEFAULT_KSHOT, seed=0,
             method_params=None):
        """Check every setting (raises :class:`InputError`, one line) and return the config."""
        from transferability.methods import BASE_ESTIMATORS, available_methods

        methods = list(available_methods()) if methods in (None, "all") else list(methods)
        if not methods:
            raise InputError("no methods given")
        unknown = [m for m in methods if m not in available_methods()]
        if unknown:
            raise InputError(f"unknown method(s): {', '.join(map(str, unknown))}")
        base_estimators = list(base_estimators)
        if not base_estimators:
            raise InputError("no base estimators given")
        bad = [b for b in base_estimators if b not in BASE_ESTIMATORS]
        if bad:
            raise InputError(f"unknown base estimator(s): {', '.join(map(str, bad))}; "
                             f"choose from {', '.join(BASE_ESTIMATORS)}")
        kshot = _int_list(kshot, "k-shot values", minimum=1)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= _MAX_SEED:
            raise InputError(f"seed must be an integer in [0, {_MAX_SEED}], got {seed!r}")
        method_params = dict(method_params or {})
        stray = [m for m in method_params if m not in methods]
        if stray:
            raise InputError(f"parameters given for method(s) not in the build: {', '.join(map(str, stray))}")
        return cls(methods=methods, base_estimators=base_estimators, kshot=kshot, seed=int(seed),
                   method_params=method_params)


def effective_params(method: str, overrides: dict) -> dict:
    """The parameters an outcome is keyed by: the method's ``get_params`` without
    ``base_estimator`` and ``random_state`` (the seed is its own column)."""
    from transferability.methods import get_method
    from transferability.methods._evaluate import _params_of

    params = _params_of(get_method(method, **overrides))
    params.pop("random_state", None)
    return params


# -- materialising specs -------------------------------------------------------------------------
@functools.lru_cache(maxsize=32)
def _load_file(path: str):
    from transferability.datasets import load_domain

    d = load_domain(path)
    if d.y is None:
        raise InputError(f"{path}: a store pair needs labelled domains (target labels measure outcomes)")
    return d.X, d.y


@functools.lru_cache(maxsize=32)
def _load_real(base: str, domain: str, data_dir: str | None):
    from transferability.datasets import load_real_domain

    d = load_real_domain(base, domain, data_dir=data_dir)
    if d.y is None:
        raise InputError(f"dataset {base}, domain {domain}: a store pair needs labelled domains")
    X = d.X if hasattr(d.X, "toarray") else np.asarray(d.X)  # sparse stays sparse until rows are drawn
    return X, np.asarray(d.y)


@functools.lru_cache(maxsize=16)
def _real_pool(dataset: str, domain: str, data_dir: str | None, max_rows):
    from transferability.datasets._shifts import load_real_pool

    return load_real_pool(dataset, domain, data_dir=data_dir, max_rows=max_rows)


def _side(side: dict, data_dir: str | None, default_seed: int, where: str):
    if not isinstance(side, dict):
        raise InputError(f"{where} must be an object")
    if "path" in side:
        path = side["path"]
        if data_dir and not os.path.isabs(path.split(":")[0]):
            path = os.path.join(data_dir, path)
        X, y = _load_file(path)
        prov = {"path": side["path"]}
        label = path
    elif "dataset" in side and "domain" in side:
        X, y = _load_real(str(side["dataset"]), str(side["domain"]), data_dir)
        prov = {"dataset": str(side["dataset"]), "domain": str(side["domain"])}
        label = f"{side['dataset']}/{side['domain']}"
    else:
        raise InputError(f"{where} needs a path, or a dataset and a domain")
    keep = np.ones(len(y), dtype=bool)
    if side.get("classes") is not None:
        wanted = {str(c) for c in side["classes"]}
        keep = np.array([str(v) in wanted for v in y])
        if not keep.any():
            raise InputError(f"{label}: none of the classes {sorted(wanted)} are present")
    idx = np.flatnonzero(keep)
    n = side.get("max_rows")
    if n is not None and len(idx) > n:
        from sklearn.model_selection import train_test_split

        idx, _ = train_test_split(idx, train_size=int(n), stratify=y[idx],
                                  random_state=int(side.get("seed", default_seed)))
        idx = np.sort(idx)
    prov.update({k: side[k] for k in ("classes", "max_rows", "seed") if side.get(k) is not None})
    X = X[idx]
    if hasattr(X, "toarray"):  # text bases load as scipy.sparse; the methods and fingerprints take dense rows
        X = X.toarray()
    return X, y[idx], prov


def _spec_preprocess_key(spec: dict) -> str:
    return preprocess_key(spec.get("preprocess", "none"), spec.get("max_features"))


def draw(spec: dict, data_dir: str | None = None):
    """The raw domains of a spec, as drawn (loaded, class-filtered, subsampled; **not**
    preprocessed): ``(Xs, ys, Xt, yt, source_provenance, target_provenance)``. Each provenance
    holds the domain's ``fingerprint`` and ``shape``."""
    if "generator" in spec:
        from transferability.datasets._shifts import make_shift_pair

        g = spec["generator"]
        pool = None
        if g.get("dataset") is not None:  # a semi-real shift: one domain of a real dataset as the pool
            pool = _real_pool(str(g["dataset"]), str(g["domain"]), data_dir, g.get("pool_rows"))
        Xs, ys, Xt, yt = make_shift_pair(g["kind"], g.get("base", g.get("dataset")), float(g["level"]),
                                         int(g["seed"]), n_max=int(g.get("n_max", 400)), transform=g.get("transform"),
                                         pool=pool, source_per_class=g.get("source_per_class"))
        prov_s = {"generator": dict(g), "role": "source"}
        prov_t = {"generator": dict(g), "role": "target"}
    else:
        name = spec.get("name", "?")
        for side in ("source", "target"):
            if side not in spec:
                raise InputError(f"pair spec '{name}' needs a {side} (or a generator)")
        Xs, ys, prov_s = _side(spec["source"], data_dir, 0, f"pair spec '{name}': source")
        Xt, yt, prov_t = _side(spec["target"], data_dir, 1, f"pair spec '{name}': target")
        if Xs.shape[1] != Xt.shape[1]:
            raise InputError(f"pair '{name}': source has {Xs.shape[1]} features, target {Xt.shape[1]}")
    prov_s["fingerprint"], prov_s["shape"] = fingerprint(Xs, ys), list(Xs.shape)
    prov_t["fingerprint"], prov_t["shape"] = fingerprint(Xt, yt), list(Xt.shape)
    return Xs, ys, Xt, yt, prov_s, prov_t


def pair_identity(spec: dict, data_dir: str | None = None) -> str:
    """The store key of a spec's pair: fingerprints of the raw domains as drawn + the
    preprocessing key. Draws the domains only; runs no preprocessing or PCA, so the key does
    not depend on floating-point details of those (thread counts, BLAS builds)."""
    *_, prov_s, prov_t = draw(spec, data_dir)
    return pair_key(prov_s["fingerprint"], prov_t["fingerprint"], _spec_preprocess_key(spec))


def materialize(spec: dict, data_dir: str | None = None):
    """Create a pair from its spec; returns ``(Xs, ys, Xt, yt, source_provenance, target_provenance)``
    with the spec's preprocessing applied (provenance as in :func:`draw`: the fingerprints are
    those of the raw domains)."""
    return _materialize(spec, data_dir)[2:]


def _materialize(spec, data_dir):
    """:func:`materialize`, with the raw domains as drawn in front: ``(Rs, Rt, Xs, ys, Xt, yt,
    source_provenance, target_provenance)``."""
    from transferability.datasets import preprocess_pair

    Rs, ys, Rt, yt, prov_s, prov_t = draw(spec, data_dir)
    Xs, Xt = preprocess_pair(Rs, Rt, spec.get("preprocess", "none"))
    k = spec.get("max_features")
    if k is not None and Xs.shape[1] > int(k):
        Xs, Xt = _pooled_pca(Xs, Xt, int(k))
    return Rs, Rt, np.asarray(Xs, dtype=np.float64), ys, np.asarray(Xt, dtype=np.float64), yt, prov_s, prov_t


def _pooled_pca(Xs, Xt, k):
    """Project both domains on the top-``k`` principal axes of the pooled features (unsupervised:
    no label is used), so that methods whose cost grows as d³ stay affordable on d = 4096."""
    from sklearn.decomposition import PCA

    from threadpoolctl import threadpool_limits

    Z = np.vstack([Xs, Xt])
    with threadpool_limits(limits=1):  # same bits whatever the caller's thread count
        pca = PCA(n_components=min(k, Z.shape[0], Z.shape[1]), svd_solver="full").fit(Z)
        return pca.transform(Xs), pca.transform(Xt)


def _check_spec(spec, i):
    if not isinstance(spec, dict):
        raise InputError(f"pair spec {i} is not an object")
    for key in ("name", "family"):
        if not spec.get(key) or not isinstance(spec[key], str):
            raise InputError(f"pair spec {i} has no '{key}' (a non-empty string)")
    for key in ("task", "base"):
        if spec.get(key) is not None and not (isinstance(spec[key], str) and spec[key]):
            raise InputError(f"pair spec '{spec['name']}': '{key}' must be a non-empty string")
    from transferability.datasets import PREPROCESSING

    if spec.get("preprocess", "none") not in PREPROCESSING:
        raise InputError(f"pair spec '{spec['name']}': unknown preprocess '{spec.get('preprocess')}'")


def load_spec_file(path) -> list:
    """Read a user's pair list: JSON (a list, or ``{"pairs": [...]}``) or TOML (``[[pairs]]`` tables)."""
    path = os.fspath(path)
    check_regular_file(path, "spec file")  # never opens it: a FIFO would block
    try:
        if path.lower().endswith(".toml"):
            import tomllib

            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        else:
            with open(path) as fh:
                data = json.load(fh)
    except Exception as exc:  # noqa: BLE001 - any parse failure is bad input
        raise InputError(f"cannot parse spec file {path}: {str(exc).splitlines()[0]}") from None
    pairs = data.get("pairs") if isinstance(data, dict) else data
    if not isinstance(pairs, list) or not pairs:
        raise InputError(f"{path}: expected a non-empty list of pairs (or a 'pairs' key)")
    base = os.path.dirname(os.path.abspath(path))
    out = []
    for i, spec in enumerate(pairs, 1):
        _check_spec(spec, i)
        spec = json.loads(json.dumps(spec))
        for side in ("source", "target"):
            if isinstance(spec.get(side), dict) and "path" in spec[side]:
                p = spec[side]["path"]
                if not os.path.isabs(p.split(":")[0]):
                    spec[side]["path"] = os.path.join(base, p)
        out.append(spec)
    return out


def spec_groups(spec: dict) -> tuple:
    """``(task, base)`` of a spec: its own ``task``/``base`` keys when given, else derived —
    generated: base = the generator's base dataset (``g["base"]``, or ``dataset`` for a real
    pool), task = the name without its ``level-``/``seed-`` parts; real-dataset sides: base =
    the dataset, task = ``dataset/source->target``; file sides: base = the family, task = the
    name."""
    task, base = spec.get("task"), spec.get("base")
    if task and base:
        return task, base
    name = spec.get("name", "?")
    if "generator" in spec:
        g = spec["generator"]
        d_base = g.get("dataset") or g.get("base")
        d_task = "/".join(p for p in name.split("/") if not p.startswith(("level-", "seed-")))
    elif isinstance(spec.get("source"), dict) and "dataset" in spec["source"]:
        src, tgt = spec["source"], spec.get("target") or {}
        d_base = str(src["dataset"])
        d_task = f"{src['dataset']}/{src.get('domain')}->{tgt.get('domain')}"
    else:
        d_base, d_task = spec.get("family"), name
    return task or d_task, base or d_base


def outcome_base(method: str, base_estimator: str) -> str:
    """The ``base_estimator`` an outcome of ``method`` is recorded under: ``base_estimator``, or
    :data:`~transferability.meta_store.BASE_FREE` for a method that ignores it."""
    from transferability.methods import uses_base_estimator

    return base_estimator if uses_base_estimator(method) else BASE_FREE


def _outcome_grid(config) -> list:
    """``(method, recorded base estimator)`` of the grid: a base-estimator-free method once."""
    grid = []
    for m in config["methods"]:
        for b in config["base_estimators"]:
            cell = (m, outcome_base(m, b))
            if cell not in grid:
                grid.append(cell)
    return grid


# -- the grid ------------------------------------------------------------------------------------
def plan(store: MetaStore, specs, config: BuildConfig, data_dir=None, *, refresh_features=False):
    """For each spec, what is missing in ``store``: ``[(spec, todo)]`` with ``todo`` =
    ``{"features": bool, "refresh": bool, "outcomes": [(method, base_estimator)], "kshot":
    [(base, k)], "ceiling": [base]}`` (a base-estimator-free method's outcome is listed once,
    with base estimator ``"-"``; ``features``: the pair is not in the store; ``refresh``: it is, with
    meta-features of another feature schema, and ``refresh_features`` asks to recompute them);
    pairs with nothing missing are left out. Returns ``(work, failed)``: a spec that cannot be
    made (missing file, bad parameters) is listed in ``failed`` with its reason, not fatal.
    Only the raw domains are drawn (:func:`pair_identity`)."""
    work, failed, _ = _plan(store, specs, config, data_dir, refresh_features)
    return work, failed


def _plan(store, specs, config, data_dir, refresh_features):
    """:func:`plan`, and the set of pair keys the specs produce."""
    from transferability.meta.learners._features import FEATURE_SCHEMA_VERSION

    done = store.done_keys()
    schema_of = {r[1]: r[7] for r in store.pair_rows()}
    have_kshot = store.kshot_keys(config["seed"])
    have_ceiling = store.ceiling_keys(config["seed"])
    grid = _outcome_grid(config)
    params = {m: canonical_params(effective_params(m, config["method_params"].get(m, {})))
              for m in config["methods"]}
    work, failed, keys = [], [], set()
    for spec in specs:
        try:
            key = pair_identity(spec, data_dir)
        except Exception as exc:  # noqa: BLE001 - one bad spec must not stop the build
            failed.append({"name": spec.get("name", "?"), "error": one_line(exc)})
            continue
        keys.add(key)
        todo = {
            "features": key not in schema_of,
            "refresh": bool(refresh_features) and key in schema_of and schema_of[key] != FEATURE_SCHEMA_VERSION,
            "outcomes": [(m, b) for m, b in grid if (key, m, params[m], b, config["seed"]) not in done],
            "kshot": [(b, k) for b in config["base_estimators"] for k in config["kshot"]
                      if (key, b, k) not in have_kshot],
            "ceiling": [b for b in config["base_estimators"] if (key, b) not in have_ceiling],
        }
        if todo["features"] or todo["refresh"] or todo["outcomes"] or todo["kshot"] or todo["ceiling"]:
            work.append((spec, todo))
    return work, failed, keys


def _outcome_rows(report, seed, base_estimator=None):
    rows = []
    for r in report.results:
        params = dict(r.params)
        params.pop("random_state", None)
        rows.append({"method": r.method, "params": params,
                     "base_estimator": outcome_base(r.method, base_estimator or r.base_estimator),
                     "seed": seed, "target_accuracy": r.target_accuracy,
                     "balanced_accuracy": getattr(r, "balanced_accuracy", None), "runtime_s": r.runtime_s,
                     "status": r.status, "error": r.error, "library_version": __version__})
    return rows


def kshot_row(X_target, y_target, k, base_estimator, seed, n_draws=5) -> dict:
    """One k-shot row for the store: the k-shot accuracy and balanced accuracy, or NULL ones
    with the ``reason`` when a target class has at most ``k`` samples (nothing of it would be
    left to test on, so the store does not claim a k-shot value it does not have)."""
    from transferability.methods._evaluate import kshot_scores, kshot_unsupported

    row = {"base_estimator": base_estimator, "k": int(k), "seed": seed, "n_draws": n_draws}
    why = kshot_unsupported(y_target, k)
    if why is not None:
        return dict(row, accuracy=None, balanced_accuracy=None, reason=why)
    sc = kshot_scores(X_target, y_target, k, base_estimator=base_estimator, n_draws=n_draws, random_state=seed)
    return dict(row, accuracy=sc["accuracy"], balanced_accuracy=sc["balanced_accuracy"], reason=None)


def ceiling_row(X_target, y_target, base_estimator, seed) -> dict:
    """One ceiling row: :func:`~transferability.methods._evaluate.target_ceiling` (5 folds, fewer
    when a class is small; NULL with the reason when the target has a single class)."""
    from transferability.methods._evaluate import target_ceiling

    row = {"base_estimator": base_estimator, "seed": seed}
    if np.unique(np.asarray(y_target).astype(str)).size < 2:
        return dict(row, n_folds=5, accuracy=None, balanced_accuracy=None, reason="the target has a single class")
    c = target_ceiling(X_target, y_target, base_estimator=base_estimator, n_folds=5, random_state=seed)
    return dict(row, **c)


def run_pair(spec: dict, todo: dict, config: dict, data_dir=None) -> dict:
    """Compute one pair's missing work (runs in a worker); returns a record for the writer."""
    # one BLAS thread per worker: the workers are the parallelism
    from threadpoolctl import threadpool_limits

    from transferability.meta.learners._features import FEATURE_SCHEMA_VERSION, compute_meta_features
    from transferability.methods import evaluate_methods

    with threadpool_limits(limits=1 if config.get("single_thread", True) else None):
        Rs, Rt, Xs, ys, Xt, yt, prov_s, prov_t = _materialize(spec, data_dir)
        seed = config["seed"]
        feats = None
        if todo["features"] or todo.get("refresh", False):  # the shared-space features read the raw domains
            feats = compute_meta_features(Xs, ys, Xt, random_state=seed, X_source_raw=Rs, X_target_raw=Rt)
        del Rs, Rt
        outcomes = []
        by_base: dict = {}
        for m, b in todo["outcomes"]:
            by_base.setdefault(b, []).append(m)
        for b, methods in by_base.items():
            # a base-estimator-free method ("-") runs once, with the grid's first base estimator
            # passed along (it does not use it)
            run_b = config["base_estimators"][0] if b == BASE_FREE else b
            mp = {m: config["method_params"][m] for m in methods if m in config["method_params"]}
            rep = evaluate_methods(Xs, ys, Xt, yt, methods=methods, base_estimator=run_b, method_params=mp,
                                   kshot=(), random_state=seed)
            outcomes += _outcome_rows(rep, seed, run_b)
        kshot = [kshot_row(Xt, yt, k, b, seed) for b, k in todo["kshot"]]
        ceiling = [ceiling_row(Xt, yt, b, seed) for b in todo.get("ceiling", ())]
    return {
        "name": spec["name"], "family": spec["family"], "preprocess": _spec_preprocess_key(spec),
        "task": spec_groups(spec)[0], "base": spec_groups(spec)[1],
        "feature_schema": FEATURE_SCHEMA_VERSION, "meta_features": feats,
        "refresh": bool(todo.get("refresh", False)),
        "source": {"fingerprint": prov_s.pop("fingerprint"), "shape": prov_s.pop("shape"), "y": ys,
                   "provenance": prov_s},
        "target": {"fingerprint": prov_t.pop("fingerprint"), "shape": prov_t.pop("shape"), "provenance": prov_t},
        "outcomes": outcomes, "kshot": kshot, "ceiling": ceiling,
    }


def _record(store: MetaStore, rec: dict) -> int:
    if rec["meta_features"] is None or rec.get("refresh"):  # the pair exists: add to it
        key = pair_key(rec["source"]["fingerprint"], rec["target"]["fingerprint"], rec["preprocess"])
        added = (store.insert_outcomes(key, rec["outcomes"], rec["kshot"], rec.get("ceiling", ()))
                 if rec["outcomes"] or rec["kshot"] or rec.get("ceiling") else 0)
        if rec.get("refresh"):  # its own transaction: killed before it, a resumed build redoes only this
            store.update_meta_features(key, rec["meta_features"], rec["feature_schema"])
        return added
    _, added = store.record_pair(name=rec["name"], family=rec["family"], preprocess=rec["preprocess"],
                                 source=rec["source"], target=rec["target"], meta_features=rec["meta_features"],
                                 feature_schema=rec["feature_schema"], outcomes=rec["outcomes"], kshot=rec["kshot"],
                                 task=rec.get("task"), base=rec.get("base"), ceiling=rec.get("ceiling", ()))
    return added


def check_run_settings(n_jobs, backend, scheduler):
    """Check :func:`build`'s runner settings (raises :class:`InputError`), before any work."""
    from transferability.utils.parallel import check_n_jobs

    check_n_jobs(n_jobs)
    if backend not in ("local", "dask"):
        raise InputError(f"unknown backend '{backend}'; choose local or dask")
    if backend == "dask" and not scheduler:
        raise InputError("--backend dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)")


def build(store: MetaStore, specs, config: BuildConfig, *, data_dir=None, n_jobs=1, backend="local",
          scheduler=None, progress=True, refresh_features=False) -> dict:
    """Run every missing unit of the grid and record it; returns a summary dict.

    Parameters
    ----------
    store : MetaStore (writable)
    specs : list of pair specs
    config : BuildConfig
    data_dir : str or None
        Where relative spec paths live (the benchmark data).
    n_jobs : int, default=1
        Local backend: worker processes (joblib/loky); ``-1``: all cores. They exit when this
        process dies.
    backend : {"local", "dask"}
    scheduler : str or None
        Dask: the ``dask.distributed`` scheduler address (``tcp://host:8786``); required for dask.
    progress : bool
        A progress bar with ETA on stderr.
    refresh_features : bool, default=False
        Recompute the meta-features of the pairs the specs produce that the store holds with
        another feature schema than :data:`~transferability.meta.FEATURE_SCHEMA_VERSION`
        (their outcomes and k-shot baselines are kept). Without it they keep their old
        meta-features.

    Returns
    -------
    dict
        ``pairs_in_spec``, ``pairs_with_work``, ``outcomes_added``, ``pairs_failed`` (name, error),
        ``backend``, ``seconds``, ``feature_schema`` (this build's), ``refresh_features``,
        ``pairs_refreshed`` (meta-features recomputed), ``pairs_not_refreshed`` and
        ``pairs_not_refreshed_names`` (pairs of another feature schema that no spec of this build
        produces, which it cannot refresh, e.g. pairs recorded by ``evaluate --record``), and
        ``pairs_other_feature_schema`` (pairs of another feature schema left after the build).
    """
    from transferability.meta.learners._features import FEATURE_SCHEMA_VERSION

    check_run_settings(n_jobs, backend, scheduler)
    t0 = time.perf_counter()
    work, failed, keys = _plan(store, specs, config, data_dir, refresh_features)
    orphans = sorted((r[4], r[1]) for r in store.pair_rows() if r[7] != FEATURE_SCHEMA_VERSION and r[1] not in keys)
    summary = {"pairs_in_spec": len(specs), "pairs_with_work": len(work), "outcomes_added": 0,
               "pairs_failed": list(failed), "backend": backend, "refresh_features": bool(refresh_features),
               "pairs_refreshed": 0, "pairs_not_refreshed": len(orphans),
               "pairs_not_refreshed_names": [name for name, _ in orphans]}
    bar = None
    if progress and work:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(work), desc="store build", unit="pair")

    def consume(results):
        for spec, rec, err in results:
            if err is not None:
                summary["pairs_failed"].append({"name": spec["name"], "error": err})
            else:
                summary["outcomes_added"] += _record(store, rec)
                summary["pairs_refreshed"] += int(rec.get("refresh", False))
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(spec["name"][-40:])

    try:
        if backend == "local":
            consume(_run_local(work, config, data_dir, n_jobs))
        else:
            consume(_run_dask(work, config, data_dir, scheduler))
    finally:
        if bar is not None:
            bar.close()
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    # without refresh_features, pairs recorded earlier keep the meta-features they were computed
    # with (a resumed build only adds outcomes to them): say how many are of another feature
    # schema than this build's
    summary["feature_schema"] = FEATURE_SCHEMA_VERSION
    summary["pairs_other_feature_schema"] = store.count_other_feature_schema(FEATURE_SCHEMA_VERSION)
    return summary


# -- runners -------------------------------------------------------------------------------------
_watchdog_lock = threading.Lock()
_watchdog_for = None
_WATCHDOG_PERIOD_S = 0.5


def _exit_with_parent(parent_pid):
    """In a local worker process: a daemon thread that ends the process as soon as its parent
    (the build) is gone, so a SIGKILLed build leaves no workers computing for nobody. loky
    keeps idle workers for minutes and finishes the running task otherwise."""
    global _watchdog_for
    if parent_pid is None or os.getpid() == parent_pid:
        return
    with _watchdog_lock:
        if _watchdog_for == parent_pid:
            return
        _watchdog_for = parent_pid

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(_WATCHDOG_PERIOD_S)
        os._exit(1)

    threading.Thread(target=watch, name="transferability-parent-watchdog", daemon=True).start()


def _safe_run(spec, todo, config, data_dir, parent_pid=None):
    _exit_with_parent(parent_pid)
    try:
        return spec, run_pair(spec, todo, config, data_dir), None
    except Exception as exc:  # noqa: BLE001 - one bad pair must not stop the build
        return spec, None, one_line(exc)


def _run_local(work, config, data_dir, n_jobs):
    if n_jobs == 1 or len(work) <= 1:
        for spec, todo in work:
            yield _safe_run(spec, todo, config, data_dir)
        return
    from joblib import Parallel, delayed

    from transferability.utils.parallel import n_workers

    par = Parallel(n_jobs=n_workers(n_jobs, len(work)), return_as="generator_unordered")
    me = os.getpid()
    yield from par(delayed(_safe_run)(spec, todo, config, data_dir, me) for spec, todo in work)


def _run_dask(work, config, data_dir, scheduler):
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError("the dask backend needs dask.distributed: pip install 'transferability[dask]'") from None
    try:
        client = Client(scheduler, timeout="20s")
    except OSError as exc:
        raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        futures = [client.submit(_safe_run, spec, todo, config, data_dir, pure=False) for spec, todo in work]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        client.close()


def record_evaluation(store: MetaStore, report, *, X_source, y_source, X_target, y_target, name, family,
                      preprocess, base_estimator, seed, source_provenance=None, target_provenance=None,
                      source_fingerprint=None, target_fingerprint=None, n_draws=5, task=None, base=None,
                      X_source_raw=None, X_target_raw=None) -> dict:
    """Record an :class:`~transferability.methods.EvaluationReport` (from ``evaluate``) in one
    transaction: the pair, its meta-features (from source features+labels and target features
    only), every outcome and the k-shot baselines. ``X_*`` are the arrays the methods saw; pass
    ``X_*_raw``, the domains as loaded (before ``preprocess``), for the shared-space
    meta-features as a build computes them (both or neither), and ``*_fingerprint`` of those
    domains to key the pair like a build does (default: fingerprints of ``X_*``). Returns
    ``{"pair_id", "outcomes_added"}``."""
    from transferability.meta.learners._features import FEATURE_SCHEMA_VERSION, compute_meta_features

    feats = compute_meta_features(X_source, y_source, X_target, random_state=seed, X_source_raw=X_source_raw,
                                  X_target_raw=X_target_raw)
    outcomes = _outcome_rows(report, seed)
    kshot = [{"base_estimator": base_estimator, "k": int(k), "seed": seed, "n_draws": n_draws, "accuracy": v,
              "reason": report.kshot_reasons.get(k)} for k, v in report.kshot.items()]
    pid, added = store.record_pair(
        name=name, family=family, preprocess=preprocess, feature_schema=FEATURE_SCHEMA_VERSION,
        source={"fingerprint": source_fingerprint or fingerprint(X_source, y_source), "shape": X_source.shape,
                "y": y_source,
                "provenance": source_provenance or {}},
        target={"fingerprint": target_fingerprint or fingerprint(X_target, y_target), "shape": X_target.shape,
                "provenance": target_provenance or {}},
        meta_features=feats, outcomes=outcomes, kshot=kshot, task=task, base=base)
    return {"pair_id": pid, "outcomes_added": added}
