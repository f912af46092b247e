"""transferability.sklearn: the gate and the auto-adapter as scikit-learn steps (skada's convention).

The learners (``assess`` / ``recommend``) run for real on small generated pairs and on one real
pair (Caltech -> Amazon SURF); scikit-learn's estimator checks, which fit dozens of times, and the
plumbing tests (routing, masks, abstentions) use fast stand-ins for them
(``transferability.sklearn._assess`` / ``_recommend``), so that what they test is the step itself.
"""

import pickle
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks
from sklearn.utils.validation import _num_samples

import transferability.sklearn as tsk
from transferability.datasets import make_demo_pair, preprocess_pair
from transferability.methods import METHODS, BaseAdapter, get_method, pack_domains
from transferability.sklearn import (AutoAdapter, NotWorthTransferring, TransferabilityGate,
                                     TransferabilityWarning)
from transferability.utils.validation import InputError

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="module")
def demo():
    """A small generated pair, packed skada-style: ``(source, target, X, y, sample_domain)``."""
    source, target = make_demo_pair(n_source=120, n_target=100, random_state=0)
    X, y, sd = pack_domains(source.X, source.y, target.X)
    return source, target, X, y, sd


# -- fast stand-ins for the learners ----------------------------------------------------------------
@dataclass
class FakeAssessment:
    score: float | None = 0.9
    label_equivalent: dict = field(default_factory=lambda: {"text": "worth about 10 labelled target samples"})
    in_distribution: bool = True
    abstain: str | None = None

    def to_dict(self):
        return {"score": self.score, "in_distribution": self.in_distribution, "abstain": self.abstain}


@dataclass
class FakeRecommendation:
    best: str | None = "no_adapt"
    abstain: str | None = None
    in_distribution: bool = True

    def to_dict(self):
        return {"best": self.best, "abstain": self.abstain, "in_distribution": self.in_distribution}


class Learners:
    """Stand-ins that record what they were given."""

    def __init__(self, assessment=None, recommendation=None):
        self.assessment = assessment or FakeAssessment()
        self.recommendation = recommendation or FakeRecommendation()
        self.calls = []

    def assess(self, Xs, ys, Xt, **kw):
        self.calls.append(("assess", Xs, ys, Xt, kw))
        return self.assessment

    def recommend(self, Xs, ys, Xt, **kw):
        self.calls.append(("recommend", Xs, ys, Xt, kw))
        return self.recommendation


@pytest.fixture
def fake(monkeypatch):
    learners = Learners()
    monkeypatch.setattr(tsk, "_assess", learners.assess)
    monkeypatch.setattr(tsk, "_recommend", learners.recommend)
    return learners


def _fake_assess(Xs, ys, Xt, **kw):  # module level: picklable, for the estimator checks
    return FakeAssessment()


def _fake_recommend(Xs, ys, Xt, **kw):
    return FakeRecommendation()


# -- the gate: pass, and the three ways to fail ------------------------------------------------------
def test_gate_passes_a_good_pair_and_passes_x_through(demo):
    source, target, X, y, sd = demo
    gate = TransferabilityGate().fit(X, y, sample_domain=sd)
    assert gate.score_ == gate.assessment_.score and 0.5 < gate.score_ <= 1.0
    assert gate.worth_transferring_ and not gate.target_only_ and gate.reasons_ == []
    assert gate.n_features_in_ == X.shape[1]
    assert gate.transform(X) is X  # float64 ndarray: the very object
    assert_array_equal(gate.fit_transform(X, y, sample_domain=sd), X)
    X32 = X.astype(np.float32)
    assert gate.transform(X32).dtype == np.float32
    # the assessment is the library's, on the source rows and the target rows
    from transferability import assess

    assert gate.score_ == assess(source.X, source.y, target.X).score


@pytest.fixture(scope="module")
def closed(demo):
    """What each on_fail mode does when the demo pair meets an unreachable threshold."""
    _, _, X, y, sd = demo
    out = {}
    with pytest.raises(NotWorthTransferring) as info:
        TransferabilityGate(threshold=0.999).fit(X, y, sample_domain=sd)
    out["raise"] = info.value
    for mode in ("warn", "target_only"):
        with pytest.warns(TransferabilityWarning, match="not worth transferring") as rec:
            gate = TransferabilityGate(threshold=0.999, on_fail=mode).fit(X, y, sample_domain=sd)
        out[mode] = (gate, str(rec[0].message))
    return out


def test_gate_raises_not_worth_transferring_with_score_label_equivalent_and_reasons(closed):
    err = closed["raise"]
    assert 0.0 <= err.score <= 0.999 and err.threshold == 0.999
    assert err.assessment.score == err.score
    assert err.label_equivalent["text"] and err.label_equivalent["text"] in str(err)
    assert err.reasons[0] == f"P(k* >= 10) = {err.score:.3f} <= 0.999"
    assert str(err).startswith(f"not worth transferring: score {err.score:.3f} (")
    assert "\n" not in str(err)
    again = pickle.loads(pickle.dumps(err))  # users' pickles and joblib workers
    assert (type(again), str(again), again.score, again.reasons) == (NotWorthTransferring, str(err), err.score,
                                                                     err.reasons)


def test_gate_warn_goes_on_with_the_same_verdict(closed):
    gate, message = closed["warn"]
    assert not gate.worth_transferring_ and not gate.target_only_
    assert gate.score_ == closed["raise"].score and gate.reasons_ == closed["raise"].reasons
    assert message == str(closed["raise"])
    assert gate.transform(np.ones((2, gate.n_features_in_))).shape == (2, gate.n_features_in_)


def test_gate_target_only_marks_and_passes_every_row_on(closed, demo):
    _, _, X, _, _ = demo
    gate, message = closed["target_only"]
    assert gate.target_only_ and not gate.worth_transferring_
    assert "target only: train on labelled target rows (about 10 per class)" in message
    assert gate.transform(X) is X  # a Pipeline step cannot drop rows: the mark is target_only_


def _noise_pair():
    """Pure Gaussian noise with random labels (the sanity suite's first kind): nothing to transfer."""
    rng = np.random.RandomState(0)
    Xs, Xt = rng.randn(300, 20), rng.randn(300, 20)
    ys = rng.randint(4, size=300)
    return pack_domains(Xs, ys, Xt)


def test_gate_raises_on_the_noise_pair():
    X, y, sd = _noise_pair()
    with pytest.raises(NotWorthTransferring, match="not worth transferring") as info:
        TransferabilityGate().fit(X, y, sample_domain=sd)
    assert info.value.score < 0.2


def test_gate_never_passes_an_abstention(fake, demo):
    _, _, X, y, sd = demo
    fake.assessment = FakeAssessment(score=None, label_equivalent=None,
                                     abstain="cannot judge: target too small (20 rows for 10 source classes)")
    with pytest.raises(NotWorthTransferring) as info:
        TransferabilityGate(threshold=0.0).fit(X, y, sample_domain=sd)
    assert info.value.score is None
    assert info.value.reasons == ["the learners abstained", fake.assessment.abstain]
    assert str(info.value).startswith("not worth transferring: no score is not above")
    with pytest.warns(TransferabilityWarning, match="cannot judge: target too small"):
        gate = TransferabilityGate(on_fail="warn").fit(X, y, sample_domain=sd)
    assert gate.score_ is None and not gate.worth_transferring_


def test_gate_names_an_out_of_distribution_pair_among_its_reasons(fake, demo):
    _, _, X, y, sd = demo
    fake.assessment = FakeAssessment(score=0.2, in_distribution=False)
    with pytest.raises(NotWorthTransferring, match="out of distribution"):
        TransferabilityGate().fit(X, y, sample_domain=sd)


def test_gate_threshold_is_strict_as_assess(fake, demo):
    _, _, X, y, sd = demo
    fake.assessment = FakeAssessment(score=0.5)
    with pytest.raises(NotWorthTransferring):
        TransferabilityGate(threshold=0.5).fit(X, y, sample_domain=sd)
    assert TransferabilityGate(threshold=0.49).fit(X, y, sample_domain=sd).worth_transferring_


def test_gate_passes_its_parameters_to_assess(fake, demo):
    _, _, X, y, sd = demo
    TransferabilityGate(k=5, base_estimator="logreg", preprocess="zscore", models="somewhere",
                        random_state=3).fit(X, y, sample_domain=sd)
    (_, Xs, ys, Xt, kw), = fake.calls
    assert kw == {"k": 5, "base_estimator": "logreg", "preprocess": "zscore", "models": "somewhere",
                  "random_state": 3}
    assert (Xs.shape[0], Xt.shape[0]) == (120, 100)


def test_gate_without_labels_uses_the_label_free_model(fake, demo):
    _, _, X, _, sd = demo
    TransferabilityGate().fit(X, sample_domain=sd)
    (_, Xs, ys, Xt, _), = fake.calls
    assert ys is None and (Xs.shape[0], Xt.shape[0]) == (120, 100)


def test_gate_without_labels_or_sample_domain_says_what_it_needs(fake, demo):
    _, _, X, _, _ = demo
    with pytest.raises(InputError, match="^TransferabilityGate needs sample_domain"):
        TransferabilityGate().fit(X)


def test_gate_transform_checks_its_input(fake, demo):
    _, _, X, y, sd = demo
    gate = TransferabilityGate().fit(X, y, sample_domain=sd)
    with pytest.raises(ValueError, match="X has 3 features, but TransferabilityGate is expecting 16"):
        gate.transform(X[:, :3])
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        TransferabilityGate().transform(X)


# -- the adapter -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def adapter(demo):
    _, _, X, y, sd = demo
    return AutoAdapter().fit(X, y, sample_domain=sd)


def test_adapter_fits_the_recommended_method(adapter, demo):
    source, target, X, y, sd = demo
    rec = adapter.recommendation_
    assert adapter.method_name_ == rec.best and rec.best in [p.method for p in rec.ranking]
    assert isinstance(adapter.method_, METHODS[rec.best])
    assert_array_equal(adapter.classes_, np.unique(source.y))
    pred = adapter.predict(target.X)
    assert pred.shape == (100,) and set(pred) <= set(adapter.classes_)
    assert adapter.score(target.X, target.y) == np.mean(pred == target.y)
    # the same method fitted by hand on the two arrays gives the same labels
    direct = get_method(rec.best, base_estimator="1nn", random_state=0).fit_domains(source.X, source.y, target.X)
    assert_array_equal(pred, direct.predict(target.X))
    from transferability import recommend

    assert recommend(source.X, source.y, target.X).best == rec.best


def test_adapter_predicts_any_rows(adapter, demo):
    source, target, X, _, _ = demo
    assert adapter.predict(source.X[:7]).shape == (7,)
    assert adapter.predict(X).shape == (X.shape[0],)


def test_adapter_falls_back_to_no_adapt_when_recommend_names_none(fake, demo):
    _, target, X, y, sd = demo
    fake.recommendation = FakeRecommendation(best=None, abstain="cannot judge: target too small")
    with pytest.warns(TransferabilityWarning, match="recommend named no method: cannot judge: target too small; "
                                                    "fitting no_adapt"):
        clf = AutoAdapter().fit(X, y, sample_domain=sd)
    assert clf.method_name_ == "no_adapt" and clf.predict(target.X).shape == (100,)
    fake.recommendation = FakeRecommendation(best=None)
    with pytest.warns(TransferabilityWarning, match="no method's predicted runtime fits the budget of 0.5 s"):
        AutoAdapter(budget=0.5).fit(X, y, sample_domain=sd)


def test_adapter_passes_its_parameters_to_recommend(fake, demo):
    _, _, X, y, sd = demo
    AutoAdapter("logreg", budget=3.0, preprocess="l2", models="dir", random_state=4).fit(X, y, sample_domain=sd)
    (_, Xs, ys, Xt, kw), = fake.calls
    assert kw == {"base_estimator": "logreg", "preprocess": "l2", "models": "dir", "budget": 3.0,
                  "random_state": 4}


ROW_MODES = ["none", "zscore", "l2", "sum-zscore", "zscore-source", "zscore-pooled"]


@pytest.mark.parametrize("mode", ROW_MODES)
def test_row_map_is_preprocess_pair_on_the_target_rows(mode):
    rng = np.random.RandomState(1)
    Xs, Xt = rng.rand(30, 5) + 0.1, rng.rand(20, 5) * 3 + 1
    Xt[:, 2] = 7.0  # a constant target feature
    rows = tsk._RowMap(mode, Xs, Xt)
    assert_array_equal(rows(Xt), preprocess_pair(Xs, Xt, mode)[1])
    assert_array_equal(rows(Xt[5:9]), preprocess_pair(Xs, Xt, mode)[1][5:9])  # row by row, not batch statistics


def test_adapter_fits_and_predicts_in_the_preprocessed_space(fake, demo):
    source, target, X, y, sd = demo
    fake.recommendation = FakeRecommendation(best="coral")
    Xs_raw, Xt_raw = np.abs(source.X) + 1, np.abs(target.X) + 1  # positive rows: sum-zscore is defined
    X2 = np.vstack([Xs_raw, Xt_raw])
    clf = AutoAdapter(preprocess="sum-zscore").fit(X2, y, sample_domain=sd)
    Xs_p, Xt_p = preprocess_pair(Xs_raw, Xt_raw, "sum-zscore")
    direct = get_method("coral", base_estimator="1nn", random_state=0).fit_domains(Xs_p, source.y, Xt_p)
    assert_array_equal(clf.predict(Xt_raw), direct.predict(Xt_p))
    (_, Xs, _, Xt, kw), = fake.calls  # recommend gets the rows as given and applies preprocess itself
    assert kw["preprocess"] == "sum-zscore"
    assert_array_equal(Xs, Xs_raw)
    assert_array_equal(Xt, Xt_raw)


def test_adapter_refuses_tfidf_svd100_with_a_way_out(demo):
    _, _, X, y, sd = demo
    with pytest.raises(InputError, match="The 'preprocess' parameter of AutoAdapter must be a str among"):
        AutoAdapter(preprocess="tfidf-svd100").fit(X, y, sample_domain=sd)


def test_adapter_requires_labels(fake, demo):
    _, _, X, _, sd = demo
    with pytest.raises(InputError, match="AutoAdapter requires y to be passed, but the target y is None"):
        AutoAdapter().fit(X, None, sample_domain=sd)


def test_adapter_rejects_a_continuous_target(fake, demo):
    _, _, X, _, sd = demo
    with pytest.raises(ValueError, match="Unknown label type"):
        AutoAdapter().fit(X, np.linspace(0, 1, X.shape[0]), sample_domain=sd)


class _ProbaStub(BaseAdapter):
    """A registered method with probabilities (none of the library's has them today)."""

    def __init__(self, *, base_estimator="1nn", random_state=None):
        self.base_estimator, self.random_state = base_estimator, random_state

    def _fit(self, Xs, ys, Xt, random_state):
        self.mean_ = Xs.mean(axis=0)

    def _predict(self, X):
        return (X @ np.ones(X.shape[1]) > 0).astype(int)

    def predict_proba(self, X):
        p = (X @ np.ones(X.shape[1]) > 0).astype(float)
        return np.column_stack([1 - p, p])


@pytest.fixture
def proba_method():
    METHODS["_proba_stub"] = _ProbaStub
    _ProbaStub.name = "_proba_stub"
    yield "_proba_stub"
    del METHODS["_proba_stub"]


def test_predict_proba_is_there_only_where_the_method_has_it(fake, demo, proba_method):
    _, target, X, y, sd = demo
    yb = np.where(sd > 0, y % 2, -1)
    clf = AutoAdapter().fit(X, yb, sample_domain=sd)  # no_adapt: no probabilities
    assert not hasattr(clf, "predict_proba") and not hasattr(AutoAdapter(), "predict_proba")
    fake.recommendation = FakeRecommendation(best=proba_method)
    clf = AutoAdapter().fit(X, yb, sample_domain=sd)
    P = clf.predict_proba(target.X)
    assert P.shape == (100, 2)
    assert_array_equal(clf.classes_[P.argmax(axis=1)], clf.predict(target.X))


# -- a few labelled target rows in y (target_labels="y") ----------------------------------------------
def _semi(y, sd, target_y, every=5, kind="int"):
    """``y`` with every ``every``-th target row labelled (the others masked), as skada's
    semi-supervised data: ``(y_semi, positions of those rows among the target rows)``."""
    t = np.flatnonzero(np.asarray(sd) < 0)
    pos = np.arange(0, len(t), every)
    y_semi = np.asarray(y, dtype=float if kind == "float-nan" else None).copy()
    if kind == "float-nan":
        y_semi[t] = np.nan
    y_semi[t[pos]] = np.asarray(target_y)[pos]
    return y_semi, pos


@pytest.mark.parametrize("kind", ["int", "float-nan"])
def test_target_labels_y_passes_the_labelled_target_rows_to_recommend(fake, demo, kind):
    source, target, X, y, sd = demo
    y_semi, pos = _semi(y, sd, target.y, kind=kind)
    order = np.random.RandomState(0).permutation(X.shape[0])  # rows in any order
    AutoAdapter(target_labels="y").fit(X[order], y_semi[order], sample_domain=sd[order])
    (_, Xs, ys, Xt, kw), = fake.calls
    rows, labels = kw["target_labels"]
    assert len(rows) == len(pos) == 20 and not np.any(tsk._masked(labels))
    # each labelled row, found in the target rows recommend got, carries that target row's label
    by_row = {tuple(x): lab for x, lab in zip(target.X, target.y)}
    assert [by_row[tuple(x)] for x in Xt[rows]] == list(labels)
    assert sorted(tuple(x) for x in Xt[rows]) == sorted(tuple(x) for x in target.X[pos])
    assert_array_equal(np.sort(ys), np.sort(source.y))  # the source labels are those of the source rows only


def test_target_labels_none_never_reads_the_target_entries_of_y(fake, demo):
    source, target, X, y, sd = demo
    y_semi, _ = _semi(y, sd, target.y)
    AutoAdapter().fit(X, y_semi, sample_domain=sd)
    (_, _, _, _, kw), = fake.calls
    assert "target_labels" not in kw


def test_target_labels_y_needs_sample_domain_and_a_labelled_target_row(fake, demo):
    source, target, X, y, sd = demo
    with pytest.raises(InputError, match=r"^AutoAdapter\(target_labels='y'\) needs sample_domain"):
        AutoAdapter(target_labels="y").fit(X, y)  # inferred domains: the target rows are the masked ones
    with pytest.raises(InputError, match="no target row has a label"):
        AutoAdapter(target_labels="y").fit(X, y, sample_domain=sd)  # every target entry masked
    assert fake.calls == []


def test_target_labels_y_refuses_a_label_the_source_does_not_have(demo):
    source, target, X, y, sd = demo
    y_semi, _ = _semi(y, sd, target.y)
    y_semi[np.flatnonzero(sd < 0)[0]] = 9  # not a source class
    with pytest.raises(InputError, match="label '9' is not a source class"):
        AutoAdapter(target_labels="y").fit(X, y_semi, sample_domain=sd)


def test_grid_search_over_target_labels_keeps_the_labelled_rows_in_training_folds(fake, demo):
    source, target, X, y, sd = demo
    y_semi, _ = _semi(y, sd, target.y)
    test_fold = np.where(sd > 0, np.arange(X.shape[0]) % 2, -1)  # target rows, labelled or not, always train
    search = GridSearchCV(AutoAdapter(), {"target_labels": [None, "y"]}, cv=PredefinedSplit(test_fold),
                          error_score="raise", refit=False)
    with sklearn.config_context(enable_metadata_routing=True):
        search.fit(X, y_semi, sample_domain=sd)
    labelled = [kw.get("target_labels") for *_, kw in fake.calls]
    assert len(labelled) == 4 and sum(t is None for t in labelled) == 2  # 2 candidates x 2 folds
    assert all(len(t[0]) == 20 for t in labelled if t is not None)  # every labelled target row in each fit


@pytest.fixture(scope="module")
def shifted():
    """A pair with a larger shift, where the methods disagree on some target rows."""
    source, target = make_demo_pair(n_source=120, n_target=100, shift=2.5, random_state=0)
    X, y, sd = pack_domains(source.X, source.y, target.X)
    return source, target, X, y, sd


def test_adapter_fits_the_verified_pick_and_trains_on_no_target_label(shifted):
    """Label the target rows where SA and the zero-label pick disagree with SA's answers: the
    verified pick changes, the step fits it, and the fitted method is the one fitted without
    labels (on the source rows and every target row, unlabelled)."""
    source, target, X, y, sd = shifted
    zero = AutoAdapter().fit(X, y, sample_domain=sd)
    assert zero.recommendation_.verified is None
    start = zero.method_name_
    sa = get_method("sa", base_estimator="1nn", random_state=0).fit_domains(source.X, source.y, target.X)
    sa_pred = sa.predict(target.X)
    disagree = np.flatnonzero(sa_pred != zero.predict(target.X))[:20]
    assert len(disagree) >= 5
    y_semi = y.copy()
    y_semi[np.flatnonzero(sd < 0)[disagree]] = sa_pred[disagree]
    clf = AutoAdapter(target_labels="y").fit(X, y_semi, sample_domain=sd)
    v = clf.recommendation_.verified
    assert v["n_labelled"] == len(disagree) and v["zero_label_pick"] == start
    assert v["changed"] and v["pick"] != start and clf.method_name_ == v["pick"] == clf.recommendation_.best
    acc = {m["method"]: m["accuracy"] for m in v["methods"] if m["accuracy"] is not None}
    assert acc[v["pick"]] == max(acc.values()) and acc[start] < acc[v["pick"]]
    direct = get_method(v["pick"], base_estimator="1nn", random_state=0).fit_domains(source.X, source.y, target.X)
    assert_array_equal(clf.predict(target.X), direct.predict(target.X))
    again = pickle.loads(pickle.dumps(clf))
    assert again.recommendation_.verified == v and again.method_name_ == clf.method_name_


# -- skada's convention: sample_domain given, inferred from masks, routed ------------------------------
def test_target_labels_are_never_read(fake, demo):
    source, target, X, y, sd = demo
    fake.recommendation = FakeRecommendation(best="coral")
    y_leak = np.concatenate([source.y, target.y])  # real target labels in the target rows' slots
    a = AutoAdapter().fit(X, y_leak, sample_domain=sd).predict(target.X)
    b = AutoAdapter().fit(X, y, sample_domain=sd).predict(target.X)
    assert_array_equal(a, b)
    for _, Xs, ys, Xt, _ in fake.calls:
        assert_array_equal(ys, source.y) and Xt.shape == target.X.shape


@pytest.mark.parametrize("kind", ["int", "float-nan", "object"])
def test_sample_domain_is_inferred_from_masked_labels(fake, demo, kind):
    source, target, X, _, sd = demo
    if kind == "int":
        y = np.where(sd > 0, np.r_[source.y, target.y], -1)
    elif kind == "float-nan":
        y = np.where(sd > 0, np.r_[source.y, target.y].astype(float), np.nan)
    else:
        y = np.array([f"c{v}" for v in source.y] + [-1] * len(target.y), dtype=object)
    order = np.random.RandomState(0).permutation(X.shape[0])  # rows in any order
    TransferabilityGate().fit(X[order], y[order])
    AutoAdapter().fit(X[order], y[order])
    for _, Xs, ys, Xt, _ in fake.calls:
        assert (Xs.shape[0], Xt.shape[0]) == (120, 100)
        assert_array_equal(np.sort(Xs[:, 0]), np.sort(source.X[:, 0]))
        assert not np.any(tsk._masked(ys))


@pytest.mark.parametrize("y, match", [
    (np.zeros(220, dtype=int), "no target rows: pass sample_domain"),
    (-np.ones(220, dtype=int), "no source rows: every label is masked"),
])
def test_masks_that_leave_a_domain_empty_are_refused(fake, demo, y, match):
    _, _, X, _, _ = demo
    for est in (TransferabilityGate(), AutoAdapter()):
        with pytest.raises(InputError, match=match):
            est.fit(X, y)


@pytest.mark.parametrize("sample_domain, match", [
    (np.zeros(220), "sample_domain has 220 zero entries"),
    (np.ones(219), "sample_domain has 219 entries for 220 samples"),
    (-np.ones(220), r"no source samples \(sample_domain > 0\)"),
])
def test_bad_sample_domain_is_refused(fake, demo, sample_domain, match):
    _, _, X, y, _ = demo
    with pytest.raises(InputError, match=match):
        AutoAdapter().fit(X, y, sample_domain=sample_domain)


def test_y_of_the_wrong_length_is_refused(fake, demo):
    _, _, X, y, sd = demo
    with pytest.raises(InputError, match="y: 219 labels for 220 samples"):
        TransferabilityGate().fit(X, y[:-1], sample_domain=sd)


def test_pipeline_routes_sample_domain_to_both_steps(fake, demo):
    _, target, X, y, sd = demo
    y_leak = np.where(sd > 0, y, 5)  # with sample_domain, the target slots are never read
    pipe = make_pipeline(TransferabilityGate(), StandardScaler(), AutoAdapter())
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(X, y_leak, sample_domain=sd)
        assert pipe.predict(target.X).shape == (100,)
    assert [c[0] for c in fake.calls] == ["assess", "recommend"]
    assert [(c[1].shape[0], c[3].shape[0]) for c in fake.calls] == [(120, 100), (120, 100)]
    # without routing: scikit-learn's step__param form
    fake.calls.clear()
    pipe.fit(X, y_leak, transferabilitygate__sample_domain=sd, autoadapter__sample_domain=sd)
    assert [(c[1].shape[0], c[3].shape[0]) for c in fake.calls] == [(120, 100), (120, 100)]


def test_both_steps_request_sample_domain_by_default():
    with sklearn.config_context(enable_metadata_routing=True):
        for est in (TransferabilityGate(), AutoAdapter()):
            assert est.get_metadata_routing().fit.requests == {"sample_domain": True}


def test_a_gate_that_raises_stops_the_pipeline_before_the_model(fake, demo):
    _, _, X, y, sd = demo
    fake.assessment = FakeAssessment(score=0.1)
    pipe = make_pipeline(TransferabilityGate(), AutoAdapter())
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises(NotWorthTransferring):
            pipe.fit(X, y, sample_domain=sd)
    assert [c[0] for c in fake.calls] == ["assess"]


# -- parameters ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("est, params, match", [
    (TransferabilityGate, {"k": 0}, "The 'k' parameter of TransferabilityGate must be an int in the range"),
    (TransferabilityGate, {"threshold": 1.5}, "The 'threshold' parameter of TransferabilityGate must be"),
    (TransferabilityGate, {"on_fail": "ignore"}, "The 'on_fail' parameter of TransferabilityGate must be a str"),
    (TransferabilityGate, {"base_estimator": "svm"}, "The 'base_estimator' parameter of TransferabilityGate"),
    (TransferabilityGate, {"preprocess": "l3"}, "The 'preprocess' parameter of TransferabilityGate"),
    (TransferabilityGate, {"models": 3}, "The 'models' parameter of TransferabilityGate"),
    (TransferabilityGate, {"random_state": "x"}, "The 'random_state' parameter of TransferabilityGate"),
    (AutoAdapter, {"base_estimator": "svm"}, "The 'base_estimator' parameter of AutoAdapter"),
    (AutoAdapter, {"budget": 0}, "The 'budget' parameter of AutoAdapter must be None or a float in the range"),
    (AutoAdapter, {"preprocess": "l3"}, "The 'preprocess' parameter of AutoAdapter"),
    (AutoAdapter, {"models": 3.5}, "The 'models' parameter of AutoAdapter"),
    (AutoAdapter, {"random_state": -1}, "The 'random_state' parameter of AutoAdapter"),
    (AutoAdapter, {"target_labels": "auto"}, "The 'target_labels' parameter of AutoAdapter must be None or a str among"),
    (AutoAdapter, {"target_labels": np.arange(3)}, "The 'target_labels' parameter of AutoAdapter"),
])
def test_bad_parameters_raise_one_line_before_any_work(fake, demo, est, params, match):
    _, _, X, y, sd = demo
    with pytest.raises(InputError, match=match) as info:
        est(**params).fit(X, y, sample_domain=sd)
    assert isinstance(info.value, InvalidParameterError) and "\n" not in str(info.value)
    assert fake.calls == []


def test_clone_get_params_set_params():
    gate = TransferabilityGate(5, threshold=0.7, on_fail="warn", preprocess="sum-zscore")
    clf = AutoAdapter("logreg", budget=2.0, random_state=3, target_labels="y")
    for est in (gate, clf):
        twin = clone(est)
        assert twin is not est and twin.get_params() == est.get_params()
    assert clf.set_params(budget=None).budget is None
    assert clone(clf).target_labels == "y" and clf.set_params(target_labels=None).target_labels is None
    pipe = make_pipeline(gate, StandardScaler(), clf)
    params = pipe.get_params()
    assert params["transferabilitygate__threshold"] == 0.7 and params["autoadapter__base_estimator"] == "logreg"
    pipe.set_params(transferabilitygate__k=20, autoadapter__preprocess="zscore")
    assert (gate.k, clf.preprocess) == (20, "zscore")


def test_the_user_may_pickle_fitted_steps(demo, adapter):
    _, target, X, y, sd = demo
    gate = TransferabilityGate().fit(X, y, sample_domain=sd)
    g2, a2 = pickle.loads(pickle.dumps(gate)), pickle.loads(pickle.dumps(adapter))
    assert g2.score_ == gate.score_ and g2.assessment_.to_dict() == gate.assessment_.to_dict()
    assert_array_equal(a2.predict(target.X), adapter.predict(target.X))
    assert a2.recommendation_.to_dict() == adapter.recommendation_.to_dict()


def test_grid_search_over_both_steps_with_a_split_that_keeps_the_target(demo):
    """Source rows are split into two folds; every target row stays in every training fold
    (``PredefinedSplit``: -1 = never a test row). The test fold is held-out labelled source rows,
    so the score is a source-validation accuracy (the target's labels are masked)."""
    source, target, X, y, sd = demo
    test_fold = np.where(sd > 0, np.arange(X.shape[0]) % 2, -1)
    pipe = Pipeline([("gate", TransferabilityGate(on_fail="warn")), ("scale", StandardScaler()),
                     ("clf", AutoAdapter())])
    grid = [{"gate__k": [5], "clf__base_estimator": ["1nn"]},  # two candidates (each fit runs the learners)
            {"gate__k": [10], "clf__base_estimator": ["logreg"]}]
    search = GridSearchCV(pipe, grid, cv=PredefinedSplit(test_fold), error_score="raise")
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("error", TransferabilityWarning)  # the demo pair passes the gate
        search.fit(X, y, sample_domain=sd)
    scores = search.cv_results_["mean_test_score"]
    assert scores.shape == (2,) and np.all((scores >= 0) & (scores <= 1))
    assert search.best_params_ in ({"gate__k": 5, "clf__base_estimator": "1nn"},
                                   {"gate__k": 10, "clf__base_estimator": "logreg"})
    assert search.best_estimator_[0].k == search.best_params_["gate__k"]
    assert search.best_estimator_.predict(target.X).shape == (100,)
    assert 0.0 <= search.best_estimator_.score(target.X, target.y) <= 1.0


# -- scikit-learn's estimator checks -----------------------------------------------------------------
def _every_third_row_is_target(X):
    return np.where(np.arange(_num_samples(X)) % 3 == 2, -1, 1)


class _GateOnSplitRows(TransferabilityGate):
    """The gate for the estimator checks, which fit with ``fit(X, y)`` and no ``sample_domain`` on
    labels without a mask: every third row is called a target row."""

    def fit(self, X, y=None, sample_domain=None):
        return super().fit(X, y, sample_domain=_every_third_row_is_target(X) if sample_domain is None
                           else sample_domain)


class _AdapterOnSplitRows(AutoAdapter):
    def fit(self, X, y, sample_domain=None):
        return super().fit(X, y, sample_domain=_every_third_row_is_target(X) if sample_domain is None
                           else sample_domain)


@pytest.fixture
def fast_learners(monkeypatch):
    monkeypatch.setattr(tsk, "_assess", _fake_assess)
    monkeypatch.setattr(tsk, "_recommend", _fake_recommend)


@parametrize_with_checks([_GateOnSplitRows(), _AdapterOnSplitRows()])
def test_sklearn_estimator_checks(estimator, check, fast_learners):
    check(estimator)


#: The checks that do not apply to the steps as shipped: each fits ``fit(X, y)`` with labels that
#: have no masked entry and no ``sample_domain``, so there are no target rows and fit refuses
#: ("no target rows"); the same checks pass above once the rows are split into two domains.
NEEDS_TWO_DOMAINS = {
    "check_fit_score_takes_y", "check_estimators_overwrite_params", "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self", "check_readonly_memmap_input", "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit", "check_estimators_dtypes", "check_dtype_object",
    "check_pipeline_consistency", "check_estimators_nan_inf", "check_estimator_sparse_tag",
    "check_estimator_sparse_array", "check_estimator_sparse_matrix", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_fit2d_1feature", "check_dict_unchanged", "check_fit_idempotent",
    "check_fit_check_is_fitted", "check_n_features_in", "check_fit2d_predict1d",
}
NEEDS_TWO_DOMAINS_GATE = NEEDS_TWO_DOMAINS | {
    "check_transformer_data_not_an_array", "check_transformer_general", "check_transformer_preserve_dtypes"}
NEEDS_TWO_DOMAINS_ADAPTER = NEEDS_TWO_DOMAINS | {
    "check_classifier_data_not_an_array", "check_classifiers_one_label", "check_classifiers_classes",
    "check_classifiers_train", "check_classifiers_regression_target", "check_supervised_y_2d"}


@pytest.mark.parametrize("estimator, expected", [(TransferabilityGate(), NEEDS_TWO_DOMAINS_GATE),
                                                 (AutoAdapter(), NEEDS_TWO_DOMAINS_ADAPTER)],
                         ids=["TransferabilityGate", "AutoAdapter"])
def test_the_checks_that_do_not_apply_are_those_that_fit_without_a_target(estimator, expected, fast_learners):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None)
    failed = {r["check_name"] for r in results if r["status"] == "failed"}
    assert failed - {"check_classifier_data_not_an_array"} == expected - {"check_classifier_data_not_an_array"}
    passed = {r["check_name"] for r in results if r["status"] == "passed"}
    assert {"check_get_params_invariance", "check_set_params", "check_estimators_unfitted", "check_fit2d_1sample",
            "check_estimators_empty_data_messages", "check_no_attributes_set_in_init", "check_complex_data",
            "check_fit1d"} <= passed


@pytest.mark.parametrize("estimator", [_GateOnSplitRows(), _AdapterOnSplitRows()], ids=["gate", "adapter"])
def test_sklearn_parameter_validation_check(estimator, fast_learners):
    """scikit-learn's own check of ``_parameter_constraints`` (not part of ``check_estimator``)."""
    from sklearn.utils.estimator_checks import check_param_validation

    check_param_validation(type(estimator).__name__, estimator)


# -- the done-when pipeline on a real pair -------------------------------------------------------------
@pytest.mark.slow
def test_pipeline_on_caltech_to_amazon_surf():
    data = SHARED_DATA / "office_caltech10_surf"
    if not data.is_dir():
        pytest.skip(f"benchmark data not found at {data}")
    from transferability.datasets import load_domain

    caltech, amazon = load_domain(data / "Caltech10_SURF_L10.mat"), load_domain(data / "amazon_SURF_L10.mat")
    X, y, sd = pack_domains(caltech.X, caltech.y, amazon.X)
    pipe = make_pipeline(TransferabilityGate(preprocess="sum-zscore"), StandardScaler(), AutoAdapter())
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(X, y, sample_domain=sd)
    gate, clf = pipe[0], pipe[-1]
    assert gate.worth_transferring_ and gate.assessment_.preprocess == "sum-zscore"
    assert clf.method_name_ == clf.recommendation_.best
    pred = pipe.predict(amazon.X)
    assert pred.shape == (958,) and set(pred) <= set(np.unique(caltech.y))
    assert np.mean(pred == amazon.y) > 0.237  # above the published no-adaptation 1-NN (23.70 %)
