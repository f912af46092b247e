"""Files that are not what they claim, refused with one line (no traceback); exports that are
strict JSON."""

import json
import math
import sqlite3

import numpy as np
import pytest
from click.testing import CliRunner

from transferability.cli.main import cli
from transferability.meta_store import MetaStore, StoreError, export_records, import_records, iter_records


def _one_error_line(res, match):
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and match in lines[0], res.stderr


def _sqlite(path, *statements):
    con = sqlite3.connect(path)
    for s in statements:
        con.execute(s)
    con.commit()
    con.close()
    return str(path)


INFO = ("CREATE TABLE store_info (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "INSERT INTO store_info VALUES ('schema_version', '2')")


@pytest.mark.parametrize("command", [["store", "stats"], ["store", "export", "-o", "{tmp}/x.jsonl"],
                                     ["store", "import", "{tmp}/r.jsonl"]])
def test_sqlite_with_store_info_but_no_tables(tmp_path, command):
    # the old code opened it and then raised sqlite3.OperationalError: no such table
    db = _sqlite(tmp_path / "fake.sqlite", *INFO)
    (tmp_path / "r.jsonl").write_text("")
    args = [a.format(tmp=tmp_path) for a in command] + ["--store", db]
    _one_error_line(CliRunner().invoke(cli, args), "is not a meta store: it has no datasets table")
    assert not (tmp_path / "x.jsonl").exists()


def test_a_table_lacking_a_column_is_not_a_store(tmp_path):
    path = tmp_path / "s.sqlite"
    MetaStore(path).close()
    _sqlite(path, "ALTER TABLE outcomes DROP COLUMN runtime_s")
    with pytest.raises(StoreError, match="its outcomes table lacks runtime_s"):
        MetaStore(path, readonly=True)
    with pytest.raises(StoreError, match="its outcomes table lacks runtime_s"):
        MetaStore(path)


def test_a_schema_1_store_without_the_later_columns_is_still_read(tmp_path):
    path = tmp_path / "s.sqlite"
    MetaStore(path).close()
    _sqlite(path, "DROP TABLE ceiling", "ALTER TABLE kshot DROP COLUMN reason",
            "ALTER TABLE kshot DROP COLUMN balanced_accuracy", "ALTER TABLE outcomes DROP COLUMN balanced_accuracy",
            "UPDATE store_info SET value='1' WHERE key='schema_version'")
    with MetaStore(path, readonly=True) as st:
        assert st.schema_version == 1
    with MetaStore(path) as st:  # migrated for writing
        assert st.schema_version == 2


def test_import_of_a_file_that_is_not_utf8(tmp_path):
    # the old code raised UnicodeDecodeError with a traceback
    rec = tmp_path / "r.jsonl"
    rec.write_bytes(b"\xff\xfe{\x00}\x00\n")
    res = CliRunner().invoke(cli, ["store", "import", str(rec), "--store", str(tmp_path / "s.sqlite")])
    _one_error_line(res, "r.jsonl:1: not UTF-8 text (byte 0xff at column 1)")
    assert not (tmp_path / "s.sqlite").exists()


def _record_with_nan(st):
    st.record_pair(name="a->b", family="user", preprocess="none",
                   source={"fingerprint": "s" * 64, "shape": (3, 2), "y": [0, 1, 1], "provenance": {}},
                   target={"fingerprint": "t" * 64, "shape": (2, 2), "provenance": {}},
                   meta_features={"ok": 1.5, "undefined": float("nan")}, feature_schema=3,
                   outcomes=[{"method": "no_adapt", "params": {}, "base_estimator": "1nn", "seed": 0,
                              "target_accuracy": 0.5, "runtime_s": 0.1, "status": "ok", "error": None}])


def _strict_loads(text):
    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")
    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("ext", [".jsonl", ".parquet"])
def test_export_is_strict_json_and_imports_back_to_nan(tmp_path, ext):
    # the old export wrote "undefined": NaN, which strict JSON readers refuse
    with MetaStore(tmp_path / "a.sqlite") as st:
        _record_with_nan(st)
        out = tmp_path / f"r{ext}"
        assert export_records(st, out) == 1
    if ext == ".jsonl":
        (rec,) = [_strict_loads(line) for line in out.read_text().splitlines()]
    else:
        import pyarrow.parquet as pq

        (rec,) = [_strict_loads(t) for t in pq.read_table(out).column("record").to_pylist()]
    assert rec["meta_features"] == {"ok": 1.5, "undefined": None}
    from transferability.meta_store import read_records

    with MetaStore(tmp_path / "b.sqlite") as st:
        import_records(st, read_records(out))
        (back,) = iter_records(st)
    assert back["meta_features"]["ok"] == 1.5 and math.isnan(back["meta_features"]["undefined"])


def test_store_export_command_writes_strict_json(tmp_path):
    with MetaStore(tmp_path / "a.sqlite") as st:
        _record_with_nan(st)
    out = tmp_path / "r.jsonl"
    res = CliRunner().invoke(cli, ["store", "export", "-o", str(out), "--store", str(tmp_path / "a.sqlite")])
    assert res.exit_code == 0, res.output
    assert "NaN" not in out.read_text()
    _strict_loads(out.read_text())
