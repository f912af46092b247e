"""The rules that hold by construction (transferability.meta.learners._guards)."""

import numpy as np
import pytest

from transferability.meta.learners._guards import (
    MIN_TARGET_PER_CLASS, OVERLAP_SHARE, SIGNAL_MIN_ROWS, PairFacts, judge, pair_facts, source_label_signal,
    target_in_source,
)


def _structured(n, rng, d=8, c=4):
    centers = rng.randn(c, d) * 3
    y = rng.randint(c, size=n)
    return centers[y] + rng.randn(n, d), y


def test_signal_test_separates_structure_from_noise():
    rng = np.random.RandomState(0)
    X, y = _structured(300, rng)
    s = source_label_signal(X, y)
    assert s["accuracy"] > 0.9 and s["p_value"] == pytest.approx(1 / 200)
    noise = source_label_signal(X, rng.randint(4, size=300))
    assert noise["p_value"] > 0.05 and abs(noise["accuracy"] - noise["null_mean"]) < 0.1


def test_signal_test_sees_non_linear_structure_a_linear_probe_misses():
    rng = np.random.RandomState(1)
    r = np.r_[rng.uniform(0, 1, 200), rng.uniform(2, 3, 200)]
    a = rng.uniform(0, 2 * np.pi, 400)
    X = np.c_[r * np.cos(a), r * np.sin(a)]  # two concentric rings: no line separates them
    y = np.r_[np.zeros(200), np.ones(200)].astype(int)
    assert source_label_signal(X, y)["p_value"] < 0.01


def test_signal_test_is_deterministic_and_bounded_in_rows():
    rng = np.random.RandomState(2)
    X, y = _structured(1500, rng)
    a, b = source_label_signal(X, y, random_state=3), source_label_signal(X, y, random_state=3)
    assert a == b and a["n_rows"] == 1000


def test_target_in_source_counts_exact_rows():
    rng = np.random.RandomState(0)
    X = rng.randn(50, 3)
    assert target_in_source(X, X[:10]) == 1.0
    assert target_in_source(X, X[:10] + 1e-12) == 0.0
    assert target_in_source(X, np.r_[X[:9], rng.randn(1, 3)]) == pytest.approx(0.9)


def test_judge_abstains_on_a_tiny_target_only():
    small = PairFacts(100, MIN_TARGET_PER_CLASS * 4 - 1, 5, n_classes=4)
    assert judge(small).rule == "target_too_small" and "cannot judge: target too small" in judge(small).abstain
    assert judge(PairFacts(100, MIN_TARGET_PER_CLASS * 4, 5, n_classes=4)).rule is None
    # without facts, the sizes of the meta-features decide (no source-signal test there)
    assert judge(None, {"n_source": 100, "n_target": 6, "n_features": 5, "n_classes": 3}).rule == "target_too_small"
    assert judge(None, {"n_source": 100, "n_target": 60, "n_features": 5}).rule is None  # label-free


def test_judge_no_signal_and_no_shift():
    no = {"accuracy": 0.26, "null_mean": 0.25, "null_q95": 0.3, "p_value": 0.4, "n_rows": 300}
    yes = dict(no, accuracy=0.9, p_value=0.005)
    v = judge(PairFacts(300, 300, 5, n_classes=4, signal=no))
    assert v.rule == "no_source_signal" and "carry no signal" in v.reason
    assert judge(PairFacts(300, 300, 5, n_classes=4, signal=yes)).rule is None
    v = judge(PairFacts(300, 300, 5, n_classes=4, signal=yes, target_in_source=OVERLAP_SHARE))
    assert v.rule == "target_is_source"
    assert judge(PairFacts(300, 300, 5, n_classes=4, signal=yes, target_in_source=0.5)).rule is None
    small = judge(PairFacts(SIGNAL_MIN_ROWS - 1, 300, 5, n_classes=4))
    assert small.rule is None and "too small" in small.notes[0]


def test_pair_facts_read_no_target_label_and_use_the_raw_rows_for_overlap():
    rng = np.random.RandomState(0)
    Xs, ys = _structured(200, rng)
    f = pair_facts(Xs, ys, Xs[:50] * 2.0, X_source_raw=Xs, X_target_raw=Xs[:50])
    assert f.target_in_source == 1.0 and f.n_classes == 4 and f.signal["p_value"] < 0.01
    assert pair_facts(Xs, None, Xs[:50]).signal is None
