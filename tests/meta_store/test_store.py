import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

from transferability.cli.main import cli
from transferability.meta import FEATURE_SCHEMA_VERSION
from transferability.meta.build import BuildConfig, build
from transferability.meta_store import (
    SCHEMA_VERSION, MetaStore, StoreError, comparable, export_records, import_records, iter_records, read_records,
)
from transferability.methods import METHODS, NoAdapt
from transferability.utils.validation import InputError

FAST = ["no_adapt", "coral"]


def _gen_specs(n, family="covariate_shift", base="wine"):
    return [{"name": f"{family}/{base}/seed-{i}", "family": family, "preprocess": "none",
             "generator": {"kind": family, "base": base, "level": 0.6, "seed": i, "n_max": 80}}
            for i in range(n)]


def _sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture
def small_store(tmp_path):
    st = MetaStore(tmp_path / "s.sqlite")
    build(st, _gen_specs(3), BuildConfig.make(methods=FAST, kshot=(1, 3)), progress=False)
    yield st
    st.close()


def test_build_records_everything_once(small_store):
    s = small_store.stats()
    assert s["n_pairs"] == 3 and s["n_outcomes"] == 3 * 2 * 2 and s["n_kshot"] == 3 * 2 * 2
    assert s["methods"] == sorted(FAST) and s["base_estimators"] == ["1nn", "logreg"]
    assert s["schema_version"] == SCHEMA_VERSION and s["n_failed"] == 0
    again = build(small_store, _gen_specs(3), BuildConfig.make(methods=FAST, kshot=(1, 3)), progress=False)
    assert again["pairs_with_work"] == 0 and small_store.stats()["n_outcomes"] == 12
    # growing the grid only runs the new part
    more = build(small_store, _gen_specs(3), BuildConfig.make(methods=FAST + ["sa"], kshot=(1, 3)), progress=False)
    assert more["pairs_with_work"] == 3 and more["outcomes_added"] == 3 * 2
    for rec in iter_records(small_store):
        for o in rec["outcomes"]:
            assert 0.0 <= o["target_accuracy"] <= 1.0 and o["status"] == "ok"
        assert set(rec["meta_features"]) and rec["feature_schema"] == FEATURE_SCHEMA_VERSION


@pytest.mark.parametrize("ext", [".jsonl", ".parquet"])
def test_export_import_roundtrip_and_idempotence(small_store, tmp_path, ext):
    out = tmp_path / f"records{ext}"
    assert export_records(small_store, out) == 3
    other = MetaStore(tmp_path / f"other{ext}.sqlite")
    assert import_records(other, read_records(out)) == {"pairs_added": 3, "outcomes_added": 12}
    assert import_records(other, read_records(out)) == {"pairs_added": 0, "outcomes_added": 0}
    a = [comparable(r) for r in iter_records(small_store)]
    b = [comparable(r) for r in iter_records(other)]
    assert a == b
    other.close()


def test_failed_method_is_stored_with_reason_and_build_goes_on(tmp_path, monkeypatch):
    class Exploding(NoAdapt):
        def _fit(self, Xs, ys, Xt, random_state):
            raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setitem(METHODS, "exploding", Exploding)
    st = MetaStore(tmp_path / "f.sqlite")
    summary = build(st, _gen_specs(2), BuildConfig.make(methods=["exploding", "no_adapt"], kshot=()), progress=False)
    assert summary["pairs_failed"] == []
    rows = st.query("SELECT method, status, error, target_accuracy FROM outcomes ORDER BY method")
    failed = [r for r in rows if r[0] == "exploding"]
    assert len(failed) == 4 and all(r[1] == "failed" and "Singular matrix" in r[2] and r[3] is None for r in failed)
    assert all(r[1] == "ok" for r in rows if r[0] == "no_adapt")
    assert st.stats()["n_failed"] == 4
    st.close()


def test_bad_pair_in_spec_is_reported_not_fatal(tmp_path):
    st = MetaStore(tmp_path / "b.sqlite")
    specs = _gen_specs(1) + [{"name": "bad", "family": "x", "preprocess": "none",
                              "source": {"path": str(tmp_path / "missing.npz")},
                              "target": {"path": str(tmp_path / "missing.npz")}}]
    summary = build(st, specs, BuildConfig.make(methods=["no_adapt"], kshot=()), progress=False)
    assert summary["pairs_with_work"] == 1 and st.stats()["n_pairs"] == 1
    assert len(summary["pairs_failed"]) == 1 and "file not found" in summary["pairs_failed"][0]["error"]
    st.close()


# --- refusing bad stores, never modifying them ------------------------------------------------
def _make_not_a_store(path):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()


def _make_other_version(path):
    MetaStore(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE store_info SET value='99' WHERE key='schema_version'")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def _make_corrupt(path):
    MetaStore(path).close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = bytearray(open(path, "rb").read())
    data[100:4096] = os.urandom(4096 - 100)  # garbage over the schema page
    open(path, "wb").write(bytes(data))


@pytest.mark.parametrize("maker, match", [
    (lambda p: open(p, "wb").write(b"hello, not a database" * 10), "not a meta store"),
    (_make_not_a_store, "not a meta store"),
    (_make_other_version, "schema version 99"),
    (_make_corrupt, "corrupt|not a meta store"),
])
def test_bad_store_files_are_refused_and_untouched(tmp_path, maker, match):
    path = str(tmp_path / "bad.sqlite")
    maker(path)
    before = _sha(path)
    listing = sorted(os.listdir(tmp_path))
    with pytest.raises(StoreError, match=match):
        MetaStore(path)
    assert _sha(path) == before and sorted(os.listdir(tmp_path)) == listing
    res = CliRunner().invoke(cli, ["store", "stats", "--store", path])
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1
    res = CliRunner().invoke(cli, ["store", "build", "--recipe", "generated", "--limit", "1", "--store", path,
                                   "--methods", "no_adapt", "--quiet"])
    assert res.exit_code == 2
    assert _sha(path) == before


def test_read_only_store_refuses_writes(small_store):
    ro = MetaStore(small_store.path, readonly=True)
    with pytest.raises(StoreError, match="read-only"):
        import_records(ro, [])
    ro.close()


# --- concurrency ------------------------------------------------------------------------------
def _pair_files(tmp_path, i):
    from transferability.datasets._shifts import make_shift_pair

    Xs, ys, Xt, yt = make_shift_pair("concept_shift", "wine", 0.3 + 0.1 * i, i, n_max=60)
    s, t = tmp_path / f"s{i}.npz", tmp_path / f"t{i}.npz"
    np.savez(s, X=Xs, y=ys)
    np.savez(t, X=Xt, y=yt)
    return str(s), str(t)


def test_four_concurrent_recording_processes_lose_nothing(tmp_path):
    store = str(tmp_path / "shared.sqlite")
    procs = []
    for i in range(4):
        s, t = _pair_files(tmp_path, i)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "transferability", "evaluate", s, t, "--methods", "no_adapt,coral,sa",
             "--record", "--store", store, "--quiet", "--json", "--kshot", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-500:] for o in outs]
    with MetaStore(store, create=False) as st:
        s = st.stats()
        assert s["n_pairs"] == 4 and s["n_outcomes"] == 4 * 3 and s["n_kshot"] == 4
        names = sorted(r[0] for r in st.query("SELECT name FROM pairs"))
    assert names == sorted(f"s{i}.npz->t{i}.npz" for i in range(4))


BUILD_SCRIPT = r"""
import json, sys
from transferability.meta.build import BuildConfig, build
from transferability.meta_store import MetaStore
specs = json.loads(sys.argv[2])
with MetaStore(sys.argv[1]) as st:
    s = build(st, specs, BuildConfig.make(methods=["no_adapt", "sa", "coral"], kshot=(1,)), progress=False)
print(json.dumps(s))
"""


def test_build_killed_with_sigkill_resumes_missing_work_only(tmp_path):
    store = str(tmp_path / "k.sqlite")
    specs = _gen_specs(12, family="label_shift", base="digits")
    for s in specs:
        s["generator"]["n_max"] = 200
    proc = subprocess.Popen([sys.executable, "-c", BUILD_SCRIPT, store, json.dumps(specs)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    recorded = 0
    while time.time() < deadline:
        time.sleep(0.2)
        if os.path.exists(store):
            try:
                with MetaStore(store, readonly=True) as st:
                    recorded = st.stats()["n_pairs"]
            except (StoreError, sqlite3.Error):
                continue
            if recorded >= 2:
                break
        assert proc.poll() is None, proc.stderr.read()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with MetaStore(store) as st:
        before = st.stats()
    assert 2 <= before["n_pairs"] < 12, before["n_pairs"]
    assert before["n_outcomes"] == before["n_pairs"] * 3 * 2  # a pair is recorded whole or not at all
    out = subprocess.run([sys.executable, "-c", BUILD_SCRIPT, store, json.dumps(specs)],
                         capture_output=True, text=True, check=True)
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["pairs_with_work"] == 12 - before["n_pairs"]
    with MetaStore(store) as st:
        after = st.stats()
    assert after["n_pairs"] == 12 and after["n_outcomes"] == 12 * 3 * 2 and after["n_kshot"] == 12 * 2


def test_pair_key_does_not_depend_on_thread_count(tmp_path, shared_data):
    """The key is taken before preprocessing: a PCA-reduced pair keys the same with 1 or 2 BLAS
    threads, so a resumed build recognises it (it did not when the key hashed PCA output)."""
    from threadpoolctl import threadpool_limits

    from transferability.meta import pair_identity

    spec = {"name": "d", "family": "f", "preprocess": "sum-zscore", "max_features": 64,
            "source": {"path": "office_caltech10_decaf6/dslr_decaf.mat"},
            "target": {"path": "office_caltech10_decaf6/webcam_decaf.mat"}}
    keys = set()
    for n in (1, 2):
        with threadpool_limits(limits=n):
            keys.add(pair_identity(spec, str(shared_data)))
    assert len(keys) == 1
    with MetaStore(tmp_path / "p.sqlite") as st:
        build(st, [spec], BuildConfig.make(methods=["no_adapt"], kshot=()), data_dir=str(shared_data),
              progress=False)
        again = build(st, [spec], BuildConfig.make(methods=["no_adapt"], kshot=()), data_dir=str(shared_data),
                      progress=False)
        assert again["pairs_with_work"] == 0
        assert st.query("SELECT preprocess FROM pairs")[0][0] == "sum-zscore+pca64"


def test_same_seed_same_records(tmp_path):
    cfg = BuildConfig.make(methods=FAST + ["sa"], kshot=(1, 3))
    recs = []
    for name in ("a", "b"):
        with MetaStore(tmp_path / f"{name}.sqlite") as st:
            build(st, _gen_specs(2), cfg, progress=False)
            recs.append([comparable(r) for r in iter_records(st)])
    assert recs[0] == recs[1]


def test_local_parallel_equals_serial(tmp_path):
    cfg = BuildConfig.make(methods=FAST, kshot=(1,))
    recs = []
    for n_jobs in (1, 2):
        with MetaStore(tmp_path / f"j{n_jobs}.sqlite") as st:
            build(st, _gen_specs(4), cfg, n_jobs=n_jobs, progress=False)
            recs.append([comparable(r) for r in iter_records(st)])
    assert recs[0] == recs[1]


def test_dask_local_cluster_gives_the_local_records(tmp_path):
    distributed = pytest.importorskip("distributed")
    cfg = BuildConfig.make(methods=FAST, kshot=(1,))
    with MetaStore(tmp_path / "local.sqlite") as st:
        build(st, _gen_specs(4), cfg, progress=False)
        local = [comparable(r) for r in iter_records(st)]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        with MetaStore(tmp_path / "dask.sqlite") as st:
            summary = build(st, _gen_specs(4), cfg, backend="dask", scheduler=lc.scheduler_address, progress=False)
            dask_recs = [comparable(r) for r in iter_records(st)]
    assert summary["backend"] == "dask" and summary["pairs_with_work"] == 4
    assert dask_recs == local


def test_dask_backend_errors(tmp_path):
    with MetaStore(tmp_path / "x.sqlite") as st:
        with pytest.raises(InputError, match="needs --scheduler"):
            build(st, _gen_specs(1), BuildConfig.make(methods=["no_adapt"]), backend="dask", progress=False)
        pytest.importorskip("distributed")
        with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
            build(st, _gen_specs(1), BuildConfig.make(methods=["no_adapt"]), backend="dask",
                  scheduler="tcp://127.0.0.1:9", progress=False)


def test_default_recipe_pairs_are_all_distinct():
    """Every generated pair of the default recipe differs from every other (a generator that
    ignored its level would make pairs collide on their content key and vanish from the store)."""
    from transferability.meta import default_recipe, pair_identity

    import os

    from transferability.datasets._real import resolve_data_dir

    specs = [s for s in default_recipe() if "generator" in s]  # generated (320) and semi-real (120)
    assert len(specs) == 440
    if not os.path.isdir(resolve_data_dir(must_exist=False)):  # the semi-real pools read the benchmark data
        specs = [s for s in specs if "dataset" not in s["generator"]]
    keys = {pair_identity(spec) for spec in specs}
    assert len(keys) == len(specs)
    names = [s["name"] for s in default_recipe()]
    assert len(set(names)) == len(names)
