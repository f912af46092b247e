"""Parameters declared once: every method's ``_parameter_constraints`` covers its ``__init__``,
defaults pass, and every (method, parameter) refuses a value outside its constraint, in the base
class, before any work, with one line naming method, parameter, constraint and value."""

import re

import numpy as np
import pytest
from sklearn.utils._param_validation import make_constraint

from transferability import InputError
from transferability.methods import METHOD_NAMES, METHODS, get_method

#: Candidate bad values; for each (method, parameter) the ones that satisfy none of its
#: constraints are tried.
CANDIDATES = ["__bogus__", -3, 0, -0.5, 1.5, 2.5, float("inf"), float("nan"), 1e400, True,
              -1, 2 ** 40, 1.0, [1.0, -2.0], object()]


def _violations(constraints):
    from numbers import Integral

    cs = [make_constraint(c) for c in constraints]
    int_declared = any(getattr(c, "type", None) is Integral for c in constraints)
    bad = []
    for v in CANDIDATES:
        if isinstance(v, bool) and int_declared and "boolean" not in constraints:
            bad.append(v)  # a bool where an int is declared: refused by the base class
        elif not any(c.is_satisfied_by(v) for c in cs):
            bad.append(v)
    return bad


CASES = [(m, p, v) for m in METHOD_NAMES
         for p, cons in METHODS[m]._parameter_constraints.items()
         for v in _violations(cons)]


@pytest.mark.parametrize("name", METHOD_NAMES)
def test_every_init_parameter_is_declared(name):
    cls = METHODS[name]
    assert set(cls._parameter_constraints) == set(cls._get_param_names())


@pytest.mark.parametrize("name", METHOD_NAMES)
def test_defaults_pass(name):
    est = get_method(name)
    assert est.check_params() is est


@pytest.mark.parametrize("name", METHOD_NAMES)
def test_every_parameter_has_a_refusable_value(name):
    for p, cons in METHODS[name]._parameter_constraints.items():
        assert _violations(cons), (name, p)


@pytest.mark.parametrize("name, param, value", CASES,
                         ids=[f"{m}.{p}={v!r}"[:60] for m, p, v in CASES])
def test_bad_value_is_refused_before_any_work(name, param, value, monkeypatch):
    cls = METHODS[name]

    def no_work(*a, **k):  # pragma: no cover - must never be reached
        raise AssertionError("fit ran before the parameters were checked")

    monkeypatch.setattr(cls, "_fit", no_work)
    est = get_method(name, **{param: value})
    pattern = rf"^The '{re.escape(param)}' parameter of method '{name}' must be .*Got .* instead\.$"
    Xs = np.random.RandomState(0).randn(10, 3)
    ys = np.repeat([0, 1], 5)
    with pytest.raises(InputError, match=pattern) as info:
        est.fit_domains(Xs, ys, Xs)
    assert "\n" not in str(info.value)
    # the skada form goes through the same check
    with pytest.raises(InputError, match=pattern):
        est.fit(np.vstack([Xs, Xs]), np.r_[ys, -ys - 1], sample_domain=np.r_[[1] * 10, [-1] * 10])


def test_message_names_the_constraint_and_the_value():
    with pytest.raises(InputError, match=r"'n_components' parameter of method 'tca' must be an int "
                                         r"in the range \[1, inf\)\. Got -3 instead"):
        get_method("tca", n_components=-3).check_params()
    with pytest.raises(InputError, match=r"'lam' parameter of method 'jda' .*Got inf instead"):
        get_method("jda", lam=1e400).check_params()
    with pytest.raises(InputError, match=r"'mu' parameter of method 'bda' must be a str among "
                                         r"\{'auto'\} or a float in the range \[0\.0, 1\.0\]"):
        get_method("bda", mu=1.5).check_params()
    with pytest.raises(InputError, match=r"'random_state' parameter of method 'sa'.*Got -1"):
        get_method("sa", random_state=-1).check_params()
    with pytest.raises(InputError, match=r"'n_iter' parameter of method 'jda' must be an int, not a bool"):
        get_method("jda", n_iter=True).check_params()


def test_unknown_parameter_is_refused_by_name():
    with pytest.raises(InputError, match=r"bad parameters for method 'tca': no parameter 'bogus'; "
                                         r"its parameters: .*n_components"):
        get_method("tca", bogus=1)


def test_good_non_default_values_pass():
    for name, params in {"bda": {"mu": 0.0}, "sa": {"n_components": 3}, "gfk": {"n_components": 1},
                         "kmm": {"gamma": 0.5, "eps": 0.0}, "kliep": {"sigmas": [0.5, 1.0]},
                         "msda": {"noise": 0.0}, "meda": {"lambda_": 0.0, "rho": 0.0},
                         "no_adapt": {"random_state": np.random.RandomState(0)}}.items():
        get_method(name, **params).check_params()
