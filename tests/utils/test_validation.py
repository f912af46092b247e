import numpy as np
import pytest
from numpy.testing import assert_array_equal

from transferability.utils.validation import (
    SAFE_EXPONENT, InputError, check_domain, check_magnitude, check_pair, max_abs,
)


@pytest.mark.parametrize("bad, count", [(np.inf, 1), (-np.inf, 1), (np.nan, 1)])
def test_non_finite_values_are_counted(bad, count):
    X = np.ones((4, 3))
    X[2, 1] = bad
    with pytest.raises(InputError, match=f"source: contains {count} NaN or infinite value"):
        check_domain(X, name="source")
    X[0, 0] = np.nan
    with pytest.raises(InputError, match="contains 2 NaN or infinite"):
        check_domain(X)


def test_validated_arrays_are_returned_without_a_copy():
    X = np.random.RandomState(0).randn(10, 3)
    assert check_domain(X) is X
    Xs, Xt = check_pair(X, X[:5])
    assert Xs is X and np.shares_memory(Xt, X)
    assert check_domain(X.astype(np.float32)).dtype == np.float32
    assert check_domain(np.ones((3, 2), dtype=int)).dtype == np.float64


def test_max_abs():
    assert max_abs(np.array([[1.0, -7.5], [3.0, 2.0]])) == 7.5
    assert max_abs(np.zeros((0, 3))) == 0.0


def test_ordinary_magnitudes_are_untouched():
    rng = np.random.RandomState(1)
    A, B = rng.randn(20, 4) * 1e30, rng.randn(10, 4) * 1e-30
    Xs, Xt, k = check_magnitude(A, B)
    assert k == 0 and Xs is A and Xt is B
    Z = np.zeros((3, 2))
    assert check_magnitude(Z, Z)[2] == 0


@pytest.mark.parametrize("scale", [1e200, 1e-200, 2.0 ** 600, 1e300])
def test_large_and_small_magnitudes_are_scaled_exactly(scale):
    rng = np.random.RandomState(2)
    A, B = rng.randn(20, 4) * scale, rng.randn(10, 4) * scale * 3
    Xs, Xt, k = check_magnitude(A, B)
    assert k != 0
    m = max(np.abs(Xs).max(), np.abs(Xt).max())
    assert 0.5 <= m < 1.0  # the largest value lands in [1/2, 1)
    assert_array_equal(np.ldexp(Xs, k), A)  # a power of two: nothing lost
    assert_array_equal(np.ldexp(Xt, k), B)
    assert abs(k) > SAFE_EXPONENT


def test_float32_out_of_its_safe_range_moves_to_float64():
    A = np.full((3, 2), 1e20, dtype=np.float32)  # its square overflows float32
    Xs, Xt, k = check_magnitude(A, A.copy())
    assert k == 0 and Xs.dtype == np.float64 and Xt.dtype == np.float64
    assert_array_equal(Xs, A.astype(np.float64))
    ordinary = np.ones((3, 2), dtype=np.float32)
    assert check_magnitude(ordinary, ordinary)[0].dtype == np.float32
