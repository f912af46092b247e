"""MetaTrans model files: training from records, writing, loading, predicting.

A model directory holds ``metatrans.json`` (the manifest) and, where the shipped effect model
is LightGBM, ``metatrans-<base estimator>.txt`` (``Booster.model_to_string``). No pickle.

The manifest holds, per base estimator: the method vocabulary, the chosen candidate and its
policy (effect learner, margin; ``margin: null`` = always the fixed default), the fixed default,
the per-method conformal residual quantiles, the kNN reference table (standardised signed-log
meta-features, log effects and names of the training pairs) with the out-of-distribution
threshold, the runtime model, and the group-held-out metrics every candidate got. At the top:
the feature names and schema version, the store hash of the training records and whether the
shipped records were part of them.

Training is deterministic: the same records give byte-identical files (LightGBM with
``deterministic=True``, one thread, fixed seed; JSON with sorted keys and ``repr`` floats).
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np

from transferability.utils.io import json_safe
from transferability.utils.validation import InputError
from ._metatrans import FixedDefault, KNNEffect, LGBMEffect, guarded_pick, inner_calibration
from ._runtime import RuntimeModel
from ._table import SignedLogScaler, TrainingTable, build_tables, records_hash

__all__ = ["FORMAT", "FORMAT_VERSION", "MANIFEST", "fit_models", "save_models", "load_models",
           "models_dir", "shipped_records_hash", "MetaTransModel", "ModelSet"]

FORMAT = "transferability-metatrans"
FORMAT_VERSION = 1
MANIFEST = "metatrans.json"
COVERAGE = 0.8
OOD_PERCENTILE = 99.0
SHIPPABLE = ("fixed", "knn", "lgbm", "guarded_knn", "guarded_lgbm")


def models_dir() -> Path:
    """The shipped models (``transferability/meta/models``)."""
    return Path(__file__).resolve().parent / "models"


def shipped_records_hash() -> str:
    """:func:`records_hash` of the shipped default store's records (read from the text records).

    Hashing the 10 MB of records takes about half a second, and loading the MetaTrans and the
    EasyTransferability models both ask for it; the value is kept for the process, keyed on each
    file's path, size and modification time, so a changed file is hashed again."""
    from transferability.meta_store import records_dir

    stats = [(f, f.stat()) for f in sorted(records_dir().glob("*.jsonl"))]
    return _records_files_hash(tuple((str(f), st.st_size, st.st_mtime_ns) for f, st in stats))


@functools.lru_cache(maxsize=4)
def _records_files_hash(files: tuple) -> str:
    from transferability.meta_store import read_records

    return records_hash([r for f, _, _ in files for r in read_records(f)])


def _finite(x):
    return None if x is None or not math.isfinite(x) else float(x)


def _summary_numbers(summary):
    return {c: {k: v for k, v in e["overall"].items()} for c, e in summary.items()}


def _fit_one(table: TrainingTable, selection: dict | None):
    """One base estimator's manifest entry (and LightGBM text) for the chosen candidate;
    ``selection`` is ``{"candidate", "reason", "summaries"}`` from the group-held-out
    evaluation (:func:`transferability.meta.evaluation.train_models`), or None: the fixed
    default, not evaluated."""
    selection = selection or {"candidate": "fixed", "reason": "not evaluated: the fixed default is kept",
                              "summaries": {}}
    candidate, reason, summaries = selection["candidate"], selection["reason"], selection["summaries"]
    if candidate not in SHIPPABLE:
        raise InputError(f"unknown MetaTrans candidate {candidate!r}; one of {', '.join(SHIPPABLE)}")
    learner = candidate.replace("guarded_", "")
    effect_learner = "knn" if learner == "fixed" else learner
    by = "base" if len(np.unique(table.bases)) >= 3 else "family"
    cal = inner_calibration(table, by, learners=(effect_learner,), coverage=COVERAGE)
    margin = {"fixed": math.inf, "knn": 0.0, "lgbm": 0.0}.get(candidate, cal["margins"].get(effect_learner))
    fixed = FixedDefault().fit(table, table.groups(by))
    knn = KNNEffect().fit(table)
    loo = knn.loo_nn_distance()
    lo, hi = cal["quantiles"][effect_learner]
    entry = {
        "methods": list(table.methods), "n_pairs": table.n_pairs,
        "candidate": candidate, "selection": reason, "effect_learner": effect_learner,
        "margin": _finite(margin), "fallback": candidate == "fixed",
        "default": table.methods[fixed.default_], "calibration_groups": by,
        "conformal": {"coverage": COVERAGE, "lower": [float(x) for x in lo], "upper": [float(x) for x in hi]},
        "fixed": {"mean_accuracy": [float(x) for x in fixed.mean_accuracy_],
                  "mean_log_effect": [float(x) for x in fixed.mean_log_effect_]},
        "knn": {"n_neighbors": knn.n_neighbors, "mean": knn.mean_.tolist(), "scale": knn.scale_.tolist(),
                "reference": knn.reference_.tolist(), "log_effect": knn.log_effect_.tolist(),
                "names": knn.names_,
                "ood_threshold": float(np.percentile(loo, OOD_PERCENTILE)) if len(loo) > 1 else None},
        "runtime": RuntimeModel().fit(table.sizes, table.runtime, table.methods).to_dict(),
        "metrics": {p: _summary_numbers(s) for p, s in summaries.items()},
        "inner_margin_regret": {k: {("inf" if math.isinf(m) else repr(m)): float(r) for m, r in v.items()}
                                for k, v in cal["margin_regret"].items()},
    }
    booster = LGBMEffect().fit(table).booster_.model_to_string() if effect_learner == "lgbm" else None
    return entry, booster


def fit_models(records, *, includes_default: bool, selections: dict | None = None, tables: dict | None = None) -> "ModelSet":
    """Fit MetaTrans for every base estimator in ``records`` with the candidate chosen for it
    (``selections``: base estimator -> ``{"candidate", "reason", "summaries"}``; a base estimator
    without one gets the fixed default); returns the in-memory model set. Choosing the candidate
    is the evaluation's job (:func:`transferability.meta.evaluation.train_models`)."""
    from ._features import FEATURE_NAMES, FEATURE_SCHEMA_VERSION
    from transferability import __version__

    records = list(records)
    tables = build_tables(records) if tables is None else tables
    selections = selections or {}
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "feature_schema": FEATURE_SCHEMA_VERSION,
        "feature_names": list(FEATURE_NAMES), "store_hash": records_hash(records),
        "includes_default": bool(includes_default),
        "default_records_hash": shipped_records_hash() if includes_default else None,
        "n_records": len(records), "library_version": __version__, "models": {},
    }
    boosters = {}
    for be, table in tables.items():
        entry, booster = _fit_one(table, selections.get(be))
        if booster is not None:
            entry["lgbm_file"] = f"metatrans-{be}.txt"
            boosters[entry["lgbm_file"]] = booster
        else:
            entry["lgbm_file"] = None
        entry["dropped"] = dict(table.dropped)
        manifest["models"][be] = entry
    return ModelSet(manifest, boosters)


def save_models(models: "ModelSet", directory) -> list:
    """Write the manifest and LightGBM text files into ``directory``; returns the paths.

    ``metatrans-*.txt`` files of an earlier training that these models do not use are removed
    (other files in the directory, e.g. EasyTransferability's, are left alone).
    """
    from transferability.utils.io import atomic_write_text

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("metatrans-*.txt"):  # a previous training's LightGBM files, now unused
        if old.name not in models.boosters:
            old.unlink()
    paths = []
    for name, text in sorted(models.boosters.items()):
        atomic_write_text(directory / name, text)
        paths.append(str(directory / name))
    # strict JSON: a metric that is undefined on some group (NaN) is written as null
    atomic_write_text(directory / MANIFEST,
                      json.dumps(json_safe(models.manifest), sort_keys=True, indent=1, allow_nan=False) + "\n")
    paths.append(str(directory / MANIFEST))
    return paths


def read_manifest(directory: Path, name: str, fmt: str, fmt_version: int, what: str, *, check_default=True):
    """Read and check a learner's JSON manifest ``directory / name``: its format and version, the
    feature schema and names it was trained on, and (when it was trained with the shipped records
    and ``check_default``) that those are the records this installation ships. Returns
    ``(path, manifest)``; every refusal is one :class:`InputError` line naming the fix."""
    from ._features import FEATURE_NAMES, FEATURE_SCHEMA_VERSION

    path = directory / name
    if not path.is_file():
        raise InputError(f"no {what} models in {directory} (missing {name}); run `transferability meta train`")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != fmt:
        raise InputError(f"{path} is not {'an' if what[0] in 'AEIOU' else 'a'} {what} manifest")
    if manifest.get("format_version") != fmt_version:
        raise InputError(f"{path} has model format {manifest.get('format_version')}, this version reads {fmt_version}")
    if manifest.get("feature_schema") != FEATURE_SCHEMA_VERSION or manifest.get("feature_names") != list(FEATURE_NAMES):
        raise InputError(f"{path} was trained on feature schema {manifest.get('feature_schema')}, this version computes "
                         f"schema {FEATURE_SCHEMA_VERSION}; retrain with `transferability meta train`")
    if check_default and manifest.get("includes_default"):
        current = shipped_records_hash()
        if manifest.get("default_records_hash") != current:
            raise InputError(f"{path} was trained on shipped records {manifest.get('default_records_hash')}, this "
                             f"installation ships {current}; retrain with `transferability meta train`")
    return path, manifest


def load_models(directory=None, *, check_default=True) -> "ModelSet":
    """Read a model directory (default: the shipped models), checking format, schema and hash.

    Raises
    ------
    InputError
        Missing or unreadable files, another format, another feature schema, or (when the
        models were trained with the shipped records and ``check_default``) shipped records
        that are not the ones the models were trained on.
    """
    directory = models_dir() if directory is None else Path(directory)
    path, manifest = read_manifest(directory, MANIFEST, FORMAT, FORMAT_VERSION, "MetaTrans",
                                   check_default=check_default)
    boosters = {}
    for be, entry in (manifest.get("models") or {}).items():
        name = entry.get("lgbm_file")
        if name:
            try:
                boosters[name] = (directory / name).read_text()
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"cannot read model file {directory / name}: {str(exc).splitlines()[0]}") from None
    if not manifest.get("models"):
        raise InputError(f"{path} holds no models")
    return ModelSet(manifest, boosters, directory=str(directory))


class MetaTransModel:
    """One base estimator's MetaTrans, rebuilt from its manifest entry (and LightGBM text)."""

    def __init__(self, entry: dict, feature_names: list, booster_text: str | None):
        self.entry = entry
        self.feature_names = list(feature_names)
        self.methods = list(entry["methods"])
        from transferability.methods import available_methods

        unknown = sorted(set(self.methods) - set(available_methods()))
        if unknown:
            raise InputError(f"the models name methods this library does not have: {', '.join(unknown)}")
        if "no_adapt" not in self.methods:
            raise InputError("the models' method vocabulary lacks no_adapt")
        k = entry["knn"]
        self.knn = KNNEffect(n_neighbors=int(k["n_neighbors"]))
        self.knn.scaler_ = SignedLogScaler(k["mean"], k["scale"])  # refuses a missing mean or scale
        self.knn.reference_ = np.asarray(k["reference"], dtype=np.float64)
        self.knn.log_effect_ = np.asarray(k["log_effect"], dtype=np.float64)
        self.knn.names_ = list(k["names"])
        self.ood_threshold = k.get("ood_threshold")
        self.booster = None
        if entry["effect_learner"] == "lgbm":
            import lightgbm as lgb

            if not booster_text:
                raise InputError(f"model for {entry.get('candidate')} needs its LightGBM file {entry.get('lgbm_file')}")
            try:
                self.booster = lgb.Booster(model_str=booster_text)
            except Exception as exc:  # noqa: BLE001 - a corrupt model file is bad input
                raise InputError(f"cannot read LightGBM model {entry.get('lgbm_file')}: "
                                 f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
            if self.booster.num_feature() != len(self.feature_names) + 1:
                raise InputError(f"LightGBM model {entry.get('lgbm_file')} has {self.booster.num_feature()} features, "
                                 f"the manifest names {len(self.feature_names) + 1}")
        self.runtime = RuntimeModel.from_dict(entry["runtime"])
        self.default = self.methods.index(entry["default"])
        self.margin = math.inf if entry["margin"] is None else float(entry["margin"])
        self.lower = np.asarray(entry["conformal"]["lower"], dtype=np.float64)
        self.upper = np.asarray(entry["conformal"]["upper"], dtype=np.float64)

    def predict(self, features: dict, *, n_reasons=3) -> dict:
        """Predictions for one pair's meta-features (dict name -> value)."""
        missing = [f for f in self.feature_names if f not in features or features[f] is None]
        if missing:
            raise InputError(f"meta-features lack {', '.join(missing[:3])}")
        x = np.array([[float(features[f]) for f in self.feature_names]])
        idx, dist = self.knn.neighbors(x)
        if self.booster is not None:
            from ._metatrans import _long

            Z = _long(x, len(self.methods))
            eff = self.booster.predict(Z, num_threads=1).reshape(1, -1)
            eff[:, self.methods.index("no_adapt")] = 0.0  # as LGBMEffect.predict: no_adapt's effect is 1
            contrib = self.booster.predict(Z, pred_contrib=True, num_threads=1)[:, :len(self.feature_names)]
            reasons = []
            for j in range(len(self.methods)):
                order = np.argsort(-np.abs(contrib[j]), kind="stable")[:n_reasons]
                reasons.append([{"feature": self.feature_names[i], "value": float(x[0, i]),
                                 "contribution": float(contrib[j, i])} for i in order])
        else:
            eff = self.knn.predict(x)
            reasons = [[{"pair": self.knn.names_[i], "distance": float(d),
                         "effect": float(np.exp(self.knn.log_effect_[i, j]))}
                        for i, d in zip(idx[0][:n_reasons], dist[0][:n_reasons])] for j in range(len(self.methods))]
        pick = int(guarded_pick(eff, self.default, self.margin, self.methods.index("no_adapt"))[0])
        nearest = float(dist[0][0])
        guarded = self.entry["candidate"] in ("fixed", "guarded_knn", "guarded_lgbm")
        return {"log_effect": eff[0], "pick": pick, "fallback": bool(guarded and (pick == self.default or (pick == self.methods.index("no_adapt") and eff[0, self.default] < eff[0, pick]))),
                "lower": eff[0] + self.lower, "upper": eff[0] + self.upper, "reasons": reasons,
                "nearest_distance": nearest,
                "in_distribution": True if self.ood_threshold is None else bool(nearest <= self.ood_threshold),
                "nearest_pairs": [self.knn.names_[i] for i in idx[0][:n_reasons]]}


class ModelSet:
    """The manifest and LightGBM texts of a model directory, with per-base-estimator models."""

    def __init__(self, manifest: dict, boosters: dict, directory: str | None = None):
        self.manifest = manifest
        self.boosters = boosters
        self.directory = directory
        self._models = {}

    @property
    def base_estimators(self):
        return sorted(self.manifest["models"])

    def model(self, base_estimator: str) -> MetaTransModel:
        if base_estimator not in self.manifest["models"]:
            raise InputError(f"no MetaTrans model for base estimator '{base_estimator}'; "
                             f"these models know {', '.join(self.base_estimators)}")
        if base_estimator not in self._models:
            entry = self.manifest["models"][base_estimator]
            try:
                self._models[base_estimator] = MetaTransModel(
                    entry, self.manifest["feature_names"], self.boosters.get(entry.get("lgbm_file") or ""))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                if isinstance(exc, InputError):
                    raise
                raise InputError(f"malformed MetaTrans manifest entry for '{base_estimator}' "
                                 f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
        return self._models[base_estimator]
