"""EasyTransferability: k* labels, the cumulative model, calibration maps, model files, assess()."""

import json

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from transferability.meta.learners._easytrans import (
    LABEL_FEATURES, LABEL_FREE_FEATURES, CumulativeModel, IsotonicMap, SigmoidMap, _map_from_dict,
    assess, assess_from_features, build_label_tables, label_equivalent, label_free_features, label_pair,
    load_easytrans, monotone_cumulative, save_easytrans, threshold_index,
)
from transferability.meta.evaluation import train_easytrans
from transferability.meta import FEATURE_NAMES, compute_meta_features
from transferability.utils.validation import InputError

LADDER = [1, 3, 5, 10]


def synthetic_records(n=96, seed=0):
    """Store-like records with the current feature schema: random meta-features, k-shot baselines
    1..10 and outcomes whose best beats more k-shot values as the first meta-feature grows."""
    from transferability.meta import FEATURE_NAMES, FEATURE_SCHEMA_VERSION

    rng = np.random.RandomState(seed)
    recs = []
    for i in range(n):
        feats = {f: float(abs(rng.randn()) * 10 + 1) for f in FEATURE_NAMES}
        signal = feats[FEATURE_NAMES[0]] / 10.0
        best = float(np.clip(0.3 + 0.25 * signal + 0.1 * rng.randn(), 0.05, 0.99))
        outcomes = [{"method": m, "base_estimator": be, "seed": 0, "params": {}, "status": "ok",
                     "target_accuracy": a, "runtime_s": 0.1}
                    for be in ("1nn", "logreg") for m, a in (("no_adapt", best - 0.05), ("sa", best))]
        kshot = [{"base_estimator": be, "k": k, "seed": 0, "n_draws": 5, "accuracy": a}
                 for be in ("1nn", "logreg") for k, a in ((1, 0.35), (3, 0.45), (5, 0.5), (10, 0.6))]
        recs.append({"key": f"k{i:03d}", "name": f"fam{i % 6}/pair{i}", "family": f"fam{i % 6}",
                     "base": f"base{i % 3}", "feature_schema": FEATURE_SCHEMA_VERSION, "meta_features": feats,
                     "outcomes": outcomes, "kshot": kshot})
    return recs


# -- labels ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("best, kshot, kstar, censored, y", [
    (0.9, {1: 0.5, 3: 0.6, 5: 0.7, 10: 0.8}, 10, False, [1, 1, 1, 1]),
    (0.65, {1: 0.5, 3: 0.6, 5: 0.7, 10: 0.8}, 3, False, [1, 1, 0, 0]),
    (0.4, {1: 0.5, 3: 0.6, 5: 0.7, 10: 0.8}, 0, False, [0, 0, 0, 0]),
    (0.6, {1: 0.6, 3: 0.7, 5: 0.8, 10: 0.9}, 1, False, [1, 0, 0, 0]),  # equality reaches
    # not monotone in k: the walk stops at the first rung missed (3), although 5 is reached
    (0.7, {1: 0.5, 3: 0.75, 5: 0.65, 10: 0.8}, 1, False, [1, 0, 0, 0]),
    # k = 5 unknown: k* >= 5 is undecided, k* >= 10 is known false
    (0.65, {1: 0.5, 3: 0.6, 10: 0.8}, 3, True, [1, 1, np.nan, 0]),
    # k = 10 unknown, 5 reached: k* >= 10 undecided, k* >= 5 known
    (0.75, {1: 0.5, 3: 0.6, 5: 0.7}, 5, True, [1, 1, 1, np.nan]),
    # k = 1 unknown but 3 reached: k* >= 1 follows
    (0.65, {3: 0.6, 5: 0.7, 10: 0.8}, 3, False, [1, 1, 0, 0]),
    # k = 10 unknown but 5 not reached: the baseline does not fall with k, so k* >= 10 is false
    (0.65, {1: 0.5, 3: 0.6, 5: 0.7}, 3, False, [1, 1, 0, 0]),
    # only k = 1 known and not reached: every threshold is known false
    (0.4, {1: 0.5}, 0, False, [0, 0, 0, 0]),
    # only k = 1 known and reached: every larger threshold undecided
    (0.6, {1: 0.5}, 1, True, [1, np.nan, np.nan, np.nan]),
])
def test_label_pair(best, kshot, kstar, censored, y):
    k, c, labels = label_pair(best, kshot, LADDER)
    assert (k, c) == (kstar, censored)
    assert_array_equal(labels, np.array(y, dtype=float))


def _record(key, family, best_by_method, kshot, features=None, base="b"):
    from transferability.meta import FEATURE_SCHEMA_VERSION

    feats = features or {f: 1.0 for f in FEATURE_NAMES}
    outcomes = []
    for m, accs in best_by_method.items():
        for s, a in enumerate(accs):
            outcomes.append({"method": m, "base_estimator": "1nn", "seed": s, "params": {}, "status": "ok",
                             "target_accuracy": a, "runtime_s": 0.1})
    outcomes.append({"method": "jda", "base_estimator": "1nn", "seed": 9, "params": {}, "status": "error",
                     "target_accuracy": None, "runtime_s": None})
    return {"key": key, "name": key, "family": family, "base": base, "feature_schema": FEATURE_SCHEMA_VERSION,
            "meta_features": feats, "outcomes": outcomes,
            "kshot": [{"base_estimator": "1nn", "k": k, "seed": 0, "n_draws": 5, "accuracy": a} for k, a in kshot.items()]}


def test_label_pair_below_chance_is_zero_whatever_the_kshot_baselines():
    k, c, y = label_pair(0.9, {1: 0.1, 3: 0.2, 5: 0.3, 10: 0.4}, LADDER, above_chance=False)
    assert (k, c) == (0, False)
    assert_array_equal(y, [0, 0, 0, 0])


def test_chance_margin_and_beats_chance():
    from transferability.meta.learners._easytrans import CHANCE_MIN_MARGIN, beats_chance, chance_margin

    # two standard errors of a chance-level score: 4 classes on 300 rows
    assert chance_margin(4, 300) == pytest.approx(2 * np.sqrt(0.25 * 0.75 / 300))
    assert chance_margin(2, 10**6) == CHANCE_MIN_MARGIN  # never below the floor
    assert not beats_chance(0.25 + 0.049, 4, 300) and beats_chance(0.25 + 0.051, 4, 300)
    assert beats_chance(None, 4, 300)  # unknown balanced accuracy: the k-shot comparison decides


def test_build_label_tables_label_the_picked_method_mean_over_seeds():
    recs = [
        # sa's mean is 0.6 (0.9 and 0.3): reaches k = 3 (0.55), not 5 (0.63); no_adapt reaches 5
        _record("a", "f1", {"no_adapt": [0.64], "sa": [0.9, 0.3]}, {1: 0.5, 3: 0.55, 5: 0.63, 10: 0.7}),
        _record("b", "f2", {"no_adapt": [0.2], "sa": [0.95]}, {1: 0.5, 3: 0.6, 5: 0.7, 10: 0.8}),
        _record("c", "f2", {"no_adapt": [0.2], "sa": [0.1]}, {1: 0.5, 3: 0.6, 5: None, 10: 0.8}),
    ]
    picks = {"1nn": {"a": "sa", "b": "sa", "c": "no_adapt"}}
    t = build_label_tables(recs, picks=picks)["1nn"]
    assert t.thresholds == LADDER
    assert_allclose(t.best, [0.6, 0.95, 0.2])
    assert list(t.methods) == ["sa", "sa", "no_adapt"]
    assert_array_equal(t.kstar, [3, 10, 0])
    # a None accuracy is unknown; k = 1 is not reached, so the walk stops there: k* = 0 is exact
    assert_array_equal(t.censored, [False, False, False])
    assert_array_equal(t.Y[2], [0, 0, 0, 0])
    # without picks, every pair's method is the best fixed one: family-macro mean accuracies are
    # no_adapt (0.64 + 0.2) / 2 = 0.42 and sa (0.6 + (0.95 + 0.1) / 2) / 2 = 0.5625
    d = build_label_tables(recs)["1nn"]
    assert list(d.methods) == ["sa", "sa", "sa"]
    # a pair without a pick is dropped and counted
    t2 = build_label_tables(recs, picks={"1nn": {"a": "sa"}})["1nn"]
    assert t2.n_pairs == 1 and t2.dropped["no_pick"] == 2


def test_build_label_tables_chance_rule_uses_balanced_accuracy_and_target_classes():
    r = _record("a", "f1", {"no_adapt": [0.9]}, {1: 0.1, 3: 0.2, 5: 0.3, 10: 0.4})
    r["target"] = {"n_classes": 4, "n_samples": 300}
    r["outcomes"][0]["balanced_accuracy"] = 0.27  # accuracy 0.9 but balanced accuracy at chance (0.25)
    t = build_label_tables([r, dict(r, key="b")], picks={"1nn": {"a": "no_adapt", "b": "no_adapt"}})["1nn"]
    assert_array_equal(t.kstar, [0, 0])
    r["outcomes"][0]["balanced_accuracy"] = 0.5
    t = build_label_tables([r, dict(r, key="b")], picks={"1nn": {"a": "no_adapt", "b": "no_adapt"}})["1nn"]
    assert_array_equal(t.kstar, [10, 10])


def test_build_label_tables_ladder_is_what_the_store_holds_and_other_schemas_are_dropped():
    recs = [_record(str(i), "f", {"no_adapt": [0.5]}, {1: 0.4, 3: 0.45, 20: 0.6}) for i in range(3)]
    recs[0]["feature_schema"] = -1
    t = build_label_tables(recs)["1nn"]
    assert t.thresholds == [1, 3, 20] and t.n_pairs == 2
    assert t.dropped["other_feature_schema"] == 1
    with pytest.raises(InputError, match="no usable pairs"):
        build_label_tables(recs[:1])


@pytest.mark.parametrize("k, j", [(1, 0), (2, 1), (3, 1), (4, 2), (7, 3), (10, 3)])
def test_threshold_index_maps_k_to_the_smallest_ladder_value_at_or_above(k, j):
    assert threshold_index(k, LADDER) == j


@pytest.mark.parametrize("k, match", [
    (0, "at least 1"), (-3, "at least 1"), (11, "above what the models know"), (50, "stop at k = 10"),
    (2.5, "positive integer"), ("3", "positive integer"), (True, "positive integer"), (None, "positive integer"),
])
def test_threshold_index_refuses_bad_k(k, match):
    with pytest.raises(InputError, match=match):
        threshold_index(k, LADDER)


# -- calibration maps and monotone probabilities --------------------------------------------------
def test_sigmoid_map_is_monotone_and_fits_a_known_slope():
    rng = np.random.RandomState(0)
    s = rng.randn(4000)
    y = (rng.rand(4000) < 1 / (1 + np.exp(-(2.0 * s - 0.5)))).astype(float)
    m = SigmoidMap().fit(s, y)
    assert m.a >= 0
    assert_allclose([m.a, m.b], [2.0, -0.5], atol=0.2)
    grid = np.linspace(-5, 5, 101)
    assert np.all(np.diff(m(grid)) >= 0)
    # anti-correlated scores: the slope is held at 0 (never a decreasing map)
    assert SigmoidMap().fit(s, 1.0 - y).a == 0.0


def test_isotonic_map_is_monotone_clipped_and_round_trips():
    rng = np.random.RandomState(1)
    s = rng.randn(300)
    y = (s + rng.randn(300) > 0).astype(float)
    m = IsotonicMap().fit(s, y)
    p = m(np.linspace(-4, 4, 200))
    assert np.all(np.diff(p) >= 0)
    assert p.min() >= 1 / 302 - 1e-12 and p.max() <= 1 - 1 / 302 + 1e-12
    back = _map_from_dict(m.to_dict())
    assert_allclose(back(s), m(s))
    with pytest.raises(InputError, match="not non-decreasing"):
        _map_from_dict({"kind": "isotonic", "x": [0, 1], "y": [0.9, 0.1]})
    with pytest.raises(InputError, match="unknown calibration map kind"):
        _map_from_dict({"kind": "beta"})


def test_monotone_cumulative_is_a_running_minimum():
    P = np.array([[0.9, 0.95, 0.5, 0.7], [0.2, 0.1, 0.3, 0.0]])
    assert_allclose(monotone_cumulative(P), [[0.9, 0.9, 0.5, 0.5], [0.2, 0.1, 0.1, 0.0]])


def _synthetic(n=240, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 4)
    latent = X[:, 0] + 0.5 * rng.randn(n)
    cuts = np.array([-1.2, -0.4, 0.3, 1.0])
    Y = (latent[:, None] > cuts[None, :]).astype(float)
    groups = np.repeat(np.arange(6), n // 6).astype(str)
    return X, Y, groups


@pytest.mark.parametrize("calibration", ["sigmoid", "isotonic"])
def test_cumulative_model_is_monotone_across_thresholds_and_learns_the_signal(calibration):
    X, Y, g = _synthetic()
    m = CumulativeModel(["a", "b", "c", "d"], LADDER, calibration=calibration).fit(X, Y, g)
    Xn, Yn, _ = _synthetic(seed=1)
    P = m.predict_proba(Xn)
    assert np.all(np.diff(P, axis=1) <= 1e-12)
    assert np.all((P >= 0) & (P <= 1))
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(Yn[:, 2], P[:, 2]) > 0.8  # the signal is in column 0
    # calibrated: held-out Brier below the base rate's
    assert np.mean((P[:, 2] - Yn[:, 2]) ** 2) < np.mean((Y[:, 2].mean() - Yn[:, 2]) ** 2)


def test_cumulative_model_uses_the_smoothed_rate_for_a_nearly_constant_threshold_and_round_trips():
    X, Y, g = _synthetic()
    Y[:, 0] = 1.0
    Y[:2, 0] = 0.0  # 2 negatives < MIN_MINORITY
    Y[5, 1] = np.nan  # unknown labels are left out of that threshold
    m = CumulativeModel(["a", "b", "c", "d"], LADDER, learner="lgbm").fit(X, Y, g)
    assert m.levels_[0].booster is None
    assert_allclose(m.levels_[0].constant, (238 + 0.5) / 241)
    assert m.n_known_ == [240, 239, 240, 240]
    entry, files = m.to_entry("x")
    assert entry["levels"][0]["file"] is None and sorted(files) == ["x-k10.txt", "x-k3.txt", "x-k5.txt"]
    back = CumulativeModel.from_entry(json.loads(json.dumps(entry)), files)
    assert_allclose(back.predict_proba(X), m.predict_proba(X))
    with pytest.raises(InputError, match="missing"):
        CumulativeModel.from_entry(entry, {})
    with pytest.raises(InputError, match="cannot read LightGBM model"):
        CumulativeModel.from_entry(entry, {k: "not a model" for k in files})


@pytest.mark.parametrize("learner", ["lgbm", "logistic", "auto"])
def test_every_learner_round_trips_through_json_and_auto_keeps_the_lower_out_of_fold_brier(learner):
    X, Y, g = _synthetic()
    m = CumulativeModel(["a", "b", "c", "d"], LADDER, learner=learner).fit(X, Y, g)
    entry, files = m.to_entry("x")
    back = CumulativeModel.from_entry(json.loads(json.dumps(entry)), files)
    assert_allclose(back.predict_proba(X), m.predict_proba(X), rtol=1e-12)
    for lv, ob in zip(entry["levels"], m.oof_brier_):
        assert set(ob) == ({"lgbm", "logistic"} if learner == "auto" else {learner})
        assert lv["learner"] == min(sorted(ob), key=lambda c: ob[c])
    if learner == "logistic":
        assert files == {}  # (a linear model of the wrong length is refused when the manifest is read: test_model_files)
    with pytest.raises(InputError, match="unknown learner 'svm'"):
        CumulativeModel(["a"], LADDER, learner="svm")
    with pytest.raises(InputError, match="unknown calibration 'beta'"):
        CumulativeModel(["a"], LADDER, calibration="beta")


def test_label_equivalent_quantiles():
    le = label_equivalent([0.99, 0.95, 0.6, 0.2], LADDER)
    assert le["point"] == 5 and le["interval"] == [3, 10] and le["open_ended"]
    assert le["text"] == "worth about 3–10 or more labelled target samples per class"
    le = label_equivalent([0.95, 0.4, 0.05, 0.01], LADDER)
    assert le["point"] == 1 and le["interval"] == [1, 3] and not le["open_ended"]
    le = label_equivalent([0.05, 0.01, 0.0, 0.0], LADDER)
    assert le["point"] == 0 and le["interval"] == [0, 0] and le["text"].startswith("worth less than 1")
    assert label_equivalent([0.99] * 4, LADDER)["text"] == "worth at least 10 labelled target samples per class"


def test_label_free_features_are_the_meta_features_that_read_no_source_label():
    assert set(LABEL_FREE_FEATURES) | set(LABEL_FEATURES) == set(FEATURE_NAMES)
    assert not set(LABEL_FREE_FEATURES) & set(LABEL_FEATURES)
    rng = np.random.RandomState(0)
    Xs, Xt = rng.randn(150, 6), rng.randn(130, 6) + 0.3
    ys = rng.randint(0, 3, 150)
    full = compute_meta_features(Xs, ys, Xt, random_state=3)
    free = label_free_features(Xs, Xt, random_state=3)
    assert list(free) == list(LABEL_FREE_FEATURES)
    assert_allclose([free[f] for f in free], [full[f] for f in free], rtol=0, atol=0)
    # label-aware features do move with the source labels; label-free ones cannot
    other = compute_meta_features(Xs, rng.permutation(ys), Xt, random_state=3)
    assert any(other[f] != full[f] for f in LABEL_FEATURES)


# -- model files --------------------------------------------------------------------------------------
def _assert_maps_monotone(models):
    for be, entry in models.manifest["models"].items():
        for kind in ("labelled", "label_free"):
            sub = entry[kind]
            assert sub["uses_source_labels"] is (kind == "labelled")
            for lv in sub["levels"]:
                cal = lv["calibration"]
                if cal is None:
                    assert 0 < lv["constant"] < 1
                elif cal["kind"] == "sigmoid":
                    assert cal["a"] >= 0
                else:
                    assert np.all(np.diff(cal["x"]) >= 0) and np.all(np.diff(cal["y"]) >= 0)
            model, _, _ = models.model(be, uses_source_labels=kind == "labelled")
            rng = np.random.RandomState(0)
            X = np.abs(rng.randn(50, len(model.feature_names))) * 3
            assert np.all(np.diff(model.predict_proba(X), axis=1) <= 1e-12)


def test_every_calibration_map_of_a_trained_model_set_is_monotone(synthetic_models):
    _assert_maps_monotone(synthetic_models)


def test_shipped_models_load_and_every_calibration_map_is_monotone():
    # fails when the shipped models were trained on another feature schema: retrain them
    models = load_easytrans()
    assert models.base_estimators == ["1nn", "logreg"]
    _assert_maps_monotone(models)


def test_training_is_deterministic_byte_identical_files(tmp_path):
    recs = synthetic_records()
    a = train_easytrans(recs, includes_default=False, evaluate=False)
    b = train_easytrans(list(reversed(recs)), includes_default=False, evaluate=False)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "easytrans-stale-k1.txt").write_text("an earlier training's level")
    (tmp_path / "a" / "metatrans-1nn.txt").write_text("not ours")
    pa, pb = save_easytrans(a, tmp_path / "a"), save_easytrans(b, tmp_path / "b")
    assert not (tmp_path / "a" / "easytrans-stale-k1.txt").exists()
    assert (tmp_path / "a" / "metatrans-1nn.txt").read_text() == "not ours"
    assert [p.rsplit("/", 1)[1] for p in pa] == [p.rsplit("/", 1)[1] for p in pb]
    assert any(p.endswith(".txt") for p in pa)  # some threshold got a LightGBM model
    for x, y in zip(pa, pb):
        assert open(x, "rb").read() == open(y, "rb").read(), x
    loaded = load_easytrans(tmp_path / "a")
    assert loaded.manifest["includes_default"] is False


def test_a_model_of_another_feature_schema_is_refused(tmp_path):
    save_easytrans(train_easytrans(synthetic_records(40), includes_default=False, evaluate=False), tmp_path)
    load_easytrans(tmp_path)  # loads as written
    man = json.loads((tmp_path / "easytrans.json").read_text())
    man["feature_schema"] = -1
    (tmp_path / "easytrans.json").write_text(json.dumps(man))
    with pytest.raises(InputError, match="trained on feature schema -1"):
        load_easytrans(tmp_path)
    (tmp_path / "easytrans.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(InputError, match="not an EasyTransferability manifest"):
        load_easytrans(tmp_path)
    with pytest.raises(InputError, match="missing easytrans.json"):
        load_easytrans(tmp_path / "nowhere")


# -- assess ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo():
    from transferability.datasets import make_demo_pair

    return make_demo_pair(n_source=150, n_target=120, random_state=0)


@pytest.fixture(scope="module")
def synthetic_models():
    """Models trained on synthetic records of the current feature schema (independent of the store)."""
    return train_easytrans(synthetic_records(), includes_default=False, evaluate=False)


def test_synthetic_models_learn_the_signal(synthetic_models):
    from transferability.meta import FEATURE_NAMES

    model, _, entry = synthetic_models.model("1nn")
    assert entry["thresholds"] == LADDER
    lo = {f: 2.0 for f in FEATURE_NAMES}
    lo["n_target"] = 40.0  # 20 rows per class: the size rule (fewer than 4 per class abstains) stays out
    hi = {**lo, FEATURE_NAMES[0]: 30.0}
    p_lo = assess_from_features(lo, models=synthetic_models).score
    p_hi = assess_from_features(hi, models=synthetic_models).score
    assert p_hi > p_lo + 0.3


def test_assess_result_and_the_label_free_model(demo, synthetic_models):
    src, tgt = demo
    a = assess(src.X, src.y, tgt.X, models=synthetic_models)
    d = a.to_dict()
    assert d["uses_source_labels"] is True and d["k"] == 10 and d["threshold"] == 0.5
    assert d["worth_transferring"] == (d["score"] > 0.5)
    assert d["score"] == d["probabilities"]["10"]
    assert set(d["divergences"]) == {f[4:] for f in LABEL_FREE_FEATURES if f.startswith("div_")}
    assert (d["n_source"], d["n_target"], d["n_features"]) == (150, 120, src.X.shape[1])
    free = assess(src.X, None, tgt.X, models=synthetic_models)
    assert free.uses_source_labels is False
    assert free.divergences == a.divergences
    # k maps onto the ladder: k = 7 asks k* >= 10
    assert assess(src.X, src.y, tgt.X, k=7, models=synthetic_models).score == a.score
    with pytest.raises(InputError, match="above what the models know"):
        assess(src.X, src.y, tgt.X, k=20, models=synthetic_models)
    with pytest.raises(InputError, match="no EasyTransferability model for base estimator 'svm'"):
        assess(src.X, src.y, tgt.X, base_estimator="svm", models=synthetic_models)


def test_assess_from_features_picks_the_model_by_what_is_present(demo, synthetic_models):
    src, tgt = demo
    feats = compute_meta_features(src.X, src.y, tgt.X)
    assert assess_from_features(feats, models=synthetic_models).uses_source_labels is True
    free = {f: feats[f] for f in LABEL_FREE_FEATURES}
    a = assess_from_features(free, models=synthetic_models)
    assert a.uses_source_labels is False
    assert a.score == assess(src.X, None, tgt.X, models=synthetic_models).score
    with pytest.raises(InputError, match="meta-features lack"):
        assess_from_features({"div_mmd": 0.1}, uses_source_labels=False, models=synthetic_models)


# -- evaluation -----------------------------------------------------------------------------------------
def test_threshold_metrics_within_group_auc_brier_skill_and_reliability():
    from transferability.meta.evaluation._easytrans_eval import threshold_metrics

    y = np.array([1, 0, 1, 0, 1, 1, np.nan, 1.0])
    p = np.array([0.9, 0.1, 0.4, 0.6, 0.8, 0.7, 0.5, 0.75])
    g = np.array(["a", "a", "b", "b", "c", "c", "c", "c"])
    base = np.full(8, 0.5)
    m = threshold_metrics(y, p, base, g)
    assert m["n"] == 7  # the unknown label is left out
    # group a: perfect (1.0), group b: inverted (0.0), group c: one class only -> not counted
    assert m["n_auc_groups"] == 2 and m["auc_within"] == 0.5
    known = ~np.isnan(y)
    brier = np.mean((p[known] - y[known]) ** 2)
    assert_allclose(m["brier"], brier)
    assert_allclose(m["bss"], 1 - brier / 0.25)
    assert_allclose(m["accuracy"], 5 / 7)
    assert sum(r["n"] for r in m["reliability"]) == 7
    assert_allclose(m["max_gap"], max(abs(r["mean_predicted"] - r["observed"]) for r in m["reliability"]))


def test_choose_learners_ships_the_inner_choice_whatever_the_held_out_scores():
    from transferability.meta.evaluation._easytrans_eval import choose_learners

    def entry(bss):
        return {"thresholds": {10: {"bss": bss}}}

    summary = {"family": {c: entry(0.9) for c in ("labelled_auto", "labelled_lgbm", "labelled_logistic")},
               "base": {"labelled_auto": entry(0.1), "labelled_lgbm": entry(0.3), "labelled_logistic": entry(0.3),
                        "label_free_auto": entry(float("nan")), "label_free_lgbm": entry(-0.2)}}
    ch = choose_learners(summary, 10)
    assert ch["protocol"] == "base"
    # a better held-out score of another learner does not change what ships (no choice on test groups)
    assert ch["labelled"] == "labelled_auto" and ch["labelled_learner"] == "auto"
    assert ch["label_free"] == "label_free_auto"
    assert ch["labelled_bss"] == {"labelled_auto": 0.1, "labelled_lgbm": 0.3, "labelled_logistic": 0.3}
    # without the auto row (a partial evaluation) the first evaluated learner is reported
    ch = choose_learners({"base": {"label_free_lgbm": entry(0.2), "label_free_logistic": entry(0.4)}}, 10)
    assert ch["label_free"] == "label_free_lgbm" and "labelled" not in ch


def test_evaluate_table_in_two_workers_gives_the_same_probabilities_as_one():
    from transferability.meta.evaluation._easytrans_eval import evaluate_table

    t = build_label_tables(synthetic_records(40))["1nn"]
    one = evaluate_table(t, ("base",), learners=("labelled_logistic",))
    two = evaluate_table(t, ("base",), learners=("labelled_logistic",), n_jobs=2)
    for c, P in one["predictions"]["base"].items():
        assert_array_equal(P, two["predictions"]["base"][c])
    assert one["chosen"] == two["chosen"]


def test_evaluation_section_on_synthetic_records(tmp_path):
    from transferability.meta.evaluation._easytrans_eval import easytrans_section

    text = easytrans_section(synthetic_records(60), tmp_path / "figures",
                             learners=("labelled_lgbm", "labelled_logistic", "label_free_logistic"))
    assert "### Base estimator `1nn`" in text and "#### leave-one-base-out, k = 10" in text
    assert "— shipped**" in text and "Brier skill score ≥ 0.2" in text
    assert "![reliability, 1nn](figures/easytrans-reliability-1nn.png)" in text
    assert (tmp_path / "figures" / "easytrans-reliability-1nn.png").stat().st_size > 0
