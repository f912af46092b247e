import inspect
import math

import numpy as np
import pytest
import scipy.stats
from numpy.testing import assert_allclose

from transferability.datasets import preprocess_pair
from transferability.datasets._shifts import make_shift_pair
from transferability.divergence import coral_gap, linear_mmd2
from transferability.meta import FEATURE_NAMES, compute_meta_features, record_evaluation
from transferability.meta.learners._features import (
    LABEL_FEATURES, LABEL_FREE_FEATURES, _SHARED_CORAL_MAX_D, sliced_wasserstein,
)
from transferability.meta_store import MetaStore, iter_records
from transferability.methods import evaluate_methods
from transferability.utils.validation import InputError


@pytest.fixture
def pair():
    return make_shift_pair("covariate_shift", "digits", 0.6, 0, n_max=300)


@pytest.fixture
def hidden_shift():
    """Raw domains that differ by a per-feature mean and scale shift (same correlations), and
    the same rows z-scored per domain: the inputs a ``zscore`` pair hands over."""
    rng = np.random.RandomState(0)
    mix = rng.randn(6, 6)
    Xs = rng.randn(250, 6) @ mix
    Xt = (rng.randn(220, 6) @ mix) * 1.7 + 1.5
    ys = rng.randint(0, 3, 250)
    Zs, Zt = preprocess_pair(Xs, Xt, "zscore")
    return Xs, ys, Xt, Zs, Zt


# -- completeness, determinism, target labels ----------------------------------------------------
def test_features_are_complete_finite_and_deterministic(pair):
    Xs, ys, Xt, _ = pair
    f = compute_meta_features(Xs, ys, Xt, random_state=0)
    assert list(f) == FEATURE_NAMES
    assert all(np.isfinite(v) for v in f.values())
    assert f == compute_meta_features(Xs, ys, Xt, random_state=0)
    assert f["n_source"] == 300 and f["n_features"] == 64 and f["n_classes"] == 10
    assert f["source_per_class"] == 30 and f["target_per_class"] == f["n_target"] / 10
    assert 0 <= f["predicted_label_shift"] <= 1 and 0 <= f["target_pred_entropy"] <= 1
    assert 0 < f["source_class_entropy"] <= 1
    assert 0 <= f["shared_frac_large_smd"] <= 1 and 0 <= f["div_shared_proxy_a_distance"] <= 2
    other = compute_meta_features(Xs, ys, Xt, random_state=1)
    assert other != f and other["n_source"] == f["n_source"]


def test_features_are_finite_on_awkward_inputs():
    """Constant columns, exact zeros, a one-row class, float32, tiny and huge magnitudes."""
    rng = np.random.RandomState(1)
    Xs = np.abs(rng.randn(40, 5))
    Xs[:, 2] = 0.0
    Xt = np.abs(rng.randn(30, 5)) + 0.3
    Xt[:, 2] = 0.0
    ys = np.r_[np.zeros(20), np.ones(19), 2]
    for scale in (1.0, 1e-150, 1e60):
        f = compute_meta_features((Xs * scale).astype(np.float32 if scale == 1.0 else np.float64), ys, Xt * scale)
        assert list(f) == FEATURE_NAMES and all(math.isfinite(v) for v in f.values()), scale
    assert_allclose(f["source_sparsity"], 0.2)


def test_target_labels_never_reach_the_features(pair, tmp_path):
    """The function takes no target labels; recording with permuted target labels stores the same features."""
    assert set(inspect.signature(compute_meta_features).parameters) == {
        "X_source", "y_source", "X_target", "random_state", "X_source_raw", "X_target_raw"}
    Xs, ys, Xt, yt = pair
    rng = np.random.RandomState(0)
    stored = []
    for labels in (yt, rng.permutation(yt), np.zeros_like(yt)):
        report = evaluate_methods(Xs, ys, Xt, labels, methods=["no_adapt"], kshot=(1,))
        with MetaStore(tmp_path / f"s{len(stored)}.sqlite") as st:
            record_evaluation(st, report, X_source=Xs, y_source=ys, X_target=Xt, y_target=labels, name="p",
                              family="f", preprocess="none", base_estimator="1nn", seed=0)
            stored.append(next(iter_records(st))["meta_features"])
    assert stored[0] == stored[1] == stored[2]
    assert set(stored[0]) == set(FEATURE_NAMES)


def test_features_react_to_shift():
    a = make_shift_pair("feature_transform", "synthetic", 0.0, 0, transform="noise")
    b = make_shift_pair("feature_transform", "synthetic", 1.0, 0, transform="noise")
    fa = compute_meta_features(a[0], a[1], a[2])
    fb = compute_meta_features(b[0], b[1], b[2])
    for f in ("div_mmd", "div_h_divergence", "div_sliced_wasserstein", "div_shared_sliced_wasserstein"):
        assert fb[f] > fa[f], f


# -- shared space ---------------------------------------------------------------------------------
def test_shared_space_sees_the_mean_shift_that_per_domain_zscoring_hides():
    """A pure mean shift: after per-domain z-scoring the input-space view (and the shared space
    built from those inputs) cannot see it; the shared space of the raw domains does."""
    rng = np.random.RandomState(0)
    Xs, Xt = rng.randn(300, 4), rng.randn(300, 4) + 1.0
    ys = rng.randint(0, 2, 300)
    Zs, Zt = preprocess_pair(Xs, Xt, "zscore")
    blind = compute_meta_features(Zs, ys, Zt)
    seen = compute_meta_features(Zs, ys, Zt, X_source_raw=Xs, X_target_raw=Xt)
    assert blind["div_shared_linear_mmd"] < 1e-20 and blind["div_shared_proxy_a_distance"] == 0.0
    assert blind["shared_mean_abs_smd"] < 1e-12 and blind["shared_frac_large_smd"] == 0.0
    # pooled std of a unit-variance feature shifted by 1 between equal halves: sqrt(1 + 1/4)
    assert_allclose(seen["shared_mean_abs_smd"], 1 / math.sqrt(1.25), rtol=0.1)
    assert seen["shared_frac_large_smd"] == 1.0
    assert seen["div_shared_linear_mmd"] > 2.0 and seen["div_shared_proxy_a_distance"] > 0.5
    for f in ("div_shared_mmd", "div_shared_sliced_wasserstein"):
        assert seen[f] > 10 * blind[f], f
    # the input-space features and the label features do not read the raw domains
    same = [f for f in FEATURE_NAMES if not f.startswith(("div_shared_", "shared_")) and "sparsity" not in f]
    assert {f: seen[f] for f in same} == {f: blind[f] for f in same}


def test_shared_space_sees_a_scale_shift(hidden_shift):
    Xs, ys, Xt, Zs, Zt = hidden_shift
    blind = compute_meta_features(Zs, ys, Zt)
    seen = compute_meta_features(Zs, ys, Zt, X_source_raw=Xs, X_target_raw=Xt)
    assert blind["shared_mean_abs_log_std_ratio"] < 1e-12
    assert_allclose(seen["shared_mean_abs_log_std_ratio"], math.log(1.7), rtol=0.15)
    assert seen["div_shared_coral"] > 2 * blind["div_shared_coral"]


def test_shared_features_are_their_formulas(hidden_shift):
    """Shared space = zscore-pooled of the raw domains; the features are the measures there."""
    Xs, ys, Xt, Zs, Zt = hidden_shift
    f = compute_meta_features(Zs, None, Zt, X_source_raw=Xs, X_target_raw=Xt)
    mu = np.vstack([Xs, Xt]).mean(axis=0)
    sd = np.vstack([Xs, Xt]).std(axis=0)
    Ps, Pt = (Xs - mu) / sd, (Xt - mu) / sd
    smd = Ps.mean(axis=0) - Pt.mean(axis=0)
    assert_allclose(f["div_shared_linear_mmd"], smd @ smd, rtol=1e-10)
    assert_allclose(f["div_shared_linear_mmd"], linear_mmd2(Ps, Pt), rtol=1e-10)
    assert_allclose(f["shared_mean_abs_smd"], np.abs(smd).mean(), rtol=1e-10)
    assert f["shared_frac_large_smd"] == np.mean(np.abs(smd) > 0.5)
    assert_allclose(f["div_shared_coral"], coral_gap(Ps, Pt), rtol=1e-10)
    assert Xs.shape[1] <= _SHARED_CORAL_MAX_D
    assert_allclose(f["div_shared_sliced_wasserstein"], sliced_wasserstein(Ps, Pt), rtol=1e-10)


def test_raw_domains_equal_to_the_inputs_change_nothing(pair):
    Xs, ys, Xt, _ = pair
    assert compute_meta_features(Xs, ys, Xt, X_source_raw=Xs, X_target_raw=Xt) == compute_meta_features(Xs, ys, Xt)


def test_shared_features_do_not_depend_on_a_common_affine_map_of_the_raw_domains(hidden_shift):
    Xs, ys, Xt, Zs, Zt = hidden_shift
    scale, shift = np.array([1e-3, 1, 5, 1e4, 2, 0.5]), np.arange(6.0)
    a = compute_meta_features(Zs, None, Zt, X_source_raw=Xs, X_target_raw=Xt)
    b = compute_meta_features(Zs, None, Zt, X_source_raw=Xs * scale + shift, X_target_raw=Xt * scale + shift)
    for f in LABEL_FREE_FEATURES:
        if f.startswith(("div_shared_", "shared_")) and f != "div_shared_proxy_a_distance":
            assert_allclose(b[f], a[f], rtol=1e-6, atol=1e-12, err_msg=f)


# -- label-free subset ----------------------------------------------------------------------------
def test_label_free_and_label_features_partition_the_features():
    assert list(LABEL_FREE_FEATURES) + list(LABEL_FEATURES) == FEATURE_NAMES
    assert not set(LABEL_FREE_FEATURES) & set(LABEL_FEATURES)
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)


def test_unlabelled_source_gives_the_label_free_features(pair):
    Xs, ys, Xt, _ = pair
    full = compute_meta_features(Xs, ys, Xt, random_state=3)
    free = compute_meta_features(Xs, None, Xt, random_state=3)
    assert list(free) == list(LABEL_FREE_FEATURES)
    assert free == {f: full[f] for f in LABEL_FREE_FEATURES}
    assert free == compute_meta_features(Xs, y_source=None, X_target=Xt, random_state=3)
    # the label-free features read no label: other source labels leave them as they are
    other = compute_meta_features(Xs, np.random.RandomState(0).permutation(ys), Xt, random_state=3)
    assert {f: other[f] for f in LABEL_FREE_FEATURES} == free
    assert other["source_cv_accuracy"] < full["source_cv_accuracy"] - 0.3


# -- errors ---------------------------------------------------------------------------------------
def test_bad_inputs_are_refused(hidden_shift):
    Xs, ys, Xt, Zs, Zt = hidden_shift
    with pytest.raises(InputError, match="both X_source_raw and X_target_raw"):
        compute_meta_features(Zs, ys, Zt, X_source_raw=Xs)
    with pytest.raises(InputError, match="both X_source_raw and X_target_raw"):
        compute_meta_features(Zs, ys, Zt, X_target_raw=Xt)
    with pytest.raises(InputError, match="raw inputs must be the same rows"):
        compute_meta_features(Zs, ys, Zt, X_source_raw=Xs[:-1], X_target_raw=Xt)
    with pytest.raises(InputError, match="a pair needs the same feature space"):
        compute_meta_features(Zs, ys, Zt, X_source_raw=Xs, X_target_raw=Xt[:, :3])
    with pytest.raises(InputError, match="at least two classes"):
        compute_meta_features(Zs, np.zeros(len(ys)), Zt)
    with pytest.raises(InputError, match="labels for"):
        compute_meta_features(Zs, ys[:-1], Zt)
    for bad in (-1, 2**32, 1.5, True, None):
        with pytest.raises(InputError, match="random_state must be an integer"):
            compute_meta_features(Zs, ys, Zt, random_state=bad)


# -- sliced Wasserstein ---------------------------------------------------------------------------
def test_sliced_wasserstein_is_zero_for_identical_domains_and_symmetric():
    rng = np.random.RandomState(0)
    X, Y = rng.randn(80, 7), rng.randn(65, 7) * 1.3 + 0.2
    assert sliced_wasserstein(X, X) == 0.0
    assert sliced_wasserstein(X, X[::-1].copy()) == 0.0
    assert sliced_wasserstein(X, Y) == sliced_wasserstein(Y, X) > 0
    assert sliced_wasserstein(X, Y, p=2) == sliced_wasserstein(Y, X, p=2)
    # row order does not matter, subsampled or not
    assert sliced_wasserstein(X[::-1], Y) == sliced_wasserstein(X, Y)
    assert (sliced_wasserstein(X[::-1], Y, max_samples=30) == sliced_wasserstein(X, Y, max_samples=30)
            == sliced_wasserstein(Y, X, max_samples=30))


@pytest.mark.parametrize("n, m", [(37, 53), (40, 40), (5, 200)])
def test_sliced_wasserstein_in_one_dimension_is_scipys_wasserstein(n, m):
    rng = np.random.RandomState(n)
    x, y = rng.randn(n), rng.exponential(2.0, m)
    assert_allclose(sliced_wasserstein(x[:, None], y[:, None], n_projections=3),
                    scipy.stats.wasserstein_distance(x, y), rtol=1e-12)


def test_sliced_wasserstein_p2_in_one_dimension_is_the_quantile_formula():
    rng = np.random.RandomState(2)
    x, y = rng.randn(60), rng.randn(60) + 0.7
    assert_allclose(sliced_wasserstein(x[:, None], y[:, None], p=2),
                    np.sqrt(np.mean((np.sort(x) - np.sort(y)) ** 2)), rtol=1e-12)
    # unequal sizes: n = 2, m = 3, quantile steps at 1/3, 1/2, 2/3, 1
    a, b = np.array([[0.0], [1.0]]), np.array([[0.0], [3.0], [6.0]])
    w2 = (1 / 3) * 0 + (1 / 6) * 9 + (1 / 6) * 4 + (1 / 3) * 25
    assert_allclose(sliced_wasserstein(a, b, p=2), math.sqrt(w2), rtol=1e-12)


def test_sliced_wasserstein_of_a_translated_copy():
    """``Y = X + δ``: every projected W_1 is |θ·δ|, and on the sphere of R³ E|θ_1| = 1/2, E θ_1² = 1/3."""
    rng = np.random.RandomState(0)
    X = rng.randn(50, 3)
    delta = np.array([0.0, 0.0, 2.0])
    assert_allclose(sliced_wasserstein(X, X + delta, n_projections=20000), 1.0, rtol=0.02)
    assert_allclose(sliced_wasserstein(X, X + delta, n_projections=20000, p=2), 2 / math.sqrt(3), rtol=0.02)


def test_sliced_wasserstein_grows_with_the_shift_and_is_homogeneous():
    rng = np.random.RandomState(0)
    X, Y = rng.randn(200, 10), rng.randn(150, 10)
    values = [sliced_wasserstein(X, Y + s) for s in (0.0, 0.25, 0.5, 1.0, 2.0)]
    assert all(a < b for a, b in zip(values, values[1:]))
    assert_allclose(sliced_wasserstein(3 * X, 3 * Y), 3 * sliced_wasserstein(X, Y), rtol=1e-12)
    assert_allclose(sliced_wasserstein(X * 1e200, Y * 1e200), 1e200 * sliced_wasserstein(X, Y), rtol=1e-12)
    assert sliced_wasserstein(X, Y, random_state=1) != sliced_wasserstein(X, Y, random_state=0)


def test_sliced_wasserstein_refuses_bad_parameters():
    X = np.random.RandomState(0).randn(10, 2)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(InputError, match="n_projections must be a positive integer"):
            sliced_wasserstein(X, X, n_projections=bad)
    for bad in (0.5, -1, float("nan"), "2"):
        with pytest.raises(InputError, match="p must be a number >= 1"):
            sliced_wasserstein(X, X, p=bad)
    for bad in (1, 0, 2.0):
        with pytest.raises(InputError, match="max_samples must be an integer >= 2"):
            sliced_wasserstein(X, X, max_samples=bad)
    with pytest.raises(InputError, match="random_state must be an integer"):
        sliced_wasserstein(X, X, random_state=-1)
    with pytest.raises(InputError, match="a pair needs the same feature space"):
        sliced_wasserstein(X, X[:, :1])
