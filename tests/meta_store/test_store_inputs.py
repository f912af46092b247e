"""Bad input to the store and its build, each refused with one line and nothing written; the
shipped store stays read-only; no journal side files; no orphaned build workers."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

from transferability.cli.main import cli
from transferability.meta.build import BuildConfig, build, plan
from transferability.meta_store import (
    MetaStore, StoreError, default_store_path, export_records, import_records, iter_records, open_default_store,
    open_store, read_records,
)
from transferability.utils.validation import InputError


def _gen_specs(n, family="covariate_shift", base="wine", n_max=80):
    return [{"name": f"{family}/{base}/seed-{i}", "family": family, "preprocess": "none",
             "generator": {"kind": family, "base": base, "level": 0.6, "seed": i, "n_max": n_max}}
            for i in range(n)]


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """Two valid exported records (one generated pair each: no_adapt x 1nn/logreg, k = 1)."""
    path = tmp_path_factory.mktemp("rec") / "s.sqlite"
    with MetaStore(path) as st:
        build(st, _gen_specs(2), BuildConfig.make(methods=["no_adapt"], kshot=(1,)), progress=False)
        recs = list(iter_records(st))
    assert len(recs) == 2 and all(len(r["outcomes"]) == 2 for r in recs)
    return recs


def _sidefiles(directory):
    return sorted(f for f in os.listdir(directory) if f.endswith(("-wal", "-shm", "-journal")))


def _one_error_line(res, match):
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and match in lines[0], res.stderr
    return lines[0]


# --- store import validates every record before writing ------------------------------------------
def _set(rec, path, value):
    *head, last = path
    d = rec
    for k in head:
        d = d[k]
    if value is _DELETE:
        del d[last]
    else:
        d[last] = value


_DELETE = object()
BAD_RECORDS = [
    (("outcomes", 0, "target_accuracy"), float("nan"), r"outcomes\[1\]\.target_accuracy must be a finite number"),
    (("outcomes", 0, "target_accuracy"), 7.5, r"target_accuracy must be a finite number in \[0, 1\], got 7.5"),
    (("outcomes", 0, "target_accuracy"), -1, "target_accuracy must be a finite number"),
    (("outcomes", 0, "target_accuracy"), 1e308, "target_accuracy must be a finite number"),
    (("outcomes", 0, "target_accuracy"), float("inf"), "target_accuracy must be a finite number"),
    (("outcomes", 0, "target_accuracy"), "0.9", "target_accuracy must be a finite number"),
    (("outcomes", 0, "target_accuracy"), None, "target_accuracy is null, but the status is ok"),
    (("outcomes", 0, "status"), "great", "status must be one of ok, failed, got 'great'"),
    (("outcomes", 0, "runtime_s"), "fast", "runtime_s must be a finite number >= 0, got 'fast'"),
    (("outcomes", 0, "runtime_s"), -0.5, "runtime_s must be a finite number >= 0"),
    (("outcomes", 0, "seed"), 1.5, "seed must be a non-negative integer"),
    (("outcomes", 0, "method"), 3, "method must be a non-empty string"),
    (("outcomes", 0, "params"), [1], "params must be an object"),
    (("outcomes",), 5, "outcomes must be a list, got 5"),
    (("outcomes",), {"a": 1}, "outcomes must be a list"),
    (("kshot",), "x", "kshot must be a list"),
    (("kshot", 0, "k"), 0, r"kshot\[1\]\.k must be a positive integer"),
    (("kshot", 0, "accuracy"), 2.0, "accuracy must be a finite number in"),
    (("source", "n_samples"), -5, "source.n_samples must be a positive integer, got -5"),
    (("source", "n_samples"), "10", "source.n_samples must be a positive integer"),
    (("target", "n_features"), True, "target.n_features must be a positive integer"),
    (("source", "fingerprint"), _DELETE, "source.fingerprint must be a non-empty string"),
    (("target", "fingerprint"), 5, "target.fingerprint must be a non-empty string"),
    (("source",), "abc", "source must be an object"),
    (("meta_features",), [1, 2], "meta_features must be an object"),
    (("meta_features", "mmd"), "big", "meta_features.mmd must be a number or null"),
    (("feature_schema",), "2", "feature_schema must be a positive integer"),
    (("name",), "", "name must be a non-empty string"),
    (("family",), _DELETE, "lacks family"),
    (("task",), 7, "task must be a non-empty string"),
    (("key",), "0" * 64, "key does not match its fingerprints and preprocess"),
]


@pytest.mark.parametrize("path, value, match", BAD_RECORDS)
def test_import_refuses_a_bad_record_and_writes_nothing(tmp_path, records, path, value, match):
    bad = json.loads(json.dumps(records[1], allow_nan=True))
    _set(bad, path, value)
    with MetaStore(tmp_path / "s.sqlite") as st:
        with pytest.raises(StoreError, match=r"^record 2 \(" + ".*" + match):
            import_records(st, [records[0], bad])  # the good first record is not written either
        s = st.stats()
        assert s["n_pairs"] == 0 and s["n_outcomes"] == 0 and s["n_datasets"] == 0 and s["n_kshot"] == 0
    # the command line: one line naming the record, and the store is not even created
    rec_file = tmp_path / "r.jsonl"
    rec_file.write_text("".join(json.dumps(r, allow_nan=True) + "\n" for r in (records[0], bad)))
    res = CliRunner().invoke(cli, ["store", "import", str(rec_file), "--store", str(tmp_path / "new.sqlite")])
    _one_error_line(res, "record 2 (")
    assert not (tmp_path / "new.sqlite").exists()


def test_failed_outcome_may_have_null_accuracy(tmp_path, records):
    rec = json.loads(json.dumps(records[0]))
    rec["outcomes"][0].update(status="failed", target_accuracy=None, error="LinAlgError: x")
    with MetaStore(tmp_path / "s.sqlite") as st:
        assert import_records(st, [rec]) == {"pairs_added": 1, "outcomes_added": 2}
        assert st.stats()["n_failed"] == 1


@pytest.mark.parametrize("line, match", [("42", "not a record (a JSON object), got int"),
                                         ("null", "not a record (a JSON object), got NoneType"),
                                         ('"text"', "not a record (a JSON object), got str"),
                                         ("[1]", "not a record (a JSON object), got list")])
def test_jsonl_line_that_is_not_an_object(tmp_path, records, line, match):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(records[0]) + "\n" + line + "\n")
    with pytest.raises(StoreError, match=re.escape(f"r.jsonl:2: {match}")):
        list(read_records(path))
    res = CliRunner().invoke(cli, ["store", "import", str(path), "--store", str(tmp_path / "s.sqlite")])
    _one_error_line(res, "r.jsonl:2: not a record")
    assert not (tmp_path / "s.sqlite").exists()


def test_parquet_record_with_bad_json(tmp_path, records):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "r.parquet"
    pq.write_table(pa.table({"record": [json.dumps(records[0]), "{not json", "7"]}), path)
    with pytest.raises(StoreError, match=r"r.parquet: row 2: not a JSON record"):
        list(read_records(path))
    pq.write_table(pa.table({"record": [json.dumps(records[0]), "7"]}), path)
    with pytest.raises(StoreError, match=r"r.parquet: row 2: not a record \(a JSON object\), got int"):
        list(read_records(path))
    pq.write_table(pa.table({"record": pa.array([None], pa.string())}), path)
    with pytest.raises(StoreError, match=r"row 1: the record column holds NoneType"):
        list(read_records(path))


def test_valid_records_round_trip_with_task_and_base(tmp_path, records):
    rec = json.loads(json.dumps(records[0]))
    rec.update(task="wine:a->b", base="wine")
    other = {k: v for k, v in records[1].items() if k not in ("task", "base")}  # a record of an older build
    with MetaStore(tmp_path / "a.sqlite") as st:
        import_records(st, [rec, other])
        out = {r["name"]: r for r in iter_records(st)}
    assert out[rec["name"]]["task"] == "wine:a->b" and out[rec["name"]]["base"] == "wine"
    assert "task" not in out[records[1]["name"]]  # unknown: left out, as in older records


# --- the shipped default store is read-only, whoever opens it -------------------------------------
@pytest.fixture
def tiny_default(tmp_path, monkeypatch, records):
    """A shipped default store made from two records, with its cache in tmp_path."""
    rec_dir = tmp_path / "records"
    rec_dir.mkdir()
    (rec_dir / "default.jsonl").write_text("".join(json.dumps(r, allow_nan=True) + "\n" for r in records))
    monkeypatch.setattr("transferability.meta_store._paths.records_dir", lambda: rec_dir)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("TRANSFERABILITY_STORE", str(tmp_path / "user" / "store.sqlite"))
    return rec_dir


def test_default_store_cache_refuses_writes(tmp_path, tiny_default, records):
    with open_default_store() as st:
        assert st.stats()["n_pairs"] == 2
    path = default_store_path()
    cache_dir = os.path.dirname(path)
    assert os.listdir(cache_dir) == [os.path.basename(path)]
    for opener in (lambda: open_store(path), lambda: MetaStore(path)):
        with pytest.raises(StoreError, match="the shipped default store and read-only"):
            opener()
    extra = json.loads(json.dumps(records[0]))
    extra["name"] = "other"
    extra["source"]["fingerprint"] = "f" * 64
    extra.pop("key")
    rec_file = tmp_path / "extra.jsonl"
    rec_file.write_text(json.dumps(extra) + "\n")
    res = CliRunner().invoke(cli, ["store", "import", str(rec_file), "--store", path])
    _one_error_line(res, "the shipped default store and read-only")
    # a copy of it (another path) is read-only too: the mark is inside the file
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(open(path, "rb").read())
    with pytest.raises(StoreError, match="read-only"):
        MetaStore(copy)
    with open_default_store() as st:
        assert st.stats()["n_pairs"] == 2
    assert os.listdir(cache_dir) == [os.path.basename(path)] and _sidefiles(tmp_path) == []


# --- stats without --store: the user's store when there is one ------------------------------------
def test_stats_shows_user_store_when_it_exists(tmp_path, tiny_default, records):
    runner = CliRunner()
    res = runner.invoke(cli, ["store", "stats", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["which"] == "default" and out["path"] == default_store_path() and out["n_pairs"] == 2
    assert "the shipped default store" in runner.invoke(cli, ["store", "stats"]).stdout
    user = tmp_path / "user" / "store.sqlite"
    user.parent.mkdir()
    with open_store() as st:  # the user's store ($TRANSFERABILITY_STORE)
        import_records(st, records[:1])
    out = json.loads(runner.invoke(cli, ["store", "stats", "--json"]).stdout)
    assert out["which"] == "user" and out["path"] == str(user) and out["n_pairs"] == 1
    text = runner.invoke(cli, ["store", "stats"]).stdout
    assert text.splitlines()[0].startswith(f"store {user} (your store;")
    out = json.loads(runner.invoke(cli, ["store", "stats", "--json", "--store", default_store_path()]).stdout)
    assert out["which"] == "given" and out["n_pairs"] == 2


# --- stores that cannot be used -------------------------------------------------------------------
def test_schema_version_that_is_not_a_number(tmp_path):
    import sqlite3

    path = tmp_path / "s.sqlite"
    MetaStore(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE store_info SET value='one' WHERE key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="schema version that is not a number \\('one'\\)"):
        MetaStore(path)
    res = CliRunner().invoke(cli, ["store", "stats", "--store", str(path)])
    _one_error_line(res, "not a number")


def test_fifo_store_and_records_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.sqlite"
    os.mkfifo(fifo)
    fifo_rec = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo_rec)
    good = tmp_path / "good.sqlite"
    MetaStore(good).close()
    for args, match in [
        (["store", "stats", "--store", str(fifo)], "is not a regular file"),
        (["store", "export", "--store", str(fifo), "-o", str(tmp_path / "o.jsonl")], "is not a regular file"),
        (["store", "import", str(tmp_path / "x.jsonl"), "--store", str(fifo)], "file not found"),
        (["store", "import", str(fifo_rec), "--store", str(good)], "is not a regular file"),
        (["store", "build", "--recipe", "generated", "--limit", "1", "--methods", "no_adapt", "--quiet",
          "--store", str(fifo)], "is not a regular file"),
    ]:
        # a subprocess with a timeout: a FIFO that is opened blocks forever
        res = subprocess.run([sys.executable, "-m", "transferability", *args], capture_output=True, text=True,
                             timeout=120)
        assert res.returncode == 2, (args, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and match in lines[0], (args, res.stderr)


def test_directory_store_is_refused(tmp_path):
    with pytest.raises(StoreError, match="is a directory"):
        MetaStore(tmp_path)


@pytest.fixture
def immutable_store(tmp_path):
    path = tmp_path / "imm.sqlite"
    MetaStore(path).close()
    res = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
    if res.returncode != 0:
        pytest.skip("cannot make an immutable file here (chattr +i)")
    try:
        with open(path, "r+b"):
            pass
    except PermissionError:
        pass
    else:  # pragma: no cover - filesystem without immutable files
        subprocess.run(["chattr", "-i", str(path)])
        pytest.skip("chattr +i did not make the file unwritable")
    yield path
    subprocess.run(["chattr", "-i", str(path)], check=True)


def test_unwritable_store_fails_at_open(tmp_path, immutable_store):
    with pytest.raises(StoreError, match="imm.sqlite is not writable"):
        open_store(immutable_store)
    with MetaStore(immutable_store, readonly=True) as st:  # reading it is fine
        assert st.stats()["n_pairs"] == 0
    assert _sidefiles(tmp_path) == []


def test_store_in_an_unwritable_place_fails_at_open():
    with pytest.raises(StoreError, match="cannot create a store at /proc/"):
        open_store("/proc/transferability-test-store.sqlite")


# --- export to places that cannot be written ------------------------------------------------------
@pytest.mark.parametrize("target, match", [("/nonexistent/x.jsonl", "cannot write /nonexistent/x.jsonl"),
                                           ("{tmp}/dir.jsonl", "cannot write"),
                                           ("/nonexistent/x.parquet", "cannot write")])
def test_export_to_unwritable_place(tmp_path, records, target, match):
    (tmp_path / "dir.jsonl").mkdir()
    store = tmp_path / "s.sqlite"
    with MetaStore(store) as st:
        import_records(st, records)
        with pytest.raises(InputError, match=match):
            export_records(st, target.format(tmp=tmp_path))
    res = CliRunner().invoke(cli, ["store", "export", "--store", str(store), "-o", target.format(tmp=tmp_path)])
    _one_error_line(res, "cannot write")
    assert sorted(os.listdir(tmp_path)) == ["dir.jsonl", "s.sqlite"]  # no temporary file left


# --- inspecting and refusing leave no journal files -----------------------------------------------
def test_inspection_and_refused_writes_leave_no_side_files(tmp_path, records):
    store = tmp_path / "s.sqlite"
    with MetaStore(store) as st:
        import_records(st, records)
    assert _sidefiles(tmp_path) == []
    runner = CliRunner()
    assert runner.invoke(cli, ["store", "stats", "--store", str(store)]).exit_code == 0
    assert runner.invoke(cli, ["store", "stats", "--store", str(store), "--json"]).exit_code == 0
    assert _sidefiles(tmp_path) == []
    assert runner.invoke(cli, ["store", "export", "--store", str(store), "-o", str(tmp_path / "o.jsonl")]).exit_code == 0
    assert _sidefiles(tmp_path) == []
    with MetaStore(store, readonly=True) as ro:
        with pytest.raises(StoreError, match="read-only"):
            import_records(ro, records)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"name": "x"}\n')
    _one_error_line(runner.invoke(cli, ["store", "import", str(bad), "--store", str(store)]), "record 1 (x): lacks")
    assert _sidefiles(tmp_path) == []
    # a write into it that works also leaves none once closed
    assert runner.invoke(cli, ["store", "import", str(tmp_path / "o.jsonl"), "--store", str(store)]).exit_code == 0
    assert _sidefiles(tmp_path) == []


# --- build options are checked before any work ----------------------------------------------------
@pytest.mark.parametrize("extra, match", [
    (["--base-estimators", "rf"], "unknown base estimator(s): rf"),
    (["--base-estimators", ","], "'--base-estimators': expects a comma-separated list of base estimator names"),
    (["--kshot", "0"], "'--kshot': 0 is not in the range x>=1"),
    (["--kshot", "a"], "'--kshot': 'a' is not an integer"),
    (["--kshot", "1,-3"], "'--kshot': -3 is not in the range x>=1"),
    (["--n-jobs", "0"], "n_jobs must be a positive number of worker processes"),
    (["--n-jobs", "a"], "'--n-jobs': 'a' is not a valid integer"),
    (["--limit", "-1"], "'--limit': -1 is not in the range x>=1"),
    (["--limit", "0"], "'--limit': 0 is not in the range x>=1"),
    (["--seed", "-1"], "'--seed': -1 is not in the range 0<=x<=4294967295"),
    (["--seed", str(2**40)], "is not in the range 0<=x<=4294967295"),
    (["--methods", ","], "'--methods': expects a comma-separated list of method names"),
    (["--backend", "dask"], "needs --scheduler"),
])
def test_build_options_refused_before_any_work(tmp_path, extra, match):
    store = tmp_path / "x.sqlite"
    res = CliRunner().invoke(cli, ["store", "build", "--recipe", "generated", "--methods", "no_adapt", "--quiet",
                                   "--store", str(store), *extra])
    _one_error_line(res, match)
    assert not store.exists()


@pytest.mark.parametrize("kwargs, match", [
    ({"base_estimators": ["rf"]}, "unknown base estimator"),
    ({"base_estimators": []}, "no base estimators"),
    ({"methods": []}, "no methods"),
    ({"kshot": [0]}, "at least 1"),
    ({"kshot": ["a"]}, "must be integers"),
    ({"kshot": [True]}, "must be integers"),
    ({"seed": -1}, "seed must be an integer"),
    ({"seed": 1.5}, "seed must be an integer"),
    ({"method_params": {"tca": {"lam": 1}}, "methods": ["no_adapt"]}, "not in the build: tca"),
])
def test_build_config_errors(kwargs, match):
    with pytest.raises(InputError, match=match):
        BuildConfig.make(**kwargs)


def test_build_config_defaults_use_the_library_kshot():
    from transferability.methods._evaluate import DEFAULT_KSHOT

    cfg = BuildConfig.make(methods=["no_adapt"])
    assert cfg["kshot"] == list(DEFAULT_KSHOT) and cfg["base_estimators"] == ["1nn", "logreg"]


@pytest.mark.parametrize("kwargs, match", [({"n_jobs": 0}, "n_jobs must be"), ({"n_jobs": 1.5}, "n_jobs must be"),
                                           ({"backend": "spark"}, "unknown backend 'spark'")])
def test_build_runner_settings_refused_before_plan(tmp_path, monkeypatch, kwargs, match):
    def no_plan(*a, **k):
        raise AssertionError("planned despite bad settings")

    monkeypatch.setattr("transferability.meta.build._build.plan", no_plan)
    with MetaStore(tmp_path / "s.sqlite") as st:
        with pytest.raises(InputError, match=match):
            build(st, _gen_specs(1), BuildConfig.make(methods=["no_adapt"]), progress=False, **kwargs)


def test_insert_outcomes_needs_a_recorded_pair(tmp_path):
    with MetaStore(tmp_path / "s.sqlite") as st:
        with pytest.raises(StoreError, match="has no pair 000000000000"):
            st.insert_outcomes("0" * 64, [])


# --- plan draws the raw domains only --------------------------------------------------------------
def test_plan_runs_no_preprocessing(tmp_path, monkeypatch):
    from transferability.datasets._shifts import make_shift_pair
    from transferability.meta import materialize, pair_identity

    Xs, ys, Xt, yt = make_shift_pair("covariate_shift", "digits", 0.4, 0, n_max=80)
    np.savez(tmp_path / "s.npz", X=Xs, y=ys)
    np.savez(tmp_path / "t.npz", X=Xt, y=yt)
    specs = _gen_specs(2) + [{"name": "files", "family": "f", "preprocess": "zscore", "max_features": 8,
                              "source": {"path": "s.npz"}, "target": {"path": "t.npz", "max_rows": 60}}]
    expected = []
    for spec in specs:  # what the build records: the raw fingerprints of materialize + preprocess key
        *_, ps, pt = materialize(spec, str(tmp_path))
        key = "zscore+pca8" if "max_features" in spec else "none"
        from transferability.utils.identity import pair_key
        expected.append(pair_key(ps["fingerprint"], pt["fingerprint"], key))

    calls = []

    def forbidden(*args, **kwargs):
        calls.append(args)
        raise AssertionError("plan must not preprocess")

    monkeypatch.setattr("transferability.datasets.preprocess_pair", forbidden)
    monkeypatch.setattr("transferability.meta.build._build._pooled_pca", forbidden)
    assert [pair_identity(s, str(tmp_path)) for s in specs] == expected
    with MetaStore(tmp_path / "p.sqlite") as st:
        work, failed = plan(st, specs, BuildConfig.make(methods=["no_adapt"], kshot=()), str(tmp_path))
    assert failed == [] and [s["name"] for s, _ in work] == [s["name"] for s in specs] and calls == []
    monkeypatch.undo()
    with MetaStore(tmp_path / "p.sqlite") as st:  # the build keys pairs as plan does: a rerun has no work
        build(st, specs, BuildConfig.make(methods=["no_adapt"], kshot=()), data_dir=str(tmp_path), progress=False)
        again = build(st, specs, BuildConfig.make(methods=["no_adapt"], kshot=()), data_dir=str(tmp_path),
                      progress=False)
        assert again["pairs_with_work"] == 0
        assert sorted(r["key"] for r in iter_records(st)) == sorted(expected)


# --- real-dataset sides, task and base ------------------------------------------------------------
def test_dataset_side_task_and_base(tmp_path, monkeypatch):
    import transferability.datasets as datasets
    from transferability.datasets import Domain
    from transferability.datasets._shifts import make_shift_pair
    from transferability.meta.build import _build, load_spec_file

    Xs, ys, Xt, yt = make_shift_pair("label_shift", "wine", 0.5, 0, n_max=60)
    seen = []

    def fake_load_real_domain(base, domain, *, data_dir=None):
        seen.append((base, domain, data_dir))
        X, y = (Xs, ys) if domain == "a" else (Xt, yt)
        return Domain(X=X, y=y)

    monkeypatch.setattr(datasets, "load_real_domain", fake_load_real_domain, raising=False)
    _build._load_real.cache_clear()
    spec_file = tmp_path / "pairs.json"
    spec_file.write_text(json.dumps([{"name": "fake a->b", "family": "fake", "preprocess": "zscore",
                                      "task": "fake:a->b", "base": "fake",
                                      "source": {"dataset": "fake", "domain": "a"},
                                      "target": {"dataset": "fake", "domain": "b", "max_rows": 40, "seed": 3}}]))
    specs = load_spec_file(spec_file)
    with MetaStore(tmp_path / "s.sqlite") as st:
        summary = build(st, specs, BuildConfig.make(methods=["no_adapt"], kshot=(1,)), data_dir="/data",
                        progress=False)
        assert summary["pairs_failed"] == [] and summary["outcomes_added"] == 2
        (rec,) = iter_records(st)
    _build._load_real.cache_clear()
    assert rec["task"] == "fake:a->b" and rec["base"] == "fake"
    assert rec["source"]["provenance"] == {"dataset": "fake", "domain": "a"}
    assert rec["target"]["provenance"] == {"dataset": "fake", "domain": "b", "max_rows": 40, "seed": 3}
    assert rec["target"]["n_samples"] == 40 and {s[:2] for s in seen} == {("fake", "a"), ("fake", "b")}
    assert {s[2] for s in seen} == {"/data"}
    from transferability.utils.identity import fingerprint

    assert rec["source"]["fingerprint"] == fingerprint(Xs, ys)  # the raw domain, before zscore


@pytest.mark.parametrize("spec, match", [
    ({"name": "x", "family": "f", "source": {"dataset": "b"}, "target": {"path": "t.npz"}},
     "source needs a path, or a dataset and a domain"),
    ({"name": "x", "family": "f", "target": {"path": "t.npz"}}, "needs a source"),
])
def test_bad_sides_fail_the_pair_not_the_build(tmp_path, spec, match):
    with MetaStore(tmp_path / "s.sqlite") as st:
        summary = build(st, [spec], BuildConfig.make(methods=["no_adapt"], kshot=()), progress=False)
    assert summary["pairs_with_work"] == 0 and match in summary["pairs_failed"][0]["error"]


@pytest.mark.parametrize("field, value, match", [("task", 3, "'task' must be a non-empty string"),
                                                 ("base", "", "'base' must be a non-empty string"),
                                                 ("name", 5, "has no 'name'")])
def test_spec_file_checks_task_and_base(tmp_path, field, value, match):
    from transferability.meta import load_spec_file

    spec = {"name": "x", "family": "f", "source": {"path": "s.npz"}, "target": {"path": "t.npz"}, field: value}
    path = tmp_path / "p.json"
    path.write_text(json.dumps([spec]))
    with pytest.raises(InputError, match=match):
        load_spec_file(path)


def test_store_without_task_columns_is_read_and_upgraded(tmp_path, records):
    """A store made before pairs.task/base existed: read as it is, given the columns when opened to write."""
    import sqlite3

    path = tmp_path / "old.sqlite"
    with MetaStore(path) as st:
        import_records(st, records[:1])
    con = sqlite3.connect(path)
    con.execute("ALTER TABLE pairs DROP COLUMN task")
    con.execute("ALTER TABLE pairs DROP COLUMN base")
    con.commit()
    con.close()
    with MetaStore(path, readonly=True) as st:
        (rec,) = iter_records(st)
        assert "task" not in rec
    rec2 = json.loads(json.dumps(records[1]))
    rec2.update(task="t", base="b")
    with MetaStore(path) as st:
        import_records(st, [rec2])
        got = {r["name"]: r.get("task") for r in iter_records(st)}
    assert got == {records[0]["name"]: None, records[1]["name"]: "t"}


# --- a killed build leaves no workers behind ------------------------------------------------------
ORPHAN_SCRIPT = r"""
import json, sys
from transferability.meta.build import BuildConfig, build
from transferability.meta_store import MetaStore
specs = json.loads(sys.argv[2])
cfg = BuildConfig.make(methods=["jda"], kshot=(), method_params={"jda": {"n_iter": 10**7, "n_components": 4}})
with MetaStore(sys.argv[1]) as st:
    build(st, specs, cfg, n_jobs=2, progress=False)
"""


def _proc_stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return {"state": fields[0], "ppid": int(fields[1]),
            "cpu_s": (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")}


def _children(pid):
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _proc_stat(int(name))
            if st is not None and st["ppid"] == pid:
                out.append(int(name))
    return out


def _alive(pid):
    st = _proc_stat(pid)
    return st is not None and st["state"] != "Z"


def _is_loky_worker(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return b"LokyProcess" in fh.read()
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigkilled_build_leaves_no_workers(tmp_path):
    specs = _gen_specs(4, family="label_shift", base="digits", n_max=200)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-c", ORPHAN_SCRIPT, str(tmp_path / "s.sqlite"), json.dumps(specs)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    workers = []
    try:
        deadline = time.time() + 180
        while time.time() < deadline:  # until both workers are computing a pair (endless JDA iterations)
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            workers = [p for p in _children(proc.pid) if _is_loky_worker(p)]
            if len(workers) == 2 and all((_proc_stat(p) or {"cpu_s": 0})["cpu_s"] > 5 for p in workers):
                break
            time.sleep(0.5)
        assert len(workers) == 2, "the build never started its two workers"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.time() + 15
        while time.time() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.25)
        assert not any(_alive(p) for p in workers), "workers outlived the killed build"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for p in workers:  # never leave them computing, whatever the outcome
            if _alive(p):
                os.kill(p, signal.SIGKILL)


def test_dataset_classes_do_not_depend_on_import_order(tmp_path, records):
    """A domain that is one pair's target (labels not kept) and another pair's source gets its
    classes whichever pair is recorded first."""
    a = json.loads(json.dumps(records[0]))
    b = json.loads(json.dumps(records[1]))
    b["source"] = dict(a["target"], classes=["0", "1", "2"], n_classes=3)  # a's target is b's source
    b.pop("key")
    a["target"].update(classes=None, n_classes=None)
    got = []
    for order in ((a, b), (b, a)):
        with MetaStore(tmp_path / f"s{len(got)}.sqlite") as st:
            import_records(st, order)
            got.append({r["name"]: (r["source"]["classes"], r["target"]["classes"]) for r in iter_records(st)})
    assert got[0] == got[1]
    assert got[0][a["name"]][1] == ["0", "1", "2"] == got[0][b["name"]][0]


def test_shipped_records_validate_and_round_trip(tmp_path, monkeypatch):
    """Every shipped record passes import validation (its key included), and the default store
    made from them exports them back unchanged (runtimes and timestamps aside)."""
    from transferability.meta_store import comparable, records_dir

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    files = sorted(records_dir().glob("*.jsonl"))
    if not files:
        pytest.skip("no shipped records in this installation")
    shipped = [json.dumps(comparable(r), sort_keys=True) for f in files for r in read_records(f)]
    with open_default_store() as st:
        again = [json.dumps(comparable(r), sort_keys=True) for r in iter_records(st)]
    assert sorted(again) == sorted(shipped)


def test_users_store_directory_is_made_on_first_use(tmp_path, monkeypatch):
    monkeypatch.delenv("TRANSFERABILITY_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    with open_store() as st:
        assert st.path == str(tmp_path / "xdg" / "transferability" / "store.sqlite")
    assert os.path.isfile(tmp_path / "xdg" / "transferability" / "store.sqlite")
    with pytest.raises(StoreError, match="no such directory"):  # a --store in a missing directory is refused
        open_store(tmp_path / "missing" / "s.sqlite")
