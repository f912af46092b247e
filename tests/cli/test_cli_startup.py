"""A fast start: ``--help`` imports nothing heavy, and the choices it lists are the registries' own
tuples (transferability._vocabulary, which imports nothing). (Not timed: the figures are in
docs/benchmarks.md, from benchmarks/bench_startup.py.)"""

import json
import subprocess
import sys

import pytest

HEAVY = ("numpy", "scipy", "sklearn", "lightgbm", "jinja2", "matplotlib", "transferability.meta",
         "transferability.methods", "transferability.divergence", "transferability.datasets")
HELPS = (["--help"], ["score", "--help"], ["recommend", "--help"], ["demo", "--help"], ["adapt", "--help"],
         ["evaluate", "--help"], ["divergences", "--help"], ["store", "--help"], ["store", "build", "--help"],
         ["meta", "--help"], ["meta", "train", "--help"], ["report", "--help"], ["--version"])

# each --help in turn, in one fresh interpreter: what it imported beyond what came before it
_CHILD = r"""
import json, sys
from transferability.cli.main import cli
heavy = tuple(json.loads(sys.argv[1]))
out = []
for args in json.loads(sys.argv[2]):
    code = None
    try:
        cli.main(args=args, prog_name="transferability", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
    out.append({"args": args, "code": code,
                "heavy": sorted(m for m in sys.modules if m.split(".")[0] in heavy
                                or any(m == h or m.startswith(h + ".") for h in heavy))})
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def helps():
    res = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(HEAVY), json.dumps(HELPS)],
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("i", range(len(HELPS)), ids=[" ".join(a) for a in HELPS])
def test_help_imports_nothing_heavy(helps, i):
    got = helps[i]
    assert got["args"] == HELPS[i] and got["code"] == 0
    assert got["heavy"] == [], f"{' '.join(got['args'])} imported {got['heavy'][:5]}"


def test_import_transferability_is_light_and_input_error_still_there():
    code = ("import sys, transferability; light = 'numpy' not in sys.modules; "
            "from transferability import InputError; "
            "from transferability.utils.validation import InputError as E; "
            "print(light, InputError is E, 'InputError' in dir(transferability))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.split() == ["True", "True", "True"]


def test_python_dash_m_help_is_light():
    code = ("import runpy, sys; sys.argv = ['transferability', '--help']\n"
            "try:\n    runpy.run_module('transferability', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('numpy' in sys.modules, 'sklearn' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.split()[-2:] == ["False", "False"]


def test_literal_choices_are_the_registries():
    from transferability.cli._common import BASE_ESTIMATOR_CHOICES, METHOD_CHOICES
    from transferability.methods import BASE_ESTIMATORS, METHOD_NAMES, available_methods

    assert METHOD_CHOICES is METHOD_NAMES and tuple(METHOD_NAMES) == tuple(available_methods())
    assert BASE_ESTIMATOR_CHOICES is BASE_ESTIMATORS


def test_adapt_help_lists_every_method():
    from click.testing import CliRunner

    from transferability.cli._common import METHOD_CHOICES
    from transferability.cli.main import cli

    r = CliRunner().invoke(cli, ["adapt", "--help"])
    assert r.exit_code == 0
    assert f"[{'|'.join(METHOD_CHOICES)}]" in "".join(r.output.split())
    assert "evaluate --help" not in r.output  # no longer sent to a help that lists no methods
    r = CliRunner().invoke(cli, ["evaluate", "--help"])
    assert ", ".join(METHOD_CHOICES[:4]) in " ".join(r.output.split())


def test_name_choice_refuses_with_the_list():
    import click

    from transferability.cli._common import NameChoice

    t = NameChoice(("a", "b"), what="thing")
    assert t.convert("a", None, None) == "a"
    with pytest.raises(click.BadParameter, match=r"unknown thing 'c'; choose one of a, b"):
        t.convert("c", None, None)
