"""``transferability score``, in-process (CliRunner): JSON contract, the --fail-below gate, one-line errors."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from transferability.cli._score import score_cmd

CONTRACT = ("score", "worth_transferring", "threshold", "k", "label_equivalent", "divergences", "in_distribution",
            "uses_source_labels", "n_source", "n_target", "n_features", "version")


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


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A model directory trained on synthetic records of the current feature schema."""
    from transferability.meta.evaluation import train_easytrans
    from transferability.meta.learners import save_easytrans

    d = tmp_path_factory.mktemp("models")
    save_easytrans(train_easytrans(synthetic_records(), includes_default=False, evaluate=False), d)
    return str(d)


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
    rng = np.random.RandomState(0)
    np.savez(d / "s.npz", X=src.X, y=src.y)
    np.savez(d / "t.npz", X=tgt.X)
    np.savez(d / "t_labelled.npz", X=tgt.X, y=tgt.y)
    np.savez(d / "t_permuted.npz", X=tgt.X, y=rng.permutation(tgt.y))
    np.savez(d / "s_unlabelled.npz", X=src.X)
    np.savez(d / "t_other_d.npz", X=tgt.X[:, :3])
    return d


def _score(pair, *args, source="s.npz", target="t.npz", models=None):
    extra = [] if models is None or "--models" in args else ["--models", models]
    return _runner().invoke(score_cmd, [str(pair / source), str(pair / target), *args, *extra])


def _one_line_error(r, match):
    assert r.exit_code == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert match in lines[0], lines[0]
    assert "Traceback" not in r.stderr


@pytest.fixture(scope="module")
def result(pair, models):
    r = _score(pair, "--json", models=models)
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_json_contract(result):
    for key in CONTRACT:
        assert key in result
    assert 0.0 <= result["score"] <= 1.0
    assert result["worth_transferring"] == (result["score"] > 0.5) and result["threshold"] == 0.5
    assert result["k"] == 10 and result["uses_source_labels"] is True
    le = result["label_equivalent"]
    assert le["point"] in le["ladder"] and le["interval"][0] <= le["point"] <= le["interval"][1]
    assert (result["n_source"], result["n_target"]) == (150, 120)
    assert all(isinstance(v, float) for v in result["divergences"].values()) and "mmd" in result["divergences"]


def test_score_ignores_target_labels(pair, result, models):
    for target in ("t_labelled.npz", "t_permuted.npz"):
        r = _score(pair, "--json", target=target, models=models)
        assert r.exit_code == 0, r.stderr
        assert json.loads(r.stdout)["score"] == result["score"]


def test_unlabelled_source_uses_the_label_free_model(pair, result, models):
    r = _score(pair, "--json", source="s_unlabelled.npz", models=models)
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["uses_source_labels"] is False and out["model"] == "label_free"
    assert out["divergences"] == result["divergences"]


def test_fail_below_exit_codes(pair, result, models):
    s = result["score"]
    assert _score(pair, "--json", "--fail-below", repr(s), models=models).exit_code == 0  # not below
    assert _score(pair, "--json", "--fail-below", "0", models=models).exit_code == 0
    r = _score(pair, "--json", "--fail-below", repr(min(1.0, s + 1e-9)), models=models)
    assert r.exit_code == 1
    assert json.loads(r.stdout)["score"] == s  # the JSON is still printed


def test_readable_output(pair, models):
    r = _score(pair, models=models)
    assert r.exit_code == 0, r.stderr
    assert "score P(k* >= 10)" in r.stdout and "label-equivalent" in r.stdout and "divergences:" in r.stdout


@pytest.mark.parametrize("args, match", [
    (["--k", "0"], "--k: k must be at least 1"),
    (["--k", "20"], "above what the models know"),
    (["--k", "abc"], "'abc' is not a valid integer"),
    (["--fail-below", "1.5"], "--fail-below must be a probability"),
    (["--fail-below", "nan"], "--fail-below must be a probability"),
    (["--preprocess", "bogus"], "'--preprocess': 'bogus' is not one of 'none', 'zscore'"),
    (["--base-estimator", "svm"], "unknown base estimator 'svm'; choose one of 1nn, logreg, linear_svm"),
    # a base estimator of the library for which the model directory holds no model
    (["--base-estimator", "linear_svm"], "no EasyTransferability model for base estimator 'linear_svm'"),
    (["--models", "/nonexistent/dir"], "no EasyTransferability models in /nonexistent/dir"),
])
def test_bad_options_exit_2_one_line(pair, models, args, match):
    _one_line_error(_score(pair, *args, models=models), match)


def test_bad_input_exit_2_one_line(pair, models):
    _one_line_error(_score(pair, source="missing.npz", models=models), "missing.npz")
    r = _score(pair, target="t_other_d.npz", models=models)
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("error: ")


def test_a_model_of_another_feature_schema_is_refused(pair, models, tmp_path):
    from pathlib import Path

    for f in Path(models).glob("easytrans*"):
        (tmp_path / f.name).write_text(f.read_text())
    man = json.loads((tmp_path / "easytrans.json").read_text())
    man["feature_schema"] = man["feature_schema"] + 1
    (tmp_path / "easytrans.json").write_text(json.dumps(man))
    _one_line_error(_score(pair, "--models", str(tmp_path)), "trained on feature schema")


def test_help_lists_the_choices():
    """--preprocess and --base-estimator list their names in --help (they were free text ending in '...')."""
    r = _runner().invoke(score_cmd, ["--help"])
    assert r.exit_code == 0
    text = " ".join(r.stdout.split())
    assert "[1nn|logreg|linear_svm]" in text
    assert "[none|zscore|l2|sum-zscore|zscore-source|zscore-pooled|tfidf-svd100]" in text
    assert "..." not in text
