"""``store build --refresh-features``: pairs of an old feature schema get their meta-features
recomputed in place, their outcomes and k-shot baselines kept; and the one regular-file check
(:func:`transferability.utils.io.check_regular_file`) the store and the loaders share."""

import json
import os
import socket

import pytest
from click.testing import CliRunner

from transferability.cli.main import cli
from transferability.meta import FEATURE_SCHEMA_VERSION
from transferability.meta.build import BuildConfig, build
from transferability.meta_store import MetaStore, StoreError
from transferability.utils.io import check_regular_file
from transferability.utils.validation import InputError

OLD = FEATURE_SCHEMA_VERSION - 1
CFG = dict(methods=["no_adapt"], base_estimators=["1nn"], kshot=(1,))


def _specs(n=2):
    return [{"name": f"covariate_shift/wine/seed-{i}", "family": "covariate_shift", "preprocess": "none",
             "generator": {"kind": "covariate_shift", "base": "wine", "level": 0.6, "seed": i, "n_max": 60}}
            for i in range(n)]


def _features(st):
    """pair key -> (feature schema, meta-features)."""
    return {r[1]: (r[7], json.loads(r[8])) for r in st.pair_rows()}


def _outcome_rows(st):
    return st.query("SELECT id, pair_id, method, params, base_estimator, seed, target_accuracy, runtime_s, status,"
                    " created_at FROM outcomes ORDER BY id")


def _kshot_rows(st):
    return st.query("SELECT id, pair_id, base_estimator, k, seed, n_draws, accuracy FROM kshot ORDER BY id")


def _make_old(st, where="1=1"):
    """As if recorded by an older release: an old schema number and other meta-features."""
    with st.transaction() as con:
        con.execute(f"UPDATE pairs SET feature_schema=?, meta_features=? WHERE {where}", (OLD, '{"old": 1.0}'))


def _user_pair(st):
    """A pair no spec produces (as ``evaluate --record`` makes), of the old schema."""
    st.record_pair(name="mine.npz->theirs.npz", family="user", preprocess="none",
                   source={"fingerprint": "s" * 64, "shape": (3, 2), "y": [0, 1, 1], "provenance": {}},
                   target={"fingerprint": "t" * 64, "shape": (2, 2), "provenance": {}},
                   meta_features={"old": 2.0}, feature_schema=OLD,
                   outcomes=[{"method": "no_adapt", "params": {}, "base_estimator": "1nn", "seed": 0,
                              "target_accuracy": 0.5, "runtime_s": 0.1, "status": "ok", "error": None}])


@pytest.fixture
def store(tmp_path):
    with MetaStore(tmp_path / "s.sqlite") as st:
        build(st, _specs(), BuildConfig.make(**CFG), progress=False)
        yield st


def test_refresh_recomputes_old_features_and_keeps_outcomes(store):
    fresh = _features(store)
    assert all(schema == FEATURE_SCHEMA_VERSION and "old" not in f for schema, f in fresh.values())
    outcomes, kshot = _outcome_rows(store), _kshot_rows(store)
    assert len(outcomes) == 2 and len(kshot) == 2
    _make_old(store)
    _user_pair(store)
    user_key = next(k for k, (_, f) in _features(store).items() if f == {"old": 2.0})

    # without the flag: nothing is recomputed; the build says what is of another schema
    s = build(store, _specs(), BuildConfig.make(**CFG), progress=False)
    assert s["pairs_with_work"] == 0 and s["pairs_refreshed"] == 0 and s["refresh_features"] is False
    assert s["pairs_other_feature_schema"] == 3
    assert s["pairs_not_refreshed"] == 1 and s["pairs_not_refreshed_names"] == ["mine.npz->theirs.npz"]
    assert all(schema == OLD for schema, _ in _features(store).values())

    s = build(store, _specs(), BuildConfig.make(**CFG), progress=False, refresh_features=True)
    assert s["pairs_with_work"] == 2 and s["pairs_refreshed"] == 2 and s["outcomes_added"] == 0
    assert s["pairs_failed"] == [] and s["refresh_features"] is True
    assert s["pairs_not_refreshed"] == 1 and s["pairs_other_feature_schema"] == 1  # the user's pair
    after = _features(store)
    for key, (schema, feats) in fresh.items():
        assert after[key] == (FEATURE_SCHEMA_VERSION, feats)  # recomputed from the spec: the same numbers
    assert after[user_key] == (OLD, {"old": 2.0})  # no spec makes it: untouched
    new_outcomes = _outcome_rows(store)
    assert new_outcomes[:2] == outcomes and len(new_outcomes) == 3  # ids, accuracies, times: as they were
    assert _kshot_rows(store) == kshot

    again = build(store, _specs(), BuildConfig.make(**CFG), progress=False, refresh_features=True)
    assert again["pairs_with_work"] == 0 and again["pairs_refreshed"] == 0 and again["pairs_not_refreshed"] == 1


def test_refresh_redoes_only_what_is_left(store, monkeypatch):
    fresh = _features(store)
    _make_old(store)
    calls = []
    real = MetaStore.update_meta_features

    def killed_after_one(self, *args, **kwargs):
        if calls:
            raise KeyboardInterrupt  # the build dies between two refreshes
        calls.append(args[0])
        return real(self, *args, **kwargs)

    monkeypatch.setattr(MetaStore, "update_meta_features", killed_after_one)
    with pytest.raises(KeyboardInterrupt):
        build(store, _specs(), BuildConfig.make(**CFG), progress=False, refresh_features=True)
    monkeypatch.setattr(MetaStore, "update_meta_features", real)
    schemas = {k: v[0] for k, v in _features(store).items()}
    assert schemas[calls[0]] == FEATURE_SCHEMA_VERSION and sorted(schemas.values()) == [OLD, FEATURE_SCHEMA_VERSION]
    s = build(store, _specs(), BuildConfig.make(**CFG), progress=False, refresh_features=True)
    assert s["pairs_with_work"] == 1 and s["pairs_refreshed"] == 1
    assert _features(store) == {k: (FEATURE_SCHEMA_VERSION, f) for k, (_, f) in fresh.items()}


def test_refresh_with_missing_outcomes_in_worker_processes(store):
    """A refresh and new outcomes for the same pair, through local worker processes."""
    fresh = _features(store)
    outcomes = _outcome_rows(store)
    _make_old(store)
    cfg = BuildConfig.make(**{**CFG, "methods": ["no_adapt", "coral"]})
    s = build(store, _specs(), cfg, n_jobs=2, progress=False, refresh_features=True)
    assert s["pairs_with_work"] == 2 and s["pairs_refreshed"] == 2 and s["outcomes_added"] == 2
    assert _features(store) == {k: (FEATURE_SCHEMA_VERSION, f) for k, (_, f) in fresh.items()}
    rows = _outcome_rows(store)
    assert rows[:2] == outcomes and sorted(r[2] for r in rows[2:]) == ["coral", "coral"]


def test_refresh_on_a_dask_cluster(store):
    distributed = pytest.importorskip("distributed")
    fresh = _features(store)
    _make_old(store)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        s = build(store, _specs(), BuildConfig.make(**CFG), backend="dask", scheduler=lc.scheduler_address,
                  progress=False, refresh_features=True)
    assert s["backend"] == "dask" and s["pairs_refreshed"] == 2
    assert _features(store) == {k: (FEATURE_SCHEMA_VERSION, f) for k, (_, f) in fresh.items()}


def test_update_meta_features_errors(store, tmp_path):
    key = next(iter(_features(store)))
    with pytest.raises(StoreError, match="has no pair 0{12}... to update the meta-features of"):
        store.update_meta_features("0" * 64, {"a": 1.0}, FEATURE_SCHEMA_VERSION)
    store.update_meta_features(key, {"a": 1.0}, 7)
    assert _features(store)[key] == (7, {"a": 1.0})
    with MetaStore(store.path, readonly=True) as ro:
        with pytest.raises(StoreError, match="opened read-only"):
            ro.update_meta_features(key, {"a": 2.0}, FEATURE_SCHEMA_VERSION)
    assert _features(store)[key] == (7, {"a": 1.0})


def test_cli_refresh_features(tmp_path):
    spec = tmp_path / "pairs.json"
    spec.write_text(json.dumps(_specs()))
    db = tmp_path / "cli.sqlite"
    args = ["store", "build", "--spec", str(spec), "--store", str(db), "--methods", "no_adapt",
            "--base-estimators", "1nn", "--kshot", "1", "--quiet"]
    runner = CliRunner()
    assert runner.invoke(cli, args).exit_code == 0
    with MetaStore(db) as st:
        _make_old(st)
        _user_pair(st)
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert (f"note: 3 pairs in the store keep meta-features of another feature schema than this build's "
            f"({FEATURE_SCHEMA_VERSION}); --refresh-features recomputes the 2 of them this list produces") in res.stderr
    assert "note: 1 pairs of another feature schema come from no pair of this list" in res.stderr
    assert "mine.npz->theirs.npz" in res.stderr
    res = runner.invoke(cli, args + ["--refresh-features", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["pairs_refreshed"] == 2 and out["pairs_not_refreshed"] == 1 and out["pairs_other_feature_schema"] == 1
    assert out["pairs_not_refreshed_names"] == ["mine.npz->theirs.npz"]
    res = runner.invoke(cli, args + ["--refresh-features"])
    assert res.exit_code == 0 and "0 of 2 pairs had work; 0 outcomes added; meta-features of 0 pairs" in res.stdout
    assert "--refresh-features recomputes" not in res.stderr


# -- the shared regular-file check ---------------------------------------------------------------
def test_check_regular_file(tmp_path):
    f = tmp_path / "x.npz"
    f.write_bytes(b"")
    assert check_regular_file(f) is True
    assert check_regular_file(tmp_path / "none", missing_ok=True) is False
    with pytest.raises(InputError, match=r"^source: data file not found: .*none$"):
        check_regular_file(tmp_path / "none", name="source")
    with pytest.raises(StoreError, match=r"is a directory, not a meta store$"):
        check_regular_file(tmp_path, "meta store", error=StoreError, missing_ok=True)
    with pytest.raises(InputError, match=r"is a directory, not an input file$"):
        check_regular_file(tmp_path, "input file")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(StoreError, match=r"pipe is not a regular file \(a FIFO\)$"):
        check_regular_file(fifo, "meta store", error=StoreError, missing_ok=True)
    sock_path = str(tmp_path / "sock")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(sock_path)
        with pytest.raises(InputError, match=r"sock is not a regular file \(a socket\)$"):
            check_regular_file(sock_path, "record file")
    finally:
        sock.close()
    with pytest.raises(InputError, match=r"null is not a regular file \(a character device\)$"):
        check_regular_file("/dev/null")
    os.symlink(f, tmp_path / "link")
    assert check_regular_file(tmp_path / "link") is True  # a link to a regular file is followed


# -- the raw domains reach the meta-features (shared-space divergences) ---------------------------
def _files(tmp_path):
    import numpy as np

    rng = np.random.RandomState(0)
    y = np.arange(60) % 2
    Xs = rng.randn(60, 4) + y[:, None]
    Xt = 3.0 * rng.randn(50, 4) + 2.0 + y[:50, None]  # a mean and scale shift that per-domain z-scoring hides
    np.savez(tmp_path / "s.npz", X=Xs, y=y)
    np.savez(tmp_path / "t.npz", X=Xt, y=y[:50])
    return Xs, y, Xt, y[:50]


def test_build_and_evaluate_record_compute_features_from_the_raw_domains(tmp_path):
    from transferability.datasets import preprocess_pair
    from transferability.meta import compute_meta_features

    Xs, ys, Xt, _ = _files(tmp_path)
    spec = [{"name": "s->t", "family": "mine", "preprocess": "zscore", "source": {"path": str(tmp_path / "s.npz")},
             "target": {"path": str(tmp_path / "t.npz")}}]
    with MetaStore(tmp_path / "b.sqlite") as st:
        build(st, spec, BuildConfig.make(**CFG), progress=False)
        (built,) = _features(st).items()
    Zs, Zt = preprocess_pair(Xs, Xt, "zscore")
    expected = compute_meta_features(Zs, ys, Zt, random_state=0, X_source_raw=Xs, X_target_raw=Xt)
    blind = compute_meta_features(Zs, ys, Zt, random_state=0)
    assert built[1] == (FEATURE_SCHEMA_VERSION, expected)
    assert expected["shared_mean_abs_smd"] > 0.5 and blind["shared_mean_abs_smd"] < 1e-6  # what raw adds

    db = tmp_path / "e.sqlite"
    res = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "s.npz"), str(tmp_path / "t.npz"), "--methods",
                                   "no_adapt", "--preprocess", "zscore", "--kshot", "1", "--record", "--store",
                                   str(db), "--quiet", "--json"])
    assert res.exit_code == 0, res.output
    with MetaStore(db) as st:
        assert _features(st) == dict([built])  # same key, same numbers as the build
