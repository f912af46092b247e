"""Wide inputs: above ``max_features`` columns the d-heavy measures run on the projected pair,
exactly when the rows span few enough dimensions, and the report says so."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from numpy.testing import assert_allclose

from transferability.cli.main import cli
from transferability.divergence import DEFAULT_MAX_FEATURES, REGISTRY, compute_divergences
from transferability.divergence._width import project_pair
from transferability.utils.validation import InputError

WIDE = [m.name for m in REGISTRY if m.wide]
MOMENTS = ["coral", "frechet", "grassmann"]


def _pair(ns=40, nt=45, d=400, seed=1):
    rng = np.random.RandomState(seed)
    return rng.randn(ns, d) + 5.0, rng.randn(nt, d) * 1.3 + 0.2


def test_the_wide_measures_are_the_d_heavy_ones():
    assert WIDE == ["coral", "frechet", "grassmann", "h_divergence"]
    assert DEFAULT_MAX_FEATURES == 1024  # the store's widest pairs (1,024 columns) are not projected


def test_row_span_projection_keeps_the_moment_measures():
    A, B = _pair()
    full = compute_divergences(A, B, max_features=None).divergences
    rep = compute_divergences(A, B, max_features=100)
    assert rep.projection["method"] == "row_span" and rep.projection["exact"] is True
    assert rep.projection["measures"] == WIDE and rep.projection["n_features"] == 400
    assert rep.projection["n_components"] == A.shape[0] + B.shape[0] - 1 and rep.projection["width"] == 100
    assert_allclose(rep.divergences["coral"], full["coral"], rtol=1e-12)
    assert_allclose(rep.divergences["grassmann"], full["grassmann"], rtol=1e-12)
    # the unprojected value carries square roots of rounding noise from its 315-dim null space
    assert_allclose(rep.divergences["frechet"], full["frechet"], rtol=1e-7)
    for name in ("mmd", "linear_mmd", "rbf_mmd", "proxy_a_distance", "knn_overlap"):
        assert rep.divergences[name] == full[name]  # linear in d: never projected


def test_projection_keeps_every_distance():
    A, B = _pair(d=300)
    Ps, Pt, info = project_pair(A, B, 100)
    Z, P = np.vstack([A, B]), np.vstack([Ps, Pt])
    D = ((Z[:, None] - Z[None]) ** 2).sum(-1)
    DP = ((P[:, None] - P[None]) ** 2).sum(-1)
    assert_allclose(DP, D, rtol=1e-10, atol=1e-9 * D.max())
    assert project_pair(A, B, 300) == (A, B, None)  # not wider than the width: untouched


def test_pca_projection_with_many_rows_is_seeded_and_said():
    A, B = _pair(ns=80, nt=70, d=200)
    rep = compute_divergences(A, B, max_features=50, measures=MOMENTS, random_state=3)
    p = rep.projection
    assert p["method"] == "pca" and p["exact"] is False and p["n_components"] == 50
    assert 0.0 < p["explained_variance"] < 1.0
    again = compute_divergences(A, B, max_features=50, measures=MOMENTS, random_state=3)
    assert again.divergences == rep.divergences
    assert all(np.isfinite(v) for v in rep.divergences.values())


def test_no_projection_below_the_width_or_without_wide_measures():
    A, B = _pair(d=50)
    assert compute_divergences(A, B, measures=MOMENTS).projection is None
    A, B = _pair(d=2000)
    assert compute_divergences(A, B, measures=["linear_mmd"]).projection is None


def test_a_million_columns_no_longer_need_d_by_d_matrices():
    # the old report refused this 3-row pair with a MemoryError (4.8e+04 GB of covariances)
    wide = np.lib.stride_tricks.as_strided(np.arange(3.0), shape=(3, 10**6), strides=(8, 0))
    other = np.lib.stride_tricks.as_strided(np.arange(3.0) * 2, shape=(3, 10**6), strides=(8, 0))
    rep = compute_divergences(wide, other, measures=MOMENTS + ["linear_mmd"])
    assert rep.projection["exact"] is True and rep.projection["n_components"] <= 6
    assert_allclose(rep.divergences["linear_mmd"], 10**6 * 1.0)


@pytest.mark.parametrize("bad", [1, 0, -5, 2.5, True, "10"])
def test_bad_max_features(bad):
    A, B = _pair(d=20)
    with pytest.raises(InputError, match="max_features must be an integer >= 2 or None"):
        compute_divergences(A, B, max_features=bad)


def test_cli_reports_the_projection(tmp_path):
    A, B = _pair(d=300)
    s, t = tmp_path / "s.npz", tmp_path / "t.npz"
    np.savez(s, X=A)
    np.savez(t, X=B)
    res = CliRunner().invoke(cli, ["divergences", str(s), str(t), "--json", "--max-features", "100",
                                   "--measures", "coral,mmd"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["projection"]["measures"] == ["coral"] and out["projection"]["exact"] is True
    res = CliRunner().invoke(cli, ["divergences", str(s), str(t), "--max-features", "100", "--measures", "coral"])
    assert "coral: on 84 of 300 columns (wider than 100), projected exactly" in res.stdout
    res = CliRunner().invoke(cli, ["divergences", str(s), str(t), "--json", "--max-features", "0",
                                   "--measures", "coral"])
    assert json.loads(res.stdout)["projection"] is None
