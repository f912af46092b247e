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
    lines = [l for l in r.stdout.splitlines() if re.match(r"^\s*\d+ [a-z_]+ +\d", l)]
    assert len(lines) == 3 and "best:" in r.stdout
    r = _runner().invoke(recommend_cmd, [str(pair / "s.npz"), str(pair / "t.npz"), "--json", "--budget", "1e-9",
                                         "--models", models])
    assert r.exit_code == 0
    out = json.loads(r.stdout)
    assert out["ranking"] == [] and out["best"] is None and len(out["excluded_by_budget"]) == 12


@pytest.mark.parametrize("args, message", [
    (["--preprocess", "bogus"], "unknown --preprocess 'bogus'"),
    (["--top", "0"], "--top must be at least 1"),
    (["--budget", "-3"], "--budget must be a positive"),
    (["--base-estimator", "svm9"], "no MetaTrans model for base estimator 'svm9'"),
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
                                      "--quiet", "--n-jobs", "2"])
    assert r.exit_code == 0, r.stderr
    page = out.read_text()
    assert "## Goals of the MetaTrans issue" in page and "#### leave-one-base-out" in page
    assert "## EasyTransferability" in page  # its section, or why it was not evaluated (no k-shot here)
    for fam in ("fam_a", "fam_b", "gen_c", "gen_d"):
        assert f"| {fam} |" in page
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in page
    else:
        assert (tmp_path / "docs" / "figures" / "metatrans_regret.png").read_bytes()[:4] == b"\x89PNG"
        assert "![regret per candidate](figures/metatrans_regret.png)" in page
