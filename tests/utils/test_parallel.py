import os

import pytest

from transferability.utils.parallel import check_n_jobs, map_ordered, n_workers
from transferability.utils.validation import InputError


def _square_plus(x, y):
    return x * x + y


@pytest.mark.parametrize("bad", [0, True, 1.5, "2", None])
def test_check_n_jobs_refuses_what_is_not_a_worker_count(bad):
    with pytest.raises(InputError, match="n_jobs must be"):
        check_n_jobs(bad)


def test_n_workers_follows_joblib_negative_convention_and_never_exceeds_the_pieces():
    cpus = os.cpu_count() or 1
    assert n_workers(4, 2) == 2
    assert n_workers(1, 10) == 1
    assert n_workers(-1, 1000) == min(1000, cpus)
    assert n_workers(-cpus - 5, 10) == 1
    assert n_workers(3, 0) == 1


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_map_ordered_keeps_input_order_and_reports_each_piece(n_jobs):
    seen = []
    out = map_ordered(_square_plus, [(i, 1) for i in range(6)], n_jobs=n_jobs, progress=seen.append,
                      describe=lambda a: f"piece {a[0]}")
    assert out == [i * i + 1 for i in range(6)]
    assert seen == [f"piece {i}" for i in range(6)]
