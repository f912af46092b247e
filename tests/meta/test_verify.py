"""The few-label verification (learners/_verify.py): the guarded rule, the label files, the k-shot
baseline on the labelled rows, `recommend(target_labels=...)` and the value of labels."""

import json
import math
import os

import numpy as np
import pytest

from transferability.datasets import make_demo_pair
from transferability.meta.learners._recommend import recommend
from transferability.meta.learners._verify import (
    TargetLabels, argmax_choice, check_target_labels, guarded_choice, kshot_on_labels, label_value,
    load_label_rules, paired_lead, wilson_interval,
)
from transferability.utils.validation import InputError


# -- the rule ------------------------------------------------------------------------------------
def test_paired_lead_is_mean_and_se_of_the_row_differences():
    a = np.array([1, 1, 0, 1, 0, 1, 1, 0])
    b = np.array([1, 0, 0, 0, 0, 1, 1, 1])
    d = a - b
    lead, se = paired_lead(a, b)
    assert lead == pytest.approx(d.mean())
    assert se == pytest.approx(d.std(ddof=1) / math.sqrt(len(d)))
    assert paired_lead([1], [0]) == (1.0, 0.0)


def test_guarded_keeps_the_start_unless_the_lead_clears_c_standard_errors():
    # start (0) right on 10 of 20, challenger (1) right on the same 10 and on 3 more
    start = np.r_[np.ones(10), np.zeros(10)]
    chal = start.copy()
    chal[10:13] = 1
    C = np.array([start, chal, np.zeros(20)])
    lead, se = paired_lead(chal, start)
    assert lead == pytest.approx(0.15)
    ratio = lead / se
    assert guarded_choice(C, 0, c=ratio - 0.01)[0] == 1
    assert guarded_choice(C, 0, c=ratio + 0.01)[0] == 0
    assert guarded_choice(C, 0, c=0.0)[0] == 1
    # a tie never switches, whatever c
    assert guarded_choice(np.array([start, start]), 0, c=0.0)[0] == 0


def test_guarded_never_picks_a_method_that_did_not_run():
    C = np.array([[0, 0, 0], [1, 1, 1], [1, 1, 0]], float)
    assert guarded_choice(C, 0, 0.0, available=[True, False, True])[0] == 2
    # the start did not run: the best-scoring method that did
    assert guarded_choice(C, 0, 5.0, available=[False, False, True])[0] == 2


def test_argmax_ties_follow_the_preference_order():
    C = np.array([[1, 0], [1, 0], [0, 1]], float)
    assert argmax_choice(C) == 0
    assert argmax_choice(C, preference=[2, 1]) == 2
    assert argmax_choice(C, available=[False, True, True], preference=[2, 1]) == 2


@pytest.mark.parametrize("k,n", [(13, 20), (0, 10), (10, 10), (1, 1)])
def test_wilson_interval_matches_scipy(k, n):
    from scipy.stats import binomtest

    ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(ref.low, abs=1e-9) and hi == pytest.approx(ref.high, abs=1e-9)


# -- label files ---------------------------------------------------------------------------------
def _csv(tmp_path, text, name="labels.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_label_file_rows_and_labels_match_the_source_classes_by_text(tmp_path):
    path = _csv(tmp_path, "row,label\n3,1\n0,2\n7,1\n")
    lab = check_target_labels(path, 10, np.array([1, 2, 3]))
    assert lab.rows.tolist() == [3, 0, 7]
    assert lab.labels.tolist() == [1, 2, 1] and lab.labels.dtype.kind == "i"
    # string classes, other columns ignored, header order free, BOM tolerated
    path = _csv(tmp_path, "\ufefflabel,note,row\ncat,x,1\ndog,y,4\n", "b.csv")
    lab = check_target_labels(path, 5, np.array(["cat", "dog"]))
    assert lab.rows.tolist() == [1, 4] and lab.labels.tolist() == ["cat", "dog"]


@pytest.mark.parametrize("text,needle", [
    ("row,label\n12,1\n", "row 12 is not a target row (the target has 10 rows"),
    ("row,label\n1,9\n", "label '9' is not a source class"),
    ("row,label\n1,1\n1,2\n", "target row 1 is labelled more than once"),
    ("row,label\nfirst,1\n", "'first' is not a non-negative integer"),
    ("row,label\n-1,1\n", "'-1' is not a non-negative integer"),
    ("row,label\n1.5,1\n", "'1.5' is not a non-negative integer"),
    ("", "is empty"),
    ("index,y\n1,1\n", "has no 'row' and 'label' columns"),
    ("row,label\n", "no labelled row"),
    ("row,label\n1\n", "line 2 has 1 field(s)"),
])
def test_bad_label_files_are_one_line_errors(tmp_path, text, needle):
    path = _csv(tmp_path, text)
    with pytest.raises(InputError) as exc:
        check_target_labels(path, 10, np.array([1, 2]))
    assert needle in str(exc.value) and "\n" not in str(exc.value)


def test_label_file_that_is_not_a_regular_file_or_not_utf8(tmp_path):
    with pytest.raises(InputError, match="is not a regular file"):
        check_target_labels(str(tmp_path), 10, np.array([1, 2]))
    p = tmp_path / "latin.csv"
    p.write_bytes(b"row,label\n1,\xe9\n")
    with pytest.raises(InputError, match="not UTF-8"):
        check_target_labels(str(p), 10, np.array([1, 2]))
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo)
        with pytest.raises(InputError, match="not a regular file"):
            check_target_labels(str(fifo), 10, np.array([1, 2]))


def test_labels_given_in_python():
    assert check_target_labels({2: "a", 0: "b"}, 3, np.array(["a", "b"])).rows.tolist() == [2, 0]
    assert check_target_labels(([1, 2], ["a", "a"]), 3, np.array(["a", "b"])).n == 2
    with pytest.raises(InputError, match="2 rows but 1 labels"):
        check_target_labels(([1, 2], ["a"]), 3, np.array(["a", "b"]))
    with pytest.raises(InputError, match="must be a CSV path"):
        check_target_labels(42, 3, np.array(["a", "b"]))


# -- the k-shot baseline on the labelled rows ----------------------------------------------------
def test_kshot_on_labels_is_leave_one_out():
    X = np.array([[0.0], [0.1], [5.0], [5.1], [10.0]])
    y = np.array([0, 0, 1, 1, 2])
    pred = kshot_on_labels(X, y, "1nn")
    # each row is predicted by its nearest *other* row: the lone class-2 row cannot be right
    assert pred.tolist() == [0, 0, 1, 1, 1]
    assert kshot_on_labels(X, np.zeros(5, int), "1nn").tolist() == [0] * 5


# -- recommend(target_labels=...) ----------------------------------------------------------------
@pytest.fixture(scope="module")
def pair():
    return make_demo_pair(n_source=150, n_target=120, random_state=3)


def test_verified_object_and_the_labels_reach_no_method(pair, monkeypatch):
    import transferability.methods as methods_mod

    src, tgt = pair
    seen = []
    real = methods_mod.predict_methods

    def spy(Xs, ys, Xt, **kw):
        seen.append((np.array(Xs), np.array(ys), np.array(Xt), kw))
        return real(Xs, ys, Xt, **kw)

    monkeypatch.setattr(methods_mod, "predict_methods", spy)
    rows = np.arange(0, 120, 6)
    plain = recommend(src.X, src.y, tgt.X)
    a = recommend(src.X, src.y, tgt.X, target_labels=(rows, tgt.y[rows]))
    calls_a = len(seen)
    flipped = np.roll(tgt.y[rows], 1)  # other labels on the same rows
    b = recommend(src.X, src.y, tgt.X, target_labels=(rows, flipped))
    # the labels change nothing a method or a meta-feature sees
    assert a.meta_features == b.meta_features == plain.meta_features
    for (xs1, ys1, xt1, kw1), (xs2, ys2, xt2, kw2) in zip(seen[:calls_a], seen[calls_a:]):
        assert np.array_equal(xs1, xs2) and np.array_equal(ys1, ys2) and np.array_equal(xt1, xt2)
        assert np.array_equal(ys1, src.y) and kw1 == kw2
    v = a.to_dict()["verified"]
    assert v["n_labelled"] == 20 and v["zero_label_pick"] == plain.best
    assert {m["method"] for m in v["methods"]} == {p.method for p in plain.ranking}
    for m in v["methods"]:
        assert m["correct"] == round(m["accuracy"] * 20) and m["interval"][0] <= m["accuracy"] <= m["interval"][1]
    assert a.best == v["pick"] == a.ranking[0].method
    assert v["changed"] == (v["pick"] != plain.best)
    assert 0 <= v["kshot"]["accuracy"] <= 1 and isinstance(v["worth_transferring"], bool)
    assert plain.to_dict()["verified"] is None
    json.dumps(a.to_dict(), allow_nan=False)


def test_verified_accuracies_are_those_of_the_methods_on_the_labelled_rows(pair):
    from transferability.methods import get_method

    src, tgt = pair
    rows = np.arange(1, 120, 4)
    rec = recommend(src.X, src.y, tgt.X, target_labels=(rows, tgt.y[rows]))
    by = {m["method"]: m for m in rec.verified["methods"]}
    for name in ("no_adapt", "coral"):
        pred = get_method(name, base_estimator="1nn", random_state=0).fit_domains(src.X, src.y, tgt.X).predict(tgt.X)
        assert by[name]["accuracy"] == pytest.approx(np.mean(pred[rows] == tgt.y[rows]))


def test_a_tiny_budget_runs_what_fits_and_says_what_did_not(pair):
    src, tgt = pair
    rows = np.arange(0, 120, 5)
    with pytest.raises(InputError, match="within the budget|budget"):
        recommend(src.X, src.y, tgt.X, target_labels=(rows, tgt.y[rows]), budget=1e-9)
    rec = recommend(src.X, src.y, tgt.X, target_labels=(rows, tgt.y[rows]), budget=math.inf)
    assert rec.verified["not_run"] == []


def test_bad_labels_fail_before_the_meta_features(pair, monkeypatch):
    import transferability.meta.learners._features as feats

    src, tgt = pair
    monkeypatch.setattr(feats, "pair_meta_features", lambda *a, **k: pytest.fail("meta-features computed"))
    with pytest.raises(InputError, match="not a source class"):
        recommend(src.X, src.y, tgt.X, target_labels=([0], ["no such class"]))


# -- the value of labels -------------------------------------------------------------------------
def _doc(models, pairs, rule=None):
    return {"format": 1, "store_hash": models.manifest["store_hash"], "n_labels": [0, 5, 10, 20, 50],
            "bases": {"1nn": {"rule": rule or {"start": "zero_label", "c": 1.5}, "pairs": pairs}}}


def _model_dir(tmp_path, doc):
    import shutil

    from transferability.meta.learners._modelfiles import models_dir

    d = tmp_path / "models"
    shutil.copytree(models_dir(), d)
    (d / "label_value.json").write_text(json.dumps(doc))
    return d


def test_label_value_is_the_mean_over_the_nearest_stored_pairs(tmp_path):
    from transferability.meta.learners._modelfiles import load_models

    shipped = load_models()
    model = shipped.model("1nn")
    names = model.knn.names_
    pairs = {n: [4.0, 3.0, 2.0 + (i % 2), 1.0, None] for i, n in enumerate(names)}
    d = _model_dir(tmp_path, _doc(shipped, pairs))
    ms = load_models(d)
    doc = load_label_rules(ms)
    x = {f: 0.5 for f in model.feature_names}
    lv = label_value(doc, "1nn", ms.model("1nn"), x, neighbours=10)
    assert lv["n"] == [0, 10, 20, 50]
    assert lv["expected_regret"][0] == pytest.approx(4.0) and lv["expected_regret"][2] == pytest.approx(1.0)
    assert lv["expected_regret"][3] is None and lv["pairs"] == [10, 10, 10, 0]
    dist = ms.model("1nn").knn.distance_.distances(np.array([[0.5] * len(model.feature_names)]))[0]
    near = np.argsort(dist, kind="stable")[:10]
    assert lv["expected_regret"][1] == pytest.approx(np.mean([2.0 + (i % 2) for i in near]))
    assert "from 4.0 to 1.0 points" in lv["text"]
    # the rule of the file is the one verification uses
    src, tgt = make_demo_pair(n_source=100, n_target=80, random_state=0)
    rec = recommend(src.X, src.y, tgt.X, models=d, target_labels=(np.arange(10), tgt.y[:10]))
    assert rec.verified["rule"]["c"] == 1.5 and "label_value.json" in rec.verified["rule"]["chosen_by"]
    assert rec.label_value is not None and rec.to_dict()["label_value"]["n"] == [0, 10, 20, 50]


@pytest.mark.parametrize("change,needle", [
    ({"format": 2}, "not a format-1 label-value file"),
    ({"store_hash": "0" * 16}, "comes from another training"),
    ({"n_labels": [0, -5]}, "n_labels must be"),
    ({"bases": {"1nn": {"rule": {"start": "best", "c": 1}, "pairs": {}}}}, "rule must be"),
    ({"bases": {"1nn": {"rule": {"start": "fixed", "c": 1}, "pairs": {"a": [1, 2]}}}}, "pairs must map"),
])
def test_bad_label_value_files_are_refused(tmp_path, change, needle):
    from transferability.meta.learners._modelfiles import load_models

    shipped = load_models()
    d = _model_dir(tmp_path, {**_doc(shipped, {}), **change})
    with pytest.raises(InputError, match=needle):
        load_label_rules(load_models(d))


def test_models_fitted_in_memory_have_no_label_value():
    class InMemory:
        directory = None
        manifest = {}

    assert load_label_rules(InMemory()) is None
    assert isinstance(TargetLabels(np.array([1]), np.array([0])).n, int)


def _slow_or_fast(Xs, ys, Xt, method, base_estimator, random_state):
    import time

    if method == "slow":
        time.sleep(30)
    return {"predictions": None, "runtime_s": 0.0, "error": None, "method": method}


def test_the_bounded_runner_stops_a_method_at_the_end_of_its_time():
    import time

    from transferability.meta.learners._verify import _BoundedRunner

    r = _BoundedRunner(np.zeros((2, 1)), np.array([0, 1]), np.zeros((2, 1)), "1nn", 0, func=_slow_or_fast)
    try:
        assert r.run("fast", 60.0)["method"] == "fast"  # the worker is up: the next call measures the stop
        t0 = time.perf_counter()
        assert r.run("slow", 0.5) is None
        assert time.perf_counter() - t0 < 10  # stopped, not waited for (30 s)
        assert r.run("fast", 60.0)["method"] == "fast"  # a fresh worker takes the next method
        assert r.run("fast", 0.0) is None
    finally:
        r.close()


def test_a_budget_that_ends_before_any_method_leaves_the_zero_label_pick_unverified(pair, monkeypatch):
    import transferability.meta.learners._verify as verify_mod

    src, tgt = pair
    monkeypatch.setattr(verify_mod._BoundedRunner, "run", lambda self, m, s: None)
    rows = np.arange(0, 120, 5)
    rec = recommend(src.X, src.y, tgt.X, target_labels=(rows, tgt.y[rows]), budget=60)
    v = rec.verified
    assert v["methods"] == [] and v["complete"] is False and v["pick"] == v["zero_label_pick"] == rec.best
    assert len(v["not_run"]) == 12 and v["worth_transferring"] is None
    from transferability.cli._recommend import render_verified

    assert "nothing verified" in render_verified(v)


def test_a_start_stopped_by_the_budget_is_not_replaced_by_what_did_finish(pair, monkeypatch):
    import transferability.meta.learners._verify as verify_mod

    src, tgt = pair
    plain = recommend(src.X, src.y, tgt.X)

    def run(self, m, seconds):
        if m == self_start[0]:
            return None
        return verify_mod._predict_one(*self.args, m, self.base_estimator, self.random_state)

    self_start = [None]
    monkeypatch.setattr(verify_mod._BoundedRunner, "run", run)
    rows = np.arange(0, 120, 5)
    first = recommend(src.X, src.y, tgt.X, target_labels=(rows, tgt.y[rows]))
    self_start[0] = first.verified["rule"]["start_method"]
    rec = recommend(src.X, src.y, tgt.X, target_labels=(rows, tgt.y[rows]), budget=600)
    v = rec.verified
    assert v["complete"] is False and v["pick"] == plain.best and not v["changed"]
    assert [m["method"] for m in v["not_run"]] == [self_start[0]]
    assert len(v["methods"]) == 11 and "could be compared" in v["why"]


def test_a_method_the_models_do_not_know_is_reported_not_ranked(pair, monkeypatch):
    import transferability.methods as methods_mod

    src, tgt = pair
    real = methods_mod.available_methods
    monkeypatch.setattr(methods_mod, "available_methods", lambda: list(real()) + ["thirteenth"])
    rec = recommend(src.X, src.y, tgt.X)
    assert rec.not_ranked == ["thirteenth"] and rec.to_dict()["not_ranked"] == ["thirteenth"]
    assert any("not ranked: thirteenth" in n for n in rec.notes)
    assert "thirteenth" not in [p.method for p in rec.ranking]


def test_verification_starts_from_the_answer_of_a_rule_that_holds_by_construction():
    """Pure noise: no source signal, so the zero-label answer is no_adapt; with labelled rows the
    guarded rule starts from it (not from the fixed default the rule overrode)."""
    rng = np.random.default_rng(0)
    Xs, ys = rng.normal(size=(200, 10)), rng.integers(0, 4, 200)
    Xt, yt = rng.normal(size=(200, 10)), rng.integers(0, 4, 200)
    rows = np.arange(0, 200, 20)
    rec = recommend(Xs, ys, Xt, target_labels=(rows, yt[rows]))
    assert rec.rule == "no_source_signal"
    v = rec.verified
    assert v["zero_label_pick"] == v["rule"]["start_method"] == "no_adapt"
    # a challenger may lead by luck on 10 rows, but the rule holds by construction: no_adapt
    # stays, and noise is never worth transferring
    assert not v["changed"] and rec.best == "no_adapt" and "holds by construction" in v["why"]
    assert v["worth_transferring"] is False


def test_identical_domains_keep_no_adapt_with_labels():
    from transferability.datasets import make_demo_pair

    s, _ = make_demo_pair(n_source=200, n_target=200, random_state=0)
    rows = np.arange(0, 200, 20)
    rec = recommend(s.X, s.y, s.X.copy(), target_labels=(rows, s.y[rows]))
    assert rec.rule == "target_is_source" and rec.best == "no_adapt" and not rec.verified["changed"]


@pytest.mark.parametrize("seed", range(4))
def test_pure_noise_is_never_verified_worth_transferring(seed):
    rng = np.random.default_rng(seed)
    Xs, ys = rng.normal(size=(200, 10)), rng.integers(0, 4, 200)
    Xt, yt = rng.normal(size=(200, 10)), rng.integers(0, 4, 200)
    rows = np.arange(0, 200, 10)
    v = recommend(Xs, ys, Xt, target_labels=(rows, yt[rows])).verified
    assert v["worth_transferring"] is False
