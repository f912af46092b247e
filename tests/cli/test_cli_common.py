"""The command line's shared pieces: one-line usage errors, list and seed options, errors."""

import json
import os
import re
import subprocess
import sys

import click
import numpy as np
import pytest
from click.testing import CliRunner
from numpy.testing import assert_allclose

from transferability.cli._common import KSHOT, SEED, CommaList, OneLineGroup, handle_errors
from transferability.cli.main import cli


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def files(tmp_path):
    rng = np.random.RandomState(0)
    s, t, u = tmp_path / "s.npz", tmp_path / "t.npz", tmp_path / "u.npz"
    np.savez(s, X=rng.randn(60, 5), y=np.arange(60) % 3)
    np.savez(t, X=rng.randn(60, 5) + 0.5, y=np.arange(60) % 3)
    np.savez(u, X=rng.randn(60, 5) + 0.5)
    return str(s), str(t), str(u)


def _one_error_line(res, pattern):
    assert res.exit_code == 2, (res.exit_code, res.output)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in res.stderr and "Usage:" not in res.stderr
    assert res.stdout == ""


# --- usage errors are one line ------------------------------------------------------------------
USAGE_CASES = [
    (["divergences", "{s}"], r"Missing argument 'TARGET'.* \(see '\S+ divergences --help'\)"),
    (["divergences", "{s}", "{t}", "--bogus"], r"No such option:? '?--bogus"),
    (["divergences", "{s}", "{t}", "--backend", "cuda"], r"Invalid value for '--backend': 'cuda' is not one of"),
    (["divergences", "{s}", "{t}", "--max-samples", "1"], r"Invalid value for '--max-samples'"),
    (["divergences", "{s}", "{t}", "--measures", ","], r"'--measures': expects a comma-separated list of measures, got ','"),
    (["divergences", "{s}", "{t}", "--measures", ""], r"'--measures': expects a comma-separated list"),
    (["divergences", "{s}", "{t}", "--seed", "-1"], r"Invalid value for '--seed': -1 is not in the range 0<=x<=4294967295"),
    (["divergences", "{s}", "{t}", "--seed", str(2**40)], r"'--seed': 1099511627776 is not in the range"),
    (["divergences", "{s}", "{t}", "--seed", "x"], r"'--seed': 'x' is not a valid integer"),
    (["demo", "--seed", "-1"], r"'--seed': -1 is not in the range"),
    (["adapt", "{s}", "{u}"], r"Missing option '--method'"),
    (["adapt", "{s}", "{u}", "--method", "sa", "--seed", "-1"], r"'--seed': -1 is not in the range"),
    (["adapt", "{s}", "{u}", "--method", "sa", "--seed", str(2**40)], r"'--seed': 1099511627776 is not in the range"),
    (["adapt", "{s}", "{u}", "--method", "sa", "--preprocess", "pca"], r"'--preprocess': 'pca' is not one of"),
    (["evaluate", "{s}", "{t}", "--seed", "-1"], r"'--seed': -1 is not in the range"),
    (["evaluate", "{s}", "{t}", "--seed", str(2**40)], r"'--seed': 1099511627776 is not in the range"),
    (["evaluate", "{s}", "{t}", "--methods", ","], r"'--methods': expects a comma-separated list of method names, got ','"),
    (["evaluate", "{s}", "{t}", "--methods", " , ,"], r"'--methods': expects a comma-separated list"),
    (["evaluate", "{s}", "{t}", "--kshot", "a"], r"'--kshot': 'a' is not an integer"),
    (["evaluate", "{s}", "{t}", "--kshot", ","], r"'--kshot': expects a comma-separated list of integers >= 1, got ','"),
    (["evaluate", "{s}", "{t}", "--kshot", "3,-1"], r"'--kshot': -1 is not in the range x>=1"),
    (["evaluate", "{s}", "{t}", "--preprocess", "pca"], r"'--preprocess': 'pca' is not one of"),
]


@pytest.mark.parametrize("args, pattern", USAGE_CASES)
def test_usage_errors_are_one_line(runner, files, args, pattern):
    s, t, u = files
    res = runner.invoke(cli, [a.format(s=s, t=t, u=u) for a in args])
    _one_error_line(res, pattern)


@pytest.mark.parametrize("args, pattern", [
    (["store", "nope"], r"No such command 'nope'.* \(see '\S+ store --help'\)"),
    (["store", "stats", "--bogus"], r"No such option:? '?--bogus"),
])
def test_subgroup_usage_errors_are_one_line(runner, args, pattern):
    _one_error_line(runner.invoke(cli, args), pattern)


@pytest.mark.xfail(not isinstance(cli, OneLineGroup), strict=True,
                   reason="cli/main.py must build its group with cls=OneLineGroup")
@pytest.mark.parametrize("args, pattern", [
    (["nope"], r"No such command 'nope'"),
    (["--bogus", "divergences"], r"No such option:? '?--bogus"),
])
def test_group_usage_errors_are_one_line(runner, args, pattern):
    _one_error_line(runner.invoke(cli, args), pattern)


def test_one_line_group_covers_plain_subcommands(runner):
    """Errors of any subcommand, OneLineCommand or not, go through the group as one line."""

    @click.group(cls=OneLineGroup)
    def top():
        pass

    @top.command()
    @click.argument("x", type=int)
    def sub(x):
        click.echo(x * 2)

    plain = click.Group("plain")
    plain.add_command(click.Command("leaf", callback=lambda: None, params=[click.Argument(["a"])]))
    top.add_command(plain)

    assert runner.invoke(top, ["sub", "21"]).stdout == "42\n"
    assert isinstance(sub, click.Command) and type(sub).__name__ == "OneLineCommand"
    _one_error_line(runner.invoke(top, ["sub", "x"]), r"Invalid value for 'X': 'x' is not a valid integer")
    _one_error_line(runner.invoke(top, ["sub"]), r"Missing argument 'X'")
    _one_error_line(runner.invoke(top, ["what"]), r"No such command 'what'")
    _one_error_line(runner.invoke(top, ["plain", "leaf"]), r"Missing argument 'A'")
    assert runner.invoke(top, ["sub", "--help"]).exit_code == 0
    with pytest.raises(click.UsageError, match="Missing argument 'X'"):  # programmatic callers keep the type
        top.main(["sub"], standalone_mode=False)


# --- option types -------------------------------------------------------------------------------
def test_comma_list():
    methods = CommaList(keyword="all", what="method names")
    assert methods.convert("all", None, None) == "all"
    assert methods.convert(" sa, coral ,,tca ", None, None) == ["sa", "coral", "tca"]
    assert KSHOT.convert("", None, None) == []  # '' means no k-shot baselines
    assert KSHOT.convert("1, 3,10", None, None) == [1, 3, 10]
    for bad, match in [(",", "got ','"), ("", "got ''"), (" ", "got ' '")]:
        with pytest.raises(click.BadParameter, match=match):
            methods.convert(bad, None, None)
    with pytest.raises(click.BadParameter, match=r"0 is not in the range x>=1 \(expects a comma-separated"):
        KSHOT.convert("1,0", None, None)
    with pytest.raises(click.BadParameter, match="got ','"):
        KSHOT.convert(",", None, None)


def test_seed_range_is_numpys():
    assert SEED.convert("0", None, None) == 0
    assert SEED.convert(str(2**32 - 1), None, None) == 2**32 - 1
    np.random.RandomState(SEED.convert(str(2**32 - 1), None, None))  # accepted by numpy
    for bad in ("-1", str(2**32)):
        with pytest.raises(click.BadParameter, match="is not in the range 0<=x<=4294967295"):
            SEED.convert(bad, None, None)
    with pytest.raises(ValueError):
        np.random.RandomState(2**32)  # why the range stops there


# --- MemoryError --------------------------------------------------------------------------------
def _raising(exc):
    @click.command()
    @handle_errors
    def cmd():
        raise exc

    return cmd


def test_memory_error_prints_its_own_message(runner):
    msg = "the 1000000 x 1000000 feature covariance needs 7.3 TiB; reduce the number of features"
    res = runner.invoke(_raising(MemoryError(msg)))
    assert res.exit_code == 1
    assert res.stderr == f"error: out of memory: {msg}\n"


def test_memory_error_without_message_names_features_too(runner):
    res = runner.invoke(_raising(MemoryError()))
    assert res.exit_code == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: out of memory")
    assert "d x d covariance" in lines[0] and "fewer features" in lines[0]


def test_memory_error_from_a_command(runner, files, monkeypatch):
    import transferability.divergence as div

    def boom(*a, **k):
        raise MemoryError("Unable to allocate 7.28 TiB for an array with shape (1000000, 1000000)")

    monkeypatch.setattr(div, "compute_divergences", boom)
    res = runner.invoke(cli, ["divergences", files[0], files[1]])
    assert res.exit_code == 1
    assert res.stderr == ("error: out of memory: Unable to allocate 7.28 TiB for an array with shape "
                          "(1000000, 1000000)\n")


# --- tables matched by column name ----------------------------------------------------------------
def test_divergences_match_csv_columns_by_name(runner, tmp_path):
    rng = np.random.RandomState(0)
    X = rng.randn(60, 5)
    names = ["f0", "f1", "f2", "f3", "f4"]
    perm = [3, 0, 4, 2, 1]
    s, t = tmp_path / "s.csv", tmp_path / "t.csv"
    np.savetxt(s, X, fmt="%.17g", delimiter=",", header=",".join(names), comments="")
    np.savetxt(t, X[:, perm], fmt="%.17g", delimiter=",", header=",".join(names[i] for i in perm), comments="")
    res = runner.invoke(cli, ["divergences", str(s), str(t), "--json", "--measures", "mmd,linear_mmd,coral,frechet"])
    assert res.exit_code == 0, res.output
    div = json.loads(res.stdout)["divergences"]
    assert_allclose([div["mmd"], div["linear_mmd"], div["coral"], div["frechet"]], 0.0, atol=1e-10)
    other = tmp_path / "o.csv"
    np.savetxt(other, X, fmt="%.17g", delimiter=",", header="f0,f1,f2,f3,g", comments="")
    _one_error_line(runner.invoke(cli, ["divergences", str(s), str(other)]),
                    r"feature columns differ by name \(not in target: f4; not in source: g\)")


def test_fifo_input_is_refused(runner, files, tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    proc = subprocess.run([sys.executable, "-m", "transferability", "divergences", files[0], str(fifo)],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"error: target: {fifo} is not a regular file (a FIFO)\n"


# --- adapt --output ------------------------------------------------------------------------------
def test_adapt_output_into_a_directory_is_refused_and_leaves_nothing(runner, files, tmp_path):
    out = tmp_path / "pred.npy"
    out.mkdir()
    before = sorted(os.listdir(tmp_path))
    _one_error_line(runner.invoke(cli, ["adapt", files[0], files[2], "--method", "coral", "--output", str(out)]),
                    r"--output .*pred\.npy is a directory")
    assert sorted(os.listdir(tmp_path)) == before and os.listdir(out) == []


@pytest.fixture
def immutable_dir(tmp_path):
    d = tmp_path / "locked"
    d.mkdir()
    if subprocess.run(["chattr", "+i", str(d)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    yield d
    subprocess.run(["chattr", "-i", str(d)], check=True)


@pytest.mark.parametrize("ext", [".npy", ".csv"])
def test_adapt_output_in_an_unwritable_directory(runner, files, immutable_dir, ext):
    out = immutable_dir / f"pred{ext}"
    _one_error_line(runner.invoke(cli, ["adapt", files[0], files[2], "--method", "coral", "--output", str(out)]),
                    r"cannot write --output .*pred\.\w+: Operation not permitted")
    assert os.listdir(immutable_dir) == []


def test_adapt_refuses_a_bad_output_before_fitting(runner, files, tmp_path, monkeypatch):
    import transferability.methods as methods

    def never(*a, **k):
        raise AssertionError("fitted before checking --output")

    monkeypatch.setattr(methods, "get_method", never)
    _one_error_line(runner.invoke(cli, ["adapt", files[0], files[2], "--method", "coral", "--output",
                                        str(tmp_path / "p.xlsx")]), "unknown output format '.xlsx'")


# --- evaluate --record ------------------------------------------------------------------------------
@pytest.fixture
def no_evaluation(monkeypatch):
    """Fail the test if the evaluation runs (the store must be checked first)."""
    import transferability.methods as methods

    def never(*a, **k):
        raise AssertionError("the evaluation ran before the store was checked")

    monkeypatch.setattr(methods, "evaluate_methods", never)


def test_record_into_a_store_under_a_file_fails_before_evaluating(runner, files, tmp_path, no_evaluation):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = runner.invoke(cli, ["evaluate", files[0], files[1], "--record", "--store", str(blocker / "s.sqlite"),
                              "--quiet", "--kshot", ""])
    _one_error_line(res, r"store")


def test_record_into_an_immutable_directory_fails_before_evaluating(runner, files, immutable_dir, no_evaluation):
    res = runner.invoke(cli, ["evaluate", files[0], files[1], "--record", "--store", str(immutable_dir / "s.sqlite"),
                              "--quiet", "--kshot", ""])
    _one_error_line(res, r"store")
    assert os.listdir(immutable_dir) == []


def test_record_into_an_immutable_store_fails_before_evaluating(runner, files, tmp_path, monkeypatch):
    from transferability.meta_store import MetaStore

    path = tmp_path / "s.sqlite"
    MetaStore(str(path)).close()
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        import transferability.methods as methods

        monkeypatch.setattr(methods, "evaluate_methods",
                            lambda *a, **k: (_ for _ in ()).throw(AssertionError("evaluated first")))
        res = runner.invoke(cli, ["evaluate", files[0], files[1], "--record", "--store", str(path),
                                  "--quiet", "--kshot", ""])
        _one_error_line(res, r"store")
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_record_says_where_and_keys_the_pair_like_load_pair(runner, files, tmp_path):
    from transferability.datasets import load_pair
    from transferability.meta_store import MetaStore

    store = tmp_path / "rec.sqlite"
    res = runner.invoke(cli, ["evaluate", files[0], files[1], "--methods", "no_adapt", "--kshot", "1", "--quiet",
                              "--preprocess", "zscore", "--record", "--store", str(store), "--json"])
    assert res.exit_code == 0, res.output
    rec = json.loads(res.stdout)["recorded"]
    assert rec["store"] == str(store) and rec["outcomes_added"] == 1
    assert rec["pair_key"] == load_pair(files[0], files[1], preprocess="zscore").key
    with MetaStore(str(store), create=False, readonly=True) as st:
        assert [r[0] for r in st.query("SELECT key FROM pairs")] == [rec["pair_key"]]
    res = runner.invoke(cli, ["evaluate", files[1], files[0], "--methods", "no_adapt", "--kshot", "", "--quiet",
                              "--record", "--store", str(store)])
    assert res.exit_code == 0, res.output
    assert re.fullmatch(rf"recorded pair \d+ \(1 outcomes added\) in {re.escape(str(store))}\n", res.stderr)


def test_preprocess_choices_are_the_registry():
    from transferability.cli._common import PREPROCESS_CHOICES
    from transferability.datasets import PREPROCESSING

    assert tuple(PREPROCESSING) == PREPROCESS_CHOICES


def test_step_progress_is_a_status_line_on_a_terminal_only(monkeypatch, capsys):
    import transferability.cli._common as common

    assert common.StepProgress(False).callback is None  # pytest's stderr is no terminal
    monkeypatch.setattr(common, "progress_wanted", lambda quiet: not quiet)
    assert common.StepProgress(True).callback is None  # --quiet
    assert common.StepProgress(False, as_json=True).callback is None  # --json
    with common.StepProgress(False, desc="meta train") as bar:
        bar.callback("1nn: fold digits done")
        bar.callback("1nn: fold wine done")
        assert bar.bar.n == 2
    assert bar.bar is None
    assert "fold" in capsys.readouterr().err
