import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.spatial.distance import cdist
from sklearn.metrics.pairwise import rbf_kernel as sk_rbf_kernel

from transferability.utils.numerics import (
    available_memory, check_dense_memory, covariance, cross, gram, mean_and_covariance,
    median_sq_distance, rbf_kernel, row_normalize, sq_distances, sym_power,
)
from transferability.utils.validation import InputError


@pytest.fixture
def rng():
    return np.random.RandomState(0)


# --- GEMM-safe products ---------------------------------------------------------------------
@pytest.mark.parametrize("order", ["C", "F"])
def test_cross_and_gram_equal_the_plain_products(rng, order):
    A = np.asarray(rng.randn(40, 7), order=order)
    B = np.asarray(rng.randn(30, 7), order=order)
    assert_allclose(cross(A, B), A @ B.T, rtol=1e-13)
    assert_allclose(cross(A), A @ A.T, rtol=1e-13)
    assert_allclose(gram(A), A.T @ A, rtol=1e-13)
    C = rng.randn(40, 3)
    assert_allclose(gram(A, C), A.T @ C, rtol=1e-13)


def test_gram_of_a_transposed_view_is_a_gemm_on_a_copy(rng):
    # A F-ordered matrix: A.T is C-contiguous and shares A's buffer (numpy would pick SYRK)
    A = np.asfortranarray(rng.randn(50, 6))
    assert np.shares_memory(np.ascontiguousarray(A.T), A)
    assert_allclose(gram(A), A.T @ A.copy(), rtol=1e-13)


# --- distances and kernels ------------------------------------------------------------------
@pytest.mark.parametrize("shift", [0.0, 1e3])
def test_sq_distances_against_cdist(rng, shift):
    A, B = rng.randn(120, 9) + shift, rng.randn(70, 9) + shift
    ref = cdist(A, B, "sqeuclidean")
    scale = 1.0 + shift ** 2
    assert_allclose(sq_distances(A, B), ref, rtol=1e-10, atol=1e-10 * scale)
    assert sq_distances(A, B).min() >= 0.0


def test_self_distances_have_an_exact_zero_diagonal_and_are_symmetric(rng):
    A = rng.randn(90, 5) * 7 + 30
    D = sq_distances(A)
    assert_array_equal(np.diag(D), 0.0)
    assert_allclose(D, D.T, rtol=1e-12, atol=1e-9)
    assert_allclose(D, cdist(A, A, "sqeuclidean"), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("block_size", [1, 7, 64, 119, 1000])
def test_blockwise_equals_one_shot(rng, block_size):
    A, B = rng.randn(120, 33) * 3 + 1, rng.randn(80, 33)
    one = sq_distances(A, B)
    blocked = sq_distances(A, B, block_size=block_size)
    # the same GEMM on fewer rows may sum in another order: equal to rounding only
    assert_allclose(blocked, one, rtol=1e-12, atol=1e-12 * np.abs(one).max())
    selfb = sq_distances(A, block_size=block_size)
    assert_array_equal(np.diag(selfb), 0.0)
    assert_allclose(selfb, sq_distances(A), rtol=1e-12, atol=1e-12 * np.abs(one).max())


def test_precomputed_norms_give_the_same_distances(rng):
    A, B = rng.randn(20, 4), rng.randn(15, 4)
    D = sq_distances(A, B, A_sqnorms=(A * A).sum(1), B_sqnorms=(B * B).sum(1))
    assert_allclose(D, sq_distances(A, B), rtol=1e-14)


def test_bad_block_size(rng):
    with pytest.raises(InputError, match="block_size"):
        sq_distances(rng.randn(5, 2), block_size=0)


@pytest.mark.parametrize("gamma", [0.01, 0.5, 3.0])
def test_rbf_kernel_against_sklearn(rng, gamma):
    A, B = rng.randn(60, 6), rng.randn(45, 6)
    assert_allclose(rbf_kernel(A, B, gamma), sk_rbf_kernel(A, B, gamma=gamma), rtol=1e-12, atol=1e-15)
    K = rbf_kernel(A, gamma=gamma)
    assert_array_equal(np.diag(K), 1.0)
    assert_allclose(K, sk_rbf_kernel(A, gamma=gamma), rtol=1e-12, atol=1e-15)


def test_median_heuristic(rng):
    X, Y = rng.randn(30, 3), rng.randn(20, 3) + 1
    Z = np.vstack([X, Y])
    ref = np.median(cdist(Z, Z, "sqeuclidean")[np.triu_indices(50, k=1)])
    assert_allclose(median_sq_distance(X, Y), ref, rtol=1e-10)
    assert median_sq_distance(np.ones((4, 2))) == 1.0
    # a subsample of at most max_samples rows, reproducible
    big = rng.randn(400, 3)
    assert median_sq_distance(big, max_samples=50, random_state=1) == median_sq_distance(
        big, max_samples=50, random_state=1)


# --- symmetric matrix powers ----------------------------------------------------------------
def _spd(rng, d, cond=1e3):
    Q, _ = np.linalg.qr(rng.randn(d, d))
    return (Q * np.logspace(0, np.log10(cond), d)) @ Q.T


def test_inverse_square_root_whitens(rng):
    S = _spd(rng, 12)
    R = sym_power(S, -0.5)
    assert_allclose(R @ S @ R, np.eye(12), atol=1e-10)
    assert_allclose(R, R.T, atol=1e-12)


def test_power_identities(rng):
    S = _spd(rng, 8, cond=50)
    half = sym_power(S, 0.5)
    assert_allclose(half @ half, S, rtol=1e-10, atol=1e-10)
    assert_allclose(sym_power(S, -1.0) @ S, np.eye(8), atol=1e-10)
    assert_allclose(sym_power(S, 1.0), S, rtol=1e-10, atol=1e-10)
    assert_allclose(sym_power(S, -0.5) @ sym_power(S, 0.5), np.eye(8), atol=1e-10)


def test_power_of_a_singular_matrix(rng):
    v = rng.randn(5, 2)
    S = v @ v.T  # rank 2, positive semi-definite
    half = sym_power(S, 0.5)  # eigenvalues clipped at 0
    assert_allclose(half @ half, S, atol=1e-10)
    with pytest.raises(InputError, match="singular"):
        sym_power(S, -0.5)
    assert_allclose(sym_power(S, -0.5, floor=1e-3) @ sym_power(S, 0.5, floor=1e-3), np.eye(5),
                    atol=1e-8)


# --- rows -----------------------------------------------------------------------------------
def test_row_normalize(rng):
    X = rng.randn(20, 5)
    X[3] = 0.0
    L2 = row_normalize(X)
    norms = np.linalg.norm(L2, axis=1)
    assert_allclose(np.delete(norms, 3), 1.0, rtol=1e-14)
    assert_array_equal(L2[3], 0.0)
    L1 = row_normalize(X, "l1")
    assert_allclose(np.delete(np.abs(L1).sum(1), 3), 1.0, rtol=1e-14)
    P = np.abs(X)
    assert_allclose(row_normalize(P, "sum"), row_normalize(P, "l1"), rtol=1e-15)
    S = row_normalize(X, "sum")
    assert_allclose(np.delete(S.sum(1), 3), 1.0, rtol=1e-10)
    # the l2 scaling is np.linalg.norm's, bit for bit (what the l2 preprocessing divides by)
    n = np.linalg.norm(X, axis=1, keepdims=True)
    n[n == 0] = 1.0
    assert_array_equal(L2, X / n)


def test_row_normalize_does_not_overflow():
    X = np.array([[3e200, 4e200], [1e-300, 0.0], [1.0, 1.0]])
    L2 = row_normalize(X)
    assert np.isfinite(L2).all()
    assert_allclose(L2[0], [0.6, 0.8], rtol=1e-15)
    assert_allclose(L2[1], [1.0, 0.0], rtol=1e-15)


def test_row_normalize_unknown_norm():
    with pytest.raises(InputError, match="unknown row norm 'max'"):
        row_normalize(np.ones((2, 2)), "max")


# --- moments and memory ---------------------------------------------------------------------
def test_covariance_equals_numpy(rng):
    X = rng.randn(300, 7) * [1, 2, 3, 4, 5, 6, 7] + 100
    mu, C = mean_and_covariance(X)
    assert_allclose(mu, X.mean(0), rtol=1e-13)
    assert_allclose(C, np.cov(X, rowvar=False), rtol=1e-9, atol=1e-9)
    assert_allclose(covariance(X, ddof=0), np.cov(X, rowvar=False, ddof=0), rtol=1e-9, atol=1e-9)
    with pytest.raises(InputError, match="more than 1 sample"):
        covariance(X[:1])


def test_covariance_chunks_equal_one_pass(rng, monkeypatch):
    import transferability.utils.numerics as nm

    X = rng.randn(1000, 4)
    whole = covariance(X)
    monkeypatch.setattr(nm, "_CHUNK", 97)
    assert_allclose(covariance(X), whole, rtol=1e-12, atol=1e-14)


def test_memory_is_checked_before_allocating(monkeypatch):
    import transferability.utils.numerics as nm

    with pytest.raises(MemoryError, match=r"^a thing: 2 GB needed, 1 GB available; try less$"):
        check_dense_memory(2e9, "a thing", hint="try less", available=10**9)
    check_dense_memory(10, "a thing", available=10**9)  # fits: no error
    assert available_memory() is None or available_memory() > 0
    # 10^6 features: the d x d covariance, not the samples, is what does not fit
    monkeypatch.setattr(nm, "available_memory", lambda: 64 * 10**9)
    X = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(3, 10**6), strides=(0, 0))
    with pytest.raises(MemoryError, match=r"1000000 x 1000000 covariance.*d = 1000000.*2\.4e\+04 GB needed, 64 GB available"):
        covariance(X)
