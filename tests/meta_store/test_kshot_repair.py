"""k-shot values for a k the target cannot support (a class with <= k samples): the store
replaces them by NULL with the reason when the pair is recorded again (``evaluate --record``)
or when ``store build --refresh`` draws the list's targets again."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from transferability.cli.main import cli
from transferability.meta.build import BuildConfig, build
from transferability.meta.build._repair import repair_kshot
from transferability.meta_store import MetaStore, StoreError

# wine, 60 rows: every target class has fewer than 50 samples, more than 1
SPECS = [{"name": "covariate_shift/wine/seed-0", "family": "covariate_shift", "preprocess": "none",
          "generator": {"kind": "covariate_shift", "base": "wine", "level": 0.6, "seed": 0, "n_max": 60}}]
CFG = dict(methods=["no_adapt"], base_estimators=["1nn"], kshot=(1, 50))


def _kshot(st):
    return {k: (acc, why) for k, acc, why in st.query("SELECT k, accuracy, reason FROM kshot ORDER BY k")}


def _spoil(st, k=50, value=0.42):
    """As ``evaluate --record`` wrote it before it reported null: a value, no reason."""
    with st.transaction() as con:
        con.execute("UPDATE kshot SET accuracy=?, reason=NULL WHERE k=?", (value, k))


@pytest.fixture
def store(tmp_path):
    with MetaStore(tmp_path / "s.sqlite") as st:
        build(st, SPECS, BuildConfig.make(**CFG), progress=False)
        yield st


def test_build_records_null_for_the_unsupported_k(store):
    rows = _kshot(store)
    assert rows[1][0] is not None and rows[1][1] is None
    assert rows[50][0] is None and "samples <= k = 50" in rows[50][1]


def test_repair_nulls_only_the_unsupported_values(store):
    good = _kshot(store)[1]
    _spoil(store)
    assert _kshot(store)[50] == (0.42, None)
    out = repair_kshot(store, SPECS)
    assert out == {"kshot_repaired": 1, "pairs_repaired": 1, "pairs_failed": []}
    rows = _kshot(store)
    assert rows[50][0] is None and "samples <= k = 50" in rows[50][1]
    assert rows[1] == good  # a supported value is kept
    assert repair_kshot(store, SPECS)["kshot_repaired"] == 0  # nothing left to repair


def test_repair_lists_a_spec_it_cannot_draw(store):
    bad = [{"name": "nope", "family": "x", "source": {"path": "/no/such.npz"}, "target": {"path": "/no/t.npz"}}]
    out = repair_kshot(store, bad)
    assert out["kshot_repaired"] == 0 and out["pairs_failed"][0]["name"] == "nope"


def test_recording_the_pair_again_repairs_it(store):
    _spoil(store)
    key = store.pair_rows()[0][1]
    n = store.repair_kshot(key, [{"base_estimator": "1nn", "k": 50, "seed": 0, "reason": "target class 1 has 20 "
                                  "samples <= k = 50"}])
    assert n == 1 and _kshot(store)[50] == (None, "target class 1 has 20 samples <= k = 50")
    with pytest.raises(StoreError, match="no pair"):
        store.repair_kshot("f" * 64, [{"base_estimator": "1nn", "k": 50, "seed": 0, "reason": "r"}])


def test_evaluate_record_writes_null_and_repairs_an_old_value(tmp_path):
    rng = np.random.RandomState(0)
    s, t = tmp_path / "s.npz", tmp_path / "t.npz"
    np.savez(s, X=np.r_[rng.randn(20, 2), rng.randn(20, 2) + 4], y=np.repeat([0, 1], 20))
    np.savez(t, X=np.r_[rng.randn(12, 2), rng.randn(6, 2) + 4], y=np.repeat([0, 1], [12, 6]))
    db = tmp_path / "user.sqlite"
    args = ["evaluate", str(s), str(t), "--methods", "no_adapt", "--kshot", "5,10", "--record", "--store", str(db),
            "--quiet", "--json"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    with MetaStore(db) as st:
        rows = _kshot(st)
        assert rows[5][0] is not None
        assert rows[10] == (None, "target class 1 has 6 samples <= k = 10")
        _spoil(st, k=10)
    res = CliRunner().invoke(cli, args)  # the same pair recorded again
    assert res.exit_code == 0, res.output
    with MetaStore(db, readonly=True) as st:
        assert _kshot(st)[10] == (None, "target class 1 has 6 samples <= k = 10")


def test_store_build_refresh_repairs(tmp_path):
    spec = tmp_path / "pairs.json"
    spec.write_text(json.dumps(SPECS))
    db = tmp_path / "s.sqlite"
    base = ["store", "build", "--spec", str(spec), "--store", str(db), "--methods", "no_adapt",
            "--base-estimators", "1nn", "--kshot", "1,50", "--quiet"]
    assert CliRunner().invoke(cli, base).exit_code == 0
    with MetaStore(db) as st:
        _spoil(st)
    res = CliRunner().invoke(cli, base + ["--json"])  # a build without --refresh keeps it
    assert res.exit_code == 0 and "kshot_repaired" not in json.loads(res.stdout)
    with MetaStore(db, readonly=True) as st:
        assert _kshot(st)[50] == (0.42, None)
    res = CliRunner().invoke(cli, base + ["--refresh"])
    assert res.exit_code == 0, res.output
    assert "1 k-shot values of 1 pairs set to null" in res.stdout
    with MetaStore(db, readonly=True) as st:
        assert _kshot(st)[50][0] is None
