"""The commands that draw say in one line which extra to install when matplotlib is missing,
before any work (``meta evaluate`` spends minutes on held-out folds before its first figure).
matplotlib is made unimportable with ``sys.modules["matplotlib"] = None``."""

import sys

import pytest
from click.testing import CliRunner

from transferability import InputError

NEEDS = r'needs matplotlib, which is not installed: pip install "transferability\[report\]"$'


@pytest.fixture
def no_matplotlib(monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError


def _records():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("_mt_records", Path(__file__).with_name("test_metatrans.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.make_records()


def _no_work(*a, **k):  # pragma: no cover - must never be reached
    raise AssertionError("evaluated before checking for matplotlib")


def test_require_and_pyplot_name_the_extra(no_matplotlib):
    from transferability.utils.extras import pyplot, require

    assert require("json", extra="report", what="x").__name__ == "json"
    with pytest.raises(InputError, match=r"^the page " + NEEDS) as info:
        require("matplotlib", extra="report", what="the page")
    assert "\n" not in str(info.value)
    with pytest.raises(InputError, match=r"^the page " + NEEDS):
        pyplot("the page")


def test_write_evaluation_refuses_before_evaluating(no_matplotlib, monkeypatch, tmp_path):
    from transferability.meta.evaluation import _page

    monkeypatch.setattr(_page, "evaluate_protocol", _no_work)
    monkeypatch.setattr(_page, "build_tables", _no_work)
    out = tmp_path / "evaluation.md"
    with pytest.raises(InputError, match=r"^`meta evaluate` \(the evaluation page's figures\) " + NEEDS):
        _page.write_evaluation([], str(out))
    assert not out.exists()


def test_easytrans_section_refuses_before_its_folds(no_matplotlib, monkeypatch, tmp_path):
    from transferability.meta.evaluation import _easytrans_eval

    monkeypatch.setattr(_easytrans_eval, "build_label_tables", _no_work)
    with pytest.raises(InputError, match=NEEDS):
        _easytrans_eval.easytrans_section([], tmp_path / "figures")
    assert not (tmp_path / "figures").exists()


def test_meta_evaluate_command_one_line_exit_2(no_matplotlib, tmp_path):
    from transferability.cli._meta import meta_group
    from transferability.meta_store import MetaStore, import_records

    store = tmp_path / "small.sqlite"
    with MetaStore(str(store)) as st:
        import_records(st, _records())
    out = tmp_path / "docs" / "evaluation.md"
    try:
        runner = CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 keeps stderr apart by default
        runner = CliRunner()
    r = runner.invoke(meta_group, ["evaluate", "--store", str(store), "--without-default", "--output", str(out),
                                   "--quiet", "--no-sanity"])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: `meta evaluate`")
    assert lines[0].endswith('pip install "transferability[report]"')
    assert not out.exists() and not (tmp_path / "docs" / "figures").exists()
