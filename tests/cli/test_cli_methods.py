import json

import numpy as np
import pytest
from click.testing import CliRunner

from transferability.cli.main import cli
from transferability.datasets import make_demo_pair
from transferability.methods import METHODS, NoAdapt


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def pair_files(tmp_path):
    src, tgt = make_demo_pair(n_source=120, n_target=100, n_features=6, n_classes=3, random_state=1)
    s, t, u = tmp_path / "s.npz", tmp_path / "t.npz", tmp_path / "u.npz"
    np.savez(s, X=src.X, y=np.array(["cat", "dog", "owl"])[src.y])
    np.savez(t, X=tgt.X, y=np.array(["cat", "dog", "owl"])[tgt.y])
    np.savez(u, X=tgt.X)  # unlabelled target
    return str(s), str(t), str(u)


def test_evaluate_json_contract(runner, pair_files):
    s, t, _ = pair_files
    res = runner.invoke(cli, ["evaluate", s, t, "--methods", "no_adapt,coral", "--json", "--quiet",
                              "--preprocess", "zscore"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [r["method"] for r in out["results"]] == ["no_adapt", "coral"]
    for r in out["results"]:
        assert r["status"] == "ok" and 0.0 <= r["target_accuracy"] <= 1.0 and r["runtime_s"] >= 0
    assert set(out["kshot"]) == {"1", "3", "5", "10", "20", "50"}
    assert all(v is None or 0.0 <= v <= 1.0 for v in out["kshot"].values())
    assert out["kshot"]["1"] is not None


def test_evaluate_reports_a_failing_method_and_runs_the_others(runner, pair_files, monkeypatch):
    class Broken(NoAdapt):
        def _fit(self, Xs, ys, Xt, random_state):
            raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setitem(METHODS, "broken", Broken)
    s, t, _ = pair_files
    res = runner.invoke(cli, ["evaluate", s, t, "--methods", "broken,no_adapt", "--json", "--quiet", "--kshot", ""])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    broken, ok = out["results"]
    assert broken["status"] == "failed" and "Singular matrix" in broken["error"] and broken["target_accuracy"] is None
    assert ok["status"] == "ok"


def test_evaluate_table_output(runner, pair_files):
    s, t, _ = pair_files
    res = runner.invoke(cli, ["evaluate", s, t, "--methods", "no_adapt", "--quiet"])
    assert res.exit_code == 0 and "no_adapt" in res.stdout and "k-shot" in res.stdout


@pytest.mark.parametrize("ext", [".npy", ".npz", ".csv", ".txt"])
def test_adapt_writes_predictions(runner, pair_files, tmp_path, ext):
    s, _, u = pair_files
    out = tmp_path / f"pred{ext}"
    res = runner.invoke(cli, ["adapt", s, u, "--method", "coral", "--output", str(out)])
    assert res.exit_code == 0, res.output
    if ext == ".npy":
        pred = np.load(out)
    elif ext == ".npz":
        pred = np.load(out)["y_pred"]
    else:
        pred = out.read_text().split()
        pred = pred[1:] if ext == ".csv" else pred
    assert len(pred) == 100 and set(map(str, pred)) <= {"cat", "dog", "owl"}
    assert not (tmp_path / f"pred{ext}.tmp").exists()


def test_adapt_to_stdout_and_params(runner, pair_files):
    s, _, u = pair_files
    res = runner.invoke(cli, ["adapt", s, u, "--method", "sa", "--param", "n_components=3"])
    assert res.exit_code == 0, res.output
    assert len(res.stdout.split()) == 100


@pytest.mark.parametrize("args, match", [
    (["evaluate", "{s}", "{u}"], "has no labels; evaluate needs them"),
    (["evaluate", "{u}", "{t}"], "source: .* has no labels"),
    (["evaluate", "{s}", "{t}", "--methods", "nope"], "unknown method"),
    (["evaluate", "{s}", "{t}", "--param", "jda"], "KEY=VALUE"),
    (["evaluate", "{s}", "{t}", "--param", "n_components=3"], "METHOD.KEY=VALUE"),
    (["evaluate", "{s}", "{t}", "--kshot", "a,b"], r"'--kshot': 'a' is not an integer \(expects a comma-separated"),
    (["evaluate", "{s}", "{t}", "--kshot", "1,0"], r"'--kshot': 0 is not in the range x>=1"),
    (["evaluate", "{s}", "{t}", "--base-estimator", "forest"], r"(?i)base.estimator.*'forest'"),
    (["adapt", "{s}", "{u}", "--method", "nope"], "unknown method"),
    (["adapt", "{s}", "{u}", "--method", "sa", "--param", "bogus=1"], "bad parameters for method 'sa'"),
    (["adapt", "{s}", "{u}", "--method", "sa", "--output", "{tmp}/p.xlsx"], "unknown output format"),
    (["adapt", "{s}", "{u}", "--method", "sa", "--output", "{tmp}/no/such/dir/p.npy"], "output directory does not exist"),
    (["adapt", "{s}", "{tmp}/missing.npz", "--method", "sa"], "file not found"),
])
def test_method_commands_bad_input(runner, pair_files, tmp_path, args, match):
    import re

    s, t, u = pair_files
    args = [a.format(s=s, t=t, u=u, tmp=tmp_path) for a in args]
    res = runner.invoke(cli, args + (["--quiet"] if args[0] == "evaluate" else []))
    assert res.exit_code == 2, (res.exit_code, res.output)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(match, lines[0]), res.stderr
    assert res.stdout == ""


def test_usage_errors(runner, pair_files):
    s, t, _ = pair_files
    assert runner.invoke(cli, ["adapt", s, t]).exit_code == 2  # --method is required
    assert runner.invoke(cli, ["evaluate", s, t, "--preprocess", "pca"]).exit_code == 2


def test_evaluate_reports_null_for_an_unsupported_k_as_its_help_says(runner, tmp_path):
    rng = np.random.RandomState(0)
    s, t = tmp_path / "s.npz", tmp_path / "t.npz"
    np.savez(s, X=np.r_[rng.randn(20, 2), rng.randn(20, 2) + 4], y=np.repeat([0, 1], 20))
    np.savez(t, X=np.r_[rng.randn(12, 2), rng.randn(6, 2) + 4], y=np.repeat([0, 1], [12, 6]))
    res = runner.invoke(cli, ["evaluate", str(s), str(t), "--methods", "no_adapt", "--json", "--quiet"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["kshot"]["1"] is not None and out["kshot"]["5"] is not None
    assert out["kshot"]["10"] is None and out["kshot"]["20"] is None and out["kshot"]["50"] is None
    assert out["kshot_reasons"]["10"] == "target class 1 has 6 samples <= k = 10"
    table = runner.invoke(cli, ["evaluate", str(s), str(t), "--methods", "no_adapt", "--quiet"])
    assert "k=10: —" in table.stdout and "target class 1 has 6 samples" in table.stdout


def _one_error_line(res, match):
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and match in lines[0], res.stderr


def test_adapt_meda_on_constant_features_is_one_line(runner, tmp_path):
    # the old code: ZeroDivisionError with a traceback
    p = tmp_path / "z.npz"
    np.savez(p, X=np.zeros((20, 3)), y=np.repeat([0, 1], 10))
    _one_error_line(runner.invoke(cli, ["adapt", str(p), str(p), "--method", "meda"]),
                    "meda: every sample is 0 on the manifold features")


def test_adapt_on_features_near_1e200_is_one_line(runner, tmp_path):
    # the old code: coral raised ValueError (array must not contain infs or NaNs), a traceback
    p = tmp_path / "h.npz"
    np.savez(p, X=np.random.RandomState(0).randn(20, 3) * 1e200, y=np.repeat([0, 1], 10))
    for method in ("coral", "easytl", "kmm"):
        _one_error_line(runner.invoke(cli, ["adapt", str(p), str(p), "--method", method]), "features reach")


def test_evaluate_refuses_labels_that_never_overlap(runner, tmp_path, pair_files):
    # the old code: accuracy 0 for every method, exit 0, no word
    s, t, _ = pair_files
    tgt = np.load(t)
    t_int = tmp_path / "t_int.npz"
    np.savez(t_int, X=tgt["X"], y=np.arange(len(tgt["y"])) % 3)
    res = runner.invoke(cli, ["evaluate", s, str(t_int), "--methods", "no_adapt", "--quiet", "--json"])
    _one_error_line(res, "the target labels share no class with the source labels (source labels are str, "
                         "target labels int)")
    assert res.stdout == ""


def test_evaluate_warns_in_one_line_about_target_classes_the_source_lacks(runner, tmp_path, pair_files):
    s, t, _ = pair_files
    tgt = np.load(t)
    y = tgt["y"].astype(object)
    y[:7] = "emu"
    t_emu = tmp_path / "t_emu.npz"
    np.savez(t_emu, X=tgt["X"], y=y.astype(str))
    res = runner.invoke(cli, ["evaluate", s, str(t_emu), "--methods", "no_adapt", "--quiet", "--json", "--kshot", ""])
    assert res.exit_code == 0, res.output
    assert res.stderr.strip().splitlines() == [
        "warning: 1 target classes are no source class ('emu'): their 7 of 100 target samples count as errors "
        "for every method"]
    out = json.loads(res.stdout)
    assert out["target_only_classes"] == ["emu"] and out["n_target_only"] == 7
