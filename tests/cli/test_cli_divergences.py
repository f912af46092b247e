import json
import subprocess
import sys

import numpy as np
import pytest
import scipy.io
from click.testing import CliRunner
from numpy.testing import assert_allclose

from transferability.cli.main import cli


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def seed_files(tmp_path, seed_pair):
    Xs, Xt = seed_pair
    s, t = tmp_path / "s.npz", tmp_path / "t.npz"
    np.savez(s, X=Xs)
    np.savez(t, X=Xt)
    return str(s), str(t)


def test_divergences_json_on_seed_pair(runner, seed_files):
    res = runner.invoke(cli, ["divergences", *seed_files, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)  # exactly one JSON object on stdout
    for key in ("divergences", "n_source", "n_target", "n_features", "version"):
        assert key in out
    for key in ("mmd", "linear_mmd", "coral", "proxy_a_distance", "h_divergence"):
        assert key in out["divergences"]
    assert_allclose(out["divergences"]["mmd"], 0.4217664461411852, rtol=1e-9)
    assert_allclose(out["divergences"]["coral"], 0.07052579198689603, rtol=1e-9)
    assert (out["n_source"], out["n_target"], out["n_features"]) == (200, 200, 5)


def test_divergences_table_and_measures(runner, seed_files):
    res = runner.invoke(cli, ["divergences", *seed_files, "--measures", "mmd,coral"])
    assert res.exit_code == 0
    assert "mmd" in res.stdout and "coral" in res.stdout and "proxy_a_distance" not in res.stdout


def test_benchmark_mat_selector(runner, shared_data):
    f = str(shared_data / "mnist_usps" / "USPS_vs_MNIST.mat")
    res = runner.invoke(cli, ["divergences", f + ":src", f + ":tar", "--json", "--measures", "linear_mmd,coral"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["n_source"], out["n_target"], out["n_features"]) == (1800, 2000, 256)


def test_demo(runner):
    """The main job: the recommend object (with the embedded score object) on the demo pair."""
    res = runner.invoke(cli, ["demo", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["n_features"] == 16 and out["pair"].startswith("demo")
    assert {r["method"] for r in out["ranking"]} >= {"no_adapt", "meda", "jda"}
    assert out["best"] == out["ranking"][0]["method"]
    t = out["transferability"]
    assert 0.0 <= t["score"] <= 1.0 and t["worth_transferring"] == (t["score"] > 0.5)
    assert t["divergences"]["mmd"] > 0


def _bad_inputs(tmp_path):
    ok = tmp_path / "ok.npz"
    np.savez(ok, X=np.random.RandomState(0).randn(10, 3))
    cases = {}
    cases["missing file"] = ([str(tmp_path / "missing.npz"), str(ok)], "file not found")
    bad = tmp_path / "bad.xyz"
    bad.write_text("x")
    cases["unknown format"] = ([str(bad), str(ok)], "unknown format")
    unreadable = tmp_path / "garbage.npz"
    unreadable.write_bytes(b"\x00garbage")
    cases["unreadable"] = ([str(unreadable), str(ok)], "cannot read")
    other_d = tmp_path / "d4.npz"
    np.savez(other_d, X=np.zeros((10, 4)))
    cases["feature counts"] = ([str(ok), str(other_d)], "features but target has")
    nan = tmp_path / "nan.npz"
    np.savez(nan, X=np.array([[np.nan, 1, 2], [0, 1, 2]]))
    cases["nan"] = ([str(nan), str(ok)], "NaN or infinite")
    inf = tmp_path / "inf.npy"
    np.save(inf, np.array([[np.inf, 1, 2], [0, 1, 2]]))
    cases["inf"] = ([str(ok), str(inf)], "NaN or infinite")
    empty = tmp_path / "empty.npz"
    np.savez(empty, X=np.zeros((0, 3)))
    cases["empty domain"] = ([str(empty), str(ok)], "empty")
    single = tmp_path / "single.npz"
    np.savez(single, X=np.zeros((1, 3)))
    cases["single sample"] = ([str(ok), str(single)], "at least 2 samples")
    text = tmp_path / "text.csv"
    text.write_text("a,b,c\n1,x,2\n3,y,4\n")
    cases["non-numeric"] = ([str(text), str(ok)], "non-numeric")
    labels = tmp_path / "labels.npz"
    np.savez(labels, X=np.zeros((5, 3)), y=np.arange(4))
    cases["label length"] = ([str(labels), str(ok)], "labels for 5 samples")
    mat = tmp_path / "nokeys.mat"
    scipy.io.savemat(mat, {"something": np.zeros((3, 3))})
    cases["mat without keys"] = ([str(mat), str(ok)], "none of the known keys")
    cases["missing label column"] = ([str(text), str(ok), "--label-column", "cls"], "label column 'cls' not found")
    return cases


CASE_NAMES = ["missing file", "unknown format", "unreadable", "feature counts", "nan", "inf", "empty domain",
              "single sample", "non-numeric", "label length", "mat without keys", "missing label column"]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_bad_input_exits_2_with_one_line(runner, tmp_path, case):
    args, match = _bad_inputs(tmp_path)[case]
    res = runner.invoke(cli, ["divergences", *args, "--json"])
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert res.stdout == ""  # never a wrong number
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert match in lines[0]
    assert "Traceback" not in res.stderr


def test_subprocess_entry_points(seed_files):
    """``python -m transferability`` and the console script work as separate processes."""
    out = subprocess.run([sys.executable, "-m", "transferability", "divergences", *seed_files, "--json",
                          "--measures", "mmd"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert_allclose(json.loads(out.stdout)["divergences"]["mmd"], 0.4217664461411852, rtol=1e-9)
    bad = subprocess.run([sys.executable, "-m", "transferability", "divergences", "nope.npz", seed_files[1]],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr


def test_usage_errors(runner, seed_files):
    assert runner.invoke(cli, ["divergences", seed_files[0]]).exit_code == 2
    assert runner.invoke(cli, ["divergences", *seed_files, "--max-samples", "1"]).exit_code == 2
    res = runner.invoke(cli, ["divergences", *seed_files, "--measures", "nope"])
    assert res.exit_code == 2 and "unknown measure" in res.stderr
    assert runner.invoke(cli, ["--help"]).exit_code == 0
    assert runner.invoke(cli, ["divergences", "--help"]).exit_code == 0


@pytest.mark.parametrize("preprocess", ["none", "zscore", "sum-zscore"])
def test_divergences_preprocess_gives_the_numbers_score_shows(runner, tmp_path, preprocess):
    # the old command had no --preprocess: C->A SURF gave MMD 0.073 against score's 0.0052 (zscore)
    rng = np.random.RandomState(0)
    Xs, Xt = np.abs(rng.randn(150, 6)) + 0.1, np.abs(rng.randn(120, 6)) * 2.0 + 0.3
    s, t = tmp_path / "s.npz", tmp_path / "t.npz"
    np.savez(s, X=Xs, y=np.arange(150) % 3)
    np.savez(t, X=Xt)
    div = runner.invoke(cli, ["divergences", str(s), str(t), "--json", "--preprocess", preprocess])
    assert div.exit_code == 0, div.output
    sc = runner.invoke(cli, ["score", str(s), str(t), "--json", "--preprocess", preprocess])
    assert sc.exit_code == 0, sc.output
    mine, theirs = json.loads(div.stdout), json.loads(sc.stdout)["divergences"]
    assert mine["preprocess"] == preprocess
    common = sorted(set(mine["divergences"]) & set(theirs))
    assert {"mmd", "coral", "frechet", "grassmann", "rbf_mmd"} <= set(common)
    for name in common:
        assert_allclose(mine["divergences"][name], theirs[name], rtol=1e-12, err_msg=name)


def test_divergences_preprocess_is_a_choice(runner, seed_files):
    res = runner.invoke(cli, ["divergences", *seed_files, "--preprocess", "pca"])
    assert res.exit_code == 2 and "'--preprocess': 'pca' is not one of" in res.stderr
