"""Training tables: groups from provenance, log effect scores, filtering, hashing."""

import copy

import numpy as np
import pytest
from numpy.testing import assert_allclose

from transferability.meta.learners._features import FEATURE_NAMES, FEATURE_SCHEMA_VERSION
from transferability.meta.learners._table import (
    ACC_FLOOR, SignedLogScaler, base_of, build_tables, records_hash, signed_log, task_of,
)
from transferability.utils.validation import InputError


def _record(key, family="fam", acc=None, source=None, target=None, schema=FEATURE_SCHEMA_VERSION, name=None):
    acc = acc or {"no_adapt": 0.5, "meda": 0.6}
    feats = {f: float(i + len(key)) for i, f in enumerate(FEATURE_NAMES)}
    outcomes = []
    for be in ("1nn", "logreg"):
        for m, a in acc.items():
            outcomes.append({"method": m, "params": {}, "base_estimator": be, "seed": 0, "target_accuracy": a,
                             "runtime_s": 0.1, "status": "ok", "error": None})
    return {"key": key, "name": name or f"{family}/{key}", "family": family, "feature_schema": schema,
            "meta_features": feats, "outcomes": outcomes, "kshot": [],
            "source": {"provenance": source or {}}, "target": {"provenance": target or {}}}


def test_base_of_real_paths_share_office_caltech():
    surf = _record("a", source={"path": "office_caltech10_surf/amazon_SURF_L10.mat"})
    decaf = _record("b", source={"path": "/abs/data/office_caltech10_decaf6/dslr_decaf.mat"})
    usps = _record("c", source={"path": "mnist_usps/USPS_vs_MNIST.mat:src"})
    assert base_of(surf) == base_of(decaf) == "office_caltech"
    assert base_of(usps) == "usps_mnist"


def test_base_of_generated_is_the_toy_set_and_explicit_base_wins():
    gen = _record("a", source={"generator": {"base": "wine", "kind": "label_shift"}, "role": "source"})
    assert base_of(gen) == "wine"
    gen["base"] = "explicit"
    assert base_of(gen) == "explicit"
    assert base_of(_record("z", family="user")) == "user"  # no provenance: the family


def test_task_of_variants_share_a_task():
    half1 = _record("a", source={"path": "coil20/COIL_1.mat:src", "seed": 11},
                    target={"path": "coil20/COIL_1.mat:tar", "seed": 21})
    half2 = _record("b", source={"path": "coil20/COIL_1.mat:src", "seed": 12},
                    target={"path": "coil20/COIL_1.mat:tar", "seed": 22})
    other = _record("c", source={"path": "coil20/COIL_2.mat:src"}, target={"path": "coil20/COIL_2.mat:tar"})
    assert task_of(half1) == task_of(half2) != task_of(other)
    g1 = _record("d", name="label_shift/wine/level-0.4/seed-0", source={"generator": {"base": "wine"}})
    g2 = _record("e", name="label_shift/wine/level-0.4/seed-1", source={"generator": {"base": "wine"}})
    assert task_of(g1) == task_of(g2) == "wine:label_shift/wine/level-0.4"


def test_log_effect_is_log_ratio_to_no_adapt_with_floor():
    recs = [_record("a", acc={"no_adapt": 0.5, "meda": 0.75, "tca": 0.0}),
            _record("b", acc={"no_adapt": 0.8, "meda": 0.4, "tca": 0.8})]
    t = build_tables(recs)["1nn"]
    assert t.methods == ["meda", "no_adapt", "tca"]
    assert_allclose(t.log_effect[0], [np.log(1.5), 0.0, np.log(ACC_FLOOR / 0.5)])
    assert_allclose(t.log_effect[1], [np.log(0.5), 0.0, 0.0])
    assert_allclose(t.X[0], [recs[0]["meta_features"][f] for f in FEATURE_NAMES])


def test_other_schema_and_missing_methods_are_dropped_and_counted():
    recs = [_record(k) for k in "abcdefghij"] + [_record("old", schema=FEATURE_SCHEMA_VERSION - 1)]
    failing = _record("k")
    failing["outcomes"] = [o for o in failing["outcomes"] if o["method"] != "meda"]
    t = build_tables(recs + [failing])["1nn"]
    assert t.n_pairs == 10
    assert t.dropped["other_feature_schema"] == 1
    assert t.dropped["missing_method"] == 1


def test_no_usable_pairs_is_an_input_error():
    with pytest.raises(InputError, match="no usable pairs"):
        build_tables([_record("a", schema=-1)])


def test_records_hash_ignores_timestamps_but_not_outcomes():
    recs = [_record("a"), _record("b")]
    other = copy.deepcopy(recs)
    for r in other:
        r["created_at"] = "2030-01-01"
    assert records_hash(recs) == records_hash(other[::-1])
    other[0]["outcomes"][0]["target_accuracy"] = 0.123
    assert records_hash(recs) != records_hash(other)


def test_signed_log_is_odd_and_monotone():
    x = np.array([-100.0, -1.0, 0.0, 1e-3, 5.0])
    assert_allclose(signed_log(-x), -signed_log(x))
    assert np.all(np.diff(signed_log(x)) > 0)


def test_grouping_names():
    t = build_tables([_record("a"), _record("b", family="other")])["1nn"]
    assert list(t.groups("family")) == ["fam", "other"]
    with pytest.raises(InputError, match="unknown grouping"):
        t.groups("colour")


def test_base_estimator_free_methods_join_every_base_estimator():
    """MEDA/EasyTL are recorded once per pair with base estimator '-' (store schema 2); the
    training table of each base estimator must still see them, with the same accuracy."""
    recs = []
    for key, (na, meda) in {"a": (0.5, 0.75), "b": (0.8, 0.4)}.items():
        r = _record(key, acc={"no_adapt": na})
        r["outcomes"].append({"method": "meda", "params": {}, "base_estimator": "-", "seed": 0,
                              "target_accuracy": meda, "runtime_s": 0.1, "status": "ok", "error": None})
        recs.append(r)
    tables = build_tables(recs)
    assert sorted(tables) == ["1nn", "logreg"]  # '-' is no base estimator of its own
    for t in tables.values():
        assert t.methods == ["meda", "no_adapt"]
        assert_allclose(t.log_effect[:, 0], [np.log(0.75 / 0.5), np.log(0.4 / 0.8)])


def test_signed_log_scaler_ignores_missing_values_and_maps_them_to_the_mean():
    X = np.array([[1.0, 5.0, np.nan], [3.0, 5.0, np.nan], [np.nan, 5.0, np.nan], [5.0, 5.0, np.nan]])
    sc = SignedLogScaler.fit(X)
    z = signed_log(np.array([1.0, 3.0, 5.0]))
    assert_allclose(sc.mean, [z.mean(), signed_log(5.0), 0.0])
    assert_allclose(sc.scale, [z.std(), 1.0, 1.0])  # constant and all-missing features: unit scale
    Z = sc.transform(X)
    assert np.isfinite(Z).all()
    assert_allclose(Z[2], 0.0)  # missing -> the training mean
    assert_allclose(Z[:, 0][[0, 1, 3]], (z - z.mean()) / z.std())


def test_signed_log_scaler_refuses_a_missing_mean_or_scale_from_a_model_file():
    with pytest.raises(InputError, match="standardisation has missing values"):
        SignedLogScaler([0.0, None], [1.0, 1.0])  # JSON null, as the first 851-pair models held
    with pytest.raises(InputError, match="standardisation has missing values"):
        SignedLogScaler([0.0, 0.0], [1.0, float("nan")])
