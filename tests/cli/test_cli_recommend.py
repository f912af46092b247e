"""``transferability recommend`` and ``transferability meta train|evaluate``, in-process (CliRunner)."""

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from transferability.cli._meta import meta_group
from transferability.cli._recommend import recommend_cmd


def _runner():
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 keeps stderr apart by default
        return CliRunner()


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    from transferability.datasets import make_demo_pair

    d = tmp_path_factory.mktemp("pair")
    src, tgt = make_demo_pair(n_source=150, n_target=120, random_state=0)
    np.savez(d / "s.npz", X=src.X, y=src.y)
    np.savez(d / "t.npz", X=tgt.X)
    np.savez(d / "s_unlabelled.npz", X=src.X)
    return d


def _make_records():
    """The synthetic records of ``tests/meta/test_metatrans.py`` (current feature schema)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "meta" / "test_metatrans.py"
    spec = importlib.util.spec_from_file_location("_metatrans_records", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.make_records()


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    from transferability.meta_store import MetaStore, import_records

    path = tmp_path_factory.mktemp("store") / "small.sqlite"
    with MetaStore(str(path)) as st:
        import_records(st, _make_records())
    return str(path)


@pytest.fixture(scope="module")
def models(small_store, tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    r = _runner().invoke(meta_group, ["train", "--store", small_store, "--without-default", "--output", str(d), "--quiet"])
    assert r.exit_code == 0, r.stderr
    return str(d)


def test_recommend_json_contract(pair, models):
    r = _runner().invoke(recommend_cmd, [str(pair / "s.npz"), str(pair / "t.npz"), "--json", "--models", models])
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    for k in ("ranking", "best", "fallback", "in_distribution", "transferability", "version"):
        assert k in out
    assert len(out["ranking"]) == 12 and out["best"] == out["ranking"][0]["method"]
    for p in out["ranking"]:
        assert set(p) >= {"method", "predicted_effect", "interval", "effective", "confidently_effective",
                          "reasons", "predicted_runtime_s"}
        assert p["interval"][0] <= p["interval"][1]


def test_recommend_table_top_and_budget(pair, models):
    r = _runner().invoke(recommend_cmd, [str(pair / "s.npz"), str(pair / "t.npz"), "--top", "3",
                                         "--base-estimator", "logreg", "--models", models])
    assert r.exit_code == 0, r.stderr
    lines = _rows(r.stdout)
    assert len(lines) == 3 and r.stdout.startswith("150 -> 120 samples") and "\nrecommended: " in r.stdout
    assert sum(line.startswith("*") for line in lines) == 1  # the recommended method is among them, marked
    r = _runner().invoke(recommend_cmd, [str(pair / "s.npz"), str(pair / "t.npz"), "--json", "--budget", "1e-9",
                                         "--models", models])
    assert r.exit_code == 0
    out = json.loads(r.stdout)
    assert out["ranking"] == [] and out["best"] is None and len(out["excluded_by_budget"]) == 12


@pytest.mark.parametrize("args, message", [
    (["--preprocess", "bogus"], "'--preprocess': 'bogus' is not one of 'none', 'zscore'"),
    (["--top", "0"], "--top must be at least 1"),
    (["--budget", "-3"], "--budget must be a positive"),
    (["--budget", "0"], "--budget must be a positive"),
    (["--budget", "nan"], "--budget must be a positive"),
    (["--budget", "-inf"], "--budget must be a positive"),
    (["--base-estimator", "svm9"], "unknown base estimator 'svm9'; choose one of 1nn, logreg, linear_svm"),
    # a base estimator of the library for which the model directory holds no model
    (["--base-estimator", "linear_svm"], "no MetaTrans model for base estimator 'linear_svm'"),
    (["--models", "/nonexistent/models"], "no MetaTrans models in /nonexistent/models"),
])
def test_recommend_bad_options_exit_2_one_line(pair, models, args, message):
    if "--models" not in args:
        args = [*args, "--models", models]
    r = _runner().invoke(recommend_cmd, [str(pair / "s.npz"), str(pair / "t.npz"), *args])
    assert r.exit_code == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: ") and message in r.stderr


def test_recommend_bad_inputs_exit_2(pair, models, tmp_path):
    r = _runner().invoke(recommend_cmd, [str(pair / "s_unlabelled.npz"), str(pair / "t.npz"), "--models", models])
    assert r.exit_code == 2 and "has no labels" in r.stderr
    r = _runner().invoke(recommend_cmd, [str(tmp_path / "missing.npz"), str(pair / "t.npz"), "--models", models])
    assert r.exit_code == 2 and "file not found" in r.stderr
    bad = tmp_path / "models"
    bad.mkdir()
    (bad / "metatrans.json").write_text('{"format": "transferability-metatrans", "format_version": 1, '
                                        '"feature_schema": 0, "feature_names": []}')
    r = _runner().invoke(recommend_cmd, [str(pair / "s.npz"), str(pair / "t.npz"), "--models", str(bad)])
    assert r.exit_code == 2 and "feature schema 0" in r.stderr and r.stderr.count("\n") == 1


def test_meta_train_is_deterministic_and_recommend_uses_it(small_store, pair, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d, n_jobs in ((a, "1"), (b, "2")):  # the same files whatever the number of workers
        r = _runner().invoke(meta_group, ["train", "--store", small_store, "--without-default", "--output", str(d),
                                          "--quiet", "--json", "--n-jobs", n_jobs])
        assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out["models"]) == {"1nn", "logreg"}
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir()) and "metatrans.json" in files
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes()
    r = _runner().invoke(recommend_cmd, [str(pair / "s.npz"), str(pair / "t.npz"), "--json", "--models", str(a)])
    assert r.exit_code == 0, r.stderr
    ranked = json.loads(r.stdout)["ranking"]
    past = {p["pair"] for m in ranked for p in m["reasons"] if "pair" in p}
    names = set(json.loads((a / "metatrans.json").read_text())["models"]["1nn"]["knn"]["names"])
    assert past <= names


def test_meta_train_errors(tmp_path):
    r = _runner().invoke(meta_group, ["train", "--without-default", "--output", str(tmp_path)])
    assert r.exit_code == 2 and "--without-default needs --store" in r.stderr
    r = _runner().invoke(meta_group, ["train", "--store", str(tmp_path / "none.sqlite"), "--output", str(tmp_path)])
    assert r.exit_code == 2 and "store not found" in r.stderr
    r = _runner().invoke(meta_group, ["train", "--n-jobs", "0", "--output", str(tmp_path / "m")])
    assert r.exit_code == 2 and "n_jobs must be a positive number" in r.stderr and not (tmp_path / "m").exists()
    r = _runner().invoke(meta_group, ["evaluate", "--posthoc-data", str(tmp_path / "nodata"),
                                      "--output", str(tmp_path / "e.md")])
    assert r.exit_code == 2 and "--posthoc-data: not a directory" in r.stderr
    r = _runner().invoke(meta_group, ["evaluate", "--n-jobs", "0", "--output", str(tmp_path / "e.md")])
    assert r.exit_code == 2 and "n_jobs must be a positive number" in r.stderr
    assert not (tmp_path / "e.md").exists()


def test_ood_pair_warns_on_stderr(models, tmp_path):
    rng = np.random.RandomState(0)
    # 3 features, 2 classes, huge scale and extreme separation: unlike any stored pair
    Xs = np.vstack([rng.randn(60, 3) * 1e4, rng.randn(60, 3) * 1e4 + 1e6])
    ys = np.repeat([0, 1], 60)
    Xt = rng.randn(100, 3) * 1e-3
    np.savez(tmp_path / "s.npz", X=Xs, y=ys)
    np.savez(tmp_path / "t.npz", X=Xt)
    r = _runner().invoke(recommend_cmd, [str(tmp_path / "s.npz"), str(tmp_path / "t.npz"), "--json",
                                         "--models", models])
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["in_distribution"] is False and out["nearest_distance"] > out["ood_threshold"]
    assert "warning: this pair is unlike the training store" in r.stderr


def test_meta_evaluate_writes_the_page(small_store, tmp_path):
    out = tmp_path / "docs" / "evaluation.md"
    r = _runner().invoke(meta_group, ["evaluate", "--store", small_store, "--without-default", "--output", str(out),
                                      "--quiet", "--n-jobs", "2", "--no-sanity"])
    assert r.exit_code == 0, r.stderr
    page = out.read_text()
    assert "## Sanity suite" not in page and "Out-of-distribution flag" in page
    assert "## Goals of the MetaTrans issue" in page and "#### leave-one-base-out" in page
    assert "## EasyTransferability" in page  # its section, or why it was not evaluated (no k-shot here)
    for fam in ("fam_a", "fam_b", "gen_c", "gen_d"):
        assert f"| {fam} |" in page
    # matplotlib is in the test extra; without it the command stops first (test_figures_need_matplotlib)
    assert (tmp_path / "docs" / "figures" / "metatrans_regret.png").read_bytes()[:4] == b"\x89PNG"
    assert "![regret per candidate](figures/metatrans_regret.png)" in page


# -- --budget inf: no budget (the command and the library) ----------------------------------------
def test_budget_inf_means_no_budget(pair, models):
    args = [str(pair / "s.npz"), str(pair / "t.npz"), "--json", "--models", models]
    plain = json.loads(_runner().invoke(recommend_cmd, args).stdout)
    r = _runner().invoke(recommend_cmd, [*args, "--budget", "inf"])
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["budget_s"] is None and out["excluded_by_budget"] == []
    assert [p["method"] for p in out["ranking"]] == [p["method"] for p in plain["ranking"]]
    assert out["best"] == plain["best"] and len(out["ranking"]) == 12


@pytest.fixture(scope="module")
def features(pair):
    from transferability.meta.learners._features import pair_meta_features

    s, t = np.load(pair / "s.npz"), np.load(pair / "t.npz")
    return pair_meta_features(s["X"], s["y"], t["X"], preprocess="none", random_state=0)


def test_library_budget_inf_means_no_budget(pair, features, models):
    import math

    from transferability.meta.learners._recommend import recommend, recommend_from_features

    feats, sizes = features
    plain = recommend_from_features(feats, models=models, sizes=sizes)
    inf = recommend_from_features(feats, models=models, sizes=sizes, budget=math.inf)
    assert inf.budget_s is None and inf.excluded_by_budget == []
    assert [p.method for p in inf.ranking] == [p.method for p in plain.ranking]
    s, t = np.load(pair / "s.npz"), np.load(pair / "t.npz")
    rec = recommend(s["X"], s["y"], t["X"], models=models, budget=math.inf)
    assert rec.budget_s is None and len(rec.ranking) == 12 and rec.best == plain.best


@pytest.mark.parametrize("budget", [0, -1.0, float("nan"), float("-inf"), "10"])
def test_library_refuses_a_bad_budget(features, models, budget):
    from transferability.meta.learners._recommend import recommend_from_features
    from transferability.utils.validation import InputError

    feats, sizes = features
    with pytest.raises(InputError, match="budget must be a positive number of seconds"):
        recommend_from_features(feats, models=models, sizes=sizes, budget=budget)


# -- the table, read by someone who has not read the code ----------------------------------------
def _recommendation(*, candidate="guarded_lgbm", fallback=True, best="meda", knn=False, budget_s=None):
    """A hand-made Recommendation: the kept default (meda) is not the highest predicted effect."""
    import math

    from transferability.meta.learners._recommend import MethodPrediction, Recommendation

    effects = {"bda": 1.2, "meda": 1.1, "no_adapt": 1.0, "kmm": 0.9}
    preds = {}
    for m, e in effects.items():
        reasons = ([{"pair": "office/C->A", "distance": 0.3, "effect": e}] if knn else
                   [{"feature": "div_mmd", "value": 0.5, "contribution": math.log(e)}])
        preds[m] = MethodPrediction(method=m, predicted_effect=e, interval=(e - 0.15, e + 0.15), effective=e > 1,
                                    confidently_effective=e - 0.15 > 1, reasons=reasons, predicted_runtime_s=0.5)
    order = ([best] if best else []) + sorted((m for m in effects if m != best), key=lambda m: -effects[m])
    return Recommendation(ranking=[preds[m] for m in order], best=best, fallback=fallback, in_distribution=True,
                          base_estimator="1nn", preprocess="none", candidate=candidate, default="meda",
                          nearest_distance=0.1, ood_threshold=1.0, n_source=10, n_target=12, n_features=3,
                          budget_s=budget_s)


def _rows(text):
    return [line for line in text.splitlines() if re.match(r"^[* ]\s+\d+ [a-z_]+ +\d", line)]


def test_table_kept_default_in_effect_order_marked_and_explained_first():
    from transferability.cli._recommend import render_table

    text = render_table(_recommendation())
    rows = _rows(text)
    assert [re.match(r"^[* ]\s+\d+ ([a-z_]+)", r).group(1) for r in rows] == ["bda", "meda", "no_adapt", "kmm"]
    assert [r.startswith("*") for r in rows] == [False, True, False, False]  # the kept default is marked
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("recommended:"))
    header = next(i for i, line in enumerate(lines) if re.match(r"^\s+# method +effect", line))
    assert first < header  # the recommendation and its reason come before the table
    assert "the fixed default, kept" in lines[first] and "bda" in lines[first]
    assert "guarded_lgbm = a LightGBM regressor" in text and "clears a margin" in text
    assert "\nbest:" not in text


def test_table_legend_and_reasons():
    from transferability.cli._recommend import render_table

    text = render_table(_recommendation())
    flat = " ".join(text.split())
    assert "effect: predicted target accuracy with the method / without adaptation" in flat
    assert "reasons: the meta-features that move the method's predicted effect most" in flat
    rows = {re.match(r"^[* ]\s+\d+ ([a-z_]+)", r).group(1): r for r in _rows(text)}
    assert "div_mmd=0.5 (x1.200)" in rows["bda"]  # exp(contribution to the log effect)
    assert "div_mmd" not in rows["no_adapt"] and "effect 1 by definition" in rows["no_adapt"]
    knn = render_table(_recommendation(knn=True))
    assert "like office/C->A (1.20)" in knn and "like PAIR (e): one of the nearest past pairs" in " ".join(knn.split())
    assert "reasons: the meta-features" not in knn


def test_table_other_cases():
    from transferability.cli._recommend import render_table

    fixed = render_table(_recommendation(candidate="fixed"))
    assert "recommends the fixed default, meda, for every pair" in fixed and "model: fixed = one method" in fixed
    chosen = render_table(_recommendation(fallback=False, best="bda"))
    assert "recommended: bda. Why: it has the highest predicted effect." in chosen
    assert [r.startswith("*") for r in _rows(chosen)] == [True, False, False, False]
    kept_top = render_table(_recommendation(fallback=True, best="bda"))  # a kept default that also leads
    assert "recommended: bda. Why: it is the fixed default, and no method has a higher predicted effect." in kept_top
    abstained = _recommendation(best="no_adapt", fallback=False)
    abstained.reason, abstained.notes = "cannot judge: target too small", ["a note"]
    abstained.transferability = {"score": None, "reason": "cannot judge: target too small"}
    text = render_table(abstained)
    assert "recommended: no_adapt. Why: cannot judge: target too small." in text and "\nnote: a note\n" in text
    assert "transferability: none: cannot judge: target too small" in text
    none = render_table(_recommendation(best=None, fallback=False, budget_s=1e-9))
    assert "recommended: none (no method is predicted to run within the 1e-09 s budget)" in none


def test_every_shipped_candidate_is_explained():
    from transferability.cli._recommend import CANDIDATES
    from transferability.meta.learners._modelfiles import SHIPPABLE

    assert set(CANDIDATES) == set(SHIPPABLE)


def test_help_lists_the_choices():
    """--preprocess and --base-estimator list their names in --help (they were free text ending in '...')."""
    r = _runner().invoke(recommend_cmd, ["--help"])
    assert r.exit_code == 0
    text = " ".join(r.stdout.split())
    assert "[1nn|logreg|linear_svm]" in text
    assert "[none|zscore|l2|sum-zscore|zscore-source|zscore-pooled|tfidf-svd100]" in text
    assert "'inf': no budget" in text and "..." not in text
