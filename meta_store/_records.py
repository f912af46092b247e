"""Export and import of store records as JSON lines or Parquet (one record per pair).

A record is self-contained: the pair (name, family, preprocess, feature schema, meta-features),
its two datasets (fingerprint, shape, classes, provenance), its outcomes and its k-shot
baselines. Importing the same records twice adds nothing (the store's unique keys).
Runtimes and timestamps are kept, but :func:`comparable` drops them to compare two builds.
"""

from __future__ import annotations

import json
import os

from transferability.utils.validation import InputError

from ._store import MetaStore

__all__ = ["iter_records", "export_records", "import_records", "read_records", "comparable"]

_VOLATILE = ("runtime_s", "created_at", "library_version")


def iter_records(store: MetaStore):
    """Yield one dict per pair, ordered by pair key (stable across builds)."""
    ds_cols = ["fingerprint", "n_samples", "n_features", "n_classes", "classes", "provenance"]
    datasets = {r[0]: dict(zip(ds_cols, r[1:])) for r in store.query(
        "SELECT id, fingerprint, n_samples, n_features, n_classes, classes, provenance FROM datasets")}
    for d in datasets.values():
        d["classes"] = None if d["classes"] is None else json.loads(d["classes"])
        d["provenance"] = json.loads(d["provenance"])
    for pid, key, sid, tid, name, family, prep, schema, feats, created in store.query(
            "SELECT id, key, source_id, target_id, name, family, preprocess, feature_schema, meta_features,"
            " created_at FROM pairs ORDER BY key"):
        outcomes = [
            {"method": m, "params": json.loads(p), "base_estimator": b, "seed": s, "target_accuracy": a,
             "runtime_s": r, "status": st, "error": e, "library_version": v, "created_at": c}
            for m, p, b, s, a, r, st, e, v, c in store.query(
                "SELECT method, params, base_estimator, seed, target_accuracy, runtime_s, status, error,"
                " library_version, created_at FROM outcomes WHERE pair_id=? ORDER BY method, base_estimator,"
                " params, seed", (pid,))
        ]
        kshot = [
            {"base_estimator": b, "k": k, "seed": s, "n_draws": n, "accuracy": a}
            for b, k, s, n, a in store.query(
                "SELECT base_estimator, k, seed, n_draws, accuracy FROM kshot WHERE pair_id=?"
                " ORDER BY base_estimator, k, seed", (pid,))
        ]
        yield {
            "key": key, "name": name, "family": family, "preprocess": prep, "feature_schema": schema,
            "created_at": created, "meta_features": json.loads(feats),
            "source": datasets[sid], "target": datasets[tid], "outcomes": outcomes, "kshot": kshot,
        }


def _fmt(path):
    ext = os.path.splitext(path)[1].lower()
    if ext in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if ext == ".parquet":
        return "parquet"
    raise InputError(f"unknown record format '{ext}'; use .jsonl or .parquet")


def export_records(store: MetaStore, path, *, family=None) -> int:
    """Write every record (optionally one family) to ``path`` (.jsonl or .parquet); returns the count.

    Written to a temporary file and renamed, so a failed export never leaves a partial file.
    """
    path = os.fspath(path)
    fmt = _fmt(path)
    records = [r for r in iter_records(store) if family is None or r["family"] == family]
    tmp = path + ".tmp"
    if fmt == "jsonl":
        with open(tmp, "w") as fh:
            for r in records:
                fh.write(json.dumps(r, sort_keys=True, allow_nan=True) + "\n")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({
            "key": [r["key"] for r in records],
            "family": [r["family"] for r in records],
            "name": [r["name"] for r in records],
            "record": [json.dumps(r, sort_keys=True, allow_nan=True) for r in records],
        })
        pq.write_table(table, tmp)
    os.replace(tmp, path)
    return len(records)


def read_records(path):
    """Yield the records of a .jsonl or .parquet export."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError(f"file not found: {path}")
    fmt = _fmt(path)
    if fmt == "jsonl":
        with open(path) as fh:
            for i, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise InputError(f"{path}:{i}: not a JSON record ({exc.msg})") from None
    else:
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path, columns=["record"])
        except Exception as exc:  # noqa: BLE001 - any reader failure is bad input
            raise InputError(f"cannot read {path} as record Parquet: {str(exc).splitlines()[0]}") from None
        for rec in table.column("record").to_pylist():
            yield json.loads(rec)


_REQUIRED = ("name", "family", "preprocess", "feature_schema", "meta_features", "source", "target")


def import_records(store: MetaStore, records) -> dict:
    """Add records to ``store`` (one transaction for all); returns counts of what was new."""
    before = store.stats()
    with store.transaction() as con:
        for i, r in enumerate(records, 1):
            missing = [k for k in _REQUIRED if k not in r]
            if missing:
                raise InputError(f"record {i} lacks {', '.join(missing)}")
            src = {"fingerprint": r["source"]["fingerprint"],
                   "shape": (r["source"]["n_samples"], r["source"]["n_features"]),
                   "y": r["source"].get("classes"), "provenance": r["source"].get("provenance")}
            tgt = {"fingerprint": r["target"]["fingerprint"],
                   "shape": (r["target"]["n_samples"], r["target"]["n_features"]),
                   "provenance": r["target"].get("provenance")}
            store.record_pair(name=r["name"], family=r["family"], preprocess=r["preprocess"], source=src,
                              target=tgt, meta_features=r["meta_features"], feature_schema=r["feature_schema"],
                              outcomes=r.get("outcomes", ()), kshot=r.get("kshot", ()), con=con)
    after = store.stats()
    return {"pairs_added": after["n_pairs"] - before["n_pairs"],
            "outcomes_added": after["n_outcomes"] - before["n_outcomes"]}


def comparable(record: dict) -> dict:
    """A record without runtimes, timestamps and library version (to compare two builds)."""
    r = {k: v for k, v in record.items() if k != "created_at"}
    r["outcomes"] = [{k: v for k, v in o.items() if k not in _VOLATILE} for o in record.get("outcomes", [])]
    return r


