"""The base class: skada's (X, y, sample_domain) with masked target labels, labels encoded
before masking (any label type, a class called -1 included), arrays validated once."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from transferability import InputError
from transferability.methods import MASKED_LABEL, NoAdapt, get_method, pack_domains, split_domains
from transferability.methods import _base


def _pair(labels):
    rng = np.random.RandomState(0)
    centers = np.array([[6.0, 0.0, 0.0, 3.0], [0.0, 6.0, 0.0, 3.0], [0.0, 0.0, 6.0, 3.0]])
    Xs = np.vstack([c + 0.7 * rng.randn(15, 4) for c in centers])
    Xt = np.vstack([c + 0.3 + 0.7 * rng.randn(10, 4) for c in centers])
    return Xs, np.repeat(np.asarray(labels, dtype=object if isinstance(labels[0], str) else None), 15), \
        Xt, np.repeat(np.asarray(labels), 10)


def test_pack_masks_target_labels_with_minus_one():
    Xs, ys, Xt, _ = _pair([3, 7, 11])
    X, y, sd = pack_domains(Xs, ys, Xt)
    assert MASKED_LABEL == -1
    assert_array_equal(y[sd < 0], -1)
    assert_array_equal(y[sd > 0], ys)
    assert_array_equal(X[sd < 0], Xt)


def test_pack_string_labels_object_array_with_mask():
    Xs, ys, Xt, _ = _pair(["cat", "dog", "owl"])
    X, y, sd = pack_domains(Xs, ys.astype(str), Xt)
    assert y.dtype == object
    assert list(y[sd < 0]) == [-1] * Xt.shape[0]
    assert list(y[sd > 0]) == list(ys)


def test_a_class_called_minus_one_is_not_the_mask():
    """Source classes {-1, 0, 1}: the mask -1 in the target slots adds no class, and class -1 is
    learned and predicted like any other (labels are encoded from the source rows only)."""
    Xs, ys, Xt, yt = _pair([-1, 0, 1])
    X, y, sd = pack_domains(Xs, ys, Xt)
    est = NoAdapt().fit(X, y, sample_domain=sd)
    assert_array_equal(est.classes_, [-1, 0, 1])
    pred = est.predict(Xt)
    assert (pred == -1).sum() > 0
    assert np.mean(pred == yt) > 0.9
    # the same fit from the two-array form
    assert_array_equal(NoAdapt().fit_domains(Xs, ys, Xt).predict(Xt), pred)
    # whatever sits in the target slots is never read
    y2 = y.copy()
    y2[sd < 0] = 1
    assert_array_equal(NoAdapt().fit(X, y2, sample_domain=sd).predict(Xt), pred)


@pytest.mark.parametrize("labels", [["cat", "dog", "owl"], [-1, 0, 1], [10, 20, 30], [0.5, -1.0, 2.0]])
@pytest.mark.parametrize("method", ["jda", "meda", "easytl"])
def test_label_types_through_the_class_loops(method, labels):
    """JDA/MEDA/EasyTL loop over classes: codes 0..C-1 whatever the labels (never 1..C)."""
    Xs, ys, Xt, yt = _pair(labels)
    params = {"n_components": 2, "n_iter": 3} if method == "jda" else (
        {"d": 2, "T": 2} if method == "meda" else {})
    pred = get_method(method, random_state=0, **params).fit_domains(Xs, ys, Xt).predict(Xt)
    assert set(pred.tolist()) <= set(ys.tolist())
    # the same predictions as with the codes 0, 1, 2 (in sorted label order)
    order = sorted(labels)
    codes = np.array([order.index(v) for v in ys.tolist()])
    pred0 = get_method(method, random_state=0, **params).fit_domains(Xs, codes, Xt).predict(Xt)
    assert_array_equal([order.index(v) for v in pred.tolist()], pred0)
    assert np.mean(pred.astype(object) == yt.astype(object)) > 0.8


def test_string_labels_with_a_minus_one_string_class():
    Xs, ys, Xt, yt = _pair(["-1", "a", "b"])
    X, y, sd = pack_domains(Xs, ys, Xt)
    est = NoAdapt().fit(X, y, sample_domain=sd)
    assert list(est.classes_) == ["-1", "a", "b"]
    assert np.mean(est.predict(Xt) == yt) > 0.9


@pytest.mark.parametrize("sd, match", [
    (None, "sample_domain is required"),
    (np.ones(5), "entries for"),
    (np.r_[np.ones(45), np.zeros(30)], "zero entries"),
    (np.array(["s"] * 45 + ["t"] * 30), "vector of numbers"),
    (np.ones(75), "no target samples"),
    (-np.ones(75), "no source samples"),
])
def test_split_domains_errors(sd, match):
    Xs, ys, Xt, _ = _pair([0, 1, 2])
    X, y, _ = pack_domains(Xs, ys, Xt)
    with pytest.raises(InputError, match=match):
        split_domains(X, y, sd)


def test_split_domains_needs_source_labels_and_their_length():
    Xs, ys, Xt, _ = _pair([0, 1, 2])
    X, y, sd = pack_domains(Xs, ys, Xt)
    with pytest.raises(InputError, match="source labels y are required"):
        split_domains(X, None, sd)
    with pytest.raises(InputError, match="labels for 75 samples"):
        split_domains(X, y[:-1], sd)
    # a NaN in a masked target slot is fine; in a source slot it is not
    yf = y.astype(float)
    yf[sd < 0] = np.nan
    split_domains(X, yf, sd)
    yf[0] = np.nan
    with pytest.raises(InputError, match="source labels: labels contain NaN"):
        split_domains(X, yf, sd)


def test_single_class_source_is_refused():
    Xs, _, Xt, _ = _pair([0, 1, 2])
    with pytest.raises(InputError, match=r"at least two classes, got 1 \('a'\)"):
        NoAdapt().fit_domains(Xs, np.array(["a"] * len(Xs)), Xt)


def test_a_fit_validates_its_arrays_once(monkeypatch):
    """One pass of the array checks per fit (once per domain), none inside the method."""
    calls = []
    real = _base.check_pair

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(_base, "check_pair", counting)
    import transferability.utils.validation as v

    real_domain = v.check_domain
    domain_calls = []

    def counting_domain(*a, **k):
        domain_calls.append(k.get("name"))
        return real_domain(*a, **k)

    monkeypatch.setattr(v, "check_domain", counting_domain)
    monkeypatch.setattr(_base, "check_domain", counting_domain)
    Xs, ys, Xt, _ = _pair([0, 1, 2])
    for name in ("tca", "jda", "no_adapt"):
        calls.clear()
        domain_calls.clear()
        get_method(name, n_components=2).fit_domains(Xs, ys, Xt) if name != "no_adapt" else \
            get_method(name).fit_domains(Xs, ys, Xt)
        assert calls == [1]
        assert sorted(domain_calls) == ["source", "target"]


def test_fit_gets_float64_and_predict_checks_features():
    Xs, ys, Xt, _ = _pair([0, 1, 2])
    est = NoAdapt().fit_domains(Xs.astype(np.float32), ys, Xt.astype(np.int64))
    assert est.n_features_in_ == 4
    with pytest.raises(InputError, match="X has 3 features, the method was fitted on 4"):
        est.predict(np.ones((2, 3)))
    with pytest.raises(InputError, match="NaN"):
        est.predict(np.array([[np.nan, 0.0, 0.0, 0.0]]))
