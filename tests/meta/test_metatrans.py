"""MetaTrans: candidates, guarded policy, conformal quantiles, metrics, model files, recommend()."""

import json
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from transferability.meta.evaluation._protocols import NEG_POINTS, pair_metrics
from transferability.meta.learners._metatrans import (
    FixedDefault, KNNEffect, LGBMEffect, conformal_quantiles, guarded_pick, inner_calibration,
)
from transferability.meta.evaluation._training import choose_candidate, train_models
from transferability.meta.learners._modelfiles import MANIFEST, load_models, save_models
from transferability.meta.learners._recommend import recommend, recommend_from_features
from transferability.meta.learners._runtime import RuntimeModel
from transferability.meta.learners._table import TrainingTable, build_tables
from transferability.utils.validation import InputError


def _table(acc, families, X=None):
    acc = np.asarray(acc, dtype=float)
    n, m = acc.shape
    methods = ["no_adapt"] + [f"m{j}" for j in range(1, m)]
    X = np.arange(n * 3, dtype=float).reshape(n, 3) if X is None else np.asarray(X, dtype=float)
    return TrainingTable(
        base_estimator="1nn", feature_names=["n_source", "n_target", "n_features"], methods=methods, X=X,
        accuracy=acc, log_effect=np.log(np.maximum(acc, 0.01) / np.maximum(acc[:, [0]], 0.01)),
        runtime=np.ones((n, m)), names=[f"p{i}" for i in range(n)], keys=[str(i) for i in range(n)],
        families=np.asarray(families), bases=np.asarray(families), tasks=np.asarray([f"t{i}" for i in range(n)]))


def test_guarded_pick_margin_semantics():
    eff = np.array([[0.0, 0.10, 0.05], [0.0, 0.01, 0.02], [0.3, 0.0, 0.0]])
    assert_array_equal(guarded_pick(eff, 2, math.inf), [2, 2, 2])
    assert_array_equal(guarded_pick(eff, 2, 0.0), [1, 2, 0])  # margin 0 = the learner's argmax
    assert_array_equal(guarded_pick(eff, 2, 0.04), [1, 2, 0])  # gains 0.05, 0, 0.3 all above 0.04 but the 2nd
    assert_array_equal(guarded_pick(eff, 2, 0.06), [2, 2, 0])


def test_conformal_quantiles_order_statistics_and_coverage():
    r = np.arange(1.0, 10.0)[:, None]  # n = 9: floor(0.1 * 10) = 1st, ceil(0.9 * 10) = 9th smallest
    lo, hi = conformal_quantiles(r, 0.8)
    assert (lo[0], hi[0]) == (1.0, 9.0)
    rng = np.random.RandomState(0)
    cal, new = rng.randn(999, 1), rng.randn(200000)
    lo, hi = conformal_quantiles(cal, 0.8)
    assert 0.78 < np.mean((new >= lo[0]) & (new <= hi[0])) < 0.82


def test_group_weighted_conformal_gives_every_group_the_same_weight():
    rng = np.random.RandomState(0)
    r = np.concatenate([rng.uniform(0, 1, 95), rng.uniform(10, 11, 5)])[:, None]
    groups = np.array(["big"] * 95 + ["small"] * 5)
    lo, hi = conformal_quantiles(r, 0.8)
    assert hi[0] < 1  # rows: the 91st smallest of 100 is still in the big group
    lo_g, hi_g = conformal_quantiles(r, 0.8, groups=groups)
    assert lo_g[0] < 1 and hi_g[0] >= 10  # groups: the small group holds half the weight
    # equal-sized groups: the weighted quantiles are plain quantiles at levels a k/(k+1), 1 - a k/(k+1)
    r2 = np.arange(100.0)[:, None]
    lo2, hi2 = conformal_quantiles(r2, 0.8, groups=np.repeat(np.arange(4), 25))
    assert (lo2[0], hi2[0]) == (7.0, 91.0)  # levels 0.08 and 0.92 of 100 equal weights


def test_fixed_default_is_group_macro_best_not_pair_mean_best():
    # family a (9 pairs) prefers m1 by 0.1; family b (1 pair) prefers m2 by 0.5
    acc = np.array([[0.5, 0.7, 0.6]] * 9 + [[0.5, 0.3, 0.8]])
    t = _table(acc, ["a"] * 9 + ["b"])
    assert np.argmax(acc.mean(axis=0)) == 1  # the pair mean would pick m1 (0.66 vs 0.62)
    fixed = FixedDefault().fit(t)
    assert t.methods[fixed.default_] == "m2"  # family-macro: m1 = 0.5, m2 = 0.7
    assert_allclose(fixed.mean_accuracy_, [0.5, 0.5, 0.7])


def test_knn_reproduces_training_pair_with_one_neighbor_and_loo_distance():
    rng = np.random.RandomState(0)
    acc = rng.uniform(0.3, 0.9, size=(20, 4))
    t = _table(acc, ["a"] * 10 + ["b"] * 10, X=rng.randn(20, 3))
    knn = KNNEffect(n_neighbors=1).fit(t)
    assert_allclose(knn.predict(t.X[:5]), t.log_effect[:5], atol=1e-9)
    Z = knn.reference_
    d = np.sqrt(((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    assert_allclose(knn.distance_.loo_distances(), d.min(axis=1), atol=1e-9)
    assert knn.distance_.threshold == pytest.approx(np.percentile(d.min(axis=1), 99))


def test_knn_with_a_missing_feature_still_finds_the_nearest_pairs():
    # one training pair and one query miss a feature (NaN): it must count as the training mean,
    # not turn every distance into NaN (which made argsort return the first rows for every query)
    rng = np.random.RandomState(3)
    acc = rng.uniform(0.3, 0.9, size=(30, 4))
    X = rng.randn(30, 3)
    X[4, 1] = np.nan
    t = _table(acc, ["a"] * 15 + ["b"] * 15, X=X)
    knn = KNNEffect(n_neighbors=1).fit(t)
    assert np.all(np.isfinite(knn.mean_)) and np.all(np.isfinite(knn.reference_))
    assert_allclose(knn.predict(t.X[20:25]), t.log_effect[20:25], atol=1e-9)
    q = t.X[[22]].copy()
    q[0, 1] = np.nan
    idx, dist = knn.neighbors(q)
    assert np.isfinite(dist).all()
    Z = knn.reference_
    expect = np.argmin(((Z[:, [0, 2]] - knn.transform(q)[:, [0, 2]]) ** 2).sum(1) + Z[:, 1] ** 2)
    assert idx[0, 0] == expect


def test_lgbm_is_deterministic_and_no_adapt_effect_is_one():
    rng = np.random.RandomState(1)
    acc = rng.uniform(0.3, 0.9, size=(60, 4))
    t = _table(acc, ["a"] * 30 + ["b"] * 30, X=rng.randn(60, 3))
    a, b = LGBMEffect().fit(t), LGBMEffect().fit(t)
    assert a.booster_.model_to_string() == b.booster_.model_to_string()
    assert_array_equal(a.predict(t.X)[:, 0], 0.0)


def test_inner_calibration_uses_training_groups_only():
    rng = np.random.RandomState(2)
    acc = rng.uniform(0.3, 0.9, size=(40, 3))
    t = _table(acc, np.repeat(["a", "b", "c", "d"], 10), X=rng.randn(40, 3))
    cal = inner_calibration(t, "family", learners=("knn",))
    for g in "abcd":
        rows = t.families == g
        other = t.subset(~rows)
        expect = KNNEffect().fit(other).predict(t.X[rows])
        assert_allclose(cal["oof"]["knn"][rows], expect)
        assert np.all(cal["defaults"][rows] == FixedDefault().fit(other, other.families).default_)
    assert cal["margins"]["knn"] in cal["margin_regret"]["knn"]


def test_pair_metrics_by_hand():
    acc = np.array([[0.50, 0.60, 0.70], [0.80, 0.70, 0.75]])
    m = pair_metrics(acc, np.array([1, 1]), scores=np.array([[0, 2, 1], [0, 2, 1.0]]),
                     effects=np.array([[0, 0.1, 0.2], [0, 0.1, 0.1]]),
                     lower=np.full((2, 3), -1.0), upper=np.full((2, 3), -0.5), no_adapt=0)
    assert_allclose(m["regret"], [10.0, 10.0])
    assert_allclose(m["neg_transfer"], [0.0, 1.0])  # 0.70 < 0.80 - NEG_POINTS/100
    assert NEG_POINTS == 1.0
    assert_allclose(m["top1"], [0.0, 0.0])
    # pair 0: gains (0, .1, .2); predicted order m1, m2, m0: DCG = .1 + .2/log2(3); IDCG = .2 + .1/log2(3)
    assert_allclose(m["ndcg3"][0], (0.1 + 0.2 / np.log2(3)) / (0.2 + 0.1 / np.log2(3)))
    assert_allclose(m["effective_acc"], [1.0, 0.0])
    assert_allclose(m["coverage"], [0.0, 0.0])


def test_runtime_model_recovers_a_power_law():
    rng = np.random.RandomState(3)
    sizes = np.column_stack([rng.randint(50, 2000, 30), rng.randint(50, 2000, 30), rng.randint(5, 500, 30)])
    t = np.exp(-3.0) * (sizes[:, 0] + sizes[:, 1]) ** 1.5 * sizes[:, 2] ** 0.5
    rm = RuntimeModel().fit(sizes, t[:, None], ["tca"])
    assert_allclose(rm.coef_["tca"], [-3.0, 1.5, 0.5], atol=1e-8)
    assert_allclose(rm.predict(1000, 1000, 100)["tca"], np.exp(-3.0) * 2000 ** 1.5 * 10.0, rtol=1e-8)
    assert RuntimeModel.from_dict(rm.to_dict()).coef_ == rm.coef_


def test_choose_candidate_keeps_fixed_unless_clearly_better_everywhere():
    def s(fixed, cand, neg_f=0.1, neg_c=0.1):
        o = {"fixed": {"overall": {"regret": fixed, "neg_transfer": neg_f}}}
        for c in ("knn", "lgbm", "guarded_knn", "guarded_lgbm"):
            o[c] = {"overall": {"regret": cand, "neg_transfer": neg_c}}
        return o
    assert choose_candidate({"family": s(2.0, 1.0), "base": s(2.0, 1.0)})[0] == "knn"
    assert choose_candidate({"family": s(2.0, 2.3), "base": s(2.0, 1.0)})[0] == "fixed"  # > 0.2 worse in one
    assert choose_candidate({"family": s(2.0, 1.0), "base": s(2.0, 1.98)})[0] == "fixed"  # < 0.05 better
    assert choose_candidate({"family": s(2.0, 1.0), "base": s(2.0, 1.0, neg_c=0.2)})[0] == "fixed"
    assert choose_candidate({})[0] == "fixed"


# --- model files, trained on synthetic records of the current feature schema ---------------

METHODS = ["bda", "coral", "easytl", "gfk", "jda", "kliep", "kmm", "meda", "msda", "no_adapt", "sa", "tca"]


def make_records(n_per_task=3, seed=0):
    """Store records of the current feature schema: 4 families x 2 bases x 3 tasks x variants.

    ``meda`` is best unless the first meta-feature (and the 14 after it, its noisy copies) is
    positive, where ``tca`` is; runtimes grow
    with the pair's size. Real-style provenance (paths) for two families, generator for two.
    """
    import hashlib

    from transferability.meta.learners._features import FEATURE_NAMES, FEATURE_SCHEMA_VERSION
    from transferability.utils.identity import pair_key, preprocess_key

    rng = np.random.RandomState(seed)
    recs = []
    for fi, fam in enumerate(["fam_a", "fam_b", "gen_c", "gen_d"]):
        for bi in range(2):
            base = f"base{fi % 2 + 2 * bi}"
            for ti in range(3):
                for v in range(n_per_task):
                    name = f"{fam}/{base}/task{ti}/v{v}"
                    z = rng.randn() + (1.0 if fi == 1 else 0.0)  # the planted signal, carried by 15 features
                    feats = {f: float(abs(rng.randn()) + 0.1) if i >= 15 else float(z + 0.1 * rng.randn())
                             for i, f in enumerate(FEATURE_NAMES)}
                    feats[FEATURE_NAMES[0]] = float(z)
                    ns, nt, d = int(rng.randint(50, 500)), int(rng.randint(50, 500)), int(rng.randint(5, 300))
                    feats.update(n_source=float(ns), n_target=float(nt), n_features=float(d))
                    a0 = rng.uniform(0.4, 0.7)
                    boost = {m: rng.uniform(-0.05, 0.05) for m in METHODS}
                    boost["no_adapt"] = 0.0
                    if feats[FEATURE_NAMES[0]] > 0:
                        boost["tca"] = 0.15
                    else:
                        boost["meda"] = 0.1
                    outcomes = [{"method": m, "params": {}, "base_estimator": be, "seed": 0,
                                 "target_accuracy": float(np.clip(a0 + boost[m] + (0.02 if be == "logreg" else 0), 0, 1)),
                                 "runtime_s": float(1e-4 * (ns + nt) ** 1.2 * (1 + j) * np.exp(0.1 * rng.randn())),
                                 "status": "ok", "error": None, "library_version": "0", "created_at": "2026-01-01"}
                                for j, m in enumerate(METHODS) for be in ("1nn", "logreg")]
                    if fam.startswith("gen"):
                        prov_s = {"generator": {"base": base, "kind": fam, "level": float(ti), "seed": v}, "role": "source"}
                        prov_t = {"generator": {"base": base, "kind": fam, "level": float(ti), "seed": v}, "role": "target"}
                    else:
                        prov_s = {"path": f"{base}/dom{ti}.mat", "seed": v}
                        prov_t = {"path": f"{base}/dom{ti + 1}.mat", "seed": 10 + v}
                    # k-shot baselines rising with k around the outcomes, so that k* spreads (the
                    # EasyTransferability models that `meta train` also writes learn from them)
                    kshot = [{"base_estimator": be, "k": k, "seed": 0, "n_draws": 5,
                              "accuracy": float(np.clip(a0 - 0.12 + 0.05 * i + 0.03 * rng.randn(), 0, 1))}
                             for be in ("1nn", "logreg") for i, k in enumerate((1, 3, 5, 10, 20, 50))]
                    fp = [hashlib.sha256(f"{name}/{side}".encode()).hexdigest() for side in ("s", "t")]
                    recs.append({
                        "name": name, "family": fam, "preprocess": "none", "feature_schema": FEATURE_SCHEMA_VERSION,
                        "meta_features": feats, "outcomes": outcomes, "kshot": kshot,
                        "key": pair_key(fp[0], fp[1], preprocess_key("none")),
                        "source": {"fingerprint": fp[0], "n_samples": ns, "n_features": d, "n_classes": 2,
                                   "classes": ["0", "1"], "provenance": prov_s},
                        "target": {"fingerprint": fp[1], "n_samples": nt, "n_features": d, "n_classes": None,
                                   "classes": None, "provenance": prov_t}})
    return recs


@pytest.fixture(scope="module")
def small_records():
    return make_records()


@pytest.fixture(scope="module")
def small_models(small_records, tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    save_models(train_models(small_records, includes_default=False), d)
    return d


def test_learners_find_the_planted_rule(small_records):
    from transferability.meta.evaluation._protocols import evaluate_protocol, summarize

    t = build_tables(small_records)["1nn"]
    assert sorted(set(t.bases.tolist())) == ["base0", "base1", "base2", "base3"]
    s = summarize(evaluate_protocol(t, "base"))
    # the fixed default (meda) loses ~15 points wherever tca is planted; kNN and LightGBM learn the rule
    assert s["knn"]["overall"]["regret"] < s["fixed"]["overall"]["regret"]
    assert s["lgbm"]["overall"]["regret"] < s["fixed"]["overall"]["regret"]
    assert s["oracle"]["overall"]["regret"] == 0.0


def _assert_same_nested(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_same_nested(a[k], b[k])
    elif isinstance(a, np.ndarray):
        assert_array_equal(a, b)
    else:
        assert a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


def test_evaluation_folds_in_two_workers_give_the_same_result_as_one(small_records):
    from transferability.meta.evaluation._protocols import evaluate_protocol, learning_curve

    t = build_tables(small_records)["1nn"]
    one = evaluate_protocol(t, "family", candidates=("fixed", "knn", "guarded_lgbm"))
    two = evaluate_protocol(t, "family", candidates=("fixed", "knn", "guarded_lgbm"), n_jobs=2)
    _assert_same_nested(one, two)
    kw = dict(family_min_tasks=3, add_back=(0, 2), repeats=2, learners=("fixed", "knn"))
    _assert_same_nested(learning_curve(t, **kw), learning_curve(t, n_jobs=2, **kw))


def test_training_twice_gives_identical_files(small_records, small_models, tmp_path):
    (tmp_path / "metatrans-stale.txt").write_text("from an earlier training")
    (tmp_path / "easytrans-keep.txt").write_text("another learner's file")
    save_models(train_models(small_records, includes_default=False), tmp_path)
    assert not (tmp_path / "metatrans-stale.txt").exists()
    (tmp_path / "easytrans-keep.txt").unlink()  # left alone by save_models
    names = sorted(p.name for p in small_models.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    for n in names:
        assert (small_models / n).read_bytes() == (tmp_path / n).read_bytes()
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert "pickle" not in (tmp_path / MANIFEST).read_text()
    assert set(manifest["models"]) == {"1nn", "logreg"}
    for e in manifest["models"].values():
        assert e["fallback"] == (e["candidate"] == "fixed")
        assert len(e["conformal"]["lower"]) == len(e["methods"])


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_load_models_refuses_other_schema_and_hash(small_models, tmp_path):
    d = _copy(small_models, tmp_path / "m")
    man = json.loads((d / MANIFEST).read_text())
    man["feature_schema"] = -1
    (d / MANIFEST).write_text(json.dumps(man))
    with pytest.raises(InputError, match="feature schema -1"):
        load_models(d)
    man["feature_schema"] = json.loads((small_models / MANIFEST).read_text())["feature_schema"]
    man["includes_default"], man["default_records_hash"] = True, "0000"
    (d / MANIFEST).write_text(json.dumps(man))
    with pytest.raises(InputError, match="trained on shipped records 0000"):
        load_models(d)


def test_load_models_refuses_bad_files(small_models, tmp_path):
    with pytest.raises(InputError, match="no MetaTrans models"):
        load_models(tmp_path)
    (tmp_path / MANIFEST).write_text("{not json")
    with pytest.raises(InputError, match="cannot read"):
        load_models(tmp_path)
    (tmp_path / MANIFEST).write_text(json.dumps({"format": "something else"}))
    with pytest.raises(InputError, match="not a MetaTrans manifest"):
        load_models(tmp_path)
    d = _copy(small_models, tmp_path / "m")
    man = json.loads((d / MANIFEST).read_text())
    be = "1nn"
    man["models"][be]["methods"][1] = "warp_drive"
    (d / MANIFEST).write_text(json.dumps(man))
    with pytest.raises(InputError, match="does not have: warp_drive"):
        load_models(d).model(be)
    with pytest.raises(InputError, match="no MetaTrans model for base estimator 'svm9'"):
        load_models(small_models).model("svm9")


def test_corrupt_lightgbm_file_is_refused(tmp_path):
    from transferability.meta.learners._files import file_entry, models_dir

    d = _copy(models_dir(), tmp_path / "m")  # the shipped models hold a LightGBM file
    man = json.loads((d / MANIFEST).read_text())
    be, e = next((be, e) for be, e in man["models"].items() if e["lgbm_file"])
    text = "this is not a LightGBM model\n"
    (d / e["lgbm_file"]).write_text(text)
    with pytest.raises(InputError, match="truncated or changed since it was written"):
        load_models(d)
    man["files"][e["lgbm_file"]] = file_entry(text)  # a manifest that vouches for the bad file
    (d / MANIFEST).write_text(json.dumps(man))
    with pytest.raises(InputError, match="does not start with LightGBM's 'tree' header"):
        load_models(d)


def test_recommend_contract_budget_top_and_ood(small_models, small_records):
    from transferability.datasets import make_demo_pair

    src, tgt = make_demo_pair(n_source=150, n_target=120, random_state=0)
    rec = recommend(src.X, src.y, tgt.X, models=small_models)
    d = rec.to_dict()
    for k in ("ranking", "best", "fallback", "in_distribution", "transferability", "version"):
        assert k in d
    methods = [p["method"] for p in d["ranking"]]
    assert len(methods) == 12 and d["best"] == methods[0]
    na = d["ranking"][methods.index("no_adapt")]
    assert na["predicted_effect"] == 1.0 and na["effective"] is False
    for p in d["ranking"]:
        assert p["effective"] == (p["predicted_effect"] > 1)
        assert p["confidently_effective"] == (p["interval"][0] > 1)
        assert p["interval"][0] <= p["interval"][1] and p["predicted_runtime_s"] > 0 and len(p["reasons"]) == 3
    # target labels never enter: the same answer without them
    assert recommend(src.X, src.y, tgt.X, models=small_models).to_dict()["ranking"] == d["ranking"]
    times = sorted(p["predicted_runtime_s"] for p in d["ranking"])
    budget = (times[3] + times[4]) / 2
    b = recommend_from_features(rec.meta_features, models=small_models, budget=budget)
    assert len(b.ranking) == 4 and all(p.predicted_runtime_s <= budget for p in b.ranking)
    assert len(b.excluded_by_budget) == 8
    assert len(recommend_from_features(rec.meta_features, models=small_models, top=2).ranking) == 2
    far = {k: v * 1e6 + 1e6 for k, v in rec.meta_features.items()}
    assert recommend_from_features(far, models=small_models).in_distribution is False
    near = small_records[0]["meta_features"]
    assert recommend_from_features(near, models=small_models).in_distribution is True
    with pytest.raises(InputError, match="budget must be a positive"):
        recommend_from_features(near, models=small_models, budget=-1)
    with pytest.raises(InputError, match="top must be a positive"):
        recommend_from_features(near, models=small_models, top=0)
    with pytest.raises(InputError, match="meta-features lack"):
        recommend_from_features({"n_source": 1}, models=small_models)


def test_shipped_models_load_and_match_the_shipped_records():
    from transferability.meta.learners._modelfiles import shipped_records_hash

    models = load_models()  # raises on another feature schema, or shipped records changed without a retrain
    # trained on exactly the shipped records (not on a user's store, nor on a refreshed copy)
    assert models.manifest["store_hash"] == shipped_records_hash()
    assert set(models.base_estimators) >= {"1nn", "logreg"}
    for be in models.base_estimators:
        m = models.model(be)
        assert m.entry["fallback"] == (m.entry["candidate"] == "fixed")
        assert "base" in m.entry["metrics"] and "family" in m.entry["metrics"]


def test_table_from_store_matches_records(small_records, tmp_path):
    from transferability.meta.learners._table import load_records
    from transferability.meta_store import MetaStore, import_records

    with MetaStore(str(tmp_path / "s.sqlite")) as st:
        import_records(st, small_records)
    recs = load_records(str(tmp_path / "s.sqlite"), with_default=False)
    a, b = build_tables(recs)["1nn"], build_tables(small_records)["1nn"]
    assert sorted(a.names) == sorted(b.names) and a.keys == sorted(a.keys)
    order = [b.names.index(n) for n in a.names]
    assert_allclose(a.log_effect, b.log_effect[order])
    assert_allclose(a.X, b.X[order])
    assert list(a.bases) == list(b.bases[order]) and list(a.tasks) == list(b.tasks[order])


def test_fixed_candidate_always_recommends_the_default_and_says_fallback(small_models, small_records, tmp_path):
    d = _copy(small_models, tmp_path / "m")
    man = json.loads((d / MANIFEST).read_text())
    e = man["models"]["logreg"]
    e.update(candidate="fixed", margin=None, fallback=True, effect_learner="knn", lgbm_file=None)
    (d / MANIFEST).write_text(json.dumps(man))
    for r in small_records[:15]:
        rec = recommend_from_features(r["meta_features"], base_estimator="logreg", models=d)
        assert rec.best == e["default"] and rec.fallback is True
    e.update(candidate="knn", margin=0.0, fallback=False)
    (d / MANIFEST).write_text(json.dumps(man))
    picks = [recommend_from_features(r["meta_features"], base_estimator="logreg", models=d) for r in small_records]
    assert all(p.fallback is False for p in picks)
    assert all(p.best == max(p.ranking, key=lambda q: q.predicted_effect).method for p in picks)


def test_posthoc_selection_scores_by_hand():
    from sklearn.neighbors import KNeighborsClassifier

    from transferability.meta.build._build import materialize
    from transferability.meta.evaluation._posthoc import posthoc_selection
    from transferability.methods import get_method

    spec = {"name": "label_shift/wine/level-0.4/seed-0", "family": "label_shift", "preprocess": "none",
            "generator": {"kind": "label_shift", "base": "wine", "level": 0.4, "seed": 0}}
    methods = ["no_adapt", "coral", "tca"]
    r = posthoc_selection([spec], methods)
    Xs, ys, Xt, yt, *_ = materialize(spec)
    preds = [get_method(m, base_estimator="1nn", random_state=0).fit_domains(Xs, ys, Xt).predict(Xt) for m in methods]
    assert_allclose(r["accuracy"][0], [np.mean(p == yt) for p in preds])
    rev = KNeighborsClassifier(n_neighbors=1).fit(Xt, preds[0]).predict(Xs)
    assert_allclose(r["scores"]["circular_validation"][0, 0], np.mean(rev == ys))
    P = np.array(preds)
    for j in range(3):  # agreement with the majority vote is at least the share where all three agree
        assert r["scores"]["ensemble_agreement"][0, j] >= np.mean((P[0] == P[1]) & (P[1] == P[2])) - 1e-12
    for s, v in r["scores"].items():
        assert r["picks"][s][0] == np.argmax(v[0])
    assert r["run_all_s"][0] > 0 and r["features_s"][0] > 0


def test_shipped_records_hash_is_kept_per_process_but_follows_a_changed_file(tmp_path, monkeypatch):
    import os

    import transferability.meta_store as meta_store
    from transferability.meta.learners import _modelfiles

    recs = make_records(n_per_task=1)
    path = tmp_path / "default.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs[:3]))
    monkeypatch.setattr(meta_store, "records_dir", lambda: tmp_path)
    first = _modelfiles.shipped_records_hash()
    assert first == _modelfiles.records_hash(recs[:3])
    assert _modelfiles.shipped_records_hash() == first  # from the cache
    path.write_text("".join(json.dumps(r) + "\n" for r in recs[:4]))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a new modification time, whatever the clock
    assert _modelfiles.shipped_records_hash() == _modelfiles.records_hash(recs[:4]) != first


def test_guarded_pick_falls_back_to_no_adapt_when_the_kept_default_is_predicted_to_hurt():
    from transferability.meta.learners._metatrans import guarded_pick

    # columns: no_adapt, meda (default), jda
    eff = np.array([[0.0, 0.05, 0.06],    # jda's gain 0.01 < margin: the default is kept (it helps)
                    [0.0, -0.02, -0.01],  # the default is kept by the margin but predicted to hurt
                    [0.0, -0.10, 0.20]])  # jda clears the margin
    assert list(guarded_pick(eff, 1, 0.05)) == [1, 1, 2]  # without no_adapt: the old rule
    assert list(guarded_pick(eff, 1, 0.05, 0)) == [1, 0, 2]
    assert list(guarded_pick(eff, 1, float("inf"), 0)) == [1, 0, 0]
