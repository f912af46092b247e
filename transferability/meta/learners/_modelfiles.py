"""MetaTrans model files: fitting from records, writing, loading, predicting.

A model directory holds ``metatrans.json`` (the manifest) and, where the shipped effect model
is LightGBM, ``metatrans-<base estimator>.txt`` (``Booster.model_to_string``). No pickle.

The manifest (model format 2) holds, per base estimator: the method vocabulary, the chosen
candidate and its policy (effect learner, margin; ``margin: null`` = always the fixed default),
the fixed default, the per-method conformal residual quantiles, the kNN over pairs (the training
pairs' log effects and names, and their :class:`~._distance.TrainingDistance`, which also gives
the out-of-distribution threshold), the runtime model, and the group-held-out metrics every
candidate got. At the top: the feature names and schema version, the store hash of the
training records, whether the shipped records were part of them, and ``files``, the sha256
and size of every LightGBM file. Reading goes through :mod:`._files` (bounded reads, files
kept inside the directory, hashes checked before LightGBM sees a byte, every field checked
against :func:`~._files.metatrans_schema`).

Training is deterministic: the same records give byte-identical files (LightGBM with
``deterministic=True``, one thread, fixed seed; JSON with sorted keys and ``repr`` floats).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from transferability.utils.validation import InputError
from ._distance import TrainingDistance
from ._files import (FORMAT_VERSION, METATRANS_FORMAT as FORMAT, SHIPPABLE, file_entry, manifest_text, migrate_models,
                     models_dir, read_manifest, shipped_records_hash)
from ._metatrans import FixedDefault, KNNEffect, LGBMEffect, guarded_pick, inner_calibration
from ._runtime import RuntimeModel
from ._table import TrainingTable, build_tables, records_hash

__all__ = ["FORMAT", "FORMAT_VERSION", "MANIFEST", "fit_models", "save_models", "load_models", "migrate_models",
           "models_dir", "shipped_records_hash", "MetaTransModel", "ModelSet"]

MANIFEST = "metatrans.json"
COVERAGE = 0.8


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
    lo, hi = cal["quantiles"][effect_learner]
    entry = {
        "methods": list(table.methods), "n_pairs": table.n_pairs,
        "candidate": candidate, "selection": reason, "effect_learner": effect_learner,
        "margin": _finite(margin), "fallback": candidate == "fixed",
        "default": table.methods[fixed.default_], "calibration_groups": by,
        "conformal": {"coverage": COVERAGE, "lower": [float(x) for x in lo], "upper": [float(x) for x in hi]},
        "fixed": {"mean_accuracy": [float(x) for x in fixed.mean_accuracy_],
                  "mean_log_effect": [float(x) for x in fixed.mean_log_effect_]},
        "knn": {"n_neighbors": knn.n_neighbors, "log_effect": knn.log_effect_.tolist(), "names": knn.names_,
                "distance": knn.distance_.to_dict()},
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
        "n_records": len(records), "library_version": __version__, "files": {}, "models": {},
    }
    boosters = {}
    for be, table in tables.items():
        entry, booster = _fit_one(table, selections.get(be))
        if booster is not None:
            entry["lgbm_file"] = f"metatrans-{be}.txt"
            boosters[entry["lgbm_file"]] = booster
            manifest["files"][entry["lgbm_file"]] = file_entry(booster)
        else:
            entry["lgbm_file"] = None
        entry["dropped"] = dict(table.dropped)
        manifest["models"][be] = entry
    return ModelSet(manifest, boosters)


def save_models(models: "ModelSet", directory) -> list:
    """Write the LightGBM text files, then the manifest, into ``directory``; returns the paths.

    ``metatrans-*.txt`` files of an earlier training that these models do not use are removed
    (other files in the directory, e.g. EasyTransferability's, are left alone). A kill between
    the files and the manifest leaves files the old manifest's hashes refuse, never a model
    that loads wrong; ``transferability meta train`` writes the whole directory at once
    (:func:`~._files.write_model_directory`).
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
    atomic_write_text(directory / MANIFEST, manifest_text(models.manifest))
    paths.append(str(directory / MANIFEST))
    return paths


def load_models(directory=None, *, check_default=True) -> "ModelSet":
    """Read a model directory (default: the shipped models), checking everything before use.

    Raises
    ------
    InputError
        One line naming the file and the field: a missing, unreadable, oversized or non-regular
        manifest or model file; another format, model format 1 (migrate it), another feature
        schema; a field of the wrong type, shape or range; a model file outside the directory
        or not matching its sha256 and size; an EasyTransferability manifest beside it trained
        on another store; or (when the models were trained with the shipped records and
        ``check_default``) shipped records that are not the ones the models were trained on.
    """
    directory = models_dir() if directory is None else Path(directory)
    _, manifest, boosters = read_manifest(directory, MANIFEST, FORMAT, "MetaTrans", check_default=check_default)
    return ModelSet(manifest, boosters, directory=str(directory))


class MetaTransModel:
    """One base estimator's MetaTrans, rebuilt from its manifest entry (and LightGBM text)."""

    def __init__(self, entry: dict, feature_names: list, booster_text: str | None):
        self.entry = entry  # checked against metatrans_schema when read from a file
        self.feature_names = list(feature_names)
        self.methods = list(entry["methods"])
        k = entry["knn"]
        self.knn = KNNEffect(n_neighbors=int(k["n_neighbors"]))
        self.knn.distance_ = TrainingDistance.from_dict(k["distance"])
        self.knn.log_effect_ = np.asarray(k["log_effect"], dtype=np.float64)
        self.knn.names_ = list(k["names"])
        self.ood_threshold = self.knn.distance_.threshold
        self.booster = self.lgbm = None
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
            self.lgbm = LGBMEffect.from_booster(self.booster, self.methods, self.feature_names)
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
        if self.lgbm is not None:
            eff = self.lgbm.predict(x)
            contrib = self.lgbm.contributions(x)[0]
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
        # the fixed candidate is evaluated as "always the default" (no fallback), so it runs that way here
        j0 = None if self.entry["candidate"] == "fixed" else self.methods.index("no_adapt")
        pick = int(guarded_pick(eff, self.default, self.margin, j0)[0])
        nearest = float(dist[0][0])
        guarded = self.entry["candidate"] in ("fixed", "guarded_knn", "guarded_lgbm")
        return {"log_effect": eff[0], "pick": pick, "fallback": bool(guarded and (pick == self.default or (pick == self.methods.index("no_adapt") and eff[0, self.default] < eff[0, pick]))),
                "lower": eff[0] + self.lower, "upper": eff[0] + self.upper, "reasons": reasons,
                "nearest_distance": nearest,
                "in_distribution": self.knn.distance_.in_distribution(nearest),
                "nearest_pairs": [self.knn.names_[i] for i in idx[0][:n_reasons]]}


class ModelSet:
    """The manifest and LightGBM texts of a model directory, with per-base-estimator models.

    ``directory`` is where they were read from (None: fitted in memory, so no other learner's
    models belong to them)."""

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
            self._models[base_estimator] = MetaTransModel(
                entry, self.manifest["feature_names"], self.boosters.get(entry["lgbm_file"] or ""))
        return self._models[base_estimator]
