"""Tests of the evaluation runner and the k-shot baselines."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from transferability.methods import (
    BaseAdapter, EvaluationReport, MethodResult, NoAdapt, evaluate_methods, kshot_baseline,
)
from transferability.methods import _registry
from transferability.utils.validation import InputError

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


class _AlwaysFails(BaseAdapter):
    """A throwaway method whose fit raises a multi-line error."""

    def __init__(self, *, base_estimator="1nn", random_state=None):
        self.base_estimator = base_estimator
        self.random_state = random_state

    def _fit(self, Xs, ys, Xt, random_state):
        raise np.linalg.LinAlgError("Singular matrix\nsecond line that must not appear")

    def _predict(self, X):  # pragma: no cover - never fitted
        raise AssertionError


@pytest.fixture
def small_registry(monkeypatch):
    """A registry holding only no_adapt and the failing method (restored after the test)."""
    monkeypatch.setattr(_registry, "METHODS", {"no_adapt": NoAdapt, "_always_fails": _AlwaysFails})
    _AlwaysFails.name = "_always_fails"
    return _registry.METHODS


def _toy_pair(seed=0, labels=("a", "b", "c")):
    rng = np.random.RandomState(seed)
    centers = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    Xs = np.vstack([c + rng.randn(20, 2) for c in centers])
    Xt = np.vstack([c + 0.5 + rng.randn(20, 2) for c in centers])
    ys = np.repeat(np.asarray(labels), 20)
    return Xs, ys, Xt, ys.copy()


# --- k-shot baseline -------------------------------------------------------------------------

def _kshot_toy():
    # class "a": two points, 0 and 10.2; class "b": three identical points at 10;
    # class "c": a single point at 50 (used for training only, never tested).
    X = np.array([[0.0], [10.2], [10.0], [10.0], [10.0], [50.0]])
    y = np.array(["a", "a", "b", "b", "b", "c"])
    return X, y


def test_kshot_hand_checked_k1():
    # k=1: "a" keeps one point for training, the other is tested. Whichever is drawn, the tested
    # "a" point is nearer to the "b" training point at 10 (0 -> 10 vs 10.2; 10.2 -> 0.2 vs 10.2):
    # wrong. The two tested "b" points (at 10) are right. "c" is only trained on. 2 of 3 correct.
    X, y = _kshot_toy()
    assert_allclose(kshot_baseline(X, y, 1, random_state=0), 2 / 3)
    assert_allclose(kshot_baseline(X, y, 1, random_state=123, n_draws=7), 2 / 3)


def test_kshot_hand_checked_small_classes():
    # k=3: every class has <= 3 samples, so each gives all but one ("a": 1, "b": 2) and the
    # single "c" sample trains only. Tested: one "a" (wrong, as above) and one "b" (right).
    X, y = _kshot_toy()
    assert_allclose(kshot_baseline(X, y, 3), 0.5)
    assert_allclose(kshot_baseline(X, y, 10), 0.5)


def test_kshot_no_test_sample_left_is_nan():
    X = np.array([[0.0], [1.0], [2.0]])
    y = np.array([0, 1, 2])
    assert math.isnan(kshot_baseline(X, y, 1))


def test_kshot_single_class_training_set_predicts_that_class():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array(["only"] * 4)
    assert_allclose(kshot_baseline(X, y, 2), 1.0)


def test_kshot_deterministic_and_labels_as_strings():
    Xs, ys, Xt, yt = _toy_pair()
    rng = np.random.RandomState(1)
    Xt = Xt + 2.5 * rng.randn(*Xt.shape)  # overlapping classes: accuracy depends on the draw
    y_int = np.repeat([3, 7, 11], 20)
    # the draws visit classes in sorted order: keep the string labels in the same order
    y_str = np.array([f"class-{v:02d}" for v in y_int])
    for k in (1, 3, 5):
        a = kshot_baseline(Xt, y_int, k, random_state=5)
        assert a == kshot_baseline(Xt, y_int, k, random_state=5)
        assert a == kshot_baseline(Xt, y_str, k, random_state=5)
        assert 0.0 <= a <= 1.0
    for base in ("logreg", "linear_svm"):
        assert 0.0 <= kshot_baseline(Xt, y_str, 3, base_estimator=base) <= 1.0


def test_kshot_rejects_bad_k():
    X, y = _kshot_toy()
    with pytest.raises(InputError, match="positive integer"):
        kshot_baseline(X, y, 0)
    with pytest.raises(InputError, match="labels for"):
        kshot_baseline(X, y[:-1], 1)


# --- evaluate_methods ------------------------------------------------------------------------

def test_failure_is_isolated(small_registry):
    Xs, ys, Xt, yt = _toy_pair()
    report = evaluate_methods(Xs, ys, Xt, yt, methods=["_always_fails", "no_adapt"], kshot=())
    assert isinstance(report, EvaluationReport)
    failed, ok = report.results
    assert isinstance(failed, MethodResult)
    assert failed.status == "failed" and failed.target_accuracy is None
    assert failed.error == "LinAlgError: Singular matrix"
    assert failed.runtime_s >= 0.0
    assert ok.status == "ok" and ok.error is None
    assert 0.0 <= ok.target_accuracy <= 1.0


def test_all_runs_every_registered_method(small_registry):
    Xs, ys, Xt, yt = _toy_pair()
    report = evaluate_methods(Xs, ys, Xt, yt, methods="all", kshot=(1,))
    assert [r.method for r in report.results] == ["no_adapt", "_always_fails"]
    assert report.effect_scores() == {"no_adapt": 1.0, "_always_fails": None}


def test_json_contract(small_registry):
    Xs, ys, Xt, yt = _toy_pair()
    report = evaluate_methods(Xs, ys, Xt, yt, methods="all", base_estimator="logreg",
                              method_params={"no_adapt": {"random_state": 3}}, kshot=(1, 3))
    d = json.loads(json.dumps(report.to_dict()))
    assert set(d) == {"results", "kshot", "kshot_reasons", "n_source", "n_target", "n_features",
                      "blas_threads", "version", "target_only_classes", "n_target_only"}
    assert set(d["kshot"]) == {"1", "3"}
    for row in d["results"]:
        assert set(row) == {"method", "target_accuracy", "balanced_accuracy", "runtime_s", "status", "error",
                            "base_estimator", "params"}
        assert row["base_estimator"] == "logreg"
    assert d["results"][0]["params"] == {"random_state": 3}
    assert d["results"][1]["target_accuracy"] is None and d["results"][1]["status"] == "failed"


def test_deterministic_and_label_types(small_registry):
    Xs, ys, Xt, yt = _toy_pair()
    Xt = Xt + np.random.RandomState(2).randn(*Xt.shape) * 2.0
    codes = {"a": 10, "b": 20, "c": 30}
    ys_int = np.array([codes[v] for v in ys])
    yt_int = np.array([codes[v] for v in yt])

    def strip(report):
        d = report.to_dict()
        for row in d["results"]:
            row.pop("runtime_s")
        return d

    r1 = evaluate_methods(Xs, ys, Xt, yt, methods=["no_adapt"], kshot=(1, 3, 5, 10))
    r2 = evaluate_methods(Xs, ys, Xt, yt, methods=["no_adapt"], kshot=(1, 3, 5, 10))
    r3 = evaluate_methods(Xs, ys_int, Xt, yt_int, methods=["no_adapt"], kshot=(1, 3, 5, 10))
    assert strip(r1) == strip(r2) == strip(r3)
    acc = r1.accuracy("no_adapt")
    assert 0.0 < acc < 1.0
    assert all(0.0 <= v <= 1.0 for v in r1.kshot.values())


def test_bad_inputs(small_registry):
    Xs, ys, Xt, yt = _toy_pair()
    with pytest.raises(InputError, match="unknown method"):
        evaluate_methods(Xs, ys, Xt, yt, methods=["no_such_method"])
    with pytest.raises(InputError, match="not evaluated"):
        evaluate_methods(Xs, ys, Xt, yt, methods=["no_adapt"], method_params={"_always_fails": {}})
    with pytest.raises(InputError, match="labels for"):
        evaluate_methods(Xs, ys, Xt, yt[:-1], methods=["no_adapt"])
    with pytest.raises(InputError, match="features"):
        evaluate_methods(Xs, ys, Xt[:, :1], yt, methods=["no_adapt"])


def test_bad_params_are_refused_before_any_method_runs(small_registry, monkeypatch):
    ran = []
    monkeypatch.setattr(NoAdapt, "_fit", lambda self, *a: ran.append(1))
    Xs, ys, Xt, yt = _toy_pair()
    with pytest.raises(InputError, match=r"bad parameters for method 'no_adapt': no parameter 'no_such_param'"):
        evaluate_methods(Xs, ys, Xt, yt, methods=["no_adapt"],
                         method_params={"no_adapt": {"no_such_param": 1}}, kshot=())
    # the bad value is on the *second* method: the first must not have run
    with pytest.raises(InputError, match=r"The 'random_state' parameter of method '_always_fails' .*Got -1"):
        evaluate_methods(Xs, ys, Xt, yt, methods=["no_adapt", "_always_fails"],
                         method_params={"_always_fails": {"random_state": -1}}, kshot=())
    assert ran == []


@pytest.mark.parametrize("params, match", [
    ({"tca": {"bogus": 1}}, r"method 'tca': no parameter 'bogus'"),
    ({"tca": {"n_components": -3}}, r"'n_components' parameter of method 'tca' must be an int in the range \[1, inf\)\. Got -3"),
    ({"jda": {"lam": 1e400}}, r"'lam' parameter of method 'jda' must be a float in the range \(0\.0, inf\)\. Got inf"),
    ({"bda": {"mu": "half"}}, r"'mu' parameter of method 'bda'"),
])
def test_real_methods_bad_params(params, match):
    Xs, ys, Xt, yt = _toy_pair()
    with pytest.raises(InputError, match=match):
        evaluate_methods(Xs, ys, Xt, yt, methods=["tca", "jda", "bda"], method_params=params, kshot=())


@pytest.mark.parametrize("kwargs, match", [
    ({"methods": []}, "no methods to evaluate"),
    ({"methods": ["no_adapt", "no_adapt"]}, "listed more than once: no_adapt"),
    ({"methods": 5}, "methods must be 'all' or a list"),
    ({"kshot": (0,)}, "k-shot values must be positive integers, got 0"),
    ({"kshot": (2.5,)}, "k-shot values must be positive integers, got 2.5"),
    ({"n_threads": 0}, "n_threads must be an integer >= 1, or -1"),
    ({"n_threads": "two"}, "n_threads must be an integer >= 1, or -1"),
    ({"method_params": {"no_adapt": 3}}, "method_params must map method names to dicts"),
])
def test_refused_requests(small_registry, kwargs, match):
    Xs, ys, Xt, yt = _toy_pair()
    kwargs = {"methods": ["no_adapt"], **kwargs}
    with pytest.raises(InputError, match=match):
        evaluate_methods(Xs, ys, Xt, yt, **kwargs)


def test_single_class_source_is_refused(small_registry):
    Xs, ys, Xt, yt = _toy_pair()
    with pytest.raises(InputError, match=r"source labels must contain at least two classes, got 1 \('a'\)"):
        evaluate_methods(Xs, np.array(["a"] * len(ys)), Xt, yt, methods=["no_adapt"])


def test_report_carries_sizes_and_version(small_registry):
    from transferability import __version__

    Xs, ys, Xt, yt = _toy_pair()
    d = evaluate_methods(Xs, ys, Xt[:50], yt[:50], methods=["no_adapt"], kshot=()).to_dict()
    assert (d["n_source"], d["n_target"], d["n_features"]) == (60, 50, 2)
    assert d["version"] == __version__
    assert d["blas_threads"] == 1


def test_thread_policy(small_registry, monkeypatch):
    from threadpoolctl import threadpool_info

    from transferability.methods import _evaluate

    seen = []
    real = NoAdapt._fit

    def spy(self, *a):
        seen.append(max((p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"),
                        default=None))
        return real(self, *a)

    monkeypatch.setattr(NoAdapt, "_fit", spy)
    Xs, ys, Xt, yt = _toy_pair()
    monkeypatch.delenv(_evaluate.N_THREADS_ENV, raising=False)
    assert evaluate_methods(Xs, ys, Xt, yt, methods=["no_adapt"], kshot=()).blas_threads == 1
    assert seen[-1] in (1, None)
    if seen[-1] is not None:  # a BLAS is loaded: the limit is the one asked for, inside the run
        evaluate_methods(Xs, ys, Xt, yt, methods=["no_adapt"], kshot=(), n_threads=2)
        assert seen[-1] == 2
        evaluate_methods(Xs, ys, Xt, yt, methods=["no_adapt"], kshot=(), n_threads=1)
        assert seen[-1] == 1
    monkeypatch.setenv(_evaluate.N_THREADS_ENV, "-1")
    assert evaluate_methods(Xs, ys, Xt, yt, methods=["no_adapt"], kshot=()).blas_threads is None
    monkeypatch.setenv(_evaluate.N_THREADS_ENV, "2")
    assert _evaluate.resolve_n_threads() == 2
    assert _evaluate.resolve_n_threads(3) == 3  # the argument wins over the variable
    monkeypatch.setenv(_evaluate.N_THREADS_ENV, "lots")
    with pytest.raises(InputError, match=r"\$TRANSFERABILITY_BLAS_THREADS must be an integer"):
        evaluate_methods(Xs, ys, Xt, yt, methods=["no_adapt"], kshot=())


def test_progress_bar_hidden_off_a_terminal(small_registry, capsys):
    # tqdm's disable=None: pytest's captured stderr is not a terminal, so no bar is drawn
    Xs, ys, Xt, yt = _toy_pair()
    evaluate_methods(Xs, ys, Xt, yt, methods=["no_adapt"], kshot=(1,), progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_bar_drawn_on_a_terminal(small_registry, monkeypatch):
    import io

    class Tty(io.StringIO):
        def isatty(self):
            return True

    fake = Tty()
    monkeypatch.setattr("sys.stderr", fake)
    Xs, ys, Xt, yt = _toy_pair()
    evaluate_methods(Xs, ys, Xt, yt, methods=["no_adapt"], kshot=(1,), progress=True)
    assert "evaluate" in fake.getvalue()


def test_office_caltech_no_adapt_reproduces_published_nn():
    """1-NN after sum-zscore, C->A: the JDA paper's NN entry 23.70 (227 of 958 correct)."""
    if not DATA.is_dir():
        pytest.skip("benchmark data folder ../shared/data is absent")
    from transferability.datasets import load_domain, preprocess_pair

    src = load_domain(DATA / "office_caltech10_surf" / "Caltech10_SURF_L10.mat")
    tgt = load_domain(DATA / "office_caltech10_surf" / "amazon_SURF_L10.mat")
    Xs, Xt = preprocess_pair(src.X, tgt.X, "sum-zscore")
    report = evaluate_methods(Xs, src.y, Xt, tgt.y, methods=["no_adapt"], kshot=(1, 3))
    assert_allclose(report.accuracy("no_adapt"), 227 / 958)
    assert report.kshot[1] < report.kshot[3] <= 1.0


# --- unsupported k: reported as None, as the store records it -----------------------------------

def _small_class_pair():
    """Target class "b" has 4 samples: k = 1, 3 supported; k = 5 (and above) not."""
    rng = np.random.RandomState(0)
    Xs = np.r_[rng.randn(20, 2), rng.randn(20, 2) + 4]
    ys = np.repeat(["a", "b"], 20)
    Xt = np.r_[rng.randn(10, 2), rng.randn(4, 2) + 4]
    yt = np.r_[["a"] * 10, ["b"] * 4]
    return Xs, ys, Xt, yt


def test_evaluate_reports_none_for_an_unsupported_k():
    # the old runner reported kshot_baseline's value for k = 5, 10 (trained on 3 "b" samples)
    Xs, ys, Xt, yt = _small_class_pair()
    rep = evaluate_methods(Xs, ys, Xt, yt, methods=["no_adapt"], kshot=(1, 3, 4, 5, 10))
    assert rep.kshot[1] == kshot_baseline(Xt, yt, 1) and rep.kshot[3] == kshot_baseline(Xt, yt, 3)
    assert rep.kshot[4] is None and rep.kshot[5] is None and rep.kshot[10] is None
    assert rep.kshot_reasons == {4: "target class b has 4 samples <= k = 4",
                                 5: "target class b has 4 samples <= k = 5",
                                 10: "target class b has 4 samples <= k = 10"}
    d = json.loads(json.dumps(rep.to_dict(), allow_nan=False))
    assert d["kshot"] == {"1": rep.kshot[1], "3": rep.kshot[3], "4": None, "5": None, "10": None}
    assert set(d["kshot_reasons"]) == {"4", "5", "10"}


def test_kshot_unsupported_rule():
    from transferability.methods import kshot_unsupported

    assert kshot_unsupported(np.repeat([0, 1], [3, 5]), 2) is None
    assert kshot_unsupported(np.repeat([0, 1], [3, 5]), 3) == "target class 0 has 3 samples <= k = 3"
    assert kshot_unsupported(["x"], 1) == "target class x has 1 samples <= k = 1"


# --- one line where a traceback or a silent 0 used to be -------------------------------------------

def test_meda_on_features_without_variation_is_one_line():
    # the old code divided by sigma = 0: ZeroDivisionError
    from transferability.methods import MEDA

    X, y = np.zeros((20, 3)), np.repeat([0, 1], 10)
    with pytest.raises(InputError, match="meda: every sample is 0 on the manifold features"):
        MEDA(random_state=0).fit_domains(X, y, X)
    rep = evaluate_methods(X, y, X, y, methods=["meda", "no_adapt"], kshot=())
    assert rep.results[0].status == "failed" and rep.results[0].error.startswith("InputError: meda: every sample")
    assert rep.results[1].status == "ok"


@pytest.mark.parametrize("scale, match", [(1e200, "features reach 2.6e\\+200"),
                                          (1e-200, "the largest feature is 2.6e-200")])
def test_features_out_of_float64_range_are_refused_before_any_method(scale, match):
    # the old code: coral/easytl raised ValueError (inf or NaN), kmm/kliep odd parameter errors
    rng = np.random.RandomState(0)
    Xs, Xt, y = rng.randn(20, 4) * scale, rng.randn(20, 4) * scale, np.repeat([0, 1], 10)
    from transferability.methods import available_methods, get_method

    for name in available_methods():
        with pytest.raises(InputError, match=match):
            get_method(name, random_state=0).fit_domains(Xs, y, Xt)
    with pytest.raises(InputError, match=match):
        evaluate_methods(Xs, y, Xt, y, methods="all", kshot=())


def test_labels_that_never_overlap_are_refused():
    # the old code reported accuracy 0 for every method, exit 0, no word
    Xs, ys, Xt, _ = _toy_pair()
    yt = np.repeat([0, 1, 2], 20)
    with pytest.raises(InputError, match=r"share no class with the source labels \(source labels are str, target "
                                         r"labels int\): source 'a', 'b', 'c'; target 0, 1, 2"):
        evaluate_methods(Xs, ys, Xt, yt, methods=["no_adapt"], kshot=(1,))


def test_target_classes_missing_from_the_source_are_reported():
    Xs, ys, Xt, yt = _toy_pair()
    yt = yt.astype(object)
    yt[:5] = "zebra"
    rep = evaluate_methods(Xs, ys, Xt, yt, methods=["no_adapt"], kshot=())
    assert rep.target_only_classes == ["zebra"] and rep.n_target_only == 5
    d = rep.to_dict()
    assert d["target_only_classes"] == ["zebra"] and d["n_target_only"] == 5
    full = evaluate_methods(*_toy_pair(), methods=["no_adapt"], kshot=())
    assert full.target_only_classes == [] and full.n_target_only == 0
