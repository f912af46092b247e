import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from transferability import InputError
from transferability.datasets._preprocess import (
    PAIR_PREPROCESSING, PREPROCESSING, SVD_COMPONENTS, preprocess, preprocess_pair,
)


@pytest.fixture
def shifted_pair():
    rng = np.random.RandomState(0)
    Xs = rng.randn(60, 4) * [1.0, 2.0, 0.5, 3.0]
    Xt = rng.randn(40, 4) * [1.0, 2.0, 0.5, 3.0] + [3.0, 0.0, -1.0, 6.0]
    return Xs, Xt


def test_registry_lists_every_recipe():
    assert set(PREPROCESSING) == {"none", "zscore", "l2", "sum-zscore", "zscore-source", "zscore-pooled",
                                  "tfidf-svd100"}
    assert set(PAIR_PREPROCESSING) <= set(PREPROCESSING)


def test_zscore_source_formula(shifted_pair):
    Xs, Xt = shifted_pair
    Zs, Zt = preprocess_pair(Xs, Xt, "zscore-source")
    mu, sd = Xs.mean(axis=0), Xs.std(axis=0, ddof=0)
    assert_allclose(Zs, (Xs - mu) / sd, rtol=1e-12)
    assert_allclose(Zt, (Xt - mu) / sd, rtol=1e-12)
    assert_allclose(Zs.mean(axis=0), 0.0, atol=1e-12)
    assert_allclose(Zs.std(axis=0), 1.0, rtol=1e-12)


def test_zscore_pooled_formula(shifted_pair):
    Xs, Xt = shifted_pair
    Zs, Zt = preprocess_pair(Xs, Xt, "zscore-pooled")
    Z = np.vstack([Xs, Xt])
    mu, sd = Z.mean(axis=0), Z.std(axis=0)
    assert_allclose(Zs, (Xs - mu) / sd, rtol=1e-12)
    assert_allclose(Zt, (Xt - mu) / sd, rtol=1e-12)
    pooled = np.vstack([Zs, Zt])
    assert_allclose(pooled.mean(axis=0), 0.0, atol=1e-12)
    assert_allclose(pooled.std(axis=0), 1.0, rtol=1e-12)


def test_zscore_pooled_is_symmetric(shifted_pair):
    Xs, Xt = shifted_pair
    Zs, Zt = preprocess_pair(Xs, Xt, "zscore-pooled")
    Wt, Ws = preprocess_pair(Xt, Xs, "zscore-pooled")
    assert_allclose(Zs, Ws, rtol=1e-12, atol=1e-12)
    assert_allclose(Zt, Wt, rtol=1e-12, atol=1e-12)


def test_zscore_source_keeps_the_mean_shift_that_per_domain_zscore_erases(shifted_pair):
    Xs, Xt = shifted_pair
    Zs, Zt = preprocess_pair(Xs, Xt, "zscore-source")
    shift = Zt.mean(axis=0) - Zs.mean(axis=0)
    expected = (Xt.mean(axis=0) - Xs.mean(axis=0)) / Xs.std(axis=0)
    assert_allclose(shift, expected, rtol=1e-10)
    assert shift[0] > 2.0 and shift[3] > 1.5  # shifts of 3 and 6 in units of 1 and 3
    Ps, Pt = preprocess_pair(Xs, Xt, "zscore")
    assert_allclose(Pt.mean(axis=0) - Ps.mean(axis=0), 0.0, atol=1e-12)


def test_zero_variance_columns_give_no_nan():
    Xs = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]])
    Xt = np.array([[1.0, 7.0], [4.0, 5.0]])
    Zs, Zt = preprocess_pair(Xs, Xt, "zscore-source")
    assert np.isfinite(Zs).all() and np.isfinite(Zt).all()
    assert_array_equal(Zs[:, 1], 0.0)
    assert_allclose(Zt[:, 1], [2.0, 0.0])  # centred, scale 1: the target's departure stays visible
    Xs2 = np.array([[1.0, 5.0], [2.0, 5.0]])
    Xt2 = np.array([[3.0, 5.0], [4.0, 5.0]])
    Ps, Pt = preprocess_pair(Xs2, Xt2, "zscore-pooled")
    assert np.isfinite(Ps).all() and np.isfinite(Pt).all()
    assert_array_equal(np.r_[Ps[:, 1], Pt[:, 1]], 0.0)
    for mode in ("zscore", "sum-zscore", "l2"):
        out = preprocess(np.zeros((3, 2)), mode)
        assert np.isfinite(out).all()


def test_per_domain_recipes_unchanged():
    X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 9.0], [0.0, 0.0, 0.0]])
    assert_allclose(preprocess(X, "l2")[1], X[1] / np.linalg.norm(X[1]))
    assert_array_equal(preprocess(X, "l2")[2], 0.0)
    z = preprocess(X, "zscore")
    assert_allclose(z, (X - X.mean(0)) / X.std(0))
    s = X / np.where(X.sum(1, keepdims=True) == 0, 1, X.sum(1, keepdims=True))
    assert_allclose(preprocess(X, "sum-zscore"), (s - s.mean(0)) / s.std(0))
    assert preprocess(X, "none") is X


def test_sparse_input_is_densified_for_dense_recipes():
    X = sp.csr_matrix(np.array([[3.0, 4.0], [0.0, 2.0]]))
    out = preprocess(X, "l2")
    assert isinstance(out, np.ndarray)
    assert_allclose(out, [[0.6, 0.8], [0.0, 1.0]])
    Zs, Zt = preprocess_pair(X, X, "zscore-source")
    assert isinstance(Zs, np.ndarray) and isinstance(Zt, np.ndarray)


def test_pair_recipes_refused_on_one_domain():
    for mode in PAIR_PREPROCESSING:
        with pytest.raises(InputError, match="uses both domains"):
            preprocess(np.ones((3, 2)), mode)


def test_unknown_recipe():
    with pytest.raises(InputError, match="unknown preprocessing 'bogus'"):
        preprocess(np.ones((3, 2)), "bogus")
    with pytest.raises(InputError, match="unknown preprocessing 'bogus'"):
        preprocess_pair(np.ones((3, 2)), np.ones((3, 2)), "bogus")


def test_zscore_source_needs_equal_dimensions():
    with pytest.raises(InputError, match="same number of features"):
        preprocess_pair(np.ones((3, 2)), np.ones((3, 3)), "zscore-source")


def _docs(n, d, rng, vocab):
    X = np.zeros((n, d))
    for i in range(n):
        words = rng.choice(vocab, size=8)
        np.add.at(X[i], words, 1.0)
    return X


def test_tfidf_svd_shapes_norms_and_determinism():
    rng = np.random.RandomState(0)
    d = 300
    Xs = sp.csr_matrix(np.vstack([_docs(80, d, rng, np.arange(0, 150)), _docs(80, d, rng, np.arange(150, 300))]))
    Xt = sp.csr_matrix(np.vstack([_docs(50, d, rng, np.arange(10, 160)), _docs(50, d, rng, np.arange(140, 290))]))
    Zs, Zt = preprocess_pair(Xs, Xt, "tfidf-svd100")
    assert Zs.shape == (160, SVD_COMPONENTS) and Zt.shape == (100, SVD_COMPONENTS)
    assert Zs.dtype == np.float64 and isinstance(Zs, np.ndarray)
    assert_allclose(np.linalg.norm(Zs, axis=1), 1.0, rtol=1e-10)
    Ws, Wt = preprocess_pair(Xs, Xt, "tfidf-svd100")
    assert_array_equal(Zs, Ws)
    assert_array_equal(Zt, Wt)
    # the two topics stay separable: 1-NN from source to target across topics
    from sklearn.neighbors import KNeighborsClassifier

    ys, yt = np.r_[np.zeros(80), np.ones(80)], np.r_[np.zeros(50), np.ones(50)]
    acc = (KNeighborsClassifier(1).fit(Zs, ys).predict(Zt) == yt).mean()
    assert acc > 0.9


def test_tfidf_svd_caps_components_and_refuses_negative_weights():
    Xs = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]])
    Xt = np.array([[1.0, 1.0, 0.0], [3.0, 0.0, 1.0]])
    Zs, Zt = preprocess_pair(Xs, Xt, "tfidf-svd100")
    assert Zs.shape == (2, 2)  # min(100, d - 1, n - 1) = 2
    with pytest.raises(InputError, match="non-negative"):
        preprocess_pair(-Xs, Xt, "tfidf-svd100")
    with pytest.raises(InputError, match="at least 2 features"):
        preprocess_pair(np.ones((2, 1)), np.ones((2, 1)), "tfidf-svd100")


def test_constant_column_with_rounding_std_is_treated_as_constant():
    Xs = np.column_stack([np.arange(100.0), np.full(100, 0.422915)])
    assert Xs[:, 1].std() > 0  # summation leaves ~1e-16, not 0
    Xt = np.column_stack([np.arange(5.0), np.linspace(0.2, 0.6, 5)])
    Zs, Zt = preprocess_pair(Xs, Xt, "zscore-source")
    assert np.abs(Zs[:, 1]).max() < 1e-12  # centred, scale 1 (not 1 / 1e-16)
    assert_allclose(Zt[:, 1], Xt[:, 1] - 0.422915, atol=1e-12)
    assert np.abs(preprocess(Xs, "zscore")[:, 1]).max() < 1e-12


def test_shift_bases_and_pools_are_the_one_zscore(monkeypatch):
    """The shift generators' bases and real pools are standardised by the preprocessing's
    ``zscore``, so a column constant up to rounding is centred there too (the shift module's own
    copy divided it by its ~1e-16 std, which made every value +-1)."""
    from types import SimpleNamespace

    from sklearn import datasets

    from transferability.datasets import _real
    from transferability.datasets._shifts import load_base_dataset, load_real_pool

    assert_array_equal(load_base_dataset("wine")[0], preprocess(datasets.load_wine(return_X_y=True)[0], "zscore"))
    X = np.column_stack([np.arange(100.0), np.full(100, 0.422915)])
    y = np.repeat([0, 1], 50)
    monkeypatch.setattr(_real, "load_real_domain", lambda *a, **k: SimpleNamespace(X=X, y=y))
    Z, _ = load_real_pool("any", "domain")
    assert_array_equal(Z, preprocess(X, "zscore"))
    assert np.abs(Z[:, 1]).max() < 1e-12
