"""`evaluate` refuses bad method parameters and unusable inputs (exit 2, one `error:` line)
before any method runs, instead of reporting "failed" methods and exiting 0."""

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from transferability.cli.main import cli
from transferability.datasets import make_demo_pair
from transferability.methods import NoAdapt


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def pair_files(tmp_path):
    src, tgt = make_demo_pair(n_source=80, n_target=60, n_features=5, n_classes=3, random_state=2)
    s, t, one = tmp_path / "s.npz", tmp_path / "t.npz", tmp_path / "one.npz"
    np.savez(s, X=src.X, y=src.y)
    np.savez(t, X=tgt.X, y=tgt.y)
    np.savez(one, X=src.X, y=np.zeros(len(src.y), dtype=int))  # a single-class source
    return str(s), str(t), str(one)


def _refused(res, pattern):
    assert res.exit_code == 2, (res.exit_code, res.output)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert re.search(pattern, lines[0]), lines[0]
    assert res.stdout == ""


@pytest.mark.parametrize("params, pattern", [
    (["tca.bogus=1"], r"method 'tca': no parameter 'bogus'"),
    (["tca.n_components=-3"],
     r"The 'n_components' parameter of method 'tca' must be an int in the range \[1, inf\)\. Got -3 instead\."),
    (["jda.lam=1e400"], r"The 'lam' parameter of method 'jda' must be a float in the range \(0\.0, inf\)\. Got inf"),
    (["bda.mu=2"], r"The 'mu' parameter of method 'bda' must be a str among \{'auto'\} or a float"),
    (["sa.n_components=half"], r"The 'n_components' parameter of method 'sa'"),
    (["no_adapt.random_state=-1"], r"The 'random_state' parameter of method 'no_adapt'"),
])
def test_bad_param_is_refused(runner, pair_files, params, pattern):
    s, t, _ = pair_files
    args = ["evaluate", s, t, "--methods", "no_adapt,tca,jda,bda,sa", "--quiet", "--kshot", "1"]
    for p in params:
        args += ["--param", p]
    _refused(runner.invoke(cli, args), pattern)
    _refused(runner.invoke(cli, args + ["--json"]), pattern)


def test_every_param_is_checked_before_any_method_runs(runner, pair_files, monkeypatch):
    ran = []
    monkeypatch.setattr(NoAdapt, "_fit", lambda self, *a: ran.append(1))
    s, t, _ = pair_files
    res = runner.invoke(cli, ["evaluate", s, t, "--methods", "no_adapt,tca", "--quiet",
                              "--param", "tca.n_components=0"])
    _refused(res, r"'n_components' parameter of method 'tca'")
    assert ran == []


def test_single_class_source_is_refused(runner, pair_files):
    _, t, one = pair_files
    _refused(runner.invoke(cli, ["evaluate", one, t, "--methods", "no_adapt", "--quiet"]),
             r"source labels must contain at least two classes, got 1 \(0\)")


@pytest.mark.parametrize("methods", [",", ""])
def test_empty_method_list_is_refused(runner, pair_files, methods):
    s, t, _ = pair_files
    res = runner.invoke(cli, ["evaluate", s, t, "--methods", methods, "--quiet"])
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1, res.output
    assert res.stderr.startswith("error: ") and res.stdout == ""


def test_good_params_run_and_report_sizes(runner, pair_files):
    from transferability import __version__

    s, t, _ = pair_files
    res = runner.invoke(cli, ["evaluate", s, t, "--methods", "tca,bda", "--quiet", "--json",
                              "--kshot", "1", "--param", "tca.n_components=3",
                              "--param", "bda.mu=0.25", "--param", "bda.n_iter=2"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [r["status"] for r in out["results"]] == ["ok", "ok"]
    assert out["results"][0]["params"]["n_components"] == 3
    assert out["results"][1]["params"]["mu"] == 0.25
    assert (out["n_source"], out["n_target"], out["n_features"]) == (80, 60, 5)
    assert out["version"] == __version__
