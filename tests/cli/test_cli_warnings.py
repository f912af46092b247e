"""Library warnings never reach stderr raw: one ``note:`` line of ours, or none."""

import warnings

import numpy as np
import pytest
from click.testing import CliRunner

from transferability.cli import _warnings
from transferability.cli._common import handle_errors
from transferability.cli.main import cli
from transferability.utils.validation import InputError


def _caught(*items):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for category, text in items:
            warnings.warn(text, category)
    return caught


def test_summary_keeps_what_matters_and_drops_developer_warnings():
    from sklearn.exceptions import ConvergenceWarning

    assert _warnings.summarize(_caught((DeprecationWarning, "old"), (FutureWarning, "soon"))) is None
    line = _warnings.summarize(_caught((ConvergenceWarning, "lbfgs failed to converge"),
                                       (RuntimeWarning, "overflow encountered in square"),
                                       (UserWarning, "The least populated class in y has only 1 members")))
    assert line.startswith("note: some classes have very few samples; a solver stopped before it converged; "
                           "a computation overflowed or gave NaN/inf (UserWarning: The least populated class")
    assert "3 library warnings in all" in line and "\n" not in line


def _command(raise_error=False, code=None):
    @handle_errors
    def cmd():
        warnings.warn("overflow encountered in exp", RuntimeWarning)
        if raise_error:
            raise InputError("bad input here")
        if code is not None:
            raise SystemExit(code)
    return cmd


def test_a_command_prints_one_note_and_a_failure_only_its_error(capsys, monkeypatch):
    monkeypatch.setattr("sys.warnoptions", [])
    _command()()
    err = capsys.readouterr().err.splitlines()
    assert err == ["note: a computation overflowed or gave NaN/inf (RuntimeWarning: overflow encountered in exp); "
                   "the numbers that rest on it are less reliable"]
    with pytest.raises(SystemExit) as exc:
        _command(code=1)()  # e.g. score --fail-below: a normal end, the note is kept
    assert exc.value.code == 1 and capsys.readouterr().err.startswith("note: a computation overflowed")
    with pytest.raises(SystemExit) as exc:
        _command(raise_error=True)()
    assert exc.value.code == 2 and capsys.readouterr().err.splitlines() == ["error: bad input here"]


def test_python_warning_options_show_the_raw_warnings(capsys, monkeypatch):
    monkeypatch.setattr("sys.warnoptions", ["default"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _command()()
    assert len(caught) == 1 and "note:" not in capsys.readouterr().err


def test_score_on_many_one_sample_classes_has_no_raw_warning(tmp_path, monkeypatch):
    # the old command printed sklearn's two-line UserWarning (file path and source line) on stderr
    monkeypatch.setattr("sys.warnoptions", [])
    rng = np.random.RandomState(0)
    y = np.r_[np.arange(40), np.zeros(20, int), np.ones(20, int)]
    s, t = tmp_path / "s.npz", tmp_path / "t.npz"
    np.savez(s, X=rng.randn(80, 10), y=y)
    np.savez(t, X=rng.randn(80, 10) + 0.3)
    res = CliRunner().invoke(cli, ["divergences", str(s), str(t), "--measures", "linear_mmd"])
    assert res.exit_code == 0 and res.stderr == ""
    res = CliRunner().invoke(cli, ["score", str(s), str(t), "--json"])
    assert res.exit_code == 0, res.output
    assert "UserWarning" not in res.stderr.replace("(UserWarning:", "") and "site-packages" not in res.stderr
    notes = [line for line in res.stderr.splitlines() if line.startswith("note:")]
    assert notes == [line for line in res.stderr.splitlines() if "warn" in line.lower() and
                     not line.startswith("warning:")]
    assert len(notes) == 1 and notes[0].startswith("note: some classes have very few samples")
