"""score / recommend on the sanity suite's rule kinds, from the command line (issue 17, done-when)."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from transferability.cli.main import cli
from transferability.datasets._sanity import make_sanity_pair


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("sanity")
    out = {}
    for kind in ("noise", "tiny_target", "identical"):
        s, t = make_sanity_pair(kind)
        np.savez(d / f"{kind}_s.npz", X=s.X, y=s.y)
        np.savez(d / f"{kind}_t.npz", X=t.X)
        out[kind] = (str(d / f"{kind}_s.npz"), str(d / f"{kind}_t.npz"))
    return out


def _run(*args):
    return CliRunner().invoke(cli, list(args))


def test_score_on_noise_is_below_0_2_and_closes_the_gate(files):
    r = _run("score", *files["noise"], "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["score"] < 0.2 and out["worth_transferring"] is False and out["rule"] == "no_source_signal"
    assert out["method"] == "no_adapt"
    assert _run("score", *files["noise"], "--fail-below", "0.5").exit_code == 1


def test_a_tiny_target_gets_an_abstention_not_a_number(files):
    r = _run("score", *files["tiny_target"], "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["score"] is None and out["abstained"] and out["worth_transferring"] is None
    assert out["reason"].startswith("cannot judge: target too small")
    text = _run("score", *files["tiny_target"])
    assert "score: none: cannot judge: target too small" in text.stdout
    assert _run("score", *files["tiny_target"], "--fail-below", "0.1").exit_code == 1  # no pass without a number
    rec = json.loads(_run("recommend", *files["tiny_target"], "--json").stdout)
    assert rec["abstained"] and rec["best"] == "no_adapt" and rec["transferability"]["score"] is None


def test_identical_domains_recommend_no_adapt(files):
    rec = json.loads(_run("recommend", *files["identical"], "--json").stdout)
    assert rec["best"] == "no_adapt" and rec["rule"] == "target_is_source" and rec["fallback"]
    assert rec["ranking"][0]["method"] == "no_adapt"
