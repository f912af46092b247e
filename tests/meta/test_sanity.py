"""The sanity suite: each kind is generated and its expected answer asserted (issue 17)."""

import numpy as np
import pytest

from transferability.datasets._sanity import SANITY_KINDS, make_sanity_pair
from transferability.meta.evaluation._sanity import EXPECTED, run_sanity, sanity_section
from transferability.utils.validation import InputError


@pytest.mark.parametrize("kind", sorted(SANITY_KINDS))
def test_every_kind_is_generated_labelled_and_deterministic(kind):
    s, t = make_sanity_pair(kind, random_state=3)
    s2, t2 = make_sanity_pair(kind, random_state=3)
    assert s.X.shape[1] == t.X.shape[1] == 16 and len(s.y) == len(s.X) and len(t.y) == len(t.X)
    assert np.array_equal(s.X, s2.X) and np.array_equal(t.y, t2.y)
    assert set(t.y.tolist()) <= set(s.y.tolist())
    assert t.meta["sanity_kind"] == kind


def test_unknown_kind_is_one_line():
    with pytest.raises(InputError, match="unknown sanity kind 'nope'"):
        make_sanity_pair("nope")


RULED = ["noise", "shuffled_source_labels", "identical", "subsample", "tiny_target"]


@pytest.mark.parametrize("kind", RULED)
def test_expected_answer_is_met(kind):
    rows = run_sanity([kind], run_methods=False)
    assert [r["met"] for r in rows] == [True, True], [r["recommendation"]["reason"] for r in rows]
    rec = rows[0]["recommendation"]
    if kind in ("noise", "shuffled_source_labels"):
        assert rec["transferability"]["score"] < 0.2 and rec["best"] == "no_adapt"
    elif kind == "tiny_target":
        assert rec["abstained"] and rec["transferability"]["score"] is None
        assert "cannot judge: target too small" in rec["transferability"]["label_equivalent"]["text"]
    else:
        assert rec["best"] == "no_adapt" and rec["rule"] == "target_is_source"


@pytest.mark.xfail(strict=True, reason="the shipped MetaTrans names meda on the affine pair, which runs below "
                                       "no_adapt there (coral/tca beat it): the learned part of issue 17, open")
def test_affine_shift_gets_an_adaptation_method_that_beats_no_adapt():
    rows = run_sanity(["affine_shift"], base_estimators=("1nn",))
    assert rows[0]["met"]


def test_the_section_counts_what_it_shows():
    rows = run_sanity(["noise", "label_shift"], base_estimators=("1nn",), run_methods=False)
    text = sanity_section(rows)
    assert "Expected answers met: **1 of 1**" in text and "| label_shift | 1nn | — |" in text
    assert set(EXPECTED) <= set(SANITY_KINDS)
