"""Inputs that used to give NaN, a traceback, a misleading message or an order-dependent value."""

import dataclasses
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from transferability import InputError
from transferability.divergence import (
    MEASURES, REGISTRY, compute_divergences, coral_gap, frechet_distance, grassmann_distance, h_divergence,
    knn_overlap, linear_mmd2, mmd2, mmd2_dense, proxy_a_distance, rbf_mmd2,
)

# each measure's declared degree of homogeneity and sampling, from its registry row: the tests below
# check that the function behaves as declared, so a new measure needs no entry here
DEGREE = {m.name: m.degree for m in REGISTRY}
SEEDED = {m.name for m in REGISTRY if m.subsampled}
FUNCS = {name: spec[0] for name, spec in MEASURES.items()}


@pytest.fixture(scope="module")
def small_pair():
    rng = np.random.RandomState(0)
    return rng.randn(60, 5), rng.randn(60, 5) * 1.3 + 0.7


@pytest.fixture(scope="module")
def reference(small_pair):
    return compute_divergences(*small_pair, random_state=0).divergences


def test_the_known_degrees_are_declared():
    known = {"mmd": 0, "rbf_mmd": 0, "linear_mmd": 2, "coral": 4, "frechet": 2, "grassmann": 0,
             "proxy_a_distance": 0, "h_divergence": 0, "knn_overlap": 0}
    assert {name: DEGREE[name] for name in known} == known


# --- magnitude ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(MEASURES))
def test_values_near_1e200_are_exact_or_refused(small_pair, reference, name):
    """A power-of-two factor 2**664 (~1e200): scale-invariant measures give the very same
    value; homogeneous ones overflow float64 and say so (never NaN or inf)."""
    Xs, Xt = (np.ldexp(X, 664) for X in small_pair)
    f = FUNCS[name]
    kw = {"random_state": 0} if name in SEEDED else {}
    if DEGREE[name] == 0:
        assert f(Xs, Xt, **kw) == pytest.approx(reference[name], rel=1e-12, abs=1e-15)
    else:
        with pytest.raises(InputError, match=rf"^{name} overflows float64: the features reach about 2\^"):
            f(Xs, Xt, **kw)


def test_report_near_1e200_is_finite_or_refused(small_pair, reference):
    Xs, Xt = small_pair[0] * 1e200, small_pair[1] * 1e200
    invariant = [m for m in MEASURES if DEGREE[m] == 0]
    rep = compute_divergences(Xs, Xt, measures=invariant, random_state=0)
    for name in invariant:
        assert math.isfinite(rep.divergences[name])
        assert_allclose(rep.divergences[name], reference[name], rtol=1e-6, atol=1e-9)
    with pytest.raises(InputError, match="linear_mmd overflows float64"):
        compute_divergences(Xs, Xt, random_state=0)


@pytest.mark.parametrize("scale", [1e100, 1e-100, 1e-200, 2.0 ** -700])
@pytest.mark.parametrize("name", sorted(MEASURES))
def test_values_scale_back_or_overflow(small_pair, reference, scale, name):
    """The value of a scaled pair is the unscaled value times scale**degree: returned when
    float64 holds it (underflow rounds towards 0), refused with InputError when it does not."""
    Xs, Xt = small_pair[0] * scale, small_pair[1] * scale
    kw = {"random_state": 0} if name in SEEDED else {}
    log_expected = math.log10(reference[name]) + DEGREE[name] * math.log10(scale)
    if log_expected > 308:
        with pytest.raises(InputError, match=f"{name} overflows float64"):
            FUNCS[name](Xs, Xt, **kw)
        return
    value = FUNCS[name](Xs, Xt, **kw)
    assert math.isfinite(value)
    expected = 10.0 ** log_expected if log_expected > -320 else 0.0
    assert value == pytest.approx(expected, rel=1e-6, abs=1e-300 if DEGREE[name] else 1e-9)


def test_rbf_bandwidth_no_longer_blames_gamma(small_pair, reference):
    Xs, Xt = small_pair[0] * 1e200, small_pair[1] * 1e200
    assert_allclose(rbf_mmd2(Xs, Xt), reference["rbf_mmd"], rtol=1e-6)
    with pytest.raises(InputError, match=r"rbf_mmd: gamma \* \|x - y\|\^2 overflows float64"):
        rbf_mmd2(Xs, Xt, gamma=1.0)
    # a gamma given for the data's own scale works as before
    a = rbf_mmd2(small_pair[0], small_pair[1], gamma=0.3)
    assert_allclose(rbf_mmd2(small_pair[0] * 2.0 ** 400, small_pair[1] * 2.0 ** 400,
                             gamma=0.3 * 2.0 ** -800), a, rtol=1e-12)
    with pytest.raises(InputError, match="gamma must be positive"):
        rbf_mmd2(*small_pair, gamma=0.0)


def test_dense_recipe_near_1e200(small_pair, reference):
    Xs, Xt = small_pair[0] * 1e200, small_pair[1] * 1e200
    assert_allclose(mmd2_dense(Xs, Xt), reference["mmd"], rtol=1e-6)


def test_float32_large_values(small_pair, reference):
    """float32 squares overflow from ~1.8e19: such a pair is computed in float64."""
    Xs, Xt = (X.astype(np.float32) * np.float32(1e25) for X in small_pair)
    rep = compute_divergences(Xs, Xt, measures=["mmd", "linear_mmd", "knn_overlap"], random_state=0)
    assert_allclose(rep.divergences["mmd"], reference["mmd"], rtol=1e-5)
    assert_allclose(rep.divergences["linear_mmd"], reference["linear_mmd"] * 1e50, rtol=1e-5)
    assert rep.divergences["knn_overlap"] == reference["knn_overlap"]


# --- what ran -------------------------------------------------------------------------------
def test_auto_backend_reports_what_ran(small_pair, monkeypatch):
    import transferability.utils.backend as backend

    rep = compute_divergences(*small_pair, measures=["mmd"], backend="auto")
    assert rep.backend in ("numpy", "torch")
    assert rep.to_dict()["backend"] == rep.backend
    assert rep.to_dict()["device"] == rep.device
    monkeypatch.setattr(backend, "torch_available", lambda: False)
    rep = compute_divergences(*small_pair, measures=["mmd"], backend="auto")
    assert (rep.backend, rep.device) == ("numpy", "cpu")
    # no kernel measure asked for: numpy is what ran
    assert compute_divergences(*small_pair, measures=["coral"], backend="auto").backend == "numpy"


@pytest.mark.skipif(not __import__("transferability.utils.backend", fromlist=["x"]).torch_available(),
                    reason="torch not installed")
def test_auto_picks_torch_on_cuda(monkeypatch):
    import torch

    from transferability.utils.backend import NumpyBackend, get_backend

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    nx = get_backend("auto")
    assert (nx.name, nx.device) == ("torch", "cuda")
    assert get_backend(nx) is nx  # a resolved backend passes through
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert isinstance(get_backend("auto"), NumpyBackend)


@pytest.mark.skipif(not __import__("transferability.utils.backend", fromlist=["x"]).torch_available(),
                    reason="torch not installed")
def test_torch_backend_reports_its_device(small_pair):
    rep = compute_divergences(*small_pair, measures=["mmd", "rbf_mmd"], backend="torch", device="cpu")
    assert (rep.backend, rep.device) == ("torch", "cpu")
    ref = compute_divergences(*small_pair, measures=["mmd", "rbf_mmd"])
    for name in ("mmd", "rbf_mmd"):
        assert_allclose(rep.divergences[name], ref.divergences[name], rtol=1e-10)


# --- memory ---------------------------------------------------------------------------------
def _wide(d):
    """A (3, d) matrix with rows 0, 1 and 2, without allocating 3 d floats."""
    return np.lib.stride_tricks.as_strided(np.arange(3.0), shape=(3, d), strides=(8, 0))


@pytest.mark.parametrize("func", [coral_gap, frechet_distance, grassmann_distance])
def test_covariance_memory_names_d_and_gb(func, monkeypatch):
    import transferability.utils.numerics as nm

    monkeypatch.setattr(nm, "available_memory", lambda: 16 * 10**9)
    with pytest.raises(MemoryError, match=r"need 1000000 x 1000000 covariance matrices "
                                          r"\(d = 1000000 features\): [0-9.e+]+ GB needed, 16 GB available"):
        func(_wide(10**6), _wide(10**6))


def test_report_checks_memory_before_any_measure(monkeypatch):
    import transferability.divergence._report as report
    import transferability.utils.numerics as nm

    monkeypatch.setattr(nm, "available_memory", lambda: 16 * 10**9)
    ran = []
    mmd = report._BY_NAME["mmd"]
    monkeypatch.setitem(report._BY_NAME, "mmd", dataclasses.replace(
        mmd, core=lambda *a, **k: ran.append("mmd") or 0.0))
    with pytest.raises(MemoryError, match=r"coral, frechet and grassmann need 1000000 x 1000000 "
                                          r"covariance matrices.*4\.8e\+04 GB needed"):
        compute_divergences(_wide(10**6), _wide(10**6), max_features=None)  # never projected
    assert ran == []  # refused up front, not after the kernel measures ran
    # without the moment measures the same pair is fine
    rep = compute_divergences(_wide(2000), _wide(2000), measures=["linear_mmd"])
    assert rep.divergences["linear_mmd"] == 0.0


# --- row order ------------------------------------------------------------------------------
@pytest.mark.parametrize("func", [proxy_a_distance, h_divergence])
@pytest.mark.parametrize("max_samples", [None, 150])
def test_classifier_measures_do_not_depend_on_row_order(func, max_samples):
    rng = np.random.RandomState(6)
    A, B = rng.randn(400, 5), rng.randn(300, 5) + 0.5
    v = func(A, B, random_state=1, max_samples=max_samples)
    for seed in range(3):
        r = np.random.RandomState(100 + seed)
        assert func(A[r.permutation(400)], B[r.permutation(300)], random_state=1,
                    max_samples=max_samples) == v
    assert 0.0 < v < 2.0


# --- validated once -------------------------------------------------------------------------
def test_report_validates_the_pair_once(small_pair, monkeypatch):
    import transferability.divergence._common as common
    import transferability.divergence._report as report
    import transferability.utils.validation as validation

    calls = []
    real = validation.check_pair

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(report, "check_pair", counting)
    monkeypatch.setattr(common, "check_pair", counting)
    compute_divergences(*small_pair)
    assert len(calls) == 1


def test_no_measure_is_refused(small_pair):
    with pytest.raises(InputError, match="no measure asked for"):
        compute_divergences(*small_pair, measures=[])


def test_every_value_of_the_demo_is_finite():
    from transferability.datasets import make_demo_pair

    s, t = make_demo_pair(random_state=0)
    rep = compute_divergences(s.X, t.X)
    assert all(math.isfinite(v) for v in rep.divergences.values())
    assert knn_overlap(s.X, t.X, random_state=0) == rep.divergences["knn_overlap"]
    assert linear_mmd2(s.X, t.X) == rep.divergences["linear_mmd"]
    assert mmd2(s.X, t.X) == rep.divergences["mmd"]
