"""Export and import of store records as JSON lines or Parquet (one record per pair).

A record is self-contained: the pair (name, family, preprocess, feature schema, meta-features,
task and base when known), its two datasets (fingerprint, shape, classes, provenance), its
outcomes (with ``balanced_accuracy``), its k-shot baselines (with ``balanced_accuracy`` and, when
the accuracy is null, the ``reason``) and its target ceilings (``ceiling``: one per base
estimator and seed); these schema-2 fields are left out when unknown (NULL), so the records of
a schema-1 store export as they did. Outcomes of a method that ignores the base estimator carry
``base_estimator`` :data:`~._schema.BASE_FREE` (``"-"``); :func:`outcomes_for_base` gives the
outcomes that hold for one base estimator. Importing the same records twice adds nothing (the store's
unique keys). Every record is validated before anything is written: one bad record refuses
the whole import with a one-line :class:`StoreError` that names it.
Exports are strict JSON: a meta-feature that could not be computed (NaN in the store) is written
``null`` and read back as NaN. Runtimes and timestamps are kept, but :func:`comparable` drops
them to compare two builds.
"""

from __future__ import annotations

import io
import json
import math
import os

from transferability.utils.identity import pair_key
from transferability.utils.io import atomic_write_bytes, atomic_write_text, check_regular_file, json_safe
from transferability.utils.validation import InputError

from ._schema import BASE_FREE
from ._store import MetaStore, StoreError

__all__ = ["iter_records", "export_records", "import_records", "read_records", "validate_records", "comparable",
           "outcomes_for_base"]

_VOLATILE = ("runtime_s", "created_at", "library_version")
STATUSES = ("ok", "failed")


def iter_records(store: MetaStore):
    """Yield one dict per pair, ordered by pair key (stable across builds)."""
    ds_cols = ["fingerprint", "n_samples", "n_features", "n_classes", "classes", "provenance"]
    datasets = {r[0]: dict(zip(ds_cols, r[1:])) for r in store.query(
        "SELECT id, fingerprint, n_samples, n_features, n_classes, classes, provenance FROM datasets")}
    for d in datasets.values():
        d["classes"] = None if d["classes"] is None else json.loads(d["classes"])
        d["provenance"] = json.loads(d["provenance"])
    o_bal = store.column("outcomes", "balanced_accuracy")
    k_bal, k_reason = store.column("kshot", "balanced_accuracy"), store.column("kshot", "reason")
    has_ceiling = "pair_id" in store._columns.get("ceiling", ())
    for pid, key, sid, tid, name, family, prep, schema, feats, created, task, base in store.pair_rows():
        outcomes = [
            {"method": m, "params": json.loads(p), "base_estimator": b, "seed": s, "target_accuracy": a,
             "balanced_accuracy": ba, "runtime_s": r, "status": st, "error": e, "library_version": v,
             "created_at": c}
            for m, p, b, s, a, ba, r, st, e, v, c in store.query(
                f"SELECT method, params, base_estimator, seed, target_accuracy, {o_bal}, runtime_s, status, error,"
                " library_version, created_at FROM outcomes WHERE pair_id=? ORDER BY method, base_estimator,"
                " params, seed", (pid,))
        ]
        kshot = [
            {"base_estimator": b, "k": k, "seed": s, "n_draws": n, "accuracy": a, "balanced_accuracy": ba,
             "reason": why}
            for b, k, s, n, a, ba, why in store.query(
                f"SELECT base_estimator, k, seed, n_draws, accuracy, {k_bal}, {k_reason} FROM kshot WHERE pair_id=?"
                " ORDER BY base_estimator, k, seed", (pid,))
        ]
        ceiling = [
            {"base_estimator": b, "seed": s, "n_folds": n, "accuracy": a, "balanced_accuracy": ba, "reason": why}
            for b, s, n, a, ba, why in store.query(
                "SELECT base_estimator, seed, n_folds, accuracy, balanced_accuracy, reason FROM ceiling"
                " WHERE pair_id=? ORDER BY base_estimator, seed", (pid,))
        ] if has_ceiling else []
        # schema-2 fields only when known, so records of older stores export as before
        for row in outcomes + kshot:
            for field in ("balanced_accuracy", "reason"):
                if field in row and row[field] is None:
                    del row[field]
        rec = {
            "key": key, "name": name, "family": family, "preprocess": prep, "feature_schema": schema,
            "created_at": created, "meta_features": json.loads(feats),
            "source": datasets[sid], "target": datasets[tid], "outcomes": outcomes, "kshot": kshot,
        }
        if ceiling:
            rec["ceiling"] = ceiling
        # task/base only when known, so records of pairs without them read as before
        rec.update({k: v for k, v in (("task", task), ("base", base)) if v is not None})
        yield rec


def _fmt(path):
    ext = os.path.splitext(path)[1].lower()
    if ext in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if ext == ".parquet":
        return "parquet"
    raise InputError(f"unknown record format '{ext}'; use .jsonl or .parquet")


def _strict(record) -> str:
    """A record as strict JSON (RFC 8259): a value that is not a finite number, such as a
    meta-feature that could not be computed (NaN), is written ``null``; :func:`import_records`
    reads a null meta-feature back as NaN, so an export imports to the same store."""
    return json.dumps(json_safe(record), sort_keys=True, allow_nan=False)


def export_records(store: MetaStore, path, *, family=None) -> int:
    """Write every record (optionally one family) to ``path`` (.jsonl or .parquet) as strict
    JSON (:func:`_strict`: NaN becomes null); returns the count.

    Written to a temporary file beside ``path`` and renamed, so a failed export never leaves a
    partial file; a place that cannot be written raises :class:`InputError` (one line).
    """
    path = os.fspath(path)
    fmt = _fmt(path)
    records = [r for r in iter_records(store) if family is None or r["family"] == family]
    try:
        if fmt == "jsonl":
            atomic_write_text(path, "".join(_strict(r) + "\n" for r in records))
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.table({
                "key": pa.array([r["key"] for r in records], pa.string()),
                "family": pa.array([r["family"] for r in records], pa.string()),
                "name": pa.array([r["name"] for r in records], pa.string()),
                "record": pa.array([_strict(r) for r in records], pa.string()),
            })
            buf = io.BytesIO()
            pq.write_table(table, buf)
            atomic_write_bytes(path, buf.getvalue())
    except OSError as exc:
        raise InputError(f"cannot write {path} ({exc.strerror or exc})") from None
    return len(records)


def _as_record(obj, where):
    if not isinstance(obj, dict):
        raise StoreError(f"{where}: not a record (a JSON object), got {type(obj).__name__}")
    return obj


def read_records(path):
    """Yield the records of a .jsonl or .parquet export (each a dict; anything else is refused
    with its line or row)."""
    path = os.fspath(path)
    check_regular_file(path, "record file")  # never opens it: a FIFO would block
    fmt = _fmt(path)
    if fmt == "jsonl":
        with open(path, "rb") as fh:
            for i, raw in enumerate(fh, 1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise InputError(f"{path}:{i}: not UTF-8 text (byte {raw[exc.start]:#04x} at column "
                                     f"{exc.start + 1}); records are UTF-8 JSON lines") from None
                if line.strip():
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise InputError(f"{path}:{i}: not a JSON record ({exc.msg})") from None
                    yield _as_record(obj, f"{path}:{i}")
    else:
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path, columns=["record"])
        except Exception as exc:  # noqa: BLE001 - any reader failure is bad input
            raise InputError(f"cannot read {path} as record Parquet: {str(exc).splitlines()[0]}") from None
        for i, rec in enumerate(table.column("record").to_pylist(), 1):
            if not isinstance(rec, str):
                raise StoreError(f"{path}: row {i}: the record column holds {type(rec).__name__}, not JSON text")
            try:
                obj = json.loads(rec)
            except json.JSONDecodeError as exc:
                raise StoreError(f"{path}: row {i}: not a JSON record ({exc.msg})") from None
            yield _as_record(obj, f"{path}: row {i}")


# -- validation ----------------------------------------------------------------------------------
class _Bad(Exception):
    pass


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _need(cond, what):
    if not cond:
        raise _Bad(what)


def _text(d, key, where, *, optional=False, nonempty=True):
    v = d.get(key)
    if v is None and optional:
        return
    _need(isinstance(v, str) and (v or not nonempty), f"{where}{key} must be a {'non-empty ' if nonempty else ''}string, "
                                                       f"got {_show(v)}")


def _show(v):
    text = json.dumps(v, allow_nan=True, default=str) if not isinstance(v, str) else repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _accuracy(v, where, *, required):
    if v is None:
        _need(not required, f"{where} is null, but the status is ok")
        return
    _need(_is_number(v) and math.isfinite(v) and 0.0 <= v <= 1.0,
          f"{where} must be a finite number in [0, 1], got {_show(v)}")


def _dataset(d, where):
    _need(isinstance(d, dict), f"{where} must be an object, got {_show(d)}")
    _text(d, "fingerprint", f"{where}.")
    for key in ("n_samples", "n_features"):
        _need(_is_int(d.get(key)) and d[key] > 0, f"{where}.{key} must be a positive integer, got {_show(d.get(key))}")
    classes = d.get("classes")
    _need(classes is None or isinstance(classes, list), f"{where}.classes must be a list or null, got {_show(classes)}")
    prov = d.get("provenance")
    _need(prov is None or isinstance(prov, dict), f"{where}.provenance must be an object, got {_show(prov)}")


def _outcome(o, where):
    _need(isinstance(o, dict), f"{where} must be an object, got {_show(o)}")
    _text(o, "method", f"{where}.")
    _text(o, "base_estimator", f"{where}.")
    params = o.get("params")
    _need(params is None or isinstance(params, dict), f"{where}.params must be an object, got {_show(params)}")
    seed = o.get("seed", 0)
    _need(_is_int(seed) and seed >= 0, f"{where}.seed must be a non-negative integer, got {_show(seed)}")
    status = o.get("status", "ok")
    _need(status in STATUSES, f"{where}.status must be one of {', '.join(STATUSES)}, got {_show(status)}")
    _accuracy(o.get("target_accuracy"), f"{where}.target_accuracy", required=status == "ok")
    _accuracy(o.get("balanced_accuracy"), f"{where}.balanced_accuracy", required=False)
    rt = o.get("runtime_s", 0.0)
    _need(_is_number(rt) and math.isfinite(rt) and rt >= 0,
          f"{where}.runtime_s must be a finite number >= 0, got {_show(rt)}")
    for key in ("error", "library_version", "created_at"):
        _text(o, key, f"{where}.", optional=True, nonempty=False)


def _kshot(r, where):
    _need(isinstance(r, dict), f"{where} must be an object, got {_show(r)}")
    _text(r, "base_estimator", f"{where}.")
    for key, default in (("k", None), ("n_draws", 5)):
        v = r.get(key, default)
        _need(_is_int(v) and v > 0, f"{where}.{key} must be a positive integer, got {_show(v)}")
    seed = r.get("seed", 0)
    _need(_is_int(seed) and seed >= 0, f"{where}.seed must be a non-negative integer, got {_show(seed)}")
    for key in ("accuracy", "balanced_accuracy"):
        acc = r.get(key)
        if not (isinstance(acc, float) and math.isnan(acc)):  # NaN: no target sample left to test on, stored NULL
            _accuracy(acc, f"{where}.{key}", required=False)
    _text(r, "reason", f"{where}.", optional=True)


def _ceiling(r, where):
    _need(isinstance(r, dict), f"{where} must be an object, got {_show(r)}")
    _text(r, "base_estimator", f"{where}.")
    seed = r.get("seed", 0)
    _need(_is_int(seed) and seed >= 0, f"{where}.seed must be a non-negative integer, got {_show(seed)}")
    folds = r.get("n_folds", 5)
    _need(_is_int(folds) and folds >= 2, f"{where}.n_folds must be an integer >= 2, got {_show(folds)}")
    for key in ("accuracy", "balanced_accuracy"):
        _accuracy(r.get(key), f"{where}.{key}", required=False)
    _text(r, "reason", f"{where}.", optional=True)


_REQUIRED = ("name", "family", "preprocess", "feature_schema", "meta_features", "source", "target")


def _record(r):
    _need(isinstance(r, dict), f"not a record (a JSON object), got {_show(r)}")
    missing = [k for k in _REQUIRED if k not in r]
    _need(not missing, f"lacks {', '.join(missing)}")
    for key in ("name", "family", "preprocess"):
        _text(r, key, "")
    for key in ("task", "base"):
        _text(r, key, "", optional=True)
    _need(_is_int(r["feature_schema"]) and r["feature_schema"] > 0,
          f"feature_schema must be a positive integer, got {_show(r['feature_schema'])}")
    feats = r["meta_features"]
    _need(isinstance(feats, dict), f"meta_features must be an object, got {_show(feats)}")
    for k, v in feats.items():
        _need(v is None or _is_number(v), f"meta_features.{k} must be a number or null, got {_show(v)}")
    _dataset(r["source"], "source")
    _dataset(r["target"], "target")
    if "key" in r:
        _need(r["key"] == pair_key(r["source"]["fingerprint"], r["target"]["fingerprint"], r["preprocess"]),
              "key does not match its fingerprints and preprocess")
    for field, check in (("outcomes", _outcome), ("kshot", _kshot), ("ceiling", _ceiling)):
        items = r.get(field, [])
        _need(isinstance(items, list), f"{field} must be a list, got {_show(items)}")
        for j, item in enumerate(items, 1):
            check(item, f"{field}[{j}]")


def validate_records(records) -> list:
    """Read ``records`` (an iterable of dicts) and check every one; returns them as a list or
    raises :class:`StoreError` naming the first bad record (``record N (name): ...``)."""
    out = []
    for i, r in enumerate(records, 1):
        try:
            _record(r)
        except _Bad as exc:
            name = f" ({r['name']})" if isinstance(r, dict) and isinstance(r.get("name"), str) else ""
            raise StoreError(f"record {i}{name}: {exc}") from None
        out.append(r)
    return out


def import_records(store: MetaStore, records) -> dict:
    """Add records to ``store`` in one transaction, after validating all of them (nothing is
    written if one is bad); returns counts of what was new."""
    records = validate_records(records)
    before = store.stats()
    with store.transaction() as con:
        for r in records:
            src = {"fingerprint": r["source"]["fingerprint"],
                   "shape": (r["source"]["n_samples"], r["source"]["n_features"]),
                   "y": r["source"].get("classes"), "provenance": r["source"].get("provenance")}
            tgt = {"fingerprint": r["target"]["fingerprint"],
                   "shape": (r["target"]["n_samples"], r["target"]["n_features"]),
                   "provenance": r["target"].get("provenance")}
            store.record_pair(name=r["name"], family=r["family"], preprocess=r["preprocess"], source=src,
                              target=tgt, feature_schema=r["feature_schema"],
                              meta_features={k: math.nan if v is None else v for k, v in r["meta_features"].items()},
                              outcomes=r.get("outcomes", ()), kshot=r.get("kshot", ()), task=r.get("task"),
                              base=r.get("base"), ceiling=r.get("ceiling", ()), con=con)
    after = store.stats()
    return {"pairs_added": after["n_pairs"] - before["n_pairs"],
            "outcomes_added": after["n_outcomes"] - before["n_outcomes"]}


def comparable(record: dict) -> dict:
    """A record without runtimes, timestamps and library version (to compare two builds)."""
    r = {k: v for k, v in record.items() if k != "created_at"}
    r["outcomes"] = [{k: v for k, v in o.items() if k not in _VOLATILE} for o in record.get("outcomes", [])]
    return r


def outcomes_for_base(record: dict, base_estimator: str) -> list:
    """The outcomes of ``record`` that hold for ``base_estimator``: its own rows and the rows of
    the methods that ignore the base estimator (``base_estimator`` :data:`~._schema.BASE_FREE`,
    recorded once per pair), each returned with ``base_estimator`` set to the one asked for."""
    out = []
    for o in record.get("outcomes", []):
        if o.get("base_estimator") == base_estimator:
            out.append(o)
        elif o.get("base_estimator") == BASE_FREE:
            out.append(dict(o, base_estimator=base_estimator))
    return out
