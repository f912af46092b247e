"""The store simulation of labelled target rows (meta/evaluation/_labels.py) on a made-up cache
whose answers are known."""

import numpy as np
import pytest

from transferability.meta.evaluation._labels import (
    _save, choose_margin, eligible, evaluate_labels, labels_section, load_predictions, simulate, write_section,
)

METHODS = ["no_adapt", "meda", "jda"]


def _pair(rng, n, acc):
    """Target labels and per-method predictions right on a share ``acc[j]`` of the rows."""
    y = rng.integers(0, 2, n)
    P = np.empty((len(acc), n), dtype=np.int32)
    for j, a in enumerate(acc):
        right = rng.random(n) < a
        P[j] = np.where(right, y, 1 - y)
    return y, P


@pytest.fixture()
def cache(tmp_path):
    """3 base datasets x 4 pairs of 300 rows: jda is far better than meda on bases 'b' and 'c',
    worse on 'a'."""
    rng = np.random.default_rng(0)
    records = []
    for g in ("a", "b", "c"):
        for i in range(4):
            key = f"{ord(g):02x}{i:06d}" + "0" * 56
            acc = [0.55, 0.75, 0.95] if g in "bc" else [0.55, 0.75, 0.6]
            y, P = _pair(rng, 300, acc)
            _save(str(tmp_path / f"predictions-{key}-1nn.npz"),
                  {"y": y, "P": P, "classes": np.array(["0", "1"]), "methods": np.array(METHODS),
                   "runtime": np.zeros(3), "stored": (P == y).mean(axis=1)})
            records.append({"key": key, "name": f"{g}/{i}", "base": g, "family": g})
    picks = {r["key"]: "meda" for r in records}
    return records, str(tmp_path), picks


def test_cache_files_hold_no_pickle(cache):
    records, d, _ = cache
    arrays = load_predictions(d, records[0]["key"], "1nn")
    assert set(arrays) == {"y", "P", "classes", "methods", "runtime", "stored"}
    assert load_predictions(d, "f" * 64, "1nn") is None


def test_zero_labels_is_the_start_and_regret_is_measured_on_the_other_rows(cache):
    records, d, picks = cache
    sim = simulate(records, d, "1nn", picks, picks, n_labels=(0, 20), draws=5)
    s0 = sim["by_n"][0]
    # at n = 0 nothing is drawn: regret = best - meda on the whole target, in points
    for i, key in enumerate(sim["keys"]):
        a = load_predictions(d, key, "1nn")
        acc = (a["P"] == a["y"]).mean(axis=1) * 100
        assert s0["regret_zero_label"][i, 0] == pytest.approx(acc.max() - acc[1])
        assert sim["zero_regret_all"][i] == pytest.approx(acc.max() - acc[1])
    s20 = sim["by_n"][20]
    assert (s20["regret_argmax"] >= 0).all() and (s20["regret_zero_label"] >= 0).all()
    # the labelled rows are left out of the judging rows: the regret differs from the whole-target one
    assert not np.allclose(s20["regret_zero_label"][:, 0], sim["zero_regret_all"])


def test_the_guarded_rule_learns_to_switch_only_where_labels_show_a_clear_lead(cache):
    records, d, picks = cache
    sim = simulate(records, d, "1nn", picks, picks, n_labels=(0, 10, 50), draws=30)
    ev = evaluate_labels(sim)
    c50 = ev["curves"][50]
    # on bases b and c jda leads meda by 20 points: 50 labelled rows find it; the zero-label pick cannot
    assert c50["guarded"]["regret"] < c50["zero_label"]["regret"]
    assert ev["curves"][0]["guarded"]["regret"] == pytest.approx(ev["curves"][0]["zero_label"]["regret"])
    assert ev["curves"][0]["argmax"] is None


def test_each_held_out_base_is_judged_by_a_rule_chosen_without_it(cache):
    records, d, picks = cache
    sim = simulate(records, d, "1nn", picks, picks, n_labels=(10, 50), draws=10)
    ev = evaluate_labels(sim)
    mask = sim["groups"] != "b"
    assert ev["folds"]["b"] == choose_margin(sim, mask)
    # changing what base b's pairs show does not change the rule its fold chose
    for n in sim["by_n"]:
        rows = sim["by_n"][n]["rows"]
        sel = sim["groups"][rows] == "b"
        sim["by_n"][n]["switch_zero_label"][sel] += 50.0
    assert choose_margin(sim, mask) == ev["folds"]["b"]


def test_eligibility_leaves_rows_to_judge_on():
    assert eligible(40, 20) and not eligible(39, 20)
    assert eligible(25, 5) and not eligible(24, 5)
    assert eligible(100, 50) and not eligible(99, 50)


def test_page_section_is_replaced_in_place(cache, tmp_path):
    records, d, picks = cache
    sim = simulate(records, d, "1nn", picks, picks, n_labels=(0, 10, 20), draws=5)
    ev = evaluate_labels(sim)
    doc = {"draws": 5, "evaluation": {"1nn": {
        "curves": {str(n): c for n, c in ev["curves"].items()}, "folds": ev["folds"], "final": ev["final"],
        "agreement": {"cells": 36, "within_0.5pt": 1.0, "max_gap_pts": 0.0}, "n_pairs": 12, "n_groups": 3}}}
    text = labels_section(doc)
    assert "| 20 |" in text and "Goals (issue 18)" in text and "n = 20: negative transfer" in text
    page = tmp_path / "page.md"
    page.write_text("# Page\n\nbefore\n")
    write_section(str(page), text)
    write_section(str(page), text)
    out = page.read_text()
    assert out.count("<!-- labels:start -->") == 1 and out.startswith("# Page\n\nbefore\n")


def test_a_cache_file_of_another_method_list_is_computed_again(cache):
    from transferability.meta.evaluation._labels import _cached

    records, d, _ = cache
    key = records[0]["key"]
    assert _cached(d, key, "1nn", METHODS)
    assert not _cached(d, key, "1nn", METHODS + ["thirteenth"])
    assert not _cached(d, "f" * 64, "1nn", METHODS)
