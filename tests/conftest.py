from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"benchmark data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def seed_pair():
    """DESIGN.md's seed-0 pair."""
    rng = np.random.RandomState(0)
    Xs = rng.randn(200, 5)
    Xt = rng.randn(200, 5) * 1.5 + 0.5
    return Xs, Xt


@pytest.fixture
def ab_pair():
    """DESIGN.md's tiny (a, b) pair."""
    a = np.arange(1, 10).reshape(3, 3)
    b = np.array([[7, 6, 5], [4, 3, 2], [1, 1, 8], [0, 2, 5]])
    return a, b
