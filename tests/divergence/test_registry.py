"""The measures are data: one :class:`Measure` row each, and docs/divergences.md lists them all."""

import re
from pathlib import Path

import numpy as np

from transferability.divergence import DEFAULT_MAX_SAMPLES, MEASURES, REGISTRY, Measure, compute_divergences

DOC = Path(__file__).resolve().parents[2] / "docs" / "divergences.md"


def _doc_table():
    """report key -> function name, from the table of docs/divergences.md."""
    rows = re.findall(r"^\| `([a-z_]+)` \| `([a-z_0-9]+)` \|", DOC.read_text(), flags=re.M)
    return dict(rows)


def test_docs_list_every_registered_measure_and_no_other():
    table = _doc_table()
    assert set(table) == {m.name for m in REGISTRY}
    for m in REGISTRY:
        assert table[m.name] == m.function.__name__, m.name


def test_one_row_per_measure_and_the_views_agree():
    names = [m.name for m in REGISTRY]
    assert len(names) == len(set(names))
    assert list(MEASURES) == names and list(DEFAULT_MAX_SAMPLES) == names
    for m in REGISTRY:
        assert isinstance(m, Measure) and m.needs in ("rows", "moments") and m.label
        assert MEASURES[m.name] == (m.function, m.kernel, m.label)
        assert DEFAULT_MAX_SAMPLES[m.name] == m.max_samples
        assert not (m.equal_sizes and not m.subsampled)


def test_every_row_runs_and_agrees_with_its_plain_function():
    rng = np.random.RandomState(0)
    Xs, Xt = rng.randn(60, 4), rng.randn(50, 4) * 1.2 + 0.3
    rep = compute_divergences(Xs, Xt, random_state=0)
    assert list(rep.divergences) == [m.name for m in REGISTRY]
    for m in REGISTRY:
        kw = {"random_state": 0} if m.subsampled else {}
        assert np.isclose(m.function(Xs, Xt, **kw), rep.divergences[m.name], rtol=1e-12), m.name
        assert rep.descriptions[m.name] == m.label
