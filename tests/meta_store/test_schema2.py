"""Store schema 2: balanced accuracy, ceilings, k-shot reasons, base-estimator-free methods
recorded once, migration of schema-1 stores, store stats, the default recipe's specs."""

import json
import sqlite3

import numpy as np
import pytest

from transferability.meta.build import BuildConfig, build
from transferability.meta.build._build import ceiling_row, kshot_row, plan, spec_groups
from transferability.meta.build._store_stats import family_table, store_stats
from transferability.meta_store import (
    BASE_FREE, SCHEMA_VERSION, MetaStore, StoreError, import_records, iter_records, outcomes_for_base,
    validate_records,
)
from transferability.methods._evaluate import kshot_baseline, kshot_scores, target_ceiling


def _gen(n, n_max=80, base="wine"):
    return [{"name": f"covariate_shift/{base}/level-0.6/seed-{i}", "family": "covariate_shift", "preprocess": "none",
             "generator": {"kind": "covariate_shift", "base": base, "level": 0.6, "seed": i, "n_max": n_max}}
            for i in range(n)]


@pytest.fixture
def built(tmp_path):
    st = MetaStore(tmp_path / "s.sqlite")
    cfg = BuildConfig.make(methods=["no_adapt", "meda"], kshot=(1, 3, 20, 50))
    summary = build(st, _gen(2), cfg, progress=False)
    yield st, cfg, summary
    st.close()


def test_base_free_method_recorded_once_and_found_for_every_base(built):
    st, cfg, summary = built
    assert st.schema_version == SCHEMA_VERSION == 2
    # no_adapt once per base estimator, meda (uses_base_estimator = False) once per pair
    assert summary["outcomes_added"] == 2 * (2 + 1)
    rows = st.query("SELECT method, base_estimator FROM outcomes ORDER BY method, base_estimator")
    assert rows == [("meda", BASE_FREE)] * 2 + [("no_adapt", "1nn"), ("no_adapt", "1nn"),
                                                ("no_adapt", "logreg"), ("no_adapt", "logreg")]
    for rec in iter_records(st):
        for b in ("1nn", "logreg"):
            got = outcomes_for_base(rec, b)
            assert sorted(o["method"] for o in got) == ["meda", "no_adapt"]
            assert {o["base_estimator"] for o in got} == {b}
    # a resumed build has nothing to do: the "-" row counts for both base estimators
    work, failed = plan(st, _gen(2), cfg)
    assert work == [] and failed == []


def test_balanced_accuracy_ceiling_and_kshot_reasons_recorded(built):
    st, _, _ = built
    for rec in iter_records(st):
        for o in rec["outcomes"]:
            assert 0.0 <= o["balanced_accuracy"] <= 1.0
        # one ceiling per base estimator; the targets have >= 5 rows per class: 5 folds
        assert sorted(c["base_estimator"] for c in rec["ceiling"]) == ["1nn", "logreg"]
        for c in rec["ceiling"]:
            assert c["n_folds"] == 5 and c["reason"] is None and 0.0 < c["accuracy"] <= 1.0
        by_k = {(e["base_estimator"], e["k"]): e for e in rec["kshot"]}
        assert len(by_k) == 2 * 4
        n_target = rec["target"]["n_samples"]  # wine, n_max 80: at most 40 target rows, < 50 per class
        for b in ("1nn", "logreg"):
            assert by_k[(b, 1)]["accuracy"] is not None and "reason" not in by_k[(b, 1)]
            assert 0.0 <= by_k[(b, 1)]["balanced_accuracy"] <= 1.0
            e = by_k[(b, 50)]
            assert n_target <= 50
            assert e["accuracy"] is None and "balanced_accuracy" not in e
            assert "samples <= k = 50" in e["reason"]
    # stats: the k values listed are those with a known baseline
    assert 50 not in st.stats()["kshot_k"] and 1 in st.stats()["kshot_k"]


def test_kshot_row_reason_and_scores():
    X = np.arange(12, dtype=float).reshape(-1, 1)
    y = np.array(["a"] * 9 + ["b"] * 3)
    row = kshot_row(X, y, 3, "1nn", 0)
    assert row["accuracy"] is None and row["reason"] == "target class b has 3 samples <= k = 3"
    row = kshot_row(X, y, 2, "1nn", 0)
    assert row["reason"] is None
    sc = kshot_scores(X, y, 2, random_state=0)
    assert row["accuracy"] == sc["accuracy"] == kshot_baseline(X, y, 2, random_state=0)
    assert row["balanced_accuracy"] == sc["balanced_accuracy"]


def test_kshot_balanced_accuracy_differs_from_accuracy_on_imbalanced_target():
    # 1-D: class b sits inside class a's range, so 1-NN with 1 shot confuses them unevenly
    X = np.r_[np.linspace(0, 10, 40), [4.9, 5.1, 5.0, 5.2]].reshape(-1, 1)
    y = np.array(["a"] * 40 + ["b"] * 4)
    sc = kshot_scores(X, y, 1, random_state=0, n_draws=3)
    assert 0.0 <= sc["balanced_accuracy"] <= 1.0 and sc["balanced_accuracy"] != sc["accuracy"]


def test_target_ceiling_folds_and_values():
    X = np.r_[np.zeros((10, 1)), np.ones((3, 1)) * 5]
    y = np.array([0] * 10 + [1] * 3)
    c = target_ceiling(X, y)
    assert c == {"accuracy": 1.0, "balanced_accuracy": 1.0, "n_folds": 3,
                 "reason": "3 folds: the smallest target class (1) has 3 samples"}
    c = target_ceiling(np.r_[X, X], np.r_[y, y])
    assert c["n_folds"] == 5 and c["reason"] is None
    # labels independent of X: 1-NN on identical points predicts the first class seen
    Xc = np.zeros((20, 1))
    yc = np.array([0, 1] * 10)
    c = target_ceiling(Xc, yc)
    assert c["accuracy"] == pytest.approx(c["balanced_accuracy"]) and c["accuracy"] <= 0.6
    with pytest.raises(ValueError, match="at least two target classes"):
        target_ceiling(Xc, np.zeros(20))
    with pytest.raises(ValueError, match="n_folds must be an integer >= 2"):
        target_ceiling(X, y, n_folds=1)
    row = ceiling_row(Xc, np.zeros(20), "1nn", 0)
    assert row["accuracy"] is None and row["reason"] == "the target has a single class"


def _downgrade_to_v1(path):
    con = sqlite3.connect(path)
    con.execute("DROP TABLE ceiling")
    for table, col in (("outcomes", "balanced_accuracy"), ("kshot", "balanced_accuracy"), ("kshot", "reason")):
        con.execute(f"ALTER TABLE {table} DROP COLUMN {col}")
    con.execute("UPDATE store_info SET value='1' WHERE key='schema_version'")
    con.commit()
    con.close()


def test_schema1_store_read_only_as_is_and_migrated_when_opened_for_writing(built, tmp_path):
    st, _, _ = built
    path = st.path
    before = [r["key"] for r in iter_records(st)]
    st.close()
    _downgrade_to_v1(path)
    with MetaStore(path, create=False, readonly=True) as ro:
        assert ro.schema_version == 1
        recs = list(iter_records(ro))
        assert [r["key"] for r in recs] == before
        assert all("balanced_accuracy" not in o for r in recs for o in r["outcomes"])  # unknown: left out
        assert all("ceiling" not in r for r in recs) and ro.stats()["n_ceilings"] == 0
    con = sqlite3.connect(path)
    assert con.execute("SELECT value FROM store_info WHERE key='schema_version'").fetchone() == ("1",)
    con.close()
    with MetaStore(path) as rw:  # opened for writing: migrated in place
        assert rw.schema_version == 2
        info = dict(rw.query("SELECT key, value FROM store_info"))
        assert info["schema_version"] == "2" and "migrated_from_1" in info
        recs = list(iter_records(rw))
        assert all("balanced_accuracy" not in o for r in recs for o in r["outcomes"])
        # a build adds the ceilings the old store lacks, and nothing else
        cfg = BuildConfig.make(methods=["no_adapt", "meda"], kshot=(1, 3, 20, 50))
        again = build(rw, _gen(2), cfg, progress=False)
        assert again["pairs_with_work"] == 2 and again["outcomes_added"] == 0
        assert rw.stats()["n_ceilings"] == 2 * 2


def test_unknown_schema_refused_naming_export_and_import(built):
    st, _, _ = built
    path = st.path
    st.close()
    con = sqlite3.connect(path)
    con.execute("UPDATE store_info SET value='7' WHERE key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match=r"schema version 7, this transferability reads versions 1, 2; "
                                         r"`transferability store export` .* `transferability store import`"):
        MetaStore(path)


def _record(name, family, task, base, outcomes, kshot):
    fp = f"{name:0<8}"
    return {"name": name, "family": family, "task": task, "base": base, "preprocess": "none", "feature_schema": 3,
            "meta_features": {"f": 1.0},
            "source": {"fingerprint": "s" + fp, "n_samples": 10, "n_features": 2, "classes": ["0", "1"]},
            "target": {"fingerprint": "t" + fp, "n_samples": 10, "n_features": 2},
            "outcomes": [{"method": m, "base_estimator": b, "target_accuracy": a, "balanced_accuracy": a}
                         for m, b, a in outcomes],
            "kshot": [{"base_estimator": "1nn", "k": k, "accuracy": a,
                       "reason": None if a is not None else "too few"} for k, a in kshot]}


def test_store_stats_on_a_hand_made_store(tmp_path):
    ks = [(1, 0.5), (3, 0.6), (5, 0.7), (10, 0.8), (20, 0.9), (50, None)]
    recs = [
        # best 0.85 (meda, base-free): reaches k = 1..10, not 20; k* = 10; beats no_adapt (0.7) by >= 1 point
        _record("p1", "fa", "fa/t1", "b1", [("no_adapt", "1nn", 0.7), ("meda", BASE_FREE, 0.85)], ks),
        # best 0.55 = no_adapt: reaches k = 1 only, k* = 1; does not beat itself
        _record("p2", "fa", "fa/t1", "b1", [("no_adapt", "1nn", 0.55), ("meda", BASE_FREE, 0.3)], ks),
        # below every k-shot: k* = 0; tca beats no_adapt by 0.005 only
        _record("p3", "fb", "fb/t2", "b2", [("no_adapt", "1nn", 0.4), ("tca", "1nn", 0.405)], ks),
    ]
    with MetaStore(tmp_path / "h.sqlite") as st:
        import_records(st, recs)
        s = store_stats(st)
    assert (s["n_pairs"], s["n_tasks"], s["n_families"], s["n_bases"]) == (3, 2, 2, 2)
    assert s["kshot_k"] == [1, 3, 5, 10, 20] and s["n_ceilings"] == 0
    fa = s["per_family"]["fa"]
    assert fa["pairs"] == 2 and fa["tasks"] == 1 and fa["bases"] == ["b1"]
    u = fa["by_base_estimator"]["1nn"]
    assert u["units"] == 2
    assert u["reaches_kshot"] == {"1": 1.0, "3": 0.5, "5": 0.5, "10": 0.5, "20": 0.0, "50": None}
    assert u["n_known_kshot"]["50"] == 0 and u["n_known_kshot"]["1"] == 2
    assert u["beats_no_adapt"] == 0.5
    # k* is about the store's best fixed method: only no_adapt has outcomes on >= 90 % of the pairs.
    # p1 (0.7) reaches 1, 3, 5 and misses 10; p2 (0.55) reaches 1 and misses 3; p3 (0.4) misses 1.
    # k = 50 is unknown, but every pair misses a smaller rung first: none is censored
    assert s["kstar_method"] == {"1nn": "no_adapt"}
    assert u["kstar"] == {"1": 1, "5": 1} and u["kstar_censored"] == 0
    assert u["oracle"] == {"meda": 1, "no_adapt": 1}
    fb = s["per_family"]["fb"]["by_base_estimator"]["1nn"]
    assert fb["beats_no_adapt"] == 0.0 and fb["kstar"] == {"0": 1} and fb["oracle"] == {"tca": 1}
    lines = family_table(s)
    assert lines[0].startswith("family") and len(lines) == 3 and lines[1].split()[:4] == ["fa", "1nn", "2", "1"]
    json.dumps(s)  # the --json object is JSON


@pytest.mark.parametrize("field, value, message", [
    ("outcome_bal", 1.5, r"outcomes\[1\]\.balanced_accuracy must be a finite number in \[0, 1\], got 1.5"),
    ("outcome_bal", float("inf"), r"outcomes\[1\]\.balanced_accuracy must be a finite number in \[0, 1\]"),
    ("kshot_bal", -0.1, r"kshot\[1\]\.balanced_accuracy must be a finite number in \[0, 1\]"),
    ("kshot_reason", 3, r"kshot\[1\]\.reason must be a non-empty string, got 3"),
    ("ceiling_folds", 1, r"ceiling\[1\]\.n_folds must be an integer >= 2, got 1"),
    ("ceiling_acc", 2.0, r"ceiling\[1\]\.accuracy must be a finite number in \[0, 1\], got 2.0"),
])
def test_import_validates_the_new_fields(field, value, message):
    rec = _record("p1", "fa", "fa/t1", "b1", [("no_adapt", "1nn", 0.7)], [(1, 0.5)])
    rec["ceiling"] = [{"base_estimator": "1nn", "seed": 0, "n_folds": 5, "accuracy": 0.9, "balanced_accuracy": 0.9}]
    if field == "outcome_bal":
        rec["outcomes"][0]["balanced_accuracy"] = value
    elif field == "kshot_bal":
        rec["kshot"][0]["balanced_accuracy"] = value
    elif field == "kshot_reason":
        rec["kshot"][0]["reason"] = value
    elif field == "ceiling_folds":
        rec["ceiling"][0]["n_folds"] = value
    else:
        rec["ceiling"][0]["accuracy"] = value
    with pytest.raises(StoreError, match=r"record 1 \(p1\): " + message):
        validate_records([rec])


def test_default_recipe_specs_distinct_and_grouped():
    from transferability.meta.build._recipes import (
        NEWSGROUPS_TASKS_DEFAULT, default_recipe, full_recipe, generated_specs, real_specs, semi_real_specs,
    )
    from transferability.meta.build._recipe_real import real_recipe_specs

    full = full_recipe()
    assert len(full) == (len(real_specs()) - 18) + len(generated_specs()) + len(real_recipe_specs()) \
        + len(semi_real_specs())
    specs = default_recipe()
    dropped = [s for s in full if s not in specs]
    assert dropped and all(s["family"].startswith("newsgroups20_") for s in dropped)
    for fam in {s["family"] for s in full if s["family"].startswith("newsgroups20_")}:
        assert len({s["task"] for s in specs if s["family"] == fam}) == NEWSGROUPS_TASKS_DEFAULT
    assert len({s["task"] for s in specs}) >= 150 and len({s["family"] for s in specs}) >= 20
    assert len({s["name"] for s in specs}) == len(specs)
    assert all(isinstance(s.get("task"), str) and s["task"] and isinstance(s.get("base"), str) and s["base"]
               for s in specs)
    # two specs that draw the same domains in the same way give the same pair key: none may
    # (the old full real tasks, which real_recipe_specs lists again, are left out)
    def identity(s):
        return json.dumps({k: v for k, v in s.items() if k not in ("name", "family", "task", "base")}, sort_keys=True)
    assert len({identity(s) for s in specs}) == len(specs)
    old_real = [s for s in specs if s["family"] in ("office_caltech_surf", "usps_mnist", "coil20",
                                                    "office_caltech_decaf") and "path" in s.get("source", {})]
    assert old_real and all("/half-" in s["name"] or "/classes-" in s["name"] for s in old_real)
    assert {s["task"] for s in old_real} <= {s["task"] for s in real_recipe_specs()}
    assert spec_groups(_gen(1)[0]) == ("covariate_shift/wine", "wine")


def test_semi_real_pool_and_small_source():
    from transferability.datasets._shifts import make_shift_pair

    rng = np.random.RandomState(0)
    X = rng.randn(300, 4)
    y = np.repeat([3, 7, 9], 100)
    Xs, ys, Xt, yt = make_shift_pair("concept_shift", "mine", 0.5, 0, pool=(X, y), source_per_class=5)
    assert np.array_equal(np.unique(ys, return_counts=True)[1], [5, 5, 5]) and Xt.shape[1] == 4
    assert set(yt) <= {3, 7, 9}
    with pytest.raises(ValueError, match="source_per_class must be a positive integer"):
        make_shift_pair("concept_shift", "mine", 0.5, 0, pool=(X, y), source_per_class=0)
