import inspect

import numpy as np
import pytest

from transferability.datasets._shifts import make_shift_pair
from transferability.meta import FEATURE_NAMES, compute_meta_features, record_evaluation
from transferability.meta_store import MetaStore, iter_records
from transferability.methods import evaluate_methods


@pytest.fixture
def pair():
    return make_shift_pair("covariate_shift", "digits", 0.6, 0, n_max=300)


def test_features_are_complete_finite_and_deterministic(pair):
    Xs, ys, Xt, _ = pair
    f = compute_meta_features(Xs, ys, Xt, random_state=0)
    assert list(f) == FEATURE_NAMES
    assert all(np.isfinite(v) for v in f.values())
    assert f == compute_meta_features(Xs, ys, Xt, random_state=0)
    assert f["n_source"] == 300 and f["n_features"] == 64 and f["n_classes"] == 10
    assert 0 <= f["predicted_label_shift"] <= 1 and 0 <= f["target_pred_entropy"] <= 1


def test_target_labels_never_reach_the_features(pair, tmp_path):
    """The function takes no target labels; recording with permuted target labels stores the same features."""
    assert "y_target" not in inspect.signature(compute_meta_features).parameters
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


def test_features_react_to_shift():
    a = make_shift_pair("feature_transform", "synthetic", 0.0, 0, transform="noise")
    b = make_shift_pair("feature_transform", "synthetic", 1.0, 0, transform="noise")
    fa = compute_meta_features(a[0], a[1], a[2])
    fb = compute_meta_features(b[0], b[1], b[2])
    assert fb["div_mmd"] > fa["div_mmd"] and fb["div_h_divergence"] > fa["div_h_divergence"]
